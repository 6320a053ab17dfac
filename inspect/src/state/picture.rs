//! Building a [`Picture`] from the registry of live stacks (through
//! `unwind`, so the same code serves this process and another one) and from
//! an engine trap's backtrace.

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_engine::Trap;
use switchyard_unwind::CfiUnwinder;
use switchyard_unwind::dwarf::WasmDwarf;
use switchyard_unwind::naming::{ModuleCode, name_continuations};
use switchyard_unwind::registry::{Snapshot, StackRecord, State as RecordState};
use switchyard_unwind::report::{Sources, add_locations, entry_name, report_parked};
use switchyard_unwind::{Limits, Memory, Step};

use super::{Cont, Frame, Picture, TrapView};

/// Bounds of every walk the inspector makes.
pub const LIMITS: Limits = Limits {
    max_frames: 2000,
    host_frames: false,
};

/// A walk of one thread's running chain.
pub struct RunningWalk {
    /// The steps, innermost first.
    pub steps: Vec<Step>,
    /// The stack pointer where it started.
    pub sp: u64,
    /// The record of the stack it started on (`None`: a host stack).
    pub record: Option<StackRecord>,
}

/// The frames of a walk, named, without host and glue frames.
pub fn frame_lines(snapshot: &Snapshot, sources: &Sources<'_>, steps: &[Step]) -> Vec<Frame> {
    without_host(sources.frames(snapshot, steps))
}

fn without_host(mut frames: Vec<Frame>) -> Vec<Frame> {
    frames.retain(|f| !matches!(f, Frame::Host(_)));
    frames
}

fn cont_of(
    snapshot: &Snapshot,
    sources: &Sources<'_>,
    r: &StackRecord,
    tags: &HashMap<u64, String>,
) -> Cont {
    let tag = tags.get(&r.id).cloned().or_else(|| {
        (r.last_tag != 0 && r.state == RecordState::Suspended)
            .then(|| format!("tag@{:#x}", r.last_tag))
    });
    Cont {
        id: r.id,
        state: r.state.name().to_string(),
        entry: entry_name(snapshot, r),
        resumes: r.resumes,
        switches: r.switches,
        stack_used: match r.state {
            RecordState::Suspended if r.own.sp != 0 => r.stack_high.saturating_sub(r.own.sp),
            _ => 0,
        },
        stack_size: r.stack_high.saturating_sub(r.stack_low),
        parent: None,
        tag: if r.state == RecordState::Suspended {
            tag
        } else {
            None
        },
        frames: Vec::new(),
        name: None,
        created: sources.creation_site(snapshot, r),
    }
}

/// The continuation's name, from the boundary at the bottom of its frames
/// (named by `Sources::frames`).
fn name_from(frames: &[Frame]) -> Option<String> {
    frames
        .iter()
        .find_map(Frame::as_boundary)
        .and_then(|b| b.name.as_deref().map(String::from))
}

/// The picture of every stack: the running chains from `running` (one walk
/// per thread in Wasm), the parked continuations from the registry.
/// `tags` names the last tag of continuations by id, where known.
pub fn build(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    running: &[RunningWalk],
    tags: &HashMap<u64, String>,
) -> Picture {
    let sources = Sources::new(memory);
    let mut chain: Vec<Cont> = Vec::new();
    let mut host: Option<Cont> = None;
    for walk in running {
        // Each segment of the walk belongs to one stack; each stack's
        // backtrace is the walk from its segment down.
        let mut owner = walk.record.clone();
        let mut sp = walk.sp;
        let mut segment_start = 0;
        let mut segments: Vec<Cont> = Vec::new();
        let mut close = |owner: &Option<StackRecord>, sp: u64, from: usize, parent: Option<u64>| {
            let frames = frame_lines(snapshot, &sources, &walk.steps[from..]);
            match owner {
                Some(r) => {
                    let mut c = cont_of(snapshot, &sources, r, tags);
                    c.stack_used = r.stack_high.saturating_sub(sp);
                    c.parent = parent;
                    c.name = name_from(&frames);
                    c.frames = frames;
                    segments.push(c);
                }
                None => {
                    if host.is_none() {
                        host = Some(Cont {
                            id: 0,
                            state: "host".into(),
                            entry: "host entry".into(),
                            resumes: 0,
                            switches: 0,
                            stack_used: 0,
                            stack_size: 0,
                            parent: None,
                            tag: None,
                            frames,
                            name: None,
                            created: None,
                        });
                    }
                }
            }
        };
        for (i, step) in walk.steps.iter().enumerate() {
            if let Step::Boundary(r) = step {
                if r.parent.pc == 0 {
                    break;
                }
                let next = snapshot.record(r.parent_record).cloned();
                let parent_id = next.as_ref().map_or(0, |n| n.id);
                close(&owner, sp, segment_start, Some(parent_id));
                owner = next;
                sp = r.parent.sp;
                segment_start = i + 1;
            }
        }
        close(&owner, sp, segment_start, None);
        segments.reverse();
        chain.extend(segments);
    }
    let mut conts: Vec<Cont> = host.into_iter().collect();
    conts.extend(chain);
    // Running records no walk reached (another thread's, or no walk).
    for r in snapshot.stores.iter().flat_map(|s| &s.records) {
        if r.state == RecordState::Running && !conts.iter().any(|c| c.id == r.id) {
            let mut c = cont_of(snapshot, &sources, r, tags);
            c.parent = Some(snapshot.record(r.parent_record).map_or(0, |p| p.id));
            conts.push(c);
        }
    }
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    for (r, steps) in report_parked(memory, snapshot, &cfi, LIMITS) {
        let mut c = cont_of(snapshot, &sources, r, tags);
        let info = sources.describe_continuation(snapshot, r, &steps);
        if c.tag.as_deref().is_none_or(|t| t.starts_with("tag@")) && info.waiting_on.is_some() {
            c.tag = info.waiting_on;
        }
        c.frames = frame_lines(snapshot, &sources, &steps);
        // A fresh one has no frames: named by what its entry will call.
        c.name = name_from(&c.frames).or_else(|| (info.name != c.entry).then(|| info.name.clone()));
        conts.push(c);
    }
    Picture { conts, trap: None }
}

/// The trap's logical backtrace, with source locations from the DWARF of
/// `modules` (by module name) and its continuations named by what they run.
pub fn trap_view(trap: &Trap, modules: &[switchyard_engine::Module]) -> TrapView {
    let mut frames = without_host(trap.backtrace.clone());
    add_locations(&mut frames, &module_dwarf(modules));
    let code: HashMap<&str, Arc<ModuleCode>> = modules
        .iter()
        .filter_map(|m| Some((m.name(), Arc::new(ModuleCode::new(m.bytes().to_vec())?))))
        .collect();
    name_continuations(&mut frames, &|m| code.get(m).cloned());
    let mut message = format!("wasm trap: {trap}");
    if let Some(f) = &trap.function {
        message.push_str(&format!(" in {f}"));
    }
    TrapView { message, frames }
}

/// The DWARF of every module that has some, by module name.
pub fn module_dwarf(modules: &[switchyard_engine::Module]) -> HashMap<String, WasmDwarf> {
    modules
        .iter()
        .filter_map(|m| Some((m.name().to_string(), WasmDwarf::new(m.bytes())?)))
        .collect()
}

/// Where this process's registry is.
pub fn own_registry() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}
