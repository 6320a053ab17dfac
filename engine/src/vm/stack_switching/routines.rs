//! Host routines that generated code calls: making a continuation
//! (`cont.new`, which may map a stack, both modes) and handler search for
//! a tag that native code found no handler for (it records the tag for
//! the trap message; `compile/stack_switching/search.rs` does the search
//! itself).

use super::continuation::ContinuationRecord;
use crate::vm::layout::VMStoreContext;

/// `cont.new`: a fresh continuation of the non-null `funcref` whose stack
/// starts in `body`, or 0 when no more continuations can be made.
pub unsafe extern "sysv64" fn cont_new(vmctx: *mut u8, funcref: usize, body: usize) -> u64 {
    // SAFETY: slot 0 of a live VMContext is its store context, whose
    // `conts` points at the store's continuation runtime.
    unsafe {
        let ctx = &mut **(vmctx as *mut *mut VMStoreContext);
        let conts = &mut *ctx.conts;
        conts.create(ctx, funcref, body).unwrap_or(0)
    }
}

/// Handler search for `suspend`: walks the chain of running continuations
/// from the innermost outwards and returns the record whose resumer handles
/// `tag` and the clause index there, as `record | clause << 48`; 0 when no
/// handler exists (the tag is then kept for the trap message).
pub unsafe extern "sysv64" fn find_handler(vmctx: *mut u8, tag: usize) -> u64 {
    // SAFETY: slot 0 of a live VMContext is its store context; the chain of
    // running continuations consists of live records whose handler tables
    // live in the frames of resumes that are still active.
    unsafe {
        let ctx = &mut **(vmctx as *mut *mut VMStoreContext);
        let mut record = ctx.current_cont as *const ContinuationRecord;
        while !record.is_null() {
            let table = (*record).handlers as *const usize;
            for i in 0..(*record).handlers_len as usize {
                if *table.add(i) == tag {
                    return record as u64 | (i as u64) << 48;
                }
            }
            record = (*record).parent_record as *const ContinuationRecord;
        }
        ctx.unhandled_tag = tag;
        0
    }
}
