//! `--switching=libcall`: `resume`, `suspend` and `switch` performed by
//! calls into the host, which switch stacks there (how engines prototyped
//! stack switching before generating the switch inline). Generated code
//! only marshals values through a buffer in its frame.
//!
//! These routines follow the same protocol as the inline code of
//! `compile/stack_switching/native.rs` (records, contexts, payload words),
//! so the two modes differ only in where the work happens; every switch
//! passes through [`observe`].

use std::sync::atomic::{AtomicU64, Ordering};

use super::continuation::{
    self, ContinuationRecord, ControlContext, contref, payload, state, switchyard_host_stack_switch,
};
use crate::vm::events::{self, SwitchEventKind, who};
use crate::vm::layout::VMStoreContext;

/// Switches performed in libcall mode since the process started.
pub static SWITCHES: AtomicU64 = AtomicU64::new(0);

/// The point every libcall-mode switch passes through.
fn observe() {
    SWITCHES.fetch_add(1, Ordering::Relaxed);
}

/// Status codes returned to generated code, which raises the trap.
pub mod status {
    /// A null reference.
    pub const NULL: u64 = 1;
    /// A reference already consumed.
    pub const CONSUMED: u64 = 2;
    /// No handler for the tag.
    pub const UNHANDLED: u64 = 3;
    /// An exception is to be raised by the caller: `resume_throw` of a
    /// continuation that never ran, or this continuation was resumed by a
    /// `resume_throw` (the exception is then in the buffer's first slot).
    pub const THROW: u64 = 4;
}

unsafe fn store_ctx<'a>(vmctx: *mut u8) -> &'a mut VMStoreContext {
    // SAFETY: slot 0 of a live VMContext is its store context.
    unsafe { &mut **(vmctx as *mut *mut VMStoreContext) }
}

/// Takes a continuation reference: the record, or a status.
unsafe fn take(r: u64) -> Result<*mut ContinuationRecord, u64> {
    if r == 0 {
        return Err(status::NULL);
    }
    let record = contref::record(r) as *mut ContinuationRecord;
    // SAFETY: a non-null reference made by this engine names a record.
    unsafe {
        if (*record).generation & contref::GENERATION_MASK != r >> contref::ADDRESS_BITS {
            return Err(status::CONSUMED);
        }
        (*record).generation += 1;
    }
    Ok(record)
}

fn make_ref(record: *const ContinuationRecord) -> u64 {
    // SAFETY: a live record.
    contref::encode(record as usize, unsafe { (*record).generation })
}

unsafe fn find(ctx: &VMStoreContext, tag: usize) -> Option<(*mut ContinuationRecord, u64)> {
    let mut record = ctx.current_cont as *mut ContinuationRecord;
    // SAFETY: the chain of running records and their handler tables are
    // live while their resumes are active.
    unsafe {
        while !record.is_null() {
            let table = (*record).handlers as *const usize;
            for i in 0..(*record).handlers_len as usize {
                if *table.add(i) == tag {
                    return Some((record, i as u64));
                }
            }
            record = (*record).parent_record as *mut ContinuationRecord;
        }
    }
    None
}

/// `resume`: `values` holds the arguments on entry; on return it holds the
/// results, or the tag's values after a suspension. Returns the payload
/// word (record | kind), or a status (< 16) for generated code to trap on.
pub unsafe extern "sysv64" fn resume(
    vmctx: *mut u8,
    r: u64,
    values: *mut u64,
    nargs: u64,
    handlers: usize,
    nhandlers: u64,
    cap: u64,
    exn: u64,
) -> u64 {
    // SAFETY: called from generated code with its own buffers.
    unsafe {
        let ctx = store_ctx(vmctx);
        let record = match take(r) {
            Ok(rec) => rec,
            Err(status) => return status,
        };
        let rec = &mut *record;
        if exn != 0 && rec.state == state::FRESH {
            super::store_continuations::release(ctx, record, state::RETURNED);
            return status::THROW;
        }
        if events::active() {
            let (id, code) = who(record as usize);
            let (resumer, _) = who(ctx.current_cont);
            let kind = SwitchEventKind::Resume { throw: exn != 0 };
            events::emit(kind, id, resumer, code, None, ctx.current_cont as u64);
        }
        // Consumed: a running continuation has none bound.
        let base = std::mem::take(&mut rec.bound) as usize;
        for i in 0..nargs as usize {
            rec.args[base + i] = *values.add(i);
        }
        let ancestor = &mut *(rec.last_ancestor as *mut ContinuationRecord);
        let resumer = ctx.current_cont;
        ancestor.parent_record = resumer;
        ancestor.handlers = handlers;
        ancestor.handlers_len = nhandlers;
        rec.state = state::RUNNING;
        rec.resumes += 1;
        ctx.current_cont = record as usize;
        let old_limit = ctx.stack_limit;
        ctx.stack_limit = rec.stack_limit;
        observe();
        let own = rec.own;
        let word = switchyard_host_stack_switch(&mut ancestor.parent, &own, exn as usize) as u64;
        let ctx = store_ctx(vmctx);
        ctx.current_cont = resumer;
        ctx.stack_limit = old_limit;
        let involved = &mut *((word & !payload::KIND_MASK) as *mut ContinuationRecord);
        let cap = cap as usize;
        let watched = events::active().then(|| who(involved as *mut _ as usize));
        if word & payload::KIND_MASK == payload::RETURNED {
            for i in 0..cap {
                *values.add(i) = involved.args[i];
            }
            super::store_continuations::release(ctx, involved, state::RETURNED);
            if let Some((id, code)) = watched {
                events::emit(SwitchEventKind::Return, id, 0, code, None, resumer as u64);
            }
        } else if word & payload::KIND_MASK == payload::EXCEPTION {
            // It died of an exception (already released): generated code
            // rethrows it.
            *values = involved.args[0];
            if let Some((id, code)) = watched {
                events::emit(SwitchEventKind::Throw, id, 0, code, None, resumer as u64);
            }
        } else {
            let chain_top = &mut *(involved.last_ancestor as *mut ContinuationRecord);
            chain_top.parent.pc = 0;
            for i in 0..cap {
                *values.add(i) = involved.args[i];
            }
            // The reference to the suspended continuation goes in the slot
            // after the buffer's capacity.
            *values.add(cap) = make_ref(involved);
            if let Some((id, code)) = watched {
                let tag = events::tag_name(vmctx, involved.last_tag);
                events::emit(SwitchEventKind::Suspend, id, 0, code, tag, resumer as u64);
            }
        }
        word
    }
}

/// `suspend`: `values` holds the tag's parameters on entry and the values
/// the continuation is resumed with on return. Returns a status (0: ok).
pub unsafe extern "sysv64" fn suspend(
    vmctx: *mut u8,
    tag: usize,
    values: *mut u64,
    nvalues: u64,
    cap: u64,
) -> u64 {
    // SAFETY: called from generated code with its own buffer.
    unsafe {
        let ctx = store_ctx(vmctx);
        let Some((handler, clause)) = find(ctx, tag) else {
            ctx.unhandled_tag = tag;
            return status::UNHANDLED;
        };
        let me = &mut *(ctx.current_cont as *mut ContinuationRecord);
        for i in 0..nvalues as usize {
            me.args[i] = *values.add(i);
        }
        me.last_ancestor = handler as usize;
        me.last_tag = tag;
        me.state = state::SUSPENDED;
        ctx.suspend_clause = clause;
        continuation::note_caught(me, &*handler);
        observe();
        let parent = (*handler).parent;
        let received = switchyard_host_stack_switch(
            &mut me.own,
            &parent,
            me as *mut _ as usize | payload::SUSPENDED as usize,
        );
        if received != 0 {
            *values = received as u64;
            return status::THROW;
        }
        for i in 0..cap as usize {
            *values.add(i) = me.args[i];
        }
        0
    }
}

/// `switch`: `values` holds the values for the target on entry (its last
/// slot is filled with the reference to the switcher) and the values this
/// continuation receives on return. Returns a status (0: ok).
pub unsafe extern "sysv64" fn switch(
    vmctx: *mut u8,
    target_ref: u64,
    tag: usize,
    values: *mut u64,
    nvalues: u64,
    cap: u64,
) -> u64 {
    // SAFETY: called from generated code with its own buffer.
    unsafe {
        let ctx = store_ctx(vmctx);
        let target = match take(target_ref) {
            Ok(t) => t,
            Err(status) => return status,
        };
        let Some((handler, _)) = find(ctx, tag | 1) else {
            ctx.unhandled_tag = tag;
            return status::UNHANDLED;
        };
        if events::active() {
            let (id, code) = who(ctx.current_cont);
            let (to, _) = who(target as usize);
            let name = events::tag_name(vmctx, tag);
            let kind = SwitchEventKind::Switch;
            events::emit(kind, id, to, code, name, ctx.current_cont as u64);
        }
        let me = &mut *(ctx.current_cont as *mut ContinuationRecord);
        me.last_ancestor = handler as usize;
        me.last_tag = tag;
        me.state = state::SUSPENDED;
        me.switches += 1;
        let my_ref = make_ref(me);
        let t = &mut *target;
        // Consumed: a running continuation has none bound.
        let base = std::mem::take(&mut t.bound) as usize;
        for i in 0..nvalues as usize {
            t.args[base + i] = *values.add(i);
        }
        t.args[base + nvalues as usize] = my_ref;
        let outer = &mut *(t.last_ancestor as *mut ContinuationRecord);
        let h = &mut *handler;
        continuation::note_caught(me, h);
        outer.parent_record = h.parent_record;
        outer.handlers = h.handlers;
        outer.handlers_len = h.handlers_len;
        outer.parent = h.parent;
        h.parent = ControlContext { pc: 0, ..h.parent };
        t.state = state::RUNNING;
        t.switches += 1;
        ctx.current_cont = target as usize;
        ctx.stack_limit = t.stack_limit;
        observe();
        let own = t.own;
        let received = switchyard_host_stack_switch(&mut me.own, &own, 0);
        if received != 0 {
            *values = received as u64;
            return status::THROW;
        }
        for i in 0..cap as usize {
            *values.add(i) = me.args[i];
        }
        0
    }
}
