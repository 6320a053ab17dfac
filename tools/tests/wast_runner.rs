//! `switchyard wast` run as a program on small scripts.

use std::path::PathBuf;
use std::process::{Command, Output};

/// Writes `text` to a fresh file named `name` in a directory of its own.
fn script(test: &str, name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("wast_runner")
        .join(test);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn wast(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("wast")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const PASSING: &str = r#"
(module $m
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "print_i32" (func $print (param i32)))
  (global (export "g") i32 (global.get $g))
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.div_s)
  (func (export "nan") (result f32) f32.const 0 f32.const 0 f32.div)
  (func (export "neg0") (result f64) f64.const -0)
  (func (export "boom") unreachable)
  (func $rec (export "rec") (param i32) (result i32)
    local.get 0 call $rec)
  (func (export "show") (param i32) local.get 0 call $print)
  (func (export "id") (param externref) (result externref) local.get 0)
  (func (export "null") (result funcref) ref.null func)
  (func (export "two") (result i32 i64) i32.const 1 i64.const 2))

(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
(assert_return (invoke $m "add" (i32.const -1) (i32.const 1)) (i32.const 0))
(assert_return (invoke "nan") (f32.const nan:canonical))
(assert_return (invoke "nan") (f32.const nan:arithmetic))
(assert_return (invoke "neg0") (f64.const -0))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern 7))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_return (invoke "null") (ref.null))
(assert_return (invoke "two") (i32.const 1) (i64.const 2))
(assert_return (get "g") (i32.const 666))
(invoke "show" (i32.const 42))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "boom") "unreachable executed")
(assert_exhaustion (invoke "rec" (i32.const 0)) "call stack exhausted")

(register "lib" $m)
(module
  (import "lib" "add" (func $add (param i32 i32) (result i32)))
  (func (export "inc") (param i32) (result i32) local.get 0 i32.const 1 call $add))
(assert_return (invoke "inc" (i32.const 41)) (i32.const 42))

(assert_invalid (module (func (result i32) i64.const 0)) "type mismatch")
(assert_malformed (module quote "(func (result i32) i32.const)") "unexpected token")
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_unlinkable (module (import "lib" "missing" (func))) "unknown import")
(assert_trap (module (func $start unreachable) (start $start)) "unreachable")
(assert_uninstantiable (module (func $start unreachable) (start $start)) "unreachable")
"#;

#[test]
fn passing_script() {
    let path = script("passing", "pass.wast", PASSING);
    let out = wast(&[path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("42 : i32\n"), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("22 passed, 0 failed"),
        "{stdout}"
    );
}

const FAILING: &str = r#"(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
(assert_return (invoke "add" (i32.const 2) (i32.const 2)) (i32.const 5))
(assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
"#;

#[test]
fn failing_assert_return() {
    let path = script("failing", "fail.wast", FAILING);
    let out = wast(&[path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let expected = format!(
        "{}:3:2: assert_return (invoke \"add\"): expected i32.const 5, got i32.const 4",
        path.display()
    );
    assert!(stdout.lines().any(|l| l == expected), "{stdout}");
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 1 failed"),
        "{stdout}"
    );
}

#[test]
fn wrong_trap_and_skipped_thread() {
    let path = script(
        "unsupported",
        "t.wast",
        r#"(module (func (export "f") unreachable))
(assert_trap (invoke "f") "integer overflow")
(thread $T (module))
"#,
    );
    let out = wast(&[path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(":2:2: assert_trap (invoke \"f\"): expected \"integer overflow\""),
        "{stdout}"
    );
    assert!(
        stdout.contains(":3:2: skipped: thread: the engine has no threads"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("0 passed, 1 failed, 1 skipped"),
        "{stdout}"
    );
}

#[test]
fn missing_file() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("wast_runner");
    let path = dir.join("no-such-script.wast");
    let out = wast(&[path.as_os_str()]);
    assert!(!out.status.success());
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-script.wast"), "{stderr}");
}

#[test]
fn script_that_does_not_parse() {
    let path = script(
        "unparsable",
        "bad.wast",
        "(module)\n(assert_return (invoke \"f\")\n",
    );
    let out = wast(&[path.as_os_str()]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad.wast:"), "{stderr}");
}

#[test]
fn json_report() {
    let path = script("json", "fail \"quoted\".wast", FAILING);
    let out = wast(&["--format".as_ref(), "json".as_ref(), path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let trimmed = stdout.trim();
    assert!(
        trimmed.starts_with('{') && trimmed.ends_with('}'),
        "{stdout}"
    );
    assert!(stdout.contains(r#"fail \"quoted\".wast""#), "{stdout}");
    assert!(stdout.contains(r#""line": 3, "column": 2"#), "{stdout}");
    assert!(stdout.contains(r#""kind": "assert_return""#), "{stdout}");
    assert!(
        stdout.contains(
            r#""message": "assert_return (invoke \"add\"): expected i32.const 5, got i32.const 4""#
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#""totals": {"passed": 1, "failed": 1, "errors": 0, "skipped": 0, "assertions": 2}"#
        ),
        "{stdout}"
    );
}

/// The directives after a failed module name that module's line, in text
/// and in JSON, so that one cause reads as one; a named module that failed
/// is blamed the same way.
#[test]
fn failed_module_blocks_what_follows() {
    let path = script(
        "blocked",
        "t.wast",
        r#"(module $ok (func (export "f") (result i32) i32.const 1))
(module $bad (func (export "f") (result i32) i64.const 1))
(assert_return (invoke "f") (i32.const 1))
(assert_return (invoke $bad "f") (i32.const 1))
(assert_return (invoke $ok "f") (i32.const 1))
(module definition $def (func (export "g") (result i32) f32.const 1))
(module instance $inst $def)
(assert_return (invoke $inst "g") (i32.const 1))
(thread $T (module))
(wait $T)
"#,
    );
    let out = wast(&[path.as_os_str()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            ":3:2: assert_return (invoke \"f\"): expected i32.const 1, got script error: \
             nothing to run: the module at line 2 failed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(":4:2: assert_return (invoke \"f\"): expected i32.const 1, got script error: nothing to run: the module at line 2 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(":7:2: module instance: no definition of $def to instantiate"),
        "{stdout}"
    );
    assert!(
        stdout.contains(":8:2: assert_return (invoke \"g\"): expected i32.const 1, got script error: nothing to run: the module at line 6 failed"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("1 passed, 6 failed, 2 skipped"),
        "{stdout}"
    );

    let out = wast(&["--format".as_ref(), "json".as_ref(), path.as_os_str()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<(u64, Option<u64>)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["module_line"].as_u64()))
        .collect();
    assert_eq!(
        lines,
        [
            (2, None),
            (3, Some(2)),
            (4, Some(2)),
            (6, None),
            (7, Some(6)),
            (8, Some(6))
        ]
    );
    assert_eq!(report["totals"]["assertions"], 4);
    assert_eq!(report["totals"]["skipped"], 2);
    assert_eq!(
        report["skipped"][1]["reason"],
        "wait: the engine has no threads"
    );
}
