//! `switchyard bt`: the logical backtrace of every thread and every live
//! continuation of a running Switchyard process (stopped briefly) or of a
//! core file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use serde::Serialize;
use switchyard_frames::{Frame, text};
use switchyard_unwind::core::CoreFile;
use switchyard_unwind::groups::group_parked;
use switchyard_unwind::ptrace::{StoppedProcess, ThreadRegisters};
use switchyard_unwind::registry::{Snapshot, StackRecord};
use switchyard_unwind::report::{Sources, ThreadReport, report_parked, report_threads};
use switchyard_unwind::snapshot_memory::{SnapshotMemory, stack_spans};
use switchyard_unwind::{CfiUnwinder, HostSymbols, Limits, PageCachedMemory, Step, elf};

use crate::cli::{BtArgs, Format};
use crate::output::Style;
use crate::stacks::{ContinuationJson, Listing, format_leaks, format_list, summary};

pub fn main(args: BtArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_frames: 10_000,
        host_frames: args.full,
    };
    match (args.pid, &args.core) {
        (Some(pid), None) => {
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                bail!("no process with pid {pid}");
            }
            let bias = elf::load_bias(pid, &exe).map_err(|e| anyhow!("process {pid}: {e}"))?;
            let address =
                elf::registry_address(&exe, bias).map_err(|e| anyhow!("process {pid}: {e}"))?;
            // Stopped only while copying what changes as it runs: the
            // registry, the registers, the live part of every stack. The
            // walks and symbols come after, from those copies.
            let stopped = StoppedProcess::stop(pid).map_err(|e| anyhow!("{e}"))?;
            let copied = Snapshot::read(&PageCachedMemory::new(&stopped.memory()), address).map(
                |snapshot| {
                    let threads = without_clock_thread(stopped.threads(), &snapshot);
                    let spans = stack_spans(&snapshot, &threads);
                    let memory = SnapshotMemory::copy(pid, &spans);
                    (snapshot, threads, memory)
                },
            );
            stopped.resume();
            let (snapshot, threads, memory) = copied.map_err(|e| anyhow!("process {pid}: {e}"))?;
            let mut cfi = CfiUnwinder::for_generated_code(&memory, &snapshot);
            let mut sources = Sources::new(&memory);
            if args.full {
                let mappings =
                    elf::process_mappings(pid).map_err(|e| anyhow!("process {pid}: {e}"))?;
                cfi.add_host_files(&mappings);
                sources = sources.with_host_symbols(HostSymbols::from_mappings(&mappings));
            }
            let threads = report_threads(&memory, &snapshot, &cfi, &threads, limits);
            let parked = report_parked(&memory, &snapshot, &cfi, limits);
            print!("{}", render(&args, &snapshot, &threads, &parked, &sources));
            print!("{}", leaks(&args, &memory, &snapshot));
        }
        (None, Some(path)) => {
            let core = CoreFile::open(path).map_err(|e| anyhow!("{e}"))?;
            let exe = match &args.exe {
                Some(e) => e.clone(),
                None => core
                    .executable()
                    .context("the core file does not name its executable; pass it with --exe")?,
            };
            let address = core
                .registry_address(&exe)
                .map_err(|e| anyhow!("{}: {e}", exe.display()))?;
            let snapshot =
                Snapshot::read(&core, address).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let mut cfi = CfiUnwinder::for_generated_code(&core, &snapshot);
            let mut sources = Sources::new(&core);
            if args.full {
                cfi.add_host_files(core.mappings());
                sources = sources.with_host_symbols(HostSymbols::from_mappings(core.mappings()));
            }
            let threads = without_clock_thread(core.threads(), &snapshot);
            let threads = report_threads(&core, &snapshot, &cfi, &threads, limits);
            let parked = report_parked(&core, &snapshot, &cfi, limits);
            print!("{}", render(&args, &snapshot, &threads, &parked, &sources));
            print!("{}", leaks(&args, &core, &snapshot));
        }
        _ => bail!("give exactly one of --pid PID and --core FILE"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The threads but the engine's clock thread, which never runs Wasm.
fn without_clock_thread(threads: &[ThreadRegisters], snapshot: &Snapshot) -> Vec<ThreadRegisters> {
    threads
        .iter()
        .filter(|t| snapshot.clock_thread == 0 || t.tid as u64 != snapshot.clock_thread)
        .cloned()
        .collect()
}

fn render(
    args: &BtArgs,
    snapshot: &Snapshot,
    threads: &[ThreadReport],
    parked: &[(&StackRecord, Vec<Step>)],
    sources: &Sources<'_>,
) -> String {
    if args.format == Format::Json {
        return format!("{}\n", to_json(snapshot, threads, parked, sources));
    }
    let style = Style::for_stdout();
    let options = text::Options { full: args.full };
    let mut out = format!("{}\n", style.heading(&summary(snapshot)));
    for t in threads {
        out.push_str(&format!(
            "{}\n",
            style.heading(&format!("thread {} ({})", t.tid, t.state))
        ));
        text::write(
            &mut out,
            &sources.frames(snapshot, &t.steps),
            options,
            &style,
        );
    }
    if !parked.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            style.heading("live continuations not running:")
        ));
        let listing = Listing {
            full: args.full,
            group: !args.no_group,
            creation: None,
        };
        out.push_str(&format_list(sources, snapshot, parked, listing, &style));
    }
    out
}

/// `--leaks`, `--warn-suspended-ms` (text only: the JSON carries every
/// continuation's creation site and wait).
fn leaks(args: &BtArgs, memory: &dyn switchyard_unwind::Memory, snapshot: &Snapshot) -> String {
    if args.format == Format::Json || !(args.leaks || args.warn_suspended_ms.is_some()) {
        return String::new();
    }
    let text = format_leaks(memory, snapshot, args.warn_suspended_ms, None);
    if text.is_empty() {
        "\nno continuation left unfinished\n".into()
    } else {
        format!("\n{text}")
    }
}

/// `switchyard bt --format json`: every thread and parked continuation with
/// its frames in the one frame shape.
#[derive(Serialize)]
struct Report<'a> {
    threads: Vec<ThreadJson<'a>>,
    continuations: Vec<ContinuationJson>,
    /// Live continuations by state, as the text's first line says.
    summary: String,
    /// Ids of the continuations whose stacks are identical, largest group
    /// first.
    groups: Vec<Vec<u64>>,
    /// `switchyard-bt`, version 1 (docs/schema/switchyard.schema.json).
    format: &'a str,
    version: u32,
}

#[derive(Serialize)]
struct ThreadJson<'a> {
    tid: i32,
    state: &'a str,
    frames: Vec<Frame>,
}

fn to_json(
    snapshot: &Snapshot,
    threads: &[ThreadReport],
    parked: &[(&StackRecord, Vec<Step>)],
    sources: &Sources<'_>,
) -> String {
    let report = Report {
        summary: summary(snapshot),
        groups: group_parked(snapshot, parked, &|r| sources.fresh_body(snapshot, r))
            .into_iter()
            .map(|g| g.members.iter().map(|&i| parked[i].0.id).collect())
            .collect(),
        threads: threads
            .iter()
            .map(|t| ThreadJson {
                tid: t.tid,
                state: t.state,
                frames: sources.frames(snapshot, &t.steps),
            })
            .collect(),
        continuations: parked
            .iter()
            .map(|(r, steps)| ContinuationJson::new(sources, snapshot, r, steps))
            .collect(),
        format: "switchyard-bt",
        version: 1,
    };
    // Plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_string(&report).expect("a report serializes")
}
