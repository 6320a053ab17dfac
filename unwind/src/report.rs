//! What every stack of a target is doing: the walks behind `switchyard bt`
//! and the inspector, shared so that both tell the same story.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::cfi::CfiUnwinder;
use crate::dwarf::WasmDwarf;
use crate::memory::Memory;
use crate::ptrace::ThreadRegisters;
use crate::registry::{Snapshot, StackRecord, State};
use crate::symbols::HostSymbols;
use crate::walk::{Limits, Start, Step, walk_from, walk_suspended_with, walk_with};

/// Source locations of the target's modules, from their DWARF, loaded on
/// first use, and optionally the host binaries' symbols.
pub struct Sources<'a> {
    memory: &'a dyn Memory,
    dwarf: RefCell<HashMap<String, Option<WasmDwarf>>>,
    host: Option<HostSymbols>,
}

/// One source position of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// Source file, as the DWARF names it.
    pub file: String,
    /// Line (0: unknown).
    pub line: u32,
    /// Column (0: unknown).
    pub column: u32,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.file)?;
        if self.line != 0 {
            write!(f, ":{}", self.line)?;
        }
        if self.column != 0 {
            write!(f, ":{}", self.column)?;
        }
        Ok(())
    }
}

impl<'a> Sources<'a> {
    /// Locations read from the module bytes in `memory`.
    pub fn new(memory: &'a dyn Memory) -> Sources<'a> {
        Sources {
            memory,
            dwarf: RefCell::default(),
            host: None,
        }
    }

    /// Also names host frames, from these symbols.
    pub fn with_host_symbols(mut self, host: HostSymbols) -> Self {
        self.host = Some(host);
        self
    }

    /// `name+offset (file)` of the host function at `at` (for a return
    /// address, the call: one less), when host symbols were given.
    pub fn host_name(&self, at: u64) -> Option<String> {
        let s = self.host.as_ref()?.lookup(at)?;
        Some(format!("{}+{:#x} ({})", s.name, s.offset, s.file))
    }

    /// The source positions of the Wasm code at `pc` (innermost inlined
    /// first), empty without DWARF.
    pub fn positions(&self, snapshot: &Snapshot, pc: u64) -> Vec<Position> {
        let Some(module) = snapshot.module_at(pc) else {
            return Vec::new();
        };
        let Some(offset) = module.wasm_offset(self.memory, pc) else {
            return Vec::new();
        };
        let mut cache = self.dwarf.borrow_mut();
        let dwarf = cache
            .entry(module.name.clone())
            .or_insert_with(|| WasmDwarf::new(&module.read_bytes(self.memory).ok()?));
        let Some(dwarf) = dwarf else {
            return Vec::new();
        };
        dwarf
            .locate(u64::from(offset))
            .into_iter()
            .filter_map(|l| {
                Some(Position {
                    file: l.file?,
                    line: l.line.unwrap_or(0),
                    column: l.column.unwrap_or(0),
                })
            })
            .collect()
    }

    /// "file:line:col" lines for the Wasm code at `pc` (innermost inlined
    /// first), empty without DWARF.
    pub fn locate(&self, snapshot: &Snapshot, pc: u64) -> Vec<String> {
        self.positions(snapshot, pc)
            .iter()
            .map(|p| p.to_string())
            .collect()
    }
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
