//! A fresh continuation (created, never resumed) has no frames: it is
//! named by the function its entry will call, read from the values
//! `cont.bind` bound (docs/continuations.md). tests/fresh/fresh.c makes
//! fresh fibers of two C functions at one call site on the fiber library,
//! whose `$entry` forwards through `call_indirect`; they are seen in
//! process (`run --backtrace-all`, text and JSON) and from outside
//! (`bt --pid`, text and JSON, and gdb's `info continuations`).
//! tests/fresh/entries.wat covers
//! `call_ref`, an entry with nothing bound and one that is no wrapper.

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Started, fiber_wat, root, run_on_fibers, switchyard, temp_dir};

/// fresh.c built at -O2 into `dir` (module name `fresh`); `None` when
/// clang or the WASI sysroot is missing.
fn build_fresh(dir: &Path) -> Option<PathBuf> {
    let flags = [&["-O2"], common::c::FIBER_FLAGS].concat();
    common::c::build(
        &root().join("tests/fresh/fresh.c"),
        &dir.join("fresh.wasm"),
        &flags,
    )
}

/// The text report of fresh.c's five fresh fibers: two groups, each named
/// by its C function with the library's entry beside it.
fn assert_named_groups(text: &str, how: &str) {
    assert!(
        text.contains("5 continuations: 5 fresh"),
        "{how}: no summary in:\n{text}"
    );
    for (function, ids) in [("alpha", "#1 #2 #3"), ("beta", "#4 #5")] {
        let n = ids.split(' ').count();
        let heading =
            format!("{n} continuations fresh!{function} fresh, created by fiber_init at fiber.h:");
        let line = text
            .lines()
            .find(|l| l.starts_with(&heading))
            .unwrap_or_else(|| panic!("{how}: no `{heading}` in:\n{text}"));
        assert!(line.ends_with(&format!(": {ids}")), "{how}: {line}");
    }
    assert_eq!(
        text.matches("  (not started, entry fiber!entry)").count(),
        2,
        "{how}:\n{text}"
    );
    assert!(!text.contains("fiber!entry fresh"), "{how}:\n{text}");
}

/// The JSON continuations of fresh.c: each named by its C function, its
/// entry the library's.
fn assert_named_json(continuations: &serde_json::Value, how: &str) {
    let names: Vec<(u64, &str, &str)> = continuations
        .as_array()
        .unwrap_or_else(|| panic!("{how}: no continuations"))
        .iter()
        .map(|c| {
            (
                c["id"].as_u64().unwrap(),
                c["name"].as_str().unwrap(),
                c["entry"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(u64, &str, &str)> = (1..=5)
        .map(|id| {
            let name = if id <= 3 { "fresh!alpha" } else { "fresh!beta" };
            (id, name, "fiber!entry")
        })
        .collect();
    assert_eq!(names, expected, "{how}");
}

#[test]
fn fresh_fibers_are_named_by_their_c_function_in_process() {
    let dir = temp_dir("fresh-names-run");
    let Some(wasm) = build_fresh(&dir) else {
        return;
    };
    let (_, err, code) = run_on_fibers(&wasm, &["--backtrace-all"], &["trap"]);
    assert_eq!(code, Some(134), "{err}");
    assert_named_groups(&err, "run --backtrace-all");
    let (_, err, code) = run_on_fibers(&wasm, &["--backtrace-all", "--format", "json"], &["trap"]);
    assert_eq!(code, Some(134), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(err.trim()).unwrap_or_else(|e| panic!("not JSON ({e}):\n{err}"));
    assert_named_json(&json["continuations"], "run --format json");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn fresh_fibers_are_named_by_their_c_function_from_another_process() {
    let dir = temp_dir("fresh-names-bt");
    let Some(wasm) = build_fresh(&dir) else {
        return;
    };
    let mut child = switchyard()
        .arg("run")
        .arg("--preload")
        .arg(format!("env={}", fiber_wat().display()))
        .arg(&wasm)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let child = Started(child);
    assert!(line.starts_with("ready: 5 fibers live"), "{line}");
    let pid = child.0.id().to_string();
    let o = switchyard().args(["bt", "--pid", &pid]).output().unwrap();
    let (out, err, code) = common::outcome(o);
    assert_eq!(code, Some(0), "{err}");
    assert_named_groups(&out, "bt --pid");
    let o = switchyard()
        .args(["bt", "--format", "json", "--pid", &pid])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_named_json(&json["continuations"], "bt --format json");
    assert_eq!(json["groups"], serde_json::json!([[1, 2, 3], [4, 5]]));
    // gdb's `info continuations` (the same rule, in Python).
    if common::debuggers::have_gdb() {
        let mut cmd = common::debuggers::gdb_batch();
        cmd.args(["-ex", "info continuations"])
            .args(["-ex", "info continuations -group"])
            .args(["-p", &pid]);
        let text = common::debuggers::interleaved_output(cmd);
        for id in 1..=5 {
            let function = if id <= 3 { "alpha" } else { "beta" };
            let row = text
                .lines()
                .find(|l| {
                    let mut cells = l.split_whitespace();
                    cells.next() == Some(&id.to_string()) && cells.next() == Some("fresh")
                })
                .unwrap_or_else(|| panic!("gdb: no row {id} in:\n{text}"));
            assert!(
                row.contains(&format!("fresh!{function} (entry fiber!entry)")),
                "gdb: {row}"
            );
        }
        assert!(
            text.contains("\n3 fresh!alpha fresh, created by ")
                && text.contains("\n2 fresh!beta fresh, created by "),
            "gdb:\n{text}"
        );
    }
    drop(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn only_a_forwarding_entry_with_a_bound_callee_names_a_fresh_continuation() {
    let wat = root().join("tests/fresh/entries.wat");
    let o = switchyard()
        .args(["run", "--invoke", "park", "--backtrace-all"])
        .arg(&wat)
        .output()
        .unwrap();
    let (_, err, code) = common::outcome(o);
    assert_eq!(code, Some(134), "{err}");
    // The heading of each continuation, and the line under it.
    let block = |id: u64| -> (String, String) {
        let mut lines = err
            .lines()
            .skip_while(|l| !l.starts_with(&format!("#{id} ")));
        let heading = lines
            .next()
            .unwrap_or_else(|| panic!("no #{id} in:\n{err}"));
        (heading.to_string(), lines.next().unwrap_or("").to_string())
    };
    // call_indirect of a bound table index: the table's element.
    let (heading, under) = block(1);
    assert!(
        heading.starts_with("#1 fresh!target_index fresh, "),
        "{err}"
    );
    assert_eq!(under, "  (not started, entry fresh!by_index)", "{err}");
    // call_ref of a bound funcref.
    let (heading, under) = block(2);
    assert!(heading.starts_with("#2 fresh!target_ref fresh, "), "{err}");
    assert_eq!(under, "  (not started, entry fresh!by_ref)", "{err}");
    // The same forwarding entry with nothing bound: its entry.
    let (heading, under) = block(3);
    assert!(heading.starts_with("#3 fresh!by_index fresh, "), "{err}");
    assert_eq!(under, "  (not started)", "{err}");
    // An entry that does the work itself: its entry.
    let (heading, under) = block(4);
    assert!(heading.starts_with("#4 fresh!plain fresh, "), "{err}");
    assert_eq!(under, "  (not started)", "{err}");
}
