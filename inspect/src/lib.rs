//! `switchyard inspect`: a terminal UI that shows every stack of a
//! stack-switching WebAssembly program (the running chain, the parked
//! continuations, their backtraces and source) and steps it switch by
//! switch.
//!
//! What it does not do: it never changes a program it attaches to, and it
//! steps switch events, not instructions (gdb does that).
//!
//! The layout follows the data: [`state`] is the model, filled by one of
//! three sources (a live program in this process, a snapshot file, another
//! process); [`view`] draws it, one pane per file; [`input`] maps keys to
//! actions; [`app`] holds the selection and applies actions.

#![warn(missing_docs)]

pub mod app;
pub mod input;
pub mod state;
mod terminal;
pub mod view;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use app::{App, Control};
use state::attach::{Attached, ReadOnly};
use state::file::SnapshotFile;
use state::live::{Live, LiveControl, ProgramHandle};
use state::{SourceKind, State};
use terminal::{Redirect, Screen};

pub use state::live::Recorder;

/// How often the screen is redrawn and keys are read.
const TICK: Duration = Duration::from_millis(50);
/// How often an attached process is read again.
const REFRESH: Duration = Duration::from_secs(1);

/// Handles the keys that arrived within one tick; false when the
/// inspector should end.
fn handle_keys(app: &mut App, control: &mut dyn Control) -> anyhow::Result<bool> {
    let deadline = Instant::now() + TICK;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if !event::poll(left)? {
            return Ok(!app.quit);
        }
        if let Event::Key(key) = event::read()? {
            if key.kind != KeyEventKind::Press {
                continue;
            }
            if app.prompt.is_some() {
                app.prompt_key(key, control);
            } else {
                app.apply(input::action(key), control);
            }
            if app.quit {
                return Ok(false);
            }
        }
    }
}

/// Runs `program` on its own thread under the inspector. `program` runs
/// the module with an engine that reports switch events
/// (`source_files`: the modules' files, for the source pane)
/// (`Config::report_switch_events`) and reports its end through the
/// handle. Its stdout and stderr are shown in a pane.
pub fn live(
    name: String,
    source_files: Vec<PathBuf>,
    program: impl FnOnce(&ProgramHandle) + Send + 'static,
) -> anyhow::Result<()> {
    let (mut live, handle) = Live::install();
    let mut screen = Screen::open()?;
    let redirect = Redirect::start(live.output_sink())?;
    std::thread::Builder::new()
        .name("program".into())
        .stack_size(64 << 20)
        .spawn(move || program(&handle))?;
    let mut state = State::new(SourceKind::Live, name);
    state.source_files = source_files;
    let mut app = App::new(state);
    let result = (|| -> anyhow::Result<()> {
        loop {
            if let Some(focus) = live.poll(&mut app.state) {
                app.new_picture(Some(focus));
            }
            screen.terminal.draw(|f| view::draw(f, &app))?;
            let mut control = LiveControl {
                live: &live,
                progress: app.state.progress.clone(),
            };
            if !handle_keys(&mut app, &mut control)? {
                return Ok(());
            }
        }
    })();
    live.release();
    drop(screen);
    drop(redirect);
    result
}

/// Opens a snapshot file.
pub fn snapshot(path: &Path) -> anyhow::Result<()> {
    let file = SnapshotFile::read(path)?;
    let mut app = App::new(file.into_state(path));
    let mut screen = Screen::open()?;
    loop {
        screen.terminal.draw(|f| view::draw(f, &app))?;
        if !handle_keys(&mut app, &mut ReadOnly)? {
            return Ok(());
        }
    }
}

/// Watches another Switchyard process, read-only, refreshed every second;
/// when it exits, the last picture stays until the user quits.
pub fn attach(pid: i32) -> anyhow::Result<()> {
    let mut attached = Attached::open(pid)?;
    let mut state = attached.state();
    attached.refresh(&mut state)?;
    let mut app = App::new(state);
    let mut screen = Screen::open()?;
    let mut last = Instant::now();
    let mut gone = false;
    loop {
        if !gone && last.elapsed() >= REFRESH {
            // Once the process is gone (or can no longer be read) the last
            // picture stays on screen, which is what a user looking at a
            // crash wants; the status line says why it no longer changes.
            match attached.refresh(&mut app.state) {
                Ok(()) => app.new_picture(None),
                Err(e) => {
                    gone = true;
                    app.state.progress =
                        state::Progress::Finished(format!("{e}; the last picture is kept"));
                }
            }
            last = Instant::now();
        }
        screen.terminal.draw(|f| view::draw(f, &app))?;
        if !handle_keys(&mut app, &mut ReadOnly)? {
            return Ok(());
        }
    }
}
