//! Drawing: one pane per file, laid out here. Views only read the
//! [`App`]; nothing here changes it.

mod backtrace;
mod continuations;
mod events;
mod help;
mod output;
pub mod source;
mod status;

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::{App, Pane};

/// The smallest terminal the panes fit in.
pub const MIN_WIDTH: u16 = 80;
/// The smallest terminal height.
pub const MIN_HEIGHT: u16 = 20;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "The terminal is too small for the inspector: {}x{}, it needs at least {MIN_WIDTH}x{MIN_HEIGHT}. Enlarge it, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Percentage(50),
            Constraint::Min(6),
            Constraint::Length(6),
            Constraint::Length(1),
        ])
        .split(area);
    // The list and the event log take the width their rows need, within
    // bounds, so that a wide terminal shows whole rows instead of cutting
    // them at a fixed half.
    let conts = share(area.width, continuations::widest(app), 50, 70);
    let top = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Length(conts), Constraint::Min(0)])
        .split(rows[0]);
    let log = share(area.width, events::widest(app), 45, 60);
    let middle = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Min(0), Constraint::Length(log)])
        .split(rows[1]);
    continuations::draw(frame, top[0], app);
    backtrace::draw(frame, top[1], app);
    source::draw(frame, middle[0], app);
    events::draw(frame, middle[1], app);
    output::draw(frame, rows[2], app);
    status::draw(frame, rows[3], app);
    if app.help {
        help::draw(frame, area);
    }
}

/// The width of a pane whose widest row is `widest` columns: at least
/// `min_percent` of `total`, more if its rows need it, at most
/// `max_percent`.
fn share(total: u16, widest: usize, min_percent: u16, max_percent: u16) -> u16 {
    let part = |percent: u16| (u32::from(total) * u32::from(percent) / 100) as u16;
    let wanted = u16::try_from(widest.saturating_add(2)).unwrap_or(u16::MAX);
    wanted.clamp(part(min_percent), part(max_percent))
}

/// A bordered block titled `title`, highlighted when `pane` has the focus.
fn block<'a>(title: String, app: &App, pane: Option<Pane>) -> Block<'a> {
    let focused = pane.is_some_and(|p| p == app.focus);
    let style = if focused {
        Style::default()
            .fg(Color::Cyan)
            .add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    Block::default()
        .borders(Borders::ALL)
        .border_style(style)
        .title(Line::styled(format!(" {title} "), style))
}

/// Style of a selected line.
fn selected() -> Style {
    Style::default().add_modifier(Modifier::REVERSED)
}

/// The first line of a window of `height` lines that keeps `cursor`
/// visible in `len` lines.
fn window(cursor: usize, len: usize, height: usize) -> usize {
    if height == 0 || len <= height {
        return 0;
    }
    cursor.saturating_sub(height / 2).min(len - height)
}

/// The inner rectangle of a bordered block.
fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}
