//! Symbolized samples: each raw sample's addresses become frames of the one
//! frame model (`switchyard-frames`), root first, with a boundary wherever a
//! continuation was resumed, and the sample remembers which continuation
//! was running.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

pub use switchyard_frames::Frame;
use switchyard_frames::{Boundary, HostFrame, WasmFrame};
use switchyard_unwind::HostSymbols;

use switchyard_engine::profiling::{CodeRange, CodeSource};
use switchyard_unwind::dwarf::WasmDwarf;
use switchyard_unwind::naming::{ModuleCode, name_continuations};

use crate::sampler::{FLAG_CUT, RawSamples};

/// The name a profile shows for a frame, and by which it adds samples up:
/// `module!function` for Wasm, `[continuation NAME]` at a boundary (below
/// it, towards the root, is the `resume` that runs the continuation that
/// runs NAME, or was created from it), the symbol or `[host]` for host
/// code.
pub fn frame_name(frame: &Frame) -> Cow<'_, str> {
    match frame {
        Frame::Wasm(w) => Cow::Owned(w.qualified_name()),
        Frame::Boundary(b) => Cow::Owned(format!(
            "[continuation {}]",
            b.name.as_deref().unwrap_or(&b.entry)
        )),
        Frame::Host(h) => Cow::Borrowed(h.symbol.as_deref().unwrap_or(HOST)),
        Frame::HostEntry => Cow::Borrowed(HOST),
        Frame::Truncated { .. } => Cow::Borrowed("[incomplete stack]"),
        Frame::Skipped { .. } => Cow::Borrowed("[skipped]"),
    }
}

/// The name of host code that has no symbol, and of the host's way into
/// Wasm below the outermost Wasm frame.
const HOST: &str = "[host]";

/// The continuation a sample was taken in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Running {
    /// Its unique id.
    pub id: u64,
    /// What it runs (`module!function`, see `switchyard_unwind::naming`),
    /// else the function it was created from.
    pub entry: Arc<str>,
    /// Where it was created, `function at file:line`, as the other views
    /// say it (`switchyard_unwind::report::Sources::creation_site`), when
    /// a sample carried its record's creation site.
    pub created_at: Option<Arc<str>>,
}

/// One symbolized sample.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Time since sampling started.
    pub time_ns: u64,
    /// Frames, root (the host's `main`) first: Wasm frames (without
    /// source locations), host frames (named when called from Wasm and
    /// the symbols name them; the frames below the outermost Wasm frame
    /// and runs of unnamed ones are one unnamed host frame) and a boundary
    /// where a continuation was resumed (continuation 0 when the sampler's
    /// chain did not say which). See [`frame_name`].
    pub stack: Vec<Frame>,
    /// The innermost running continuation; `None` on a host stack.
    pub running: Option<Running>,
    /// Times that continuation had been resumed or switched to or from
    /// when the sample was taken.
    pub switches: u64,
    /// Whether the walk stopped early (a frame pointer outside every known
    /// stack), so that the root is not the host's `main`.
    pub incomplete: bool,
    /// `file:line` of the innermost Wasm frame, from its module's DWARF
    /// (file name only).
    pub line: Option<Arc<str>>,
}

/// A whole profile.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The samples, in the order taken.
    pub samples: Vec<Sample>,
    /// Sampling frequency.
    pub hz: u32,
    /// Wall time sampled.
    pub duration_ns: u64,
    /// Samples lost: buffer full.
    pub dropped_full: u64,
    /// Samples lost: the registry was changing.
    pub dropped_busy: u64,
    /// Samples whose stack was cut at the depth limit.
    pub cut_depth: u64,
    /// Size of the sample buffer in bytes.
    pub buffer_bytes: usize,
    /// Samples taken outside Wasm (no Wasm frame on the stack: compiling,
    /// instantiating, host code before or after the program), left out.
    pub outside_wasm: u64,
    /// Running and suspended time per continuation from a recording of
    /// the switch events, when one was made (`switchyard profile
    /// --off-cpu`).
    pub switch_times: Option<crate::SwitchTimes>,
}

/// Address ranges that name code: the engine's code log and the two
/// hand-written routines the registry announces.
pub struct Symbols {
    code: Vec<CodeRange>,
    trampoline: (u64, u64),
    host: Option<HostSymbols>,
    /// Each module's code, by module name, to name continuations by what
    /// they run (`switchyard_unwind::naming`).
    modules: HashMap<String, Arc<ModuleCode>>,
}

impl Symbols {
    /// `code` from the engine's code log; `trampoline`, the continuation
    /// entry trampoline's range (from the registry header).
    pub fn new(mut code: Vec<CodeRange>, trampoline: (u64, u64)) -> Symbols {
        code.sort_by_key(|r| r.start);
        let mut modules = HashMap::new();
        for r in &code {
            if let (Some(source), Some((module, _))) = (&r.source, r.name.split_once('!'))
                && !modules.contains_key(module)
                && let Some(m) = ModuleCode::new(source.module.clone())
            {
                modules.insert(module.to_string(), Arc::new(m));
            }
        }
        Symbols {
            code,
            trampoline,
            host: None,
            modules,
        }
    }

    /// Also names host code called from Wasm.
    pub fn with_host(mut self, host: Option<HostSymbols>) -> Symbols {
        self.host = host;
        self
    }

    fn code_at(&self, pc: u64) -> Option<&CodeRange> {
        let i = self
            .code
            .partition_point(|r| r.start as u64 <= pc)
            .checked_sub(1)?;
        let r = &self.code[i];
        (pc < r.end as u64).then_some(r)
    }

    /// The name of the function whose code starts at `code`.
    pub(crate) fn entry_name(&self, code: u64) -> Arc<str> {
        match self.code_at(code) {
            Some(r) => r.name.clone(),
            None => Arc::from(format!("{code:#x}")),
        }
    }
}

impl Profile {
    /// Names the frames of `raw`.
    pub fn symbolize(raw: &RawSamples, symbols: &Symbols) -> Profile {
        let mut lines = Lines::default();
        let mut samples = Vec::with_capacity(raw.taken as usize);
        let first_time = raw.iter().next().map_or(0, |s| s.time_ns);
        let mut outside_wasm = 0;
        let unnamed_host = |pc: u64| Frame::Host(HostFrame { pc, symbol: None });
        // Creation sites by continuation id, from the samples that carry
        // them (the first sample in each continuation does).
        let mut sites: HashMap<u64, Option<Arc<str>>> = HashMap::new();
        for s in raw.iter() {
            if let (Some(pcs), Some(&(id, _))) = (s.creation, s.chain.first()) {
                sites
                    .entry(id)
                    .or_insert_with(|| lines.creation_site(symbols, pcs));
            }
            let mut stack: Vec<Frame> = Vec::with_capacity(s.frames.len());
            let mut boundary = 0;
            let mut line = None;
            for (i, &pc) in s.frames.iter().enumerate() {
                // A return address points after the call; look up the call.
                let at = if i == 0 { pc } else { pc - 1 };
                let frame = if at >= symbols.trampoline.0 && at < symbols.trampoline.1 {
                    let link = s.chain.get(boundary).copied();
                    boundary += 1;
                    Frame::Boundary(Boundary {
                        continuation: link.map_or(0, |(id, _)| id),
                        entry: link
                            .map_or_else(|| Arc::from("?"), |(_, code)| symbols.entry_name(code)),
                        handlers: None,
                        resumed_here: true,
                        name: None,
                    })
                } else {
                    match symbols.code_at(at) {
                        Some(r) if r.is_wasm => {
                            if line.is_none() && !stack.iter().any(|f| f.as_wasm().is_some()) {
                                line = lines.at(r, at);
                            }
                            // The code log names Wasm code `module!function`.
                            let (module, function) =
                                r.name.split_once('!').unwrap_or(("", &r.name));
                            Frame::Wasm(WasmFrame {
                                module: Arc::from(module),
                                function: Arc::from(function),
                                index: None,
                                offset: r
                                    .source
                                    .as_ref()
                                    .and_then(|s| s.wasm_offset(at as usize, r.start)),
                                pc,
                                locations: Vec::new(),
                            })
                        }
                        // Glue between host and Wasm says nothing to users.
                        Some(_) => continue,
                        None => Frame::Host(HostFrame {
                            pc,
                            symbol: symbols
                                .host
                                .as_ref()
                                .and_then(|h| h.lookup(at))
                                .map(|s| s.name),
                        }),
                    }
                };
                stack.push(frame);
            }
            // Below the outermost Wasm frame: the host's way into Wasm
            // (`main`, the runtime, the command), the same in every sample.
            let outermost = stack.iter().rposition(|f| !matches!(f, Frame::Host(_)));
            if let Some(i) = outermost
                && i + 1 < stack.len()
            {
                let pc = match &stack[i + 1] {
                    Frame::Host(h) => h.pc,
                    _ => 0,
                };
                stack.truncate(i + 1);
                stack.push(unnamed_host(pc));
            }
            // Unnamed host code: one frame for a run of them.
            stack.dedup_by(|f, prev| is_unnamed_host(f) && is_unnamed_host(prev));
            if stack.iter().all(|f| matches!(f, Frame::Host(_))) {
                outside_wasm += 1;
                continue;
            }
            name_continuations(&mut stack, &|m| symbols.modules.get(m).cloned());
            // The innermost continuation, by what it runs.
            let running_name = stack
                .iter()
                .find_map(Frame::as_boundary)
                .and_then(|b| b.name.clone());
            stack.reverse();
            let running = s.chain.first().map(|&(id, code)| Running {
                id,
                entry: running_name.unwrap_or_else(|| symbols.entry_name(code)),
                created_at: sites.get(&id).cloned().flatten(),
            });
            samples.push(Sample {
                time_ns: s.time_ns - first_time,
                stack,
                running,
                switches: s.switches,
                incomplete: s.flags & FLAG_CUT != 0,
                line,
            });
        }
        Profile {
            samples,
            hz: raw.options.hz,
            duration_ns: raw.duration_ns,
            dropped_full: raw.dropped_full,
            dropped_busy: raw.dropped_busy,
            cut_depth: raw.cut_depth,
            buffer_bytes: raw.options.buffer_bytes,
            outside_wasm,
            switch_times: None,
        }
    }
}

fn is_unnamed_host(frame: &Frame) -> bool {
    matches!(frame, Frame::Host(HostFrame { symbol: None, .. }))
}

/// Source lines of Wasm code, from each module's DWARF, read once per
/// module and once per address.
#[derive(Default)]
struct Lines {
    dwarf: HashMap<*const CodeSource, Option<WasmDwarf>>,
    known: HashMap<u64, Option<Arc<str>>>,
}

impl Lines {
    /// Where a continuation was created, from its record's `creation`
    /// return addresses (innermost first), by the rule of the other views
    /// (`switchyard_unwind::groups::creation_site_among`): the first Wasm
    /// frame outside the module that executed `cont.new`, else the
    /// outermost Wasm frame kept; named `function at file:line`
    /// (`switchyard_unwind::report::short_frame`).
    fn creation_site(&mut self, symbols: &Symbols, pcs: &[u64]) -> Option<Arc<str>> {
        let wasm_range = |pc: u64| symbols.code_at(pc - 1).filter(|r| r.is_wasm);
        let pc = switchyard_unwind::groups::creation_site_among(pcs, |pc| {
            wasm_range(pc).map(|r| r.source.as_ref().map(Arc::as_ptr))
        })?;
        let r = wasm_range(pc)?;
        let at = pc - 1;
        let (module_name, function) = r.name.split_once('!').unwrap_or(("", &r.name));
        let offset = r
            .source
            .as_ref()
            .and_then(|s| s.wasm_offset(at as usize, r.start));
        let locations = match (&r.source, offset) {
            (Some(source), Some(offset)) => self
                .dwarf
                .entry(Arc::as_ptr(source))
                .or_insert_with(|| WasmDwarf::new(&source.module))
                .as_ref()
                .map(|d| switchyard_unwind::report::locations(d, offset))
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        let frame = Frame::Wasm(WasmFrame {
            module: Arc::from(module_name),
            function: Arc::from(function),
            index: None,
            offset,
            pc,
            locations,
        });
        Some(Arc::from(switchyard_unwind::report::short_frame(&frame)))
    }

    fn at(&mut self, range: &CodeRange, pc: u64) -> Option<Arc<str>> {
        if let Some(known) = self.known.get(&pc) {
            return known.clone();
        }
        let source = range.source.as_ref()?;
        let dwarf = self
            .dwarf
            .entry(Arc::as_ptr(source))
            .or_insert_with(|| WasmDwarf::new(&source.module));
        let found = dwarf.as_ref().and_then(|dwarf| {
            let offset = source.wasm_offset(pc as usize, range.start)?;
            let location = dwarf.locate(u64::from(offset)).into_iter().next()?;
            let file = location.file?;
            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
            Some(Arc::from(format!("{name}:{}", location.line?)))
        });
        self.known.insert(pc, found.clone());
        found
    }
}
