//! The specification test scripts under tests/wast, through `switchyard wast`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn scripts(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    files
}

fn run_scripts(dir: &str, extra: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let files = scripts(&root.join(dir));
    assert!(!files.is_empty(), "no scripts in {dir}");
    let output = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("wast")
        .args(extra)
        .args(&files)
        .output()
        .expect("run switchyard wast");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(" 0 failed"),
        "switchyard wast {dir} {extra:?}:\n{stdout}\n{stderr}"
    );
}

#[test]
fn core_scripts_pass() {
    run_scripts("tests/wast", &[]);
}

#[test]
fn stack_switching_scripts_pass_with_native_switching() {
    run_scripts("tests/wast/stack-switching", &["--switching", "native"]);
}

#[test]
fn stack_switching_scripts_pass_with_libcall_switching() {
    run_scripts("tests/wast/stack-switching", &["--switching", "libcall"]);
}
