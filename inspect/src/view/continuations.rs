//! The continuations pane: the trap, the running chain as a tree from the
//! host entry, then the parked continuations.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, inner, selected, window};
use crate::app::{App, Item, Pane};
use crate::state::Cont;

/// "12.0K" for a byte count.
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 10 && bytes.is_multiple_of(1 << 10) {
        if bytes.is_multiple_of(1 << 20) {
            format!("{}M", bytes >> 20)
        } else {
            format!("{}K", bytes >> 10)
        }
    } else if bytes >= 1 << 20 {
        format!("{:.1}M", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1}K", bytes as f64 / 1024.0)
    } else {
        format!("{bytes}")
    }
}

fn state_color(state: &str) -> Color {
    match state {
        "running" => Color::Green,
        "suspended" => Color::Yellow,
        "fresh" => Color::Blue,
        _ => Color::Reset,
    }
}

/// The text of one continuation's line.
pub fn describe(c: &Cont, depth: usize) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let indent = if depth == 0 {
        String::new()
    } else {
        format!("{}└ ", "  ".repeat(depth - 1))
    };
    spans.push(Span::raw(indent));
    if c.id == 0 {
        spans.push(Span::raw("host entry"));
        return spans;
    }
    spans.push(Span::raw(format!("{:<4} ", c.label())));
    spans.push(Span::styled(
        format!("{:<9} ", c.state),
        Style::default().fg(state_color(&c.state)),
    ));
    spans.push(Span::raw(c.title().to_string()));
    if let Some(tag) = &c.tag {
        spans.push(Span::raw(format!(" on {tag}")));
    }
    spans.push(Span::raw(format!(" r{} s{}", c.resumes, c.switches)));
    if c.stack_size > 0 {
        spans.push(Span::raw(format!(
            " {}/{}",
            size(c.stack_used),
            size(c.stack_size)
        )));
    }
    if let Some(site) = &c.created {
        spans.push(Span::styled(
            format!(" ← {site}"),
            Style::default().fg(Color::DarkGray),
        ));
    }
    spans
}

/// The widest line the pane would show, in columns (without borders).
pub fn widest(app: &App) -> usize {
    let chain = app.state.picture.chain();
    let trap = app
        .state
        .picture
        .trap
        .as_ref()
        .map_or(0, |t| t.message.chars().count());
    app.state
        .picture
        .conts
        .iter()
        .map(|c| {
            // Running ones are indented by their depth, parked ones by 2.
            let depth = chain.iter().position(|id| *id == c.id);
            let indent = depth.map_or(2, |d| 2 * d + 2);
            // The creation site at a row's end is the one part a narrow
            // pane may cut: it does not widen the pane at the expense of
            // the backtrace beside it.
            let site = c.created.as_ref().map_or(0, |s| 3 + s.chars().count());
            let text: usize = describe(c, 0).iter().map(|s| s.width()).sum();
            indent + text - site
        })
        .max()
        .unwrap_or(0)
        .max(trap)
}

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let picture = &app.state.picture;
    let chain = picture.chain();
    let mut lines: Vec<Line> = Vec::new();
    let mut parked_heading = false;
    let sizes = app.folded_sizes();
    for (pos, item) in app.items().iter().enumerate() {
        let mut spans = match item {
            Item::Trap => vec![Span::styled(
                picture
                    .trap
                    .as_ref()
                    .map_or(String::new(), |t| t.message.clone()),
                Style::default().fg(Color::Red),
            )],
            Item::Cont(i) => {
                let c = &picture.conts[*i];
                match chain.iter().position(|id| *id == c.id) {
                    Some(depth) => {
                        let has_host = chain.first() == Some(&0);
                        describe(c, if has_host { depth } else { depth + 1 })
                    }
                    None => {
                        if !parked_heading {
                            parked_heading = true;
                            lines.push(Line::styled(
                                "not running:",
                                Style::default().fg(Color::DarkGray),
                            ));
                        }
                        let mut s = vec![Span::raw("  ")];
                        let n = sizes.get(i).copied().unwrap_or(1);
                        if n > 1 {
                            s.push(Span::styled(
                                format!("{n}× "),
                                Style::default().fg(Color::Cyan),
                            ));
                        }
                        s.extend(describe(c, 0));
                        s
                    }
                }
            }
        };
        if pos == app.selected {
            spans = spans
                .into_iter()
                .map(|s| {
                    let style = s.style.patch(selected());
                    s.style(style)
                })
                .collect();
        }
        lines.push(Line::from(spans));
    }
    if lines.is_empty() {
        lines.push(Line::raw("(no continuation yet)"));
    }
    let height = inner(area).height as usize;
    // Keep the selection in view (the heading line shifts it by one).
    let top = window(
        app.selected + usize::from(parked_heading),
        lines.len(),
        height,
    );
    let live = picture.conts.iter().filter(|c| c.id != 0).count();
    let title = format!("Continuations ({live} live)");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block(title, app, Some(Pane::Conts)))
            .scroll((top as u16, 0)),
        area,
    );
}
