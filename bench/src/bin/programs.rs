//! Whole-program benchmarks: the C programs of `bench/programs/` on the
//! project's fiber library (`tests/programs/fibers/fiber.wat`), built by
//! clang for wasm32-wasi, each run as a separate process under
//! Switchyard (`switchyard run --preload env=fiber.wat`, the release
//! build next to this binary) and under Wasmtime's CLI (`wasmtime`, or
//! the program named by `WASMTIME`), alternating, best wall-clock time of
//! several runs each. The two engines' outputs must be equal: a mismatch
//! or a failed run fails the benchmark.
//!
//! Usage: `cargo build --release -p switchyard && cargo run --release -p
//! switchyard-bench --bin programs [-- --rounds N] [-- --switching libcall]`

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One program: its source file and the ratio it should reach.
struct Program {
    name: &'static str,
    /// Switches dominate its time (target <= 0.7), or not (<= 1.0).
    switch_heavy: bool,
}

const PROGRAMS: &[Program] = &[
    Program {
        name: "generator_pipeline",
        switch_heavy: true,
    },
    Program {
        name: "scheduler_channels",
        switch_heavy: true,
    },
    Program {
        name: "tree_walk",
        switch_heavy: true,
    },
    Program {
        name: "switch_ring",
        switch_heavy: true,
    },
    Program {
        name: "short_lived",
        switch_heavy: true,
    },
    Program {
        name: "compute",
        switch_heavy: false,
    },
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// The release `switchyard` binary: in the same directory as this one.
fn switchyard_binary() -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find this program's path")?;
    let dir = me.parent().context("this program has no directory")?;
    let bin = dir.join("switchyard");
    if !bin.exists() {
        bail!(
            "{} is missing: build it first with `cargo build --release -p switchyard`",
            bin.display()
        );
    }
    Ok(bin)
}

fn build(name: &str, out: &Path) -> Result<PathBuf> {
    let src = repo().join("bench/programs").join(format!("{name}.c"));
    let wasm = out.join(format!("{name}.wasm"));
    let fibers = repo().join("tests/programs/fibers");
    let output = Command::new(std::env::var("WASI_CC").unwrap_or_else(|_| "clang".into()))
        .args(["--target=wasm32-wasi", "-O2", "-Wl,--import-table", "-I"])
        .arg(&fibers)
        .arg(&src)
        .arg("-o")
        .arg(&wasm)
        .output()
        .context("cannot run clang (needed for wasm32-wasi; set WASI_CC to another compiler)")?;
    if !output.status.success() {
        bail!(
            "clang could not build {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(wasm)
}

/// Runs `cmd` to completion: its wall-clock time and output. A failure
/// is an error that names the engine.
fn timed(engine: &str, name: &str, cmd: &mut Command) -> Result<(Duration, Output)> {
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot start {engine} for {name}"))?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!(
            "{name} failed under {engine} ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((took, out))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let rounds: usize = match value_of("--rounds") {
        Some(r) => r
            .parse()
            .ok()
            .filter(|r| *r > 0)
            .context("--rounds takes a positive number")?,
        None => 5,
    };
    let switching = value_of("--switching").unwrap_or_else(|| "native".into());
    let switchyard = switchyard_binary()?;
    let wasmtime = std::env::var("WASMTIME").unwrap_or_else(|_| "wasmtime".into());
    let fiber_wat = repo().join("tests/programs/fibers/fiber.wat");
    let out =
        std::env::temp_dir().join(format!("switchyard-bench-programs-{}", std::process::id()));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let preload = format!("env={}", fiber_wat.display());

    println!(
        "{:<20} {:>14} {:>14} {:>8} {:>8}   (best of {rounds}, wall clock, switching {switching})",
        "program", "switchyard s", "wasmtime s", "ratio", "target"
    );
    let mut missed = Vec::new();
    for p in PROGRAMS {
        let wasm = build(p.name, &out)?;
        let mut ours = Duration::MAX;
        let mut theirs = Duration::MAX;
        for _ in 0..rounds {
            let (t, a) = timed(
                "switchyard",
                p.name,
                Command::new(&switchyard)
                    .args(["run", "--switching", &switching, "--preload", &preload])
                    .arg(&wasm),
            )?;
            ours = ours.min(t);
            let (t, b) = timed(
                "wasmtime",
                p.name,
                Command::new(&wasmtime)
                    .args([
                        "run",
                        "-W",
                        "stack-switching=y,function-references=y,exceptions=y",
                        "--preload",
                        &preload,
                    ])
                    .arg(&wasm),
            )?;
            theirs = theirs.min(t);
            if a.stdout != b.stdout {
                bail!(
                    "{}: the outputs differ\nswitchyard: {}wasmtime:   {}",
                    p.name,
                    String::from_utf8_lossy(&a.stdout),
                    String::from_utf8_lossy(&b.stdout)
                );
            }
        }
        let ratio = ours.as_secs_f64() / theirs.as_secs_f64();
        let target = if p.switch_heavy { 0.7 } else { 1.0 };
        println!(
            "{:<20} {:>14.3} {:>14.3} {:>8.3} {:>8}",
            p.name,
            ours.as_secs_f64(),
            theirs.as_secs_f64(),
            ratio,
            format!("<= {target}")
        );
        if ratio > target {
            missed.push(p.name);
        }
    }
    std::fs::remove_dir_all(&out).ok();
    if !missed.is_empty() {
        println!("targets missed: {}", missed.join(", "));
    }
    Ok(())
}
