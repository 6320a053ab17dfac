//! Reading an x86-64 Linux core file (from the kernel or from gdb's
//! `gcore`): its memory, its threads' registers and its file mappings.
//!
//! The file is read on demand (`pread`), never whole, so large cores are
//! cheap to open. Every header, note and segment is bounds-checked when the
//! file is opened; a file that is not a core, or is truncated or corrupt,
//! is refused then with a one-line [`CoreError`].
//!
//! A core holds only what the dumper chose to write: the kernel by default
//! leaves out file-backed pages that were never written (code and
//! read-only data of the executable and libraries, apart from their first
//! page), describing them as segments longer in memory than in the file.
//! Those bytes read as zeros here, as ELF prescribes; the stacks, the heap,
//! JIT code and the executable's written data (where the registry lives)
//! are always dumped.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

pub use crate::elf::FileMapping;
use crate::elf::{self, ElfError};
use crate::memory::{Memory, ReadError};
pub use crate::ptrace::{GeneralRegisters, ThreadRegisters};

// Constants of the ELF and Linux core formats (see elf(5) and
// linux/elfcore.h).
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
const ELFCLASS64: u8 = 2;
const ELFDATA2LSB: u8 = 1;
const ET_CORE: u16 = 4;
const EM_X86_64: u16 = 62;
const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
/// `e_phnum` when the real count is in section header 0's `sh_info`.
const PN_XNUM: u16 = 0xffff;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const SHDR_SIZE: usize = 64;
const NT_PRSTATUS: u32 = 1;
const NT_PRPSINFO: u32 = 3;
const NT_AUXV: u32 = 6;
const NT_FILE: u32 = 0x4649_4c45;
const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_ENTRY: u64 = 9;
/// `elf_prstatus`: offset of `pr_cursig`, `pr_pid` and `pr_reg`.
const PRSTATUS_CURSIG: usize = 12;
const PRSTATUS_PID: usize = 32;
const PRSTATUS_REG: usize = 112;
/// `elf_prpsinfo`: offset of `pr_pid`, `pr_fname` (16 bytes) and
/// `pr_psargs` (80 bytes).
const PRPSINFO_PID: usize = 24;
const PRPSINFO_FNAME: usize = 40;
const PRPSINFO_PSARGS: usize = 56;
const PRPSINFO_SIZE: usize = 136;
/// Largest note segment accepted (real ones are kilobytes to megabytes).
const MAX_NOTES: u64 = 256 << 20;

/// Why a core file could not be opened.
#[derive(Debug)]
pub enum CoreError {
    /// The file could not be opened or read.
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        error: io::Error,
    },
    /// Not an ELF file at all.
    NotElf {
        /// The file.
        path: PathBuf,
    },
    /// An ELF file, but not a core file.
    NotCore {
        /// The file.
        path: PathBuf,
        /// What it is instead ("an executable", ...).
        kind: &'static str,
    },
    /// A core file of a kind this reader does not handle (not x86-64).
    Unsupported {
        /// The file.
        path: PathBuf,
        /// What it is.
        what: String,
    },
    /// The file ends before data its headers describe.
    Truncated {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: String,
    },
    /// The headers or notes make no sense.
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::Io { path, error } if error.kind() == io::ErrorKind::NotFound => {
                write!(f, "{}: no such file", path.display())
            }
            CoreError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            CoreError::NotElf { path } => {
                write!(f, "{}: not a core file (not an ELF file)", path.display())
            }
            CoreError::NotCore { path, kind } => {
                write!(f, "{}: not a core file (it is {kind})", path.display())
            }
            CoreError::Unsupported { path, what } => {
                write!(f, "{}: unsupported core file: {what}", path.display())
            }
            CoreError::Truncated { path, what } => {
                write!(f, "{}: truncated core file: {what}", path.display())
            }
            CoreError::Corrupt { path, what } => {
                write!(f, "{}: corrupt core file: {what}", path.display())
            }
        }
    }
}

impl std::error::Error for CoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CoreError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A `PT_LOAD` segment of the core: memory at `[vaddr, vaddr + memsz)`,
/// of which the first `filesz` bytes are in the file at `offset`.
#[derive(Debug, Clone, Copy)]
struct Segment {
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
}

impl Segment {
    fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }
}

/// An opened core file. Reading its memory goes to the file each time.
#[derive(Debug)]
pub struct CoreFile {
    path: PathBuf,
    file: File,
    contents: Contents,
}

/// What a core file's headers and notes say.
#[derive(Debug, Default)]
struct Contents {
    /// Sorted by address.
    segments: Vec<Segment>,
    threads: Vec<ThreadRegisters>,
    mappings: Vec<FileMapping>,
    auxv: Vec<(u64, u64)>,
    pid: Option<i32>,
    name: Option<String>,
    args: Option<String>,
}

impl CoreFile {
    /// Opens and checks the core file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<CoreFile, CoreError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|error| CoreError::Io {
            path: path.into(),
            error,
        })?;
        let meta = file.metadata().map_err(|error| CoreError::Io {
            path: path.into(),
            error,
        })?;
        if meta.is_dir() {
            let error = io::Error::other("is a directory");
            return Err(CoreError::Io {
                path: path.into(),
                error,
            });
        }
        let contents = Parser {
            path,
            file: &file,
            len: meta.len(),
        }
        .parse()?;
        Ok(CoreFile {
            path: path.into(),
            file,
            contents,
        })
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The registers of every thread, in the core's order (the kernel puts
    /// the thread that took the fatal signal first).
    pub fn threads(&self) -> &[ThreadRegisters] {
        &self.contents.threads
    }

    /// The files mapped into the process (from the `NT_FILE` note), in
    /// address order; empty if the core has no such note. A file deleted
    /// (or replaced) since it was mapped appears under its old path.
    pub fn mappings(&self) -> &[FileMapping] {
        &self.contents.mappings
    }

    /// The process id, from `NT_PRPSINFO`, else the first thread's.
    pub fn pid(&self) -> Option<i32> {
        self.contents
            .pid
            .or_else(|| self.contents.threads.first().map(|t| t.tid))
    }

    /// The process's name (its first 15 bytes, as the kernel keeps it).
    pub fn process_name(&self) -> Option<&str> {
        self.contents.name.as_deref()
    }

    /// The start of its command line (80 bytes at most, arguments
    /// separated by spaces), as the kernel records it.
    pub fn command_line(&self) -> Option<&str> {
        self.contents.args.as_deref()
    }

    /// The value of auxiliary vector entry `key` (`AT_*`), if present.
    pub fn auxv(&self, key: u64) -> Option<u64> {
        self.contents
            .auxv
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// The path of the main executable when the core was written: the
    /// mapped file holding the program's entry point (from the auxiliary
    /// vector); failing that, the mapped file named like the process; or
    /// the first file mapped from offset 0.
    pub fn executable(&self) -> Option<PathBuf> {
        let containing = |addr: u64| {
            self.contents
                .mappings
                .iter()
                .find(|m| m.start <= addr && addr < m.end)
                .map(|m| m.path.clone())
        };
        if let Some(p) = [AT_ENTRY, AT_PHDR]
            .into_iter()
            .find_map(|k| self.auxv(k).and_then(containing))
        {
            return Some(p);
        }
        if let Some(name) = self.contents.name.as_deref().filter(|n| !n.is_empty()) {
            let named = self.contents.mappings.iter().find(|m| {
                m.path
                    .file_name()
                    .and_then(|f| f.to_str())
                    .is_some_and(|f| f.starts_with(name))
            });
            if let Some(m) = named {
                return Some(m.path.clone());
            }
        }
        self.contents
            .mappings
            .iter()
            .find(|m| m.file_offset == 0)
            .map(|m| m.path.clone())
    }

    /// The load bias of `exe` in this core, from its `NT_FILE` mappings,
    /// checked against the build ID in the core's memory when it holds one.
    pub fn load_bias(&self, exe: &Path) -> Result<u64, ElfError> {
        let bias = elf::load_bias_in(&self.contents.mappings, exe)?;
        elf::verify_build_id(exe, bias, self).map_err(|e| match e {
            ElfError::Mismatch { path, .. } => ElfError::Mismatch {
                path,
                source: "the core file".to_owned(),
            },
            e => e,
        })?;
        Ok(bias)
    }

    /// The address of `switchyard_registry` in this core, reading symbols
    /// from `exe` (the executable that ran, or an identical copy).
    pub fn registry_address(&self, exe: &Path) -> Result<u64, ElfError> {
        elf::registry_address(exe, self.load_bias(exe)?)
    }

    /// The segment holding `address`, if any.
    fn segment(&self, address: u64) -> Option<&Segment> {
        let i = self
            .contents
            .segments
            .partition_point(|s| s.vaddr <= address);
        let s = self.contents.segments.get(i.checked_sub(1)?)?;
        (address < s.end()).then_some(s)
    }
}

impl Memory for CoreFile {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let err = ReadError {
            address,
            len: buf.len(),
        };
        address.checked_add(buf.len() as u64).ok_or(err.clone())?;
        let mut done = 0;
        while done < buf.len() {
            let at = address + done as u64;
            let seg = self.segment(at).ok_or(err.clone())?;
            let within = at - seg.vaddr;
            let n = (seg.end() - at).min((buf.len() - done) as u64) as usize;
            let out = &mut buf[done..done + n];
            // The part the file holds, then zeros.
            let from_file = seg.filesz.saturating_sub(within).min(n as u64) as usize;
            if from_file > 0 {
                self.file
                    .read_exact_at(&mut out[..from_file], seg.offset + within)
                    .map_err(|_| err.clone())?;
            }
            out[from_file..].fill(0);
            done += n;
        }
        Ok(())
    }
}

/// Parses a core file's headers and notes.
struct Parser<'a> {
    path: &'a Path,
    file: &'a File,
    len: u64,
}

impl Parser<'_> {
    fn corrupt(&self, what: impl Into<String>) -> CoreError {
        CoreError::Corrupt {
            path: self.path.into(),
            what: what.into(),
        }
    }

    fn truncated(&self, what: impl Into<String>) -> CoreError {
        CoreError::Truncated {
            path: self.path.into(),
            what: what.into(),
        }
    }

    /// `len` bytes at `offset`, which the file must hold (`what` names
    /// them for the error).
    fn bytes(&self, offset: u64, len: u64, what: &str) -> Result<Vec<u8>, CoreError> {
        let end = offset
            .checked_add(len)
            .ok_or_else(|| self.corrupt(format!("{what} out of range")))?;
        if end > self.len {
            return Err(self.truncated(format!(
                "{what} at {offset:#x}..{end:#x} but the file has {:#x} bytes",
                self.len
            )));
        }
        let mut v = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut v, offset)
            .map_err(|error| CoreError::Io {
                path: self.path.into(),
                error,
            })?;
        Ok(v)
    }

    fn parse(&self) -> Result<Contents, CoreError> {
        let path = self.path;
        let head_len = self.len.min(EHDR_SIZE as u64);
        let head = self.bytes(0, head_len, "ELF header")?;
        if head.len() < 4 || head[..4] != ELF_MAGIC[..] {
            return Err(CoreError::NotElf { path: path.into() });
        }
        if head.len() < EHDR_SIZE {
            return Err(self.truncated("the ELF header is incomplete"));
        }
        let unsupported = |what: &str| CoreError::Unsupported {
            path: path.into(),
            what: what.into(),
        };
        if head[4] != ELFCLASS64 || head[5] != ELFDATA2LSB {
            return Err(unsupported("not a 64-bit little-endian ELF file"));
        }
        let e_type = u16_at(&head, 16);
        if e_type != ET_CORE {
            let kind = match e_type {
                1 => "a relocatable object file",
                2 => "an executable",
                3 => "a shared library or position-independent executable",
                _ => "an ELF file of unknown type",
            };
            return Err(CoreError::NotCore {
                path: path.into(),
                kind,
            });
        }
        if u16_at(&head, 18) != EM_X86_64 {
            return Err(unsupported("not an x86-64 core file"));
        }
        let phoff = u64_at(&head, 32);
        let shoff = u64_at(&head, 40);
        let phentsize = u16_at(&head, 54);
        let mut phnum = u64::from(u16_at(&head, 56));
        if phentsize as usize != PHDR_SIZE {
            return Err(self.corrupt(format!(
                "program header size {phentsize}, expected {PHDR_SIZE}"
            )));
        }
        if phnum == u64::from(PN_XNUM) {
            // Too many segments for e_phnum: section header 0 has the count.
            if shoff == 0 {
                return Err(self.corrupt("extended segment count without a section header"));
            }
            let sh0 = self.bytes(shoff, SHDR_SIZE as u64, "section header 0")?;
            phnum = u64::from(u32_at(&sh0, 44));
        }
        let phdrs = self.bytes(phoff, phnum * PHDR_SIZE as u64, "program headers")?;

        let mut core = Contents::default();
        for (i, ph) in phdrs.chunks_exact(PHDR_SIZE).enumerate() {
            let p_type = u32_at(ph, 0);
            let offset = u64_at(ph, 8);
            let vaddr = u64_at(ph, 16);
            let filesz = u64_at(ph, 32);
            let memsz = u64_at(ph, 40);
            match p_type {
                PT_LOAD => {
                    if filesz > memsz {
                        return Err(self.corrupt(format!(
                            "segment {i} has more bytes in the file ({filesz:#x}) than in memory ({memsz:#x})"
                        )));
                    }
                    if vaddr.checked_add(memsz).is_none() {
                        return Err(
                            self.corrupt(format!("segment {i} wraps around the address space"))
                        );
                    }
                    let end = offset.checked_add(filesz);
                    if end.is_none_or(|e| e > self.len) {
                        return Err(self.truncated(format!(
                            "segment {i} (memory at {vaddr:#x}) needs file bytes up to {:#x} but the file has {:#x}",
                            offset.saturating_add(filesz),
                            self.len
                        )));
                    }
                    if memsz > 0 {
                        core.segments.push(Segment {
                            vaddr,
                            memsz,
                            offset,
                            filesz,
                        });
                    }
                }
                PT_NOTE => {
                    if filesz > MAX_NOTES {
                        return Err(self.corrupt(format!("note segment of {filesz} bytes")));
                    }
                    let notes = self.bytes(offset, filesz, "the notes")?;
                    self.notes(&notes, &mut core)?;
                }
                _ => {}
            }
        }
        core.segments.sort_by_key(|s| s.vaddr);
        if let Some(w) = core.segments.windows(2).find(|w| w[0].end() > w[1].vaddr) {
            return Err(self.corrupt(format!(
                "segments at {:#x} and {:#x} overlap",
                w[0].vaddr, w[1].vaddr
            )));
        }
        core.mappings.sort_by_key(|m| m.start);
        Ok(core)
    }

    /// Walks the notes of one `PT_NOTE` segment.
    fn notes(&self, mut data: &[u8], core: &mut Contents) -> Result<(), CoreError> {
        while !data.is_empty() {
            if data.len() < 12 {
                return Err(self.corrupt("a note header is cut short"));
            }
            let namesz = u32_at(data, 0) as usize;
            let descsz = u32_at(data, 4) as usize;
            let n_type = u32_at(data, 8);
            let name_end = 12usize.checked_add(namesz);
            let desc_start = name_end.map(|e| e.next_multiple_of(4));
            let desc_end = desc_start.and_then(|s| s.checked_add(descsz));
            let (Some(name_end), Some(desc_start), Some(desc_end)) =
                (name_end, desc_start, desc_end)
            else {
                return Err(self.corrupt("a note is too large"));
            };
            if desc_end > data.len() {
                return Err(self.corrupt(format!("note of type {n_type:#x} runs past its segment")));
            }
            let name = &data[12..name_end];
            let name = name.strip_suffix(b"\0").unwrap_or(name);
            let desc = &data[desc_start..desc_end];
            if name == b"CORE" {
                match n_type {
                    NT_PRSTATUS => core.threads.push(self.prstatus(desc)?),
                    NT_PRPSINFO => self.prpsinfo(desc, core)?,
                    NT_AUXV => core.auxv = auxv(desc),
                    NT_FILE => core.mappings = self.nt_file(desc)?,
                    _ => {}
                }
            }
            data = &data[desc_end.next_multiple_of(4).min(data.len())..];
        }
        Ok(())
    }

    /// A thread's `elf_prstatus`.
    fn prstatus(&self, desc: &[u8]) -> Result<ThreadRegisters, CoreError> {
        let need = PRSTATUS_REG + 8 * GeneralRegisters::WORDS;
        if desc.len() < need {
            return Err(self.corrupt(format!(
                "NT_PRSTATUS note of {} bytes, expected at least {need}",
                desc.len()
            )));
        }
        let words: [u64; GeneralRegisters::WORDS] =
            std::array::from_fn(|i| u64_at(desc, PRSTATUS_REG + 8 * i));
        let tid = u32_at(desc, PRSTATUS_PID) as i32;
        let signal = i32::from(u16_at(desc, PRSTATUS_CURSIG) as i16);
        Ok(ThreadRegisters::new(
            tid,
            signal,
            GeneralRegisters::from_words(&words),
        ))
    }

    /// The process's `elf_prpsinfo`.
    fn prpsinfo(&self, desc: &[u8], core: &mut Contents) -> Result<(), CoreError> {
        if desc.len() < PRPSINFO_SIZE {
            return Err(self.corrupt(format!(
                "NT_PRPSINFO note of {} bytes, expected {PRPSINFO_SIZE}",
                desc.len()
            )));
        }
        core.pid = Some(u32_at(desc, PRPSINFO_PID) as i32);
        core.name = Some(c_string(&desc[PRPSINFO_FNAME..PRPSINFO_PSARGS]));
        core.args = Some(
            c_string(&desc[PRPSINFO_PSARGS..PRPSINFO_SIZE])
                .trim_end()
                .to_owned(),
        );
        Ok(())
    }

    /// `NT_FILE`: a count, the page size, `count` triples (start, end, file
    /// offset in pages), then `count` NUL-terminated paths.
    fn nt_file(&self, desc: &[u8]) -> Result<Vec<FileMapping>, CoreError> {
        if desc.len() < 16 {
            return Err(self.corrupt("NT_FILE note cut short"));
        }
        let count = u64_at(desc, 0);
        let page_size = u64_at(desc, 8);
        let table_end = count
            .checked_mul(24)
            .and_then(|n| n.checked_add(16))
            .filter(|&n| n <= desc.len() as u64)
            .ok_or_else(|| self.corrupt(format!("NT_FILE note claims {count} files")))?
            as usize;
        let mut names = desc[table_end..].split(|&b| b == 0);
        let mut mappings = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let e = 16 + 24 * i;
            let (start, end, page) = (u64_at(desc, e), u64_at(desc, e + 8), u64_at(desc, e + 16));
            let name = names
                .next()
                .ok_or_else(|| self.corrupt("NT_FILE note has fewer names than files"))?;
            if end < start {
                return Err(
                    self.corrupt(format!("NT_FILE mapping {start:#x}..{end:#x} is reversed"))
                );
            }
            mappings.push(FileMapping {
                start,
                end,
                file_offset: page.wrapping_mul(page_size),
                // The kernel marks files deleted since they were mapped.
                path: PathBuf::from(OsStr::from_bytes(
                    name.strip_suffix(b" (deleted)").unwrap_or(name),
                )),
            });
        }
        Ok(mappings)
    }
}

/// `NT_AUXV`: (key, value) pairs up to `AT_NULL`.
fn auxv(desc: &[u8]) -> Vec<(u64, u64)> {
    desc.chunks_exact(16)
        .map(|c| (u64_at(c, 0), u64_at(c, 8)))
        .take_while(|(k, _)| *k != AT_NULL)
        .collect()
}

/// The text of a NUL-padded fixed-size field.
fn c_string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}
