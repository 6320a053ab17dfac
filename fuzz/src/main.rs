//! `switchyard-fuzz`: differential fuzzing of Switchyard's engine against
//! Wasmtime, and malformed-input fuzzing, on stable Rust.
//!
//! ```sh
//! cargo run --release -p switchyard-fuzz -- --seconds 60 [--seed S] [--target T]
//! ```
//!
//! Three targets (`--target smith,switching,malformed`, all by default, in
//! turn): wasm-smith modules and generated stack-switching programs run in
//! both engines and compared (results, traps by kind, final memories,
//! globals and tables); mutated modules must be rejected or accepted,
//! never crash or hang. Each case runs in a worker process, so a crash or a
//! hang is that case's finding. Findings are printed (`FINDING
//! target:seed: what`) and saved to `--out` (module, text, what differed);
//! `--replay target:seed` runs one case again in this process and
//! `--print target:seed` prints its module. Exit status 1 when anything was
//! found.
//!
//! Why these crates: `wasm-smith` is the generator of valid modules that
//! Wasmtime's own fuzzers use; `fastrand` gives seeded, portable random
//! streams so that a case is its seed; Wasmtime 48 is the reference (the
//! build the benchmarks already make).

mod case;
mod engines;
mod features;
mod mutate;
mod supervisor;
mod switching;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Parser;

use case::{Outcome, Target};

#[derive(Parser)]
#[command(
    name = "switchyard-fuzz",
    about = "Differential fuzzing of Switchyard against Wasmtime"
)]
struct Args {
    /// How long to run.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Stop after this many cases (a fixed amount of work, for CI).
    #[arg(long)]
    cases: Option<u64>,
    /// Seed of the first case (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Targets, comma-separated: smith, switching, malformed.
    #[arg(long, value_delimiter = ',')]
    target: Vec<String>,
    /// Where findings are saved.
    #[arg(long, default_value = "fuzz-findings")]
    out: PathBuf,
    /// Seconds one case may run before it counts as a hang.
    #[arg(long, default_value_t = 30)]
    case_timeout: u64,
    /// Runs one case (TARGET:SEED) here and prints what it found.
    #[arg(long, value_name = "TARGET:SEED")]
    replay: Option<String>,
    /// Prints the module of one case (TARGET:SEED) as text.
    #[arg(long, value_name = "TARGET:SEED")]
    print: Option<String>,
    /// Internal: run cases from index --start and report on stdout.
    #[arg(long, hide = true)]
    worker: bool,
    /// Internal: the worker's first case index.
    #[arg(long, hide = true, default_value_t = 0)]
    start: u64,
    /// For the fuzzer's own tests: the first case crashes (SIGSEGV),
    /// hangs or panics instead of running, to show it is caught.
    #[arg(long, hide = true, value_parser = ["crash", "hang", "panic"])]
    selftest: Option<String>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn targets(names: &[String]) -> anyhow::Result<Vec<Target>> {
    if names.is_empty() {
        return Ok(Target::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Target::parse(n)
                .with_context(|| format!("unknown target {n:?} (smith, switching, malformed)"))
        })
        .collect()
}

fn parse_case(text: &str) -> anyhow::Result<(Target, u64)> {
    let (t, s) = text
        .split_once(':')
        .with_context(|| format!("{text:?}: expected TARGET:SEED"))?;
    let target = Target::parse(t).with_context(|| format!("unknown target {t:?}"))?;
    let seed = s.parse().with_context(|| format!("{s:?} is not a seed"))?;
    Ok((target, seed))
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(which) = &args.print {
        let (target, seed) = parse_case(which)?;
        let case = case::generate(target, seed).map_err(anyhow::Error::msg)?;
        match case
            .text
            .or_else(|| wasmprinter::print_bytes(&case.bytes).ok())
        {
            Some(text) => println!("{text}"),
            None => bail!("the module of {which} cannot be printed (it is malformed)"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(which) = &args.replay {
        let (target, seed) = parse_case(which)?;
        let engines = case::Engines::new()?;
        if target != Target::Malformed
            && let Ok(case) = case::generate(target, seed)
        {
            let (ours, theirs) = case::observe(&engines, target, seed, &case);
            println!("switchyard: {ours:?}\nwasmtime:   {theirs:?}");
        }
        return Ok(match case::run(&engines, target, seed) {
            Outcome::Passed => {
                println!("{which}: passed");
                ExitCode::SUCCESS
            }
            Outcome::Inconclusive(why) => {
                println!("{which}: inconclusive: {why}");
                ExitCode::SUCCESS
            }
            Outcome::Finding(what) => {
                println!("{which}: FINDING: {what}");
                ExitCode::FAILURE
            }
        });
    }
    let targets = targets(&args.target)?;
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    if args.worker {
        return worker(&targets, seed, args.start, args.selftest.as_deref());
    }
    println!(
        "switchyard-fuzz: seed {seed}, targets {}, {} s{}",
        targets
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(","),
        args.seconds,
        args.cases
            .map_or(String::new(), |c| format!(", at most {c} cases"))
    );
    let plan = supervisor::Plan {
        targets,
        seed,
        duration: Duration::from_secs(args.seconds),
        max_cases: args.cases,
        case_timeout: Duration::from_secs(args.case_timeout),
        out: args.out,
        selftest: args.selftest,
    };
    let summary = supervisor::run(&plan)?;
    let total: u64 = summary.per_target.iter().map(|(_, c)| c.executions).sum();
    println!(
        "{total} executions in {:.0} s, {} findings",
        summary.elapsed.as_secs_f64(),
        summary.findings()
    );
    for (target, c) in &summary.per_target {
        println!(
            "  {:<10} {:>8} executions {:>8} inconclusive {:>4} findings",
            target.name(),
            c.executions,
            c.inconclusive,
            c.findings
        );
    }
    if !summary.inconclusive_reasons.is_empty() {
        println!("inconclusive, by reason:");
        for (reason, n) in summary.inconclusive_reasons.iter().take(8) {
            println!("  {n:>8}  {reason}");
        }
    }
    Ok(if summary.findings() > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The worker: runs cases from index `start` on, one line per event.
fn worker(
    targets: &[Target],
    seed: u64,
    start: u64,
    selftest: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let engines = case::Engines::new()?;
    // A panic is a finding, reported on stdout; its default printing
    // would only repeat it.
    std::panic::set_hook(Box::new(|_| {}));
    let mut out = std::io::stdout().lock();
    for index in start.. {
        let target = targets[(index % targets.len() as u64) as usize];
        let case_seed = seed.wrapping_add(index);
        writeln!(out, "start {target} {case_seed}")?;
        out.flush()?;
        let run = std::panic::AssertUnwindSafe(|| {
            if index == 0 {
                selftest_fault(selftest);
            }
            case::run(&engines, target, case_seed)
        });
        let outcome = match std::panic::catch_unwind(run) {
            Ok(outcome) => outcome,
            Err(p) => {
                let text = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let line = one_line(&format!("panic: {text}"));
                writeln!(out, "done {target} {case_seed} finding {line}")?;
                out.flush()?;
                // The engines may be left broken: the supervisor starts a
                // new worker for the next case.
                return Ok(ExitCode::SUCCESS);
            }
        };
        let line = match outcome {
            Outcome::Passed => "passed".to_string(),
            Outcome::Inconclusive(why) => format!("inconclusive {}", one_line(&why)),
            Outcome::Finding(what) => format!("finding {}", one_line(&what)),
        };
        writeln!(out, "done {target} {case_seed} {line}")?;
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Fails the way `--selftest` asks, if it does.
fn selftest_fault(kind: Option<&str>) {
    match kind {
        Some("crash") => {
            // A real fault in host code, as an engine bug would make: the
            // engines' signal handlers must pass it on, and the process
            // must die of it.
            let unmapped = std::hint::black_box(16usize) as *mut u8;
            // SAFETY: it is not sound, on purpose: the write faults
            // (nothing is mapped at address 16) and the process dies.
            unsafe { unmapped.write_volatile(1) };
        }
        Some("hang") => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
        Some("panic") => panic!("selftest panic"),
        _ => {}
    }
}

fn one_line(text: &str) -> String {
    switchyard_engine::display_name(text).into_owned()
}
