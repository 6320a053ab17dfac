//! Names for host frames, from the symbol tables of the files a process
//! mapped (its executable and shared libraries), read from disk.

use std::collections::BTreeMap;
use std::path::Path;

use object::{Object, ObjectSymbol, SymbolKind};

use crate::elf::{FileMapping, load_bias_in};

/// A host function found for an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSymbol {
    /// Demangled name, without Rust's hash suffix.
    pub name: String,
    /// Offset of the address from the function's start.
    pub offset: u64,
    /// File name of the binary (no directory).
    pub file: String,
}

struct MappedFile {
    start: u64,
    end: u64,
    bias: u64,
    file: String,
    /// `(stated address, size, mangled name)`, sorted by address.
    symbols: Vec<(u64, u64, String)>,
}

/// The function symbols of every file mapped into a process.
pub struct HostSymbols {
    files: Vec<MappedFile>,
}

impl std::fmt::Debug for HostSymbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSymbols")
            .field("files", &self.files.len())
            .finish()
    }
}

impl HostSymbols {
    /// Reads the symbol tables of the files of `mappings`. Files that are
    /// gone, unreadable or not ELF contribute no names.
    pub fn from_mappings(mappings: &[FileMapping]) -> HostSymbols {
        let mut ranges: BTreeMap<&Path, (u64, u64)> = BTreeMap::new();
        for m in mappings {
            let range = ranges.entry(&m.path).or_insert((m.start, m.end));
            range.0 = range.0.min(m.start);
            range.1 = range.1.max(m.end);
        }
        let mut files = Vec::new();
        for (path, (start, end)) in ranges {
            let Ok(bias) = load_bias_in(mappings, path) else {
                continue;
            };
            let Some(symbols) = function_symbols(path) else {
                continue;
            };
            files.push(MappedFile {
                start,
                end,
                bias,
                file: path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into(),
                ),
                symbols,
            });
        }
        HostSymbols { files }
    }

    /// The function containing `address` (for a return address, pass the
    /// address of the call: one less).
    pub fn lookup(&self, address: u64) -> Option<HostSymbol> {
        let f = self
            .files
            .iter()
            .find(|f| f.start <= address && address < f.end)?;
        let stated = address.checked_sub(f.bias)?;
        let i = f
            .symbols
            .partition_point(|s| s.0 <= stated)
            .checked_sub(1)?;
        let (start, size, name) = &f.symbols[i];
        let offset = stated - start;
        // A symbol without a size covers up to the next one.
        if *size != 0 && offset >= *size {
            return None;
        }
        Some(HostSymbol {
            name: format!("{:#}", rustc_demangle::demangle(name)),
            offset,
            file: f.file.clone(),
        })
    }
}

fn function_symbols(path: &Path) -> Option<Vec<(u64, u64, String)>> {
    let data = std::fs::read(path).ok()?;
    let file = object::File::parse(&*data).ok()?;
    let mut symbols: Vec<(u64, u64, String)> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
        .filter_map(|s| Some((s.address(), s.size(), s.name().ok()?.to_string())))
        .collect();
    symbols.sort();
    symbols.dedup_by_key(|s| s.0);
    Some(symbols)
}
