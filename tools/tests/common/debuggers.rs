//! Stock gdb and lldb, run in batch mode on `switchyard`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::require;

/// Whether gdb with Python can be run (a failure under CI, a skip that
/// says why elsewhere).
pub fn have_gdb() -> bool {
    let ok = Command::new("gdb")
        .args(["-batch", "-nx", "-ex", "python print(1)"])
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "gdb with Python is not installed")
}

/// Whether lldb can be run (as [`have_gdb`]).
pub fn have_lldb() -> bool {
    let ok = Command::new("lldb")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "lldb is not installed")
}

/// `gdb -batch` as a user would start it on `switchyard`: the helpers load
/// from the binary's `.debug_gdb_scripts` section once the binary is under
/// gdb's auto-load safe path; no pager, no line wrapping, breakpoints on
/// code the JIT has not emitted yet allowed. Add `-ex` commands and then
/// `--args` or `-p`.
pub fn gdb_batch() -> Command {
    let switchyard = env!("CARGO_BIN_EXE_switchyard");
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-iex"]);
    cmd.arg(format!("add-auto-load-safe-path {switchyard}"));
    cmd.args(["-ex", "set breakpoint pending on"]);
    cmd.args(["-ex", "set pagination off", "-ex", "set width 0"]);
    // The engine's debugger-only code generation must come from gdb being
    // there, not from the test's environment.
    cmd.env_remove("SWITCHYARD_GDB");
    cmd
}

/// Runs `cmd` with stdout and stderr into one file, so that gdb's errors
/// stay next to the command that caused them, and returns that text. Fails
/// the test if the debugger was killed.
pub fn interleaved_output(mut cmd: Command) -> String {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, Ordering::SeqCst);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("debugger-output-{}-{n}.txt", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    cmd.stdin(std::process::Stdio::null());
    let status = cmd.status().expect("the debugger runs");
    let out = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(status.code().is_some(), "the debugger was killed:\n{out}");
    out
}
