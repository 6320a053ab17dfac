//! The layout of everything generated code reads or writes in memory.
//!
//! Generated code addresses these structures by fixed offsets, so each is
//! `#[repr(C)]` and its field offsets are named constants next to it; a unit
//! test checks the constants against the compiler's layout.
//!
//! ```text
//! VMContext (one per instance, 8-byte slots)
//!   +0   *mut VMStoreContext        the store this instance lives in
//!   +8   *mut VMInstance            for libcalls (vm/instance.rs)
//!   then, per module index space, in this order:
//!        *mut VMMemory   per memory
//!        *mut VMTable    per table
//!        *mut VMGlobal   per global
//!        *const VMFuncRef per imported function
//!        *mut VMTag      per tag
//!        VMFuncRef       per defined function (inline, 3 slots)
//!        code, vmctx     per imported function: copies of its funcref's
//!                        `code` and `vmctx`, so that a call reaches them
//!                        with one load each
//!        VMGlobal        per defined global (16-byte aligned): its
//!                        storage, so that generated code reaches it
//!                        without the pointer above
//!        *mut u8         per memory: a copy of its base, which never
//!                        moves, so that generated code reaches a memory
//!                        with one load instead of two
//! ```

use crate::module_info::ModuleInfo;

/// One linear memory, shared by every instance that imports it.
#[repr(C)]
pub struct VMMemory {
    /// Start of the reservation; never moves.
    pub base: *mut u8,
    /// Accessible size in bytes.
    pub length: u64,
}
/// Offset of [`VMMemory::base`].
pub const VMMEMORY_BASE: i32 = 0;
/// Offset of [`VMMemory::length`].
pub const VMMEMORY_LENGTH: i32 = 8;

/// One table: a vector of raw references (funcref pointers, externref
/// handles, continuation references), 8 bytes each.
#[repr(C)]
pub struct VMTable {
    /// Element storage; moves when the table grows.
    pub base: *mut u64,
    /// Number of elements.
    pub length: u64,
}
/// Offset of [`VMTable::base`].
pub const VMTABLE_BASE: i32 = 0;
/// Offset of [`VMTable::length`].
pub const VMTABLE_LENGTH: i32 = 8;

/// One global's storage: 16 bytes, so that a `v128` fits, aligned to 16
/// so that generated code may load it as one vector. Smaller values sit in
/// the low bytes (x86-64 is little-endian), so every type is read at
/// offset 0.
#[repr(C, align(16))]
pub struct VMGlobal {
    /// The raw value, zero-extended.
    pub value: u128,
}
/// Offset of [`VMGlobal::value`].
pub const VMGLOBAL_VALUE: i32 = 0;
/// Size of a [`VMGlobal`].
pub const VMGLOBAL_SIZE: usize = 16;

/// What a `funcref` points at: enough to call the function and to check
/// its type.
#[repr(C)]
pub struct VMFuncRef {
    /// Code with the Wasm calling convention: `(callee_vmctx, params...)`.
    pub code: usize,
    /// Canonical type id of the function.
    pub type_id: u64,
    /// The callee's VMContext (or a `VMHostContext` for host functions).
    pub vmctx: usize,
}
/// Offset of [`VMFuncRef::code`].
pub const VMFUNCREF_CODE: i32 = 0;
/// Offset of [`VMFuncRef::type_id`].
pub const VMFUNCREF_TYPE: i32 = 8;
/// Offset of [`VMFuncRef::vmctx`].
pub const VMFUNCREF_VMCTX: i32 = 16;
/// Offset of the code copy in an imported function's call slots.
pub const IMPORT_CALL_CODE: u32 = 0;
/// Offset of the callee VM context copy in an imported function's call slots.
pub const IMPORT_CALL_VMCTX: u32 = 8;
/// Size of a [`VMFuncRef`].
pub const VMFUNCREF_SIZE: u32 = 24;

/// A tag's identity: tags compare by address.
#[repr(C)]
pub struct VMTag {
    /// Canonical type id of the tag's function type.
    pub type_id: u64,
}

/// Per-store state that generated code reads and writes.
#[repr(C)]
pub struct VMStoreContext {
    /// Lowest stack address Wasm code may use on the current stack.
    pub stack_limit: usize,
    /// Frame pointer of the last Wasm frame when Wasm called the host.
    pub last_exit_fp: usize,
    /// Return address into Wasm when Wasm called the host.
    pub last_exit_pc: usize,
    /// The store that owns this context (type-erased `StoreInner`).
    pub store: *mut u8,
    /// The innermost host entry's saved registers (see `vm::entry`).
    pub entry_jmpbuf: *mut crate::vm::entry::JmpBuf,
    /// Record of the running continuation (0: a host stack).
    pub current_cont: usize,
    /// Free list of continuation records whose stacks can be reused.
    pub cont_free: usize,
    /// Number of live continuations.
    pub cont_live: u64,
    /// The store's continuation runtime (stacks, ids).
    pub conts: *mut crate::vm::stack_switching::StoreContinuations,
    /// Which handler clause of the resumer a suspension went to.
    pub suspend_clause: u64,
    /// The tag of the last suspension that found no handler.
    pub unhandled_tag: usize,
    /// The store's exception objects.
    pub exceptions: *mut crate::vm::exceptions::ExceptionArena,
    /// An exception that reached the host entry (0: none).
    pub uncaught_exception: usize,
    /// Where native handler search last found a handler by walking.
    pub handler_cache: HandlerCache,
}

/// The last handler that native handler search found by walking the chain
/// of running continuations: for the continuation with id `cont_id` and
/// the tag identity `tag` (marked for switch clauses), the record
/// `handler` whose resumer handled it. While that continuation's
/// `last_ancestor` is still `handler`, its chain up to `handler` is the
/// one that was walked, so a search for the same tag may start there
/// (`compile/stack_switching/search.rs` says why).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HandlerCache {
    /// The searching continuation's id (0: empty; ids start at 1).
    pub cont_id: u64,
    /// The tag identity searched for.
    pub tag: usize,
    /// The record found.
    pub handler: usize,
}
/// Offset of [`VMStoreContext::stack_limit`].
pub const VMSTORE_STACK_LIMIT: i32 = 0;
/// Offset of [`VMStoreContext::last_exit_fp`].
pub const VMSTORE_LAST_EXIT_FP: i32 = 8;
/// Offset of [`VMStoreContext::last_exit_pc`].
pub const VMSTORE_LAST_EXIT_PC: i32 = 16;
/// Offset of [`VMStoreContext::current_cont`].
pub const VMSTORE_CURRENT_CONT: i32 = std::mem::offset_of!(VMStoreContext, current_cont) as i32;
/// Offset of [`VMStoreContext::cont_free`].
pub const VMSTORE_CONT_FREE: i32 = std::mem::offset_of!(VMStoreContext, cont_free) as i32;
/// Offset of [`VMStoreContext::suspend_clause`].
pub const VMSTORE_SUSPEND_CLAUSE: i32 = std::mem::offset_of!(VMStoreContext, suspend_clause) as i32;
/// Offset of [`VMStoreContext::cont_live`].
pub const VMSTORE_CONT_LIVE: i32 = std::mem::offset_of!(VMStoreContext, cont_live) as i32;
/// Offset of [`VMStoreContext::handler_cache`]'s `cont_id`.
pub const VMSTORE_CACHE_CONT: i32 = (std::mem::offset_of!(VMStoreContext, handler_cache)
    + std::mem::offset_of!(HandlerCache, cont_id)) as i32;
/// Offset of [`VMStoreContext::handler_cache`]'s `tag`.
pub const VMSTORE_CACHE_TAG: i32 = (std::mem::offset_of!(VMStoreContext, handler_cache)
    + std::mem::offset_of!(HandlerCache, tag)) as i32;
/// Offset of [`VMStoreContext::handler_cache`]'s `handler`.
pub const VMSTORE_CACHE_HANDLER: i32 = (std::mem::offset_of!(VMStoreContext, handler_cache)
    + std::mem::offset_of!(HandlerCache, handler)) as i32;

/// Offset of the store context pointer in a VMContext.
pub const VMCTX_STORE: i32 = 0;
/// Offset of the instance pointer in a VMContext.
pub const VMCTX_INSTANCE: i32 = 8;

/// The VMContext layout of one module.
#[derive(Clone, Debug)]
pub struct VMOffsets {
    memories: u32,
    tables: u32,
    globals: u32,
    imported_funcs: u32,
    tags: u32,
    defined_funcs: u32,
    import_calls: u32,
    defined_globals: u32,
    memory_bases: u32,
    num_imported_funcs: u32,
    num_imported_globals: u32,
    size: u32,
}

impl VMOffsets {
    /// Computes the layout for `info`.
    pub fn new(info: &ModuleInfo) -> VMOffsets {
        let memories = 16;
        let tables = memories + 8 * info.memories.len() as u32;
        let globals = tables + 8 * info.tables.len() as u32;
        let imported_funcs = globals + 8 * info.globals.len() as u32;
        let tags = imported_funcs + 8 * info.num_imported_funcs;
        let defined_funcs = tags + 8 * info.tags.len() as u32;
        let num_defined = info.funcs.len() as u32 - info.num_imported_funcs;
        let import_calls = defined_funcs + VMFUNCREF_SIZE * num_defined;
        let defined_globals = (import_calls + 16 * info.num_imported_funcs).next_multiple_of(16);
        let num_defined_globals = info.globals.len() as u32 - info.num_imported_globals;
        let memory_bases = defined_globals + VMGLOBAL_SIZE as u32 * num_defined_globals;
        let size = memory_bases + 8 * info.memories.len() as u32;
        VMOffsets {
            memories,
            tables,
            globals,
            imported_funcs,
            tags,
            defined_funcs,
            import_calls,
            defined_globals,
            memory_bases,
            num_imported_funcs: info.num_imported_funcs,
            num_imported_globals: info.num_imported_globals,
            size,
        }
    }
    /// Slot holding `*mut VMMemory` for memory `index`.
    pub fn memory(&self, index: u32) -> u32 {
        self.memories + 8 * index
    }
    /// The two slots ([`IMPORT_CALL_CODE`], [`IMPORT_CALL_VMCTX`]) with
    /// copies of imported function `index`'s code and callee VM context.
    pub fn import_call(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_imported_funcs);
        self.import_calls + 16 * index
    }
    /// The inline [`VMGlobal`] of global `index`, if the module defines it
    /// (16-byte aligned, as the VM context is).
    pub fn defined_global(&self, index: u32) -> Option<u32> {
        let defined = index.checked_sub(self.num_imported_globals)?;
        Some(self.defined_globals + VMGLOBAL_SIZE as u32 * defined)
    }
    /// Slot holding a copy of memory `index`'s base ([`VMMemory::base`]).
    pub fn memory_base(&self, index: u32) -> u32 {
        self.memory_bases + 8 * index
    }
    /// Slot holding `*mut VMTable` for table `index`.
    pub fn table(&self, index: u32) -> u32 {
        self.tables + 8 * index
    }
    /// Slot holding `*mut VMGlobal` for global `index`.
    pub fn global(&self, index: u32) -> u32 {
        self.globals + 8 * index
    }
    /// Slot holding `*const VMFuncRef` for imported function `index`.
    pub fn imported_func(&self, index: u32) -> u32 {
        debug_assert!(index < self.num_imported_funcs);
        self.imported_funcs + 8 * index
    }
    /// Slot holding `*mut VMTag` for tag `index`.
    pub fn tag(&self, index: u32) -> u32 {
        self.tags + 8 * index
    }
    /// The inline `VMFuncRef` of defined function `func_index` (a function
    /// index, not a defined-function index).
    pub fn defined_funcref(&self, func_index: u32) -> u32 {
        self.defined_funcs + VMFUNCREF_SIZE * (func_index - self.num_imported_funcs)
    }
    /// Total size in bytes.
    pub fn size(&self) -> u32 {
        self.size
    }
}

/// The "VMContext" of a host function: what its adapter needs to reach
/// the host closure.
#[repr(C)]
pub struct VMHostContext {
    /// `extern "sysv64" fn(*mut VMHostContext, caller_vmctx, values)`.
    pub dispatch: usize,
    /// The store the function belongs to.
    pub store: *mut VMStoreContext,
    /// Index of the function in the store's host function list.
    pub index: usize,
}
/// Offset of [`VMHostContext::dispatch`].
pub const VMHOSTCTX_DISPATCH: i32 = 0;
/// Offset of [`VMHostContext::store`].
pub const VMHOSTCTX_STORE: i32 = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn offsets_match_the_structures() {
        assert_eq!(offset_of!(VMMemory, base) as i32, VMMEMORY_BASE);
        assert_eq!(offset_of!(VMMemory, length) as i32, VMMEMORY_LENGTH);
        assert_eq!(offset_of!(VMTable, base) as i32, VMTABLE_BASE);
        assert_eq!(offset_of!(VMTable, length) as i32, VMTABLE_LENGTH);
        assert_eq!(offset_of!(VMFuncRef, code) as i32, VMFUNCREF_CODE);
        assert_eq!(offset_of!(VMFuncRef, type_id) as i32, VMFUNCREF_TYPE);
        assert_eq!(offset_of!(VMFuncRef, vmctx) as i32, VMFUNCREF_VMCTX);
        assert_eq!(std::mem::size_of::<VMFuncRef>() as u32, VMFUNCREF_SIZE);
        assert_eq!(offset_of!(VMGlobal, value) as i32, VMGLOBAL_VALUE);
        assert_eq!(std::mem::size_of::<VMGlobal>(), VMGLOBAL_SIZE);
        assert_eq!(std::mem::align_of::<VMGlobal>(), VMGLOBAL_SIZE);
        assert_eq!(
            offset_of!(VMStoreContext, stack_limit) as i32,
            VMSTORE_STACK_LIMIT
        );
        assert_eq!(
            offset_of!(VMStoreContext, last_exit_fp) as i32,
            VMSTORE_LAST_EXIT_FP
        );
        assert_eq!(
            offset_of!(VMStoreContext, last_exit_pc) as i32,
            VMSTORE_LAST_EXIT_PC
        );
        assert_eq!(
            offset_of!(VMHostContext, dispatch) as i32,
            VMHOSTCTX_DISPATCH
        );
        assert_eq!(offset_of!(VMHostContext, store) as i32, VMHOSTCTX_STORE);
    }
}
