//! Helpers shared by the tools' integration tests: the binary under test,
//! temporary directories, tools that may be missing (fail under CI, skip
//! with a reason elsewhere), C programs built by clang, debuggers.

#![allow(dead_code)]

pub mod c;
pub mod debuggers;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The `switchyard` binary under test.
pub fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What a finished process printed (stdout, stderr) and its exit code.
pub fn outcome(o: std::process::Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code(),
    )
}

/// A file of the repository, as text for argument lists.
pub fn repo_file(path: &str) -> String {
    root().join(path).display().to_string()
}

/// `name` in a directory of this test process for `group` (made if
/// missing, not emptied: tests of one group share it).
pub fn temp_file(group: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-{group}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A missing tool: a failure in CI, a skip (with the reason) elsewhere.
/// Returns whether the test should go on.
pub fn require(ok: bool, what: &str) -> bool {
    if ok {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} (required when CI is set)"
    );
    eprintln!("SKIPPED: {what}");
    false
}

/// Whether perf can record a software clock event here.
pub fn perf_works() -> bool {
    let dir = temp_dir("perf-probe");
    let ok = Command::new("perf")
        .arg("--buildid-dir")
        .arg(dir.join(".debug"))
        .args(["record", "-q", "-N", "-e", "cpu-clock", "-o"])
        .arg(dir.join("probe.data"))
        .arg("true")
        .output()
        .is_ok_and(|o| o.status.success());
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

/// Builds tests/profile/hot_generator.c for wasm32-wasi with DWARF, into
/// `dir`; `None` if clang or the WASI sysroot is missing.
pub fn build_hot_generator(dir: &Path) -> Option<PathBuf> {
    c::build(
        &root().join("tests/profile/hot_generator.c"),
        &dir.join("hot.wasm"),
        &["-O1", "-g", "-Wl,--import-table"],
    )
}

/// The fiber library the C program preloads.
pub fn fiber_wat() -> PathBuf {
    root().join("tests/programs/fibers/fiber.wat")
}

/// `switchyard run FLAGS --preload env=fiber.wat WASM ARGS`: its stdout,
/// stderr and exit code.
pub fn run_on_fibers(
    wasm: &std::path::Path,
    flags: &[&str],
    args: &[&str],
) -> (String, String, Option<i32>) {
    let o = switchyard()
        .arg("run")
        .args(flags)
        .arg("--preload")
        .arg(format!("env={}", fiber_wat().display()))
        .arg(wasm)
        .args(args)
        .output()
        .unwrap();
    outcome(o)
}

/// A started program, killed when the test ends (also on a failure).
pub struct Started(pub std::process::Child);

impl Started {
    pub fn id(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
