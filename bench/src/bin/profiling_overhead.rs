//! The cost of `switchyard profile`'s sampler: `bench/wat/yield_loop.wat`
//! (one resume and one suspend per iteration, so nearly every sample lands
//! in or next to a switch and crosses a continuation boundary) timed
//! without and with the sampler running at 1 kHz, rounds interleaved, in
//! one run. Prints ns per iteration, samples taken and the ratio (target
//! <= 1.05).
//!
//! Usage: `cargo run --release -p switchyard-bench --bin profiling_overhead
//! [-- --quick]`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use switchyard_engine::{Config, Engine, Linker, Module, Store, Val};
use switchyard_profile::{Profile, Sampler, SamplerOptions, Symbols};

const HZ: u32 = 1000;

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, rounds): (i64, usize) = if quick {
        (5_000_000, 3)
    } else {
        (50_000_000, 7)
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wat/yield_loop.wat");
    let bytes = wat::parse_file(&path).with_context(|| path.display().to_string())?;

    switchyard_engine::profiling::keep_code_log();
    let engine = Engine::new(&Config::default())?;
    let module = Module::new(&engine, &bytes)?;
    let mut store = Store::new(&engine, ());
    let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
    let run = instance.get_func(&mut store, "run").context("no `run`")?;
    let args = [Val::I64(n)];
    let mut out = [Val::I64(0)];
    let expected = n * (n - 1) / 2;
    let mut call = |store: &mut Store<()>| -> Result<f64> {
        let start = Instant::now();
        run.call(store, &args, &mut out)?;
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        if out[0].i64() != Some(expected) {
            bail!("run returned {:?}, expected {expected}", out[0]);
        }
        Ok(ns)
    };
    call(&mut store)?; // warm-up

    let registry = &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64;
    let options = SamplerOptions {
        hz: HZ,
        ..SamplerOptions::default()
    };
    let (mut plain, mut profiled) = (f64::INFINITY, f64::INFINITY);
    let mut samples = 0;
    let mut symbolize_ms = 0.0;
    let mut crossing = 0;
    let mut handler_ns = 0.0;
    for _ in 0..rounds {
        plain = plain.min(call(&mut store)?);
        let sampler = Sampler::start(registry, options).map_err(anyhow::Error::msg)?;
        let ns = call(&mut store)?;
        let raw = sampler.stop();
        profiled = profiled.min(ns);
        handler_ns = raw.handler_ns as f64 / raw.taken.max(1) as f64;
        // Symbolization runs after the program, outside the timed part.
        let start = Instant::now();
        let memory = switchyard_unwind::ProcessMemory::current();
        let trampoline = switchyard_unwind::Snapshot::read(&memory, registry)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .trampoline;
        let symbols = Symbols::new(switchyard_engine::profiling::code_log(), trampoline);
        let profile = Profile::symbolize(&raw, &symbols);
        symbolize_ms = start.elapsed().as_secs_f64() * 1e3;
        samples = profile.samples.len();
        crossing = profile
            .samples
            .iter()
            .filter(|s| s.running.is_some())
            .count();
    }
    let ratio = profiled / plain;
    println!("yield_loop, n = {n}, best of {rounds} rounds each, interleaved");
    println!("  without profiling  {plain:8.2} ns/iteration");
    println!(
        "  sampler at {HZ} Hz {profiled:8.2} ns/iteration  ({samples} samples in the last round, \
         {crossing} inside a continuation; symbolized in {symbolize_ms:.1} ms after the run)"
    );
    println!("  profiled / plain   {ratio:8.4}  (target <= 1.05)");
    println!(
        "  time in the signal handler: {handler_ns:.0} ns per sample (last round), \
         {:.3}% of the run at {HZ} Hz",
        handler_ns * f64::from(HZ) / 1e9 * 100.0
    );
    if ratio > 1.05 {
        println!("target missed");
    }
    Ok(())
}
