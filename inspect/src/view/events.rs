//! The event log: switch events, newest last, with continuation ids.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner, selected};
use crate::app::{App, Pane};

/// The widest line the pane would show, in columns (without borders).
pub fn widest(app: &App) -> usize {
    let digits = app.state.total_events.to_string().len().max(5);
    app.state
        .events
        .iter()
        .map(|e| digits + 1 + e.describe().chars().count())
        .max()
        .unwrap_or(0)
}

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let events = &app.state.events;
    let height = inner(area).height as usize;
    let end = events.len().saturating_sub(app.events_back);
    let start = end.saturating_sub(height);
    // The number column is as wide as the largest number shown, so that
    // millions of events still line up.
    let digits = events
        .iter()
        .skip(start)
        .take(end - start)
        .map(|e| e.seq.to_string().len())
        .max()
        .unwrap_or(0)
        .max(5);
    let lines: Vec<Line> = events
        .iter()
        .skip(start)
        .take(end - start)
        .enumerate()
        .map(|(k, e)| {
            let text = format!("{:>digits$} {}", e.seq, e.describe());
            let newest = start + k + 1 == end;
            let style = match e.kind.as_str() {
                "trap" | "throw" => Style::default().fg(Color::Red),
                "suspend" | "switch" => Style::default().fg(Color::Yellow),
                _ => Style::default(),
            };
            if newest {
                Line::styled(text, style.patch(selected()))
            } else {
                Line::styled(text, style)
            }
        })
        .collect();
    let title = format!("Events ({} in all)", app.state.total_events);
    frame.render_widget(
        Paragraph::new(lines).block(block(title, app, Some(Pane::Events))),
        area,
    );
}
