//! Printing stacks read through the registry: every live continuation of a
//! process (ours after a trap, another one for `switchyard bt`).

use std::fmt::Write;

use switchyard_frames::text;
use switchyard_unwind::registry::{Snapshot, StackRecord, State};
use switchyard_unwind::report::{Sources, entry_name, report_parked};

use crate::output::Style;
use switchyard_unwind::{CfiUnwinder, Limits, Memory};

/// Where the registry of this process is.
pub fn own_registry() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}

/// "continuation #3 (module!entry)".
pub fn describe(snapshot: &Snapshot, r: &StackRecord) -> String {
    format!("continuation #{} ({})", r.id, entry_name(snapshot, r))
}

/// Every live continuation that is not running (suspended or fresh), with
/// its stack, as a Go traceback prints all goroutines.
pub fn format_parked(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    full: bool,
    style: &Style,
) -> String {
    let mut out = String::new();
    let sources = Sources::new(memory);
    let limits = Limits {
        max_frames: 10_000,
        host_frames: false,
    };
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    for (r, steps) in report_parked(memory, snapshot, &cfi, limits) {
        let _ = writeln!(
            out,
            "\n{} {}, resumed {} times, stack {:#x}..{:#x}:",
            describe(snapshot, r),
            r.state.name(),
            r.resumes,
            r.stack_low,
            r.stack_high
        );
        if r.state == State::Fresh {
            let _ = writeln!(out, "  (not started)");
            continue;
        }
        let frames = sources.frames(snapshot, &steps);
        text::write(&mut out, &frames, text::Options { full }, style);
    }
    out
}

/// A continuation that is not running, in the JSON outputs (the trap
/// report's `continuations`; `docs/schema/switchyard.schema.json`,
/// `continuation`).
#[derive(serde::Serialize)]
pub struct ContinuationJson {
    id: u64,
    state: &'static str,
    entry: String,
    resumes: u64,
    switches: u64,
    stack: [u64; 2],
    frames: Vec<switchyard_frames::Frame>,
}

/// Every live continuation that is not running, with its frames (source
/// lines and offsets as the text form has them).
pub fn parked_json(memory: &dyn Memory, snapshot: &Snapshot) -> Vec<ContinuationJson> {
    let sources = Sources::new(memory);
    let limits = Limits {
        max_frames: 10_000,
        host_frames: false,
    };
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    report_parked(memory, snapshot, &cfi, limits)
        .into_iter()
        .map(|(r, steps)| ContinuationJson {
            id: r.id,
            state: r.state.name(),
            entry: entry_name(snapshot, r),
            resumes: r.resumes,
            switches: r.switches,
            stack: [r.stack_low, r.stack_high],
            frames: sources.frames(snapshot, &steps),
        })
        .collect()
}
