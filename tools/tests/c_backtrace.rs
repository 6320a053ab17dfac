//! A C program compiled with `-g` traps three calls deep: the backtrace
//! names every frame and its source line, from the module's DWARF.

use std::path::{Path, PathBuf};
use std::process::Command;

fn compile(opt: &str) -> Option<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/trap.c");
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trap-bt{opt}.wasm"));
    let status = Command::new("clang")
        .args(["--target=wasm32-wasi", opt, "-g", "-o"])
        .arg(&out)
        .arg(&src)
        .status();
    match status {
        Ok(s) if s.success() => Some(out),
        _ if std::env::var_os("CI").is_some() => {
            panic!("clang for wasm32-wasi is needed (CI is set)")
        }
        _ => {
            eprintln!("SKIPPED: clang with a wasm32-wasi sysroot is not available");
            None
        }
    }
}

#[test]
fn a_c_trap_is_shown_down_to_file_and_line() {
    for opt in ["-O0", "-O2"] {
        let Some(wasm) = compile(opt) else { return };
        let o = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("run")
            .arg(&wasm)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(134));
        let err = String::from_utf8_lossy(&o.stderr);
        let expected = [
            "wasm trap: unreachable",
            "!switchyard_test_trap_here",
            "trap.c:29:9",
            "!trap_middle",
            "trap.c:36:12",
            "!trap_outer",
            "trap.c:42:12",
            "!main",
            "trap.c:49:13",
        ];
        let mut rest = err.as_ref();
        for e in expected {
            let at = rest
                .find(e)
                .unwrap_or_else(|| panic!("{opt}: {e:?} missing or out of order in:\n{err}"));
            rest = &rest[at + e.len()..];
        }
    }
}
