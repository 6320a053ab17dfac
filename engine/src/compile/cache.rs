//! The compilation cache: each module's compiled functions, kept in a
//! directory between runs, so that running a program again skips
//! Cranelift (as Wasmtime's cache does by default).
//!
//! An entry is named by a SHA-256 of everything that decides the machine
//! code: this build of the engine (the running executable's path, size
//! and modification time: late constants are distances inside it), the
//! target and Cranelift's flags, the engine settings, and the module's
//! bytes. The file holds a header, the compiled functions in `postcard`
//! (a compact `serde` format, chosen over a hand-written encoding because
//! Cranelift's unwind information is only reachable through `serde`), and
//! a SHA-256 of that payload; an entry that is short, corrupt, from
//! another format or for another key is ignored and rewritten. Writes go
//! to a temporary file renamed into place, so that concurrent runs never
//! read half an entry.
//!
//! An entry is machine code the process will run, so only a directory
//! that belongs to the user and that no one else can write is used, and
//! only regular files owned by the user are read from it.
//!
//! Compiled code refers to the process that runs it only through late
//! constants (`late.rs`). As a guard against an address that did not go
//! through them, code whose bytes hold a value that points into any
//! mapping of this process is not stored.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use cranelift_codegen::isa::TargetIsa;
use sha2::{Digest, Sha256};

use super::CompiledFunction;

const MAGIC: &[u8; 8] = b"SWYCACHE";
/// Bumped when the entry format or what it holds changes.
const FORMAT: u32 = 1;
const HEADER: usize = MAGIC.len() + 4 + 32;

/// The name of a module's entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Key([u8; 32]);

impl Key {
    fn file_name(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The key of `bytes` compiled for `isa` with `settings` (a description of
/// every engine setting code generation reads), or `None` when this build
/// cannot be identified.
pub(super) fn key(isa: &dyn TargetIsa, settings: &str, bytes: &[u8]) -> Option<Key> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(&exe).ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    let mut h = Sha256::new();
    h.update(FORMAT.to_le_bytes());
    h.update(env!("CARGO_PKG_VERSION"));
    h.update(exe.as_os_str().as_encoded_bytes());
    h.update(meta.len().to_le_bytes());
    h.update(modified.as_nanos().to_le_bytes());
    h.update(isa.triple().to_string());
    h.update(isa.flags().to_string());
    for flag in isa.isa_flags() {
        h.update(flag.to_string());
    }
    h.update(settings);
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
    Some(Key(h.finalize().into()))
}

/// The entry for `key` in `dir`, if there is a sound one in a directory
/// only this user can write.
pub(super) fn load(dir: &Path, key: &Key) -> Option<Vec<CompiledFunction>> {
    if !private(dir) {
        return None;
    }
    let path = dir.join(key.file_name());
    // The entry itself: ours, and a file (not a link to something else).
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.file_type().is_file() || meta.uid() != rustix::process::geteuid().as_raw() {
        return None;
    }
    let data = std::fs::read(&path).ok()?;
    decode(&data, key)
}

/// Whether `dir` belongs to this user and no one else may write in it: an
/// entry is machine code this process will run, so a directory others can
/// write (a shared `/tmp`, say) is not used.
fn private(dir: &Path) -> bool {
    std::fs::metadata(dir).is_ok_and(|m| {
        m.is_dir() && m.uid() == rustix::process::geteuid().as_raw() && m.mode() & 0o022 == 0
    })
}

fn decode(data: &[u8], key: &Key) -> Option<Vec<CompiledFunction>> {
    if data.len() < HEADER + 32 || &data[..MAGIC.len()] != MAGIC {
        return None;
    }
    let format = u32::from_le_bytes(data[8..12].try_into().ok()?);
    if format != FORMAT || data[12..HEADER] != key.0 {
        return None;
    }
    let (payload, sum) = data[HEADER..].split_at(data.len() - HEADER - 32);
    if Sha256::digest(payload).as_slice() != sum {
        return None;
    }
    postcard::from_bytes(payload).ok()
}

/// Stores `functions` as the entry for `key` in `dir`, unless their code
/// holds a pointer into this process. Failing to write is not an error:
/// the next run compiles again.
pub(super) fn store(dir: &Path, key: &Key, functions: &[CompiledFunction]) {
    let mappings = mappings();
    if functions
        .iter()
        .any(|f| holds_a_pointer(&f.code, &mappings))
    {
        return;
    }
    let Ok(payload) = postcard::to_allocvec(functions) else {
        return;
    };
    let mut data = Vec::with_capacity(HEADER + payload.len() + 32);
    data.extend_from_slice(MAGIC);
    data.extend_from_slice(&FORMAT.to_le_bytes());
    data.extend_from_slice(&key.0);
    data.extend_from_slice(&payload);
    data.extend_from_slice(&Sha256::digest(&payload));
    let _ = write_atomically(dir, &key.file_name(), &data);
}

fn write_atomically(dir: &Path, name: &str, data: &[u8]) -> std::io::Result<()> {
    // A new directory is the user's alone; one that others can write is
    // not used (`private`).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    if !private(dir) {
        return Err(std::io::Error::other("the cache directory is not private"));
    }
    // Unique per process and per write, so that two threads storing the
    // same module never share a temporary file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.{}.{n}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&temp)?;
        // No fsync: an entry cut short by a crash fails its checksum and
        // is written again, and a sync per module would slow runs of many
        // small modules.
        f.write_all(data)?;
        std::fs::rename(&temp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

/// Whether any 8 bytes of `code` read as an address inside one of
/// `mappings` (this process's, from [`mappings`]).
fn holds_a_pointer(code: &[u8], mappings: &[(u64, u64)]) -> bool {
    code.windows(8).any(|w| {
        let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        // Mappings are sorted: the last one starting at or below v.
        let i = mappings.partition_point(|&(start, _)| start <= v);
        i > 0 && v < mappings[i - 1].1
    })
}

/// This process's mappings, `(start, end)`, sorted.
fn mappings() -> Vec<(u64, u64)> {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        // Without the list every value might be an address.
        return vec![(0, u64::MAX)];
    };
    let mut out: Vec<(u64, u64)> = maps
        .lines()
        .filter_map(|l| {
            let range = l.split_whitespace().next()?;
            let (a, b) = range.split_once('-')?;
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
            ))
        })
        .collect();
    out.sort_unstable();
    out
}

/// Where the command-line tools keep the cache: `SWITCHYARD_CACHE_DIR`,
/// else `switchyard` under `XDG_CACHE_HOME`, else under `~/.cache`.
pub fn default_dir() -> Option<PathBuf> {
    let nonempty = |v: &str| std::env::var_os(v).filter(|s| !s.is_empty());
    if let Some(dir) = nonempty("SWITCHYARD_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = nonempty("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("switchyard"));
    }
    nonempty("HOME").map(|home| PathBuf::from(home).join(".cache").join("switchyard"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_into_this_process_is_found_and_plain_code_is_not() {
        let here = &FORMAT as *const u32 as u64;
        let mut code = vec![0x90u8; 32];
        let mappings = mappings();
        assert!(!holds_a_pointer(&code, &mappings));
        code[5..13].copy_from_slice(&here.to_le_bytes());
        assert!(holds_a_pointer(&code, &mappings));
    }

    #[test]
    fn an_entry_for_another_key_or_with_a_flipped_byte_is_refused() {
        let key = Key([7; 32]);
        let payload = postcard::to_allocvec(&Vec::<CompiledFunction>::new()).unwrap();
        let mut data = Vec::new();
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(&FORMAT.to_le_bytes());
        data.extend_from_slice(&key.0);
        data.extend_from_slice(&payload);
        data.extend_from_slice(&Sha256::digest(&payload));
        assert!(decode(&data, &key).is_some());
        assert!(decode(&data, &Key([8; 32])).is_none());
        let last = data.len() - 1;
        data[last] ^= 1;
        assert!(decode(&data, &key).is_none());
        assert!(decode(&data[..HEADER], &key).is_none());
    }
}
