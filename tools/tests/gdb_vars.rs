//! C variables under stock gdb, in batch mode: `tests/gdb/vars.c` at -O0
//! and -O2, run by `switchyard` with the fiber library. The program prints
//! every value gdb is asked for (`name=value`); each value gdb prints must
//! be that one, or at -O2 `<optimized out>`.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{require, root};

fn have_gdb() -> bool {
    require(
        Command::new("gdb")
            .args(["-batch", "-nx", "-ex", "python print(1)"])
            .output()
            .is_ok_and(|o| o.status.success()),
        "gdb with Python is not installed",
    )
}

/// `tests/gdb/vars.c` built with `opt` and `-g`, named `vars.wasm` (the
/// module's name in gdb).
fn compile(opt: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("gdb_vars{opt}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("vars.wasm");
    let ok = Command::new("clang")
        .args([
            "--target=wasm32-wasi",
            opt,
            "-g",
            "-Wl,--import-table",
            "-o",
        ])
        .arg(&out)
        .arg(root().join("tests/gdb/vars.c"))
        .status()
        .is_ok_and(|s| s.success());
    require(ok, "clang with a wasm32-wasi sysroot is not available").then_some(out)
}

fn run_args(wasm: &Path) -> Vec<String> {
    vec![
        "run".into(),
        "--preload".into(),
        format!("env={}", common::fiber_wat().display()),
        wasm.display().to_string(),
    ]
}

/// The first value the program printed for each name, by the prefix of
/// its line (`compute`, `worker`, `main`): `compute:a` → `7`.
fn printed_values(wasm: &Path) -> HashMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(run_args(wasm))
        .output()
        .expect("switchyard runs");
    assert!(out.status.success(), "{out:?}");
    let mut values = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some((prefix, rest)) = line.split_once(": ") else {
            continue;
        };
        for pair in rest.split_whitespace() {
            if let Some((name, value)) = pair.split_once('=') {
                values
                    .entry(format!("{prefix}:{name}"))
                    .or_insert_with(|| value.to_string());
            }
        }
    }
    values
}

/// What gdb is asked at each stop: `(stop, command)`; `print EXPR` is
/// checked against the value printed as `EXPR` on the program's line of
/// that stop.
const SESSION: &[(&str, &str)] = &[
    ("", "break vars.c:51"),
    ("", "break vars.c:63"),
    ("", "break vars.c:79"),
    ("", "run"),
    // compute, line 51
    ("compute", "info args"),
    ("compute", "info locals"),
    ("compute", "print a"),
    ("compute", "print b"),
    ("compute", "print local_val"),
    ("compute", "print p.x"),
    ("compute", "print p.y"),
    ("compute", "print arr[3]"),
    ("compute", "print heap->x"),
    ("compute", "print heap->y"),
    ("compute", "print sp->x"),
    ("compute", "print sq.sides"),
    ("compute", "print sq.corner.y"),
    ("compute", "print counter"),
    ("compute", "print origin.y"),
    ("compute", "ptype struct point"),
    ("compute", "x/8xb sp"),
    ("main", "finish"),
    ("", "continue"),
    // worker, line 63, in the fiber
    ("worker", "info args"),
    ("worker", "info locals"),
    ("worker", "print arg"),
    ("worker", "print first"),
    ("worker", "print w_local"),
    ("worker", "print steps"),
    // up across the continuation into the resumer
    // (not `info locals`: `got` is not assigned yet)
    ("main", "frame function vars!__original_main"),
    ("main", "print main_local"),
    ("main", "print r"),
    ("worker", "frame 0"),
    ("worker", "up"),
    ("worker", "down"),
    ("worker", "print w_local"),
    ("", "continue"),
    // main, line 79: the fiber is suspended in fiber_suspend
    ("main", "print got"),
    ("main", "info locals"),
    // a pointer in memory: its offset, as an integer
    ("main", "ptype struct fiber"),
    ("main", "info continuations"),
    ("main", "continuation 1"),
    ("worker", "frame function vars!worker"),
    ("worker", "info locals"),
    ("worker", "print w_local"),
    ("worker", "print steps"),
    ("main", "continuation restore"),
    ("main", "print got"),
];

/// Runs the session; returns each command with what gdb printed for it.
fn session(wasm: &Path) -> Vec<(&'static str, &'static str, String)> {
    let sy = env!("CARGO_BIN_EXE_switchyard");
    let mut cmd = Command::new("gdb");
    cmd.args(["-batch", "-nx", "-iex"]);
    cmd.arg(format!("add-auto-load-safe-path {sy}"));
    cmd.args(["-ex", "set breakpoint pending on"]);
    cmd.args(["-ex", "set pagination off", "-ex", "set width 0"]);
    for (i, (_, c)) in SESSION.iter().enumerate() {
        cmd.args(["-ex", &format!("echo @@{i}\\n"), "-ex", c]);
    }
    cmd.args(["-ex", "echo @@end\\n", "-ex", "kill"]);
    cmd.arg("--args").arg(sy).args(run_args(wasm));
    cmd.env_remove("SWITCHYARD_GDB");
    // One file for stdout and stderr, so that errors stay next to their
    // command.
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "gdb-vars-{}-{}.txt",
        std::process::id(),
        wasm_tag(wasm)
    ));
    let file = std::fs::File::create(&path).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    cmd.stdin(std::process::Stdio::null());
    let status = cmd.status().expect("gdb runs");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(status.code().is_some(), "gdb was killed:\n{text}");
    let mut chunks: Vec<(&str, &str, String)> = Vec::new();
    let mut parts = text.split("@@");
    parts.next();
    for part in parts {
        let (index, body) = part.split_once('\n').unwrap_or((part, ""));
        if let Ok(i) = index.parse::<usize>() {
            let (stop, command) = SESSION[i];
            chunks.push((stop, command, body.to_string()));
        }
    }
    assert_eq!(
        chunks.len(),
        SESSION.len(),
        "gdb did not run every command:\n{text}"
    );
    chunks
}

/// A short tag for a build (its directory's name), for file names.
fn wasm_tag(wasm: &std::path::Path) -> String {
    wasm.parent()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn check(opt: &str) {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile(opt) else {
        return;
    };
    let values = printed_values(&wasm);
    let chunks = session(&wasm);
    let optimized = opt != "-O0";
    let mut report = String::new();
    let mut checked = 0;
    let mut shown = 0;
    for (stop, command, out) in &chunks {
        if let Some(expr) = command.strip_prefix("print ") {
            let key = format!("{stop}:{expr}");
            let expected = values
                .get(&key)
                .unwrap_or_else(|| panic!("the program printed no {key}"));
            let got = out
                .lines()
                .find_map(|l| l.split_once(" = ").map(|(_, v)| v.trim().to_string()))
                .unwrap_or_else(|| out.trim().to_string());
            checked += 1;
            let unavailable = got == "<optimized out>" || got == "value has been optimized out";
            if got == *expected {
                shown += 1;
            } else if !(optimized && unavailable) {
                report.push_str(&format!(
                    "{command} at {stop}: gdb {got:?}, program {expected}\n"
                ));
            }
        }
    }
    // Every variable `info args` and `info locals` show that the program
    // printed at that stop.
    for (stop, command, out) in &chunks {
        if !command.starts_with("info ") {
            continue;
        }
        for line in out.lines() {
            let Some((name, got)) = line.split_once(" = ") else {
                continue;
            };
            let Some(expected) = values.get(&format!("{stop}:{name}")) else {
                continue;
            };
            checked += 1;
            if got == expected {
                shown += 1;
            } else if !(optimized && got == "<optimized out>") {
                report.push_str(&format!(
                    "{command} at {stop}: {name} = {got}, program {expected}\n"
                ));
            }
        }
    }
    let find = |command: &str| {
        chunks
            .iter()
            .find(|c| c.1 == command)
            .map(|c| c.2.as_str())
            .unwrap_or("")
    };
    let ptype = find("ptype struct point");
    if !(ptype.contains("int x;") && ptype.contains("int y;")) {
        report.push_str(&format!("ptype struct point: {ptype}\n"));
    }
    let fiber = find("ptype struct fiber");
    if !fiber.contains("wasm_ptr32 stack;") {
        report.push_str(&format!("ptype struct fiber: {fiber}\n"));
    }
    // compute's return value, which main prints as r.
    let finish = find("finish");
    if !finish.contains("Value returned is $")
        || !finish.contains(&format!("= {}", values["main:r"]))
    {
        report.push_str(&format!("finish: {finish}\n"));
    }
    // The bytes of p, which sp points to: p.x then p.y, little-endian.
    let bytes = find("x/8xb sp");
    let expected_bytes = format!(
        "0x{:02x}\t0x00\t0x00\t0x00\t0x{:02x}",
        values["compute:p.x"].parse::<u8>().unwrap(),
        values["compute:p.y"].parse::<u8>().unwrap()
    );
    let unavailable = optimized && bytes.contains("optimized out");
    if !(bytes.contains(&expected_bytes) || unavailable) {
        report.push_str(&format!("x/8xb sp: {bytes}\n"));
    }
    // up and down from the fiber's frame: up leaves worker, down returns.
    if !find("up").contains("#1 ") || !find("down").contains("#0  vars!worker") {
        report.push_str(&format!("up: {}\ndown: {}\n", find("up"), find("down")));
    }
    if !find("continuation 1").contains("viewing continuation 1") {
        report.push_str(&format!("continuation 1: {}\n", find("continuation 1")));
    }
    assert!(report.is_empty(), "{opt}:\n{report}");
    // At -O0 every variable is in memory and shown; at -O2 most are.
    if optimized {
        assert!(
            shown * 2 >= checked,
            "{opt}: only {shown} of {checked} values shown"
        );
    } else {
        assert_eq!(shown, checked, "{opt}");
    }
    eprintln!("{opt}: {shown} of {checked} values shown, all equal to the program's");
}

#[test]
fn c_variables_at_o0_equal_what_the_program_prints() {
    check("-O0");
}

#[test]
fn c_variables_at_o2_equal_what_the_program_prints_or_are_optimized_out() {
    check("-O2");
}
