//! Capturing the logical backtrace at a trap, from inside the signal
//! handler (or a libcall), before control leaves Wasm and the frames are
//! gone.
//!
//! This only records return addresses and stack boundaries into a buffer
//! allocated beforehand: no allocation, no locks, and every memory read is
//! checked against the bounds of the stack it belongs to, so a corrupt frame
//! chain ends the walk instead of faulting. Naming frames happens later.

use std::cell::UnsafeCell;

use super::entry;
use super::layout::VMStoreContext;
use super::stack_switching::continuation::{
    ContinuationRecord, RECORD_MAGIC, switchyard_continuation_start,
};

/// Most frames a trap backtrace keeps.
pub const MAX_FRAMES: usize = 512;

/// One entry of a raw backtrace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawFrame {
    /// A program counter (the faulting pc first, then return addresses).
    Pc(usize),
    /// The walk crossed from a continuation into its resumer.
    Resumed {
        /// The continuation's id.
        id: u64,
        /// Its `VMFuncRef`.
        entry_func: usize,
        /// The `VMTag`s of the resume's handler clauses (the low bit marks
        /// a switch clause), the first `handlers_len` of them.
        handlers: [usize; 4],
        /// Number of handler clauses (may exceed 4).
        handlers_len: u64,
    },
    /// The walk reached the host frames that entered Wasm.
    HostEntry,
    /// This many frames were walked but not kept (the buffer keeps room for
    /// the stack boundaries of a deep recursion's chain).
    Skipped(usize),
    /// The walk stopped early, and why (a static text: the capture must
    /// not allocate).
    Truncated(&'static str),
}

struct Buffer {
    frames: [RawFrame; MAX_FRAMES],
    len: usize,
}

thread_local! {
    static BUFFER: UnsafeCell<Buffer> =
        const { UnsafeCell::new(Buffer { frames: [RawFrame::Skipped(0); MAX_FRAMES], len: 0 }) };
}

/// Walks from a faulting `pc`/`fp`/`sp` on this thread into the buffer.
///
/// # Safety
/// Must run on the thread whose stacks are walked, with `ctx` its running
/// store context.
pub unsafe fn capture(ctx: *const VMStoreContext, pc: usize, fp: usize, sp: usize) {
    BUFFER.with(|b| {
        // SAFETY: the buffer is this thread's; nothing else touches it while
        // a trap is being handled on this thread.
        let b = unsafe { &mut *b.get() };
        b.len = 0;
        // Frames beyond the first MAX_FRAMES - RESERVE are counted, not
        // kept, except the first frame after each boundary: the reserve
        // holds the boundaries of the chain.
        const RESERVE: usize = 96;
        let mut skipped = 0usize;
        let mut after_boundary = false;
        let mut push = |f: RawFrame| {
            let is_pc = matches!(f, RawFrame::Pc(_));
            if is_pc && b.len >= MAX_FRAMES - RESERVE && !after_boundary {
                skipped += 1;
                return true;
            }
            if skipped > 0 && b.len < MAX_FRAMES {
                b.frames[b.len] = RawFrame::Skipped(skipped);
                b.len += 1;
                skipped = 0;
            }
            after_boundary = matches!(f, RawFrame::Resumed { .. });
            if b.len < MAX_FRAMES {
                b.frames[b.len] = f;
                b.len += 1;
                true
            } else {
                b.frames[MAX_FRAMES - 1] = RawFrame::Truncated("the backtrace buffer is full");
                false
            }
        };
        // SAFETY: see the function's contract.
        unsafe { walk(ctx, pc, fp, sp, &mut push) };
    });
}

/// Walks the logical stack from `pc`/`fp` (on the stack that `sp` lies in,
/// the running continuation's or the host's) across every resumer down to
/// the host entry, handing each entry to `push`, which returns false to
/// stop. Reads only memory inside the bounds of the stack being walked.
///
/// # Safety
/// Must run on the thread whose stacks are walked, with `ctx` its running
/// store context, and `fp` a frame pointer of the stack `sp` lies in.
pub(crate) unsafe fn walk(
    ctx: *const VMStoreContext,
    pc: usize,
    fp: usize,
    sp: usize,
    push: &mut dyn FnMut(RawFrame) -> bool,
) {
    // SAFETY: see the function's contract.
    let (current, entry_sp) = unsafe {
        let entry = (*ctx).entry_jmpbuf;
        (
            (*ctx).current_cont,
            if entry.is_null() { 0 } else { (*entry).rsp },
        )
    };
    let trampoline = switchyard_continuation_start as *const () as usize;
    let mut record = current as *const ContinuationRecord;
    let mut pc = pc;
    let mut fp = fp;
    // Bounds of the stack being walked.
    let mut bounds = stack_bounds(record, sp, entry_sp);
    loop {
        if !push(RawFrame::Pc(pc)) {
            return;
        }
        if fp < bounds.0 || fp + 16 > bounds.1 || !fp.is_multiple_of(8) {
            push(RawFrame::Truncated("a frame pointer left its stack"));
            return;
        }
        // SAFETY: `fp..fp+16` lies within the mapped stack being walked.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret > trampoline && ret < trampoline + 64 && !record.is_null() {
            // The bottom of a continuation: continue in its resumer.
            // SAFETY: `record` is a live record of this store; its handler
            // table lives in the resumer's frame, which is still there.
            let (r, handlers) = unsafe {
                let r = &*record;
                let mut handlers = [0usize; 4];
                if r.handlers != 0 {
                    for (i, h) in handlers
                        .iter_mut()
                        .enumerate()
                        .take(r.handlers_len as usize)
                    {
                        *h = *(r.handlers as *const usize).add(i);
                    }
                }
                (r, handlers)
            };
            if r.magic != RECORD_MAGIC {
                push(RawFrame::Truncated("a corrupt continuation record"));
                return;
            }
            if r.parent.pc == 0 {
                push(RawFrame::Truncated(
                    "a running continuation without a resumer",
                ));
                return;
            }
            let resumed = RawFrame::Resumed {
                id: r.id,
                entry_func: r.entry_func,
                handlers,
                handlers_len: r.handlers_len,
            };
            if !push(resumed) {
                return;
            }
            let (parent, parent_pc, parent_fp, parent_sp) = (
                r.parent_record as *const ContinuationRecord,
                r.parent.pc,
                r.parent.fp,
                r.parent.sp,
            );
            record = parent;
            pc = parent_pc;
            fp = parent_fp;
            bounds = stack_bounds(record, parent_sp, entry_sp);
            continue;
        }
        if entry::is_entry_return(ret) {
            push(RawFrame::Pc(ret));
            push(RawFrame::HostEntry);
            return;
        }
        if ret == 0 || next_fp <= fp {
            push(RawFrame::Truncated(
                "the frame chain does not grow: a corrupt stack",
            ));
            return;
        }
        pc = ret;
        fp = next_fp;
    }
}

/// The address range the frames of the stack of `record` (null: the host
/// stack) can lie in.
fn stack_bounds(record: *const ContinuationRecord, sp: usize, entry_sp: usize) -> (usize, usize) {
    if record.is_null() {
        (sp, entry_sp.max(sp))
    } else {
        // SAFETY: a live record of this store.
        unsafe { ((*record).stack_low, (*record).stack_high) }
    }
}

/// Takes the last captured backtrace of this thread.
pub fn take() -> Vec<RawFrame> {
    BUFFER.with(|b| {
        // SAFETY: this thread's buffer; no trap is being handled right now.
        let b = unsafe { &mut *b.get() };
        let frames = b.frames[..b.len].to_vec();
        b.len = 0;
        frames
    })
}
