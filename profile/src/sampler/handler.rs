//! The `SIGPROF` handler: one sample of the interrupted thread's
//! frame-pointer chain, across continuation stacks, into the buffer.
//!
//! The handler allocates nothing and takes no lock. It reads only:
//! - the registry of live stacks, through its layout (the
//!   `switchyard-registry-layout` crate's offsets), to find the chain of running continuations and their stack
//!   bounds; a structural update in progress (odd generation) drops the
//!   sample;
//! - frame records `[fp, fp + 16)` that lie inside a known stack: the
//!   sampled thread's own stack or a stack of the running chain. A frame
//!   pointer anywhere else ends the walk.
//!
//! Because every continuation's bottom frame (the entry trampoline) has as
//! its frame record the resumer's `{fp, pc}`, one frame-pointer walk goes
//! from the innermost continuation through every resume site to the host.
//!
//! A frame-pointer walk loses the caller of a function interrupted before
//! its frame is set up (`push rbp; mov rbp, rsp`) or after it is taken down
//! (at its `ret`): the frame pointer is still, or again, the caller's. For
//! generated code, whose prologue and epilogue Cranelift always writes that
//! way, the handler finds the function in the registry's code map and
//! takes that return address from the stack instead.

use std::sync::atomic::Ordering;

use switchyard_registry_layout::offsets::{
    code, funcref, function, header, record, store, store_context,
};
use switchyard_registry_layout::{CREATION_FRAMES, RECORD_MAGIC};

use super::{FLAG_CREATION, FLAG_CUT, MAX_CHAIN, SAMPLE_HEADER_WORDS, STATE, monotonic_ns};

/// At most this many stores are looked at.
const MAX_STORES: usize = 64;

/// Reads a word of registry memory.
///
/// # Safety
/// `addr` must point at a live, readable part of the registry structures.
unsafe fn read(addr: u64) -> u64 {
    // SAFETY: as the caller promises.
    unsafe { std::ptr::read_volatile(addr as *const u64) }
}

/// Reads the word at `offset` (one of the layout's offsets) of the
/// structure at `base`.
///
/// # Safety
/// As for [`read`], at `base + offset`.
unsafe fn field(base: u64, offset: usize) -> u64 {
    // SAFETY: as the caller promises.
    unsafe { read(base + offset as u64) }
}

/// One continuation of the running chain.
#[derive(Clone, Copy, Default)]
struct Link {
    record: u64,
    id: u64,
    entry_code: u64,
    low: u64,
    high: u64,
    switches: u64,
}

/// Reads the chain of running continuations (innermost first) of the
/// store whose innermost running stack contains `sp`, into `chain`.
/// Returns the number of links, or `None` if the registry was changing.
///
/// # Safety
/// `registry` must be the address of this process's registry header.
unsafe fn running_chain(registry: u64, sp: u64, chain: &mut [Link; MAX_CHAIN]) -> Option<usize> {
    // SAFETY (all reads below): the header is a static; while its
    // generation is even and unchanged, the store list, the contexts and
    // the records it leads to are live (they change only under the
    // runtime's lock, which bumps the generation around every change, and
    // a record's stack is mapped as long as its store lives). A record is
    // only trusted after its magic is checked.
    unsafe {
        let generation = field(registry, header::GENERATION);
        if generation % 2 == 1 {
            return None;
        }
        let mut store = field(registry, header::STORES);
        let mut n = 0;
        for _ in 0..MAX_STORES {
            if store == 0 {
                break;
            }
            let context = field(store, store::CONTEXT);
            let mut record = if context != 0 {
                field(context, store_context::CURRENT_CONT)
            } else {
                0
            };
            n = 0;
            while record != 0 && record % 8 == 0 && n < MAX_CHAIN {
                // The magic and the state share the record's first word.
                if field(record, record::MAGIC) as u32 != RECORD_MAGIC {
                    break;
                }
                let entry_func = field(record, record::ENTRY_FUNC);
                chain[n] = Link {
                    record,
                    id: field(record, record::ID),
                    entry_code: if entry_func != 0 && entry_func.is_multiple_of(8) {
                        field(entry_func, funcref::CODE)
                    } else {
                        0
                    },
                    low: field(record, record::STACK_LOW),
                    high: field(record, record::STACK_HIGH),
                    switches: field(record, record::RESUMES)
                        .wrapping_add(field(record, record::SWITCHES)),
                };
                n += 1;
                record = field(record, record::PARENT_RECORD);
            }
            if n > 0 && sp >= chain[0].low && sp < chain[0].high {
                break;
            }
            n = 0;
            store = field(store, store::NEXT);
        }
        (field(registry, header::GENERATION) == generation).then_some(n)
    }
}

/// The opcodes of `ret` and of `ret imm16` (callee-popped arguments).
const RET: [u8; 2] = [0xc3, 0xc2];
/// At most this many modules are looked at.
const MAX_MODULES: usize = 256;

/// Where the return address of the generated function interrupted at `pc`
/// lies above the stack pointer when its frame pointer is not its own:
/// 0 at its first instruction (`push rbp`) and at a `ret`, 8 after the
/// `push rbp`. `None` when `pc` is not in generated code, the frame is
/// set up, or the registry was changing.
///
/// # Safety
/// `registry` must be the address of this process's registry header.
unsafe fn unframed_return_slot(registry: u64, pc: u64) -> Option<u64> {
    // SAFETY (all reads below): while the generation is even and
    // unchanged, the code list and its function arrays are live, and the
    // code of a listed module is mapped, so the byte at `pc` inside it
    // can be read.
    unsafe {
        let generation = field(registry, header::GENERATION);
        if generation % 2 == 1 {
            return None;
        }
        let mut entry = field(registry, header::CODE);
        let mut slot = None;
        for _ in 0..MAX_MODULES {
            if entry == 0 || !entry.is_multiple_of(8) {
                break;
            }
            if pc >= field(entry, code::CODE_START) && pc < field(entry, code::CODE_END) {
                let functions = field(entry, code::FUNCTIONS);
                let count = field(entry, code::FUNCTION_COUNT);
                // The last function starting at or before `pc`.
                let (mut low, mut high) = (0, count);
                while low < high {
                    let mid = low + (high - low) / 2;
                    if field(functions + mid * function::SIZE as u64, function::START) <= pc {
                        low = mid + 1;
                    } else {
                        high = mid;
                    }
                }
                if low > 0 {
                    let f = functions + (low - 1) * function::SIZE as u64;
                    let start = field(f, function::START);
                    if pc < field(f, function::END) {
                        slot = if pc == start {
                            Some(0)
                        } else if pc == start + 1 {
                            Some(8)
                        } else if RET.contains(&std::ptr::read_volatile(pc as *const u8)) {
                            Some(0)
                        } else {
                            None
                        };
                    }
                }
                break;
            }
            entry = field(entry, code::NEXT);
        }
        (field(registry, header::GENERATION) == generation).then_some(slot?)
    }
}

pub(super) extern "C" fn on_sigprof(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    let state = STATE.load(Ordering::Acquire);
    if state.is_null() || context.is_null() {
        return;
    }
    // SAFETY: STATE points at the sampler's state until `stop` or drop
    // clears it; the owning thread clears it before freeing the state, and
    // a handler running on another thread only touches counters.
    let state = unsafe { &*state };
    let entered = monotonic_ns();
    // SAFETY: gettid has no preconditions.
    if unsafe { libc::gettid() } != state.tid {
        state.other_thread.fetch_add(1, Ordering::Relaxed);
        return;
    }
    // SAFETY: with SA_SIGINFO the third argument is the interrupted
    // thread's ucontext_t.
    let (pc, mut fp, sp) = unsafe {
        let uc = &*(context as *const libc::ucontext_t);
        let g = &uc.uc_mcontext.gregs;
        (
            g[libc::REG_RIP as usize] as u64,
            g[libc::REG_RBP as usize] as u64,
            g[libc::REG_RSP as usize] as u64,
        )
    };
    let mut chain = [Link::default(); MAX_CHAIN];
    // SAFETY: `registry` is this process's registry header.
    let Some(links) = (unsafe { running_chain(state.registry, sp, &mut chain) }) else {
        state.dropped_busy.fetch_add(1, Ordering::Relaxed);
        return;
    };
    let chain = &chain[..links];
    let inside = |addr: u64, (low, high): (u64, u64)| {
        addr.is_multiple_of(8) && addr >= low && addr.saturating_add(16) <= high
    };
    let on_host_stack = |addr: u64| inside(addr, state.stack);
    let known =
        |addr: u64| on_host_stack(addr) || chain.iter().any(|l| inside(addr, (l.low, l.high)));

    let start = state.len.load(Ordering::Relaxed);
    let room = state.capacity - start;
    // Room for the deepest sample, so that a nearly full buffer drops
    // samples rather than keeping cut ones.
    let most = SAMPLE_HEADER_WORDS + state.max_depth + 2 * links + CREATION_FRAMES;
    if room < most {
        state.dropped_full.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let frames_room = state.max_depth;
    // SAFETY: every write below is at an index in [start, start + room),
    // inside the buffer; only this handler writes there, and the owner
    // reads only below `len`, which is published after the writes.
    let buffer = unsafe { std::slice::from_raw_parts_mut(state.buffer.add(start), room) };
    let frames = &mut buffer[SAMPLE_HEADER_WORDS..];
    frames[0] = pc;
    let mut n = 1;
    // SAFETY: `registry` is this process's registry header.
    if let Some(offset) = unsafe { unframed_return_slot(state.registry, pc) }
        && known(sp + offset)
        && n < frames_room
    {
        // SAFETY: `[sp + offset, +16)` lies inside a live stack.
        let ret = unsafe { read(sp + offset) };
        if ret != 0 {
            frames[n] = ret;
            n += 1;
        }
    }
    let mut flags = 0;
    // Host code without frame pointers (libc's start routine) ends every
    // walk on the host stack with a stray value: that is the normal end.
    // Leaving a continuation stack for nowhere is not.
    let mut last_on_host = on_host_stack(sp);
    loop {
        // The thread's outermost frame has a null frame pointer.
        if fp == 0 {
            break;
        }
        if !known(fp) {
            if !last_on_host {
                flags |= FLAG_CUT;
            }
            break;
        }
        last_on_host = on_host_stack(fp);
        // SAFETY: `[fp, fp + 16)` lies inside a live stack (checked by
        // `known`), which is mapped and readable.
        let (next, ret) = unsafe { (read(fp), read(fp + 8)) };
        if ret == 0 {
            break;
        }
        if n == frames_room {
            state.cut_depth.fetch_add(1, Ordering::Relaxed);
            break;
        }
        frames[n] = ret;
        n += 1;
        fp = next;
    }
    for (i, l) in chain.iter().enumerate() {
        frames[n + 2 * i] = l.id;
        frames[n + 2 * i + 1] = l.entry_code;
    }
    let mut words = n + 2 * links;
    // The innermost continuation's creation site, once per run of samples
    // in it: its record may be reused by the time the profile is read.
    if let Some(inner) = chain.first()
        && inner.id != state.last_creation.load(Ordering::Relaxed)
    {
        for k in 0..CREATION_FRAMES {
            // SAFETY: `inner.record` is a live record (its magic was
            // checked under an unchanged registry generation), and its
            // `creation` array lies inside it.
            frames[words + k] = unsafe { field(inner.record, record::CREATION + 8 * k) };
        }
        words += CREATION_FRAMES;
        flags |= FLAG_CREATION;
        state.last_creation.store(inner.id, Ordering::Relaxed);
    }
    buffer[0] = n as u64 | (links as u64) << 32;
    buffer[1] = entered;
    buffer[2] = chain.first().map_or(0, |l| l.switches);
    buffer[3] = flags;
    state
        .len
        .store(start + SAMPLE_HEADER_WORDS + words, Ordering::Release);
    state.taken.fetch_add(1, Ordering::Relaxed);
    state
        .handler_ns
        .fetch_add(monotonic_ns() - entered, Ordering::Relaxed);
}
