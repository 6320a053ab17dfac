//! The live source: the program runs on its own thread in this process;
//! the engine reports every switch (`switchyard_engine::vm::events`) and
//! the program thread waits in that report while the inspector is paused,
//! so the registry it reads then is consistent.
//!
//! Also the [`Recorder`] behind `switchyard run --snapshot-on-trap`, which
//! reads the last events from the engine's flight recorder without ever
//! stopping the program.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use switchyard_engine::vm::events::recorder::{self, RecordKind};
use switchyard_engine::vm::events::{self, EventSite, SwitchEvent, SwitchEventKind};
use switchyard_engine::{Module, Trap};
use switchyard_unwind::registry::State as RecordState;
use switchyard_unwind::{ProcessMemory, Snapshot, Start, Step, walk, walk_suspended};

use super::picture::{self, LIMITS, RunningWalk};
use super::{EVENT_LOG_LEN, EventLine, Picture, Progress, State};
use crate::app::Control;

/// Turns engine events into log lines: names entry functions (through
/// this process's registry, cached) and remembers each continuation's
/// last tag.
#[derive(Default)]
pub struct Namer {
    names: HashMap<u64, String>,
    /// The last tag of each continuation, by id.
    pub tags: HashMap<u64, String>,
    seq: u64,
}

impl Namer {
    /// The log line of `event`, numbered.
    pub fn line(&mut self, event: &SwitchEvent) -> EventLine {
        self.seq += 1;
        let entry = if event.entry_code == 0 {
            String::new()
        } else if let Some(n) = self.names.get(&event.entry_code) {
            n.clone()
        } else {
            let memory = ProcessMemory::current();
            let name = Snapshot::read(&memory, picture::own_registry())
                .ok()
                .and_then(|s| s.function_name(event.entry_code))
                .unwrap_or_else(|| "<host function>".into());
            self.names.insert(event.entry_code, name.clone());
            name
        };
        match event.kind {
            SwitchEventKind::Suspend | SwitchEventKind::Switch => {
                if let Some(t) = &event.tag {
                    self.tags.insert(event.cont, t.clone());
                }
            }
            _ => {}
        }
        EventLine {
            seq: self.seq,
            kind: event.kind.name().to_string(),
            cont: event.cont,
            other: event.other,
            entry,
            tag: event.tag.clone(),
        }
    }

    /// Events numbered so far.
    pub fn count(&self) -> u64 {
        self.seq
    }
}

/// Whether break point `b` (a function name or a tag, `$` optional)
/// matches `e` by its entry function or tag (the watcher also looks for
/// the function on the continuation's stack).
pub fn breaks_on(b: &str, e: &EventLine) -> bool {
    let tag = b.trim_start_matches('$');
    let function_hit = !e.entry.is_empty()
        && (e.entry == b
            || e.entry.rsplit('!').next() == Some(b)
            || e.entry.rsplit('!').next() == Some(tag));
    let tag_hit = e
        .tag
        .as_ref()
        .is_some_and(|t| t.trim_start_matches('$') == tag);
    function_hit || tag_hit
}

/// Whether break point `b` names function `name` (`module!function`),
/// with or without its module.
fn names_function(b: &str, name: &str) -> bool {
    name == b || name.rsplit('!').next() == Some(b)
}

/// The functions on the stack of the continuation `e` is about, innermost
/// first: the switcher's own frames for a `switch` (it still runs, from
/// the event's site down to its stack's bottom), the saved frames of a
/// suspended one otherwise (a resume's target, a suspender), none for a
/// fresh or finished one. Called on the program thread while the registry
/// is consistent.
fn stack_functions(e: &SwitchEvent) -> Vec<String> {
    let memory = ProcessMemory::current();
    let Ok(snapshot) = Snapshot::read(&memory, picture::own_registry()) else {
        return Vec::new();
    };
    let steps = match e.kind {
        SwitchEventKind::Switch => {
            let record = snapshot.record(e.site.stack_record);
            let start = Start {
                pc: e.site.pc,
                fp: e.site.fp,
                sp: e.site.sp,
            };
            let mut steps = walk(&memory, &snapshot, start, record, LIMITS);
            if let Some(end) = steps.iter().position(|s| matches!(s, Step::Boundary(_))) {
                steps.truncate(end);
            }
            steps
        }
        _ => {
            let record = snapshot
                .stores
                .iter()
                .flat_map(|s| &s.records)
                .find(|r| r.id == e.cont && r.state == RecordState::Suspended);
            match record {
                Some(r) => walk_suspended(&memory, &snapshot, r, LIMITS),
                None => Vec::new(),
            }
        }
    };
    steps
        .iter()
        .filter_map(|s| match *s {
            Step::Frame { pc, is_return } => {
                snapshot.function_name(if is_return { pc - 1 } else { pc })
            }
            _ => None,
        })
        .collect()
}

/// How the program ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// It finished: "exited with status 0", "returned 45".
    Finished(String),
    /// It trapped: the picture taken at the trap (with the trap's chain).
    Trapped(Picture),
    /// It could not run (instantiation failed, ...).
    Failed(String),
}

#[derive(Default)]
struct Ctl {
    paused: bool,
    steps_left: u64,
    breaks: Vec<String>,
    /// The program thread waits at `site`.
    stopped: Option<EventSite>,
    /// Bumped at every stop, so the UI builds each stop's picture once.
    stops: u64,
    /// The continuation the stopping event is about.
    focus: u64,
    namer: Namer,
    new_events: VecDeque<EventLine>,
    output: String,
    outcome: Option<Outcome>,
    quit: bool,
}

struct Shared {
    ctl: Mutex<Ctl>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The program thread's side: how it reports its end.
#[derive(Clone)]
pub struct ProgramHandle {
    shared: Arc<Shared>,
}

impl ProgramHandle {
    /// The program finished normally (`how`: "exited with status 0").
    pub fn finished(&self, how: String) {
        self.shared.lock().outcome = Some(Outcome::Finished(how));
    }

    /// The program could not run.
    pub fn failed(&self, why: String) {
        self.shared.lock().outcome = Some(Outcome::Failed(why));
    }

    /// The program trapped. Call it before the store is dropped: the
    /// picture of the parked continuations is read from the registry.
    pub fn trapped(&self, trap: &Trap, modules: &[Module]) {
        let tags = self.shared.lock().namer.tags.clone();
        let picture = trap_picture(trap, modules, &tags);
        let mut ctl = self.shared.lock();
        let seq = ctl.namer.count() + 1;
        ctl.namer.seq = seq;
        ctl.new_events.push_back(EventLine {
            seq,
            kind: "trap".into(),
            cont: 0,
            other: 0,
            entry: String::new(),
            tag: None,
        });
        ctl.outcome = Some(Outcome::Trapped(picture));
    }
}

/// The picture after a trap: the trap's chain and every continuation still
/// parked in the registry.
pub fn trap_picture(trap: &Trap, modules: &[Module], tags: &HashMap<u64, String>) -> Picture {
    let memory = ProcessMemory::current();
    let mut picture = match Snapshot::read(&memory, picture::own_registry()) {
        Ok(snapshot) => picture::build(&memory, &snapshot, &[], tags),
        Err(_) => Picture::default(),
    };
    picture.trap = Some(picture::trap_view(trap, modules));
    picture
}

/// The live source, on the inspector's side.
pub struct Live {
    shared: Arc<Shared>,
    seen_stop: u64,
}

impl Live {
    /// Installs the engine watcher; the program stops at its first switch
    /// event. Returns the source and the handle the program thread reports
    /// its end with.
    pub fn install() -> (Live, ProgramHandle) {
        let shared = Arc::new(Shared {
            ctl: Mutex::new(Ctl {
                paused: true,
                ..Ctl::default()
            }),
            wake: Condvar::new(),
        });
        let watched = shared.clone();
        events::set_watcher(Some(Arc::new(move |e: &SwitchEvent| watch(&watched, e))));
        (
            Live {
                shared: shared.clone(),
                seen_stop: 0,
            },
            ProgramHandle { shared },
        )
    }

    /// Appends program output (from the pipe reader).
    pub fn output_sink(&self) -> impl Fn(&str) + Send + 'static {
        let shared = self.shared.clone();
        move |text: &str| shared.lock().output.push_str(text)
    }

    /// Lets the program go on without stopping again, and removes the
    /// watcher (on quit).
    pub fn release(&self) {
        events::set_watcher(None);
        let mut ctl = self.shared.lock();
        ctl.quit = true;
        ctl.stopped = None;
        self.shared.wake.notify_all();
    }

    /// Brings what happened into `state`; returns the continuation to
    /// focus when a new picture was taken.
    pub fn poll(&mut self, state: &mut State) -> Option<u64> {
        let mut ctl = self.shared.lock();
        for e in ctl.new_events.drain(..) {
            state.push_event(e);
        }
        if !ctl.output.is_empty() {
            let out = std::mem::take(&mut ctl.output);
            state.push_output(&out);
        }
        if let Some(outcome) = ctl.outcome.take() {
            drop(ctl);
            events::set_watcher(None);
            match outcome {
                Outcome::Finished(how) => {
                    state.progress = Progress::Finished(how);
                    state.picture = Picture::default();
                }
                Outcome::Failed(why) => {
                    state.progress = Progress::Finished(format!("failed: {why}"));
                    state.picture = Picture::default();
                }
                Outcome::Trapped(p) => {
                    state.progress = Progress::Finished("trapped".into());
                    state.picture = p;
                }
            }
            return Some(0);
        }
        match ctl.stopped {
            Some(site) if ctl.stops != self.seen_stop => {
                self.seen_stop = ctl.stops;
                let focus = ctl.focus;
                let tags = ctl.namer.tags.clone();
                // The program thread waits in its report until told to
                // go on: the registry holds still while it is read.
                state.picture = live_picture(site, &tags);
                state.progress = Progress::Stopped;
                Some(focus)
            }
            Some(_) => None,
            None => {
                if !matches!(state.progress, Progress::Finished(_)) {
                    state.progress = Progress::Running;
                }
                None
            }
        }
    }

    fn go(&self, paused: bool, steps: u64) -> Result<(), String> {
        let mut ctl = self.shared.lock();
        if ctl.outcome.is_some() || ctl.quit {
            return Err("the program has ended".into());
        }
        ctl.paused = paused;
        ctl.steps_left = steps;
        ctl.stopped = None;
        self.shared.wake.notify_all();
        Ok(())
    }

    fn ended(&self, state_progress: &Progress) -> bool {
        matches!(state_progress, Progress::Finished(_))
    }
}

/// A [`Live`] source with the state's progress, as a [`Control`].
pub struct LiveControl<'a> {
    /// The source.
    pub live: &'a Live,
    /// Where the program is.
    pub progress: Progress,
}

impl Control for LiveControl<'_> {
    fn step(&mut self, n: u64) -> Result<(), String> {
        if self.live.ended(&self.progress) {
            return Err("the program has ended".into());
        }
        if self.progress == Progress::Running {
            return Err("the program is running: pause it first (p)".into());
        }
        self.live.go(true, n)
    }

    fn resume(&mut self) -> Result<(), String> {
        if self.live.ended(&self.progress) {
            return Err("the program has ended".into());
        }
        self.live.go(false, 0)
    }

    fn pause(&mut self) -> Result<(), String> {
        if self.live.ended(&self.progress) {
            return Err("the program has ended".into());
        }
        let mut ctl = self.live.shared.lock();
        ctl.paused = true;
        ctl.steps_left = 0;
        Ok(())
    }

    fn set_breaks(&mut self, breaks: &[String]) -> Result<(), String> {
        self.live.shared.lock().breaks = breaks.to_vec();
        Ok(())
    }
}

/// The watcher, on the program thread: logs the event and waits while the
/// inspector holds the program at it.
fn watch(shared: &Shared, e: &SwitchEvent) {
    let mut ctl = shared.lock();
    if ctl.quit {
        return;
    }
    let line = ctl.namer.line(e);
    let hit = ctl.breaks.iter().any(|b| breaks_on(b, &line))
        || (!ctl.breaks.is_empty() && {
            let functions = stack_functions(e);
            ctl.breaks
                .iter()
                .any(|b| functions.iter().any(|f| names_function(b, f)))
        });
    if ctl.new_events.len() >= EVENT_LOG_LEN {
        ctl.new_events.pop_front();
    }
    ctl.new_events.push_back(line);
    let stop = if hit {
        ctl.paused = true;
        ctl.steps_left = 0;
        true
    } else if ctl.paused {
        if ctl.steps_left > 1 {
            ctl.steps_left -= 1;
            false
        } else {
            ctl.steps_left = 0;
            true
        }
    } else {
        false
    };
    if !stop {
        return;
    }
    ctl.stopped = Some(e.site);
    ctl.stops += 1;
    ctl.focus = e.cont;
    while ctl.stopped.is_some() && !ctl.quit {
        ctl = shared.wake.wait(ctl).unwrap_or_else(|e| e.into_inner());
    }
}

/// The picture while the program thread waits at `site`.
fn live_picture(site: EventSite, tags: &HashMap<u64, String>) -> Picture {
    let memory = ProcessMemory::current();
    let Ok(snapshot) = Snapshot::read(&memory, picture::own_registry()) else {
        return Picture::default();
    };
    let record = snapshot.record(site.stack_record).cloned();
    let start = Start {
        pc: site.pc,
        fp: site.fp,
        sp: site.sp,
    };
    let steps = walk(&memory, &snapshot, start, record.as_ref(), LIMITS);
    let running = RunningWalk {
        steps,
        sp: site.sp,
        record,
    };
    picture::build(&memory, &snapshot, &[running], tags)
}

/// The last switch events of a run that is not inspected, for a snapshot
/// if it traps: read from the engine's flight recorder
/// (`switchyard_engine::vm::events::recorder`, the ring behind `switchyard
/// trace`), which costs one slot write per event and no call into the
/// inspector.
pub struct Recorder {
    /// Whether [`Recorder::start`] started the flight recorder (and
    /// [`Recorder::finish`] stops it); false when a trace recording was
    /// already on, which the snapshot then reads without stopping.
    owned: bool,
}

/// Events a snapshot keeps.
pub const RECORDED_EVENTS: usize = 200;

impl Recorder {
    /// Makes sure the flight recorder is on (the engine must report switch
    /// events): starts it with room for [`RECORDED_EVENTS`] unless a
    /// recording (`--trace`, with its own size) is already on.
    pub fn start() -> Recorder {
        let owned = !recorder::on();
        if owned {
            recorder::start(RECORDED_EVENTS);
        }
        Recorder { owned }
    }

    /// Stops the flight recorder if this recorder started it.
    pub fn finish(&self) {
        if self.owned {
            recorder::stop();
        }
    }

    /// The snapshot of a trap: every stack, the trap's chain, the last
    /// [`RECORDED_EVENTS`] events. Call it before the store is dropped.
    pub fn snapshot(
        &self,
        trap: &Trap,
        modules: &[Module],
        program: &str,
        source_files: Vec<String>,
    ) -> super::file::SnapshotFile {
        let recording = recorder::peek();
        let (mut events, tags) = event_lines(&recording);
        let picture = trap_picture(trap, modules, &tags);
        let seq = recording.total + 1;
        events.push(EventLine {
            seq,
            kind: "trap".into(),
            cont: 0,
            other: 0,
            entry: String::new(),
            tag: None,
        });
        super::file::SnapshotFile {
            format: super::file::FORMAT.into(),
            version: super::file::VERSION,
            program: program.to_string(),
            source_files,
            reason: picture
                .trap
                .as_ref()
                .map_or_else(String::new, |t| t.message.clone()),
            picture,
            events,
            total_events: seq,
        }
    }
}

/// The last [`RECORDED_EVENTS`] events of `recording` as log lines,
/// numbered from the first event of the run (`create` events included),
/// and the last tag of each continuation in the whole window.
fn event_lines(recording: &recorder::Recording) -> (Vec<EventLine>, HashMap<u64, String>) {
    let memory = ProcessMemory::current();
    let snapshot = Snapshot::read(&memory, picture::own_registry()).ok();
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut tags = HashMap::new();
    for e in &recording.events {
        if matches!(e.kind, RecordKind::Suspend | RecordKind::Switch)
            && let Some(t) = &e.tag
        {
            tags.insert(e.cont, t.clone());
        }
    }
    let first_seq = recording.total - recording.events.len() as u64 + 1;
    let skip = recording.events.len().saturating_sub(RECORDED_EVENTS);
    let lines = recording
        .events
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(i, e)| {
            let entry = match e.entry_code {
                0 => String::new(),
                code => names
                    .entry(code)
                    .or_insert_with(|| {
                        snapshot
                            .as_ref()
                            .and_then(|s| s.function_name(code))
                            .unwrap_or_else(|| "<host function>".into())
                    })
                    .clone(),
            };
            EventLine {
                seq: first_seq + i as u64,
                kind: e.kind.name().to_string(),
                cont: e.cont,
                other: match e.kind {
                    // The resumer, the creator.
                    RecordKind::Resume | RecordKind::ResumeThrow | RecordKind::Create => e.current,
                    RecordKind::Switch => e.other,
                    _ => 0,
                },
                entry,
                tag: e.tag.clone(),
            }
        })
        .collect();
    (lines, tags)
}
