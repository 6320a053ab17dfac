//! The registry of live stacks: one exported symbol, `switchyard_registry`,
//! from which a debugger, a profiler or another process finds every store,
//! every stack record and every compiled module, without Rust type
//! information. The layout is the `switchyard-registry-layout` crate's (documented
//! in docs/registry.md); this module is its writer.
//!
//! Writers (store creation, stack mapping, module loading) serialize on a
//! mutex and bump `generation` before and after each structural change
//! (odd while a change is in progress), so readers that race with the
//! process can retry. Per-stack fields that change on every switch (state,
//! contexts) live in the stack records themselves and are read as they are.

use std::cell::UnsafeCell;
use std::mem::offset_of;
use std::sync::Mutex;

pub use switchyard_registry_layout::{
    CodeEntry, FunctionEntry, REGISTRY_MAGIC, REGISTRY_VERSION, RegistryHeader, StoreDescriptor,
};
use switchyard_registry_layout::{ContinuationRecord, offsets};

use super::code_lookup::CodeInfo;
use super::layout::{VMFuncRef, VMStoreContext, VMTable};

// Generated code and the runtime use the engine's own types for the store
// context and funcrefs (they hold typed pointers); readers know them only
// through the registry's layout, so the two must agree.
const _: () = {
    use offsets::{funcref, store_context as sc};
    assert!(offset_of!(VMStoreContext, stack_limit) == sc::STACK_LIMIT);
    assert!(offset_of!(VMStoreContext, last_exit_fp) == sc::LAST_EXIT_FP);
    assert!(offset_of!(VMStoreContext, last_exit_pc) == sc::LAST_EXIT_PC);
    assert!(offset_of!(VMStoreContext, store) == sc::STORE);
    assert!(offset_of!(VMStoreContext, entry_jmpbuf) == sc::ENTRY_JMPBUF);
    assert!(offset_of!(VMStoreContext, current_cont) == sc::CURRENT_CONT);
    assert!(offset_of!(VMStoreContext, cont_free) == sc::CONT_FREE);
    assert!(offset_of!(VMStoreContext, cont_live) == sc::CONT_LIVE);
    assert!(offset_of!(VMFuncRef, code) == funcref::CODE);
    assert!(offset_of!(VMFuncRef, type_id) == funcref::TYPE_ID);
    assert!(offset_of!(VMFuncRef, vmctx) == funcref::VMCTX);
    assert!(size_of::<VMFuncRef>() == funcref::SIZE);
    assert!(offset_of!(VMTable, base) == offsets::table::BASE);
    assert!(offset_of!(VMTable, length) == offsets::table::LENGTH);
    assert!(size_of::<VMTable>() == offsets::table::SIZE);
};

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
    header_size: size_of::<RegistryHeader>() as u32,
    record_size: size_of::<ContinuationRecord>() as u32,
    store_size: size_of::<StoreDescriptor>() as u32,
    code_entry_size: size_of::<CodeEntry>() as u32,
    generation: 0,
    stores: 0,
    code: 0,
    trampoline_start: 0,
    trampoline_end: 0,
    entry_start: 0,
    entry_end: 0,
    clock: 0,
    clock_thread: 0,
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
        h.stores = desc as usize;
    });
}

/// Address of the header's coarse clock, which switches copy into the
/// record of the continuation they stop or start (one load, one store).
pub fn clock_address() -> usize {
    switchyard_registry.0.get() as usize + offsets::header::CLOCK
}

/// The coarse clock's current value (monotonic nanoseconds).
pub fn clock_now() -> u64 {
    clock_cell().load(std::sync::atomic::Ordering::Relaxed)
}

/// Starts, once, the thread that advances the coarse clock about once a
/// millisecond (the engine calls this when it maps the first continuation
/// stack: a program without continuations gets no thread).
///
/// A clock word that a thread keeps current costs a switch one load and one
/// store, where reading the time on every switch (rdtsc, a vDSO call) would
/// cost tens of cycles; a millisecond is fine enough to tell how long a
/// continuation has waited. The thread is a bare pthread, not a
/// `std::thread`: std runs spawn hooks named `run` in a new thread, where a
/// debugger's `break run` would stop.
pub fn start_clock() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        clock_cell().store(monotonic_ns(), std::sync::atomic::Ordering::Relaxed);
        extern "C" fn tick(_: *mut libc::c_void) -> *mut libc::c_void {
            // SAFETY: gettid has no preconditions.
            let tid = unsafe { libc::gettid() };
            let at = switchyard_registry.0.get() as usize + offsets::header::CLOCK_THREAD;
            // SAFETY: the aligned `clock_thread` word of the static header,
            // which lives as long as the program; written once, atomically,
            // here.
            let cell = unsafe { std::sync::atomic::AtomicU64::from_ptr(at as *mut u64) };
            cell.store(tid as u64, std::sync::atomic::Ordering::Relaxed);
            let millisecond = libc::timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000,
            };
            loop {
                // SAFETY: a valid timespec; a null remainder is allowed.
                unsafe { libc::nanosleep(&millisecond, std::ptr::null_mut()) };
                clock_cell().store(monotonic_ns(), std::sync::atomic::Ordering::Relaxed);
            }
        }
        let mut thread: libc::pthread_t = 0;
        // SAFETY: `tick` has the signature pthread_create expects and uses
        // only statics; default attributes; a detached thread that runs as
        // long as the process. Without it the clock stands still: waits
        // read as 0, nothing else changes.
        unsafe {
            if libc::pthread_create(&mut thread, std::ptr::null(), tick, std::ptr::null_mut()) == 0
            {
                libc::pthread_setname_np(
                    thread,
                    switchyard_registry_layout::CLOCK_THREAD_NAME.as_ptr(),
                );
                libc::pthread_detach(thread);
            }
        }
    });
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn clock_cell() -> &'static std::sync::atomic::AtomicU64 {
    // SAFETY: `clock_address` is the aligned `clock` word of the static
    // header, which lives as long as the program; it is only ever written
    // atomically (here) and read by plain loads of generated code.
    unsafe { std::sync::atomic::AtomicU64::from_ptr(clock_address() as *mut u64) }
}

/// Removes a store added with [`add_store`].
pub(crate) fn remove_store(desc: *mut StoreDescriptor) {
    update(|h| {
        let mut link: *mut usize = &mut h.stores;
        // SAFETY: the list holds live descriptors only.
        unsafe {
            while *link != 0 {
                if *link == desc as usize {
                    *link = (*desc).next;
                    break;
                }
                link = &mut (*(*link as *mut StoreDescriptor)).next;
            }
        }
    });
}

/// Publishes a store's current array of record addresses.
pub(crate) fn set_records(desc: *mut StoreDescriptor, records: &[usize]) {
    update(|_| {
        // SAFETY: a live descriptor of ours.
        unsafe {
            (*desc).records = records.as_ptr() as usize;
            (*desc).record_count = records.len() as u64;
        }
    });
}

/// A module's code map entry, owning what it points to.
pub struct CodeRegistration {
    entry: Box<CodeEntry>,
    _functions: Vec<FunctionEntry>,
    _names: Vec<std::sync::Arc<str>>,
    _traps: Vec<[u32; 2]>,
}

/// Adds a module's code; `vmctx_tables` is the offset of table 0's slot
/// in the VMContext of the module's instances.
pub fn add_code(
    info: &CodeInfo,
    module_bytes: &[u8],
    eh_frame: &[u8],
    vmctx_tables: u32,
) -> CodeRegistration {
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
            name: name.as_ptr() as usize,
        });
    }
    // The lookup table keeps a code byte per trap; the registry a `u32`
    // pair, so that readers index a plain array.
    let traps: Vec<[u32; 2]> = info
        .traps
        .iter()
        .map(|&(offset, code)| [offset, u32::from(code)])
        .collect();
    let mut entry = Box::new(CodeEntry {
        next: 0,
        code_start: info.start,
        code_end: info.end,
        name: info.module_name.as_ptr() as usize,
        name_len: info.module_name.len() as u64,
        functions: functions.as_ptr() as usize,
        function_count: functions.len() as u64,
        module_bytes: module_bytes.as_ptr() as usize,
        module_len: module_bytes.len() as u64,
        source_map: info.source_map.as_ptr() as usize,
        source_map_len: info.source_map.len() as u64,
        eh_frame: if eh_frame.is_empty() {
            0
        } else {
            eh_frame.as_ptr() as usize
        },
        eh_frame_len: eh_frame.len() as u64,
        traps: traps.as_ptr() as usize,
        trap_count: traps.len() as u64,
        vmctx_tables: u64::from(vmctx_tables),
    });
    let ptr: *mut CodeEntry = &mut *entry;
    update(|h| {
        entry.next = h.code;
        h.code = ptr as usize;
    });
    CodeRegistration {
        entry,
        _functions: functions,
        _names: names,
        _traps: traps,
    }
}

impl Drop for CodeRegistration {
    fn drop(&mut self) {
        let me: *mut CodeEntry = &mut *self.entry;
        update(|h| {
            let mut link: *mut usize = &mut h.code;
            // SAFETY: the list holds live entries only.
            unsafe {
                while *link != 0 {
                    if *link == me as usize {
                        *link = (*me).next;
                        break;
                    }
                    link = &mut (*(*link as *mut CodeEntry)).next;
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::error::TrapCode;

    /// The trap table's codes are the engine's trap code bytes, and the
    /// registry's names are the engine's messages.
    #[test]
    fn trap_codes_are_the_layouts() {
        for (code, name) in switchyard_registry_layout::trap::NAMES {
            let engine = TrapCode::from_byte(code as u8).expect("a trap code");
            assert_eq!(engine.to_string(), name);
            assert_eq!(u32::from(engine.to_byte()), code);
        }
        assert_eq!(
            TrapCode::from_byte(switchyard_registry_layout::trap::NAMES.len() as u8 + 1),
            None
        );
    }
}
