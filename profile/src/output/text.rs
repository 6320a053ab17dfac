//! The text summary: top functions by self and total samples, and time per
//! continuation.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use crate::{Profile, frame_name};

const TOP: usize = 15;

fn percent(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

/// The summary as text.
pub fn summary(profile: &Profile) -> String {
    let mut out = String::new();
    let total = profile.samples.len() as u64;
    let _ = writeln!(
        out,
        "{total} samples at {} Hz over {:.3} s",
        profile.hz,
        profile.duration_ns as f64 / 1e9
    );
    if profile.outside_wasm > 0 {
        let _ = writeln!(
            out,
            "left out: {} samples outside Wasm (compiling, instantiating)",
            profile.outside_wasm
        );
    }
    if profile.dropped_full + profile.dropped_busy + profile.cut_depth > 0 {
        let _ = writeln!(
            out,
            "lost: {} (buffer full), {} (registry changing); {} stacks cut at the depth limit",
            profile.dropped_full, profile.dropped_busy, profile.cut_depth
        );
    }
    if total == 0 {
        return out;
    }

    // Functions: self = leaf frame, total = on the stack at all.
    let mut own: HashMap<Cow<str>, u64> = HashMap::new();
    let mut inclusive: HashMap<Cow<str>, u64> = HashMap::new();
    for s in &profile.samples {
        let frames = s.stack.iter().filter(|f| f.as_boundary().is_none());
        if let Some(leaf) = frames.clone().next_back() {
            *own.entry(frame_name(leaf)).or_default() += 1;
        }
        let distinct: HashSet<Cow<str>> = frames.map(frame_name).collect();
        for name in distinct {
            *inclusive.entry(name).or_default() += 1;
        }
    }
    let mut functions: Vec<_> = inclusive.iter().collect();
    functions.sort_by(|a, b| {
        let self_a = own.get(a.0).copied().unwrap_or(0);
        let self_b = own.get(b.0).copied().unwrap_or(0);
        (self_b, b.1, b.0).cmp(&(self_a, a.1, a.0))
    });
    let _ = writeln!(out, "\ntop functions:\n   self%  total%  function");
    for &(name, &n) in functions.iter().take(TOP) {
        let own = own.get(name).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "  {:5.1}%  {:5.1}%  {name}",
            percent(own, total),
            percent(n, total)
        );
    }

    // Source lines, when the modules have DWARF.
    let mut by_line: HashMap<&Arc<str>, u64> = HashMap::new();
    for s in &profile.samples {
        if let Some(line) = &s.line {
            *by_line.entry(line).or_default() += 1;
        }
    }
    if !by_line.is_empty() {
        let mut by_line: Vec<_> = by_line.into_iter().collect();
        by_line.sort_by(|a, b| (b.1, a.0).cmp(&(a.1, b.0)));
        let _ = writeln!(
            out,
            "\ntop source lines (of the innermost Wasm frame):\n  samples       %  line"
        );
        for (line, n) in by_line.iter().take(TOP) {
            let _ = writeln!(out, "  {n:7}  {:5.1}%  {line}", percent(*n, total));
        }
        let without = profile.samples.iter().filter(|s| s.line.is_none()).count() as u64;
        if without > 0 {
            let _ = writeln!(
                out,
                "  {without:7}  {:5.1}%  (no line: code before a function's first instruction, or no DWARF)",
                percent(without, total)
            );
        }
    }

    // Continuations: the innermost running one at each sample.
    struct Cont {
        entry: Arc<str>,
        samples: u64,
        switches: u64,
    }
    let mut conts: HashMap<u64, Cont> = HashMap::new();
    let mut on_host = 0;
    for s in &profile.samples {
        match &s.running {
            Some(r) => {
                let c = conts.entry(r.id).or_insert_with(|| Cont {
                    entry: r.entry.clone(),
                    samples: 0,
                    switches: 0,
                });
                c.samples += 1;
                c.switches = c.switches.max(s.switches);
            }
            None => on_host += 1,
        }
    }
    let mut list: Vec<_> = conts.iter().collect();
    list.sort_by(|a, b| (b.1.samples, a.0).cmp(&(a.1.samples, b.0)));
    let _ = writeln!(
        out,
        "\ntime per continuation (the innermost running one; switches: times it had been resumed or switched to or from, at its last sample):"
    );
    let _ = writeln!(
        out,
        "  samples       %        id  switches  name (what it runs)"
    );
    let _ = writeln!(
        out,
        "  {on_host:7}  {:5.1}%         -         -  (host stack, no continuation)",
        percent(on_host, total)
    );
    for (id, c) in list.iter().take(TOP) {
        let _ = writeln!(
            out,
            "  {:7}  {:5.1}%  {:>8}  {:>8}  {}",
            c.samples,
            percent(c.samples, total),
            format!("#{id}"),
            c.switches,
            c.entry
        );
    }
    if list.len() > TOP {
        let rest: u64 = list[TOP..].iter().map(|(_, c)| c.samples).sum();
        let _ = writeln!(
            out,
            "  {rest:7}  {:5.1}%  ({} more continuations)",
            percent(rest, total),
            list.len() - TOP
        );
    }
    // By name, for programs that make many short continuations.
    let mut by_entry: HashMap<&Arc<str>, (u64, usize)> = HashMap::new();
    for c in conts.values() {
        let e = by_entry.entry(&c.entry).or_default();
        e.0 += c.samples;
        e.1 += 1;
    }
    let mut by_entry: Vec<_> = by_entry.into_iter().collect();
    by_entry.sort_by(|a, b| (b.1.0, a.0).cmp(&(a.1.0, b.0)));
    let _ = writeln!(
        out,
        "\ntime per continuation name (what it runs, else its entry function):"
    );
    let _ = writeln!(out, "  samples       %  continuations  name");
    for (entry, (n, count)) in by_entry.iter().take(TOP) {
        let _ = writeln!(
            out,
            "  {n:7}  {:5.1}%  {count:>13}  {entry}",
            percent(*n, total)
        );
    }
    if let Some(times) = &profile.switch_times {
        off_cpu(&mut out, times);
    }
    out
}

/// Milliseconds, for the off-CPU table.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Running and suspended time by entry function, from the switch events.
fn off_cpu(out: &mut String, times: &crate::SwitchTimes) {
    let _ = writeln!(
        out,
        "
off-CPU: time running and suspended per continuation entry function, from {} switch events{} over {:.3} ms:",
        times.events_kept,
        if times.events_recorded > times.events_kept as u64 {
            format!(" (the last of {})", times.events_recorded)
        } else {
            String::new()
        },
        ms(times.window_ns)
    );
    let _ = writeln!(
        out,
        "  running ms  suspended ms  continuations  entry function"
    );
    let _ = writeln!(
        out,
        "  {:10.3}  {:>12}  {:>13}  (host stack)",
        ms(times.host_running_ns),
        "-",
        "-"
    );
    let by_entry = times.by_entry();
    for e in by_entry.iter().take(TOP) {
        let _ = writeln!(
            out,
            "  {:10.3}  {:12.3}  {:>13}  {}",
            ms(e.running_ns),
            ms(e.suspended_ns),
            e.continuations,
            e.entry
        );
    }
    if by_entry.len() > TOP {
        let _ = writeln!(out, "  ({} more entry functions)", by_entry.len() - TOP);
    }
}
