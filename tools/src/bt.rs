//! `switchyard bt`: the logical backtrace of every thread and every live
//! continuation of a running Switchyard process (stopped briefly) or of a
//! core file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use switchyard_unwind::core::CoreFile;
use switchyard_unwind::ptrace::StoppedProcess;
use switchyard_unwind::registry::{Snapshot, StackRecord, State};
use switchyard_unwind::report::{Sources, ThreadReport, report_parked, report_threads};
use switchyard_unwind::{CfiUnwinder, HostSymbols, Limits, Step, elf};

use crate::cli::{BtArgs, Format};
use crate::output::{Style, json_string};
use crate::stacks::{describe, entry_name, format_steps};

pub fn main(args: BtArgs) -> anyhow::Result<ExitCode> {
    let limits = Limits {
        max_frames: 10_000,
        host_frames: args.full,
    };
    match (args.pid, &args.core) {
        (Some(pid), None) => {
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                bail!("no process with pid {pid}");
            }
            let bias = elf::load_bias(pid, &exe).map_err(|e| anyhow!("process {pid}: {e}"))?;
            let address =
                elf::registry_address(&exe, bias).map_err(|e| anyhow!("process {pid}: {e}"))?;
            let stopped = StoppedProcess::stop(pid).map_err(|e| anyhow!("{e}"))?;
            let memory = stopped.memory();
            let snapshot =
                Snapshot::read(&memory, address).map_err(|e| anyhow!("process {pid}: {e}"))?;
            let mut cfi = CfiUnwinder::for_generated_code(&memory, &snapshot);
            let mut host = None;
            if args.full {
                let mappings =
                    elf::process_mappings(pid).map_err(|e| anyhow!("process {pid}: {e}"))?;
                cfi.add_host_files(&mappings);
                host = Some(HostSymbols::from_mappings(&mappings));
            }
            let threads = report_threads(&memory, &snapshot, &cfi, stopped.threads(), limits);
            let parked = report_parked(&memory, &snapshot, &cfi, limits);
            // Source lines are read while the process is stopped (its
            // memory holds the modules), then it goes on before printing.
            let mut sources = Sources::new(&memory);
            if let Some(host) = host {
                sources = sources.with_host_symbols(host);
            }
            let text = render(&args, &snapshot, &threads, &parked, &sources);
            stopped.resume();
            print!("{text}");
        }
        (None, Some(path)) => {
            let core = CoreFile::open(path).map_err(|e| anyhow!("{e}"))?;
            let exe = match &args.exe {
                Some(e) => e.clone(),
                None => core
                    .executable()
                    .context("the core file does not name its executable; pass it with --exe")?,
            };
            let address = core
                .registry_address(&exe)
                .map_err(|e| anyhow!("{}: {e}", exe.display()))?;
            let snapshot =
                Snapshot::read(&core, address).map_err(|e| anyhow!("{}: {e}", path.display()))?;
            let mut cfi = CfiUnwinder::for_generated_code(&core, &snapshot);
            let mut sources = Sources::new(&core);
            if args.full {
                cfi.add_host_files(core.mappings());
                sources = sources.with_host_symbols(HostSymbols::from_mappings(core.mappings()));
            }
            let threads = report_threads(&core, &snapshot, &cfi, core.threads(), limits);
            let parked = report_parked(&core, &snapshot, &cfi, limits);
            print!("{}", render(&args, &snapshot, &threads, &parked, &sources));
        }
        _ => bail!("give exactly one of --pid PID and --core FILE"),
    }
    Ok(ExitCode::SUCCESS)
}

fn render(
    args: &BtArgs,
    snapshot: &Snapshot,
    threads: &[ThreadReport],
    parked: &[(&StackRecord, Vec<Step>)],
    sources: &Sources<'_>,
) -> String {
    if args.format == Format::Json {
        return format!("{}\n", to_json(snapshot, threads, parked, sources));
    }
    let style = Style::for_stdout();
    let mut out = String::new();
    for t in threads {
        out.push_str(&format!(
            "{}\n",
            style.heading(&format!("thread {} ({})", t.tid, t.state))
        ));
        format_steps(snapshot, &t.steps, args.full, &style, sources, &mut out);
    }
    if !parked.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            style.heading("live continuations not running:")
        ));
    }
    for (r, steps) in parked {
        let what = describe(snapshot, r);
        out.push_str(&format!(
            "{} {}, resumed {} times, switched {} times\n",
            style.boundary(&what),
            r.state.name(),
            r.resumes,
            r.switches
        ));
        if r.state == State::Fresh {
            out.push_str("  (not started)\n");
        }
        format_steps(snapshot, steps, args.full, &style, sources, &mut out);
    }
    out
}

fn json_steps(snapshot: &Snapshot, steps: &[Step], sources: &Sources<'_>) -> String {
    let items: Vec<String> = steps
        .iter()
        .map(|step| match step {
            Step::Frame { pc, is_return } => {
                let at = if *is_return { pc - 1 } else { *pc };
                match snapshot.function_name(at) {
                    Some(name) => format!(
                        r#"{{"kind":"wasm","function":{},"pc":{pc}}}"#,
                        json_string(&name)
                    ),
                    None => match sources.host_name(at) {
                        Some(name) => format!(
                            r#"{{"kind":"host","function":{},"pc":{pc}}}"#,
                            json_string(&name)
                        ),
                        None => format!(r#"{{"kind":"host","pc":{pc}}}"#),
                    },
                }
            }
            Step::Boundary(r) => format!(
                r#"{{"kind":"boundary","continuation":{},"entry":{},"resumed_here":{}}}"#,
                r.id,
                json_string(&entry_name(snapshot, r)),
                r.parent.pc != 0
            ),
            Step::HostEntry => r#"{"kind":"host_entry"}"#.to_string(),
            Step::End(why) => format!(r#"{{"kind":"end","note":{}}}"#, json_string(why)),
        })
        .collect();
    format!("[{}]", items.join(","))
}

fn to_json(
    snapshot: &Snapshot,
    threads: &[ThreadReport],
    parked: &[(&StackRecord, Vec<Step>)],
    sources: &Sources<'_>,
) -> String {
    let threads: Vec<String> = threads
        .iter()
        .map(|t| {
            format!(
                r#"{{"tid":{},"state":{},"frames":{}}}"#,
                t.tid,
                json_string(t.state),
                json_steps(snapshot, &t.steps, sources)
            )
        })
        .collect();
    let conts: Vec<String> = parked
        .iter()
        .map(|(r, steps)| {
            format!(
                r#"{{"id":{},"state":{},"entry":{},"resumes":{},"switches":{},"stack":[{},{}],"frames":{}}}"#,
                r.id,
                json_string(r.state.name()),
                json_string(&entry_name(snapshot, r)),
                r.resumes,
                r.switches,
                r.stack_low,
                r.stack_high,
                json_steps(snapshot, steps, sources)
            )
        })
        .collect();
    format!(
        r#"{{"threads":[{}],"continuations":[{}]}}"#,
        threads.join(","),
        conts.join(",")
    )
}
