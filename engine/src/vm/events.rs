//! Switch events for a watcher such as the inspector: every `resume`,
//! suspension, `switch`, return and exception that crosses a continuation
//! boundary, reported on the program's own thread at a moment when the
//! registry of live stacks is consistent.
//!
//! With [`Config::report_switch_events`] they come from both switching
//! modes: the libcall switching routines (`stack_switching::libcall`)
//! report them, and in native mode the translator emits a call to
//! `native_event` at each switch point (without the setting, native switches make no host
//! call). A watcher may block: the program thread waits in `emit` while
//! the watcher reads the registry (this is how the inspector pauses and
//! steps a program).
//!
//! When each event fires, and what the registry then shows:
//! - `Resume`: before the switch into the continuation; it is still fresh
//!   or suspended (its saved context intact), its resumer is running.
//! - `Switch`: before the switch; the switcher is still running, the target
//!   still suspended.
//! - `Suspend`, `Return`, `Throw`: after control came back to the resume
//!   that handles it; the continuation is suspended (its context saved) or
//!   gone, and the resumer runs again.
//!
//! The [`recorder`] (the flight recorder) keeps every event with a
//! timestamp, and also `cont.new`, without a watcher.
//!
//! [`Config::report_switch_events`]: crate::Config::report_switch_events

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

pub mod recorder;
use recorder::RecordKind;

use super::layout::{VMOffsets, VMStoreContext};
use super::stack_switching::continuation::{ContinuationRecord, payload};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchEventKind {
    /// A continuation is about to be resumed (`throw`: by `resume_throw`).
    Resume {
        /// Resumed by `resume_throw`.
        throw: bool,
    },
    /// A continuation suspended to its handler.
    Suspend,
    /// A continuation switches to another one.
    Switch,
    /// A continuation's function returned.
    Return,
    /// An exception ended a continuation and goes on in its resumer.
    Throw,
}

impl SwitchEventKind {
    /// A lowercase name: resume, resume_throw, suspend, switch, return,
    /// throw.
    pub fn name(&self) -> &'static str {
        match self {
            SwitchEventKind::Resume { throw: false } => "resume",
            SwitchEventKind::Resume { throw: true } => "resume_throw",
            SwitchEventKind::Suspend => "suspend",
            SwitchEventKind::Switch => "switch",
            SwitchEventKind::Return => "return",
            SwitchEventKind::Throw => "throw",
        }
    }
}

/// Where the program thread is while a watcher sees an event: a frame of
/// the host routine reporting it, on the stack of `stack_record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventSite {
    /// A program counter in the reporting frame.
    pub pc: u64,
    /// Its frame pointer.
    pub fp: u64,
    /// Its stack pointer.
    pub sp: u64,
    /// The registry record of the stack it runs on (0: the host stack).
    pub stack_record: u64,
}

/// One switch event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwitchEvent {
    /// What happened.
    pub kind: SwitchEventKind,
    /// The continuation resumed, suspended, switching, returned or thrown
    /// out of.
    pub cont: u64,
    /// The other side: the resumer of a `Resume` (0: the host) or the
    /// target of a `Switch`.
    pub other: u64,
    /// Code address of `cont`'s entry function (0: unknown).
    pub entry_code: u64,
    /// The tag of a `Suspend` or `Switch`: its export name, its name in
    /// the name section, or `tag N`.
    pub tag: Option<String>,
    /// Where the program thread is.
    pub site: EventSite,
}

/// A watcher of switch events; called on the program's thread.
pub type Watcher = Arc<dyn Fn(&SwitchEvent) + Send + Sync>;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static WATCHER: RwLock<Option<Watcher>> = RwLock::new(None);

/// Installs the process's watcher (replacing any), or removes it.
pub fn set_watcher(watcher: Option<Watcher>) {
    let mut slot = WATCHER.write().unwrap_or_else(|e| e.into_inner());
    ACTIVE.store(watcher.is_some(), Ordering::Release);
    *slot = watcher;
}

/// Whether a watcher is installed or the flight recorder records (the
/// libcall switching routines then call [`emit`]).
#[inline]
pub(crate) fn active() -> bool {
    watching() || recorder::on()
}

/// Whether a watcher is installed (one relaxed load on the switch path).
#[inline]
fn watching() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Reports one event of the libcall switching routines to the flight
/// recorder and the watcher.
pub(crate) fn emit(
    kind: SwitchEventKind,
    cont: u64,
    other: u64,
    entry_code: u64,
    tag: Option<String>,
    stack_record: u64,
) {
    if recorder::on() {
        let record = match kind {
            SwitchEventKind::Resume { throw: false } => RecordKind::Resume,
            SwitchEventKind::Resume { throw: true } => RecordKind::ResumeThrow,
            SwitchEventKind::Suspend => RecordKind::Suspend,
            SwitchEventKind::Switch => RecordKind::Switch,
            SwitchEventKind::Return => RecordKind::Return,
            SwitchEventKind::Throw => RecordKind::Throw,
        };
        // SAFETY: the routines pass 0 or the live record that runs.
        let (current, _) = unsafe { who(stack_record as usize) };
        let key = recorder::name_key(tag.as_deref());
        recorder::push(record, cont, other, current, entry_code, key);
    }
    if watching() {
        emit_to_watcher(kind, cont, other, entry_code, tag, stack_record);
    }
}

/// Reports one event to the watcher. Never inlined: the frame it makes is
/// the [`EventSite`] a watcher walks the program's stack from.
#[inline(never)]
fn emit_to_watcher(
    kind: SwitchEventKind,
    cont: u64,
    other: u64,
    entry_code: u64,
    tag: Option<String>,
    stack_record: u64,
) {
    let watcher = WATCHER.read().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(watcher) = watcher else { return };
    let (pc, fp, sp): (u64, u64, u64);
    // SAFETY: reads three registers into locals; no memory is touched.
    // The build keeps frame pointers (.cargo/config.toml), so rbp is this
    // frame's record.
    unsafe {
        std::arch::asm!(
            "lea {pc}, [rip]",
            "mov {fp}, rbp",
            "mov {sp}, rsp",
            pc = out(reg) pc,
            fp = out(reg) fp,
            sp = out(reg) sp,
            options(nomem, nostack, preserves_flags)
        );
    }
    let event = SwitchEvent {
        kind,
        cont,
        other,
        entry_code,
        tag,
        site: EventSite {
            pc,
            fp,
            sp,
            stack_record,
        },
    };
    watcher(&event);
}

/// The id of the record at `record` (0: a host stack), and its entry
/// function's code address.
///
/// # Safety
/// `record` is 0 or a live record.
pub(crate) unsafe fn who(record: usize) -> (u64, u64) {
    if record == 0 {
        return (0, 0);
    }
    // SAFETY: the contract above; a record's entry funcref starts with its
    // code address.
    unsafe {
        let r = &*(record as *const ContinuationRecord);
        (r.id, entry_code(r.entry_func))
    }
}

/// The code address of the `VMFuncRef` at `funcref` (0: none).
///
/// # Safety
/// `funcref` is 0 or a live `VMFuncRef`.
unsafe fn entry_code(funcref: usize) -> u64 {
    if funcref == 0 {
        0
    } else {
        // SAFETY: the contract above; the code pointer is its first field.
        unsafe { *(funcref as *const u64) }
    }
}

/// What native-mode generated code reports through [`native_event`].
pub(crate) mod native {
    /// Before a resume's switch: `a` the record, `b` 1 for `resume_throw`.
    pub const RESUME: u64 = 0;
    /// Back in a resume because the continuation died of an exception
    /// (generated code calls only then): `a` the payload word.
    pub const BACK: u64 = 1;
    /// A resume's continuation suspended and its chain was cut from the
    /// resumer: `a` the record.
    pub const SUSPENDED: u64 = 4;
    /// A resume's continuation returned and was released: `a` its id, `b`
    /// its entry `VMFuncRef`.
    pub const RETURNED: u64 = 2;
    /// Before a switch: `a` the target record, `tag` the tag.
    pub const SWITCH: u64 = 3;
}

/// The event routine native-mode generated code calls at each switch point
/// when the engine reports switch events (`what`: one of [`native`]).
///
/// # Safety
/// Called by generated code with its VMContext and the values [`native`]
/// describes.
pub(crate) unsafe extern "sysv64" fn native_event(
    vmctx: *mut u8,
    what: u64,
    a: u64,
    b: u64,
    tag: u64,
) {
    if recorder::on() {
        // SAFETY: the contract above.
        unsafe { record_native(vmctx, what, a, b, tag) };
    }
    if !watching() {
        return;
    }
    // SAFETY: slot 0 of a live VMContext is its store context; records and
    // funcrefs passed by generated code are live (a returned record's id
    // and funcref were read before its release).
    unsafe {
        let current = (**(vmctx as *const *const VMStoreContext)).current_cont;
        let (_, me_code) = who(current);
        match what {
            native::RESUME => {
                let (id, code) = who(a as usize);
                let (resumer, _) = who(current);
                let kind = SwitchEventKind::Resume { throw: b != 0 };
                emit_to_watcher(kind, id, resumer, code, None, current as u64);
            }
            native::BACK if a & payload::KIND_MASK == payload::EXCEPTION => {
                let (id, code) = who((a & !payload::KIND_MASK) as usize);
                emit_to_watcher(SwitchEventKind::Throw, id, 0, code, None, current as u64);
            }
            native::SUSPENDED => {
                let (id, code) = who(a as usize);
                let last = (*(a as *const ContinuationRecord)).last_tag;
                let name = tag_name(vmctx, last);
                emit_to_watcher(SwitchEventKind::Suspend, id, 0, code, name, current as u64);
            }
            native::RETURNED => {
                let code = entry_code(b as usize);
                emit_to_watcher(SwitchEventKind::Return, a, 0, code, None, current as u64);
            }
            native::SWITCH => {
                let (me, _) = who(current);
                let (to, _) = who(a as usize);
                let name = tag_name(vmctx, tag as usize);
                emit_to_watcher(
                    SwitchEventKind::Switch,
                    me,
                    to,
                    me_code,
                    name,
                    current as u64,
                );
            }
            _ => {}
        }
    }
}

/// The flight recorder's side of [`native_event`]: one slot, no names.
///
/// # Safety
/// As [`native_event`].
#[inline]
unsafe fn record_native(vmctx: *mut u8, what: u64, a: u64, b: u64, tag: u64) {
    // SAFETY: as in `native_event`.
    unsafe {
        let current = (**(vmctx as *const *const VMStoreContext)).current_cont;
        let (me, me_code) = who(current);
        match what {
            native::RESUME => {
                let (id, code) = who(a as usize);
                let kind = if b != 0 {
                    RecordKind::ResumeThrow
                } else {
                    RecordKind::Resume
                };
                recorder::push(kind, id, 0, me, code, 0);
            }
            native::BACK if a & payload::KIND_MASK == payload::EXCEPTION => {
                let (id, code) = who((a & !payload::KIND_MASK) as usize);
                recorder::push(RecordKind::Throw, id, 0, me, code, 0);
            }
            native::SUSPENDED => {
                let (id, code) = who(a as usize);
                let last = (*(a as *const ContinuationRecord)).last_tag;
                let key = recorder::tag_key(vmctx, last);
                recorder::push(RecordKind::Suspend, id, 0, me, code, key);
            }
            native::RETURNED => {
                let code = entry_code(b as usize);
                recorder::push(RecordKind::Return, a, 0, me, code, 0);
            }
            native::SWITCH => {
                let (to, _) = who(a as usize);
                let key = recorder::tag_key(vmctx, tag as usize);
                recorder::push(RecordKind::Switch, me, to, me, me_code, key);
            }
            _ => {}
        }
    }
}

/// `cont.new` when the engine reports switch events (both switching
/// modes): makes the continuation as `routines::cont_new` does and
/// records its creation.
///
/// # Safety
/// As `routines::cont_new`.
pub(crate) unsafe extern "sysv64" fn cont_new_reported(
    vmctx: *mut u8,
    funcref: usize,
    body: usize,
) -> u64 {
    // SAFETY: the contract above; a nonzero result references the live
    // record just made.
    unsafe {
        let r = super::stack_switching::routines::cont_new(vmctx, funcref, body);
        if r != 0 && recorder::on() {
            let current = (**(vmctx as *const *const VMStoreContext)).current_cont;
            let (me, _) = who(current);
            let record = super::stack_switching::continuation::contref::record(r);
            let (id, code) = who(record);
            recorder::push(RecordKind::Create, id, 0, me, code, 0);
        }
        r
    }
}

/// A name for the tag at `tag` (a `VMTag` address) as seen from the
/// instance of `vmctx`.
///
/// # Safety
/// `vmctx` must be the VMContext of a live instance whose code is running.
pub(crate) unsafe fn tag_name(vmctx: *mut u8, tag: usize) -> Option<String> {
    if tag == 0 {
        return None;
    }
    // SAFETY: the contract above; the instance is only read.
    let inst = unsafe { &*super::instance::VMInstance::of_vmctx(vmctx) };
    let info = &*inst.info;
    let offsets = VMOffsets::new(info);
    let index = (0..info.tags.len() as u32).find(|&i| {
        // SAFETY: tag slots of the VMContext are initialized at
        // instantiation and hold `*mut VMTag`.
        let slot = unsafe { *(vmctx.add(offsets.tag(i) as usize) as *const usize) };
        slot == tag
    })?;
    for (name, export) in &info.exports {
        if *export == crate::module_info::ExportIndex::Tag(index) {
            return Some(format!("${name}"));
        }
    }
    Some(match info.tag_names.get(&index) {
        Some(name) => format!("${name}"),
        None => format!("tag {index}"),
    })
}
