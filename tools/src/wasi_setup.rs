//! What `switchyard run` gives a program through WASI, from its
//! Wasmtime-spelled options: arguments, environment, standard streams,
//! preopened directories and listening sockets; and the `-W` options
//! that change the engine.

use std::net::TcpListener;

use anyhow::{Context, anyhow, bail};
use switchyard_engine::Config;
use switchyard_engine::wasi::WasiCtx;

use crate::cli::WasiArgs;

/// Proposals the engine always implements: `-W NAME` or `-W NAME=y` is
/// accepted, `-W NAME=n` refused (they cannot be turned off).
const ALWAYS_ON: &[&str] = &[
    "stack-switching",
    "exceptions",
    "gc",
    "gc-support",
    "function-references",
    "tail-call",
    "multi-memory",
    "extended-const",
    "bulk-memory",
    "multi-value",
    "reference-types",
];

/// Proposals the engine does not implement: `-W NAME=n` is accepted,
/// `-W NAME=y` refused.
const NEVER: &[&str] = &[
    "simd",
    "relaxed-simd",
    "threads",
    "shared-memory",
    "shared-everything-threads",
    "memory64",
    "component-model",
    "custom-page-sizes",
    "wide-arithmetic",
    "branch-hinting",
];

/// `KEY[=VALUE]` items of repeated, comma-separated option values.
fn items(values: &[String]) -> impl Iterator<Item = (&str, Option<&str>)> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (item, None),
        })
}

/// A yes/no value as Wasmtime spells it; no value means yes.
fn yes(option: &str, key: &str, value: Option<&str>) -> anyhow::Result<bool> {
    match value {
        None | Some("y" | "yes" | "true") => Ok(true),
        Some("n" | "no" | "false") => Ok(false),
        Some(other) => bail!("{option} {key}={other}: expected y or n"),
    }
}

/// A number of bytes (`-W max-memory-size=N`): decimal, or hex with 0x.
fn bytes(option: &str, key: &str, value: Option<&str>) -> anyhow::Result<u64> {
    let value = value.ok_or_else(|| anyhow!("{option} {key} needs a value"))?;
    let parsed = match value.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => value.replace('_', "").parse(),
    };
    parsed.map_err(|_| anyhow!("{option} {key}={value}: not a number"))
}

/// Applies the `-W` options to the engine configuration; refuses any it
/// cannot honour, naming it.
pub fn apply_wasm_options(args: &WasiArgs, config: &mut Config) -> anyhow::Result<()> {
    for (key, value) in items(&args.wasm) {
        match key {
            "max-memory-size" => {
                config.max_memory_pages = bytes("-W", key, value)? / 65536;
            }
            "max-wasm-stack" => {
                config.max_wasm_stack = usize::try_from(bytes("-W", key, value)?)?;
            }
            k if ALWAYS_ON.contains(&k) => {
                if !yes("-W", key, value)? {
                    bail!("-W {key}=n: switchyard cannot turn this proposal off");
                }
            }
            k if NEVER.contains(&k) => {
                if yes("-W", key, value)? {
                    bail!("-W {key}: switchyard does not implement this proposal");
                }
            }
            _ => bail!("-W {key}: this Wasmtime option is not supported by switchyard run"),
        }
    }
    Ok(())
}

/// The WASI context for a program: `argv` (argv[0] first), the
/// environment from `--env` and `-S inherit-env`, the standard streams,
/// then the `--tcplisten` sockets (descriptors 3, 4, ...; LISTEN_FDS says
/// how many) and the `--dir` directories, in that order, as Wasmtime
/// numbered them.
pub fn context(
    args: &WasiArgs,
    argv: Vec<String>,
    env_options: &[String],
) -> anyhow::Result<WasiCtx> {
    let mut listen = args.tcplisten.clone();
    let mut inherit_env = false;
    let mut inherit = [true; 3];
    for (key, value) in items(&args.wasi) {
        match key {
            "cli" | "common" => {
                if !yes("-S", key, value)? {
                    bail!("-S {key}=n: switchyard runs programs with WASI only");
                }
            }
            // Preview 1 is implemented natively either way.
            "preview2" => {
                yes("-S", key, value)?;
            }
            "tcplisten" => listen.push(
                value
                    .ok_or_else(|| anyhow!("-S tcplisten needs an address"))?
                    .to_string(),
            ),
            "inherit-env" => inherit_env = yes("-S", key, value)?,
            "inherit-stdin" => inherit[0] = yes("-S", key, value)?,
            "inherit-stdout" => inherit[1] = yes("-S", key, value)?,
            "inherit-stderr" => inherit[2] = yes("-S", key, value)?,
            _ => bail!("-S {key}: this Wasmtime option is not supported by switchyard run"),
        }
    }

    let mut env: Vec<(String, String)> = if inherit_env {
        std::env::vars().collect()
    } else {
        Vec::new()
    };
    for (k, v) in crate::run::parse_env(env_options)? {
        env.retain(|(key, _)| *key != k);
        env.push((k, v));
    }
    if !listen.is_empty() && !env.iter().any(|(k, _)| k == "LISTEN_FDS") {
        env.push(("LISTEN_FDS".into(), listen.len().to_string()));
    }

    let mut ctx = WasiCtx::new(argv, env);
    if !inherit[0] {
        ctx.set_stdin(std::io::empty());
    }
    if !inherit[1] {
        ctx.set_stdout(std::io::sink());
    }
    if !inherit[2] {
        ctx.set_stderr(std::io::sink());
    }
    for addr in &listen {
        let listener = TcpListener::bind(addr)
            .with_context(|| format!("--tcplisten {addr}: cannot listen there"))?;
        ctx.preopen_listener(listener)
            .with_context(|| format!("--tcplisten {addr}"))?;
    }
    for dir in &args.dirs {
        let (host, guest) = dir.split_once("::").unwrap_or((dir, dir));
        ctx.preopen_dir(host, guest)
            .with_context(|| format!("--dir {host}"))?;
    }
    Ok(ctx)
}
