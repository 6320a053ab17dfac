//! `switchyard bt` on a real process blocked in a host call at the bottom
//! of a 5-stack resume chain, and on a core file of it made by gcore.

mod common;

use common::switchyard;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the blocked program; it waits for a line on stdin.
fn start_blocked() -> Child {
    let wat = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/bt/blocked.wat");
    switchyard()
        .args(["run", wat])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start switchyard run")
}

/// `switchyard bt` output once the program has reached its host call.
fn bt_when_blocked(args: &[String]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let o = switchyard().arg("bt").args(args).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if o.status.success() && text.contains("read_stdin") {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "bt never saw the blocked call: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn assert_in_order(text: &str, expected: &[&str]) {
    let mut rest = text;
    for e in expected {
        let at = rest
            .find(e)
            .unwrap_or_else(|| panic!("{e:?} missing or out of order in:\n{text}"));
        rest = &rest[at + e.len()..];
    }
}

const CHAIN: &[&str] = &[
    "(in a host call from Wasm)",
    "blocked!read_stdin",
    "blocked!level",
    "was resumed here",
    "blocked!level",
    "was resumed here",
    "blocked!level",
    "was resumed here",
    "blocked!level",
    "was resumed here",
    "blocked!level",
    "was resumed here",
    "blocked!_start",
    "live continuations not running:",
    "#1 blocked!sleeper suspended on $park for ",
    "caught by blocked!park_one in #0, created by blocked!_start in #0",
    "blocked!nap",
    "blocked!sleeper",
    "#2 blocked!sleeper suspended on $park",
    "blocked!nap",
    "blocked!sleeper",
];

#[test]
fn bt_pid_shows_every_stack_and_lets_the_process_go_on() {
    let mut child = start_blocked();
    let pid = child.id().to_string();
    let text = bt_when_blocked(&["--pid".into(), pid.clone()]);
    assert!(
        text.starts_with("7 continuations: 5 running, 2 suspended\n"),
        "{text}"
    );
    assert_in_order(&text, CHAIN);
    assert_eq!(text.matches("was resumed here").count(), 5, "{text}");
    // The engine's clock thread runs in this process but is left out.
    let names: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .collect();
    assert!(
        names.iter().any(|n| n.trim() == "switchyard-clk"),
        "no clock thread: {names:?}"
    );
    assert!(!text.contains("not running Wasm"), "{text}");
    let json = switchyard()
        .args(["bt", "--format", "json", "--pid", &pid])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&json.stdout);
    assert!(
        json.starts_with(r#"{"threads":[{"tid":"#) && json.contains(r#""kind":"boundary""#),
        "{json}"
    );
    // The process was only paused: it finishes once it gets its line.
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(child.wait().unwrap().success());
}

/// With `--full`, the host frames below the entry into Wasm are unwound
/// from the binaries' CFI (libc's start code keeps no frame pointer) and
/// named from their symbol tables, down to `_start`.
#[test]
fn bt_full_names_host_frames_down_to_start() {
    let mut child = start_blocked();
    let pid = child.id().to_string();
    let text = bt_when_blocked(&["--full".into(), "--pid".into(), pid]);
    assert_in_order(
        &text,
        &[
            "blocked!read_stdin",
            "blocked!_start",
            "switchyard_enter_wasm",
            "-- entered from the host",
            "switchyard_engine::runtime::func::invoke",
            "switchyard::run::main",
            "main+",
            "__libc_start_main+",
            "_start+",
            "live continuations not running:",
        ],
    );
    assert!(!text.contains("walk ended"), "{text}");
    assert_eq!(text.matches("switchyard_enter_wasm").count(), 1, "{text}");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn bt_core_reads_a_core_file_made_by_gcore() {
    if Command::new("gcore").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "gcore (gdb) is needed (CI is set)"
        );
        eprintln!("SKIPPED: gcore (from gdb) is not installed");
        return;
    }
    let mut child = start_blocked();
    let pid = child.id();
    bt_when_blocked(&["--pid".into(), pid.to_string()]);
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let prefix = dir.join("blocked-core");
    let status = Command::new("gcore")
        .arg("-o")
        .arg(&prefix)
        .arg(pid.to_string())
        .output()
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(
        status.status.success(),
        "gcore failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    let core = dir.join(format!("blocked-core.{pid}"));
    let o = switchyard()
        .args(["bt", "--exe", env!("CARGO_BIN_EXE_switchyard"), "--core"])
        .arg(&core)
        .output()
        .unwrap();
    // With --full, the host frames come from the core's mapped files'
    // CFI and symbols, down to `_start`.
    let full = switchyard()
        .args(["bt", "--full", "--core"])
        .arg(&core)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&core);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_in_order(&text, CHAIN);
    // The clock thread is in the core too (it lists every thread), found by
    // the id the registry keeps, since a core has no thread names.
    assert!(!text.contains("not running Wasm"), "{text}");
    let full = String::from_utf8_lossy(&full.stdout);
    assert_in_order(
        &full,
        &[
            "blocked!read_stdin",
            "-- entered from the host",
            "switchyard::run::main",
            "__libc_start_main+",
            "_start+",
            "live continuations not running:",
        ],
    );
}

#[test]
fn bt_reports_bad_targets_in_one_line() {
    for (args, what) in [
        (vec!["--pid", "999999999"], "no process with pid"),
        (vec!["--core", "/nonexistent/core"], "/nonexistent/core"),
    ] {
        let o = switchyard().arg("bt").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(what), "{err}");
    }
    // A process that is not a Switchyard program.
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let o = switchyard()
        .args(["bt", "--pid", &sleeper.id().to_string()])
        .output()
        .unwrap();
    sleeper.kill().unwrap();
    let _ = sleeper.wait();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("no switchyard_registry symbol"),
        "{err}"
    );
}
