//! The backtrace pane: the selected continuation's logical backtrace
//! (or the trap's), innermost first, boundaries marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, inner, selected, window};
use crate::app::{App, Pane};
use crate::state::FrameLine;

/// The text lines of a backtrace.
pub fn lines(frames: &[FrameLine]) -> Vec<Line<'static>> {
    let mut n = 0;
    frames
        .iter()
        .map(|f| match f {
            FrameLine::Frame {
                function, position, ..
            } => {
                let mut spans = vec![
                    Span::raw(format!("{n:>3} ")),
                    Span::styled(function.clone(), Style::default().fg(Color::Cyan)),
                ];
                if let Some(p) = position {
                    // The file name is enough next to the source pane.
                    let file = p.file.rsplit('/').next().unwrap_or(&p.file);
                    spans.push(Span::raw(format!("  at {file}:{}", p.line)));
                }
                n += 1;
                Line::from(spans)
            }
            FrameLine::Boundary {
                id,
                entry,
                resumed_here,
            } => {
                let text = if *resumed_here {
                    format!("    -- #{id} ({entry}) was resumed here")
                } else {
                    format!("    -- bottom of #{id} ({entry})")
                };
                Line::styled(text, Style::default().fg(Color::Magenta))
            }
            FrameLine::HostEntry => Line::styled(
                "    -- entered from the host",
                Style::default().fg(Color::DarkGray),
            ),
            FrameLine::Note { text } => Line::styled(
                format!("    -- {text}"),
                Style::default().fg(Color::DarkGray),
            ),
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
