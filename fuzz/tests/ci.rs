//! The fuzzer in CI: a fixed-seed run that must find nothing, and proof
//! that a crash (a real SIGSEGV), a hang and a panic of a case are caught
//! as findings, saved, and do not stop the run.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fuzz(test: &str, args: &[&str]) -> (Output, String, PathBuf) {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz")
        .join(test);
    let _ = std::fs::remove_dir_all(&out);
    let output = Command::new(env!("CARGO_BIN_EXE_switchyard-fuzz"))
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run switchyard-fuzz");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text, out)
}

/// The short run CI makes: every target, a fixed seed and number of cases
/// (about a minute and a half on two cores).
#[test]
fn fixed_seed_run_finds_nothing() {
    let (output, text, _) = fuzz(
        "fixed",
        &["--seed", "2024", "--cases", "2400", "--seconds", "900"],
    );
    println!("{text}");
    assert!(output.status.success(), "{text}");
    assert!(text.contains("2400 executions"), "{text}");
    assert!(text.contains(" 0 findings"), "{text}");
}

fn assert_caught(kind: &str, expected: &str) {
    let (output, text, out) = fuzz(
        kind,
        &[
            "--selftest",
            kind,
            "--seed",
            "7",
            "--cases",
            "4",
            "--target",
            "smith",
            "--case-timeout",
            "3",
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("FINDING smith:7: {expected}")),
        "{text}"
    );
    // The run went on after the finding.
    assert!(text.contains("4 executions"), "{text}");
    for ext in ["txt", "wasm", "wat"] {
        assert!(
            out.join(format!("smith-7.{ext}")).exists(),
            "no .{ext} saved:\n{text}"
        );
    }
}

#[test]
fn a_crash_is_a_finding() {
    assert_caught(
        "crash",
        "crash: the worker process ended: signal: 11 (SIGSEGV)",
    );
}

#[test]
fn a_hang_is_a_finding() {
    assert_caught("hang", "hang: still running after 3 s");
}

#[test]
fn a_panic_is_a_finding() {
    assert_caught("panic", "panic: selftest panic");
}
