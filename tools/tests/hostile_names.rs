//! A valid module whose every name holds a NUL byte and other control
//! characters (terminal escapes, newlines, a right-to-left override): it
//! runs, and every tool shows its names escaped (`\u{0}`), never raw: the
//! trap report, `switchyard bt`, gdb's backtrace and the perf map.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{require, switchyard};

/// `_start` blocks reading stdin at the bottom of a 3-deep resume chain,
/// with one continuation suspended in a table; `run N` divides 1 by N in a
/// continuation.
const HOSTILE: &str = r#"
(module $"hostile\00\1b[31m\0a"
  (import "wasi_snapshot_preview1" "fd_read"
    (func $"fd\00read\1b[2J" (param i32 i32 i32 i32) (result i32)))
  (type $"ty\00pe\07" (func (param i32)))
  (type $"co\00nt\08" (cont $"ty\00pe\07"))
  (type $"no\00thing" (func))
  (type $"pa\00rked" (cont $"no\00thing"))
  (tag $"pa\00rk\0d")
  (memory $"me\00mory" (export "memory") 1)
  (global $"re\00sult\7f" (export "re\00sult\0a") (mut i32) (i32.const 0))
  (table $"par\00ked\1b" (export "ta\00ble") 1 (ref null $"pa\00rked"))
  (elem declare func $"wo\00rker\e2\80\ae" $"lev\00el\c2\85" $"sle\00eper")
  (func $"div\00ide\0a" (export "div\00ide") (param $"n\00" i32) (result i32)
    (i32.div_s (i32.const 1) (local.get $"n\00")))
  (func $"wo\00rker\e2\80\ae" (param $"n\00" i32)
    (global.set $"re\00sult\7f" (call $"div\00ide\0a" (local.get $"n\00"))))
  (func (export "run") (param $"n\00" i32) (result i32)
    (resume $"co\00nt\08" (local.get $"n\00")
      (cont.new $"co\00nt\08" (ref.func $"wo\00rker\e2\80\ae")))
    (global.get $"re\00sult\7f"))
  (func $"re\00ad\1b]0;title\07"
    (i32.store (i32.const 0) (i32.const 64))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $"fd\00read\1b[2J" (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 32))))
  (func $"lev\00el\c2\85" (param $"d\00" i32)
    (if (i32.eqz (local.get $"d\00")) (then (call $"re\00ad\1b]0;title\07") (return)))
    (resume $"co\00nt\08" (i32.sub (local.get $"d\00") (i32.const 1))
      (cont.new $"co\00nt\08" (ref.func $"lev\00el\c2\85"))))
  (func $"sle\00eper" (suspend $"pa\00rk\0d"))
  (func $"_st\00art" (export "_start")
    (local $"k\00" (ref null $"pa\00rked"))
    (block $"h\00" (result (ref $"pa\00rked"))
      (resume $"pa\00rked" (on $"pa\00rk\0d" $"h\00")
        (cont.new $"pa\00rked" (ref.func $"sle\00eper")))
      (unreachable))
    (local.set $"k\00")
    (table.set $"par\00ked\1b" (i32.const 0) (local.get $"k\00"))
    (resume $"co\00nt\08" (i32.const 2)
      (cont.new $"co\00nt\08" (ref.func $"lev\00el\c2\85")))))
"#;

/// The module's name as every tool shows it.
const MODULE: &str = r"hostile\u{0}\u{1b}[31m\u{a}";

/// The module, written for test `test` (tests run in parallel).
fn module_file(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("hostile_names")
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.wat");
    std::fs::write(&path, HOSTILE).unwrap();
    path
}

/// `module!function` as shown.
fn shown(function: &str) -> String {
    format!("{MODULE}!{function}")
}

/// Fails if `text` holds a character that could drive a terminal or
/// reorder a line: control characters other than newline and tab, or a
/// bidirectional override.
fn assert_no_raw_controls(text: &str, what: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}')
        .collect();
    assert!(bad.is_empty(), "{what} printed raw {bad:?}:\n{text}");
}

#[test]
fn run_reports_a_trap_with_escaped_names() {
    let module = module_file("run");
    let ok = switchyard()
        .args(["run", "--invoke", "run"])
        .arg(&module)
        .arg("1")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout), "1\n");

    let trap = switchyard()
        .args(["run", "--invoke", "run"])
        .arg(&module)
        .arg("0")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&trap.stderr);
    assert_eq!(trap.status.code(), Some(134), "{stderr}");
    assert_no_raw_controls(&stderr, "the trap report");
    for expected in [
        format!("  in {}\n", shown(r"div\u{0}ide\u{a}")),
        format!("- {}\n", shown(r"div\u{0}ide\u{a}")),
        format!("- {}\n", shown(r"wo\u{0}rker\u{202e}")),
        format!(
            "-- continuation #1 ({}) was resumed here",
            shown(r"wo\u{0}rker\u{202e}")
        ),
        format!("- {}\n", shown("run")),
    ] {
        assert!(
            stderr.contains(&expected),
            "{expected:?} missing:\n{stderr}"
        );
    }
}

#[test]
fn perf_map_lines_stay_one_per_function() {
    let module = module_file("perf_map");
    let child = switchyard()
        .args(["run", "--profile=perfmap", "--invoke", "run"])
        .arg(&module)
        .arg("1")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let path = std::env::temp_dir().join(format!("perf-{pid}.map"));
    let map = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_no_raw_controls(&map, "the perf map");
    let named: Vec<&str> = map.lines().filter(|l| l.contains(MODULE)).collect();
    // `div`, `worker`, `run`, `read`, `level`, `sleeper`, `_start`.
    assert_eq!(named.len(), 7, "{map}");
    for line in named {
        let fields: Vec<&str> = line.splitn(3, ' ').collect();
        assert!(
            u64::from_str_radix(fields[0], 16).is_ok()
                && u64::from_str_radix(fields[1], 16).is_ok(),
            "{line}"
        );
    }
    assert!(
        map.contains(&shown(r"re\u{0}ad\u{1b}]0;title\u{7}")),
        "{map}"
    );
}

/// Starts `_start`, which blocks reading stdin.
fn start_blocked() -> Child {
    switchyard()
        .arg("run")
        .arg(module_file("bt"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start switchyard run")
}

#[test]
fn bt_pid_shows_escaped_names() {
    let mut child = start_blocked();
    let pid = child.id().to_string();
    let read = shown(r"re\u{0}ad\u{1b}]0;title\u{7}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let o = switchyard()
            .args(["bt", "--pid", &pid])
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if o.status.success() && text.contains(&read) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "bt never saw the blocked call: {text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(child.stdin.take());
    let _ = child.wait();
    assert_no_raw_controls(&text, "switchyard bt");
    let level = shown(r"lev\u{0}el\u{85}");
    let sleeper = shown(r"sle\u{0}eper");
    let mut rest = text.as_str();
    for expected in [
        read.clone(),
        level.clone(),
        format!("continuation #4 ({level}) was resumed here"),
        shown(r"_st\u{0}art"),
        format!("#1 {sleeper} suspended"),
        sleeper.clone(),
    ] {
        let at = rest
            .find(&expected)
            .unwrap_or_else(|| panic!("{expected:?} missing or out of order in:\n{text}"));
        rest = &rest[at + expected.len()..];
    }
}

#[test]
fn gdb_backtrace_shows_escaped_names() {
    let have_gdb = Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "print 1"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !require(have_gdb, "gdb is not installed") {
        return;
    }
    let module = module_file("gdb");
    // The trap's ud2 stops gdb (SIGILL) in the innermost Wasm frame.
    let out = Command::new("gdb")
        .args(["-batch", "-nx"])
        .args(["-ex", "set pagination off", "-ex", "set width 0"])
        .args(["-ex", "run", "-ex", "bt"])
        .arg("--args")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .args(["run", "--invoke", "run"])
        .arg(&module)
        .arg("0")
        .env_remove("SWITCHYARD_GDB")
        .stdin(Stdio::null())
        .output()
        .expect("gdb runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let frames: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
    let frames = frames.join("\n");
    assert!(
        frames.starts_with(&format!("#0  {} ()", shown(r"div\u{0}ide\u{a}"))),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        frames.contains(&format!("{} ()", shown(r"wo\u{0}rker\u{202e}"))),
        "{text}"
    );
    assert!(frames.contains(&format!("{} ()", shown("run"))), "{text}");
    assert_no_raw_controls(&frames, "gdb's bt");
}
