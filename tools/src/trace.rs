//! `switchyard trace` and `run --trace`: the flight recorder's events
//! (`switchyard_engine::vm::events::recorder`) as a timeline for Perfetto,
//! in the Chrome trace event JSON format, which the Perfetto UI and
//! `chrome://tracing` open as they are.
//!
//! One track (a "thread") per continuation and one for the host stack; a
//! slice on a track while that stack executes (a continuation waiting in
//! a `resume` of its own is not executing: the one it resumed is); a flow
//! arrow from resumer to resumed at each `resume` and from switcher to
//! target at each `switch`; instant events for `cont.new`, `suspend` (with
//! its tag), `switch`, `return`, `throw` and the trap. The object's
//! `metadata` says what was recorded (`docs/schema/trace-metadata.json`).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use switchyard_engine::vm::events::recorder::{RecordKind, Recorded, Recording};
use switchyard_unwind::{ProcessMemory, Snapshot};

use crate::cli::TraceArgs;

/// Version of the `metadata` object.
pub const METADATA_VERSION: u32 = 1;

/// `switchyard trace -o OUT FILE [ARGS]`: `switchyard run --trace OUT`.
pub fn main(mut args: TraceArgs) -> anyhow::Result<ExitCode> {
    if args.run.trace.is_some() {
        bail!("`switchyard trace` writes to -o OUT; --trace is for `switchyard run`");
    }
    args.run.trace = Some(args.output);
    crate::run::main(args.run)
}

/// The track of `id` (0: the host stack).
fn tid(id: u64) -> u64 {
    id
}

/// Microseconds, the format's unit, from nanoseconds.
fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Who executes just before and just after `e`.
fn before_after(e: &Recorded) -> (u64, u64) {
    match e.kind {
        RecordKind::Create => (e.current, e.current),
        RecordKind::Resume | RecordKind::ResumeThrow => (e.current, e.cont),
        RecordKind::Suspend | RecordKind::Return | RecordKind::Throw => (e.cont, e.current),
        RecordKind::Switch => (e.cont, e.other),
    }
}

/// The Chrome trace JSON document of `recording` (`program`: a title;
/// `trap`: the trap's message and time, if the run trapped). Entry
/// functions are named through this process's registry, so the modules
/// must still be loaded.
pub fn document(recording: &Recording, program: &str, trap: Option<(String, u64)>) -> Value {
    let memory = ProcessMemory::current();
    let snapshot = Snapshot::read(&memory, crate::stacks::own_registry()).ok();
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut name_of = |code: u64| -> String {
        if code == 0 {
            return String::new();
        }
        names
            .entry(code)
            .or_insert_with(|| {
                snapshot
                    .as_ref()
                    .and_then(|s| s.function_name(code))
                    .unwrap_or_else(|| format!("{code:#x}"))
            })
            .clone()
    };
    // Each continuation's entry function, from any event about it.
    let mut entries: BTreeMap<u64, String> = BTreeMap::new();
    let mut tracks: std::collections::BTreeSet<u64> = Default::default();
    for e in &recording.events {
        if e.cont != 0 && e.entry_code != 0 {
            entries
                .entry(e.cont)
                .or_insert_with(|| name_of(e.entry_code));
        }
        tracks.insert(e.cont);
        tracks.insert(e.current);
        if e.kind == RecordKind::Switch {
            tracks.insert(e.other);
        }
    }
    if recording.events.is_empty() {
        tracks.insert(0);
    }
    let label = |id: u64| -> String {
        match (id, entries.get(&id)) {
            (0, _) => "host".to_string(),
            (_, Some(name)) => name.clone(),
            (_, None) => format!("#{id}"),
        }
    };
    let pid = std::process::id();
    let mut out: Vec<Value> = Vec::new();
    out.push(
        json!({"ph": "M", "name": "process_name", "pid": pid, "tid": 0,
        "args": {"name": format!("switchyard {program}")}}),
    );
    for &id in &tracks {
        let name = if id == 0 {
            "host stack".to_string()
        } else {
            format!("#{id} {}", label(id))
        };
        out.push(
            json!({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid(id),
            "args": {"name": name}}),
        );
        out.push(
            json!({"ph": "M", "name": "thread_sort_index", "pid": pid, "tid": tid(id),
            "args": {"sort_index": id}}),
        );
    }
    // Slices: who executes between consecutive events.
    let end = trap
        .as_ref()
        .map_or(recording.duration_ns, |(_, at)| *at)
        .max(recording.events.last().map_or(0, |e| e.ns));
    let mut running = recording.events.first().map_or(0, |e| before_after(e).0);
    let mut since = recording.events.first().map_or(0, |e| e.ns);
    let slice = |out: &mut Vec<Value>, id: u64, from: u64, to: u64| {
        out.push(
            json!({"ph": "X", "name": label(id), "cat": "run", "pid": pid,
            "tid": tid(id), "ts": us(from), "dur": us(to - from),
            "args": {"continuation": id}}),
        );
    };
    let mut flow = 0u64;
    for e in &recording.events {
        let (_, after) = before_after(e);
        let instant = |out: &mut Vec<Value>, on: u64, name: String, args: Value| {
            out.push(
                json!({"ph": "i", "s": "t", "name": name, "cat": e.kind.name(),
                "pid": pid, "tid": tid(on), "ts": us(e.ns), "args": args}),
            );
        };
        match e.kind {
            RecordKind::Create => instant(
                &mut out,
                e.current,
                format!("create #{}", e.cont),
                json!({"continuation": e.cont, "entry": label(e.cont)}),
            ),
            RecordKind::Suspend => instant(
                &mut out,
                e.cont,
                format!("suspend {}", e.tag.as_deref().unwrap_or("")),
                json!({"continuation": e.cont, "tag": e.tag, "handler": e.current}),
            ),
            RecordKind::Switch => instant(
                &mut out,
                e.cont,
                format!("switch {} -> #{}", e.tag.as_deref().unwrap_or(""), e.other),
                json!({"continuation": e.cont, "tag": e.tag, "target": e.other}),
            ),
            RecordKind::Return | RecordKind::Throw => instant(
                &mut out,
                e.cont,
                e.kind.name().to_string(),
                json!({"continuation": e.cont, "resumer": e.current}),
            ),
            RecordKind::Resume | RecordKind::ResumeThrow => {}
        }
        if after != running {
            if e.ns > since {
                slice(&mut out, running, since, e.ns);
            }
            if matches!(
                e.kind,
                RecordKind::Resume | RecordKind::ResumeThrow | RecordKind::Switch
            ) {
                // The arrow leaves the giver's slice just before its end
                // and enters the taker's at its start.
                flow += 1;
                let name = e.kind.name();
                let from = e.ns.saturating_sub(1).max(since);
                out.push(json!({"ph": "s", "id": flow, "name": name, "cat": "flow",
                    "pid": pid, "tid": tid(running), "ts": us(from)}));
                out.push(json!({"ph": "f", "bp": "e", "id": flow, "name": name,
                    "cat": "flow", "pid": pid, "tid": tid(after), "ts": us(e.ns)}));
            }
            running = after;
            since = e.ns;
        }
    }
    if end > since {
        slice(&mut out, running, since, end);
    }
    if let Some((message, at)) = &trap {
        out.push(
            json!({"ph": "i", "s": "t", "name": format!("trap: {message}"),
            "cat": "trap", "pid": pid, "tid": tid(running), "ts": us(*at),
            "args": {"continuation": running, "message": message}}),
        );
    }
    json!({
        "traceEvents": out,
        "displayTimeUnit": "ns",
        "metadata": {
            "format": "switchyard-trace",
            "version": METADATA_VERSION,
            "program": program,
            "clock": recording.clock,
            "duration_ns": recording.duration_ns,
            "events_recorded": recording.total,
            "events_kept": recording.events.len(),
            "capacity": recording.capacity,
            "continuations": tracks.iter().filter(|id| **id != 0).count(),
            "trap": trap.as_ref().map(|(m, _)| m),
        },
    })
}

/// Writes the trace of `recording` to `file`, opened at `path`.
pub fn write(
    file: std::fs::File,
    path: &Path,
    recording: &Recording,
    program: &str,
    trap: Option<(String, u64)>,
) -> anyhow::Result<()> {
    let doc = document(recording, program, trap);
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut w, &doc)
        .and_then(|_| std::io::Write::flush(&mut w).map_err(serde_json::Error::io))
        .with_context(|| format!("cannot write the trace to {}", path.display()))
}
