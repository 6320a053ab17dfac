//! The program's own stdout and stderr, last lines.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner};
use crate::app::App;

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let height = inner(area).height as usize;
    let all: Vec<&str> = app.state.output.lines().collect();
    let lines: Vec<Line> = all[all.len().saturating_sub(height)..]
        .iter()
        .map(|l| Line::raw(l.replace('\t', "    ")))
        .collect();
    frame.render_widget(
        Paragraph::new(lines).block(block("Program output".into(), app, None)),
        area,
    );
}
