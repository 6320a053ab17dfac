//! The flight recorder: every switch event and every `cont.new`, with a
//! timestamp, in a bounded ring, so that the last events are always at
//! hand (for a timeline, for a snapshot at a trap) at a cost small enough
//! to leave on for a whole run.
//!
//! It records only what the engine reports, so the engine must run with
//! `Config::report_switch_events` (without it no event call is compiled
//! in and nothing is recorded). The switch path writes one fixed-size
//! slot: a timestamp, what happened, the continuation ids, the entry
//! function's code address and the tag's address. Names are made once per
//! tag (on its first event, while its instance is alive) and per entry
//! function when the recording is read ([`stop`]).
//!
//! Timestamps are the processor's time-stamp counter when it runs at a
//! constant rate (`constant_tsc` and `nonstop_tsc`, as on every x86-64 of
//! the last decade; scaled to nanoseconds against the monotonic clock at
//! [`stop`]), the monotonic clock otherwise.
//!
//! One recording per process at a time. Slots are atomics, so a thread
//! that records while another reads never makes undefined behaviour; read
//! it when the program stands still (after its call returned or trapped)
//! for a consistent window.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// What a recorded event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// `cont.new` made continuation `cont` (`current`: who ran it).
    Create = 0,
    /// `current` resumes `cont` (about to switch).
    Resume = 1,
    /// `current` resumes `cont` with `resume_throw`.
    ResumeThrow = 2,
    /// `cont` suspended with `tag`; `current` (its handler's stack) runs.
    Suspend = 3,
    /// `cont` switches to `other` with `tag` (about to switch).
    Switch = 4,
    /// `cont` returned; `current` runs again.
    Return = 5,
    /// An exception ended `cont` and goes on in `current`.
    Throw = 6,
}

impl RecordKind {
    const ALL: [RecordKind; 7] = [
        RecordKind::Create,
        RecordKind::Resume,
        RecordKind::ResumeThrow,
        RecordKind::Suspend,
        RecordKind::Switch,
        RecordKind::Return,
        RecordKind::Throw,
    ];

    /// A lowercase name: create, resume, resume_throw, suspend, switch,
    /// return, throw (the inspector's names for the switch events).
    pub fn name(&self) -> &'static str {
        match self {
            RecordKind::Create => "create",
            RecordKind::Resume => "resume",
            RecordKind::ResumeThrow => "resume_throw",
            RecordKind::Suspend => "suspend",
            RecordKind::Switch => "switch",
            RecordKind::Return => "return",
            RecordKind::Throw => "throw",
        }
    }

    /// Its number in a slot, its index in [`RecordKind::ALL`].
    fn code(self) -> u64 {
        self as u64
    }
}

/// One recorded event, as [`stop`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Nanoseconds since [`start`].
    pub ns: u64,
    /// What happened.
    pub kind: RecordKind,
    /// The continuation it is about.
    pub cont: u64,
    /// The target of a `Switch` (0 otherwise).
    pub other: u64,
    /// The continuation running on the thread when it was recorded (0: the
    /// host stack): the resumer of a `Resume`, the handler's side after a
    /// `Suspend`, `Return` or `Throw`, the creator of a `Create`.
    pub current: u64,
    /// Code address of `cont`'s entry function (0: unknown).
    pub entry_code: u64,
    /// The tag of a `Suspend` or `Switch`, named as the inspector names it
    /// (`$yield`, `tag 3`).
    pub tag: Option<String>,
}

/// What [`stop`] and [`peek`] hand back.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The last events, oldest first (at most the ring's capacity).
    pub events: Vec<Recorded>,
    /// Events recorded in all, kept or not.
    pub total: u64,
    /// The ring's capacity.
    pub capacity: usize,
    /// Nanoseconds from [`start`] to [`stop`].
    pub duration_ns: u64,
    /// "tsc" or "monotonic": the clock the timestamps came from.
    pub clock: &'static str,
}

/// One event slot: timestamp, kind, cont, other, current, entry code, tag
/// key.
struct Slot([AtomicU64; 7]);

struct Ring {
    mask: u64,
    slots: Box<[Slot]>,
}

/// The ring in use (null: not recording). Rings are never freed (a later
/// recording with another capacity leaks the old one), so that a thread
/// still holding the pointer after [`stop`] writes into live memory.
static RING: AtomicPtr<Ring> = AtomicPtr::new(std::ptr::null_mut());
/// Slots written since [`start`].
static NEXT: AtomicU64 = AtomicU64::new(0);
static USE_TSC: AtomicBool = AtomicBool::new(false);

/// Tag addresses already named (direct-mapped by address), so that the
/// switch path resolves a tag's name once.
static TAG_SEEN: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];

#[derive(Default)]
struct Side {
    /// When recording started: the clock and the counter.
    start: Option<(Instant, u64)>,
    /// Tag names by key (a tag's address, or an interned name's key).
    tags: HashMap<u64, String>,
    /// Keys of names reported as text (libcall mode), by name.
    interned: HashMap<String, u64>,
    rings: Vec<&'static Ring>,
}

fn side() -> std::sync::MutexGuard<'static, Side> {
    static SIDE: OnceLock<Mutex<Side>> = OnceLock::new();
    SIDE.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// Whether the time-stamp counter ticks at a constant rate, also in deep
/// sleep states.
fn tsc_is_constant() -> bool {
    std::fs::read_to_string("/proc/cpuinfo").is_ok_and(|info| {
        info.lines()
            .find(|l| l.starts_with("flags"))
            .is_some_and(|flags| {
                let has = |f: &str| flags.split_whitespace().any(|w| w == f);
                has("constant_tsc") && has("nonstop_tsc")
            })
    })
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Now, in counter ticks or in monotonic nanoseconds.
#[inline]
fn now() -> u64 {
    if USE_TSC.load(Relaxed) {
        // SAFETY: rdtsc only reads the counter; every x86-64 has it.
        unsafe { core::arch::x86_64::_rdtsc() }
    } else {
        process_start().elapsed().as_nanos() as u64
    }
}

/// Starts recording into a ring of `capacity` events (rounded up to a
/// power of two, at least 16), dropping what an earlier recording left.
pub fn start(capacity: usize) {
    let capacity = capacity.clamp(16, 1 << 30).next_power_of_two();
    let mut side = side();
    let ring: &'static Ring = match side.rings.iter().find(|r| r.slots.len() == capacity) {
        Some(r) => r,
        None => {
            let slots = (0..capacity)
                .map(|_| Slot([const { AtomicU64::new(0) }; 7]))
                .collect();
            let ring = Box::leak(Box::new(Ring {
                mask: capacity as u64 - 1,
                slots,
            }));
            side.rings.push(ring);
            ring
        }
    };
    USE_TSC.store(tsc_is_constant(), Relaxed);
    NEXT.store(0, Relaxed);
    side.start = Some((Instant::now(), now()));
    RING.store(ring as *const Ring as *mut Ring, Relaxed);
}

/// Whether a recording is on (one relaxed load).
#[inline]
pub fn on() -> bool {
    !RING.load(Relaxed).is_null()
}

/// Writes one slot.
#[inline]
pub(crate) fn push(kind: RecordKind, cont: u64, other: u64, current: u64, entry: u64, tag: u64) {
    let ring = RING.load(Relaxed);
    if ring.is_null() {
        return;
    }
    let i = NEXT.fetch_add(1, Relaxed);
    // SAFETY: rings are leaked, never freed: the pointer stays valid.
    let ring = unsafe { &*ring };
    let slot = &ring.slots[(i & ring.mask) as usize].0;
    let words = [now(), kind.code(), cont, other, current, entry, tag];
    for (w, v) in slot.iter().zip(words) {
        w.store(v, Relaxed);
    }
}

/// The key under which tag `tag` (a `VMTag` address) is named, naming it
/// through `vmctx`'s instance the first time.
///
/// # Safety
/// `vmctx` is the VMContext of a live instance whose code is running.
#[inline]
pub(crate) unsafe fn tag_key(vmctx: *mut u8, tag: usize) -> u64 {
    if tag == 0 {
        return 0;
    }
    let seen = &TAG_SEEN[(tag >> 4) & 63];
    if seen.load(Relaxed) != tag as u64 {
        // SAFETY: the contract above.
        let name = unsafe { super::tag_name(vmctx, tag) };
        if let Some(name) = name {
            side().tags.insert(tag as u64, name);
        }
        seen.store(tag as u64, Relaxed);
    }
    tag as u64
}

/// The key of a tag already named (the libcall switching routines report
/// names).
pub(crate) fn name_key(name: Option<&str>) -> u64 {
    let Some(name) = name else { return 0 };
    let mut side = side();
    if let Some(k) = side.interned.get(name) {
        return *k;
    }
    // Odd keys never collide with tag addresses, which are aligned.
    let key = 2 * side.interned.len() as u64 + 1;
    side.interned.insert(name.to_string(), key);
    side.tags.insert(key, name.to_string());
    key
}

/// Nanoseconds since [`start`] by the monotonic clock (0 if nothing
/// records), to place an event the engine does not report (a trap) on the
/// recording's time line.
pub fn elapsed_ns() -> u64 {
    side()
        .start
        .map_or(0, |(clock, _)| clock.elapsed().as_nanos() as u64)
}

/// Stops recording and returns the last events, oldest first. Empty if
/// nothing was recording.
pub fn stop() -> Recording {
    read(RING.swap(std::ptr::null_mut(), Relaxed))
}

/// The last events so far, oldest first, while recording goes on (for a
/// snapshot at a trap when the whole recording is written later). Empty
/// if nothing is recording.
pub fn peek() -> Recording {
    read(RING.load(Relaxed))
}

/// The window of `ring` (null: nothing was recording).
fn read(ring: *mut Ring) -> Recording {
    let end = (Instant::now(), now());
    let side = side();
    if ring.is_null() {
        return Recording::default();
    }
    // SAFETY: rings are leaked, never freed.
    let ring = unsafe { &*ring };
    let total = NEXT.load(Relaxed);
    let capacity = ring.slots.len();
    let (start_clock, start_count) = side.start.unwrap_or(end);
    let use_tsc = USE_TSC.load(Relaxed);
    let duration_ns = end.0.duration_since(start_clock).as_nanos() as u64;
    // Counter ticks per nanosecond, measured over the recording.
    let ticks = end.1.saturating_sub(start_count);
    let to_ns = |t: u64| -> u64 {
        let since = t.saturating_sub(start_count);
        if !use_tsc {
            since
        } else if ticks == 0 {
            0
        } else {
            (since as u128 * duration_ns as u128 / ticks as u128) as u64
        }
    };
    let kept = total.min(capacity as u64);
    let events = (total - kept..total)
        .map(|i| {
            let w: Vec<u64> = ring.slots[(i & ring.mask) as usize]
                .0
                .iter()
                .map(|a| a.load(Relaxed))
                .collect();
            Recorded {
                ns: to_ns(w[0]),
                kind: RecordKind::ALL[(w[1] as usize).min(RecordKind::ALL.len() - 1)],
                cont: w[2],
                other: w[3],
                current: w[4],
                entry_code: w[5],
                tag: (w[6] != 0).then(|| {
                    side.tags
                        .get(&w[6])
                        .cloned()
                        .unwrap_or_else(|| format!("tag@{:#x}", w[6]))
                }),
            }
        })
        .collect();
    Recording {
        events,
        total,
        capacity,
        duration_ns,
        clock: if use_tsc { "tsc" } else { "monotonic" },
    }
}
