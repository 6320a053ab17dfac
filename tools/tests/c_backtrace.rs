//! A C program compiled with `-g` traps three calls deep: the backtrace
//! names every frame and its source line, from the module's DWARF.

mod common;

use std::path::PathBuf;
use std::process::Command;

fn compile(opt: &str) -> Option<PathBuf> {
    common::c::build(
        &common::root().join("tests/programs/trap.c"),
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("trap-bt{opt}.wasm")),
        &[opt, "-g"],
    )
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
