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
    /// Call sites with exception handlers, sorted by return address offset.
    pub call_sites: Vec<CallSite>,
    /// VMContext offset of each tag's slot, by module tag index.
    pub tag_slots: Vec<u32>,
}

/// A `try_call` site: how to find its frame and its handlers.
#[derive(Debug, Clone)]
pub struct CallSite {
    /// Offset of the return address from the code start.
    pub ret_offset: u32,
    /// Frame pointer minus stack pointer at the call.
    pub frame_offset: u32,
    /// Handlers in order; the first that matches wins.
    pub handlers: Vec<CallSiteHandler>,
}

/// One entry of a call site's exception table.
#[derive(Debug, Clone, Copy)]
pub enum CallSiteHandler {
    /// The dynamic context (the VMContext) for the entries after it is at
    /// this offset from the call's stack pointer.
    ContextAtSp(u32),
    /// The dynamic context is in this register (hardware encoding) at the
    /// call; only possible where the callee preserves it (the first frame,
    /// which called a System V libcall).
    ContextInRegister(u8),
    /// Module tag index and landing pad offset.
    Tag(u32, u32),
    /// Catch-all landing pad offset.
    Default(u32),
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

    /// The `try_call` site whose return address is `ret`.
    pub fn call_site(&self, ret: usize) -> Option<&CallSite> {
        let offset = u32::try_from(ret.checked_sub(self.start)?).ok()?;
        let i = self
            .call_sites
            .binary_search_by_key(&offset, |c| c.ret_offset)
            .ok()?;
        Some(&self.call_sites[i])
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
