//! Finding a symbol of the executable at run time: its link-time value from
//! the executable's symbol table, plus the load bias (where the kernel
//! placed the executable), taken from a live process's `/proc/PID/maps` or
//! from a core file's `NT_FILE` note.
//!
//! For a position-independent executable the bias is the address of its
//! first mapping; for a fixed-address executable it is 0. Both come out of
//! one computation: a mapping of the executable at `start` that maps file
//! offset `file_offset` holds, at `start + (p_offset - file_offset)`, the
//! first byte of a `PT_LOAD` segment whose link-time address is `p_vaddr`,
//! so `bias = start + p_offset - file_offset - p_vaddr`.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use object::Endianness;

use crate::memory::{Memory, ProcessMemory};
use object::elf::{self, FileHeader64};
use object::read::ReadCache;
use object::read::elf::{FileHeader, ProgramHeader, Sym};

/// The symbol through which readers find the registry of live stacks.
pub const REGISTRY_SYMBOL: &str = "switchyard_registry";

/// A file mapped into a process: `[start, end)` maps the file's bytes from
/// `file_offset` on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMapping {
    /// First address of the mapping.
    pub start: u64,
    /// One past its last address.
    pub end: u64,
    /// Offset in the file of the byte mapped at `start`.
    pub file_offset: u64,
    /// The file's path, as the kernel named it (absolute).
    pub path: PathBuf,
}

/// Why an executable's symbol or load bias could not be found.
#[derive(Debug)]
pub enum ElfError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: io::Error,
    },
    /// The file is not an ELF file.
    NotElf {
        /// The file.
        path: PathBuf,
    },
    /// The file is ELF but malformed, truncated, or of a kind not handled.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The executable has no (defined) symbol of that name.
    NoSymbol {
        /// The executable.
        path: PathBuf,
        /// The symbol looked for.
        name: String,
    },
    /// There is no process with that pid.
    NoProcess {
        /// The pid.
        pid: i32,
    },
    /// The executable is not among the process's (or core's) mappings.
    NotMapped {
        /// The executable.
        path: PathBuf,
        /// Where the mappings came from ("process 123", "the core file").
        source: String,
    },
    /// The mappings do not agree with the executable's segments: it is not
    /// the file that was running (rebuilt since?).
    Mismatch {
        /// The executable.
        path: PathBuf,
        /// Where the mappings came from.
        source: String,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Io { path, error } if error.kind() == io::ErrorKind::NotFound => {
                write!(f, "{}: no such file", path.display())
            }
            ElfError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            ElfError::NotElf { path } => write!(f, "{}: not an ELF file", path.display()),
            ElfError::Malformed { path, reason } => {
                write!(f, "{}: malformed ELF file: {reason}", path.display())
            }
            ElfError::NoSymbol { path, name } if name == REGISTRY_SYMBOL => write!(
                f,
                "{}: the executable has no {REGISTRY_SYMBOL} symbol: is it a Switchyard program?",
                path.display()
            ),
            ElfError::NoSymbol { path, name } => {
                write!(f, "{}: the executable has no symbol {name}", path.display())
            }
            ElfError::NoProcess { pid } => write!(f, "no process with pid {pid}"),
            ElfError::NotMapped { path, source } => {
                write!(f, "{} is not mapped in {source}", path.display())
            }
            ElfError::Mismatch { path, source } => write!(
                f,
                "{} is not the executable that runs in {source}: was it rebuilt since? (for a live process, /proc/PID/exe names the one that runs)",
                path.display()
            ),
        }
    }
}

impl std::error::Error for ElfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ElfError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A `PT_LOAD` segment of an executable, as linked.
#[derive(Debug, Clone, Copy)]
struct LoadSegment {
    offset: u64,
    vaddr: u64,
}

/// An executable opened for reading its headers and symbols (read on
/// demand, so large debug binaries are not read whole).
struct Executable {
    path: PathBuf,
    data: ReadCache<File>,
}

impl Executable {
    fn open(path: &Path) -> Result<Executable, ElfError> {
        let io_err = |error| ElfError::Io {
            path: path.to_owned(),
            error,
        };
        let mut file = File::open(path).map_err(io_err)?;
        if file.metadata().map_err(io_err)?.is_dir() {
            return Err(io_err(io::Error::other("is a directory")));
        }
        let mut ident = [0u8; 18];
        let mut got = 0;
        while got < ident.len() {
            match file.read(&mut ident[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(e)),
            }
        }
        if got < 4 || ident[..4] != elf::ELFMAG {
            return Err(ElfError::NotElf {
                path: path.to_owned(),
            });
        }
        let malformed = |reason: &str| ElfError::Malformed {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if got < 6 || ident[4] != elf::ELFCLASS64 {
            return Err(malformed("not a 64-bit ELF file"));
        }
        if ident[5] != elf::ELFDATA2LSB {
            return Err(malformed("not a little-endian ELF file"));
        }
        if got == ident.len() && u16::from_le_bytes([ident[16], ident[17]]) == elf::ET_CORE {
            return Err(malformed("a core file, not an executable"));
        }
        let exe = Executable {
            path: path.to_owned(),
            data: ReadCache::new(file),
        };
        exe.header()?;
        Ok(exe)
    }

    fn malformed(&self, e: impl fmt::Display) -> ElfError {
        ElfError::Malformed {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn header(&self) -> Result<(&FileHeader64<Endianness>, Endianness), ElfError> {
        let header =
            FileHeader64::<Endianness>::parse(&self.data).map_err(|e| self.malformed(e))?;
        let endian = header.endian().map_err(|e| self.malformed(e))?;
        Ok((header, endian))
    }

    /// The link-time value of the defined symbol `name`, from `.symtab`,
    /// else from `.dynsym`.
    fn symbol(&self, name: &str) -> Result<u64, ElfError> {
        let (header, endian) = self.header()?;
        let sections = header
            .sections(endian, &self.data)
            .map_err(|e| self.malformed(e))?;
        for kind in [elf::SHT_SYMTAB, elf::SHT_DYNSYM] {
            let table = sections
                .symbols(endian, &self.data, kind)
                .map_err(|e| self.malformed(e))?;
            for sym in table.iter() {
                if sym.is_undefined(endian) {
                    continue;
                }
                if table.symbol_name(endian, sym).ok() == Some(name.as_bytes()) {
                    return Ok(sym.st_value(endian));
                }
            }
        }
        Err(ElfError::NoSymbol {
            path: self.path.clone(),
            name: name.to_owned(),
        })
    }

    /// The `PT_LOAD` segments that have bytes in the file.
    fn load_segments(&self) -> Result<Vec<LoadSegment>, ElfError> {
        let (header, endian) = self.header()?;
        let phdrs = header
            .program_headers(endian, &self.data)
            .map_err(|e| self.malformed(e))?;
        let segments: Vec<LoadSegment> = phdrs
            .iter()
            .filter(|p| p.p_type(endian) == elf::PT_LOAD && p.p_filesz(endian) > 0)
            .map(|p| LoadSegment {
                offset: p.p_offset(endian),
                vaddr: p.p_vaddr(endian),
            })
            .collect();
        if segments.is_empty() {
            return Err(self.malformed("no loadable segments"));
        }
        Ok(segments)
    }

    /// The link-time address and bytes of the GNU build ID, if any.
    fn build_id(&self) -> Result<Option<(u64, Vec<u8>)>, ElfError> {
        let (header, endian) = self.header()?;
        let phdrs = header
            .program_headers(endian, &self.data)
            .map_err(|e| self.malformed(e))?;
        for p in phdrs.iter().filter(|p| p.p_type(endian) == elf::PT_NOTE) {
            let Ok(data) = p.data(endian, &self.data) else {
                continue;
            };
            let align = if p.p_align(endian) == 8 { 8 } else { 4 };
            let mut at = 0usize;
            while at + 12 <= data.len() {
                let word =
                    |i: usize| u32::from_le_bytes(data[at + i..at + i + 4].try_into().unwrap());
                let (namesz, descsz, kind) = (word(0) as usize, word(4) as usize, word(8));
                let desc = (at + 12)
                    .checked_add(namesz)
                    .and_then(|n| n.checked_next_multiple_of(align));
                let Some((desc, end)) = desc
                    .and_then(|d| Some((d, d.checked_add(descsz)?)))
                    .filter(|&(_, end)| end <= data.len())
                else {
                    break;
                };
                if kind == elf::NT_GNU_BUILD_ID && data[at + 12..at + 12 + namesz] == *b"GNU\0" {
                    let vaddr = p.p_vaddr(endian).wrapping_add(desc as u64);
                    return Ok(Some((vaddr, data[desc..end].to_vec())));
                }
                at = end.next_multiple_of(align);
            }
        }
        Ok(None)
    }

    /// Checks the build ID at its run-time address under `bias`; see
    /// [`verify_build_id`].
    fn verify_build_id(
        &self,
        bias: u64,
        memory: &dyn Memory,
        source: &str,
    ) -> Result<(), ElfError> {
        let Some((vaddr, id)) = self.build_id()? else {
            return Ok(());
        };
        match memory.read_vec(bias.wrapping_add(vaddr), id.len()) {
            Ok(found) if found != id && found.iter().any(|&b| b != 0) => Err(ElfError::Mismatch {
                path: self.path.clone(),
                source: source.to_owned(),
            }),
            _ => Ok(()),
        }
    }
}

/// The link-time value (`st_value`) of the defined symbol `name` in the
/// executable `exe`, from its `.symtab`, else its `.dynsym`. Add the load
/// bias to get the run-time address.
pub fn symbol_address(exe: &Path, name: &str) -> Result<u64, ElfError> {
    Executable::open(exe)?.symbol(name)
}

/// The run-time address of `switchyard_registry` in a process whose
/// executable `exe` was loaded with `bias`.
pub fn registry_address(exe: &Path, bias: u64) -> Result<u64, ElfError> {
    Ok(bias.wrapping_add(symbol_address(exe, REGISTRY_SYMBOL)?))
}

/// The load bias of `exe` in the live process `pid`, from
/// `/proc/PID/maps`: run-time address = bias + link-time address.
///
/// `exe` may be `/proc/PID/exe`, which still names the running file after
/// it was replaced on disk.
pub fn load_bias(pid: i32, exe: &Path) -> Result<u64, ElfError> {
    let maps = read_proc_maps(pid)?;
    let exe_file = Executable::open(exe)?;
    let identity = FileIdentity::of(exe);
    let candidates: Vec<FileMapping> = maps
        .iter()
        .filter(|m| {
            let same_inode = identity
                .inode
                .is_some_and(|(dev, ino)| m.inode == ino && m.dev == dev);
            // A deleted file at the same path is an older build.
            same_inode || (!m.deleted && identity.matches_path(&m.mapping.path))
        })
        .map(|m| m.mapping.clone())
        .collect();
    let source = format!("process {pid}");
    if candidates.is_empty()
        && maps
            .iter()
            .any(|m| m.deleted && identity.matches_path(&m.mapping.path))
    {
        // The file at that path replaced the one that runs.
        return Err(ElfError::Mismatch {
            path: exe.to_owned(),
            source,
        });
    }
    let bias = bias_from(&exe_file, &candidates, &source)?;
    exe_file.verify_build_id(bias, &ProcessMemory::new(pid), &source)?;
    Ok(bias)
}

/// The load bias of `exe` among `mappings` (a core file's, from
/// [`CoreFile::mappings`](crate::core::CoreFile::mappings), or any other
/// list of file mappings). A mapping is the executable's if its path names
/// the same file; failing that (a core file examined elsewhere), if its
/// file name is the same as `exe`'s.
pub fn load_bias_in(mappings: &[FileMapping], exe: &Path) -> Result<u64, ElfError> {
    let exe_file = Executable::open(exe)?;
    let identity = FileIdentity::of(exe);
    let mut candidates: Vec<FileMapping> = mappings
        .iter()
        .filter(|m| identity.matches_path(&m.path))
        .cloned()
        .collect();
    if candidates.is_empty() {
        if let Some(name) = exe.file_name() {
            candidates = mappings
                .iter()
                .filter(|m| m.path.file_name() == Some(name))
                .cloned()
                .collect();
        }
        // Two different files of that name: no way to tell which.
        let paths: BTreeSet<&Path> = candidates.iter().map(|m| m.path.as_path()).collect();
        if paths.len() > 1 {
            candidates.clear();
        }
    }
    bias_from(&exe_file, &candidates, "the core file")
}

/// The file-backed mappings of process `pid`, from `/proc/PID/maps`.
pub fn process_mappings(pid: i32) -> Result<Vec<FileMapping>, ElfError> {
    Ok(read_proc_maps(pid)?
        .into_iter()
        .map(|m| m.mapping)
        .collect())
}

/// Computes the bias from the mappings of the executable.
///
/// Every pairing of a segment with a mapping that holds its first byte
/// proposes a bias; the one under which the most segments sit where they
/// should (the byte at `bias + p_vaddr` is file offset `p_offset`) wins.
/// Pairing alone is not enough: linkers that do not page-align segments in
/// the file put the start of one segment inside the page range of the
/// previous segment's mapping.
fn bias_from(exe: &Executable, mappings: &[FileMapping], source: &str) -> Result<u64, ElfError> {
    if mappings.is_empty() {
        return Err(ElfError::NotMapped {
            path: exe.path.clone(),
            source: source.to_owned(),
        });
    }
    let segments = exe.load_segments()?;
    let holds = |m: &FileMapping, offset: u64| {
        offset >= m.file_offset && offset - m.file_offset < m.end - m.start
    };
    let fits = |bias: u64, s: &LoadSegment| {
        let at = bias.wrapping_add(s.vaddr);
        mappings.iter().any(|m| {
            m.start <= at && at < m.end && m.file_offset.wrapping_add(at - m.start) == s.offset
        })
    };
    let mut best: Option<(usize, u64)> = None;
    for s in &segments {
        for m in mappings.iter().filter(|m| holds(m, s.offset)) {
            let bias = m
                .start
                .wrapping_add(s.offset - m.file_offset)
                .wrapping_sub(s.vaddr);
            let score = segments.iter().filter(|t| fits(bias, t)).count();
            // Ties go to the first proposal: the lowest segment.
            if best.is_none_or(|(b, _)| score > b) {
                best = Some((score, bias));
            }
        }
    }
    best.map(|(_, bias)| bias)
        .ok_or_else(|| ElfError::Mismatch {
            path: exe.path.clone(),
            source: source.to_owned(),
        })
}

/// Checks that the executable loaded at `bias` in `memory` is `exe`, by
/// comparing its GNU build ID with the bytes at the build ID's run-time
/// address. Passes when either side has no build ID, or the memory does
/// not hold it (a core file may leave it out: it reads as zeros).
pub fn verify_build_id(exe: &Path, bias: u64, memory: &dyn Memory) -> Result<(), ElfError> {
    Executable::open(exe)?.verify_build_id(bias, memory, "memory")
}

/// How to recognize a file among mappings: its canonical path, and its
/// device and inode when it exists here.
struct FileIdentity {
    given: PathBuf,
    canonical: Option<PathBuf>,
    inode: Option<((u32, u32), u64)>,
}

impl FileIdentity {
    fn of(path: &Path) -> FileIdentity {
        let inode = std::fs::metadata(path).ok().map(|m| {
            let dev = m.dev();
            ((libc::major(dev), libc::minor(dev)), m.ino())
        });
        FileIdentity {
            given: path.to_owned(),
            canonical: std::fs::canonicalize(path).ok(),
            inode,
        }
    }

    fn matches_path(&self, mapped: &Path) -> bool {
        if mapped == self.given || self.canonical.as_deref() == Some(mapped) {
            return true;
        }
        // Same file under another name (a hard link, a bind mount).
        match (self.inode, std::fs::metadata(mapped)) {
            (Some((dev, ino)), Ok(m)) => {
                let d = m.dev();
                m.ino() == ino && (libc::major(d), libc::minor(d)) == dev
            }
            _ => false,
        }
    }
}

/// One line of `/proc/PID/maps` for a file.
struct ProcMapping {
    mapping: FileMapping,
    dev: (u32, u32),
    inode: u64,
    /// The file was deleted (or replaced) since it was mapped.
    deleted: bool,
}

fn read_proc_maps(pid: i32) -> Result<Vec<ProcMapping>, ElfError> {
    let path = PathBuf::from(format!("/proc/{pid}/maps"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if pid <= 0 || matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {
            return Err(ElfError::NoProcess { pid });
        }
        Err(error) => return Err(ElfError::Io { path, error }),
    };
    Ok(text.lines().filter_map(parse_maps_line).collect())
}

/// Parses `start-end perms offset major:minor inode path`; `None` for
/// anonymous mappings and lines that do not parse.
fn parse_maps_line(line: &str) -> Option<ProcMapping> {
    let mut rest = line;
    let mut field = || {
        let t = rest.trim_start();
        let end = t.find(' ').unwrap_or(t.len());
        let (f, r) = t.split_at(end);
        rest = r;
        f
    };
    let (range, _perms, offset, dev, inode) = (field(), field(), field(), field(), field());
    let path = rest.trim_start();
    if !path.starts_with('/') {
        return None;
    }
    let (path, deleted) = match path.strip_suffix(" (deleted)") {
        Some(p) => (p, true),
        None => (path, false),
    };
    let (start, end) = range.split_once('-')?;
    let (major, minor) = dev.split_once(':')?;
    Some(ProcMapping {
        mapping: FileMapping {
            start: u64::from_str_radix(start, 16).ok()?,
            end: u64::from_str_radix(end, 16).ok()?,
            file_offset: u64::from_str_radix(offset, 16).ok()?,
            path: PathBuf::from(path),
        },
        dev: (
            u32::from_str_radix(major, 16).ok()?,
            u32::from_str_radix(minor, 16).ok()?,
        ),
        inode: inode.parse().ok()?,
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_line() {
        let m = parse_maps_line(
            "55d0c2a00000-55d0c2a2f000 r--p 00001000 fd:01 1234567    /usr/bin/my prog (deleted)",
        )
        .unwrap();
        assert_eq!(m.mapping.start, 0x55d0c2a00000);
        assert_eq!(m.mapping.end, 0x55d0c2a2f000);
        assert_eq!(m.mapping.file_offset, 0x1000);
        assert_eq!(m.mapping.path, Path::new("/usr/bin/my prog"));
        assert_eq!(m.dev, (0xfd, 1));
        assert_eq!(m.inode, 1234567);
        assert!(m.deleted);
        assert!(parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0    [stack]").is_none());
        assert!(parse_maps_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0").is_none());
        assert!(parse_maps_line("garbage").is_none());
        assert!(parse_maps_line("").is_none());
    }

    /// This test binary's own symbol, found through its own mappings, is
    /// where the symbol really is.
    #[test]
    fn own_symbol_in_own_process() {
        #[unsafe(no_mangle)]
        #[used]
        static SWITCHYARD_UNWIND_ELF_TEST_SYMBOL: [u8; 8] = *b"elf-test";
        let exe = Path::new("/proc/self/exe");
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() };
        let bias = load_bias(pid, exe).unwrap();
        let value = symbol_address(exe, "SWITCHYARD_UNWIND_ELF_TEST_SYMBOL").unwrap();
        assert_eq!(
            bias.wrapping_add(value),
            std::ptr::addr_of!(SWITCHYARD_UNWIND_ELF_TEST_SYMBOL) as u64
        );
        let maps = process_mappings(pid).unwrap();
        assert_eq!(load_bias_in(&maps, exe).unwrap(), bias);
        let e = symbol_address(exe, REGISTRY_SYMBOL)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("is it a Switchyard program?"), "{e}");
    }

    #[test]
    fn errors_are_one_line() {
        let e = symbol_address(Path::new("/nonexistent/x"), "a")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/nonexistent/x: no such file");
        let e = symbol_address(Path::new("/proc/self/status"), "a")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "/proc/self/status: not an ELF file");
        let e = symbol_address(Path::new("/"), "a").unwrap_err().to_string();
        assert!(e.starts_with("/: "), "{e}");
        let e = load_bias(i32::MAX, Path::new("/proc/self/exe"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, format!("no process with pid {}", i32::MAX));
    }
}
