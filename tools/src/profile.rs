//! `switchyard profile`: runs a module as `switchyard run` does, under the
//! in-process sampler, then symbolizes and writes the profile.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use switchyard_profile::output::{self, Format};
use switchyard_profile::{Profile, Sampler, SamplerOptions, SwitchTimes, Symbols};

use crate::cli::{BacktraceMode, Format as ReportFormat, ProfileArgs, ProfileFormat, RunArgs};

pub fn main(args: ProfileArgs) -> anyhow::Result<ExitCode> {
    let format = match (args.format, &args.output) {
        (Some(f), _) => match f {
            ProfileFormat::Folded => Format::Folded,
            ProfileFormat::Svg => Format::Svg,
            ProfileFormat::Firefox => Format::Firefox,
            ProfileFormat::Text => Format::Text,
            ProfileFormat::Pprof => Format::Pprof,
        },
        (None, Some(out)) => Format::from_path(out).with_context(|| {
            format!(
                "cannot tell the format of {} from its extension (.svg, .json, .folded, .txt, .pb.gz): use --format",
                out.display()
            )
        })?,
        (None, None) => Format::Text,
    };
    // Fail before the run, not after it, when the output cannot be written.
    let mut file = match &args.output {
        Some(out) => {
            Some(File::create(out).with_context(|| format!("cannot write {}", out.display()))?)
        }
        None => None,
    };
    let options = SamplerOptions {
        hz: args.hz,
        buffer_bytes: args.buffer_size,
        max_depth: args.max_depth,
    };
    let run = RunArgs {
        module_and_args: std::iter::once(args.file.display().to_string())
            .chain(args.args.iter().cloned())
            .collect(),
        invoke: args.invoke.clone(),
        preload: args.preload.clone(),
        backtrace: BacktraceMode::Wasm,
        backtrace_all: false,
        leaks: false,
        warn_suspended_ms: None,
        trace_creation: false,
        format: ReportFormat::Text,
        env: args.env.clone(),
        profile: None,
        snapshot_on_trap: None,
        trace: None,
        trace_events: 1 << 17,
        engine: crate::cli::EngineArgs {
            switch_events: args.off_cpu,
            ..args.engine.clone()
        },
        wasi: args.wasi.clone(),
    };

    switchyard_engine::profiling::keep_code_log();
    let registry = crate::stacks::own_registry();
    let sampler = match Sampler::start(registry, options) {
        Ok(s) => s,
        Err(e) => {
            discard(&args.output, file.take());
            bail!(e);
        }
    };
    if args.off_cpu {
        switchyard_engine::vm::events::recorder::start(args.off_cpu_events);
    }
    let result = crate::run::main(run);
    let raw = sampler.stop();
    let recording = args
        .off_cpu
        .then(switchyard_engine::vm::events::recorder::stop);
    let status = match result {
        Ok(status) => status,
        Err(e) => {
            discard(&args.output, file.take());
            return Err(e);
        }
    };

    let memory = switchyard_unwind::ProcessMemory::current();
    let trampoline = switchyard_unwind::Snapshot::read(&memory, registry)
        .map(|s| s.trampoline)
        .context("cannot read the registry of live stacks")?;
    let host = switchyard_unwind::elf::process_mappings(std::process::id() as i32)
        .ok()
        .map(|m| switchyard_unwind::HostSymbols::from_mappings(&m));
    let symbols =
        Symbols::new(switchyard_engine::profiling::code_log(), trampoline).with_host(host);
    let mut profile = Profile::symbolize(&raw, &symbols);
    profile.switch_times = recording.map(|r| SwitchTimes::measure(&r, &symbols));

    if raw.dropped_full > 0 {
        eprintln!(
            "warning: the sample buffer ({}) filled up: {} samples kept, {} dropped; \
             use --buffer-size to keep more",
            size_text(args.buffer_size),
            raw.taken,
            raw.dropped_full
        );
    }
    if profile.samples.is_empty() {
        discard(&args.output, file.take());
        eprintln!(
            "warning: no samples in Wasm: the run took {:.1} ms and the sampling interval is \
             {} ms (--hz {}); no profile written",
            raw.duration_ns as f64 / 1e6,
            1000.0 / f64::from(args.hz),
            args.hz
        );
        return Ok(status);
    }
    match (&args.output, file) {
        (Some(out), Some(mut file)) => {
            let written = output::write(&profile, format, &mut file).and_then(|()| file.flush());
            if let Err(e) = written {
                drop(file);
                let _ = std::fs::remove_file(out);
                bail!("cannot write {}: {e}", out.display());
            }
            eprintln!(
                "switchyard: {} samples written to {}",
                profile.samples.len(),
                out.display()
            );
        }
        _ => {
            let mut text = Vec::new();
            output::write(&profile, format, &mut text)?;
            std::io::stderr().write_all(&text)?;
        }
    }
    Ok(status)
}

/// Removes an output file created before a run that produced nothing.
fn discard(path: &Option<std::path::PathBuf>, file: Option<File>) {
    if let (Some(path), Some(file)) = (path, file) {
        drop(file);
        let _ = std::fs::remove_file(Path::new(path));
    }
}

fn size_text(bytes: usize) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}
