//! Stock gdb, in batch mode, on programs run by `switchyard`: the engine's
//! JIT interface objects (symbols, CFI, line tables) and the gdb scripts.

mod common;

use std::path::PathBuf;

use common::debuggers::{gdb_batch, have_gdb, interleaved_output};

fn repo(path: &str) -> PathBuf {
    common::root().join(path)
}

/// Runs `switchyard ARGS` under gdb with the commands `commands`
/// and returns everything gdb printed.
fn gdb(commands: &[&str], args: &[&str]) -> String {
    let mut cmd = gdb_batch();
    for c in commands {
        cmd.args(["-ex", c]);
    }
    cmd.arg("--args").arg(env!("CARGO_BIN_EXE_switchyard"));
    cmd.args(args);
    interleaved_output(cmd)
}

/// Asserts that `expected` occur in `text` in this order.
fn assert_in_order(text: &str, expected: &[&str]) {
    let mut rest = text;
    for e in expected {
        let at = rest
            .find(e)
            .unwrap_or_else(|| panic!("{e:?} missing or out of order in:\n{text}"));
        rest = &rest[at + e.len()..];
    }
}

/// The backtrace lines (`#N ...`) of gdb's output.
fn frames(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with('#')).collect()
}

#[test]
fn bt_from_the_bottom_of_a_3_deep_chain_reaches_main() {
    if !have_gdb() {
        return;
    }
    let chain = repo("tests/gdb/chain.wat");
    for mode in ["native", "libcall"] {
        let out = gdb(
            &["break chain!bottom", "run", "bt"],
            &[
                "run",
                &format!("--switching={mode}"),
                chain.to_str().unwrap(),
            ],
        );
        assert!(out.contains("Breakpoint 1, chain!bottom"), "{mode}:\n{out}");
        let bt = frames(&out).join("\n");
        assert_in_order(
            &bt,
            &[
                // Its first line after the prologue: `global.set`, which
                // Cranelift fuses with the `global.get` and `i32.add`
                // before it into one add to memory.
                "#0  chain!bottom () at chain.wat:12",
                "chain!level () at chain.wat:19",
                "chain!level () at chain.wat:27",
                "chain!level () at chain.wat:27",
                "chain!_start () at chain.wat:33",
                "switchyard::main ()",
            ],
        );
        // Every frame is named: no `??`, and the walk did not stop early.
        assert!(!bt.contains("??"), "{mode}: unnamed frame in:\n{bt}");
        assert!(!out.contains("Backtrace stopped"), "{mode}:\n{out}");
        assert!(!out.contains("corrupt stack"), "{mode}:\n{out}");
    }
}

/// Compiles `tests/gdb/NAME.c` for wasm32-wasi with `-g` and the flags the
/// fiber library needs; `None` (skip) when clang cannot, outside CI.
fn compile_c(name: &str, opt: &str) -> Option<PathBuf> {
    // The file name is the module's name in gdb (`gen!main`).
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("gdb{opt}"))
        .join(format!("{name}.wasm"));
    let flags = [&[opt], common::c::FIBER_FLAGS].concat();
    common::c::build(&repo(&format!("tests/gdb/{name}.c")), &out, &flags)
}

fn fiber_preload() -> String {
    format!("env={}", common::fiber_wat().display())
}

#[test]
fn break_by_line_and_list_show_c_source_lines() {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile_c("gen", "-O0") else {
        return;
    };
    let out = gdb(
        &["break gen.c:18", "run", "list 18,18", "info line gen.c:27"],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1 (gen.c:18) pending.",
            "Breakpoint 1, gen!squares (n=3, first=0) at ",
            "gen.c:18",
            "18\t        fiber_yield(i * i); /* line 18: suspends */",
            "Line 27 of \"",
            "gen.c\" starts at address ",
            "<gen!__original_main",
        ],
    );
}

#[test]
fn break_by_line_and_list_show_the_wat_listing_of_a_module_without_dwarf() {
    if !have_gdb() {
        return;
    }
    let chain = repo("tests/gdb/chain.wat");
    let out = gdb(
        &["break chain.wat:19", "run", "list 14,19", "bt 1"],
        &["run", chain.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1 (chain.wat:19) pending.",
            "Breakpoint 1, chain!level () at ",
            "chain.wat:19",
            "14\t  (func $level (;1;) (type $ft) (param $d i32)",
            "19\t      call $bottom",
            "#0  chain!level () at ",
        ],
    );
}

#[test]
fn the_helpers_load_automatically_with_the_binary() {
    if !have_gdb() {
        return;
    }
    let out = gdb(
        &["info auto-load python-scripts", "help wasm"],
        &["--version"],
    );
    assert_in_order(&out, &["Yes", "switchyard.py", "wasm bt", "wasm step"]);
}

#[test]
fn info_continuations_and_continuation_id_on_a_generator() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &[
            // The handler clause of `run`, after the generator's first suspend.
            "break yield_loop.wat:40",
            "run",
            "info continuations",
            "continuation 1",
            "bt",
            "continuation restore",
            "wasm bt 1",
            "wasm bt",
        ],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1, yield_loop!run () at ",
            "ID  STATE      NAME            WHERE",
            "1   suspended  yield_loop!gen  yield_loop!gen at yield_loop.wat:15  -       ",
            "/262144",
            "[viewing continuation 1 (suspended, entry yield_loop!gen)",
            "#0  0x",
            " in yield_loop!gen () at ",
            "yield_loop.wat:15",
            "#1  ",
            "<bottom of continuation 1 (entry yield_loop!gen)>",
            "#0  yield_loop!run () at ",
            // wasm bt 1
            "yield_loop!gen +0x",
            "at yield_loop.wat:15",
            "---- bottom of continuation 1 (entry yield_loop!gen, suspended) ----",
            // wasm bt
            "#0   yield_loop!run +0x",
            "[host] switchyard::main",
        ],
    );
}

#[test]
fn info_continuations_on_a_ping_pong_of_switches() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/switch_pingpong.wat");
    let out = gdb(
        // The second player's first instruction: the first one has switched
        // to it.
        &[
            "break switch_pingpong!player",
            "run",
            "continue",
            "info continuations",
            "continuation 2",
            "bt 1",
            "continuation restore",
        ],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "4"],
    );
    let p = "switch_pingpong!player";
    assert_in_order(
        &out,
        &[
            "ID  STATE      NAME",
            &format!("1   running    {p}  {p} at switch_pingpong.wat:"),
            "  host    ",
            &format!("2   suspended  {p}  {p} at switch_pingpong.wat:23  -"),
            "#0  0x",
            &format!(" in {p} () at "),
            "switch_pingpong.wat:23",
        ],
    );
}

#[test]
fn wasm_bt_names_c_lines_and_continuation_boundaries() {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile_c("gen", "-O0") else {
        return;
    };
    let out = gdb(
        &["break gen.c:18", "run", "wasm bt"],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            "#0   gen!squares +0x",
            "(wasm 0x",
            "gen.c:18",
            "#1   fiber!entry +0x",
            "fiber.wat:",
            "---- continuation 1 (entry fiber!entry), resumed by the host stack ----",
            "fiber!fiber_resume +0x",
            "gen!__original_main +0x",
            "gen.c:27",
            "[host] switchyard::main",
        ],
    );
}

/// The `#0` lines (where each command stopped), in order.
fn stops(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("#0  ")).collect()
}

#[test]
fn wasm_step_enters_a_resumed_c_continuation_and_next_leaves_at_suspend() {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile_c("gen", "-O0") else {
        return;
    };
    let out = gdb(
        &[
            "break gen.c:27",
            "run",
            "wasm step", // resume: first line run inside the fiber
            "wasm step",
            "wasm next", // fiber_yield suspends: back in main after the resume
            "wasm next",
            "wasm next",
            "wasm step",
            "wasm next", // resumed again: where fiber_yield returned
        ],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    let lines: Vec<String> = stops(&out)
        .iter()
        .map(|l| {
            // `#0  gen!squares (n=3, first=0) at ...`: the name, without
            // the arguments gdb shows from the C program's DWARF.
            let f = l.split(" (").next().unwrap();
            let f = f.rsplit(' ').next().unwrap();
            format!("{f}:{}", l.rsplit(':').next().unwrap())
        })
        .collect();
    assert_eq!(
        lines,
        [
            "gen!squares:17",
            "gen!squares:18",
            "gen!__original_main:28",
            "gen!__original_main:30",
            "gen!__original_main:26",
            "gen!__original_main:27",
            "gen!squares:17",
        ],
        "{out}"
    );

    // Optimized: the loop's first line is gone, but stepping still goes
    // into the fiber at resume and back out to main at suspend.
    let Some(wasm) = compile_c("gen", "-O2") else {
        return;
    };
    let out = gdb(
        &["break gen.c:27", "run", "wasm step", "wasm step"],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            // At -O2 the arguments may be `<optimized out>`.
            "#0  gen!squares (",
            ") at ",
            "gen.c:18",
            "#0  gen!__original_main () at ",
            "gen.c:28",
        ],
    );
}

#[test]
fn wasm_step_through_resume_and_suspend_of_a_wat_module_by_its_listing() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &["break yield_loop.wat:37", "run", "wasm step", "wasm step"],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1, yield_loop!run () at ",
            "37\t          resume $ct0 (on $yield $on_yield)",
            // Into the generator, at its suspend ...
            "#0  yield_loop!gen () at ",
            "yield_loop.wat:15",
            "15\t      suspend $yield",
            // ... and out at the handler's code in the resumer.
            "#0  yield_loop!run () at ",
            "yield_loop.wat:42",
        ],
    );

    // `wasm finish` in the generator: it suspends, and the resumer's next
    // line is where it stops.
    let out = gdb(
        &["break yield_loop!gen", "run", "wasm finish"],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1, yield_loop!gen () at ",
            "#0  yield_loop!run () at ",
            "yield_loop.wat:42",
        ],
    );
}

#[test]
fn wasm_break_switch_stops_at_every_kind_of_switch() {
    if !have_gdb() {
        return;
    }
    let generator = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &[
            "break yield_loop!run",
            "run",
            "wasm break-switch",
            "wasm break-switch",
            "wasm break-switch",
        ],
        &["run", "--invoke", "run", generator.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "resume: the host stack starts continuation 1 (entry yield_loop!gen)",
            "suspend: continuation 1 suspended to the host stack",
            "yield_loop!run () at ",
            "resume: the host stack resumed continuation 1",
            "yield_loop!gen () at ",
        ],
    );
    let pingpong = repo("bench/wat/switch_pingpong.wat");
    let out = gdb(
        &[
            "break switch_pingpong!run",
            "run",
            "wasm break-switch",
            "wasm break-switch",
            "wasm break-switch",
            "wasm break-switch 2",
            "wasm break-switch return",
        ],
        &["run", "--invoke", "run", pingpong.to_str().unwrap(), "5"],
    );
    assert_in_order(
        &out,
        &[
            "resume: the host stack starts continuation 2 (entry switch_pingpong!player)",
            "switch: continuation 2 starts continuation 1 (entry switch_pingpong!player)",
            "switch: continuation 1 switched to continuation 2",
            // With an id: past the switch into 1, to the next into 2.
            "switch: continuation 1 switched to continuation 2",
            // With a kind: past every switch, to the player that returns.
            "return: continuation ",
            " returned to the host stack",
            "switch_pingpong!run () at ",
        ],
    );
}

#[test]
fn stepi_and_bt_are_sane_through_a_resume_suspend_resume_cycle() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let script = repo("tests/gdb/stepi_bt.py");
    for mode in ["native", "libcall"] {
        let out = gdb(
            &[
                "break yield_loop.wat:37",
                "run",
                &format!("source {}", script.display()),
            ],
            &[
                "run",
                &format!("--switching={mode}"),
                "--invoke",
                "run",
                wat.to_str().unwrap(),
                "3",
            ],
        );
        let summary = out
            .lines()
            .find(|l| l.starts_with("stepi-bt: "))
            .unwrap_or_else(|| panic!("{mode}: no summary in:\n{out}"));
        eprintln!("{mode}: {summary}");
        let numbers: Vec<usize> = summary
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        let (checked, failed, in_window) = (numbers[0], numbers[1], numbers[2]);
        assert!(
            summary.ends_with("stacks 0->1 1->0 0->1"),
            "{mode}: not a resume/suspend/resume cycle: {summary}"
        );
        assert!(checked > 100, "{mode}: {summary}");
        assert_eq!(failed, 0, "{mode}: {out}");
        // Inside Cranelift's switch sequence only the helpers' unwinder
        // gets it right (docs/gdb.md).
        assert_eq!(in_window, 0, "{mode}: {out}");
    }
}

#[test]
fn continuing_from_a_continuation_view_restores_the_real_registers() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &[
            "break yield_loop.wat:42",
            "run",
            "continuation 1",
            "continue",
            "continue",
            "continue",
        ],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "[viewing continuation 1",
            "switchyard: registers restored (left continuation view)",
            "Breakpoint 1, yield_loop!run () at ",
            "Breakpoint 1, yield_loop!run () at ",
            // The program's result: 0 + 1 + 2.
            "\n3\n",
        ],
    );
}

#[test]
fn helper_commands_reject_bad_input_with_one_line() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &[
            "info continuations",
            "wasm bt",
            "break yield_loop.wat:42",
            "run",
            "continuation 99",
            "continuation abc",
            "continuation restore",
            "wasm bt 99",
            "wasm break-switch sideways",
        ],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    assert_in_order(
        &out,
        &[
            "The program is not being run.",
            "The program is not being run.",
            "Breakpoint 1, yield_loop!run () at ",
            "no live continuation 99 (see info continuations)",
            "usage: continuation ID | continuation restore",
            "not viewing a continuation",
            "no live continuation 99",
            "usage: wasm break-switch [resume|suspend|switch|return] [ID]",
        ],
    );
    assert!(!out.contains("Traceback"), "{out}");
    assert!(!out.contains("Python Exception"), "{out}");
}

/// `gdb -p` on a process started without a debugger: the engine registers
/// symbols and CFI with gdb's JIT interface for every module, so gdb names
/// the Wasm frames and `bt` crosses the five continuations of the chain.
#[test]
fn gdb_attached_later_names_wasm_frames_across_continuations() {
    if !have_gdb() {
        return;
    }
    let wat = repo("tests/bt/blocked.wat");
    let mut child = common::switchyard()
        .args(["run", wat.to_str().unwrap()])
        .env_remove("SWITCHYARD_GDB")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Attach once the program waits in its host call (the registry names
    // the blocked function by then).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let out = loop {
        let mut cmd = gdb_batch();
        cmd.args(["-ex", "bt", "-ex", "info continuations"])
            .arg("-p")
            .arg(child.id().to_string());
        let text = interleaved_output(cmd);
        if text.contains("blocked!read_stdin") || std::time::Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(child.wait().unwrap().success(), "{out}");
    let bt = frames(&out).join("\n");
    let mut expected = vec!["blocked!read_stdin", "blocked!level"];
    for _ in 0..4 {
        expected.extend(["<continuation ", "blocked!level"]);
    }
    expected.extend(["<continuation ", "blocked!_start", "switchyard::main"]);
    assert_in_order(&bt, &expected);
    assert!(!bt.contains("??"), "unnamed frame in:\n{bt}");
    assert!(
        out.contains("7 continuations: 5 running, 2 suspended"),
        "{out}"
    );
    assert_eq!(out.matches("  suspended  ").count(), 2, "{out}");
}

/// Random sequences of `frame N`, `up`, `down`, `continuation ID` and
/// `continuation restore` (tests/gdb/view_sequences.py, fixed seed), on
/// running continuations (a resume chain) and suspended ones (a switch
/// ping-pong): `restore` always brings back the real stop, and `wasm step`
/// works afterwards.
#[test]
fn no_sequence_of_continuation_views_gets_stuck() {
    if !have_gdb() {
        return;
    }
    let script = repo("tests/gdb/view_sequences.py");
    let source = format!("source {}", script.display());
    let chain = repo("tests/gdb/chain.wat");
    let pingpong = repo("bench/wat/switch_pingpong.wat");
    let runs: [(&[&str], Vec<&str>); 2] = [
        (
            &["break chain!bottom", "run", &source],
            vec!["run", chain.to_str().unwrap()],
        ),
        (
            &["break switch_pingpong!player", "run", "continue", &source],
            vec!["run", "--invoke", "run", pingpong.to_str().unwrap(), "40"],
        ),
    ];
    for (commands, args) in runs {
        let out = gdb(commands, &args);
        let summary = out
            .lines()
            .find(|l| l.starts_with("view-sequences: "))
            .unwrap_or_else(|| panic!("no summary in:\n{out}"));
        eprintln!("{summary}");
        assert!(
            summary.starts_with("view-sequences: 60 sequences, ") && summary.ends_with(" 0 failed"),
            "{out}"
        );
        let views: usize = summary
            .split(", ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(views > 10, "{summary}");
        assert!(!out.contains("Python Exception"), "{out}");
    }
}

/// A division by zero in a fiber: gdb stops on the trap's signal, the
/// helpers name the trap, its function and line; `info wasm-trap` says it
/// again; `continue` hands the signal to the engine, which reports the
/// trap and exits as it does without gdb.
#[test]
fn a_trap_stop_names_the_trap_and_continue_lets_the_engine_handle_it() {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile_c("trap", "-O0") else {
        return;
    };
    let out = gdb(
        &["run", "info wasm-trap", "continue", "info wasm-trap"],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            "resuming",
            "received signal SIGILL",
            "trap!compute (n=",
            ") at ",
            "wasm trap: integer divide by zero in trap!compute (wasm 0x",
            "trap.c:20\n",
            // info wasm-trap
            "wasm trap: integer divide by zero in trap!compute (wasm 0x",
            "trap.c:20 (SIGILL)\n",
            // continue: the engine's own report, and its trap status.
            "error: wasm trap: integer divide by zero",
            "exited with code 0206",
            "The program is not being run.",
        ],
    );
    assert!(!out.contains("Python Exception"), "{out}");

    // A stop that is no trap says so.
    let out = gdb(
        &["break trap.c:26", "run", "info wasm-trap"],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &["Breakpoint 1, ", "the process did not stop on a Wasm trap"],
    );
    assert!(!out.contains("wasm trap: "), "{out}");
}

/// The JIT objects define every Wasm function under its plain name too:
/// `break squares`, `list squares` and `info line squares` in a fiber
/// program work as on a native build; frames keep `module!function`.
#[test]
fn break_list_and_info_line_by_a_plain_function_name() {
    if !have_gdb() {
        return;
    }
    let Some(wasm) = compile_c("gen", "-O0") else {
        return;
    };
    let out = gdb(
        &[
            "break squares",
            "run",
            "bt 1",
            "list squares",
            "info line squares",
        ],
        &["run", "--preload", &fiber_preload(), wasm.to_str().unwrap()],
    );
    assert_in_order(
        &out,
        &[
            "Breakpoint 1 (squares) pending.",
            "Breakpoint 1, gen!squares (n=3, first=0) at ",
            "gen.c:17",
            "#0  gen!squares (n=3, first=0) at ",
            "15\tstatic int squares(int n, int first) {",
            "Line 15 of \"",
            "<gen!squares>",
        ],
    );
}

/// `break run` also stops in host functions whose path ends in `run`;
/// `wasm break run` only in the Wasm function `run`.
#[test]
fn wasm_break_stops_only_in_wasm_functions_of_that_name() {
    if !have_gdb() {
        return;
    }
    let wat = repo("bench/wat/yield_loop.wat");
    let out = gdb(
        &[
            "break run",
            "wasm break run",
            "run",
            "info breakpoints",
            "continue",
            "continue",
        ],
        &["run", "--invoke", "run", wat.to_str().unwrap(), "3"],
    );
    // gdb's own `break run` has host locations.
    let host = out
        .lines()
        .filter(|l| l.starts_with("1.") && !l.contains("yield_loop!run"))
        .count();
    assert!(host > 0, "{out}");
    assert_in_order(
        &out,
        &[
            "Breakpoint 2 (-qualified run) pending.",
            ", yield_loop!run () at ",
            // Breakpoint 2 has one location, in Wasm code, and stopped.
            "\n2       breakpoint     keep y   0x",
            " in yield_loop!run at ",
            "breakpoint already hit 1 time",
            // The program ran to its end: `run` is entered once.
            "\n3\n",
        ],
    );
}

/// At a stack-overflow stop (the `ud2` the prologue's stack-limit check
/// jumps to, before the callee-saved registers are stored), the callers'
/// callee-saved registers are the live ones, not the contents of save
/// slots the prologue has not written yet; and `bt` still crosses the
/// continuation to `_start`.
#[test]
fn callers_registers_at_a_stack_overflow_stop_are_the_live_ones() {
    if !have_gdb() {
        return;
    }
    let wat = repo("tests/gdb/overflow.wat");
    let registers = ["rbx", "r12", "r13", "r14", "r15"];
    let mut commands = vec!["run".to_string(), "echo @@frame0\\n".to_string()];
    commands.extend(registers.iter().map(|r| format!("p/x ${r}")));
    commands.extend(["up".to_string(), "echo @@frame1\\n".to_string()]);
    commands.extend(registers.iter().map(|r| format!("p/x ${r}")));
    commands.extend(["echo @@bt\\n".to_string(), "bt -16".to_string()]);
    let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
    for mode in ["native", "libcall"] {
        let out = gdb(
            &commands,
            &["run", &format!("--switching={mode}"), wat.to_str().unwrap()],
        );
        assert!(out.contains("received signal SIGILL"), "{mode}:\n{out}");
        let values = |from: &str, to: &str| -> Vec<String> {
            let start = out
                .find(from)
                .unwrap_or_else(|| panic!("{mode}: no {from}:\n{out}"));
            let end = out
                .find(to)
                .unwrap_or_else(|| panic!("{mode}: no {to}:\n{out}"));
            out[start..end]
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(_, v)| v.to_string()))
                .collect()
        };
        let frame0 = values("@@frame0", "@@frame1");
        let frame1 = values("@@frame1", "@@bt");
        assert_eq!(frame0.len(), registers.len(), "{mode}:\n{out}");
        assert_eq!(
            frame0, frame1,
            "{mode}: the caller's registers differ:\n{out}"
        );
        let bt = &out[out.find("@@bt").unwrap()..];
        assert_in_order(bt, &["overflow!fiber", "<continuation ", "overflow!_start"]);
        assert!(!out.contains("corrupt stack"), "{mode}:\n{out}");
    }
}
