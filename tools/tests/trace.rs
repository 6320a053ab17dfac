//! `switchyard trace` and `run --trace`: the timeline is parsed back by
//! Python's json module (another parser than the one that wrote it) and
//! checked for a track per continuation, a slice per stretch of running,
//! flows from resumer to resumed, and the recorded events.

mod common;

use common::{repo_file, switchyard, temp_file};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Whether python3 can be used; in CI its absence fails the test.
fn have_python() -> bool {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3 is required in CI to parse the trace back"
        );
        eprintln!("skipping: python3 is not installed");
    }
    ok
}

/// Reads the trace with Python's json and prints a summary, one fact per
/// line, sorted: `track TID NAME`, `slices TID N`, `instant TID NAME`,
/// `flows N` (matched start/finish pairs, each from one track to
/// another), `meta KEY VALUE`.
const SUMMARY: &str = r#"
import json, sys
doc = json.load(open(sys.argv[1]))
events = doc["traceEvents"]
out = []
slices = {}
starts, finishes = {}, {}
for e in events:
    ph = e["ph"]
    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
    if ph == "M" and e["name"] == "thread_name":
        out.append("track %d %s" % (e["tid"], e["args"]["name"]))
    elif ph == "X":
        assert e["dur"] >= 0 and e["ts"] >= 0, e
        slices[e["tid"]] = slices.get(e["tid"], 0) + 1
    elif ph == "i":
        out.append("instant %d %s" % (e["tid"], e["name"]))
    elif ph == "s":
        starts[e["id"]] = e
    elif ph == "f":
        assert e["bp"] == "e", e
        finishes[e["id"]] = e
assert starts.keys() == finishes.keys(), (starts, finishes)
for i in starts:
    assert starts[i]["tid"] != finishes[i]["tid"], (starts[i], finishes[i])
    assert starts[i]["ts"] <= finishes[i]["ts"], (starts[i], finishes[i])
for tid, n in slices.items():
    out.append("slices %d %d" % (tid, n))
out.append("flows %d" % len(starts))
for k, v in doc["metadata"].items():
    out.append("meta %s %s" % (k, v))
print("\n".join(sorted(out)))
"#;

fn summary(trace: &Path) -> String {
    let o = Command::new("python3")
        .args(["-c", SUMMARY])
        .arg(trace)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "python3 could not read the trace: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn lines_with<'a>(summary: &'a str, prefix: &str) -> Vec<&'a str> {
    summary.lines().filter(|l| l.starts_with(prefix)).collect()
}

fn run(args: &[&str]) -> Output {
    switchyard().args(args).output().unwrap()
}

/// `switchyard trace` of `run` in `wat` (a repository file) with the
/// switching mode `switching`: the trace's path, after checking that the
/// run succeeded and printed `result`.
fn trace_invoke(name: &str, switching: &str, wat: &str, args: &[&str], result: &str) -> PathBuf {
    let out = temp_file("trace", &format!("{name}-{switching}.json"));
    let wat = repo_file(wat);
    let mut all = vec![
        "trace",
        "-o",
        out.to_str().unwrap(),
        "--switching",
        switching,
        "--invoke",
        "run",
        &wat,
    ];
    all.extend_from_slice(args);
    let o = run(&all);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(String::from_utf8_lossy(&o.stdout), result);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("trace written to"), "{stderr}");
    out
}

#[test]
fn a_generator_has_its_own_track_with_a_slice_per_resume() {
    if !have_python() {
        return;
    }
    for switching in ["native", "libcall"] {
        let out = trace_invoke(
            "yield",
            switching,
            "bench/wat/yield_loop.wat",
            &["3"],
            "3\n",
        );
        let s = summary(&out);
        assert_eq!(
            lines_with(&s, "track"),
            ["track 0 host stack", "track 1 #1 yield_loop!gen"],
            "{switching}:\n{s}"
        );
        // Four resumes: three yields and the last run to the return; the
        // host runs before, between and after.
        assert!(s.contains("slices 1 4\n"), "{switching}:\n{s}");
        assert!(s.contains("slices 0 5\n"), "{switching}:\n{s}");
        assert!(s.contains("flows 4\n"), "{switching}:\n{s}");
        assert_eq!(
            lines_with(&s, "instant"),
            [
                "instant 0 create #1",
                "instant 1 return",
                "instant 1 suspend $yield",
                "instant 1 suspend $yield",
                "instant 1 suspend $yield",
            ],
            "{switching}:\n{s}"
        );
        // create + 4 resumes + 3 suspends + return.
        assert!(s.contains("meta events_recorded 9\n"), "{s}");
        assert!(s.contains("meta events_kept 9\n"), "{s}");
        assert!(s.contains("meta format switchyard-trace\n"), "{s}");
        assert!(s.contains("meta trap None\n"), "{s}");
    }
}

#[test]
fn switches_flow_from_one_continuation_to_the_other() {
    if !have_python() {
        return;
    }
    let out = temp_file("trace", "pingpong.json");
    let o = run(&[
        "run",
        "--trace",
        out.to_str().unwrap(),
        "--invoke",
        "run",
        &repo_file("bench/wat/switch_pingpong.wat"),
        "4",
    ]);
    assert!(o.status.success(), "{o:?}");
    let s = summary(&out);
    assert_eq!(
        lines_with(&s, "track"),
        [
            "track 0 host stack",
            "track 1 #1 switch_pingpong!player",
            "track 2 #2 switch_pingpong!player",
        ],
        "{s}"
    );
    // `run` resumes #2 (its peer is #1); four switches alternate between
    // them; five hand-overs in all; #2 returns.
    assert!(s.contains("flows 5\n"), "{s}");
    assert_eq!(
        lines_with(&s, "instant")
            .iter()
            .filter(|l| l.contains("switch $sw -> #"))
            .count(),
        4,
        "{s}"
    );
    assert!(s.contains("instant 1 switch $sw -> #2"), "{s}");
    assert!(s.contains("instant 2 switch $sw -> #1"), "{s}");
    assert!(s.contains("slices 1 2\n"), "{s}");
    assert!(s.contains("slices 2 3\n"), "{s}");
    assert!(s.contains("instant 2 return\n"), "{s}");
}

#[test]
fn the_flight_recorder_keeps_the_last_events() {
    if !have_python() {
        return;
    }
    let out = temp_file("trace", "bounded.json");
    let o = run(&[
        "run",
        "--trace",
        out.to_str().unwrap(),
        "--trace-events",
        "16",
        "--invoke",
        "run",
        &repo_file("bench/wat/yield_loop.wat"),
        "100",
    ]);
    assert!(o.status.success(), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("16 events, the last of 203"), "{stderr}");
    let s = summary(&out);
    // create + 101 resumes + 100 suspends + return; the last 16 kept,
    // ending with the return.
    assert!(s.contains("meta events_recorded 203\n"), "{s}");
    assert!(s.contains("meta events_kept 16\n"), "{s}");
    assert!(s.contains("meta capacity 16\n"), "{s}");
    assert!(s.contains("instant 1 return"), "{s}");
    assert!(!s.contains("create"), "{s}");
}

#[test]
fn a_trap_is_on_the_track_of_the_continuation_that_trapped() {
    if !have_python() {
        return;
    }
    let out = temp_file("trace", "trap.json");
    let o = run(&[
        "trace",
        "-o",
        out.to_str().unwrap(),
        &repo_file("tests/inspect/trap_chain.wat"),
    ]);
    assert_eq!(o.status.code(), Some(134), "{o:?}");
    let s = summary(&out);
    assert_eq!(
        lines_with(&s, "track"),
        [
            "track 0 host stack",
            "track 1 #1 trap_chain!gen",
            "track 2 #2 trap_chain!outer",
            "track 3 #3 trap_chain!inner",
        ],
        "{s}"
    );
    // #3 is created by #2, which runs.
    assert!(s.contains("instant 2 create #3\n"), "{s}");
    assert!(
        s.contains("instant 3 trap: integer divide by zero\n"),
        "{s}"
    );
    assert!(s.contains("meta trap integer divide by zero\n"), "{s}");
}

#[test]
fn bad_trace_options_fail_with_one_line() {
    let wat = repo_file("bench/wat/yield_loop.wat");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--trace-events", "3", "--invoke", "run", &wat, "1"],
            "give between 16 and 1g events",
        ),
        (
            vec![
                "run",
                "--trace",
                "/nonexistent-dir/t.json",
                "--invoke",
                "run",
                &wat,
                "1",
            ],
            "cannot write the trace to /nonexistent-dir/t.json",
        ),
        (
            vec!["trace", "--trace", "x.json", "--invoke", "run", &wat, "1"],
            "writes to -o OUT",
        ),
        (
            vec![
                "trace",
                "-o",
                "/tmp/never-written.json",
                "/nonexistent.wasm",
            ],
            "no such file",
        ),
    ];
    for (args, expected) in cases {
        let o = run(&args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    assert!(!Path::new("/tmp/never-written.json").exists());
}

/// `(seq, kind)` of a snapshot's events, and its `total_events`.
fn snapshot_events(path: &Path) -> (Vec<(u64, String)>, u64) {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let events = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["seq"].as_u64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (events, doc["total_events"].as_u64().unwrap())
}

#[test]
fn a_snapshot_takes_its_last_events_from_the_flight_recorder() {
    let wat = repo_file("tests/inspect/yield_then_trap.wat");
    // 1 create, 501 resumes and 500 suspends, then the trap: the snapshot
    // keeps the last 200, numbered from the start of the run.
    let check = |snapshot: &Path| {
        let (events, total) = snapshot_events(snapshot);
        assert_eq!(total, 1003);
        assert_eq!(events.len(), 201, "{events:?}");
        let seqs: Vec<u64> = events.iter().map(|e| e.0).collect();
        assert_eq!(seqs, (803..=1003).collect::<Vec<u64>>());
        assert_eq!(events[199], (1002, "resume".to_string()));
        assert_eq!(events[198], (1001, "suspend".to_string()));
        assert_eq!(events[200], (1003, "trap".to_string()));
    };
    // A run that traps, writing a snapshot (and what `more` asks for).
    let trapping_run = |name: &str, more: &[&str]| {
        let snapshot = temp_file("trace", name);
        let mut args = vec!["run", "--snapshot-on-trap", snapshot.to_str().unwrap()];
        args.extend_from_slice(more);
        args.extend_from_slice(&["--invoke", "run", &wat, "500"]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(134), "{o:?}");
        check(&snapshot);
    };
    trapping_run("snapshot-alone.json", &[]);

    // With a trace: the same ring feeds both, the trace keeps every event.
    let trace = temp_file("trace", "snapshot-trace.json");
    trapping_run(
        "snapshot-traced.json",
        &["--trace", trace.to_str().unwrap()],
    );
    if !have_python() {
        return;
    }
    let s = summary(&trace);
    assert!(s.contains("meta events_recorded 1002\n"), "{s}");
    assert!(s.contains("meta events_kept 1002\n"), "{s}");
}

#[test]
fn a_continuation_that_dies_of_an_exception_ends_with_a_throw() {
    if !have_python() {
        return;
    }
    for switching in ["native", "libcall"] {
        let out = trace_invoke("throw", switching, "tests/trace/throw_out.wat", &[], "43\n");
        let s = summary(&out);
        // The suspension returns to the resumer as usual; the exception
        // is the continuation's end, reported once.
        assert_eq!(
            lines_with(&s, "instant"),
            [
                "instant 0 create #1",
                "instant 1 suspend $yield",
                "instant 1 throw"
            ],
            "{switching}:\n{s}"
        );
        assert!(s.contains("meta events_recorded 5\n"), "{switching}:\n{s}");
    }
}
