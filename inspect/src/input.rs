//! Keys to actions. Arrows and vim keys move; single letters act.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the inspector.
    Quit,
    /// Close the help if it is shown, else leave the inspector.
    Close,
    /// Show or hide the help.
    Help,
    /// Move the selection up in the focused pane.
    Up,
    /// Move the selection down.
    Down,
    /// To the first item.
    Top,
    /// To the last item.
    Bottom,
    /// Focus the next pane.
    NextPane,
    /// Focus the previous pane.
    PrevPane,
    /// Let the program run to its next switch event.
    Step,
    /// Ask for a number of events to step.
    StepN,
    /// Let the program run (until a break point).
    Continue,
    /// Stop the program at its next switch event.
    Pause,
    /// Ask for a function name or tag to break on.
    Break,
    /// Remove every break point.
    ClearBreaks,
    /// Ask for a continuation id to select.
    Jump,
    /// Ask for text to search in continuations and frames.
    Search,
    /// Fold or unfold the selected group of identical continuations.
    Expand,
    /// Nothing.
    None,
}

/// The action of `key` outside a prompt.
pub fn action(key: KeyEvent) -> Action {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c') => Action::Quit,
            KeyCode::Char('n') => Action::Down,
            KeyCode::Char('p') => Action::Up,
            _ => Action::None,
        };
    }
    match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Close,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Up | KeyCode::Char('k') => Action::Up,
        KeyCode::Down | KeyCode::Char('j') => Action::Down,
        KeyCode::Home => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Tab | KeyCode::Right | KeyCode::Char('l') => Action::NextPane,
        KeyCode::BackTab | KeyCode::Left | KeyCode::Char('h') => Action::PrevPane,
        KeyCode::Char('n') | KeyCode::Char('s') => Action::Step,
        KeyCode::Char('N') => Action::StepN,
        KeyCode::Char('c') | KeyCode::Char('r') => Action::Continue,
        KeyCode::Char('p') | KeyCode::Char(' ') => Action::Pause,
        KeyCode::Char('b') => Action::Break,
        KeyCode::Char('B') => Action::ClearBreaks,
        KeyCode::Char('g') | KeyCode::Char('#') => Action::Jump,
        KeyCode::Char('/') => Action::Search,
        KeyCode::Char('e') | KeyCode::Enter => Action::Expand,
        _ => Action::None,
    }
}

/// The keys, for the help pane: (keys, what they do).
pub const HELP: &[(&str, &str)] = &[
    ("n, s", "step to the next switch event"),
    ("N", "step N events (asks for N)"),
    ("c, r", "continue (until a break point)"),
    ("p, space", "pause at the next switch event"),
    ("b", "break on a function name or tag (asks)"),
    ("B", "clear break points"),
    ("g, #", "go to a continuation by id (asks)"),
    ("/", "search names, sites, tags, frames (asks)"),
    ("e, Enter", "fold or unfold identical continuations"),
    ("j k, arrows", "move in the focused pane"),
    ("Home, End/G", "first, last"),
    ("Tab h l", "focus another pane"),
    ("?", "this help"),
    ("Esc", "close this help; else quit"),
    ("q", "quit"),
];
