//! `switchyard inspect`: runs a program under the inspector, opens a
//! snapshot, or watches another process (the UI is `switchyard-inspect`).

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use switchyard_engine::wasi::{self, WasiCtx};
use switchyard_engine::{Engine, Error, Extern, ExternType, Linker, Store, Val};
use switchyard_inspect::state::live::ProgramHandle;

use crate::cli::{InspectArgs, Switching};
use crate::run::{format_value, invoke_arguments, load, parse_env};

/// What to call once the module is instantiated.
enum Entry {
    /// `_start`.
    Start,
    /// An export, with its parsed arguments and its result count.
    Invoke(String, Vec<Val>, usize),
}

pub fn main(args: InspectArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.snapshot {
        switchyard_inspect::snapshot(path)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(pid) = args.pid {
        switchyard_inspect::attach(pid)?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(file) = args.file.clone() else {
        bail!("give a module to run, --snapshot FILE or --pid PID");
    };
    let config = switchyard_engine::Config {
        cont_stack_size: args.cont_stack_size,
        switching: match args.switching {
            Switching::Native => switchyard_engine::SwitchingMode::Native,
            Switching::Libcall => switchyard_engine::SwitchingMode::Libcall,
        },
        report_switch_events: true,
        cache_dir: switchyard_engine::default_cache_dir(),
        ..Default::default()
    };
    let engine = Engine::new(&config)?;
    // Errors in the module or the arguments are reported before the
    // screen is taken over.
    let module = load(&engine, &file)?;
    let mut preloads = Vec::new();
    for preload in &args.preload {
        let (name, path) = preload
            .split_once('=')
            .ok_or_else(|| anyhow!("--preload expects NAME=FILE, got `{preload}`"))?;
        preloads.push((name.to_string(), load(&engine, std::path::Path::new(path))?));
    }
    let mut modules: Vec<_> = preloads.iter().map(|(_, m)| m.clone()).collect();
    modules.push(module.clone());
    let env = parse_env(&args.env)?;
    let entry = entry(&engine, &module, &args)?;
    let program = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut argv = vec![program.clone()];
    if matches!(entry, Entry::Start) {
        argv.extend(args.args.iter().cloned());
    }
    let source_files = std::iter::once(file.clone())
        .chain(
            args.preload
                .iter()
                .filter_map(|p| Some(p.split_once('=')?.1.into())),
        )
        .collect();
    switchyard_inspect::live(program, source_files, move |handle: &ProgramHandle| {
        run(handle, &engine, &preloads, &modules, argv, env, &entry)
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Checks what `args` ask to call against the module's exports.
fn entry(
    engine: &Engine,
    module: &switchyard_engine::Module,
    args: &InspectArgs,
) -> anyhow::Result<Entry> {
    let find = |name: &str| module.exports().find(|(n, _)| *n == name).map(|(_, t)| t);
    match &args.invoke {
        None => match find("_start") {
            Some(ExternType::Func(_)) => Ok(Entry::Start),
            _ => bail!("the module has no `_start` function; name one with --invoke NAME"),
        },
        Some(name) => {
            let ty = match find(name) {
                Some(ExternType::Func(id)) => engine.func_type(id),
                Some(_) => bail!("export `{name}` is not a function"),
                None => bail!("the module has no export named `{name}`"),
            };
            let params = invoke_arguments(name, &ty, &args.args)?;
            Ok(Entry::Invoke(name.clone(), params, ty.results().len()))
        }
    }
}

/// The program thread: instantiates and calls the entry, and reports how
/// it ended.
fn run(
    handle: &ProgramHandle,
    engine: &Engine,
    preloads: &[(String, switchyard_engine::Module)],
    modules: &[switchyard_engine::Module],
    argv: Vec<String>,
    env: Vec<(String, String)>,
    entry: &Entry,
) {
    let module = modules.last().expect("the main module");
    let mut store = Store::new(engine, WasiCtx::new(argv, env));
    let mut linker = Linker::new(engine);
    wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);
    for (name, preloaded) in preloads {
        match linker.instantiate(&mut store, preloaded) {
            Ok(instance) => {
                linker.instance(&mut store, name, instance);
            }
            Err(Error::Trap(trap)) => return handle.trapped(&trap, modules),
            Err(e) => return handle.failed(format!("instantiating {name}: {e}")),
        }
    }
    let instance = match linker.instantiate(&mut store, module) {
        Ok(i) => i,
        Err(Error::Trap(trap)) => return handle.trapped(&trap, modules),
        Err(e) => return handle.failed(format!("instantiating the module: {e}")),
    };
    let (name, params, results) = match entry {
        Entry::Start => ("_start", &[][..], 0),
        Entry::Invoke(name, params, results) => (name.as_str(), &params[..], *results),
    };
    let Some(Extern::Func(func)) = instance.get_export(&mut store, name) else {
        return handle.failed(format!("no function `{name}`"));
    };
    let mut out: Vec<Val> = vec![Val::I64(0); results];
    let ty = func.ty(&store);
    for (slot, t) in out.iter_mut().zip(ty.results()) {
        *slot = Val::default_for(t);
    }
    match func.call(&mut store, params, &mut out) {
        Ok(()) if matches!(entry, Entry::Start) => handle.finished("exited with status 0".into()),
        Ok(()) => {
            let values: Vec<String> = out.iter().map(format_value).collect();
            handle.finished(format!("`{name}` returned {}", values.join(" ")));
        }
        Err(Error::Exit(code)) => handle.finished(format!("exited with status {code}")),
        Err(Error::Trap(trap)) => handle.trapped(&trap, modules),
        Err(e) => handle.failed(e.to_string()),
    }
}
