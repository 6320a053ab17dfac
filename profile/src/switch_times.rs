//! Off-CPU time: how long each continuation ran and how long it waited
//! suspended, measured exactly from the flight recorder's timestamped
//! switch events (`switchyard_engine::vm::events::recorder`), where the
//! samples only say where running time went.
//!
//! A continuation runs from the event that hands it control (a `resume`
//! of it, a `switch` to it, or its child suspending, returning or throwing
//! back to it) to the event that takes control away; it is suspended from
//! its `suspend` (or its `switch` away) to the `resume` (or `switch`) that
//! continues it, or to the end of the recording if nothing does. Time
//! between `cont.new` and the first resume counts as neither. A
//! continuation waiting in a `resume` of its own (its child runs) is not
//! running and not suspended.

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_engine::vm::events::recorder::{RecordKind, Recorded, Recording};

use crate::Symbols;

/// The times of one continuation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContinuationTime {
    /// Its id.
    pub id: u64,
    /// Its entry function (`module!function`).
    pub entry: Arc<str>,
    /// Nanoseconds it executed.
    pub running_ns: u64,
    /// Nanoseconds it waited suspended.
    pub suspended_ns: u64,
    /// Times it was resumed or switched to.
    pub resumed: u64,
    /// The continuation that ran its `cont.new` (0: the host stack), if the
    /// recording saw it.
    pub created_by: Option<u64>,
}

/// The times of every continuation that takes part in a recording.
#[derive(Debug, Clone, Default)]
pub struct SwitchTimes {
    /// By id.
    pub continuations: Vec<ContinuationTime>,
    /// Nanoseconds the host stack executed between the first and the last
    /// event.
    pub host_running_ns: u64,
    /// Nanoseconds from the first event to the end of the recording.
    pub window_ns: u64,
    /// Events recorded in all.
    pub events_recorded: u64,
    /// Events the ring kept (the times cover these only).
    pub events_kept: usize,
}

/// Times added up over the continuations of one entry function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryTime {
    /// The entry function.
    pub entry: Arc<str>,
    /// How many continuations.
    pub continuations: usize,
    /// Nanoseconds they executed.
    pub running_ns: u64,
    /// Nanoseconds they waited suspended.
    pub suspended_ns: u64,
}

/// Who executes just before and just after `e`.
fn before_after(e: &Recorded) -> (u64, u64) {
    match e.kind {
        RecordKind::Create => (e.current, e.current),
        RecordKind::Resume | RecordKind::ResumeThrow => (e.current, e.cont),
        RecordKind::Suspend | RecordKind::Return | RecordKind::Throw => (e.cont, e.current),
        RecordKind::Switch => (e.cont, e.other),
    }
}

/// The times of continuation `id`, made on first use; named from `code`
/// (its entry function's address, 0: unknown) once known.
fn entry_of<'a>(
    by_id: &'a mut HashMap<u64, ContinuationTime>,
    symbols: &Symbols,
    id: u64,
    code: u64,
) -> &'a mut ContinuationTime {
    let c = by_id.entry(id).or_insert_with(|| ContinuationTime {
        id,
        entry: Arc::from(""),
        running_ns: 0,
        suspended_ns: 0,
        resumed: 0,
        created_by: None,
    });
    if c.entry.is_empty() && code != 0 {
        c.entry = symbols.entry_name(code);
    }
    c
}

impl SwitchTimes {
    /// The times in `recording`, entry functions named by `symbols`.
    pub fn measure(recording: &Recording, symbols: &Symbols) -> SwitchTimes {
        let events = &recording.events;
        let mut by_id: HashMap<u64, ContinuationTime> = HashMap::new();
        let mut host_running_ns = 0;
        let Some(first) = events.first() else {
            return SwitchTimes {
                events_recorded: recording.total,
                ..SwitchTimes::default()
            };
        };
        let end = recording.duration_ns.max(events.last().map_or(0, |e| e.ns));
        let mut executing = before_after(first).0;
        let mut since = first.ns;
        let mut suspended_at: HashMap<u64, u64> = HashMap::new();
        for e in events {
            match e.kind {
                RecordKind::Create => {
                    entry_of(&mut by_id, symbols, e.cont, e.entry_code).created_by = Some(e.current)
                }
                RecordKind::Suspend => {
                    entry_of(&mut by_id, symbols, e.cont, e.entry_code);
                    suspended_at.insert(e.cont, e.ns);
                }
                RecordKind::Switch => {
                    entry_of(&mut by_id, symbols, e.cont, e.entry_code);
                    suspended_at.insert(e.cont, e.ns);
                }
                _ => {
                    entry_of(&mut by_id, symbols, e.cont, e.entry_code);
                }
            }
            let woken = match e.kind {
                RecordKind::Resume | RecordKind::ResumeThrow => Some(e.cont),
                RecordKind::Switch => Some(e.other),
                _ => None,
            };
            if let Some(w) = woken {
                let c = entry_of(&mut by_id, symbols, w, 0);
                c.resumed += 1;
                if let Some(at) = suspended_at.remove(&w) {
                    c.suspended_ns += e.ns.saturating_sub(at);
                }
            }
            let (_, after) = before_after(e);
            if after != executing {
                let ran = e.ns.saturating_sub(since);
                if executing == 0 {
                    host_running_ns += ran;
                } else {
                    entry_of(&mut by_id, symbols, executing, 0).running_ns += ran;
                }
                executing = after;
                since = e.ns;
            }
        }
        let ran = end.saturating_sub(since);
        if executing == 0 {
            host_running_ns += ran;
        } else {
            entry_of(&mut by_id, symbols, executing, 0).running_ns += ran;
        }
        for (id, at) in suspended_at {
            entry_of(&mut by_id, symbols, id, 0).suspended_ns += end.saturating_sub(at);
        }
        let mut continuations: Vec<ContinuationTime> = by_id.into_values().collect();
        continuations.sort_by_key(|c| c.id);
        for c in &mut continuations {
            if c.entry.is_empty() {
                c.entry = Arc::from(format!("#{}", c.id));
            }
        }
        SwitchTimes {
            continuations,
            host_running_ns,
            window_ns: end.saturating_sub(first.ns),
            events_recorded: recording.total,
            events_kept: events.len(),
        }
    }

    /// The times added up by entry function, most suspended first.
    pub fn by_entry(&self) -> Vec<EntryTime> {
        let mut by: HashMap<&Arc<str>, EntryTime> = HashMap::new();
        for c in &self.continuations {
            let e = by.entry(&c.entry).or_insert_with(|| EntryTime {
                entry: c.entry.clone(),
                continuations: 0,
                running_ns: 0,
                suspended_ns: 0,
            });
            e.continuations += 1;
            e.running_ns += c.running_ns;
            e.suspended_ns += c.suspended_ns;
        }
        let mut list: Vec<EntryTime> = by.into_values().collect();
        list.sort_by(|a, b| {
            (b.suspended_ns, b.running_ns, &a.entry).cmp(&(a.suspended_ns, a.running_ns, &b.entry))
        });
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(ns: u64, kind: RecordKind, cont: u64, other: u64, current: u64) -> Recorded {
        Recorded {
            ns,
            kind,
            cont,
            other,
            current,
            entry_code: 0,
            tag: None,
        }
    }

    #[test]
    fn running_and_suspended_time_follow_the_events() {
        use RecordKind::*;
        // Host makes #1 and #2; #1 runs 10, waits 30 (of which #2 runs
        // 20 and the host 10), runs 5, returns; #2 stays suspended to
        // the end (100).
        let events = vec![
            event(0, Create, 1, 0, 0),
            event(0, Create, 2, 0, 0),
            event(10, Resume, 1, 0, 0),
            event(20, Suspend, 1, 0, 0),
            event(30, Resume, 2, 0, 0),
            event(50, Suspend, 2, 0, 0),
            event(50, Resume, 1, 0, 0),
            event(55, Return, 1, 0, 0),
        ];
        let recording = Recording {
            events,
            total: 8,
            capacity: 16,
            duration_ns: 100,
            clock: "monotonic",
        };
        let symbols = Symbols::new(Vec::new(), (0, 0));
        let t = SwitchTimes::measure(&recording, &symbols);
        let get = |id| t.continuations.iter().find(|c| c.id == id).unwrap();
        assert_eq!(get(1).running_ns, 15);
        assert_eq!(get(1).suspended_ns, 30);
        assert_eq!(get(1).resumed, 2);
        assert_eq!(get(1).created_by, Some(0));
        assert_eq!(get(2).running_ns, 20);
        assert_eq!(get(2).suspended_ns, 50);
        assert_eq!(t.host_running_ns, 10 + 10 + 45);
        assert_eq!(t.window_ns, 100);
        let by = t.by_entry();
        assert_eq!(by.len(), 2);
        assert_eq!(by[0].suspended_ns, 50);
    }
}
