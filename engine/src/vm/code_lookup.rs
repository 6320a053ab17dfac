//! Process-wide map from code addresses to what was compiled there, for
//! the signal handler (trap codes) and for backtraces (function names).

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What is known about one range of generated code.
#[derive(Debug, Default)]
pub struct CodeInfo {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Module name for display (`name` section, else file name).
    pub module_name: Arc<str>,
    /// `(offset, trap code byte)` sorted by offset.
    pub traps: Vec<(u32, u8)>,
    /// `(start offset, end offset, function index)` sorted by start.
    pub functions: Vec<(u32, u32, u32)>,
    /// Names of the functions of `functions`, in the same order.
    pub function_names: Vec<Arc<str>>,
    /// Call sites with exception handlers, sorted by return address offset.
    pub call_sites: Vec<CallSite>,
    /// VMContext offset of each tag's slot, by module tag index.
    pub tag_slots: Vec<u32>,
    /// `(code offset, module byte offset)`, sorted: the Wasm instruction
    /// the native code from each code offset on belongs to.
    pub source_map: Vec<[u32; 2]>,
}

/// A `try_call` site: how to find its frame and its handlers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CallSite {
    /// Offset of the return address from the code start.
    pub ret_offset: u32,
    /// Frame pointer minus stack pointer at the call.
    pub frame_offset: u32,
    /// Handlers in order; the first that matches wins.
    pub handlers: Vec<CallSiteHandler>,
}

/// One entry of a call site's exception table.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
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

    /// The byte offset in the module of the Wasm instruction at `pc`. Code
    /// before a function's first mapped instruction (its prologue, where a
    /// stack overflow traps) belongs to that first instruction, never to
    /// the end of the function laid out before it.
    pub fn wasm_offset(&self, pc: usize) -> Option<u32> {
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let f = self
            .functions
            .partition_point(|f| f.0 <= offset)
            .checked_sub(1)?;
        let (start, end, _) = self.functions[f];
        if offset >= end {
            return None;
        }
        let i = self.source_map.partition_point(|m| m[0] <= offset);
        match i.checked_sub(1).map(|j| self.source_map[j]) {
            Some([at, wasm]) if at >= start => Some(wasm),
            _ => self.source_map.get(i).filter(|m| m[0] < end).map(|m| m[1]),
        }
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

    /// The name of the function containing `pc`.
    pub fn function_name_at(&self, pc: usize) -> Option<&Arc<str>> {
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let i = self
            .functions
            .partition_point(|f| f.0 <= offset)
            .checked_sub(1)?;
        let (start, end, _) = self.functions[i];
        (offset >= start && offset < end).then(|| &self.function_names[i])
    }
}

/// The lookup table is a sorted snapshot behind an atomic pointer, replaced
/// (copied) on every change, so that a signal handler can read it without
/// taking a lock: a trap must be recognized even while another thread is
/// loading a module. Readers announce themselves in `READERS`; a writer
/// frees the snapshot it replaced once no reader is left.
type Snapshot = Vec<Arc<CodeInfo>>;

static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(std::ptr::null_mut());
static READERS: AtomicUsize = AtomicUsize::new(0);
static WRITER: Mutex<()> = Mutex::new(());

fn update(change: impl FnOnce(&mut Snapshot)) {
    let _guard = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let old = SNAPSHOT.load(Ordering::SeqCst);
    // SAFETY: snapshots are only freed by writers, and we are the writer.
    let mut next: Snapshot = if old.is_null() {
        Vec::new()
    } else {
        unsafe { (*old).clone() }
    };
    change(&mut next);
    next.sort_by_key(|i| i.end);
    SNAPSHOT.store(Box::into_raw(Box::new(next)), Ordering::SeqCst);
    while READERS.load(Ordering::SeqCst) != 0 {
        std::hint::spin_loop();
    }
    if !old.is_null() {
        // SAFETY: no reader can still see `old`: it was replaced before we
        // saw the reader count at zero.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Publishes a code range.
pub fn publish(info: Arc<CodeInfo>) {
    update(|s| s.push(info));
}

/// Withdraws a code range.
pub fn withdraw(end: usize) {
    update(|s| s.retain(|i| i.end != end));
}

/// Finds the code range containing `pc`. Takes no lock, so it is safe in a
/// signal handler.
pub fn lookup(pc: usize) -> Option<Arc<CodeInfo>> {
    READERS.fetch_add(1, Ordering::SeqCst);
    let snapshot = SNAPSHOT.load(Ordering::SeqCst);
    let found = if snapshot.is_null() {
        None
    } else {
        // SAFETY: the writer frees a snapshot only when no reader is active.
        let s = unsafe { &*snapshot };
        let i = s.partition_point(|info| info.end <= pc);
        s.get(i).filter(|info| info.start <= pc).cloned()
    };
    READERS.fetch_sub(1, Ordering::SeqCst);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two functions; the second's first mapped instruction comes after
    /// its prologue.
    fn two_functions() -> CodeInfo {
        CodeInfo {
            start: 0x1000,
            end: 0x1100,
            functions: vec![(0, 0x40, 0), (0x40, 0x100, 1)],
            function_names: vec!["a".into(), "b".into()],
            source_map: vec![[0x4, 0x20], [0x30, 0x24], [0x50, 0x40], [0x60, 0x44]],
            ..Default::default()
        }
    }

    #[test]
    fn a_prologue_belongs_to_its_own_functions_first_instruction() {
        let info = two_functions();
        // In b's prologue: b's first instruction, not a's last.
        assert_eq!(info.wasm_offset(0x1040), Some(0x40));
        assert_eq!(info.wasm_offset(0x104f), Some(0x40));
        assert_eq!(info.wasm_offset(0x1055), Some(0x40));
        assert_eq!(info.wasm_offset(0x1060), Some(0x44));
        // a's own prologue and body.
        assert_eq!(info.wasm_offset(0x1000), Some(0x20));
        assert_eq!(info.wasm_offset(0x103f), Some(0x24));
        // Outside every function.
        assert_eq!(info.wasm_offset(0x1100), None);
    }
}
