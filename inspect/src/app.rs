//! The inspector's UI state over the model: what is selected, which pane
//! has the focus, an open prompt, and what each action does.

use crate::input::Action;
use crate::state::{Cont, Frame, Progress, State};

/// The panes that take the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// Continuations.
    Conts,
    /// Backtrace of the selected one.
    Backtrace,
    /// Event log.
    Events,
}

/// What a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Events to step.
    Steps,
    /// A break point.
    Break,
    /// A continuation id.
    Jump,
    /// Search text.
    Search,
}

impl Ask {
    /// The prompt's label.
    pub fn label(&self) -> &'static str {
        match self {
            Ask::Steps => "step how many events",
            Ask::Break => "break on function or tag",
            Ask::Jump => "go to continuation #",
            Ask::Search => "search",
        }
    }
}

/// An open prompt and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// What it asks for.
    pub ask: Ask,
    /// Typed so far.
    pub text: String,
}

/// An entry of the continuations pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// The trap that ended the program.
    Trap,
    /// `picture.conts[i]`.
    Cont(usize),
}

/// How the program is driven; each source implements what it can.
pub trait Control {
    /// Run to the next `n` switch events.
    fn step(&mut self, n: u64) -> Result<(), String>;
    /// Run until a break point.
    fn resume(&mut self) -> Result<(), String>;
    /// Stop at the next switch event.
    fn pause(&mut self) -> Result<(), String>;
    /// Break on these function names or tags.
    fn set_breaks(&mut self, breaks: &[String]) -> Result<(), String>;
}

/// The inspector: the model and how it is looked at.
pub struct App {
    /// The model.
    pub state: State,
    /// Selected entry of the continuations pane.
    pub selected: usize,
    /// Selected line of the backtrace.
    pub frame: usize,
    /// Lines the event log is scrolled back from the newest.
    pub events_back: usize,
    /// The focused pane.
    pub focus: Pane,
    /// An open prompt.
    pub prompt: Option<Prompt>,
    /// Whether the help is shown.
    pub help: bool,
    /// A one-line message for the status line.
    pub message: Option<String>,
    /// The last search.
    pub last_search: Option<String>,
    /// Set by quit.
    pub quit: bool,
    /// Groups of identical parked continuations shown with all their
    /// members, by the id of their first member (the others are folded
    /// into their first).
    pub expanded: std::collections::HashSet<u64>,
    /// WAT listings of the program's module files, made on first use.
    pub listings: crate::view::source::Listings,
}

impl App {
    /// An inspector over `state`.
    pub fn new(state: State) -> App {
        let mut app = App {
            state,
            selected: 0,
            frame: 0,
            events_back: 0,
            focus: Pane::Conts,
            prompt: None,
            help: false,
            message: None,
            last_search: None,
            quit: false,
            expanded: Default::default(),
            listings: Default::default(),
        };
        app.select_default();
        app
    }

    /// The entries of the continuations pane: the trap first, then the
    /// stacks.
    pub fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        if self.state.picture.trap.is_some() {
            items.push(Item::Trap);
        }
        let hidden = self.folded();
        items.extend(
            (0..self.state.picture.conts.len())
                .filter(|i| !hidden.contains_key(i))
                .map(Item::Cont),
        );
        items
    }

    /// Members of folded groups but their first, each with its first.
    fn folded(&self) -> std::collections::HashMap<usize, usize> {
        let conts = &self.state.picture.conts;
        let mut hidden = std::collections::HashMap::new();
        for g in self.state.picture.groups() {
            if !self.expanded.contains(&conts[g[0]].id) {
                hidden.extend(g[1..].iter().map(|&i| (i, g[0])));
            }
        }
        hidden
    }

    /// How many continuations the list line of `conts[i]` stands for, for
    /// every `i` that heads a folded group (others stand for one).
    pub fn folded_sizes(&self) -> std::collections::HashMap<usize, usize> {
        let conts = &self.state.picture.conts;
        self.state
            .picture
            .groups()
            .into_iter()
            .filter(|g| !self.expanded.contains(&conts[g[0]].id))
            .map(|g| (g[0], g.len()))
            .collect()
    }

    /// Folds or unfolds the group of the selected continuation.
    fn toggle_group(&mut self) {
        let Some(Item::Cont(i)) = self.items().get(self.selected).copied() else {
            return;
        };
        let conts = &self.state.picture.conts;
        let Some(group) = self
            .state
            .picture
            .groups()
            .into_iter()
            .find(|g| g.contains(&i))
        else {
            self.message = Some("not in a group of identical continuations".into());
            return;
        };
        let first = conts[group[0]].id;
        if !self.expanded.remove(&first) {
            self.expanded.insert(first);
        }
        let id = conts[group[0]].id;
        self.select_id(id);
    }

    /// The selected continuation, if a continuation is selected.
    pub fn selected_cont(&self) -> Option<&Cont> {
        match self.items().get(self.selected)? {
            Item::Cont(i) => self.state.picture.conts.get(*i),
            Item::Trap => None,
        }
    }

    /// The backtrace shown: the trap's or the selected continuation's.
    pub fn backtrace(&self) -> (String, &[Frame]) {
        match self.items().get(self.selected) {
            Some(Item::Trap) => {
                let t = self.state.picture.trap.as_ref().expect("a trap item");
                ("the trap".to_string(), &t.frames)
            }
            Some(Item::Cont(i)) => {
                let c = &self.state.picture.conts[*i];
                let what = if c.id == 0 {
                    "the host stack".to_string()
                } else {
                    format!("{} ({})", c.label(), c.title())
                };
                (what, &c.frames)
            }
            None => (String::new(), &[]),
        }
    }

    /// The selected backtrace line.
    pub fn selected_frame(&self) -> Option<&Frame> {
        let (_, frames) = self.backtrace();
        frames.get(self.frame)
    }

    /// Selects what a fresh picture shows best: the trap, else the
    /// innermost running continuation.
    pub fn select_default(&mut self) {
        self.frame = 0;
        if self.state.picture.trap.is_some() {
            self.selected = 0;
            return;
        }
        let chain = self.state.picture.chain();
        match chain.last() {
            Some(id) => {
                self.select_id(*id);
            }
            None => self.selected = 0,
        }
    }

    /// Selects continuation `id` (unfolding its group); false if there is
    /// none.
    pub fn select_id(&mut self, id: u64) -> bool {
        let conts = &self.state.picture.conts;
        if let Some(i) = conts.iter().position(|c| c.id == id)
            && let Some(&first) = self.folded().get(&i)
        {
            self.expanded.insert(conts[first].id);
        }
        let items = self.items();
        let Some(pos) = items
            .iter()
            .position(|it| matches!(it, Item::Cont(i) if self.state.picture.conts[*i].id == id))
        else {
            return false;
        };
        if pos != self.selected {
            self.frame = 0;
        }
        self.selected = pos;
        true
    }

    /// Takes a new picture, selecting continuation `focus` if it is in it.
    pub fn new_picture(&mut self, focus: Option<u64>) {
        let keep = self.selected_cont().map(|c| c.id);
        match focus.or(keep) {
            Some(id) if self.select_id(id) => {}
            _ => self.select_default(),
        }
        let n = self.items().len();
        if self.selected >= n {
            self.selected = n.saturating_sub(1);
        }
        let (_, frames) = self.backtrace();
        if self.frame >= frames.len() {
            self.frame = 0;
        }
    }

    /// Does what `action` asks.
    pub fn apply(&mut self, action: Action, control: &mut dyn Control) {
        if action != Action::None {
            self.message = None;
        }
        if self.help && action != Action::None {
            self.help = false;
            if matches!(action, Action::Help | Action::Close) {
                return;
            }
        }
        let done = |r: Result<(), String>, app: &mut App| {
            if let Err(e) = r {
                app.message = Some(e);
            }
        };
        match action {
            Action::Quit | Action::Close => self.quit = true,
            Action::Help => self.help = true,
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::NextPane | Action::PrevPane => {
                let order = [Pane::Conts, Pane::Backtrace, Pane::Events];
                let i = order.iter().position(|p| *p == self.focus).unwrap_or(0);
                let next = if action == Action::NextPane {
                    (i + 1) % 3
                } else {
                    (i + 2) % 3
                };
                self.focus = order[next];
            }
            Action::Step => done(control.step(1), self),
            Action::StepN => self.ask(Ask::Steps),
            Action::Continue => done(control.resume(), self),
            Action::Pause => done(control.pause(), self),
            Action::Break => self.ask(Ask::Break),
            Action::ClearBreaks => {
                self.state.breaks.clear();
                done(control.set_breaks(&[]), self);
                if self.message.is_none() {
                    self.message = Some("break points cleared".into());
                }
            }
            Action::Jump => self.ask(Ask::Jump),
            Action::Search => self.ask(Ask::Search),
            Action::Expand => self.toggle_group(),
            Action::None => {}
        }
    }

    fn ask(&mut self, ask: Ask) {
        self.prompt = Some(Prompt {
            ask,
            text: String::new(),
        });
    }

    /// A key while a prompt is open.
    pub fn prompt_key(
        &mut self,
        key: ratatui::crossterm::event::KeyEvent,
        control: &mut dyn Control,
    ) {
        use ratatui::crossterm::event::KeyCode;
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Backspace => {
                prompt.text.pop();
            }
            KeyCode::Char(c) => prompt.text.push(c),
            KeyCode::Enter => {
                let Prompt { ask, text } = self.prompt.take().expect("open prompt");
                self.answer(ask, text.trim(), control);
            }
            _ => {}
        }
    }

    fn answer(&mut self, ask: Ask, text: &str, control: &mut dyn Control) {
        match ask {
            Ask::Steps => match text.parse::<u64>() {
                Ok(n) if n > 0 => {
                    if let Err(e) = control.step(n) {
                        self.message = Some(e);
                    }
                }
                _ => self.message = Some(format!("`{text}` is not a number of events")),
            },
            Ask::Break => {
                if text.is_empty() {
                    return;
                }
                self.state.breaks.push(text.to_string());
                match control.set_breaks(&self.state.breaks) {
                    Ok(()) => self.message = Some(format!("break on {text}")),
                    Err(e) => {
                        self.state.breaks.pop();
                        self.message = Some(e);
                    }
                }
            }
            Ask::Jump => {
                let id = text.trim_start_matches('#');
                match id.parse::<u64>() {
                    Ok(id) if self.select_id(id) => self.focus = Pane::Conts,
                    Ok(id) => self.message = Some(format!("no live continuation #{id}")),
                    Err(_) => self.message = Some(format!("`{text}` is not a continuation id")),
                }
            }
            Ask::Search => {
                let needle = if text.is_empty() {
                    match &self.last_search {
                        Some(s) => s.clone(),
                        None => return,
                    }
                } else {
                    text.to_string()
                };
                self.search(&needle);
                self.last_search = Some(needle);
            }
        }
    }

    /// Selects the next continuation (after the selected one, wrapping)
    /// whose entry, name, creation site, tag or frames contain `needle`.
    pub fn search(&mut self, needle: &str) {
        let needle_lower = needle.to_lowercase();
        let items = self.items();
        let n = items.len();
        for k in 1..=n {
            let pos = (self.selected + k) % n;
            let Item::Cont(i) = items[pos] else { continue };
            let c = &self.state.picture.conts[i];
            let hit_frame = c.frames.iter().position(|f| match f {
                Frame::Wasm(w) => w.qualified_name().to_lowercase().contains(&needle_lower),
                _ => false,
            });
            let hit = [Some(&c.entry), c.name.as_ref(), c.created.as_ref()]
                .into_iter()
                .flatten()
                .any(|t| t.to_lowercase().contains(&needle_lower))
                || c.tag
                    .as_ref()
                    .is_some_and(|t| t.to_lowercase().contains(&needle_lower))
                || hit_frame.is_some();
            if hit {
                self.selected = pos;
                self.frame = hit_frame.unwrap_or(0);
                self.message = Some(format!("found `{needle}` in {}", c.label()));
                return;
            }
        }
        self.message = Some(format!("`{needle}` not found"));
    }

    fn move_by(&mut self, delta: isize) {
        let clamp = |v: usize, d: isize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (v as isize).saturating_add(d).clamp(0, len as isize - 1) as usize
        };
        match self.focus {
            Pane::Conts => {
                let old = self.selected;
                self.selected = clamp(self.selected, delta, self.items().len());
                if old != self.selected {
                    self.frame = 0;
                }
            }
            Pane::Backtrace => {
                let len = self.backtrace().1.len();
                self.frame = clamp(self.frame, delta, len);
            }
            Pane::Events => {
                // Up goes back in time.
                let len = self.state.events.len();
                self.events_back = clamp(self.events_back, -delta, len);
            }
        }
    }

    /// "live, paused at event 4" and the like.
    pub fn mode_text(&self) -> String {
        use crate::state::SourceKind;
        let source = match self.state.source {
            SourceKind::Live => "live",
            SourceKind::Snapshot => "snapshot",
            SourceKind::Attached => "attached",
        };
        match &self.state.progress {
            Progress::Running => format!("{source}: running"),
            Progress::Stopped => {
                format!("{source}: paused at event {}", self.state.total_events)
            }
            Progress::Finished(how) => format!("{source}: {how}"),
            Progress::Still => format!("{source}: post-mortem"),
        }
    }
}
