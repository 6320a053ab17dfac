//! Thousands of continuations, readable: tests/programs/fibers/many.c
//! (C via clang, on the WAT fiber library whose `$entry` starts every
//! fiber) seen through `switchyard run` (trap report, `--backtrace-all`,
//! `--leaks`), `switchyard bt --pid` and gdb's `info continuations`. Every
//! view must name a fiber by its own function (`worker`, `crasher`), not
//! by the library's `fiber!entry`, and say where it was created.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use common::{Started, fiber_wat, root, run_on_fibers, switchyard, temp_dir};

/// many.c built at `opt` into `dir`; `None` when clang or the WASI sysroot
/// is missing.
fn build_many(dir: &Path, opt: &str) -> Option<PathBuf> {
    let flags = [&[opt], common::c::FIBER_FLAGS].concat();
    common::c::build(
        &root().join("tests/programs/fibers/many.c"),
        &dir.join(format!("many{opt}.wasm")),
        &flags,
    )
}

fn many(name: &str, opt: &str) -> Option<(PathBuf, PathBuf)> {
    let dir = temp_dir(name);
    build_many(&dir, opt).map(|wasm| (dir, wasm))
}

/// Starts many.c with `n` parked fibers and waits until it says so.
fn start_parked(wasm: &Path, n: usize) -> Started {
    let mut child = switchyard()
        .arg("run")
        .arg("--preload")
        .arg(format!("env={}", fiber_wat().display()))
        .arg(wasm)
        .arg(n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("ready:"), "{line}");
    Started(child)
}

#[test]
fn a_trap_inside_a_fiber_names_the_fiber_by_its_function() {
    for opt in ["-O0", "-O2"] {
        let Some((dir, wasm)) = many("fibers-trap", opt) else {
            return;
        };
        let module = wasm.file_stem().unwrap().to_string_lossy().into_owned();
        let (_, err, code) = run_on_fibers(&wasm, &["--backtrace-all"], &["3", "trap"]);
        assert_eq!(code, Some(134), "{err}");
        assert!(err.contains("integer divide by zero"), "{err}");
        // The trapping fiber, by its function, its entry beside it.
        let crasher = format!("continuation #7 {module}!crasher (entry fiber!entry)");
        assert!(err.contains(&crasher), "{opt}: no `{crasher}` in:\n{err}");
        // --backtrace-all: one group for the three parked workers, named,
        // with their wait and creation site, and a summary first.
        assert!(
            err.contains("6 continuations: 3 fresh, 3 suspended"),
            "{opt}:\n{err}"
        );
        let group = format!("3 continuations {module}!worker suspended on $yield for ");
        assert!(err.contains(&group), "{opt}: no `{group}` in:\n{err}");
        assert!(
            err.contains("created by fiber_init at fiber.h:") && err.contains(": #1 #2 #3\n"),
            "{opt}:\n{err}"
        );
        assert!(!err.contains("fiber!entry suspended"), "{opt}:\n{err}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn abandoned_fibers_are_reported_by_creation_site() {
    let Some((dir, wasm)) = many("fibers-leak", "-O2") else {
        return;
    };
    let (out, err, code) = run_on_fibers(&wasm, &["--leaks"], &["50", "leak"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("abandoned 50 fibers, 50 live"), "{out}");
    assert!(
        err.contains("switchyard: 50 continuations never finished, by creation site:"),
        "{err}"
    );
    assert!(
        err.contains("  50 created by fiber_init at fiber.h:")
            && err.contains("in #0 (50 suspended): #1 #2 #3 … #50"),
        "{err}"
    );
    // Nothing left behind: nothing said.
    let (_, err, _) = run_on_fibers(&wasm, &["--leaks"], &["0", "leak"]);
    assert!(!err.contains("never finished"), "{err}");
    // --warn-suspended-ms: a threshold nobody reached lists nobody; 0 all.
    let (_, err, _) = run_on_fibers(&wasm, &["--warn-suspended-ms", "0"], &["2", "leak"]);
    assert!(
        err.contains("2 continuations suspended for 0 ms or longer:")
            && err.contains("#1 many-O2!worker suspended on $yield for "),
        "{err}"
    );
    let (_, err, code) = run_on_fibers(&wasm, &["--warn-suspended-ms", "soon"], &["2", "leak"]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bt_groups_ten_thousand_fibers_into_a_few_lines() {
    let Some((dir, wasm)) = many("fibers-bt", "-O2") else {
        return;
    };
    let child = start_parked(&wasm, 10_000);
    let started = Instant::now();
    let o = switchyard()
        .args(["bt", "--pid", &child.id().to_string()])
        .output()
        .unwrap();
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    eprintln!("bt --pid on 10,003 continuations: {took:?}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0], "10003 continuations: 10000 suspended, 3 fresh",
        "{text}"
    );
    assert!(lines.len() < 40, "{} lines:\n{text}", lines.len());
    let group = lines
        .iter()
        .find(|l| l.starts_with("10000 continuations many-O2!worker suspended on $yield for "))
        .unwrap_or_else(|| panic!("no group of workers:\n{text}"));
    assert!(
        group.contains("caught by fiber!fiber_resume in #0")
            && group.contains("created by fiber_init at fiber.h:")
            && group.ends_with(": #1 #2 #3 … #10000"),
        "{group}"
    );
    assert!(
        text.contains(
            "3 continuations many-O2!never_started fresh, created by fiber_init at fiber.h:"
        ),
        "{text}"
    );
    // --no-group: every continuation on its own.
    let o = switchyard()
        .args(["bt", "--no-group", "--pid", &child.id().to_string()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let workers = text
        .lines()
        .filter(|l| l.contains(" many-O2!worker suspended on $yield"))
        .count();
    assert_eq!(workers, 10_000);
    // JSON: names, creation sites, waits, and the groups by id.
    let o = switchyard()
        .args(["bt", "--format", "json", "--pid", &child.id().to_string()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["groups"][0].as_array().unwrap().len(), 10_000);
    let first = &json["continuations"][0];
    assert_eq!(first["name"], "many-O2!worker");
    assert_eq!(first["entry"], "fiber!entry");
    assert_eq!(first["waiting_on"], "$yield");
    assert!(
        first["created"]
            .as_str()
            .unwrap()
            .starts_with("fiber_init at fiber.h:"),
        "{first}"
    );
    drop(child);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn gdb_lists_fibers_by_name_and_in_groups() {
    if !common::debuggers::have_gdb() {
        return;
    }
    let Some((dir, wasm)) = many("fibers-gdb", "-O2") else {
        return;
    };
    let child = start_parked(&wasm, 20);
    let attach = |command: &str| {
        let mut cmd = common::debuggers::gdb_batch();
        cmd.args(["-ex", command])
            .arg("-p")
            .arg(child.id().to_string());
        common::debuggers::interleaved_output(cmd)
    };
    let table = attach("info continuations");
    assert!(
        table.contains("23 continuations: 20 suspended, 3 fresh"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|l| l.starts_with("1 "))
        .unwrap_or_else(|| panic!("no row 1:\n{table}"));
    assert!(
        row.contains("many-O2!worker (entry fiber!entry)")
            && row.contains("$yield")
            && row.contains("fiber.h:")
            && row.ends_with(" in #0"),
        "{row}"
    );
    let grouped = attach("info continuations -group");
    assert!(
        grouped.contains("20 many-O2!worker suspended on $yield ")
            && grouped.contains(": #1 #2 #3 … #20"),
        "{grouped}"
    );
    assert!(
        grouped.contains("3 many-O2!never_started fresh, created by ")
            && grouped.contains(": #21 #22 #23"),
        "{grouped}"
    );
    let bad = attach("info continuations -grop");
    assert!(bad.contains("usage: info continuations [-group]"), "{bad}");
    drop(child);
    let _ = std::fs::remove_dir_all(dir);
}

/// gdb on 10,000 parked fibers: `-group` folds them into one group with
/// the right count, its stack and creation site; the table has a row for
/// every one. (How long it takes is measured by hand: docs/continuations.md.)
#[test]
fn gdb_groups_ten_thousand_fibers() {
    if !common::debuggers::have_gdb() {
        return;
    }
    let Some((dir, wasm)) = many("fibers-gdb-many", "-O2") else {
        return;
    };
    let child = start_parked(&wasm, 10_000);
    let mut cmd = common::debuggers::gdb_batch();
    cmd.args(["-ex", "info continuations -group"])
        .args(["-ex", "echo ---- table\\n", "-ex", "info continuations"])
        .arg("-p")
        .arg(child.id().to_string());
    let out = common::debuggers::interleaved_output(cmd);
    let (grouped, table) = out
        .split_once("---- table\n")
        .unwrap_or_else(|| panic!("gdb stopped early:\n{out}"));
    let summary = "10003 continuations: 10000 suspended, 3 fresh";
    assert!(grouped.contains(summary), "{grouped}");
    let lines: Vec<&str> = grouped.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("10000 many-O2!worker suspended on $yield "))
        .unwrap_or_else(|| panic!("no group of 10000 workers:\n{grouped}"));
    assert!(
        lines[at].contains(", created by many-O2!spawn_worker at ")
            && lines[at].contains("fiber.h:")
            && lines[at].ends_with(" in #0: #1 #2 #3 … #10000"),
        "{}",
        lines[at]
    );
    // The group's stack, symbolized once: where it switched, the worker.
    assert_eq!(
        lines.get(at + 1),
        Some(&"    fiber!fiber_yield"),
        "{grouped}"
    );
    assert!(
        lines
            .get(at + 2)
            .is_some_and(|l| l.starts_with("    many-O2!worker at ") && l.contains("fiber.h:")),
        "{grouped}"
    );
    assert!(
        grouped.contains("3 many-O2!never_started fresh, created by ")
            && grouped.contains(": #10001 #10002 #10003"),
        "{grouped}"
    );
    // Two groups, nothing else: the summary, the workers and their three
    // frames, the fresh ones.
    let groups = lines
        .iter()
        .filter(|l| l.contains(" created by ") && !l.starts_with(' '))
        .count();
    assert_eq!(groups, 2, "{grouped}");
    // The table: the summary, then one row per continuation.
    assert!(table.contains(summary), "{table}");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip_while(|l| !l.starts_with("ID "))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|f: &Vec<&str>| f.len() > 8 && f[0].parse::<u64>().is_ok())
        .collect();
    let workers = rows
        .iter()
        .filter(|f| {
            f[1..6]
                == [
                    "suspended",
                    "many-O2!worker",
                    "(entry",
                    "fiber!entry)",
                    "fiber!fiber_yield",
                ]
                && f[8] == "$yield"
                && f[f.len() - 2..] == ["in", "#0"]
        })
        .count();
    assert_eq!(workers, 10_000, "{}", &table[..table.len().min(4000)]);
    let fresh = rows
        .iter()
        .filter(|f| {
            f[1..6]
                == [
                    "fresh",
                    "many-O2!never_started",
                    "(entry",
                    "fiber!entry)",
                    "(not",
                ]
        })
        .count();
    assert_eq!(fresh, 3, "{}", &table[table.len().saturating_sub(2000)..]);
    assert_eq!(rows.len(), 10_003);
    drop(child);
    let _ = std::fs::remove_dir_all(dir);
}
