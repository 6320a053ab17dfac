//! A store's continuations: their stacks, ids, and what happens to them at
//! creation and after a trap.
//!
//! The hot paths (resume, suspend, return, release to the free list) run in
//! generated code; this module does what may allocate: mapping stacks.

use std::collections::HashMap;

use crate::error::TrapCode;
use crate::vm::backtrace::RawFrame;
use crate::vm::layout::VMStoreContext;
use crate::vm::stack_switching::continuation::{self, ContinuationRecord, contref, state};
use crate::vm::stack_switching::stack::ContinuationStack;

/// Stacks, record addresses and ids of one store's continuations.
pub struct StoreContinuations {
    stacks: Vec<ContinuationStack>,
    /// Every record ever made (live or free), for the registry.
    records: Vec<usize>,
    stack_size: usize,
    max_live: u64,
    next_id: u64,
    /// The store's registry descriptor, told about every new stack.
    descriptor: *mut crate::vm::registry::StoreDescriptor,
    /// `--trace-creation`: the logical stacks at creation, when on.
    creation_stacks: Option<CreationStacks>,
}

/// Most frames (return addresses) a creation stack keeps.
pub const CREATION_STACK_FRAMES: usize = 64;
// The note a cut stack ends with names the bound.
const _: () = assert!(CREATION_STACK_FRAMES == 64);

/// The whole logical stack at each `cont.new` (`Config::trace_creation`):
/// a side table beside the records, whose layout it leaves alone. One
/// entry per record, replaced when the record's stack is reused, so the
/// table holds at most one stack per continuation stack ever mapped, not
/// one per continuation ever made.
#[derive(Default)]
struct CreationStacks {
    /// By record address: the id of the continuation it was made for and
    /// its creation stack.
    by_record: HashMap<usize, (u64, Vec<RawFrame>)>,
    /// Record addresses by continuation id.
    by_id: HashMap<u64, usize>,
}

impl StoreContinuations {
    /// A runtime whose stacks have `stack_size` usable bytes, with at most
    /// `max_live` continuations alive at once; with `trace_creation`, it
    /// keeps the logical stack at every `cont.new`.
    pub fn new(stack_size: usize, max_live: usize, trace_creation: bool) -> StoreContinuations {
        StoreContinuations {
            creation_stacks: trace_creation.then(CreationStacks::default),
            stacks: Vec::new(),
            records: Vec::new(),
            stack_size,
            max_live: max_live as u64,
            next_id: 1,
            descriptor: std::ptr::null_mut(),
        }
    }

    /// Names the registry descriptor to keep up to date.
    pub fn set_descriptor(&mut self, descriptor: *mut crate::vm::registry::StoreDescriptor) {
        self.descriptor = descriptor;
        crate::vm::registry::set_records(descriptor, &self.records);
    }

    /// Every record made so far.
    pub fn records(&self) -> &[usize] {
        &self.records
    }

    /// Creates a fresh continuation of `funcref` whose stack starts in
    /// `body`; returns its reference. Called by `cont.new`'s host routine
    /// straight from generated code: the creation site it records starts
    /// two frames up (see [`creation_site`]).
    #[inline(never)]
    pub fn create(
        &mut self,
        ctx: &mut VMStoreContext,
        funcref: usize,
        body: usize,
    ) -> Result<u64, TrapCode> {
        if ctx.cont_live >= self.max_live {
            return Err(TrapCode::ContinuationLimit);
        }
        let record = loop {
            let free = ctx.cont_free as *mut ContinuationRecord;
            if free.is_null() {
                break self.map_stack(ctx, body)?;
            }
            // SAFETY: records on the free list are finished records of this
            // store, at the top of stacks this runtime owns.
            unsafe {
                ctx.cont_free = (*free).next_free;
                if (*free).generation + 1 >= contref::GENERATION_LIMIT {
                    // Retired: this stack's references have used every
                    // generation. It stays mapped (and unused) so that no
                    // later continuation gets its address.
                    continue;
                }
                continuation::reset_record(free, body);
            }
            break free;
        };
        // SAFETY: `record` is a fresh record of ours; the running
        // continuation's record, if any, is a live record of this store.
        let generation = unsafe {
            (*record).entry_func = funcref;
            (*record).id = self.next_id;
            (*record).created_by = match ctx.current_cont {
                0 => 0,
                running => (*(running as *const ContinuationRecord)).id,
            };
            (*record).created_at = crate::vm::registry::clock_now();
            (*record).creation = creation_site(ctx);
            (*record).generation
        };
        if let Some(table) = &mut self.creation_stacks {
            let frames = creation_stack(ctx);
            if let Some((old, _)) = table
                .by_record
                .insert(record as usize, (self.next_id, frames))
            {
                table.by_id.remove(&old);
            }
            table.by_id.insert(self.next_id, record as usize);
        }
        self.next_id += 1;
        ctx.cont_live += 1;
        let r = contref::encode(record as usize, generation);
        debug_assert_eq!(contref::record(r), record as usize);
        Ok(r)
    }

    /// The logical stack at the creation of continuation `id`, innermost
    /// first, if `trace_creation` is on and its stack was not reused since.
    pub fn creation_stack(&self, id: u64) -> Option<&[RawFrame]> {
        let table = self.creation_stacks.as_ref()?;
        let record = table.by_id.get(&id)?;
        Some(&table.by_record.get(record)?.1)
    }

    fn map_stack(
        &mut self,
        ctx: &mut VMStoreContext,
        body: usize,
    ) -> Result<*mut ContinuationRecord, TrapCode> {
        crate::vm::registry::start_clock();
        let stack = ContinuationStack::map_usable(self.stack_size)
            .map_err(|_| TrapCode::ContinuationLimit)?;
        // SAFETY: a new stack nothing else uses.
        let record = unsafe {
            continuation::init_record(
                stack.bottom(),
                stack.top(),
                body,
                ctx as *mut VMStoreContext as usize,
                stack.wasm_limit(),
                self.records.len() * 7,
            )
        };
        self.records.push(record as usize);
        self.stacks.push(stack);
        if !self.descriptor.is_null() {
            crate::vm::registry::set_records(self.descriptor, &self.records);
        }
        Ok(record)
    }

    /// Ends the continuations a trap cut short: every record from `current`
    /// up its chain of resumers to (not including) `stop`.
    pub fn abandon_chain(ctx: &mut VMStoreContext, stop: usize) {
        let mut current = ctx.current_cont;
        let mut guard = 0;
        while current != 0 && current != stop && guard < 1_000_000 {
            let record = current as *mut ContinuationRecord;
            // SAFETY: the chain of running continuations consists of live
            // records of this store.
            unsafe {
                current = (*record).parent_record;
                release(ctx, record, state::TRAPPED);
            }
            guard += 1;
        }
        ctx.current_cont = stop;
    }
}

/// The return addresses of the Wasm stack that executed `cont.new`,
/// innermost first: a frame-pointer walk from the caller of `cont.new`'s
/// host routine, which calls [`StoreContinuations::create`], which calls
/// this (none of the three inlined into the next, and all keep frame
/// pointers: the workspace builds with them forced). Stops at the bottom of
/// a continuation stack, at the host entry into Wasm, at a frame pointer
/// that does not grow or leaves the stack, and after `CREATION_FRAMES`
/// addresses. Always on: at most a dozen loads, next to the allocation
/// `cont.new` may do anyway.
#[inline(never)]
fn creation_site(ctx: &VMStoreContext) -> [usize; continuation::CREATION_FRAMES] {
    let mut pcs = [0; continuation::CREATION_FRAMES];
    let fp: usize;
    // SAFETY: reads the frame pointer register, nothing else.
    unsafe { std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack)) };
    // The stack it runs on: a continuation's (bounded by its record) or a
    // host stack (bounded by a generous span above this frame).
    let (low, high) = match ctx.current_cont {
        0 => (fp, fp.saturating_add(8 << 20)),
        // SAFETY: the running continuation's record is live.
        r => unsafe {
            let r = &*(r as *const ContinuationRecord);
            (r.stack_low, r.stack_high)
        },
    };
    let (trampoline_start, trampoline_end) = continuation::trampoline_range();
    let (entry_start, entry_end) = crate::vm::entry::entry_range();
    let mut fp = fp;
    let mut skip = 2; // into `create`, into the host routine
    let mut n = 0;
    for _ in 0..continuation::CREATION_FRAMES + 2 {
        if fp < low || fp.saturating_add(16) > high || !fp.is_multiple_of(8) {
            break;
        }
        // SAFETY: `fp` lies inside the stack this code runs on, below the
        // frames still active above it (checked just above), so both words
        // are mapped and are a frame record.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret == 0 || ret > trampoline_start && ret <= trampoline_end {
            break;
        }
        // Below the host entry lie the host's frames (which need not keep
        // frame pointers): nothing a creation site needs.
        if ret > entry_start && ret <= entry_end {
            break;
        }
        if skip > 0 {
            skip -= 1;
        } else {
            pcs[n] = ret;
            n += 1;
            if n == pcs.len() {
                break;
            }
        }
        if next <= fp {
            break;
        }
        fp = next;
    }
    pcs
}

/// The whole logical stack that executed `cont.new`, innermost first: the
/// frames of the stack it runs on, then, across each boundary, those of
/// the resume that runs that stack, down to the host entry (the walk of a
/// trap's backtrace, [`crate::vm::backtrace::walk`]). Starts at the first
/// frame in generated code (the host routines that lead here are left
/// out) and keeps at most [`CREATION_STACK_FRAMES`] return addresses,
/// ending with a note when it cut the stack there.
#[inline(never)]
fn creation_stack(ctx: &VMStoreContext) -> Vec<RawFrame> {
    let fp: usize;
    // SAFETY: reads the frame pointer register, nothing else.
    unsafe { std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack)) };
    let mut frames = Vec::new();
    let mut pcs = 0;
    let mut in_wasm = false;
    let mut push = |f: RawFrame| {
        if let RawFrame::Pc(pc) = f {
            // Before the first Wasm frame: this function, `create`, the
            // `cont.new` routine (the first entry is no return address).
            if !in_wasm {
                if pc == 0 || crate::vm::code_lookup::lookup(pc - 1).is_none() {
                    return true;
                }
                in_wasm = true;
            }
            if pcs == CREATION_STACK_FRAMES {
                frames.push(RawFrame::Truncated(
                    "cut at 64 frames (--trace-creation's bound)",
                ));
                return false;
            }
            pcs += 1;
        }
        frames.push(f);
        true
    };
    // SAFETY: runs on the thread executing the store's Wasm code, paused in
    // `cont.new`'s routine; `fp` is this function's frame, on the stack
    // that the routine runs on (the running continuation's or the host's),
    // and every frame from it outwards is still active.
    unsafe { crate::vm::backtrace::walk(ctx, 0, fp, fp, &mut push) };
    frames.shrink_to_fit();
    frames
}

/// Puts a finished continuation's record on the free list (what generated
/// code does inline after a return).
///
/// # Safety
/// `record` must be a live record of the store whose context is `ctx`.
pub unsafe fn release(ctx: &mut VMStoreContext, record: *mut ContinuationRecord, end: u32) {
    // SAFETY: see the function's contract.
    unsafe {
        (*record).state = end;
        (*record).generation += 1;
        (*record).parent.pc = 0;
        (*record).next_free = ctx.cont_free;
    }
    ctx.cont_free = record as usize;
    ctx.cont_live -= 1;
}
