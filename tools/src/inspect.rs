//! `switchyard inspect`: runs a program under the inspector, opens a
//! snapshot, or watches another process (the UI is `switchyard-inspect`).

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use switchyard_engine::wasi::{self, WasiCtx};
use switchyard_engine::{Engine, Error, Extern, Linker, Store, Val};
use switchyard_inspect::state::live::ProgramHandle;

use crate::cli::InspectArgs;
use crate::run::{format_value, load, parse_env, parse_value};

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
            crate::cli::Switching::Native => switchyard_engine::SwitchingMode::Native,
            crate::cli::Switching::Libcall => switchyard_engine::SwitchingMode::Libcall,
        },
        report_switch_events: true,
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
    let program = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut argv = vec![program.clone()];
    argv.extend(args.args.iter().cloned());
    let invoke = args.invoke.clone();
    let call_args = args.args.clone();
    let source_files = std::iter::once(file.clone())
        .chain(
            args.preload
                .iter()
                .filter_map(|p| Some(p.split_once('=')?.1.into())),
        )
        .collect();
    switchyard_inspect::live(program, source_files, move |handle: &ProgramHandle| {
        let mut store = Store::new(&engine, WasiCtx::new(argv, env));
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |ctx: &mut WasiCtx| ctx);
        for (name, preloaded) in &preloads {
            match linker.instantiate(&mut store, preloaded) {
                Ok(instance) => {
                    linker.instance(&mut store, name, instance);
                }
                Err(Error::Trap(trap)) => return handle.trapped(&trap, &modules),
                Err(e) => return handle.failed(format!("instantiating {name}: {e}")),
            }
        }
        let instance = match linker.instantiate(&mut store, &module) {
            Ok(i) => i,
            Err(Error::Trap(trap)) => return handle.trapped(&trap, &modules),
            Err(e) => return handle.failed(format!("instantiating the module: {e}")),
        };
        let result = match &invoke {
            Some(name) => match call(&mut store, &instance, name, &call_args) {
                Ok(Ok(text)) => Ok(text),
                Ok(Err(e)) => Err(e),
                Err(e) => return handle.failed(format!("{e:#}")),
            },
            None => match instance.get_export(&mut store, "_start") {
                Some(Extern::Func(f)) => f
                    .call(&mut store, &[], &mut [])
                    .map(|()| "exited with status 0".to_string()),
                _ => return handle.failed("the module has no `_start`; use --invoke NAME".into()),
            },
        };
        match result {
            Ok(how) => handle.finished(how),
            Err(Error::Exit(code)) => handle.finished(format!("exited with status {code}")),
            Err(Error::Trap(trap)) => handle.trapped(&trap, &modules),
            Err(e) => handle.failed(e.to_string()),
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Calls export `name` with `args` parsed by its type: the outer error is
/// a usage mistake, the inner one the call's failure.
fn call(
    store: &mut Store<WasiCtx>,
    instance: &switchyard_engine::Instance,
    name: &str,
    args: &[String],
) -> anyhow::Result<Result<String, Error>> {
    let func = match instance.get_export(&mut *store, name) {
        Some(Extern::Func(f)) => f,
        Some(_) => bail!("export `{name}` is not a function"),
        None => bail!("the module has no export named `{name}`"),
    };
    let ty = func.ty(store);
    if args.len() != ty.params().len() {
        return Err(anyhow!(
            "`{name}` takes {} arguments ({}), {} given",
            ty.params().len(),
            ty,
            args.len()
        ));
    }
    let params = ty
        .params()
        .iter()
        .zip(args)
        .map(|(t, a)| parse_value(t, a))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
    Ok(func.call(store, &params, &mut results).map(|()| {
        let values: Vec<String> = results.iter().map(format_value).collect();
        format!("`{name}` returned {}", values.join(" "))
    }))
}
