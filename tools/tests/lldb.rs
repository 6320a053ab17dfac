//! LLDB (14, Debian's) on a C fiber program run by `switchyard`: it reads
//! the engine's JIT objects through its GDB JIT loader, which is off by
//! default (`plugin.jit-loader.gdb.enable on`). docs/gdb.md says what works
//! and what does not.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::debuggers::have_lldb;
use common::root;

fn compile_gen() -> Option<PathBuf> {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lldb/gen.wasm");
    let flags = [&["-O0"], common::c::FIBER_FLAGS].concat();
    common::c::build(&root().join("tests/gdb/gen.c"), &out, &flags)
}

#[test]
fn lldb_breaks_by_name_and_line_and_bt_crosses_a_continuation() {
    if !have_lldb() {
        return;
    }
    let Some(wasm) = compile_gen() else {
        return;
    };
    let out = Command::new("lldb")
        .args(["-b", "-x"])
        .args(["-o", "settings set plugin.jit-loader.gdb.enable on"])
        .args(["-o", "breakpoint set -n squares"])
        .args(["-o", "breakpoint set -f gen.c -l 18"])
        .args(["-o", "run", "-o", "bt 8", "-o", "continue", "-o", "bt 8"])
        .args(["-o", "frame variable", "-o", "up 5", "-o", "frame variable"])
        .args(["-o", "kill", "--"])
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .arg("run")
        .arg("--preload")
        .arg(format!("env={}", common::fiber_wat().display()))
        .arg(&wasm)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("lldb runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut rest = text.as_str();
    for expected in [
        "stop reason = breakpoint 1.1",
        "`gen!squares(n=3, first=0) at gen.c:17",
        // bt: through the continuation's trampoline into its resumer.
        "frame #0: ",
        "`gen!squares(n=3, first=0) at gen.c:17",
        "`switchyard_continuation_start",
        // By either of its symbols (`fiber!fiber_resume` or the plain
        // alias): lldb sizes the unsized alias up to the next symbol, and
        // picks between the two by size, which moves with code alignment.
        "fiber_resume at fiber.wat:",
        "`gen!__original_main at gen.c:27",
        "stop reason = breakpoint 2.1",
        "`gen!squares(n=3, first=0) at gen.c:18",
        // frame variable in the fiber, then in its resumer.
        "(int) n = 3",
        "(int) first = 0",
        "(int) i = 1",
        "`gen!__original_main at gen.c:27",
        "(int) g = 0",
        "(int) total = 0",
    ] {
        let at = rest
            .find(expected)
            .unwrap_or_else(|| panic!("{expected:?} missing or out of order in:\n{text}"));
        rest = &rest[at + expected.len()..];
    }
}
