//! `switchyard run` from the outside: results, exit statuses, and one-line
//! errors for every kind of bad input.

use std::path::PathBuf;
use std::process::{Command, Output};

fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .output()
        .expect("run switchyard")
}

fn write(name: &str, contents: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The error is one line, starts with `error:` and says `what`.
fn assert_one_line_error(o: &Output, what: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "expected failure, got success: {err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(
        err.starts_with("error: ") && err.contains(what),
        "{err:?} should mention {what:?}"
    );
}

const EXAMPLE: &str = r#"(module $m
  (func (export "add") (param i32 i64) (result i64)
    (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1)))
  (func $boom (export "boom") (unreachable)))"#;

#[test]
fn invoke_prints_results() {
    let file = write("add.wat", EXAMPLE.as_bytes());
    let o = switchyard(&[
        "run",
        "--invoke",
        "add",
        file.to_str().unwrap(),
        "-5",
        "0x10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "11\n");
}

#[test]
fn invoke_takes_and_prints_v128_as_one_integer() {
    let file = write(
        "v128.wat",
        br#"(module (func (export "f") (param v128 i32) (result v128)
              (i32x4.add (local.get 0) (i32x4.splat (local.get 1)))))"#,
    );
    let file = file.to_str().unwrap();
    // Lane 0 is the least significant; printed in decimal, as Wasmtime does.
    let o = switchyard(&[
        "run",
        "--invoke",
        "f",
        file,
        "0x4_00000003_00000002_00000001",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = (5u128 << 96 | 4 << 64 | 3 << 32 | 2).to_string();
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("{expected}\n"));
    let o = switchyard(&["run", "--invoke", "f", file, &u128::MAX.to_string(), "1"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "0\n");
    assert_one_line_error(
        &switchyard(&["run", "--invoke", "f", file, "1.5", "1"]),
        "not a valid v128",
    );
}

#[test]
fn a_trap_names_the_function_and_exits_134() {
    let file = write("boom.wat", EXAMPLE.as_bytes());
    let o = switchyard(&["run", "--invoke", "boom", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert!(err.starts_with("error: wasm trap: unreachable\n"), "{err}");
    assert!(err.contains("m!boom"), "{err}");
}

#[test]
fn bad_inputs_get_one_line_errors() {
    let good = write("good.wat", EXAMPLE.as_bytes());
    let good = good.to_str().unwrap();
    assert_one_line_error(&switchyard(&["run", "/nonexistent/x.wasm"]), "no such file");
    let malformed = write("malformed.wasm", b"\0asm\x01\0\0\0\x01\x05");
    assert_one_line_error(&switchyard(&["run", malformed.to_str().unwrap()]), "offset");
    let invalid = write("invalid.wat", b"(module (func (result i32) (i64.const 1)))");
    assert_one_line_error(
        &switchyard(&["run", invalid.to_str().unwrap()]),
        "type mismatch",
    );
    let text = write("text.wat", b"(module (func (i32.bogus)))");
    assert_one_line_error(
        &switchyard(&["run", text.to_str().unwrap()]),
        "text format error",
    );
    let gc = write("gc.wat", b"(module (type (struct)))");
    assert_one_line_error(
        &switchyard(&["run", gc.to_str().unwrap()]),
        "unsupported feature",
    );
    assert_one_line_error(
        &switchyard(&["run", "--invoke", "add", good, "x", "1"]),
        "not a valid i32",
    );
    assert_one_line_error(
        &switchyard(&["run", "--invoke", "add", good, "1"]),
        "takes 2 arguments",
    );
    assert_one_line_error(&switchyard(&["run", "--invoke", "nope", good]), "no export");
    assert_one_line_error(
        &switchyard(&["run", "--preload", "nofile", good]),
        "NAME=FILE",
    );
    let o = switchyard(&["run", "--bogus-flag", good]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with("error: unexpected argument '--bogus-flag'"));
    let imports = write("imports.wat", b"(module (import \"env\" \"f\" (func)))");
    assert_one_line_error(&switchyard(&["run", imports.to_str().unwrap()]), "env::f");
}

#[test]
fn preloaded_modules_provide_imports() {
    let lib = write(
        "lib.wat",
        br#"(module (func (export "twice") (param i32) (result i32)
              (i32.mul (local.get 0) (i32.const 2))))"#,
    );
    let main = write(
        "main.wat",
        br#"(module (import "lib" "twice" (func $twice (param i32) (result i32)))
              (func (export "run") (param i32) (result i32) (call $twice (local.get 0))))"#,
    );
    let preload = format!("lib={}", lib.display());
    let o = switchyard(&[
        "run",
        "--preload",
        &preload,
        "--invoke",
        "run",
        main.to_str().unwrap(),
        "21",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "42\n");
}

#[test]
fn proc_exit_sets_the_exit_status() {
    let file = write(
        "exit.wat",
        br#"(module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func (export "_start") (call $exit (i32.const 42))))"#,
    );
    let o = switchyard(&["run", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(42), "{}", stderr(&o));
}

#[test]
fn traps_print_the_logical_backtrace_and_parked_continuations() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/");
    let o = switchyard(&[
        "run",
        "--invoke",
        "run",
        &format!("{root}trap_chain.wat"),
        "2",
    ]);
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    let expected = [
        "error: wasm trap: integer divide by zero",
        "wasm backtrace:",
        "bt!divide",
        "bt!level",
        "continuation #",
        "(bt!level) was resumed here, handlers $yield",
        "bt!level",
        "(bt!level) was resumed here, no handlers",
        "bt!run",
    ];
    let mut rest = err.as_str();
    for e in expected {
        let at = rest
            .find(e)
            .unwrap_or_else(|| panic!("{e:?} missing or out of order in:\n{err}"));
        rest = &rest[at + e.len()..];
    }
    let o = switchyard(&[
        "run",
        "--backtrace",
        "off",
        "--invoke",
        "run",
        &format!("{root}trap_chain.wat"),
        "2",
    ]);
    assert!(!stderr(&o).contains("wasm backtrace"));

    // An unhandled suspension also lists every other live continuation.
    let o = switchyard(&[
        "run",
        "--invoke",
        "run",
        &format!("{root}scheduler_unhandled.wat"),
    ]);
    let err = stderr(&o);
    assert!(err.contains("unhandled tag: $oops"), "{err}");
    assert!(err.contains("other live continuations:"), "{err}");
    assert!(
        err.contains("3 continuations: 2 suspended, 1 fresh"),
        "{err}"
    );
    // Created at two call sites of `spawn` in `run`: two groups of one.
    assert_eq!(
        err.matches(" sched!worker suspended on $yield for ")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("#3 sched!worker fresh"), "{err}");
}

#[test]
fn a_trap_report_can_be_json() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/");
    let o = switchyard(&[
        "run",
        "--format",
        "json",
        "--invoke",
        "run",
        &format!("{root}trap_chain.wat"),
        "2",
    ]);
    assert_eq!(o.status.code(), Some(134));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with(r#"{"error":"wasm trap","message":"integer divide by zero","function":"bt!divide","frames":["#), "{err}");
    assert!(
        err.contains(r#""kind":"boundary","continuation":"#)
            && err.contains(r#""handlers":["$yield"]"#),
        "{err}"
    );
    // Not a terminal: no colour escapes in the text report either.
    let o = switchyard(&[
        "run",
        "--invoke",
        "run",
        &format!("{root}trap_chain.wat"),
        "2",
    ]);
    assert!(!stderr(&o).contains('\x1b'));
}

/// A SIGSEGV sent to a running program (not a fault of its own) kills it,
/// as it would kill a program without the engine's fault handlers; so does
/// a SIGFPE. The engine used to swallow such signals and carry on.
#[test]
fn a_sent_fault_signal_kills_the_program() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let wat = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/bt/blocked.wat");
    for signal in [libc_signal::SIGSEGV, libc_signal::SIGFPE] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["run", wat])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start switchyard run");
        // Wait until the program is blocked reading stdin inside Wasm (system
        // call 0, read), so the engine's handlers are installed.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let syscall = std::fs::read_to_string(format!("/proc/{}/syscall", child.id()))
                .unwrap_or_default();
            if syscall.starts_with("0 ") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the program never blocked in read"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(killed.success());
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("signal {signal} did not end the program");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.signal(), Some(signal), "{status:?}");
    }
}

/// Signal numbers on x86-64 Linux (the only target).
mod libc_signal {
    pub const SIGFPE: i32 = 8;
    pub const SIGSEGV: i32 = 11;
}

#[test]
fn run_keeps_compiled_modules_in_the_cache_directory_unless_told_not_to() {
    let module = write("cached.wat", EXAMPLE.as_bytes());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-cache");
    let _ = std::fs::remove_dir_all(&dir);
    let run = |extra: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
        cmd.env("SWITCHYARD_CACHE_DIR", &dir)
            .arg("run")
            .args(extra)
            .args(["--invoke", "add"])
            .arg(&module)
            .args(["2", "40"]);
        cmd.output().expect("run switchyard")
    };
    let entries = || std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let uncached = run(&["--no-cache"]);
    assert!(uncached.status.success(), "{}", stderr(&uncached));
    assert_eq!(entries(), 0, "--no-cache writes nothing");
    for _ in 0..2 {
        let out = run(&[]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(out.stdout, uncached.stdout);
        assert_eq!(entries(), 1, "one entry for the module");
    }
    // Another engine setting is another entry.
    let libcall = run(&["--switching", "libcall"]);
    assert_eq!(libcall.stdout, uncached.stdout);
    assert_eq!(entries(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
