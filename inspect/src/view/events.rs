//! The event log: switch events, newest last, with continuation ids.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner, selected};
use crate::app::{App, Pane};

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let events = &app.state.events;
    let height = inner(area).height as usize;
    let end = events.len().saturating_sub(app.events_back);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = events
        .iter()
        .skip(start)
        .take(end - start)
        .enumerate()
        .map(|(k, e)| {
            let text = format!("{:>5} {}", e.seq, e.describe());
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
