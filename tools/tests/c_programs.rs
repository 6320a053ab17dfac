//! The C programs under tests/programs, compiled by clang for wasm32-wasi at
//! -O0 and -O2 and run through `switchyard run` (see tests/programs/run.sh).

use std::path::Path;
use std::process::Command;

#[test]
fn c_programs_give_their_expected_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let script = root.join("tests/programs/run.sh");
    let output = Command::new("sh")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .output()
        .expect("run tests/programs/run.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    match output.status.code() {
        Some(0) => {
            assert!(stdout.contains(" 0 failed"), "{stdout}");
        }
        // 77: clang or the wasm32-wasi sysroot is missing; run.sh already
        // turned that into a failure when CI is set.
        Some(77) => eprintln!("SKIPPED: {stdout}{stderr}"),
        _ => panic!("C programs failed:\n{stdout}\n{stderr}"),
    }
}
