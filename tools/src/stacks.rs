//! Printing stacks read through the registry: every live continuation of a
//! process (ours after a trap, another one for `switchyard bt`).

use std::fmt::Write;

use switchyard_unwind::registry::{Snapshot, StackRecord, State};
use switchyard_unwind::report::{Sources, report_parked};

use crate::output::Style;
use switchyard_engine::display_name;
use switchyard_unwind::{CfiUnwinder, Limits, Memory, Step};

/// Where the registry of this process is.
pub fn own_registry() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}

/// Text lines of a walk, innermost first: Wasm frames by name with their
/// source lines, other frames (named from `sources`' host symbols when it
/// has them) when `full`, and a line at each boundary.
pub fn format_steps(
    snapshot: &Snapshot,
    steps: &[Step],
    full: bool,
    style: &Style,
    sources: &Sources<'_>,
    out: &mut String,
) {
    let mut n = 0;
    for step in steps {
        match step {
            Step::Frame { pc, is_return } => {
                let at = if *is_return { pc - 1 } else { *pc };
                match snapshot.function_name(at) {
                    Some(name) => {
                        out.push_str(&format!("  {n:>3}: {}\n", style.function(&name)));
                        for at in sources.locate(snapshot, at) {
                            let at = display_name(&at);
                            out.push_str(&format!("                 at {at}\n"));
                        }
                        n += 1;
                    }
                    None if full => {
                        let name = sources
                            .host_name(at)
                            .unwrap_or_else(|| "<host or glue code>".into());
                        out.push_str(&format!("  {n:>3}: {pc:#x} - {name}\n"));
                        n += 1;
                    }
                    None => {}
                }
            }
            Step::Boundary(r) => {
                let what = describe(snapshot, r);
                if r.parent.pc != 0 {
                    out.push_str(&format!(
                        "       -- {} was resumed here\n",
                        style.boundary(&what)
                    ));
                } else {
                    out.push_str(&format!("       -- bottom of {}\n", style.boundary(&what)));
                }
            }
            Step::HostEntry => out.push_str("       -- entered from the host\n"),
            Step::End(why) => out.push_str(&format!("       -- walk ended: {why}\n")),
        }
    }
}

/// "continuation #3 (module!entry)".
pub fn describe(snapshot: &Snapshot, r: &StackRecord) -> String {
    format!("continuation #{} ({})", r.id, entry_name(snapshot, r))
}

/// `module!function` of a continuation's entry function.
pub fn entry_name(snapshot: &Snapshot, r: &StackRecord) -> String {
    snapshot
        .function_name(r.entry_code)
        .unwrap_or_else(|| "<host function>".into())
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
        format_steps(snapshot, &steps, full, style, &sources, &mut out);
    }
    out
}
