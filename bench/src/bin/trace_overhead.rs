//! The cost of the flight recorder behind `switchyard trace` / `run
//! --trace`: `bench/wat/yield_loop.wat` (one resume and one suspend per
//! iteration, so every iteration records two events and makes two event
//! calls) timed without switch events (nothing compiled in) and with the
//! engine reporting them into the recorder, rounds interleaved, in one
//! run. Prints ns per iteration and the ratio (target <= 2.0).
//!
//! Usage: `cargo run --release -p switchyard-bench --bin trace_overhead
//! [-- --quick]`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use switchyard_engine::vm::events::recorder;
use switchyard_engine::{Config, Engine, Linker, Module, Store, Val};

/// A `run` of yield_loop on an engine with or without switch events.
struct Program {
    store: Store<()>,
    run: switchyard_engine::Func,
}

impl Program {
    fn new(bytes: &[u8], events: bool) -> Result<Program> {
        let config = Config {
            report_switch_events: events,
            ..Config::default()
        };
        let engine = Engine::new(&config)?;
        let module = Module::new(&engine, bytes)?;
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine).instantiate(&mut store, &module)?;
        let run = instance.get_func(&mut store, "run").context("no `run`")?;
        Ok(Program { store, run })
    }

    /// ns per iteration of one call with `n` iterations.
    fn time(&mut self, n: i64) -> Result<f64> {
        let mut out = [Val::I64(0)];
        let start = Instant::now();
        self.run.call(&mut self.store, &[Val::I64(n)], &mut out)?;
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        if out[0].i64() != Some(n * (n - 1) / 2) {
            bail!("run returned {:?}", out[0]);
        }
        Ok(ns)
    }
}

fn main() -> Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (n, rounds): (i64, usize) = if quick {
        (2_000_000, 3)
    } else {
        (20_000_000, 7)
    };
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("wat/yield_loop.wat");
    let bytes = wat::parse_file(&path).with_context(|| path.display().to_string())?;
    let mut plain = Program::new(&bytes, false)?;
    let mut traced = Program::new(&bytes, true)?;
    plain.time(n)?; // warm-up
    recorder::start(1 << 17);
    traced.time(n)?;
    recorder::stop();
    let (mut off, mut on) = (f64::INFINITY, f64::INFINITY);
    let mut recorded = 0;
    for _ in 0..rounds {
        off = off.min(plain.time(n)?);
        recorder::start(1 << 17);
        on = on.min(traced.time(n)?);
        recorded = recorder::stop().total;
    }
    let ratio = on / off;
    println!("yield_loop, n = {n}, best of {rounds} rounds each, interleaved");
    println!("  without switch events   {off:8.2} ns/iteration");
    println!(
        "  flight recorder on      {on:8.2} ns/iteration  ({recorded} events in the last round)"
    );
    println!("  traced / plain          {ratio:8.3}  (target <= 2.0)");
    if ratio > 2.0 {
        println!("target missed");
    }
    Ok(())
}
