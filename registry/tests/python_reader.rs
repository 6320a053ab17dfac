//! The gdb helpers' registry reader (Python, run outside gdb) on the layout
//! this crate defines: it reads a registry laid out by `layout.py` back as
//! written, and random, corrupted and truncated registries make it raise
//! its own `RegistryError` and nothing else, without hanging
//! (`gdb-scripts/tests/test_registry_reader.py`); and that `info
//! continuations` reads each record with one unpacking and each suspended
//! stack with one read (`gdb-scripts/tests/test_naming.py`).

use std::path::Path;
use std::process::Command;

#[test]
fn the_python_reader_survives_garbage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = Command::new("python3").arg("--version").output();
    if !python.is_ok_and(|o| o.status.success()) {
        if std::env::var_os("CI").is_some() {
            panic!("python3 is needed for this test (CI is set)");
        }
        eprintln!("SKIPPED: python3 is not installed");
        return;
    }
    let out = Command::new("python3")
        .args(["-B", "-m", "unittest", "discover", "-v", "-s"])
        .arg(root.join("gdb-scripts/tests"))
        .output()
        .expect("python3 runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(
        out.status.success(),
        "the Python reader's tests failed:\n{text}"
    );
    assert!(text.contains("Ran 8 tests"), "{text}");
}
