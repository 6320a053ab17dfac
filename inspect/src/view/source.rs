//! The source pane: the selected frame's source line, from the file its
//! DWARF names when that file exists; else, for a text module, the
//! function's definition in the WAT file.

use std::path::{Path, PathBuf};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner, selected, window};
use crate::app::App;
use crate::state::FrameLine;

/// What to show: a file, its lines, and the line to highlight (1-based).
pub struct Listing {
    /// The file shown.
    pub path: PathBuf,
    /// Its lines.
    pub lines: Vec<String>,
    /// The line to highlight.
    pub line: usize,
    /// Why this line: "line 12" or "definition of $gen".
    pub what: String,
}

/// The listing for the selected frame, or why there is none.
pub fn listing(app: &App) -> Result<Listing, String> {
    let Some(FrameLine::Frame { function, position }) = app.selected_frame() else {
        return Err("select a frame to see its source".into());
    };
    if let Some(p) = position {
        let path = Path::new(&p.file);
        if let Ok(text) = std::fs::read_to_string(path) {
            return Ok(Listing {
                path: path.to_path_buf(),
                lines: text.lines().map(str::to_string).collect(),
                line: p.line as usize,
                what: format!("line {}", p.line),
            });
        }
    }
    // The text file of the frame's module: the one named like the module,
    // else the only text file given.
    let (module, name) = function.split_once('!').unwrap_or(("", function));
    let is_text = |p: &&PathBuf| p.extension().is_some_and(|e| e == "wat" || e == "wast");
    let texts: Vec<&PathBuf> = app.state.source_files.iter().filter(is_text).collect();
    let wat = texts
        .iter()
        .find(|p| p.file_stem().is_some_and(|s| s == module))
        .or(if texts.len() == 1 {
            texts.first()
        } else {
            None
        });
    let Some(wat) = wat else {
        return Err(match position {
            Some(p) => format!("{} is not readable here", p.file),
            None => "no source: the module has no DWARF and is not a text file".into(),
        });
    };
    let text = std::fs::read_to_string(wat).map_err(|e| format!("{}: {e}", wat.display()))?;
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    let pattern = format!("(func ${name}");
    let line = lines
        .iter()
        .position(|l| {
            l.find(&pattern).is_some_and(|i| {
                let rest = &l[i + pattern.len()..];
                rest.is_empty() || rest.starts_with([' ', ')'])
            })
        })
        .map(|i| i + 1)
        .ok_or_else(|| format!("${name} is not defined by name in {}", wat.display()))?;
    Ok(Listing {
        path: (*wat).clone(),
        lines,
        line,
        what: format!("definition of ${name}"),
    })
}

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let height = inner(area).height as usize;
    let (title, text) = match listing(app) {
        Ok(l) => {
            let top = window(l.line.saturating_sub(1), l.lines.len(), height);
            let lines: Vec<Line> = l
                .lines
                .iter()
                .enumerate()
                .skip(top)
                .take(height)
                .map(|(i, s)| {
                    let text = format!("{:>4} {}", i + 1, s.replace('\t', "    "));
                    if i + 1 == l.line {
                        Line::styled(text, selected())
                    } else {
                        Line::raw(text)
                    }
                })
                .collect();
            let name = l.path.file_name().map_or_else(
                || l.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            (format!("Source: {name}, {}", l.what), lines)
        }
        Err(why) => (
            "Source".to_string(),
            vec![Line::styled(why, Style::default().fg(Color::DarkGray))],
        ),
    };
    frame.render_widget(Paragraph::new(text).block(block(title, app, None)), area);
}
