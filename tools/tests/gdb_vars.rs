//! C variables under stock gdb, in batch mode: `tests/gdb/vars.c` and
//! `tests/gdb/trap.c` (variables at a trap's stop) at -O0 and -O2, run by
//! `switchyard` with the fiber library. The program prints every value gdb
//! is asked for (`name=value`); each value gdb prints must be that one, or
//! at -O2 `<optimized out>`.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::debuggers::{gdb_batch, have_gdb, interleaved_output};
use common::root;

/// `tests/gdb/PROGRAM.c` built with `opt` and `-g`, named `PROGRAM.wasm`
/// (the module's name in gdb).
fn compile(program: &str, opt: &str) -> Option<PathBuf> {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gdb_vars{opt}"))
        .join(format!("{program}.wasm"));
    let flags = [&[opt], common::c::FIBER_FLAGS].concat();
    common::c::build(&root().join(format!("tests/gdb/{program}.c")), &out, &flags)
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
/// its line (`compute`, `worker`, `main`): `compute:a` → `7`. The program
/// exits with `status` (134: a Wasm trap).
fn printed_values(wasm: &Path, status: i32) -> HashMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(run_args(wasm))
        .output()
        .expect("switchyard runs");
    assert_eq!(out.status.code(), Some(status), "{out:?}");
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
    // a frame whose last act was a call: fiber_suspend (v is worker's
    // w_local + steps; inlined into worker at -O2, where `up` leaves it)
    ("worker", "frame 0"),
    ("worker", "up"),
    ("worker", "info args"),
    ("worker", "print v"),
    ("main", "continuation restore"),
    ("main", "print got"),
];

/// What gdb is asked at the stop of `tests/gdb/trap.c`'s division by zero
/// (the `ud2` after the function's code), in the fiber and in its resumer.
const TRAP_SESSION: &[(&str, &str)] = &[
    ("", "run"),
    ("compute", "info args"),
    ("compute", "info locals"),
    ("compute", "print n"),
    ("compute", "print first"),
    ("compute", "print scaled"),
    ("compute", "print divisor"),
    ("main", "frame function trap!__original_main"),
    ("main", "info locals"),
    ("main", "print g"),
];

/// Runs `script`; returns each command with what gdb printed for it.
fn session(
    wasm: &Path,
    script: &'static [(&'static str, &'static str)],
) -> Vec<(&'static str, &'static str, String)> {
    let mut cmd = gdb_batch();
    for (i, (_, c)) in script.iter().enumerate() {
        cmd.args(["-ex", &format!("echo @@{i}\\n"), "-ex", c]);
    }
    cmd.args(["-ex", "echo @@end\\n", "-ex", "kill"]);
    cmd.arg("--args")
        .arg(env!("CARGO_BIN_EXE_switchyard"))
        .args(run_args(wasm));
    let text = interleaved_output(cmd);
    let mut chunks: Vec<(&str, &str, String)> = Vec::new();
    let mut parts = text.split("@@");
    parts.next();
    for part in parts {
        let (index, body) = part.split_once('\n').unwrap_or((part, ""));
        if let Ok(i) = index.parse::<usize>() {
            let (stop, command) = script[i];
            chunks.push((stop, command, body.to_string()));
        }
    }
    assert_eq!(
        chunks.len(),
        script.len(),
        "gdb did not run every command:\n{text}"
    );
    chunks
}

/// Compares what `print` and `info args`/`info locals` showed with what
/// the program printed; returns the mismatches, how many values were
/// checked and how many shown (the rest `<optimized out>`, allowed only
/// when `optimized`).
fn compare(
    values: &HashMap<String, String>,
    chunks: &[(&str, &str, String)],
    optimized: bool,
) -> (String, usize, usize) {
    let mut report = String::new();
    let mut checked = 0;
    let mut shown = 0;
    for (stop, command, out) in chunks {
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
    for (stop, command, out) in chunks {
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
    (report, checked, shown)
}

/// At -O0 every value is shown; at -O2 at least half are.
fn assert_shown(what: &str, opt: &str, checked: usize, shown: usize) {
    if opt != "-O0" {
        assert!(
            shown * 2 >= checked,
            "{what} {opt}: only {shown} of {checked} values shown"
        );
    } else {
        assert_eq!(shown, checked, "{what} {opt}");
    }
    eprintln!("{what} {opt}: {shown} of {checked} values shown, all equal to the program's");
}

fn check(opt: &str) {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile("vars", opt) else {
        return;
    };
    let mut values = printed_values(&wasm, 0);
    // fiber_suspend's argument, which the program passes but does not
    // print (another printf would move -O2's code for line 63).
    let v = values["worker:w_local"].parse::<i32>().unwrap()
        + values["worker:steps"].parse::<i32>().unwrap();
    values.insert("worker:v".into(), v.to_string());
    let chunks = session(&wasm, SESSION);
    let optimized = opt != "-O0";
    let (mut report, checked, shown) = compare(&values, &chunks, optimized);
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
    assert_shown("vars.c", opt, checked, shown);
}

/// The variables at a trap's stop, in the trapping fiber and its resumer.
fn check_trap(opt: &str) {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile("trap", opt) else {
        return;
    };
    let values = printed_values(&wasm, 134);
    let chunks = session(&wasm, TRAP_SESSION);
    let (mut report, checked, shown) = compare(&values, &chunks, opt != "-O0");
    if !chunks[0]
        .2
        .contains("wasm trap: integer divide by zero in trap!compute")
    {
        report.push_str(&format!("run: {}\n", chunks[0].2));
    }
    assert!(report.is_empty(), "{opt}:\n{report}");
    assert_shown("trap.c", opt, checked, shown);
}

#[test]
fn c_variables_at_o0_equal_what_the_program_prints() {
    check("-O0");
}

#[test]
fn c_variables_at_o2_equal_what_the_program_prints_or_are_optimized_out() {
    check("-O2");
}

#[test]
fn variables_at_a_trap_stop_at_o0_equal_what_the_program_prints() {
    check_trap("-O0");
}

#[test]
fn variables_at_a_trap_stop_at_o2_equal_what_the_program_prints_or_are_optimized_out() {
    check_trap("-O2");
}
