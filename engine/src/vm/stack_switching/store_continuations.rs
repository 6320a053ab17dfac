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
    /// `body`; returns its reference.
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
        // SAFETY: `record` is a fresh record of ours.
        let generation = unsafe {
            (*record).entry_func = funcref;
            (*record).id = self.next_id;
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
