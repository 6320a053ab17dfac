//! Telling Linux perf what the generated code is: a perf map
//! (`/tmp/perf-PID.map`, symbols only) or a jitdump file (symbols, the code
//! itself, source lines from the module's DWARF and the code's CFI), for
//! `perf inject --jit`.
//!
//! The output is per process, like the files perf reads: the first engine
//! created with [`PerfOutput::PerfMap`] or [`PerfOutput::JitDump`] opens it,
//! and from then on every module and every piece of glue compiled in the
//! process is described in it. Code is never described as unloaded: perf
//! keeps the last symbol it saw for an address, which is right as long as
//! the address is not reused within one recording.

use crate::debug::lines::SourceLines;

mod jitdump;
mod perf_map;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::debug::cfi::FunctionCfi;
use cranelift_codegen::isa::TargetIsa;

use crate::error::Error;
use crate::vm::code_lookup::CodeInfo;

/// What the engine writes for perf about the code it generates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PerfOutput {
    /// Nothing.
    #[default]
    None,
    /// `/tmp/perf-PID.map`: function names and address ranges.
    PerfMap,
    /// `jit-PID.dump` in `$JITDUMPDIR` (else the current directory): code
    /// loads with names, source lines when the module has DWARF, and
    /// unwinding information, for `perf record -k mono` followed by
    /// `perf inject --jit`.
    JitDump,
}

struct Agent {
    perf_map: Option<perf_map::PerfMap>,
    jitdump: Option<jitdump::JitDump>,
    /// Kept for in-process profilers, which symbolize after the run.
    code_log: Option<Vec<CodeRange>>,
}

/// A range of generated code, remembered by [`keep_code_log`].
#[derive(Clone, Debug)]
pub struct CodeRange {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// `module!function` for Wasm functions, `switchyard::KIND SIGNATURE`
    /// for glue.
    pub name: std::sync::Arc<str>,
    /// Whether this is a Wasm function (else glue between host and Wasm).
    pub is_wasm: bool,
    /// For a Wasm function: its module, to find source positions.
    pub source: Option<std::sync::Arc<CodeSource>>,
}

/// A compiled module as the code log keeps it: its binary (for its DWARF)
/// and the map from its code to Wasm byte offsets.
#[derive(Debug)]
pub struct CodeSource {
    /// The module's binary.
    pub module: Vec<u8>,
    /// Address of the module's code.
    pub start: usize,
    /// `(code offset, module byte offset)`, sorted.
    pub source_map: Vec<[u32; 2]>,
}

impl CodeSource {
    /// The byte offset in the module of the Wasm instruction at `pc`, in
    /// the function whose code starts at `function_start`. `None` for code
    /// before the function's first mapped instruction (its prologue): the
    /// map's previous entry belongs to the function before it.
    pub fn wasm_offset(&self, pc: usize, function_start: usize) -> Option<u32> {
        let offset = u32::try_from(pc.checked_sub(self.start)?).ok()?;
        let first = u32::try_from(function_start.checked_sub(self.start)?).ok()?;
        let i = self
            .source_map
            .partition_point(|m| m[0] <= offset)
            .checked_sub(1)?;
        (self.source_map[i][0] >= first).then_some(self.source_map[i][1])
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static AGENT: Mutex<Agent> = Mutex::new(Agent {
    perf_map: None,
    jitdump: None,
    code_log: None,
});

fn agent() -> std::sync::MutexGuard<'static, Agent> {
    AGENT.lock().unwrap_or_else(|e| e.into_inner())
}

/// The directory the jitdump file goes to.
fn jitdump_dir() -> PathBuf {
    std::env::var_os("JITDUMPDIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from)
}

/// Opens the output for `kind` unless it is already open.
pub(crate) fn enable(kind: PerfOutput) -> Result<(), Error> {
    let mut agent = agent();
    match kind {
        PerfOutput::None => return Ok(()),
        PerfOutput::PerfMap if agent.perf_map.is_none() => {
            let map = perf_map::PerfMap::create()
                .map_err(|e| Error::Usage(format!("cannot write the perf map: {e}")))?;
            agent.perf_map = Some(map);
        }
        PerfOutput::JitDump if agent.jitdump.is_none() => {
            let dump = jitdump::JitDump::create(&jitdump_dir())
                .map_err(|e| Error::Usage(format!("cannot write the jitdump file: {e}")))?;
            agent.jitdump = Some(dump);
        }
        _ => {}
    }
    ENABLED.store(true, Ordering::Release);
    Ok(())
}

/// From now on, remembers every range of code generated in this process,
/// with its name, until [`code_log`] is read; code that is later dropped
/// stays in the log, so that samples taken in it can still be named.
pub fn keep_code_log() {
    let mut agent = agent();
    agent.code_log.get_or_insert_with(Vec::new);
    ENABLED.store(true, Ordering::Release);
}

/// The code generated since [`keep_code_log`], sorted by address (a later
/// range replaces an earlier one at the same address).
pub fn code_log() -> Vec<CodeRange> {
    let agent = agent();
    let mut log = agent.code_log.clone().unwrap_or_default();
    // Later entries win: stable sort, then keep the last of equal starts.
    log.sort_by_key(|r| r.start);
    let mut out: Vec<CodeRange> = Vec::with_capacity(log.len());
    for r in log {
        match out.last_mut() {
            Some(last) if last.start == r.start => *last = r,
            _ => out.push(r),
        }
    }
    out
}

/// Whether any perf output is open (cheap: one atomic load).
pub(crate) fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Bytes to leave free after a function of `code_size` bytes with unwind
/// information `cfi`, so that perf's mapping of it (code, then the
/// unwinding data) overlaps no other function's: 0 unless a jitdump is
/// being written.
pub(crate) fn room_after_function(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    code_size: usize,
    cfi: Option<&FunctionCfi>,
) -> usize {
    if !enabled() || agent().jitdump.is_none() {
        return 0;
    }
    cfi.and_then(|cfi| jitdump::mapped_after_code(isa, code_size, cfi))
        .unwrap_or(0)
}

/// Path of this process's jitdump file, if one is being written.
pub fn jitdump_path() -> Option<PathBuf> {
    agent().jitdump.as_ref().map(|d| d.path().to_path_buf())
}

/// Path of this process's perf map, if one is being written.
pub fn perf_map_path() -> Option<PathBuf> {
    agent()
        .perf_map
        .as_ref()
        .map(|_| perf_map::PerfMap::path(std::process::id()))
}

/// A write failed: say so once and stop writing that output, rather than
/// fail the program being profiled.
fn give_up(what: &str, e: std::io::Error, agent: &mut Agent) {
    eprintln!("warning: {what} stopped: {e}");
    if what.contains("map") {
        agent.perf_map = None;
    } else {
        agent.jitdump = None;
    }
}

/// Describes a module's functions, just published at `info.start`.
/// `unwind` gives each function's Cranelift unwind information, in the
/// order of `info.functions`; `module` is the module's binary (for DWARF).
pub(crate) fn publish_module<'a>(
    isa: &dyn TargetIsa,
    info: &CodeInfo,
    module: &[u8],
    unwind: impl Iterator<Item = Option<&'a FunctionCfi>>,
) {
    let mut agent = agent();
    let agent = &mut *agent;
    if let Some(log) = &mut agent.code_log {
        let source = std::sync::Arc::new(CodeSource {
            module: module.to_vec(),
            start: info.start,
            source_map: info.source_map.clone(),
        });
        for (&(start, end, _), name) in info.functions.iter().zip(&info.function_names) {
            log.push(CodeRange {
                start: info.start + start as usize,
                end: info.start + end as usize,
                name: format!("{}!{name}", info.module_name).into(),
                is_wasm: true,
                source: Some(source.clone()),
            });
        }
    }
    if let Some(map) = &mut agent.perf_map {
        let result = info
            .functions
            .iter()
            .zip(&info.function_names)
            .try_for_each(|(&(start, end, _), name)| {
                map.add(
                    info.start + start as usize,
                    (end - start) as usize,
                    &format!("{}!{name}", info.module_name),
                )
            })
            .and_then(|()| map.flush());
        if let Err(e) = result {
            give_up("perf map", e, agent);
        }
    }
    if let Some(dump) = &mut agent.jitdump {
        let lines = SourceLines::from_dwarf(module);
        let mut result = Ok(());
        for ((&(start, end, _), name), unwind) in
            info.functions.iter().zip(&info.function_names).zip(unwind)
        {
            let address = info.start + start as usize;
            // SAFETY: the module's code is mapped readable for as long as
            // its `CompiledModule` lives, which is past this call.
            let code =
                unsafe { std::slice::from_raw_parts(address as *const u8, (end - start) as usize) };
            let name = format!("{}!{name}", info.module_name);
            result = write_function(dump, isa, &name, address, code, unwind, |from, to| {
                source_lines(info, lines.as_ref(), from, to)
            });
            if result.is_err() {
                break;
            }
        }
        if let Err(e) = result.and_then(|()| dump.flush()) {
            give_up("jitdump output", e, agent);
        }
    }
}

/// Describes one piece of glue code (not part of a module).
pub(crate) fn publish_glue(
    isa: &dyn TargetIsa,
    name: &str,
    address: usize,
    size: usize,
    unwind: Option<&FunctionCfi>,
) {
    let mut agent = agent();
    let agent = &mut *agent;
    if let Some(log) = &mut agent.code_log {
        log.push(CodeRange {
            start: address,
            end: address + size,
            name: name.into(),
            is_wasm: false,
            source: None,
        });
    }
    if let Some(map) = &mut agent.perf_map
        && let Err(e) = map.add(address, size, name).and_then(|()| map.flush())
    {
        give_up("perf map", e, agent);
    }
    if let Some(dump) = &mut agent.jitdump {
        // SAFETY: the glue is mapped readable for as long as its
        // `EntryGlue` lives, which is past this call.
        let code = unsafe { std::slice::from_raw_parts(address as *const u8, size) };
        let result = write_function(dump, isa, name, address, code, unwind, |_, _| Vec::new())
            .and_then(|()| dump.flush());
        if let Err(e) = result {
            give_up("jitdump output", e, agent);
        }
    }
}

fn write_function(
    dump: &mut jitdump::JitDump,
    isa: &dyn TargetIsa,
    name: &str,
    address: usize,
    code: &[u8],
    unwind: Option<&FunctionCfi>,
    lines: impl FnOnce(usize, usize) -> Vec<jitdump::LineEntry>,
) -> std::io::Result<()> {
    let lines = lines(address, address + code.len());
    dump.debug_info(address as u64, &lines)?;
    if let Some(unwind) = unwind {
        dump.unwinding_info(isa, code.len(), unwind)?;
    }
    dump.code_load(name, address, code)
}

/// Line entries for the native code in `[from, to)`: one per change of
/// source line, from the code's source map and the module's line table.
fn source_lines(
    info: &CodeInfo,
    table: Option<&SourceLines>,
    from: usize,
    to: usize,
) -> Vec<jitdump::LineEntry> {
    let Some(table) = table else {
        return Vec::new();
    };
    let (Some(lo), Some(hi)) = (
        u32::try_from(from - info.start).ok(),
        u32::try_from(to - info.start).ok(),
    ) else {
        return Vec::new();
    };
    let first = info.source_map.partition_point(|m| m[0] < lo);
    let mut out: Vec<jitdump::LineEntry> = Vec::new();
    for &[code, wasm] in info.source_map[first..].iter().take_while(|m| m[0] < hi) {
        let Some((file, line)) = table.file_and_line(wasm) else {
            continue;
        };
        let line = line.min(u64::from(u32::MAX)) as u32;
        let file = file.to_string_lossy();
        if out.last().is_some_and(|l| l.line == line && l.file == file) {
            continue;
        }
        out.push(jitdump::LineEntry {
            address: (info.start + code as usize) as u64,
            line,
            file: file.into_owned(),
        });
    }
    out
}
