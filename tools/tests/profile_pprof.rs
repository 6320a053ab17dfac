//! `switchyard profile -o out.pb.gz`: the real `go tool pprof` reads the
//! profile, ranks its functions (`-top`) and lists the continuation labels
//! (`-tags`); `--off-cpu` adds how long each continuation waited
//! suspended, in the text summary and as pprof's `suspended` sample type.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{root, switchyard, temp_dir};

/// Whether `go` can be used; in CI its absence fails the test.
fn have_go() -> bool {
    let ok = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "go is required in CI to read pprof profiles (.ci/run installs golang)"
        );
        eprintln!("skipping: go is not installed");
    }
    ok
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// `go tool pprof ARGS FILE`, with its caches in `dir`.
fn pprof(dir: &Path, args: &[&str], file: &Path) -> String {
    let o = Command::new("go")
        .args(["tool", "pprof"])
        .args(args)
        .arg(file)
        .env("HOME", dir)
        .env("PPROF_TMPDIR", dir)
        .output()
        .unwrap();
    ok(&o)
}

#[test]
fn go_tool_pprof_reads_the_profile_and_its_continuation_labels() {
    if !have_go() {
        return;
    }
    let dir = temp_dir("profile-pprof");
    let out = dir.join("out.pb.gz");
    let o = switchyard()
        .args(["profile", "--hz", "2000", "-o"])
        .arg(&out)
        .args(["--invoke", "run"])
        .arg(root().join("tests/profile/nested_hot.wat"))
        .arg("1500")
        .output()
        .unwrap();
    let stderr = ok(&o);
    assert!(stderr.contains("samples written to"), "{stderr}");
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "gzipped");

    let top = pprof(&dir, &["-top"], &out);
    let hot = top
        .lines()
        .find(|l| l.trim_end().ends_with("nested_hot!hot"))
        .unwrap_or_else(|| panic!("{top}"));
    // flat  flat%  sum%  cum  cum%  name: most of the time is in hot.
    let flat_percent: f64 = hot
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(flat_percent >= 80.0, "{top}");
    assert!(top.contains("Type: wall"), "{top}");

    let tags = pprof(&dir, &["-tags"], &out);
    assert!(tags.contains("continuation_name:"), "{tags}");
    assert!(tags.contains("nested_hot!inner"), "{tags}");
    assert!(tags.contains("continuation:"), "{tags}");
    // The inner continuation was created by $outer, the outer one (which
    // may get a sample or two) by $run (no DWARF: named `module!function`,
    // as `bt` names such a site).
    let created_at = label_values(&tags, "created_at");
    assert!(created_at.iter().any(|s| s == "nested_hot!outer"), "{tags}");
    assert!(
        created_at
            .iter()
            .all(|s| s == "nested_hot!outer" || s == "nested_hot!run"),
        "{tags}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The values `go tool pprof -tags` lists under label `key`.
fn label_values(tags: &str, key: &str) -> Vec<String> {
    let mut lines = tags
        .lines()
        .skip_while(|l| !l.trim_start().starts_with(&format!("{key}:")));
    lines.next();
    lines
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| Some(l.split_once("): ")?.1.trim().to_string()))
        .collect()
}

#[test]
fn a_c_fiber_is_labelled_with_the_line_that_created_it() {
    if !have_go() {
        return;
    }
    let dir = temp_dir("profile-pprof-site");
    let Some(wasm) = common::build_hot_generator(&dir) else {
        return;
    };
    let out = dir.join("p.pb.gz");
    let preload = format!("env={}", common::fiber_wat().display());
    let o = switchyard()
        .args(["profile", "-o"])
        .arg(&out)
        .args(["--preload", &preload])
        .arg(&wasm)
        .arg("4000")
        .output()
        .unwrap();
    ok(&o);
    // main's `fiber_new(generator, n)`: the first frame outside the fiber
    // library that ran cont.new, named from the DWARF as `bt` and the
    // trap report name creation sites.
    let source = std::fs::read_to_string(root().join("tests/profile/hot_generator.c")).unwrap();
    let line = 1 + source
        .lines()
        .position(|l| l.contains("fiber_new(generator"))
        .unwrap();
    let tags = pprof(&dir, &["-tags"], &out);
    let created_at = label_values(&tags, "created_at");
    assert_eq!(created_at.len(), 1, "{tags}");
    assert!(
        created_at[0].ends_with(&format!(" at hot_generator.c:{line}")),
        "{tags}"
    );
    // Samples on the host stack (main, between resumes) carry `host`.
    let names = label_values(&tags, "continuation_name");
    assert!(names.iter().any(|n| n == "hot!generator"), "{tags}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn off_cpu_time_says_who_waited_and_who_ran() {
    let dir = temp_dir("profile-off-cpu");
    let wat = root().join("tests/profile/waiting.wat");
    // The text summary.
    let o = switchyard()
        .args(["profile", "--hz", "1000", "--off-cpu", "--invoke", "run"])
        .arg(&wat)
        .arg("300000000")
        .output()
        .unwrap();
    let text = ok(&o);
    let table = text
        .split("off-CPU: ")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let row = |entry: &str| -> (f64, f64) {
        let line = table
            .lines()
            .find(|l| l.trim_end().ends_with(entry))
            .unwrap_or_else(|| panic!("{entry}: {text}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols[0].parse().unwrap(), cols[1].parse().unwrap())
    };
    let (worker_running, worker_suspended) = row("waiting!worker");
    let (sleeper_running, sleeper_suspended) = row("waiting!sleeper");
    assert!(worker_running > 20.0, "{text}");
    assert_eq!(worker_suspended, 0.0, "{text}");
    // The sleeper waited while the worker ran, and hardly ran itself.
    assert!(sleeper_suspended >= worker_running, "{text}");
    assert!(sleeper_running * 100.0 < worker_running, "{text}");

    if !have_go() {
        return;
    }
    // pprof: the suspended time as its own sample type.
    let out = dir.join("off.pb.gz");
    let o = switchyard()
        .args(["profile", "--hz", "1000", "--off-cpu", "-o"])
        .arg(&out)
        .args(["--invoke", "run"])
        .arg(&wat)
        .arg("300000000")
        .output()
        .unwrap();
    ok(&o);
    let top = pprof(&dir, &["-sample_index=suspended", "-top"], &out);
    assert!(top.contains("Type: suspended"), "{top}");
    assert!(top.contains("[suspended]"), "{top}");
    assert!(top.contains("[continuation waiting!sleeper]"), "{top}");
    let tags = pprof(&dir, &["-sample_index=suspended", "-tags"], &out);
    assert!(tags.contains("waiting!sleeper"), "{tags}");
    assert!(tags.contains("created_by:"), "{tags}");
    assert!(tags.contains("host"), "{tags}");
    let on_cpu = pprof(&dir, &["-top"], &out);
    assert!(on_cpu.contains("waiting!hot"), "{on_cpu}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_pprof_and_off_cpu_flags_fail_with_one_line() {
    let wat = root().join("tests/profile/waiting.wat");
    for (args, expected) in [
        (
            vec!["--off-cpu-events", "2"],
            "give between 16 and 1g events",
        ),
        (
            vec!["-o", "/nonexistent-dir/p.pb.gz"],
            "cannot write /nonexistent-dir/p.pb.gz",
        ),
    ] {
        let o = switchyard()
            .arg("profile")
            .args(&args)
            .args(["--invoke", "run"])
            .arg(&wat)
            .arg("10")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
