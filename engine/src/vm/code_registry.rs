//! Process-wide map from code addresses to what was compiled there, for
//! the signal handler (trap codes) and for backtraces (function names).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// What is known about one range of generated code.
#[derive(Debug, Default)]
pub struct CodeInfo {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Module name for display (`name` section, else file name).
    pub module_name: String,
    /// `(offset, trap code byte)` sorted by offset.
    pub traps: Vec<(u32, u8)>,
    /// `(start offset, end offset, function index)` sorted by start.
    pub functions: Vec<(u32, u32, u32)>,
    /// Function names by function index.
    pub names: std::collections::HashMap<u32, String>,
}

impl CodeInfo {
    /// The trap code recorded at `pc`, if any.
    pub fn trap_at(&self, pc: usize) -> Option<u8> {
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self.traps.binary_search_by_key(&offset, |t| t.0).ok()?;
        Some(self.traps[i].1)
    }

    /// The function index containing `pc`.
    pub fn function_at(&self, pc: usize) -> Option<u32> {
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self
            .functions
            .partition_point(|f| f.0 <= offset)
            .checked_sub(1)?;
        let (start, end, index) = self.functions[i];
        (offset >= start && offset < end).then_some(index)
    }

    /// A display name for function `index`.
    pub fn function_name(&self, index: u32) -> String {
        match self.names.get(&index) {
            Some(n) => n.clone(),
            None => format!("wasm-function[{index}]"),
        }
    }
}

static REGISTRY: RwLock<BTreeMap<usize, Arc<CodeInfo>>> = RwLock::new(BTreeMap::new());

/// Publishes a code range.
pub fn register(info: Arc<CodeInfo>) {
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(info.end, info);
}

/// Withdraws a code range.
pub fn unregister(end: usize) {
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&end);
}

/// Finds the code range containing `pc`. Never blocks: from a signal
/// handler a contended lock means "not known".
pub fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    let map = REGISTRY.try_read().ok()?;
    let (_, info) = map.range(pc + 1..).next()?;
    (info.start <= pc).then(|| info.clone())
}
