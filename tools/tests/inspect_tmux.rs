//! `switchyard inspect` end to end in a real terminal (tmux): live
//! stepping of a generator, a snapshot of a trap, a process attached
//! read-only (and kept on screen after it exits), the help, break points
//! on functions deep in a stack, wide terminals, and the error cases, each
//! ending with the terminal restored.

mod common;

use common::tmux::{Tmux, have_tmux};
use common::{repo_file, switchyard};

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn assert_in_order(text: &str, expected: &[&str]) {
    let mut rest = text;
    for e in expected {
        let at = rest
            .find(e)
            .unwrap_or_else(|| panic!("{e:?} missing or out of order in:\n{text}"));
        rest = &rest[at + e.len()..];
    }
}

/// After `q`: the inspector exited 0 and the shell's screen is back.
fn assert_quits_cleanly(t: &Tmux) {
    t.keys("q");
    let screen = t.wait_for(&["EXIT=0"]);
    assert!(!screen.contains("Continuations"), "{screen}");
}

#[test]
fn stepping_yield_loop_shows_the_generator_suspended_on_its_tag() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let wat = repo_file("bench/wat/yield_loop.wat");
    let t = Tmux::start(
        "inspect-live",
        120,
        40,
        &format!("{bin} inspect {wat} --invoke run 3"),
    );
    let screen = t.wait_for(&["live: paused at event 1"]);
    assert!(
        screen.contains("1 resume #1 (yield_loop!gen) from host"),
        "{screen}"
    );
    assert!(screen.contains("#1   fresh     yield_loop!gen"), "{screen}");
    for event in 2..=4 {
        t.keys("n");
        t.wait_for(&[&format!("live: paused at event {event}")]);
    }
    let screen = t.wait_for(&["4 suspend #1 (yield_loop!gen) on $yield"]);
    assert!(
        screen.contains("#1   suspended yield_loop!gen on $yield r2"),
        "{screen}"
    );
    assert!(
        screen.contains("Backtrace of #1 (yield_loop!gen)"),
        "{screen}"
    );
    assert_in_order(
        &screen,
        &["0 yield_loop!gen", "-- bottom of #1 (yield_loop!gen)"],
    );
    // The source pane: the module's WAT listing at the suspend.
    assert!(
        screen.contains("Source: yield_loop.wat, WAT listing, at 0x46: suspend $yield"),
        "{screen}"
    );
    assert_in_order(
        &screen,
        &[
            "1 resume #1 (yield_loop!gen) from host",
            "2 suspend #1 (yield_loop!gen) on $yield",
            "3 resume #1 (yield_loop!gen) from host",
            "4 suspend #1 (yield_loop!gen) on $yield",
        ],
    );
    // The host stack runs `run`, which resumed it.
    t.keys("k");
    let screen = t.wait_for(&["Backtrace of the host stack"]);
    assert_in_order(&screen, &["0 yield_loop!run", "-- entered from the host"]);
    assert!(
        screen.contains("WAT listing, at 0x72: resume $ct0"),
        "{screen}"
    );
    // Run to the end: three yields, the last resume, the return.
    t.keys("c");
    t.wait_for(&["live: `run` returned 3", "8 return #1 (yield_loop!gen)"]);
    assert_quits_cleanly(&t);
}

#[test]
fn a_trap_snapshot_shows_the_trap_chain() {
    if !have_tmux() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("inspect-tmux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snapshot: PathBuf = dir.join("trap.json");
    let o = switchyard()
        .args(["run", "--snapshot-on-trap"])
        .arg(&snapshot)
        .arg(repo_file("tests/inspect/trap_chain.wat"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(134));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("snapshot written to"), "{stderr}");

    let bin = env!("CARGO_BIN_EXE_switchyard");
    let t = Tmux::start(
        "inspect-snapshot",
        120,
        40,
        &format!("{bin} inspect --snapshot {}", snapshot.display()),
    );
    let screen = t.wait_for(&["snapshot: post-mortem", "Backtrace of the trap"]);
    assert!(screen.contains("WAT listing, at 0x"), "{screen}");
    assert!(screen.contains(": i32.div_s"), "{screen}");
    assert!(
        screen.contains("wasm trap: integer divide by zero in trap_chain!inne"),
        "{screen}"
    );
    assert_in_order(
        &screen,
        &[
            "0 trap_chain!inner",
            "-- #3 (trap_chain!inner) was resumed here",
            "1 trap_chain!outer",
            "-- #2 (trap_chain!outer) was resumed here",
            "2 trap_chain!_start",
            "-- entered from the host",
        ],
    );
    assert!(
        screen.contains("#1   suspended trap_chain!gen on $yield"),
        "{screen}"
    );
    assert_in_order(
        &screen,
        &[
            "1 create #1 (trap_chain!gen)",
            "2 resume #1 (trap_chain!gen) from host",
            "3 suspend #1 (trap_chain!gen) on $yield",
            "4 create #2 (trap_chain!outer)",
            "5 resume #2 (trap_chain!outer) from host",
            "6 create #3 (trap_chain!inner) by #2",
            "7 resume #3 (trap_chain!inner) from #2",
            "8 trap",
        ],
    );
    // The parked generator's own stack.
    t.keys("j");
    let screen = t.wait_for(&["Backtrace of #1 (trap_chain!gen)"]);
    assert_in_order(
        &screen,
        &["0 trap_chain!gen", "-- bottom of #1 (trap_chain!gen)"],
    );
    // Stepping a snapshot is refused on the status line.
    t.keys("n");
    t.wait_for(&["read-only: stepping needs the program run under"]);
    assert_quits_cleanly(&t);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn attached_to_another_process_then_it_exits() {
    if !have_tmux() {
        return;
    }
    let mut child = switchyard()
        .args(["run", &repo_file("tests/bt/blocked.wat")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let t = Tmux::start(
        "inspect-attach",
        120,
        40,
        &format!("{bin} inspect --pid {pid}"),
    );
    // The process reaches its blocking read at the bottom of the chain.
    let screen = t.wait_for(&["attached: running", "blocked!read_stdin"]);
    assert_in_order(
        &screen,
        &[
            "0 blocked!read_stdin",
            "1 blocked!level",
            "was resumed here",
        ],
    );
    assert!(screen.contains("suspended blocked!sleeper"), "{screen}");
    // Read-only.
    t.keys("c");
    t.wait_for(&["read-only: nothing to continue"]);
    // The process goes away: the last picture stays, and the status line
    // says why it no longer changes.
    child.kill().unwrap();
    let _ = child.wait();
    let screen = t.wait_for(&[&format!(
        "attached: process {pid} has exited; the last picture is kept"
    )]);
    assert!(screen.contains("0 blocked!read_stdin"), "{screen}");
    assert!(screen.contains("suspended blocked!sleeper"), "{screen}");
    assert!(!screen.contains("EXIT="), "{screen}");
    assert_quits_cleanly(&t);
}

#[test]
fn esc_closes_the_help_and_a_second_esc_quits() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let wat = repo_file("bench/wat/yield_loop.wat");
    let t = Tmux::start(
        "inspect-help",
        120,
        40,
        &format!("{bin} inspect {wat} --invoke run 3"),
    );
    t.wait_for(&["live: paused at event 1"]);
    t.keys("?");
    t.wait_for(&["close this help; else quit"]);
    t.keys("Escape");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let screen = t.screen();
        if !screen.contains("close this help") {
            assert!(screen.contains("live: paused at event 1"), "{screen}");
            assert!(!screen.contains("EXIT="), "{screen}");
            break;
        }
        assert!(Instant::now() < deadline, "the help stayed open:\n{screen}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Still the inspector: it steps.
    t.keys("n");
    t.wait_for(&["live: paused at event 2"]);
    t.keys("Escape");
    let screen = t.wait_for(&["EXIT=0"]);
    assert!(!screen.contains("Continuations"), "{screen}");
}

#[test]
fn break_on_a_function_anywhere_on_the_switching_stack() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let wat = repo_file("tests/inspect/break_deep.wat");
    let t = Tmux::start(
        "inspect-break",
        120,
        40,
        &format!("{bin} inspect {wat} --invoke run"),
    );
    t.wait_for(&["live: paused at event 1"]);
    // Every continuation's entry is `worker`; only the second one calls
    // `compute`, which suspends.
    t.keys("b");
    t.keys("compute");
    t.keys("Enter");
    t.wait_for(&["break on compute"]);
    t.keys("c");
    let screen = t.wait_for(&["live: paused at event 6"]);
    assert!(
        screen.contains("6 suspend #2 (break_deep!worker) on $yield"),
        "{screen}"
    );
    assert_in_order(
        &screen,
        &[
            "0 break_deep!compute",
            "1 break_deep!worker",
            "-- bottom of #2",
        ],
    );
    // `compute` is still on #2's stack when it is resumed (event 7); the
    // idle worker's events (1 to 4) never stopped it.
    t.keys("c");
    let screen = t.wait_for(&["live: paused at event 7"]);
    assert!(
        screen.contains("7 resume #2 (break_deep!worker) from host"),
        "{screen}"
    );
    t.keys("c");
    t.wait_for(&["live: `run` returned 2", "8 return #2 (break_deep!worker)"]);
    assert_quits_cleanly(&t);
}

#[test]
fn rows_use_a_wide_terminal_and_large_event_numbers_fit() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let wat = repo_file("tests/inspect/long_names.wat");
    let t = Tmux::start(
        "inspect-wide",
        160,
        40,
        &format!("{bin} inspect {wat} --invoke run"),
    );
    t.wait_for(&["live: paused at event 1"]);
    t.keys("n");
    let row = "#1   suspended long_names!a_generator_with_a_long_name \
               on $waiting_for_the_next_request r1 s0";
    let screen = t.wait_for(&["live: paused at event 2"]);
    assert!(screen.contains(row), "the row is cut:\n{screen}");
    drop(t);

    // Six- and seven-digit event numbers: the newest line is whole.
    let wat = repo_file("bench/wat/yield_loop.wat");
    let t = Tmux::start(
        "inspect-many",
        120,
        40,
        &format!("{bin} inspect {wat} --invoke run 1000000"),
    );
    t.wait_for(&["live: paused at event 1"]);
    t.keys("N");
    t.keys("1000001");
    t.keys("Enter");
    let screen = t.wait_for(&["live: paused at event 1000002"]);
    // Whole lines, numbers right-aligned in a column as wide as the
    // largest.
    for line in [
        "│ 999999 resume #1 (yield_loop!gen) from host",
        "│1000001 resume #1 (yield_loop!gen) from host",
        "│1000002 suspend #1 (yield_loop!gen) on $yield",
    ] {
        assert!(screen.contains(line), "{line:?} missing:\n{screen}");
    }
    assert_quits_cleanly(&t);
}

#[test]
fn a_terminal_too_small_says_so_and_quits_cleanly() {
    if !have_tmux() {
        return;
    }
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let wat = repo_file("bench/wat/yield_loop.wat");
    let t = Tmux::start(
        "inspect-small",
        60,
        15,
        &format!("{bin} inspect {wat} --invoke run 3"),
    );
    t.wait_for(&["too small for the inspector: 60x15"]);
    assert_quits_cleanly(&t);
}

#[test]
fn bad_inputs_fail_with_one_line_before_taking_the_terminal() {
    let dir = std::env::temp_dir().join(format!("inspect-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yield_loop = repo_file("bench/wat/yield_loop.wat");
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{\"format\": 1").unwrap();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--snapshot".into(), bad.display().to_string()],
            "not a snapshot (malformed JSON".into(),
        ),
        (
            vec![
                "--snapshot".into(),
                dir.join("none.json").display().to_string(),
            ],
            "none.json: no such file".into(),
        ),
        (
            vec!["--pid".into(), "999999999".into()],
            "no process with pid 999999999".into(),
        ),
        (
            vec!["no-such-file.wat".into()],
            "no-such-file.wat: no such file".into(),
        ),
        (
            vec![yield_loop.clone()],
            "the module has no `_start` function".into(),
        ),
        (
            vec![yield_loop.clone(), "--invoke".into(), "nope".into()],
            "the module has no export named `nope`".into(),
        ),
        (
            vec![yield_loop.clone(), "--invoke".into(), "run".into()],
            "`run` takes 1 arguments".into(),
        ),
        (
            vec![
                yield_loop.clone(),
                "--invoke".into(),
                "run".into(),
                "x".into(),
            ],
            "`x` is not a valid i64".into(),
        ),
        (
            vec!["--preload".into(), "nothing".into(), yield_loop.clone()],
            "--preload expects NAME=FILE".into(),
        ),
    ];
    for (args, expected) in cases {
        let o = switchyard()
            .arg("inspect")
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(stderr.contains(&expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_a_terminal_it_says_so() {
    // setsid leaves the controlling terminal behind: /dev/tty cannot open.
    let Ok(o) = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .args([
            "inspect",
            &repo_file("bench/wat/yield_loop.wat"),
            "--invoke",
            "run",
            "3",
        ])
        .stdin(Stdio::null())
        .output()
    else {
        assert!(
            std::env::var_os("CI").is_none(),
            "setsid (util-linux) is required in CI"
        );
        eprintln!("skipping: no setsid");
        return;
    };
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: the inspector needs a terminal (/dev/tty cannot be opened): No such device or address (os error 6)"
    );
}
