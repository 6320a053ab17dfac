//! The registry of live stacks: one exported symbol, `switchyard_registry`,
//! from which a debugger, a profiler or another process finds every store,
//! every stack record and every compiled module, without Rust type
//! information. docs/registry.md documents this layout; a test checks the
//! two agree.
//!
//! Writers (store creation, stack mapping, module loading) serialize on a
//! mutex and bump `generation` before and after each structural change
//! (odd while a change is in progress), so readers that race with the
//! process can retry. Per-stack fields that change on every switch (state,
//! contexts) live in the stack records themselves and are read as they are.

use std::cell::UnsafeCell;
use std::sync::Mutex;

use super::code_lookup::CodeInfo;
use super::layout::VMStoreContext;
use super::stack_switching::continuation::ContinuationRecord;

/// `RegistryHeader::magic`: "SYWR".
pub const REGISTRY_MAGIC: u32 = u32::from_le_bytes(*b"SYWR");
/// Layout version; bumped on any incompatible change.
pub const REGISTRY_VERSION: u32 = 1;

/// The root, found through the `switchyard_registry` symbol.
#[repr(C)]
pub struct RegistryHeader {
    /// [`REGISTRY_MAGIC`].
    pub magic: u32,
    /// [`REGISTRY_VERSION`].
    pub version: u32,
    /// Size of this header.
    pub header_size: u32,
    /// Size of a continuation stack record.
    pub record_size: u32,
    /// Size of a store descriptor.
    pub store_size: u32,
    /// Size of a code map entry.
    pub code_entry_size: u32,
    /// Odd while a structural update is in progress.
    pub generation: u64,
    /// First store descriptor (a linked list).
    pub stores: *mut StoreDescriptor,
    /// First code map entry (a linked list).
    pub code: *mut CodeEntry,
    /// Code range of the continuation entry trampoline: a return address in
    /// it marks the bottom frame of a continuation stack.
    pub trampoline_start: usize,
    /// End of that range.
    pub trampoline_end: usize,
    /// Code range of the host entry routine: a return address in it marks
    /// the last Wasm frame above the host frames that entered Wasm.
    pub entry_start: usize,
    /// End of that range.
    pub entry_end: usize,
}

/// One store: its context (which names the running continuation) and the
/// records of every continuation stack it ever mapped.
#[repr(C)]
pub struct StoreDescriptor {
    /// Next store.
    pub next: *mut StoreDescriptor,
    /// The store's context; `current_cont` is the running continuation.
    pub context: *const VMStoreContext,
    /// Array of record addresses (`*const ContinuationRecord`), live or
    /// free: a record's `state` says which.
    pub records: *const usize,
    /// Number of entries in `records`.
    pub record_count: u64,
    /// The innermost host entry into Wasm (`HostEntry`), 0 when no Wasm
    /// code runs.
    pub host_entry: usize,
}

/// One compiled module's code.
#[repr(C)]
pub struct CodeEntry {
    /// Next entry.
    pub next: *mut CodeEntry,
    /// First byte of code.
    pub code_start: usize,
    /// One past the last byte of code.
    pub code_end: usize,
    /// UTF-8 module name.
    pub name: *const u8,
    /// Its length.
    pub name_len: u64,
    /// Array of `FunctionEntry`, sorted by address.
    pub functions: *const FunctionEntry,
    /// Number of functions.
    pub function_count: u64,
    /// The module's binary (name section, DWARF).
    pub module_bytes: *const u8,
    /// Its length.
    pub module_len: u64,
    /// Array of `(code offset, module offset)` pairs of `u32`, sorted: the
    /// native code from each code offset (from `code_start`) on belongs to
    /// the Wasm instruction at that byte offset of the module.
    pub source_map: *const [u32; 2],
    /// Number of pairs.
    pub source_map_len: u64,
    /// The code's `.eh_frame` (CFI of every function, absolute addresses),
    /// or null; unwinders that do not go through libgcc read it here.
    pub eh_frame: *const u8,
    /// Its length in bytes.
    pub eh_frame_len: u64,
}

/// One function of a code map entry.
#[repr(C)]
pub struct FunctionEntry {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Function index in the module.
    pub index: u32,
    /// Length of `name`.
    pub name_len: u32,
    /// UTF-8 name (name section, export name, or `wasm-function[N]`).
    pub name: *const u8,
}

/// Wrapper making the header a `Sync` static that other processes read.
#[repr(transparent)]
pub struct Registry(UnsafeCell<RegistryHeader>);

// SAFETY: every write happens under WRITER; readers in this process go
// through `with_registry`, which takes the same lock.
unsafe impl Sync for Registry {}

/// The registry. Exported unmangled so that gdb, `switchyard bt` and core
/// file readers can find it by name.
#[unsafe(no_mangle)]
#[used]
pub static switchyard_registry: Registry = Registry(UnsafeCell::new(RegistryHeader {
    magic: REGISTRY_MAGIC,
    version: REGISTRY_VERSION,
    header_size: std::mem::size_of::<RegistryHeader>() as u32,
    record_size: std::mem::size_of::<ContinuationRecord>() as u32,
    store_size: std::mem::size_of::<StoreDescriptor>() as u32,
    code_entry_size: std::mem::size_of::<CodeEntry>() as u32,
    generation: 0,
    stores: std::ptr::null_mut(),
    code: std::ptr::null_mut(),
    trampoline_start: 0,
    trampoline_end: 0,
    entry_start: 0,
    entry_end: 0,
}));

static WRITER: Mutex<()> = Mutex::new(());

/// Runs a structural update of the registry.
fn update<R>(f: impl FnOnce(&mut RegistryHeader) -> R) -> R {
    let _guard = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: WRITER serializes all access from this process.
    let header = unsafe { &mut *switchyard_registry.0.get() };
    header.generation = header.generation.wrapping_add(1);
    let r = f(header);
    header.generation = header.generation.wrapping_add(1);
    r
}

/// Reads the registry under the writers' lock (for in-process readers).
pub fn with_registry<R>(f: impl FnOnce(&RegistryHeader) -> R) -> R {
    let _guard = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: WRITER is held, so nothing changes the header meanwhile.
    f(unsafe { &*switchyard_registry.0.get() })
}

/// Adds a store; the descriptor stays valid until [`remove_store`].
pub(crate) fn add_store(desc: *mut StoreDescriptor) {
    update(|h| {
        if h.trampoline_start == 0 {
            let (t0, t1) = super::stack_switching::continuation::trampoline_range();
            let (e0, e1) = super::entry::entry_range();
            (h.trampoline_start, h.trampoline_end) = (t0, t1);
            (h.entry_start, h.entry_end) = (e0, e1);
        }
        // SAFETY: the caller hands us a descriptor it keeps alive.
        unsafe { (*desc).next = h.stores };
        h.stores = desc;
    });
}

/// Removes a store added with [`add_store`].
pub(crate) fn remove_store(desc: *mut StoreDescriptor) {
    update(|h| {
        let mut link: *mut *mut StoreDescriptor = &mut h.stores;
        // SAFETY: the list holds live descriptors only.
        unsafe {
            while !(*link).is_null() {
                if *link == desc {
                    *link = (*desc).next;
                    break;
                }
                link = &mut (**link).next;
            }
        }
    });
}

/// Publishes a store's current array of record addresses.
pub(crate) fn set_records(desc: *mut StoreDescriptor, records: &[usize]) {
    update(|_| {
        // SAFETY: a live descriptor of ours.
        unsafe {
            (*desc).records = records.as_ptr();
            (*desc).record_count = records.len() as u64;
        }
    });
}

/// A module's code map entry, owning what it points to.
pub struct CodeRegistration {
    entry: Box<CodeEntry>,
    _functions: Vec<FunctionEntry>,
    _names: Vec<std::sync::Arc<str>>,
}

// SAFETY: the raw pointers point into data this value owns (or the module
// bytes and the `.eh_frame`, which outlive it).
unsafe impl Send for CodeRegistration {}
// SAFETY: as above; nothing is mutated through shared references.
unsafe impl Sync for CodeRegistration {}

/// Adds a module's code.
pub fn add_code(info: &CodeInfo, module_bytes: &[u8], eh_frame: &[u8]) -> CodeRegistration {
    let mut names: Vec<std::sync::Arc<str>> = Vec::new();
    let mut functions = Vec::new();
    for (&(start, end, index), name) in info.functions.iter().zip(&info.function_names) {
        names.push(name.clone());
        let name = names.last().expect("pushed");
        functions.push(FunctionEntry {
            start: info.start + start as usize,
            end: info.start + end as usize,
            index,
            name_len: name.len() as u32,
            name: name.as_ptr(),
        });
    }
    let mut entry = Box::new(CodeEntry {
        next: std::ptr::null_mut(),
        code_start: info.start,
        code_end: info.end,
        name: info.module_name.as_ptr(),
        name_len: info.module_name.len() as u64,
        functions: functions.as_ptr(),
        function_count: functions.len() as u64,
        module_bytes: module_bytes.as_ptr(),
        module_len: module_bytes.len() as u64,
        source_map: info.source_map.as_ptr(),
        source_map_len: info.source_map.len() as u64,
        eh_frame: if eh_frame.is_empty() {
            std::ptr::null()
        } else {
            eh_frame.as_ptr()
        },
        eh_frame_len: eh_frame.len() as u64,
    });
    let ptr: *mut CodeEntry = &mut *entry;
    update(|h| {
        entry.next = h.code;
        h.code = ptr;
    });
    CodeRegistration {
        entry,
        _functions: functions,
        _names: names,
    }
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        let me: *mut CodeEntry = &mut *self.entry;
        update(|h| {
            let mut link: *mut *mut CodeEntry = &mut h.code;
            // SAFETY: the list holds live entries only.
            unsafe {
                while !(*link).is_null() {
                    if *link == me {
                        *link = (*me).next;
                        break;
                    }
                    link = &mut (**link).next;
                }
            }
        });
    }
}
