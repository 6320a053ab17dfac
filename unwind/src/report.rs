//! What every stack of a target is doing: the walks behind `switchyard bt`
//! and the inspector, and their frames named in the one frame model
//! (`switchyard-frames`), shared so that both tell the same story.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::cfi::CfiUnwinder;
use crate::dwarf::WasmDwarf;
use crate::fresh::FreshCallees;
use crate::memory::Memory;
use crate::naming::{ModuleCode, name_continuations};
use crate::ptrace::ThreadRegisters;
use crate::registry::{Snapshot, StackRecord, State};
use crate::symbols::HostSymbols;
use crate::walk::{Limits, Start, Step, walk_from, walk_suspended_with, walk_with};
use switchyard_frames::{Boundary, Frame, HostFrame, Location, WasmFrame};

/// Names the frames of walks: Wasm functions from the registry's code map,
/// source locations from each module's DWARF (loaded on first use), and
/// optionally host frames from the host binaries' symbols.
pub struct Sources<'a> {
    memory: &'a dyn Memory,
    dwarf: RefCell<HashMap<String, Option<WasmDwarf>>>,
    code: RefCell<HashMap<String, Option<Arc<ModuleCode>>>>,
    /// Frames already named, by `(pc, is_return)`.
    named: RefCell<HashMap<(u64, bool), Frame>>,
    /// Continuation ids by record address, for one snapshot.
    ids: RefCell<Option<HashMap<u64, u64>>>,
    /// What fresh continuations will run.
    fresh: FreshCallees,
    host: Option<HostSymbols>,
}

impl<'a> Sources<'a> {
    /// Locations read from the module bytes in `memory`.
    pub fn new(memory: &'a dyn Memory) -> Sources<'a> {
        Sources {
            memory,
            dwarf: RefCell::default(),
            code: RefCell::default(),
            named: RefCell::default(),
            ids: RefCell::default(),
            fresh: FreshCallees::default(),
            host: None,
        }
    }

    /// Also names host frames, from these symbols.
    pub fn with_host_symbols(mut self, host: HostSymbols) -> Self {
        self.host = Some(host);
        self.named.borrow_mut().clear();
        self
    }

    /// The frames of a walk, innermost first, named, with every
    /// continuation named by what it runs ([`name_continuations`]).
    pub fn frames(&self, snapshot: &Snapshot, steps: &[Step]) -> Vec<Frame> {
        let mut frames = self.unnamed_frames(snapshot, steps);
        name_continuations(&mut frames, &|module| self.module_code(snapshot, module));
        frames
    }

    /// The code of the module named `module` (parsed on first use).
    pub fn module_code(&self, snapshot: &Snapshot, module: &str) -> Option<Arc<ModuleCode>> {
        self.code
            .borrow_mut()
            .entry(module.to_string())
            .or_insert_with(|| {
                let m = snapshot.modules.iter().find(|m| m.name == module)?;
                ModuleCode::new(m.read_bytes(self.memory).ok()?).map(Arc::new)
            })
            .clone()
    }

    /// The code address of the function fresh continuation `r` will run:
    /// the callee its entry forwards to, bound by `cont.bind`
    /// ([`FreshCallees`]). `None` when `r` is not fresh or that is not
    /// known.
    pub fn fresh_body(&self, snapshot: &Snapshot, r: &StackRecord) -> Option<u64> {
        self.fresh
            .body_code(self.memory, snapshot, r, &|m| self.module_code(snapshot, m))
    }

    /// What one continuation is, in one place for every view: its name,
    /// where it was created, what it waits on and since when. `steps` is
    /// the walk of its stack (empty for a fresh one).
    pub fn describe_continuation(
        &self,
        snapshot: &Snapshot,
        r: &StackRecord,
        steps: &[Step],
    ) -> ContinuationInfo {
        let entry = entry_name(snapshot, r);
        let frames = self.frames(snapshot, steps);
        // A fresh one has no frames: the function its entry will call.
        let fresh = || {
            self.fresh_body(snapshot, r)
                .and_then(|code| snapshot.function_name(code))
        };
        let name = frames
            .iter()
            .rev()
            .find_map(Frame::as_boundary)
            .and_then(|b| b.name.as_deref().map(String::from))
            .or_else(fresh)
            .unwrap_or_else(|| entry.clone());
        let waiting_on = match r.state {
            State::Suspended => frames.iter().find_map(Frame::as_wasm).and_then(|w| {
                let code = self.module_code(snapshot, &w.module)?;
                code.tag_at(w.offset?)
            }),
            _ => None,
        };
        let caught = (r.state == State::Suspended && r.caught_pc != 0).then(|| Caught {
            site: self
                .frames(
                    snapshot,
                    &[Step::Frame {
                        pc: r.caught_pc,
                        is_return: true,
                    }],
                )
                .first()
                .map_or_else(|| format!("{:#x}", r.caught_pc), short_frame),
            continuation: self.id_of(snapshot, r.caught_by),
        });
        ContinuationInfo {
            id: r.id,
            state: r.state.name(),
            name,
            entry,
            created: self.creation_site(snapshot, r),
            created_by: r.created_by,
            waiting_on,
            caught,
            waited_ms: r.waited_ns(snapshot.clock) / 1_000_000,
            runs: r.runs(),
        }
    }

    /// The id of the continuation whose record is at `address` (0: none,
    /// or a host stack), through an index built on first use.
    fn id_of(&self, snapshot: &Snapshot, address: u64) -> u64 {
        if address == 0 {
            return 0;
        }
        let mut ids = self.ids.borrow_mut();
        let ids = ids.get_or_insert_with(|| {
            snapshot
                .stores
                .iter()
                .flat_map(|s| &s.records)
                .map(|r| (r.address, r.id))
                .collect()
        });
        ids.get(&address).copied().unwrap_or(0)
    }

    /// Where `r` was created, `function at file:line`: the frame of
    /// [`creation_site_pc`](crate::groups::creation_site_pc).
    pub fn creation_site(&self, snapshot: &Snapshot, r: &StackRecord) -> Option<String> {
        let pc = crate::groups::creation_site_pc(snapshot, r)?;
        let steps = [Step::Frame {
            pc,
            is_return: true,
        }];
        self.unnamed_frames(snapshot, &steps)
            .first()
            .map(short_frame)
    }

    /// The kept frames of the stack that created `r`, innermost first.
    pub fn creation_frames(&self, snapshot: &Snapshot, r: &StackRecord) -> Vec<Frame> {
        let steps: Vec<Step> = r
            .creation
            .iter()
            .map(|&pc| Step::Frame {
                pc,
                is_return: true,
            })
            .collect();
        self.unnamed_frames(snapshot, &steps)
    }

    fn unnamed_frames(&self, snapshot: &Snapshot, steps: &[Step]) -> Vec<Frame> {
        steps
            .iter()
            .map(|step| match step {
                Step::Frame { pc, is_return } => {
                    // Thousands of parked stacks repeat the same few
                    // addresses: each is named (DWARF, symbols) once.
                    let key = (*pc, *is_return);
                    if let Some(f) = self.named.borrow().get(&key) {
                        return f.clone();
                    }
                    // A return address points after the call: name the call.
                    let at = if *is_return { pc - 1 } else { *pc };
                    let frame = match self.wasm_frame(snapshot, *pc, at) {
                        Some(w) => Frame::Wasm(w),
                        None => Frame::Host(HostFrame {
                            pc: *pc,
                            symbol: self.host_name(at),
                        }),
                    };
                    self.named.borrow_mut().insert(key, frame.clone());
                    frame
                }
                Step::Boundary(r) => Frame::Boundary(Boundary {
                    continuation: r.id,
                    entry: entry_name(snapshot, r).into(),
                    handlers: None,
                    resumed_here: r.parent.pc != 0,
                    name: None,
                }),
                Step::HostEntry => Frame::HostEntry,
                Step::End(why) => Frame::Truncated {
                    reason: why.clone(),
                },
            })
            .collect()
    }

    fn wasm_frame(&self, snapshot: &Snapshot, pc: u64, at: u64) -> Option<WasmFrame> {
        let module = snapshot.module_at(at)?;
        let function = module.function_at(at)?;
        let offset = module.wasm_offset(self.memory, at);
        let mut cache = self.dwarf.borrow_mut();
        let dwarf = cache
            .entry(module.name.clone())
            .or_insert_with(|| WasmDwarf::new(&module.read_bytes(self.memory).ok()?));
        Some(WasmFrame {
            module: module.name.as_str().into(),
            function: function.name.as_str().into(),
            index: Some(function.index),
            offset,
            pc,
            locations: match (dwarf, offset) {
                (Some(d), Some(o)) => locations(d, o),
                _ => Vec::new(),
            },
        })
    }

    fn host_name(&self, at: u64) -> Option<String> {
        host_symbol(self.host.as_ref()?, at)
    }
}

/// `name+offset (file)` of the host function at `at` (for a return
/// address, the call: one less).
fn host_symbol(host: &HostSymbols, at: u64) -> Option<String> {
    let s = host.lookup(at)?;
    Some(format!("{}+{:#x} ({})", s.name, s.offset, s.file))
}

/// Names the host frames of `frames` (from the engine, which leaves them
/// unnamed; their pcs are return addresses) from `host`.
pub fn add_host_symbols(frames: &mut [Frame], host: &HostSymbols) {
    for frame in frames {
        if let Frame::Host(h) = frame {
            h.symbol = host_symbol(host, h.pc.saturating_sub(1));
        }
    }
}

/// The source locations of the instruction at module byte offset `offset`,
/// innermost inlined function first (positions without a file left out).
pub fn locations(dwarf: &WasmDwarf, offset: u32) -> Vec<Location> {
    dwarf
        .locate(u64::from(offset))
        .into_iter()
        .filter_map(|l| {
            Some(Location {
                file: l.file?,
                line: l.line,
                column: l.column,
                function: l.function,
            })
        })
        .collect()
}

/// Fills in the source locations of the Wasm frames of `frames` (from the
/// engine, which leaves them empty) from the DWARF of their modules, by
/// module name.
pub fn add_locations(frames: &mut [Frame], dwarf: &HashMap<String, WasmDwarf>) {
    for frame in frames {
        if let Frame::Wasm(w) = frame
            && let (Some(o), Some(d)) = (w.offset, dwarf.get(&*w.module))
        {
            w.locations = locations(d, o);
        }
    }
}

/// `function at file:line` (the innermost source location: the function
/// as the source names it), or `module!function` without debug info.
pub fn short_frame(frame: &Frame) -> String {
    match frame {
        Frame::Wasm(w) => match w.locations.first() {
            Some(l) => {
                let file = l.file.rsplit('/').next().unwrap_or(&l.file);
                let function = l.function.as_deref().unwrap_or(&w.function);
                match l.line {
                    Some(line) => format!("{function} at {file}:{line}"),
                    None => format!("{function} at {file}"),
                }
            }
            None => w.qualified_name(),
        },
        Frame::Host(h) => h.symbol.clone().unwrap_or_else(|| format!("{:#x}", h.pc)),
        _ => String::new(),
    }
}

/// What [`Sources::describe_continuation`] says about one continuation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContinuationInfo {
    /// Its id.
    pub id: u64,
    /// Its state's name.
    pub state: &'static str,
    /// What it runs (`module!function`; for a fresh one, the function
    /// its entry will call; its entry when nothing better).
    pub name: String,
    /// Its entry function, `module!function`.
    pub entry: String,
    /// Where it was created (`function at file:line`), if recorded.
    pub created: Option<String>,
    /// The continuation that created it (0: a host stack).
    pub created_by: u64,
    /// The tag it suspended with, read at the instruction it stopped at.
    pub waiting_on: Option<String>,
    /// The resume that caught its suspension.
    pub caught: Option<Caught>,
    /// Milliseconds since its last switch, by the registry's clock.
    pub waited_ms: u64,
    /// How many times it started running.
    pub runs: u64,
}

impl ContinuationInfo {
    /// `#12 green!producer suspended on $yield for 3 ms, created by spawn
    /// at green.c:123 in #0`: one line for lists.
    pub fn line(&self) -> String {
        let mut out = format!("#{} {} {}", self.id, self.name, self.state);
        out.push_str(&self.wait_text());
        out.push_str(&self.created_text());
        out
    }

    /// ` on $yield for 3 ms, caught by fiber_resume at fiber.wat:5 in #2`,
    /// or nothing when it is not suspended.
    pub fn wait_text(&self) -> String {
        if self.state != "suspended" {
            return String::new();
        }
        let mut out = String::new();
        if let Some(tag) = &self.waiting_on {
            out.push_str(&format!(" on {tag}"));
        }
        out.push_str(&format!(" for {} ms", self.waited_ms));
        if let Some(c) = &self.caught {
            out.push_str(&format!(", caught by {} in #{}", c.site, c.continuation));
        }
        out
    }

    /// `, created by spawn at green.c:123 in #0`, or nothing.
    pub fn created_text(&self) -> String {
        match &self.created {
            Some(site) => format!(", created by {site} in #{}", self.created_by),
            None => String::new(),
        }
    }
}

/// The resume that caught a suspension.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Caught {
    /// The resume site, `function at file:line`.
    pub site: String,
    /// The continuation that ran it (0: a host stack).
    pub continuation: u64,
}

/// `module!function` of a continuation's entry function.
pub fn entry_name(snapshot: &Snapshot, r: &StackRecord) -> String {
    snapshot
        .function_name(r.entry_code)
        .unwrap_or_else(|| "<host function>".into())
}

/// What one thread was doing.
#[derive(Debug, Clone)]
pub struct ThreadReport {
    /// Thread id.
    pub tid: i32,
    /// "running Wasm", "in a host call from Wasm", "not running Wasm".
    pub state: &'static str,
    /// Its logical backtrace.
    pub steps: Vec<Step>,
}

/// The record whose stack contains `sp`.
pub fn record_containing(snapshot: &Snapshot, sp: u64) -> Option<&StackRecord> {
    snapshot
        .stores
        .iter()
        .flat_map(|s| &s.records)
        .find(|r| r.stack_low <= sp && sp < r.stack_high)
}

/// The logical backtrace of each stopped thread: from its registers when
/// it runs Wasm, from where Wasm last called the host when it is in a host
/// call.
pub fn report_threads(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    cfi: &CfiUnwinder,
    threads: &[ThreadRegisters],
    limits: Limits,
) -> Vec<ThreadReport> {
    threads
        .iter()
        .map(|t| {
            let on_record = record_containing(snapshot, t.rsp);
            if snapshot.module_at(t.rip).is_some() || snapshot.is_trampoline_return(t.rip + 1) {
                let start = Start {
                    pc: t.rip,
                    fp: t.rbp,
                    sp: t.rsp,
                };
                let steps = walk_with(memory, snapshot, cfi, start, on_record, limits);
                return ThreadReport {
                    tid: t.tid,
                    state: "running Wasm",
                    steps,
                };
            }
            // In host code: if Wasm called it, the store recorded where.
            for store in &snapshot.stores {
                if store.last_exit_pc == 0 {
                    continue;
                }
                let fp = store.last_exit_fp;
                let running = snapshot.record(store.current_cont);
                let on_this_thread = match running {
                    Some(r) => on_record.is_some_and(|o| o.address == r.address),
                    None => on_record.is_none() && fp >= t.rsp && fp < t.rsp + (256 << 20),
                };
                if on_this_thread {
                    let start = Start {
                        pc: store.last_exit_pc,
                        fp,
                        sp: t.rsp,
                    };
                    // The host call's return address.
                    let steps = walk_from(memory, snapshot, cfi, start, true, running, limits);
                    return ThreadReport {
                        tid: t.tid,
                        state: "in a host call from Wasm",
                        steps,
                    };
                }
            }
            ThreadReport {
                tid: t.tid,
                state: "not running Wasm",
                steps: Vec::new(),
            }
        })
        .collect()
}

/// Every live continuation that is not running (suspended or fresh), by
/// id, with the walk of each suspended one's stack.
pub fn report_parked<'a>(
    memory: &dyn Memory,
    snapshot: &'a Snapshot,
    cfi: &CfiUnwinder,
    limits: Limits,
) -> Vec<(&'a StackRecord, Vec<Step>)> {
    let mut parked: Vec<&StackRecord> = snapshot
        .stores
        .iter()
        .flat_map(|s| &s.records)
        .filter(|r| matches!(r.state, State::Suspended | State::Fresh))
        .collect();
    parked.sort_by_key(|r| r.id);
    parked
        .into_iter()
        .map(|r| {
            let steps = if r.state == State::Suspended {
                walk_suspended_with(memory, snapshot, cfi, r, limits)
            } else {
                Vec::new()
            };
            (r, steps)
        })
        .collect()
}
