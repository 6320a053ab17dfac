//! Names for host code called from Wasm (libcalls, WASI, host functions):
//! the function symbols of this process's own executable, demangled.
//!
//! Only the executable is read (not the shared libraries): it holds the
//! engine's runtime and every host function, which is what a profile of a
//! Wasm program runs into. A pc elsewhere stays `[host]`.

use std::sync::Arc;

use object::{Object, ObjectSymbol, SymbolKind};

/// The executable's functions, sorted by run-time address.
pub struct HostSymbols {
    /// `(start, end, name)`.
    functions: Vec<(u64, u64, Arc<str>)>,
}

impl HostSymbols {
    /// Reads `/proc/self/exe`. `anchor` is the run-time address of the
    /// symbol `anchor_name`, which gives the load bias. `None` if the file
    /// cannot be read or has no symbol table.
    pub fn of_this_executable(anchor_name: &str, anchor: u64) -> Option<HostSymbols> {
        let bytes = std::fs::read("/proc/self/exe").ok()?;
        let file = object::File::parse(&*bytes).ok()?;
        let link = file
            .symbols()
            .find(|s| s.name() == Ok(anchor_name))?
            .address();
        let bias = anchor.wrapping_sub(link);
        let mut functions: Vec<(u64, u64, Arc<str>)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
            .filter_map(|s| {
                let name = s.name().ok()?;
                let start = s.address().wrapping_add(bias);
                let name = format!("{:#}", rustc_demangle::demangle(name));
                Some((start, start + s.size(), Arc::from(name)))
            })
            .collect();
        if functions.is_empty() {
            return None;
        }
        functions.sort_by_key(|f| f.0);
        Some(HostSymbols { functions })
    }

    /// The function containing `pc`.
    pub fn name_at(&self, pc: u64) -> Option<&Arc<str>> {
        let i = self
            .functions
            .partition_point(|f| f.0 <= pc)
            .checked_sub(1)?;
        let (_, end, name) = &self.functions[i];
        (pc < *end).then_some(name)
    }
}
