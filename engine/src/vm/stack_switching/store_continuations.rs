//! A store's continuations: their stacks, ids, and what happens to them at
//! creation and after a trap.
//!
//! The hot paths (resume, suspend, return, release to the free list) run in
//! generated code; this module does what may allocate: mapping stacks.

use crate::error::TrapCode;
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
}

impl StoreContinuations {
    /// A runtime whose stacks have `stack_size` usable bytes, with at most
    /// `max_live` continuations alive at once.
    pub fn new(stack_size: usize, max_live: usize) -> StoreContinuations {
        StoreContinuations {
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
        self.next_id += 1;
        ctx.cont_live += 1;
        let r = contref::encode(record as usize, generation);
        debug_assert_eq!(contref::record(r), record as usize);
        Ok(r)
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
