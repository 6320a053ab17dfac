//! Walking the frames of a logical stack: frame pointers within each stack
//! segment, and at the continuation trampoline a move to the resumer's
//! saved context, down to the host entry (and, if asked, the host frames
//! below it).
//!
//! Every frame pointer must lie in the stack it belongs to and grow from
//! frame to frame; anything else ends the walk with a note. The walk is
//! bounded in steps.

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
/// host stack).
pub fn walk(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    start: Start,
    record: Option<&StackRecord>,
    limits: Limits,
) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut record = record.cloned();
    let mut pc = start.pc;
    let mut fp = start.fp;
    let mut is_return = false;
    let mut bounds = segment_bounds(record.as_ref(), start.sp);
    let mut in_host = false;
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
        steps.push(Step::Frame { pc, is_return });
        if fp == 0 && in_host {
            return steps;
        }
        if fp < bounds.0 || fp.saturating_add(16) > bounds.1 || !fp.is_multiple_of(8) {
            steps.push(Step::End(format!(
                "frame pointer {fp:#x} is outside its stack"
            )));
            return steps;
        }
        let (next_fp, ret) = match (memory.read_u64(fp), memory.read_u64(fp + 8)) {
            (Ok(n), Ok(r)) => (n, r),
            _ => {
                steps.push(Step::End(format!("unreadable frame at {fp:#x}")));
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
            fp = parent.fp;
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
        }
        if ret == 0 {
            return steps;
        }
        if next_fp <= fp && next_fp != 0 {
            steps.push(Step::End(format!(
                "frame pointers go down at {fp:#x}: a corrupt stack"
            )));
            return steps;
        }
        pc = ret;
        fp = next_fp;
        is_return = true;
    }
}

/// Walks a suspended continuation from its saved context to its bottom.
pub fn walk_suspended(
    memory: &dyn Memory,
    snapshot: &Snapshot,
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
    let mut steps = walk(memory, snapshot, start, Some(record), limits);
    if let Some(Step::Frame { is_return, .. }) = steps.first_mut() {
        *is_return = true;
    }
    steps
}

fn segment_bounds(record: Option<&StackRecord>, sp: u64) -> (u64, u64) {
    match record {
        Some(r) => (r.stack_low, r.stack_high),
        None => (sp, sp.saturating_add(HOST_STACK_SPAN)),
    }
}
