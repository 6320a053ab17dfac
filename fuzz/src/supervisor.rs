//! The parent side: runs cases in a worker process (this same program with
//! `--worker`), so that a crash (a signal, an abort) or a hang is caught as
//! that case's finding, and a new worker goes on with the next case.
//!
//! The worker prints `start TARGET SEED` before each case and `done TARGET
//! SEED VERDICT [TEXT]` after it, one line each.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::case::{self, Target};

/// What to run.
pub struct Plan {
    /// Targets, taken in turn.
    pub targets: Vec<Target>,
    /// The first case's seed; case `i` has seed `seed + i`.
    pub seed: u64,
    /// Stop after this long.
    pub duration: Duration,
    /// Stop after this many cases, if given.
    pub max_cases: Option<u64>,
    /// A case running longer than this is a hang.
    pub case_timeout: Duration,
    /// Where findings are saved.
    pub out: PathBuf,
    /// Passed on to the worker (`--selftest`).
    pub selftest: Option<String>,
}

/// Counts per target.
#[derive(Default, Clone)]
pub struct Counts {
    /// Cases run (passed, inconclusive or found).
    pub executions: u64,
    /// Cases not comparable.
    pub inconclusive: u64,
    /// Findings.
    pub findings: u64,
}

/// The totals of a run.
pub struct Summary {
    /// Per target, in the plan's order.
    pub per_target: Vec<(Target, Counts)>,
    /// How long it ran.
    pub elapsed: Duration,
    /// The most frequent reasons cases were inconclusive, with counts.
    pub inconclusive_reasons: Vec<(String, u64)>,
}

impl Summary {
    /// Findings of every target.
    pub fn findings(&self) -> u64 {
        self.per_target.iter().map(|(_, c)| c.findings).sum()
    }
}

/// Which case index `index` is.
fn case_at(plan: &Plan, index: u64) -> (Target, u64) {
    let target = plan.targets[(index % plan.targets.len() as u64) as usize];
    (target, plan.seed.wrapping_add(index))
}

fn spawn_worker(plan: &Plan, start: u64) -> std::io::Result<Child> {
    let targets: Vec<&str> = plan.targets.iter().map(|t| t.name()).collect();
    let mut command = Command::new(std::env::current_exe()?);
    if let Some(kind) = &plan.selftest {
        command.args(["--selftest", kind]);
    }
    command
        .arg("--worker")
        .args(["--seed", &plan.seed.to_string()])
        .args(["--start", &start.to_string()])
        .args(["--target", &targets.join(",")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
}

/// Runs the plan, printing each finding as it is found.
pub fn run(plan: &Plan) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut counts: Vec<(Target, Counts)> = plan
        .targets
        .iter()
        .map(|t| (*t, Counts::default()))
        .collect();
    let mut reasons: std::collections::HashMap<String, u64> = Default::default();
    let mut index = 0u64;
    let done = |index: u64| {
        started.elapsed() >= plan.duration || plan.max_cases.is_some_and(|m| index >= m)
    };
    'workers: while !done(index) {
        let first = index;
        let mut child = spawn_worker(plan, index)?;
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut current: Option<(Target, u64)> = None;
        loop {
            match rx.recv_timeout(plan.case_timeout) {
                Ok(line) => {
                    let mut words = line.splitn(4, ' ');
                    match (words.next(), words.next(), words.next()) {
                        (Some("start"), Some(_), Some(_)) => current = Some(case_at(plan, index)),
                        (Some("done"), Some(_), Some(_)) => {
                            let (target, seed) = case_at(plan, index);
                            let rest = words.next().unwrap_or("");
                            let (verdict, text) = rest.split_once(' ').unwrap_or((rest, ""));
                            let c = &mut counts.iter_mut().find(|(t, _)| *t == target).unwrap().1;
                            c.executions += 1;
                            match verdict {
                                "passed" => {}
                                "inconclusive" => {
                                    c.inconclusive += 1;
                                    *reasons.entry(reason_class(text)).or_default() += 1;
                                }
                                _ => {
                                    c.findings += 1;
                                    record(plan, target, seed, text)?;
                                }
                            }
                            current = None;
                            index += 1;
                            if done(index) {
                                let _ = child.kill();
                                let _ = child.wait();
                                break 'workers;
                            }
                        }
                        _ => anyhow::bail!("unexpected line from the worker: {line}"),
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let (target, seed) = current.unwrap_or_else(|| case_at(plan, index));
                    let what = format!(
                        "hang: still running after {} s",
                        plan.case_timeout.as_secs()
                    );
                    bump_finding(&mut counts, target);
                    record(plan, target, seed, &what)?;
                    index += 1;
                    continue 'workers;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait()?;
                    let Some((target, seed)) = current else {
                        // After a panic the worker stops on purpose; one
                        // that ends before its first case cannot start.
                        if index > first && status.success() {
                            continue 'workers;
                        }
                        anyhow::bail!("the worker ended between cases ({status})");
                    };
                    let what = format!("crash: the worker process ended: {status}");
                    bump_finding(&mut counts, target);
                    record(plan, target, seed, &what)?;
                    index += 1;
                    continue 'workers;
                }
            }
        }
    }
    let mut inconclusive_reasons: Vec<(String, u64)> = reasons.into_iter().collect();
    inconclusive_reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Summary {
        per_target: counts,
        elapsed: started.elapsed(),
        inconclusive_reasons,
    })
}

fn bump_finding(counts: &mut [(Target, Counts)], target: Target) {
    let c = &mut counts.iter_mut().find(|(t, _)| *t == target).unwrap().1;
    c.executions += 1;
    c.findings += 1;
}

/// The reason of an inconclusive case without its details (numbers,
/// offsets, names), for counting.
fn reason_class(text: &str) -> String {
    let cut = text
        .find(" (at offset")
        .or_else(|| text.find(": call "))
        .unwrap_or(text.len());
    let mut out: String = text[..cut]
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    out.truncate(100);
    out
}

/// Prints a finding and saves its module (binary, and text when it has
/// some or can be printed) and what was found.
fn record(plan: &Plan, target: Target, seed: u64, what: &str) -> anyhow::Result<()> {
    println!("FINDING {target}:{seed}: {what}");
    std::fs::create_dir_all(&plan.out)?;
    let stem = plan.out.join(format!("{target}-{seed}"));
    let with = |ext: &str| -> PathBuf { Path::new(&format!("{}.{ext}", stem.display())).into() };
    std::fs::write(
        with("txt"),
        format!("{what}\nreplay: switchyard-fuzz --replay {target}:{seed}\n"),
    )?;
    if let Ok(case) = case::generate(target, seed) {
        std::fs::write(with("wasm"), &case.bytes)?;
        let text = case
            .text
            .or_else(|| wasmprinter::print_bytes(&case.bytes).ok());
        if let Some(text) = text {
            std::fs::write(with("wat"), text)?;
        }
    }
    Ok(())
}
