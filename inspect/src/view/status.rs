//! The status line: mode, program, break points, key hints, or an open
//! prompt, or a message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::App;
use crate::state::SourceKind;

/// Draws the line.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let mode = Span::styled(
        format!(" {} ", app.mode_text()),
        Style::default()
            .fg(Color::Black)
            .bg(Color::Cyan)
            .add_modifier(Modifier::BOLD),
    );
    let rest = if let Some(p) = &app.prompt {
        format!(" {}: {}_  (Enter, Esc)", p.ask.label(), p.text)
    } else if let Some(m) = &app.message {
        format!(" {m}")
    } else {
        let mut s = format!(" {}", app.state.program);
        if !app.state.breaks.is_empty() {
            s.push_str(&format!(" | break: {}", app.state.breaks.join(", ")));
        }
        let keys = match app.state.source {
            SourceKind::Live => {
                " | n step  N step n  c run  p pause  b break  g go  / find  ? help  q quit"
            }
            _ => " | g go  / find  ? help  q quit",
        };
        s.push_str(keys);
        s
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![mode, Span::raw(rest)])),
        area,
    );
}
