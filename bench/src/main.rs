//! Runs the stack switching micro-benchmarks (`bench/wat/*.wat`) in
//! Switchyard (native and libcall switching) and in Wasmtime, on the same
//! module bytes in one run, and prints ns per iteration (median and
//! spread of several rounds) and the ratios.
//!
//! Usage: `cargo run --release -p switchyard-bench [-- --quick]`

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result, bail};

/// One benchmark: its file, how one iteration is counted, and the
/// arguments of `run` for `n` iterations.
struct Bench {
    name: &'static str,
    /// Iterations for Switchyard and for Wasmtime (Wasmtime's
    /// `create_complete` must stay below its ~32,700 continuation limit).
    n: u64,
    n_wasmtime: u64,
    args: fn(u64) -> Vec<i64>,
    expected: fn(u64) -> i64,
    /// Target ratio of Switchyard native to Wasmtime.
    target: f64,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "yield_loop",
        n: 2_000_000,
        n_wasmtime: 2_000_000,
        args: |n| vec![n as i64],
        expected: |n| (n * (n - 1) / 2) as i64,
        target: 0.4,
    },
    Bench {
        name: "switch_pingpong",
        n: 2_000_000,
        n_wasmtime: 2_000_000,
        args: |n| vec![n as i64],
        expected: |_| 0,
        target: 0.5,
    },
    Bench {
        name: "deep_chain",
        n: 200_000,
        n_wasmtime: 200_000,
        args: |n| vec![10, n as i64],
        expected: |n| n as i64,
        target: 0.4,
    },
    Bench {
        name: "create_complete",
        n: 1_000_000,
        n_wasmtime: 30_000,
        args: |n| vec![n as i64],
        expected: |n| (n * (n + 1) / 2) as i64,
        target: 0.01,
    },
];

fn wat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wat")
}

/// How many multiply-xor steps the unused function put before a
/// benchmark's own functions has, per code layout sampled.
///
/// Where the hot code lands decides a lot here: over 16 function start
/// offsets, one build's `yield_loop` took 148 to 167 ms, although the
/// offsets of every hot instruction modulo 64 stayed the same
/// (docs/performance.md, fifth pass). Each round therefore runs the
/// benchmark in several layouts, made the same way for both engines: an
/// unused function first in the module, of a different size in each,
/// moves every function after it.
const LAYOUT_PADS: &[usize] = &[0, 3, 9, 17];

/// `wat` with an unused function of `steps` steps before its first
/// function (the benchmarks name their functions, so no index shifts
/// matter).
fn with_layout_pad(wat: &str, steps: usize) -> Result<String> {
    if steps == 0 {
        return Ok(wat.to_string());
    }
    let at = wat
        .find("\n  (func ")
        .context("a benchmark module without a function")?;
    let mut pad = String::from("\n  (func $layout_pad (param i64) (result i64) (local.get 0)");
    for k in 0..steps {
        pad.push_str(&format!(
            " (i64.const {}) (i64.mul) (i64.const {}) (i64.xor)",
            2 * k + 3,
            k * 7919 + 1
        ));
    }
    pad.push(')');
    Ok(format!("{}{}{}", &wat[..at], pad, &wat[at..]))
}

/// Timings of several rounds, in ns per iteration.
#[derive(Clone, Copy, Debug)]
struct Spread {
    min: f64,
    median: f64,
    max: f64,
}

impl Spread {
    fn of(mut samples: Vec<f64>) -> Spread {
        samples.sort_by(f64::total_cmp);
        let n = samples.len();
        let median = if n % 2 == 1 {
            samples[n / 2]
        } else {
            (samples[n / 2 - 1] + samples[n / 2]) / 2.0
        };
        Spread {
            min: samples[0],
            median,
            max: samples[n - 1],
        }
    }

    /// `median (min-max)`.
    fn show(&self) -> String {
        format!("{:.2} ({:.2}-{:.2})", self.median, self.min, self.max)
    }

    /// `median (min-max)` of ratios.
    fn show_ratio(&self) -> String {
        format!("{:.3} ({:.3}-{:.3})", self.median, self.min, self.max)
    }
}

/// One measured round of one engine: ns per iteration.
type Round = Box<dyn FnMut() -> Result<f64>>;

/// Switchyard ready to run `b` (checked once as a warm-up); each call of
/// the result is one round.
fn switchyard(
    bytes: &[u8],
    b: &'static Bench,
    n: u64,
    mode: switchyard_engine::SwitchingMode,
) -> Result<Round> {
    use switchyard_engine::*;
    let config = Config {
        switching: mode,
        ..Config::default()
    };
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, bytes)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let run = instance
        .get_func(&mut store, "run")
        .context("no `run` export")?;
    let ty = run.ty(&store);
    let args: Vec<Val> = (b.args)(n)
        .iter()
        .zip(ty.params())
        .map(|(a, t)| {
            if *t == ValType::I32 {
                Val::I32(*a as i32)
            } else {
                Val::I64(*a)
            }
        })
        .collect();
    let mut out = [Val::I64(0)];
    // Warm up (and check the result).
    run.call(&mut store, &args, &mut out)?;
    if out[0].i64() != Some((b.expected)(n)) {
        bail!(
            "switchyard {}: run returned {:?}, expected {}",
            b.name,
            out[0],
            (b.expected)(n)
        );
    }
    Ok(Box::new(move || {
        let start = Instant::now();
        run.call(&mut store, &args, &mut out)?;
        Ok(start.elapsed().as_nanos() as f64 / n as f64)
    }))
}

/// Wasmtime's errors as ours.
fn wt<T>(r: wasmtime::Result<T>) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("wasmtime: {e:?}"))
}

/// Wasmtime ready to run `b` (checked once as a warm-up); each call of the
/// result is one round, in a fresh store.
fn wasmtime(bytes: &[u8], b: &'static Bench, n: u64) -> Result<Round> {
    let mut config = wasmtime::Config::new();
    config
        .wasm_stack_switching(true)
        .wasm_function_references(true)
        .wasm_exceptions(true)
        .wasm_gc(true);
    let engine = wt(wasmtime::Engine::new(&config))?;
    let module = wt(wasmtime::Module::new(&engine, bytes))?;
    // A fresh store per round: Wasmtime never frees a continuation's stack,
    // so create_complete would exhaust a long-lived store.
    let round = move || -> Result<(wasmtime::Store<()>, wasmtime::Func, Vec<wasmtime::Val>)> {
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wt(wasmtime::Instance::new(&mut store, &module, &[]))?;
        let run = instance
            .get_func(&mut store, "run")
            .context("no `run` export")?;
        let ty = run.ty(&store);
        let args: Vec<wasmtime::Val> = (b.args)(n)
            .iter()
            .zip(ty.params())
            .map(|(a, t)| match t {
                wasmtime::ValType::I32 => wasmtime::Val::I32(*a as i32),
                _ => wasmtime::Val::I64(*a),
            })
            .collect();
        Ok((store, run, args))
    };
    let mut out = [wasmtime::Val::I64(0)];
    {
        // Warm up and check the result; the store is dropped before the
        // measured rounds make theirs.
        let (mut store, run, args) = round()?;
        wt(run.call(&mut store, &args, &mut out))?;
        if out[0].i64() != Some((b.expected)(n)) {
            bail!(
                "wasmtime {}: run returned {:?}, expected {}",
                b.name,
                out[0],
                (b.expected)(n)
            );
        }
    }
    Ok(Box::new(move || {
        let (mut store, run, args) = round()?;
        let start = Instant::now();
        wt(run.call(&mut store, &args, &mut out))?;
        Ok(start.elapsed().as_nanos() as f64 / n as f64)
    }))
}

/// Captures per host call in the backtrace benchmark.
const CAPTURES: usize = 2000;

/// Switchyard ready for the backtrace benchmark: each call of the round is
/// one round (ns per capture); the counter holds the Wasm frames the last
/// capture had.
fn switchyard_backtrace(bytes: &[u8]) -> Result<(Round, Arc<Mutex<usize>>)> {
    use switchyard_engine::*;
    let engine = Engine::new(&Config::default())?;
    let module = Module::new(&engine, bytes)?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let frames = Arc::new(Mutex::new(0usize));
    let sink = frames.clone();
    linker.func_new(
        "host",
        "probe",
        FuncType::new([], []),
        move |caller, _, _| {
            let mut n = 0;
            for _ in 0..CAPTURES {
                let bt = caller.backtrace();
                n = bt
                    .iter()
                    .filter(|f| matches!(f, switchyard_engine::frames::Frame::Wasm(_)))
                    .count();
                std::hint::black_box(&bt);
            }
            *sink.lock().unwrap() = n;
            Ok(())
        },
    );
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance
        .get_func(&mut store, "run")
        .context("no `run` export")?;
    let round = move || {
        let start = Instant::now();
        run.call(&mut store, &[], &mut [])?;
        Ok(start.elapsed().as_nanos() as f64 / CAPTURES as f64)
    };
    Ok((Box::new(round), frames))
}

/// Wasmtime ready for the backtrace benchmark, as [`switchyard_backtrace`]
/// (`WasmBacktrace::capture`).
fn wasmtime_backtrace(bytes: &[u8]) -> Result<(Round, Arc<Mutex<usize>>)> {
    let mut config = wasmtime::Config::new();
    config
        .wasm_stack_switching(true)
        .wasm_function_references(true)
        .wasm_exceptions(true)
        .wasm_gc(true);
    let engine = wt(wasmtime::Engine::new(&config))?;
    let module = wt(wasmtime::Module::new(&engine, bytes))?;
    let frames = Arc::new(Mutex::new(0usize));
    let sink = frames.clone();
    let mut linker = wasmtime::Linker::new(&engine);
    wt(
        linker.func_wrap("host", "probe", move |caller: wasmtime::Caller<'_, ()>| {
            let mut n = 0;
            for _ in 0..CAPTURES {
                let bt = wasmtime::WasmBacktrace::capture(&caller);
                n = bt.frames().len();
                std::hint::black_box(&bt);
            }
            *sink.lock().unwrap() = n;
        }),
    )?;
    let mut store = wasmtime::Store::new(&engine, ());
    let instance = wt(linker.instantiate(&mut store, &module))?;
    let run = instance
        .get_func(&mut store, "run")
        .context("no `run` export")?;
    let round = move || {
        let start = Instant::now();
        wt(run.call(&mut store, &[], &mut []))?;
        Ok(start.elapsed().as_nanos() as f64 / CAPTURES as f64)
    };
    Ok((Box::new(round), frames))
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let layouts = if quick {
        &LAYOUT_PADS[..1]
    } else {
        LAYOUT_PADS
    };
    let rounds_per_layout = 3;
    let rounds = layouts.len() * rounds_per_layout;
    let scale = if quick { 10 } else { 1 };
    println!(
        "ns per iteration, median (min-max) of {rounds} rounds ({rounds_per_layout} in each of {} \
         code layouts), the engines taking turns; nat/wt: native / Wasmtime within each round, \
         median (min-max)",
        layouts.len()
    );
    println!(
        "{:<16} {:>22} {:>22} {:>22} {:>21} {:>7} {:>7}",
        "benchmark", "native", "libcall", "wasmtime", "nat/wt", "target", "lib/nat"
    );
    let mut missed = Vec::new();
    for b in BENCHES {
        let path = wat_dir().join(format!("{}.wat", b.name));
        let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
        let n = (b.n / scale).max(1000);
        let nw = (b.n_wasmtime / scale).max(1000);
        use switchyard_engine::SwitchingMode;
        // Rounds alternate between the engines, so that a burst of load
        // from elsewhere on the machine hits all of them alike; each
        // round's own ratio is kept too.
        let mut samples = [const { Vec::new() }; 3];
        let mut ratios = Vec::with_capacity(rounds);
        for &steps in layouts {
            let bytes = wat::parse_str(with_layout_pad(&text, steps)?)
                .with_context(|| path.display().to_string())?;
            let mut engines = [
                switchyard(&bytes, b, n, SwitchingMode::Native)?,
                switchyard(&bytes, b, n, SwitchingMode::Libcall)?,
                wasmtime(&bytes, b, nw)?,
            ];
            for _ in 0..rounds_per_layout {
                for (engine, s) in engines.iter_mut().zip(samples.iter_mut()) {
                    s.push(engine()?);
                }
                ratios.push(samples[0].last().unwrap() / samples[2].last().unwrap());
            }
        }
        let [native, libcall, wt] = samples.map(Spread::of);
        let paired = Spread::of(ratios);
        let ratio = paired.median;
        println!(
            "{:<16} {:>22} {:>22} {:>22} {:>21} {:>7} {:>7.2}",
            b.name,
            native.show(),
            libcall.show(),
            wt.show(),
            paired.show_ratio(),
            format!("<={}", b.target),
            libcall.median / native.median
        );
        if ratio > b.target {
            missed.push(b.name);
        }
    }
    let path = wat_dir().join("backtrace_capture.wat");
    let bytes = wat::parse_file(&path).with_context(|| path.display().to_string())?;
    // A warm-up call each, then the engines take turns, as above: run
    // one after the other, the first one measured often met a slower
    // machine (1.10-1.13x in 2 runs of 9, 0.88-0.90x in the others).
    let (mut ours, our_frames) = switchyard_backtrace(&bytes)?;
    let (mut theirs, their_frames) = wasmtime_backtrace(&bytes)?;
    ours()?;
    theirs()?;
    let mut samples = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        samples[0].push(ours()?);
        samples[1].push(theirs()?);
    }
    let [ours, theirs] = samples.map(|s| Spread::of(s).median);
    let our_frames = *our_frames.lock().unwrap();
    let their_frames = *their_frames.lock().unwrap();
    println!(
        "\nbacktrace capture: {ours:.0} ns ({our_frames} Wasm frames) vs Wasmtime {theirs:.0} ns \
         ({their_frames} frames): {:.3}x (target <= 1.0)",
        ours / theirs
    );
    if ours > theirs {
        missed.push("backtrace_capture");
    }
    if !missed.is_empty() {
        println!("targets missed: {}", missed.join(", "));
    }
    Ok(())
}
