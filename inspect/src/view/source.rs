//! The source pane: the selected frame's source line, from the file its
//! DWARF names when that file exists; else a WAT listing of its module
//! (printed from the module's file, so offsets are the engine's) with the
//! frame's instruction highlighted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::{block, inner, selected, window};
use crate::app::App;
use crate::state::Frame as BacktraceFrame;
use switchyard_frames::WasmFrame;

/// A WAT listing: each line with the module byte offset it starts at.
pub type WatListing = Vec<(Option<u32>, String)>;

/// Listings by module file, made once (views take the app by reference).
#[derive(Default)]
pub struct Listings(std::cell::RefCell<HashMap<PathBuf, Result<Rc<WatListing>, String>>>);

impl Listings {
    /// The listing of the module in `path` (text or binary).
    pub fn get(&self, path: &Path) -> Result<Rc<WatListing>, String> {
        self.0
            .borrow_mut()
            .entry(path.to_path_buf())
            .or_insert_with(|| wat_listing(path).map(Rc::new))
            .clone()
    }
}

/// Prints the module in `path` as WAT with the byte offset of every line.
pub fn wat_listing(path: &Path) -> Result<WatListing, String> {
    let bytes = wat::parse_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut text = String::new();
    wasmprinter::Config::new()
        .print_offsets(true)
        .print(&bytes, &mut wasmprinter::PrintFmtWrite(&mut text))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| {
            // Lines start with "(;@1a2   ;)" when they have an offset.
            let parsed = l.strip_prefix("(;@").and_then(|rest| {
                let end = rest.find(";)")?;
                let offset = u32::from_str_radix(rest[..end].trim(), 16).ok()?;
                Some((offset, rest[end + 2..].to_string()))
            });
            match parsed {
                Some((offset, text)) => (Some(offset), text),
                None => (None, l.to_string()),
            }
        })
        .collect())
}

/// What to show: a file's lines and the line to highlight (0-based).
pub struct Listing {
    /// The file shown.
    pub path: PathBuf,
    /// Its lines, with their module byte offsets for a WAT listing.
    pub lines: Rc<WatListing>,
    /// The line to highlight.
    pub line: usize,
    /// What the highlight is: "line 12", "WAT listing, at 0x46: suspend".
    pub what: String,
}

/// The listing for the selected frame, or why there is none.
pub fn listing(app: &App) -> Result<Listing, String> {
    let Some(WasmFrame {
        module,
        function: name,
        offset,
        locations,
        ..
    }) = app.selected_frame().and_then(BacktraceFrame::as_wasm)
    else {
        return Err("select a frame to see its source".into());
    };
    let position = locations.first();
    if let Some(p) = position {
        let path = Path::new(&p.file);
        if let Ok(text) = std::fs::read_to_string(path) {
            let lines: WatListing = text.lines().map(|l| (None, l.to_string())).collect();
            let line = p.line.unwrap_or(0);
            return Ok(Listing {
                path: path.to_path_buf(),
                lines: Rc::new(lines),
                line: (line as usize).saturating_sub(1),
                what: format!("line {line}"),
            });
        }
    }
    // The file of the frame's module: named like the module, else the only
    // one given.
    let module: &str = module;
    let files = &app.state.source_files;
    let file = files
        .iter()
        .find(|p| p.file_stem().is_some_and(|s| s == module))
        .or(if files.len() == 1 {
            files.first()
        } else {
            None
        });
    let Some(file) = file else {
        return Err(match position {
            Some(p) => format!("{} is not readable here", p.file),
            None => format!("no source: no DWARF, and no file for module {module}"),
        });
    };
    let lines = app.listings.get(file)?;
    let at_offset = offset.and_then(|o| {
        // The last line starting at or before the instruction.
        lines
            .iter()
            .enumerate()
            .filter(|(_, (start, _))| start.is_some_and(|s| s <= o))
            .max_by_key(|(_, (start, _))| *start)
            .map(|(i, _)| i)
    });
    let (line, what) = match (at_offset, offset) {
        (Some(i), Some(o)) => (i, format!("WAT listing, at {o:#x}: {}", lines[i].1.trim())),
        _ => {
            let pattern = format!("(func ${name}");
            let i = lines
                .iter()
                .position(|(_, l)| {
                    l.find(&pattern).is_some_and(|k| {
                        let rest = &l[k + pattern.len()..];
                        rest.is_empty() || rest.starts_with([' ', ')'])
                    })
                })
                .ok_or_else(|| format!("${name} not found in {}", file.display()))?;
            (i, format!("WAT listing, definition of ${name}"))
        }
    };
    Ok(Listing {
        path: file.clone(),
        lines,
        line,
        what,
    })
}

/// Draws the pane.
pub fn draw(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let height = inner(area).height as usize;
    let (title, text) = match listing(app) {
        Ok(l) => {
            let top = window(l.line, l.lines.len(), height);
            let lines: Vec<Line> = l
                .lines
                .iter()
                .enumerate()
                .skip(top)
                .take(height)
                .map(|(i, (offset, s))| {
                    let number = match offset {
                        Some(o) => format!("{o:>5x}"),
                        None if l.lines.iter().any(|(o, _)| o.is_some()) => "     ".into(),
                        None => format!("{:>4}", i + 1),
                    };
                    let text = format!("{number} {}", s.replace('\t', "    "));
                    if i == l.line {
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
