//! `switchyard run`: runs a module's `_start` with WASI, or one export.

use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use switchyard_engine::display_name;
use switchyard_engine::wasi::{self, WasiCtx};
use switchyard_engine::{Engine, Error, Extern, Linker, Module, Store, Val, ValType};
use switchyard_frames::Frame;

use crate::cli::{BacktraceMode, Format, RunArgs};
use crate::output::Style;
use switchyard_unwind::HostSymbols;

/// Exit status after a trap, as Wasmtime uses (128 + SIGABRT).
const TRAP_STATUS: u8 = 134;

pub fn main(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.engine.config();
    // Recording the last switch events for a snapshot needs the engine to
    // report them.
    config.report_switch_events |= args.snapshot_on_trap.is_some() || args.trace.is_some();
    config.trace_creation = args.trace_creation;
    if let Some(profile) = args.profile {
        config.perf = profile.output();
    }
    crate::wasi_setup::apply_wasm_options(&args.wasi, &mut config)?;
    let file = args.file();
    let engine = Engine::new(&config)?;
    // Fail before the run, not after it, when the trace cannot be written.
    let trace_file = match &args.trace {
        Some(out) => Some(
            std::fs::File::create(out)
                .with_context(|| format!("cannot write the trace to {}", out.display()))?,
        ),
        None => None,
    };
    // The flight recorder: for the trace, and for a snapshot's events
    // (which starts a small one if no trace does).
    if args.trace.is_some() {
        switchyard_engine::vm::events::recorder::start(args.trace_events);
    }
    let mut how = Reporting {
        backtrace: args.backtrace,
        all: args.backtrace_all,
        leaks: args.leaks || args.warn_suspended_ms.is_some(),
        warn_suspended_ms: args.warn_suspended_ms,
        trace_creation: args.trace_creation,
        format: args.format,
        modules: Vec::new(),
        trap: Default::default(),
        snapshot: args.snapshot_on_trap.clone().map(|path| SnapshotOnTrap {
            path,
            recorder: switchyard_inspect::Recorder::start(),
            program: file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            // Absolute, so that the snapshot opens from any directory.
            source_files: std::iter::once(file.as_path())
                .chain(
                    args.preload
                        .iter()
                        .filter_map(|p| Some(std::path::Path::new(p.split_once('=')?.1))),
                )
                .map(|f| {
                    std::fs::canonicalize(f)
                        .unwrap_or_else(|_| f.to_path_buf())
                        .display()
                        .to_string()
                })
                .collect(),
        }),
    };
    let result = run_program(&args, &engine, &mut how);
    if let Some(snapshot) = &how.snapshot {
        snapshot.recorder.finish();
    }
    if let (Some(out), Some(trace_file)) = (&args.trace, trace_file) {
        let recording = switchyard_engine::vm::events::recorder::stop();
        if result.is_err() {
            drop(trace_file);
            let _ = std::fs::remove_file(out);
        } else {
            // The modules are still loaded: entry functions can be named.
            let trap = how.trap.borrow().clone();
            crate::trace::write(trace_file, out, &recording, &program_name(&file), trap)?;
            eprintln!(
                "trace written to {} ({} events{}; open it in the Perfetto UI)",
                out.display(),
                recording.events.len(),
                if recording.total > recording.events.len() as u64 {
                    format!(", the last of {}", recording.total)
                } else {
                    String::new()
                }
            );
        }
    }
    result
}

/// The file name of `file`, for messages and trace titles.
fn program_name(file: &std::path::Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Loads, instantiates and runs the program as `args` say; the modules go
/// to `how` (and stay loaded after it returns).
fn run_program(args: &RunArgs, engine: &Engine, how: &mut Reporting) -> anyhow::Result<ExitCode> {
    let file = args.file();
    let module = load(engine, &file)?;
    how.modules.push(module.clone());

    let program = args.wasi.argv0.clone().unwrap_or_else(|| {
        file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let mut argv = vec![program];
    argv.extend(args.args().iter().cloned());
    let ctx = crate::wasi_setup::context(&args.wasi, argv, &args.env)?;
    let mut store = Store::new(engine, ctx);
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);

    for preload in &args.preload {
        let (name, file) = preload
            .split_once('=')
            .ok_or_else(|| anyhow!("--preload expects NAME=FILE, got `{preload}`"))?;
        let module = load(engine, std::path::Path::new(file))?;
        how.modules.push(module.clone());
        let instance = match linker.instantiate(&mut store, &module) {
            Ok(i) => i,
            Err(e) => return report(e, &format!("instantiating {file}"), how, &store),
        };
        linker.instance(&mut store, name, instance);
    }

    let instance = match linker.instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(e) => return report(e, "instantiating the module", how, &store),
    };

    if let Some(name) = &args.invoke {
        let func = match instance.get_export(&mut store, name) {
            Some(Extern::Func(f)) => f,
            Some(_) => bail!("export `{name}` is not a function"),
            None => bail!("the module has no export named `{name}`"),
        };
        let ty = func.ty(&store);
        let params = invoke_arguments(name, &ty, args.args())?;
        let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
        if let Err(e) = func.call(&mut store, &params, &mut results) {
            return report(e, &format!("calling `{name}`"), how, &store);
        }
        for r in &results {
            println!("{}", format_value(r));
        }
        how.print_leaks(&store);
        return Ok(ExitCode::SUCCESS);
    }

    let start = match instance.get_export(&mut store, "_start") {
        Some(Extern::Func(f)) => Some(f),
        Some(_) => bail!("export `_start` is not a function"),
        None => None,
    };
    if let Some(start) = start
        && let Err(e) = start.call(&mut store, &[], &mut [])
    {
        return report(e, "running `_start`", how, &store);
    }
    how.print_leaks(&store);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn load(engine: &Engine, path: &std::path::Path) -> anyhow::Result<Module> {
    if !path.exists() {
        bail!("{}: no such file", path.display());
    }
    Module::from_file(engine, path).with_context(|| format!("{}", path.display()))
}

/// What to print when a run fails.
struct Reporting {
    backtrace: BacktraceMode,
    all: bool,
    /// `--leaks`: list unfinished continuations at exit and on a trap.
    leaks: bool,
    /// `--warn-suspended-ms`.
    warn_suspended_ms: Option<u64>,
    /// `--trace-creation`: show the creation stacks the store kept.
    trace_creation: bool,
    format: Format,
    /// The modules loaded, for source locations from their DWARF.
    modules: Vec<Module>,
    /// Where to write a snapshot of a trap (`--snapshot-on-trap`).
    snapshot: Option<SnapshotOnTrap>,
    /// The trap's message, once the program trapped (for `--trace`).
    /// (and when, in nanoseconds on the flight recorder's time line).
    trap: std::cell::RefCell<Option<(String, u64)>>,
}

/// `--snapshot-on-trap`: the file and the recorder of recent events.
struct SnapshotOnTrap {
    path: std::path::PathBuf,
    recorder: switchyard_inspect::Recorder,
    program: String,
    source_files: Vec<String>,
}

impl SnapshotOnTrap {
    /// Writes the snapshot of `trap`; says where on stderr, or why not.
    fn write(&self, trap: &switchyard_engine::Trap, modules: &[Module]) {
        let file = self
            .recorder
            .snapshot(trap, modules, &self.program, self.source_files.clone());
        match file.write(&self.path) {
            Ok(()) => eprintln!(
                "snapshot written to {} (open it with `switchyard inspect --snapshot {}`)",
                self.path.display(),
                self.path.display()
            ),
            Err(e) => eprintln!("error: {}", display_name(&format!("{e:#}"))),
        }
    }
}

impl Reporting {
    /// The DWARF of every loaded module that has some, by module name.
    /// `--leaks`: the continuations never finished, by creation site, on
    /// stderr (read from this process's registry while the store lives).
    fn print_leaks(&self, store: &Store<WasiCtx>) {
        if !self.leaks {
            return;
        }
        let creation = self.creation_stacks(store);
        let creation = creation.as_ref().map(|c| c as crate::stacks::Creation<'_>);
        let memory = switchyard_unwind::ProcessMemory::current();
        match switchyard_unwind::Snapshot::read(&memory, crate::stacks::own_registry()) {
            Ok(snapshot) => {
                let text = crate::stacks::format_leaks(
                    &memory,
                    &snapshot,
                    self.warn_suspended_ms,
                    creation,
                );
                if !text.is_empty() {
                    eprint!("switchyard: {text}");
                }
            }
            Err(e) => eprintln!("switchyard: cannot list unfinished continuations: {e}"),
        }
    }

    /// With `--trace-creation`, the creation stack of a continuation by id,
    /// named as the trap's backtrace is (source locations, continuation
    /// names).
    fn creation_stacks<'s>(
        &'s self,
        store: &'s Store<WasiCtx>,
    ) -> Option<impl Fn(u64) -> Option<Vec<Frame>> + 's> {
        if !self.trace_creation {
            return None;
        }
        let dwarf = self.dwarf();
        let code = self.code();
        let host = (self.backtrace == BacktraceMode::Full).then(own_host_symbols);
        Some(move |id| {
            let mut frames = store.creation_stack(id)?;
            switchyard_unwind::report::add_locations(&mut frames, &dwarf);
            switchyard_unwind::naming::name_continuations(&mut frames, &|m| code.get(m).cloned());
            if let Some(host) = &host {
                switchyard_unwind::report::add_host_symbols(&mut frames, host);
            }
            Some(frames)
        })
    }

    /// The code of each loaded module by name, for naming continuations.
    fn code(
        &self,
    ) -> std::collections::HashMap<String, std::sync::Arc<switchyard_unwind::naming::ModuleCode>>
    {
        self.modules
            .iter()
            .filter_map(|m| {
                let code = switchyard_unwind::naming::ModuleCode::new(m.bytes().to_vec())?;
                Some((m.name().to_string(), std::sync::Arc::new(code)))
            })
            .collect()
    }

    fn dwarf(&self) -> std::collections::HashMap<String, switchyard_unwind::dwarf::WasmDwarf> {
        self.modules
            .iter()
            .filter_map(|m| {
                Some((
                    m.name().to_string(),
                    switchyard_unwind::dwarf::WasmDwarf::new(m.bytes())?,
                ))
            })
            .collect()
    }
}

/// Turns a failed run into the process's exit status.
fn report(
    e: Error,
    doing: &str,
    how: &Reporting,
    store: &Store<WasiCtx>,
) -> anyhow::Result<ExitCode> {
    let backtrace = how.backtrace;
    let creation = how.creation_stacks(store);
    let creation = creation.as_ref().map(|c| c as crate::stacks::Creation<'_>);
    match e {
        Error::Exit(code) => {
            how.print_leaks(store);
            Ok(ExitCode::from(code as u8))
        }
        Error::Trap(trap) => {
            let at = switchyard_engine::vm::events::recorder::elapsed_ns();
            *how.trap.borrow_mut() = Some((trap.to_string(), at));
            if let Some(snapshot) = &how.snapshot {
                snapshot.write(&trap, &how.modules);
            }
            if how.format == Format::Json {
                eprintln!(
                    "{}",
                    trap_json(&trap, how, backtrace == BacktraceMode::Full, creation)
                );
                return Ok(ExitCode::from(TRAP_STATUS));
            }
            let style = Style::for_stderr();
            let message = trap.to_string();
            eprintln!(
                "{} wasm trap: {}",
                style.error("error:"),
                display_name(&message)
            );
            if let Some(f) = &trap.function {
                eprintln!("  in {}", style.function(f));
            }
            if backtrace != BacktraceMode::Off && !trap.backtrace.is_empty() {
                let full = backtrace == BacktraceMode::Full;
                let frames = named_backtrace(&trap, how, full);
                let mut text = String::from("wasm backtrace:\n");
                switchyard_frames::text::write(
                    &mut text,
                    &frames,
                    switchyard_frames::text::Options { full },
                    &style,
                );
                eprint!("{text}");
                if let Some(creation) = creation {
                    eprint!("{}", chain_creation_text(&frames, creation, full, &style));
                }
            }
            if backtrace != BacktraceMode::Off
                && (how.all || trap.code == switchyard_engine::TrapCode::UnhandledTag)
            {
                let memory = switchyard_unwind::ProcessMemory::current();
                match switchyard_unwind::Snapshot::read(&memory, crate::stacks::own_registry()) {
                    Ok(snapshot) => {
                        let full = backtrace == BacktraceMode::Full;
                        let parked = crate::stacks::format_parked(
                            &memory, &snapshot, full, creation, &style,
                        );
                        if !parked.is_empty() {
                            eprint!("\nother live continuations:{parked}");
                        }
                    }
                    Err(e) => eprintln!("(cannot list the other continuations: {e})"),
                }
            }
            how.print_leaks(store);
            Ok(ExitCode::from(TRAP_STATUS))
        }
        other => Err(anyhow!(other).context(doing.to_string())),
    }
}

/// The continuations of the trap's chain (the boundaries of its
/// backtrace, innermost first), each with its creation stack.
fn chain_creation(frames: &[Frame], creation: crate::stacks::Creation<'_>) -> Vec<CreationJson> {
    let mut seen = std::collections::HashSet::new();
    frames
        .iter()
        .filter_map(Frame::as_boundary)
        .filter(|b| seen.insert(b.continuation))
        .map(|b| CreationJson {
            continuation: b.continuation,
            name: b.describe(),
            frames: creation(b.continuation),
        })
        .collect()
}

/// One continuation's creation stack in the trap report.
#[derive(serde::Serialize)]
struct CreationJson {
    continuation: u64,
    #[serde(skip)]
    name: String,
    /// None when the store no longer has it (its stack was reused).
    frames: Option<Vec<Frame>>,
}

/// `creation stacks (--trace-creation):` and, for each continuation of
/// the trap's chain, where it was created.
fn chain_creation_text(
    frames: &[Frame],
    creation: crate::stacks::Creation<'_>,
    full: bool,
    style: &Style,
) -> String {
    let chain = chain_creation(frames, creation);
    if chain.is_empty() {
        return String::new();
    }
    let mut out = String::from("creation stacks (--trace-creation):\n");
    for c in chain {
        out.push_str(&format!("{} created at:\n", style.boundary(&c.name)));
        match &c.frames {
            Some(frames) => switchyard_frames::text::write(
                &mut out,
                frames,
                switchyard_frames::text::Options { full },
                style,
            ),
            None => out.push_str("  (creation stack not kept)\n"),
        }
    }
    out
}

/// The symbols of this process's executable and libraries, for naming
/// host frames.
fn own_host_symbols() -> HostSymbols {
    let mappings =
        switchyard_unwind::elf::process_mappings(std::process::id() as i32).unwrap_or_default();
    HostSymbols::from_mappings(&mappings)
}

/// The trap's logical backtrace with source locations from the DWARF of
/// the loaded modules and, when `full`, host frames named.
fn named_backtrace(trap: &switchyard_engine::Trap, how: &Reporting, full: bool) -> Vec<Frame> {
    let mut frames = trap.backtrace.clone();
    switchyard_unwind::report::add_locations(&mut frames, &how.dwarf());
    let code = how.code();
    switchyard_unwind::naming::name_continuations(&mut frames, &|m| code.get(m).cloned());
    if full {
        switchyard_unwind::report::add_host_symbols(&mut frames, &own_host_symbols());
    }
    frames
}

/// The typed arguments of a call to export `name` of type `ty`, parsed
/// from the command line.
pub(crate) fn invoke_arguments(
    name: &str,
    ty: &switchyard_engine::FuncType,
    args: &[String],
) -> anyhow::Result<Vec<Val>> {
    if args.len() != ty.params().len() {
        bail!(
            "`{name}` takes {} arguments ({}), {} given",
            ty.params().len(),
            ty,
            args.len()
        );
    }
    ty.params()
        .iter()
        .zip(args)
        .map(|(t, a)| parse_value(t, a))
        .collect()
}

pub(crate) fn parse_env(vars: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    vars.iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) => Ok((k.to_string(), val.to_string())),
            // `--env NAME` passes the host's value through, as Wasmtime does.
            None => std::env::var(v)
                .map(|val| (v.clone(), val))
                .map_err(|_| anyhow!("--env {v}: not set in the host environment")),
        })
        .collect()
}

pub(crate) fn parse_value(ty: &ValType, s: &str) -> anyhow::Result<Val> {
    let bad = || anyhow!("`{s}` is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int::<i32, u32>(s).ok_or_else(bad)?),
        ValType::I64 => Val::I64(parse_int::<i64, u64>(s).ok_or_else(bad)?),
        ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
        ValType::V128 => Val::V128(parse_v128(s).ok_or_else(bad)?),
        ValType::Ref(_) if s == "null" => Val::default_for(ty),
        ValType::Ref(_) => bail!("only `null` can be passed for a {ty} argument"),
    })
}

/// A v128 argument: one unsigned 128-bit integer (decimal or `0x` hex,
/// `_` allowed), lane 0 in its least significant bits.
fn parse_v128(s: &str) -> Option<u128> {
    let s = s.replace('_', "");
    match s.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Accepts signed decimals, and unsigned decimals or hex that wrap.
fn parse_int<S, U>(s: &str) -> Option<S>
where
    S: std::str::FromStr + TryFrom<i128>,
    U: TryFrom<u128> + Into<u128>,
{
    let s = s.replace('_', "");
    if let Some(hex) = s.strip_prefix("0x") {
        return wrapped::<S, U>(u128::from_str_radix(hex, 16).ok()?);
    }
    if let Ok(v) = s.parse::<S>() {
        return Some(v);
    }
    wrapped::<S, U>(s.parse().ok()?)
}

/// `u`, which must fit `U`, read as the signed `S` of the same width.
fn wrapped<S, U>(u: u128) -> Option<S>
where
    S: TryFrom<i128>,
    U: TryFrom<u128>,
{
    U::try_from(u).ok()?;
    let bits = std::mem::size_of::<S>() * 8;
    let signed = if u >> (bits - 1) & 1 == 1 {
        u as i128 - (1i128 << bits)
    } else {
        u as i128
    };
    S::try_from(signed).ok()
}

pub(crate) fn format_value(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => f32::from_bits(*b).to_string(),
        Val::F64(b) => f64::from_bits(*b).to_string(),
        // Decimal, as Wasmtime prints a v128 result.
        Val::V128(v) => v.to_string(),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::ContRef(None) | Val::ExnRef(None) => {
            "null".to_string()
        }
        Val::FuncRef(Some(_)) => "<funcref>".to_string(),
        Val::ExternRef(Some(_)) => "<externref>".to_string(),
        Val::ContRef(Some(_)) => "<contref>".to_string(),
        Val::ExnRef(Some(_)) => "<exnref>".to_string(),
    }
}

/// The trap report as one JSON document: the same content as the text.
fn trap_json(
    trap: &switchyard_engine::Trap,
    how: &Reporting,
    full: bool,
    creation: Option<crate::stacks::Creation<'_>>,
) -> String {
    #[derive(serde::Serialize)]
    struct TrapReport<'a> {
        error: &'a str,
        message: String,
        function: Option<&'a str>,
        frames: Vec<Frame>,
        /// `switchyard-trap`, version 1 (docs/schema/switchyard.schema.json).
        format: &'a str,
        version: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        continuations: Option<Vec<crate::stacks::ContinuationJson>>,
        /// `--trace-creation`: the creation stacks of the chain's
        /// continuations.
        #[serde(skip_serializing_if = "Option::is_none")]
        creation_stacks: Option<Vec<CreationJson>>,
    }
    // The other continuations, when the text form would list them.
    let continuations = (how.backtrace != BacktraceMode::Off
        && (how.all || trap.code == switchyard_engine::TrapCode::UnhandledTag))
        .then(|| {
            let memory = switchyard_unwind::ProcessMemory::current();
            switchyard_unwind::Snapshot::read(&memory, crate::stacks::own_registry())
                .map(|snapshot| crate::stacks::parked_json(&memory, &snapshot, creation))
                .unwrap_or_default()
        });
    let frames = named_backtrace(trap, how, full);
    let report = TrapReport {
        error: "wasm trap",
        message: trap.to_string(),
        function: trap.function.as_deref(),
        creation_stacks: creation.map(|c| chain_creation(&frames, c)),
        frames,
        format: "switchyard-trap",
        version: 1,
        continuations,
    };
    // Plain structs of strings and numbers: serializing cannot fail.
    serde_json::to_string(&report).expect("a trap report serializes")
}
