//! Folded stacks and the flame graph drawn from them.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::{Profile, frame_name};

/// Folded stacks: `root;...;leaf COUNT`, one line per distinct stack,
/// sorted. Frame names never contain `;` (replaced by `,`).
pub fn folded(profile: &Profile) -> String {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for s in &profile.samples {
        let mut line = String::new();
        if s.incomplete {
            line.push_str("[incomplete stack]");
        }
        for f in &s.stack {
            if !line.is_empty() {
                line.push(';');
            }
            line.push_str(&frame_name(f).replace(';', ","));
        }
        *counts.entry(line).or_default() += 1;
    }
    let mut out = String::new();
    for (stack, n) in counts {
        out.push_str(&stack);
        out.push(' ');
        out.push_str(&n.to_string());
        out.push('\n');
    }
    out
}

/// A flame graph of the folded stacks (inferno), or an error when there is
/// no sample to draw.
pub fn flame_graph_svg(profile: &Profile, out: &mut dyn Write) -> io::Result<()> {
    let folded = folded(profile);
    if folded.is_empty() {
        return Err(io::Error::other("no samples to draw"));
    }
    let mut options = inferno::flamegraph::Options::default();
    options.title = "switchyard profile".to_string();
    options.subtitle = Some(format!(
        "{} samples at {} Hz; frames [continuation F] mark where a continuation (created from F) was resumed",
        profile.samples.len(),
        profile.hz
    ));
    options.count_name = "samples".to_string();
    inferno::flamegraph::from_lines(&mut options, folded.lines(), out)
}
