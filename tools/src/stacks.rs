//! Printing stacks read through the registry: every live continuation of a
//! process (ours after a trap, another one for `switchyard bt`).

use std::fmt::Write;

use switchyard_unwind::registry::{Snapshot, StackRecord, State};
use switchyard_unwind::report::report_parked;
use switchyard_unwind::{CfiUnwinder, Limits, Memory, Step};

/// Where the registry of this process is.
pub fn own_registry() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}

/// Text lines of a walk: Wasm frames by name, other frames when `full`.
pub fn format_steps(snapshot: &Snapshot, steps: &[Step], full: bool, out: &mut String) {
    let mut n = 0;
    for step in steps {
        match step {
            Step::Frame { pc, is_return } => {
                let at = if *is_return { pc - 1 } else { *pc };
                match snapshot.function_name(at) {
                    Some(name) => {
                        let _ = writeln!(out, "  {n:>3}: {name}");
                        n += 1;
                    }
                    None if full => {
                        let _ = writeln!(out, "  {n:>3}: {pc:#x} - <host or glue code>");
                        n += 1;
                    }
                    None => {}
                }
            }
            Step::Boundary(r) => {
                if r.parent.pc != 0 {
                    let _ = writeln!(out, "       -- {} was resumed here", describe(snapshot, r));
                } else {
                    let _ = writeln!(out, "       -- bottom of {}", describe(snapshot, r));
                }
            }
            Step::HostEntry => {
                if full {
                    let _ = writeln!(out, "       -- entered from the host");
                }
            }
            Step::End(why) => {
                let _ = writeln!(out, "       -- walk ended: {why}");
            }
        }
    }
}

/// "continuation #3 (module!entry)".
pub fn describe(snapshot: &Snapshot, r: &StackRecord) -> String {
    let entry = snapshot
        .function_name(r.entry_code)
        .unwrap_or_else(|| "<host function>".into());
    format!("continuation #{} ({entry})", r.id)
}

/// Every live continuation that is not running (suspended or fresh), with
/// its stack, as a Go traceback prints all goroutines.
pub fn format_parked(memory: &dyn Memory, snapshot: &Snapshot, full: bool) -> String {
    let mut out = String::new();
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
        format_steps(snapshot, &steps, full, &mut out);
    }
    out
}
