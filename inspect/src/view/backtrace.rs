//! The backtrace pane: the selected continuation's logical backtrace
//! (or the trap's), innermost first, boundaries marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, inner, selected, window};
use crate::app::{App, Pane};
use crate::state::Frame as BacktraceFrame;

/// The text lines of a backtrace, one per frame (so that a line's index
/// is its frame's): the terminal's compact form of the one text printer's
/// lines (`switchyard_frames::text`).
pub fn lines(frames: &[BacktraceFrame]) -> Vec<Line<'static>> {
    let note = |text: String| Line::styled(text, Style::default().fg(Color::DarkGray));
    let mut n = 0;
    frames
        .iter()
        .map(|f| match f {
            BacktraceFrame::Wasm(w) => {
                let mut spans = vec![
                    Span::raw(format!("{n:>3} ")),
                    Span::styled(w.qualified_name(), Style::default().fg(Color::Cyan)),
                ];
                if let Some(p) = w.locations.first() {
                    // The file name is enough next to the source pane.
                    let file = p.file.rsplit('/').next().unwrap_or(&p.file);
                    let line = p.line.unwrap_or(0);
                    spans.push(Span::raw(format!("  at {file}:{line}")));
                }
                n += 1;
                Line::from(spans)
            }
            BacktraceFrame::Host(h) => {
                n += 1;
                let name = h.symbol.as_deref().unwrap_or("<host or glue code>");
                note(format!("{:>3} {:#x} {name}", n - 1, h.pc))
            }
            BacktraceFrame::Boundary(b) => {
                let (id, entry) = (b.continuation, &b.entry);
                let text = if b.resumed_here {
                    format!("    -- #{id} ({entry}) was resumed here")
                } else {
                    format!("    -- bottom of #{id} ({entry})")
                };
                Line::styled(text, Style::default().fg(Color::Magenta))
            }
            BacktraceFrame::HostEntry => note("    -- entered from the host".into()),
            BacktraceFrame::Truncated { reason } => note(format!("    -- walk ended: {reason}")),
            BacktraceFrame::Skipped { frames } => {
                n += frames;
                note(format!("    -- {frames} more frames"))
            }
        })
        .collect()
}

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let (what, frames) = app.backtrace();
    let mut text = lines(frames);
    if let Some(line) = text.get_mut(app.frame) {
        let style = line.style.patch(selected());
        *line = line.clone().style(style);
    }
    if text.is_empty() {
        let empty = match app.selected_cont() {
            Some(c) if c.state == "fresh" => "(not started)",
            _ => "(no frames)",
        };
        text.push(Line::raw(empty));
    }
    let top = window(app.frame, text.len(), inner(area).height as usize);
    let title = if what.is_empty() {
        "Backtrace".to_string()
    } else {
        format!("Backtrace of {what}")
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(block(title, app, Some(Pane::Backtrace)))
            .scroll((top as u16, 0)),
        area,
    );
}
