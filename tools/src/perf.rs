//! `switchyard perf record|report|script`: the usual perf sequence for JIT
//! code, with the settings that make continuation stacks visible.
//!
//! `record` runs `perf record -k mono -N --call-graph fp -e cpu-clock` on
//! `switchyard run --profile=jitdump ...` (frame-pointer call graphs cross
//! continuation boundaries because every continuation's bottom frame links
//! to its resumer), with the jitdump file in the output directory, then
//! `perf inject --jit` so that JIT code gets names and source lines.
//! `report` and `script` run perf on the injected data.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::cli::{PerfArgs, PerfCommand, PerfRecordArgs, PerfViewArgs};

/// The data file `record` leaves for `report` and `script`.
const INJECTED: &str = "perf.jit.data";

pub fn main(args: PerfArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        PerfCommand::Record(a) => record(a),
        PerfCommand::Report(a) => view("report", a),
        PerfCommand::Script(a) => view("script", a),
    }
}

/// Fails with a clear message when perf cannot be run at all.
fn check_perf() -> anyhow::Result<()> {
    match Command::new("perf").arg("--version").output() {
        Ok(o) if o.status.success() => Ok(()),
        Ok(_) => bail!("`perf --version` failed: is perf installed for this kernel?"),
        Err(_) => bail!("perf not found in PATH (Debian: apt-get install linux-perf)"),
    }
}

/// perf, with its build-id cache in `DIR/.debug` rather than in the home
/// directory, where every recording would add the generated ELF files and
/// a copy of the binary.
fn perf_in(dir: &Path) -> Command {
    let mut perf = Command::new("perf");
    perf.arg("--buildid-dir").arg(dir.join(".debug"));
    perf
}

fn has_option(options: &[String], short: &str, long: &str) -> bool {
    options
        .iter()
        .any(|o| o == short || o == long || o.starts_with(&format!("{long}=")))
}

fn record(args: PerfRecordArgs) -> anyhow::Result<ExitCode> {
    check_perf()?;
    let (perf_options, program) = args.split();
    if program.is_empty() {
        bail!("nothing to run: give the program after `--`, as for `switchyard run`");
    }
    check_program(program)?;
    let dir = &args.output;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the output directory {}", dir.display()))?;
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}", dir.display()))?;
    let exe = std::env::current_exe().context("cannot find the switchyard executable")?;
    let data = dir.join("perf.data");

    let mut perf = Command::new("perf");
    // -N: otherwise perf copies the (large) switchyard binary into
    // ~/.debug on every recording.
    perf.arg("record").args(["-k", "mono", "-N"]);
    if !has_option(perf_options, "-g", "--call-graph") {
        perf.args(["--call-graph", "fp"]);
    }
    if !has_option(perf_options, "-e", "--event") {
        perf.args(["-e", "cpu-clock"]);
    }
    perf.args(perf_options)
        .arg("-o")
        .arg(&data)
        .arg("--")
        .arg(&exe)
        .args(["run", "--profile=jitdump"])
        .args(program)
        .env("JITDUMPDIR", &dir);
    let status = perf.status().context("cannot start perf record")?;
    if !data.exists() {
        bail!("perf record wrote no data (status {status})");
    }
    inject(&dir)?;
    eprintln!(
        "switchyard: wrote {}; view it with `switchyard perf report -i {}`",
        dir.join(INJECTED).display(),
        dir.display()
    );
    // The program's own status, as perf record passes it on.
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// Refuses a program that `switchyard run` would refuse before running it
/// (bad options, a missing file), so that nothing is recorded for it.
fn check_program(program: &[String]) -> anyhow::Result<()> {
    #[derive(clap::Parser)]
    struct Run {
        #[command(flatten)]
        run: crate::cli::RunArgs,
    }
    let run = <Run as clap::Parser>::try_parse_from(
        std::iter::once("switchyard run".to_string()).chain(program.iter().cloned()),
    )
    .map_err(|e| {
        let text = e.to_string();
        let first = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches("error: ");
        anyhow::anyhow!("the program after `--`: {first}")
    })?;
    if let Err(e) = std::fs::File::open(run.run.file()) {
        bail!("{}: {e}", run.run.file().display());
    }
    Ok(())
}

/// `perf inject --jit`: turns the jitdump's code loads into ELF files next
/// to it and points the samples at them.
fn inject(dir: &Path) -> anyhow::Result<()> {
    let output = perf_in(dir)
        .args(["inject", "--jit", "-i"])
        .arg(dir.join("perf.data"))
        .arg("-o")
        .arg(dir.join(INJECTED))
        .output()
        .context("cannot start perf inject")?;
    if !output.status.success() {
        bail!(
            "perf inject --jit failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

fn view(what: &str, args: PerfViewArgs) -> anyhow::Result<ExitCode> {
    check_perf()?;
    let data: PathBuf = args.input.join(INJECTED);
    if !data.exists() {
        bail!(
            "{}: no such file (run `switchyard perf record -o {} -- ...` first)",
            data.display(),
            args.input.display()
        );
    }
    let status = perf_in(&args.input)
        .arg(what)
        .arg("-i")
        .arg(&data)
        .args(&args.perf_options)
        .status()
        .with_context(|| format!("cannot start perf {what}"))?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
