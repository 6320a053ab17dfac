//! Printing stacks read through the registry: every live continuation of a
//! process (ours after a trap, another one for `switchyard bt`), grouped
//! when their stacks are identical, and the continuations a program left
//! unfinished (leaks).

use std::fmt::Write;

use switchyard_frames::text;
use switchyard_unwind::groups::{group_by_creation, group_parked, id_list, state_summary};
use switchyard_unwind::registry::{Snapshot, StackRecord, State};
use switchyard_unwind::report::{ContinuationInfo, Sources, report_parked};
use switchyard_unwind::{CfiUnwinder, Limits, Memory, Step};

use crate::output::Style;

/// Where the registry of this process is.
pub fn own_registry() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}

/// How to list parked continuations.
#[derive(Clone, Copy)]
pub struct Listing<'a> {
    /// Also glue and host frames.
    pub full: bool,
    /// Group continuations whose stacks are identical.
    pub group: bool,
    /// `run --trace-creation`: each continuation's whole logical stack at
    /// creation, by id (named, with source locations).
    pub creation: Option<Creation<'a>>,
}

/// The creation stack of a continuation by id (`run --trace-creation`,
/// kept by this process's store; other processes' are not readable).
pub type Creation<'a> = &'a dyn Fn(u64) -> Option<Vec<switchyard_frames::Frame>>;

/// Splits each group of `ids` (indexes into `id_of`) into runs whose
/// creation stacks are identical, keeping the order of first members.
fn split_by_creation(
    blocks: Vec<Vec<usize>>,
    id_of: impl Fn(usize) -> u64,
    creation: Creation<'_>,
) -> Vec<(Vec<usize>, Option<Vec<switchyard_frames::Frame>>)> {
    let mut out = Vec::new();
    for members in blocks {
        let mut parts: Vec<(Vec<usize>, Option<Vec<switchyard_frames::Frame>>)> = Vec::new();
        for m in members {
            let stack = creation(id_of(m));
            match parts.iter_mut().find(|(_, s)| *s == stack) {
                Some((ids, _)) => ids.push(m),
                None => parts.push((vec![m], stack)),
            }
        }
        out.extend(parts);
    }
    out
}

/// The lines of a creation stack under a continuation or a group.
fn write_creation_stack(
    out: &mut String,
    stack: Option<&[switchyard_frames::Frame]>,
    options: text::Options,
    style: &Style,
) {
    match stack {
        Some(frames) => {
            let _ = writeln!(out, "  created at (--trace-creation):");
            text::write(out, frames, options, style);
        }
        None => {
            let _ = writeln!(out, "  (creation stack not kept)");
        }
    }
}

/// Every live continuation that is not running (suspended or fresh), with
/// its stack, as a Go traceback prints all goroutines: grouped, a summary
/// by state first.
pub fn format_parked(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    full: bool,
    creation: Option<Creation<'_>>,
    style: &Style,
) -> String {
    let sources = Sources::new(memory);
    let limits = Limits {
        max_frames: 10_000,
        host_frames: false,
    };
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    let parked = report_parked(memory, snapshot, &cfi, limits);
    if parked.is_empty() {
        return String::new();
    }
    let listing = Listing {
        full,
        group: true,
        creation,
    };
    format!(
        "\n{}\n{}",
        summary(snapshot),
        format_list(&sources, snapshot, &parked, listing, style)
    )
}

/// `1203 continuations: 1200 suspended, 2 fresh, 1 running`.
pub fn summary(snapshot: &Snapshot) -> String {
    state_summary(snapshot.stores.iter().flat_map(|s| &s.records))
}

/// The parked continuations `parked`, one block each or one per group of
/// identical stacks (largest first), each with its stack.
pub fn format_list(
    sources: &Sources<'_>,
    snapshot: &Snapshot,
    parked: &[(&StackRecord, Vec<Step>)],
    listing: Listing<'_>,
    style: &Style,
) -> String {
    let mut out = String::new();
    let options = text::Options { full: listing.full };
    let blocks: Vec<Vec<usize>> = if listing.group {
        group_parked(snapshot, parked, &|r| sources.fresh_body(snapshot, r))
            .into_iter()
            .map(|g| g.members)
            .collect()
    } else {
        (0..parked.len()).map(|i| vec![i]).collect()
    };
    // With creation stacks, a group also shares its creation stack.
    let blocks: Vec<(Vec<usize>, Option<Vec<switchyard_frames::Frame>>)> = match listing.creation {
        Some(creation) => split_by_creation(blocks, |i| parked[i].0.id, creation),
        None => blocks.into_iter().map(|b| (b, None)).collect(),
    };
    for (members, creation_stack) in blocks {
        let (r, steps) = &parked[members[0]];
        let info = sources.describe_continuation(snapshot, r, steps);
        let heading = if members.len() == 1 {
            let mut line = info.line();
            line.push_str(&format!(
                ", resumed {} times, switched {} times",
                r.resumes, r.switches
            ));
            line
        } else {
            group_heading(&info, &members, parked, snapshot.clock)
        };
        let _ = writeln!(out, "{}", style.boundary(&heading));
        if r.state == State::Fresh {
            // Named by what its entry will call: say the entry too.
            if info.name == info.entry {
                let _ = writeln!(out, "  (not started)");
            } else {
                let _ = writeln!(out, "  (not started, entry {})", info.entry);
            }
        } else {
            text::write(&mut out, &sources.frames(snapshot, steps), options, style);
        }
        if listing.creation.is_some() {
            write_creation_stack(&mut out, creation_stack.as_deref(), options, style);
        }
    }
    out
}

/// A continuation that is not running, in the JSON outputs (`bt --format
/// json` and the trap report's `continuations`;
/// `docs/schema/switchyard.schema.json`, `continuation`): who it is, where
/// it was created and what it waits for, with its frames (source lines and
/// offsets as the text form has them).
#[derive(serde::Serialize)]
pub struct ContinuationJson {
    #[serde(flatten)]
    info: ContinuationInfo,
    resumes: u64,
    switches: u64,
    stack: [u64; 2],
    frames: Vec<switchyard_frames::Frame>,
    /// `run --trace-creation`: the whole logical stack at its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    creation_stack: Option<Vec<switchyard_frames::Frame>>,
}

impl ContinuationJson {
    /// The JSON of record `r`, whose stack walked to `steps`.
    pub fn new(
        sources: &Sources<'_>,
        snapshot: &Snapshot,
        r: &StackRecord,
        steps: &[Step],
    ) -> Self {
        ContinuationJson {
            info: sources.describe_continuation(snapshot, r, steps),
            resumes: r.resumes,
            switches: r.switches,
            stack: [r.stack_low, r.stack_high],
            frames: sources.frames(snapshot, steps),
            creation_stack: None,
        }
    }

    /// With its creation stack (`run --trace-creation`).
    pub fn with_creation_stack(mut self, creation: Option<Creation<'_>>) -> Self {
        self.creation_stack = creation.and_then(|c| c(self.info.id));
        self
    }
}

/// Every live continuation that is not running, with its frames.
pub fn parked_json(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    creation: Option<Creation<'_>>,
) -> Vec<ContinuationJson> {
    let sources = Sources::new(memory);
    let limits = Limits {
        max_frames: 10_000,
        host_frames: false,
    };
    let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
    report_parked(memory, snapshot, &cfi, limits)
        .into_iter()
        .map(|(r, steps)| {
            ContinuationJson::new(&sources, snapshot, r, &steps).with_creation_stack(creation)
        })
        .collect()
}

/// `10000 continuations green!worker suspended on $yield for 2-40 ms,
/// created by spawn at sched.c:41 in #0: #12 #13 #14 … #10011`.
fn group_heading(
    info: &ContinuationInfo,
    members: &[usize],
    parked: &[(&StackRecord, Vec<Step>)],
    clock: u64,
) -> String {
    let ids: Vec<u64> = members.iter().map(|&i| parked[i].0.id).collect();
    let mut out = format!("{} continuations {} {}", ids.len(), info.name, info.state);
    if info.state == "suspended" {
        if let Some(tag) = &info.waiting_on {
            out.push_str(&format!(" on {tag}"));
        }
        let waits = members.iter().map(|&i| &parked[i].0);
        let (low, high) = waits.fold((u64::MAX, 0), |(lo, hi), r| {
            let w = r.waited_ns(clock) / 1_000_000;
            (lo.min(w), hi.max(w))
        });
        if low == high {
            out.push_str(&format!(" for {high} ms"));
        } else {
            out.push_str(&format!(" for {low}-{high} ms"));
        }
        if let Some(c) = &info.caught {
            out.push_str(&format!(", caught by {} in #{}", c.site, c.continuation));
        }
    }
    out.push_str(&info.created_text());
    out.push_str(&format!(": {}", id_list(&ids)));
    out
}

/// Continuations never finished, grouped by creation site (largest group
/// first; with `creation`, by whole creation stack, printed under each
/// group), and those suspended longer than `warn_suspended_ms`: empty when
/// there are none.
pub fn format_leaks(
    memory: &dyn Memory,
    snapshot: &Snapshot,
    warn_suspended_ms: Option<u64>,
    creation: Option<Creation<'_>>,
) -> String {
    let sources = Sources::new(memory);
    let mut live: Vec<&StackRecord> = snapshot
        .stores
        .iter()
        .flat_map(|s| &s.records)
        .filter(|r| matches!(r.state, State::Fresh | State::Suspended))
        .collect();
    live.sort_by_key(|r| r.id);
    let mut out = String::new();
    if !live.is_empty() {
        let _ = writeln!(
            out,
            "{} never finished, by creation site:",
            plural(live.len(), "continuation")
        );
        let groups: Vec<(Vec<&StackRecord>, Option<Vec<switchyard_frames::Frame>>)> = match creation
        {
            Some(creation) => group_by_creation(snapshot, &live)
                .into_iter()
                .flat_map(|group| {
                    let ids: Vec<usize> = (0..group.len()).collect();
                    split_by_creation(vec![ids], |i| group[i].id, creation)
                        .into_iter()
                        .map(|(members, stack)| {
                            (members.iter().map(|&i| group[i]).collect(), stack)
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            None => group_by_creation(snapshot, &live)
                .into_iter()
                .map(|g| (g, None))
                .collect(),
        };
        for (group, creation_stack) in groups {
            let first = group[0];
            let site = sources
                .creation_site(snapshot, first)
                .unwrap_or_else(|| "an unknown site".into());
            let ids: Vec<u64> = group.iter().map(|r| r.id).collect();
            let states = state_summary(group.iter().copied());
            let states = states.split_once(": ").map_or("", |(_, s)| s);
            let _ = writeln!(
                out,
                "  {} created by {site} in #{} ({states}): {}",
                ids.len(),
                first.created_by,
                id_list(&ids)
            );
            if creation.is_some() {
                let mut lines = String::new();
                write_creation_stack(
                    &mut lines,
                    creation_stack.as_deref(),
                    text::Options::default(),
                    &Style::for_stderr(),
                );
                for line in lines.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
    }
    if let Some(limit) = warn_suspended_ms {
        let late: Vec<&&StackRecord> = live
            .iter()
            .filter(|r| {
                r.state == State::Suspended
                    && r.waited_ns(snapshot.clock) / 1_000_000 >= limit
                    && snapshot.clock != 0
            })
            .collect();
        if !late.is_empty() {
            let _ = writeln!(
                out,
                "{} suspended for {limit} ms or longer:",
                plural(late.len(), "continuation")
            );
            let cfi = CfiUnwinder::for_generated_code(memory, snapshot);
            let limits = Limits {
                max_frames: 10_000,
                host_frames: false,
            };
            for r in late {
                let steps =
                    switchyard_unwind::walk_suspended_with(memory, snapshot, &cfi, r, limits);
                let info = sources.describe_continuation(snapshot, r, &steps);
                let _ = writeln!(out, "  {}", info.line());
            }
        }
    }
    out
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
