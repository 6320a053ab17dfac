//! Walking the frames of a logical stack: call frame information (or frame
//! pointers where there is none) within each stack segment, and at the
//! continuation trampoline a move to the resumer's saved context, down to
//! the host entry (and, if asked, the host frames below it).
//!
//! Every stack read must lie in the stack being walked, and the stack
//! pointer must grow from frame to frame; anything else ends the walk with
//! a note. The walk is bounded in steps.

use crate::cfi::{Cache, CfiUnwinder, Registers};
use crate::memory::Memory;
use crate::registry::{Snapshot, StackRecord};

/// Registers a walk starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// Program counter (exact: the instruction executing).
    pub pc: u64,
    /// Frame pointer.
    pub fp: u64,
    /// Stack pointer.
    pub sp: u64,
}

/// One step of a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A frame: `pc` is exact for the first frame of a segment and a
    /// return address otherwise.
    Frame {
        /// Program counter or return address.
        pc: u64,
        /// Whether `pc` is a return address (look up `pc - 1`).
        is_return: bool,
    },
    /// The frames above ran on this continuation's stack; below is its
    /// resumer.
    Boundary(Box<StackRecord>),
    /// Below are the host frames that entered Wasm.
    HostEntry,
    /// The walk ended early, and why.
    End(String),
}

/// Limits of a walk.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most frames.
    pub max_frames: usize,
    /// Continue into the host frames below the host entry.
    pub host_frames: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frames: 100_000,
            host_frames: false,
        }
    }
}

/// How far above its stack pointer a host stack's frames may lie.
const HOST_STACK_SPAN: u64 = 256 << 20;

/// Walks from `start`, which runs on the stack of `record` (`None`: a
/// host stack), with unwind information for the generated code only (host
/// frames by frame pointer). See [`walk_with`].
pub fn walk(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    start: Start,
    record: Option<&StackRecord>,
    limits: Limits,
) -> Vec<Step> {
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    walk_with(memory, snapshot, &cfi, start, record, limits)
}

/// Walks from `start`, which runs on the stack of `record` (`None`: a
/// host stack), unwinding each frame with `cfi`.
pub fn walk_with(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    cfi: &CfiUnwinder,
    start: Start,
    record: Option<&StackRecord>,
    limits: Limits,
) -> Vec<Step> {
    walk_from(memory, snapshot, cfi, start, false, record, limits)
}

/// Walks from `start` as [`walk_with`] does; `start_is_return` says that
/// `start.pc` is a return address (a frame stopped in a call), so that its
/// unwind rule is looked up at the call instruction.
pub fn walk_from(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    cfi: &CfiUnwinder,
    start: Start,
    start_is_return: bool,
    record: Option<&StackRecord>,
    limits: Limits,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut cache = Cache::new();
    let mut record = record.cloned();
    let mut pc = start.pc;
    let mut regs = Registers::new(start.pc, start.sp, start.fp);
    let mut is_return = start_is_return;
    let mut bounds = segment_bounds(record.as_ref(), start.sp);
    let mut in_host = false;
    // The host entry's frame is listed before the `HostEntry` step.
    let mut already_listed = false;
    let mut frames = 0;
    loop {
        frames += 1;
        if frames > limits.max_frames {
            steps.push(Step::End(format!(
                "stopped after {} frames",
                limits.max_frames
            )));
            return steps;
        }
        if !std::mem::take(&mut already_listed) {
            steps.push(Step::Frame { pc, is_return });
        }
        let sp = regs.sp();
        if sp < bounds.0 || sp > bounds.1 {
            steps.push(Step::End(format!(
                "stack pointer {sp:#x} is outside its stack"
            )));
            return steps;
        }
        let mut read = |a: u64| {
            if a < bounds.0 || a.saturating_add(8) > bounds.1 || !a.is_multiple_of(8) {
                return Err(());
            }
            memory.read_u64(a).map_err(|_| ())
        };
        let ret = match cfi.unwind_frame(&mut cache, pc, is_return, &mut regs, &mut read) {
            Ok(Some(ret)) => ret,
            Ok(None) => return steps,
            Err(_) if in_host => return steps,
            Err(framehop::Error::CouldNotReadStack(a)) => {
                steps.push(Step::End(format!(
                    "unreadable or foreign stack word at {a:#x}"
                )));
                return steps;
            }
            Err(e) => {
                steps.push(Step::End(format!("cannot unwind at {pc:#x}: {e}")));
                return steps;
            }
        };
        if snapshot.is_trampoline_return(ret) {
            let Some(r) = record.take() else {
                steps.push(Step::End(
                    "a continuation's bottom frame on a host stack".into(),
                ));
                return steps;
            };
            let parent = r.parent;
            let parent_record = r.parent_record;
            steps.push(Step::Boundary(Box::new(r)));
            if parent.pc == 0 {
                // Suspended (or just ending): no resumer below.
                return steps;
            }
            record = if parent_record == 0 {
                None
            } else {
                match snapshot.record(parent_record) {
                    Some(p) => Some(p.clone()),
                    None => {
                        steps.push(Step::End(format!(
                            "unknown resumer record {parent_record:#x}"
                        )));
                        return steps;
                    }
                }
            };
            pc = parent.pc;
            regs = Registers::new(parent.pc, parent.sp, parent.fp);
            is_return = true;
            bounds = segment_bounds(record.as_ref(), parent.sp);
            continue;
        }
        if !in_host && snapshot.is_entry_return(ret) {
            steps.push(Step::Frame {
                pc: ret,
                is_return: true,
            });
            steps.push(Step::HostEntry);
            if !limits.host_frames {
                return steps;
            }
            in_host = true;
            already_listed = true;
        }
        if ret == 0 {
            return steps;
        }
        if regs.sp() <= sp {
            steps.push(Step::End(format!(
                "the stack pointer does not grow at {sp:#x}: a corrupt stack"
            )));
            return steps;
        }
        pc = ret;
        is_return = true;
    }
}

/// Walks a suspended continuation from its saved context to its bottom,
/// with unwind information for the generated code only.
pub fn walk_suspended(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    record: &StackRecord,
    limits: Limits,
) -> Vec<Step> {
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    walk_suspended_with(memory, snapshot, &cfi, record, limits)
}

/// Walks a suspended continuation from its saved context to its bottom,
/// unwinding each frame with `cfi`.
pub fn walk_suspended_with(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    cfi: &CfiUnwinder,
    record: &StackRecord,
    limits: Limits,
) -> Vec<Step> {
    if record.own.pc == 0 {
        return vec![Step::End("no saved context".into())];
    }
    let start = Start {
        pc: record.own.pc,
        fp: record.own.fp,
        sp: record.own.sp,
    };
    // The saved pc is where the switch returns: a return address.
    walk_from(memory, snapshot, cfi, start, true, Some(record), limits)
}

fn segment_bounds(record: Option<&StackRecord>, sp: u64) -> (u64, u64) {
    match record {
        Some(r) => (r.stack_low, r.stack_high),
        None => (sp, sp.saturating_add(HOST_STACK_SPAN)),
    }
}
