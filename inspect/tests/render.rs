//! Render tests: each pane, in each state it can be in, drawn with
//! ratatui's test backend and read back as text.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use switchyard_frames::{Boundary, Frame, Location, WasmFrame};
use switchyard_inspect::app::{App, Control, Pane};
use switchyard_inspect::input::{self, Action};
use switchyard_inspect::state::{Cont, EventLine, Picture, Progress, SourceKind, State, TrapView};
use switchyard_inspect::view;

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| view::draw(f, app)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

/// A Wasm frame of `module!function`.
fn frame(name: &str) -> Frame {
    let (module, function) = name.split_once('!').unwrap();
    Frame::Wasm(WasmFrame {
        module: module.into(),
        function: function.into(),
        index: None,
        offset: None,
        pc: 0,
        locations: Vec::new(),
    })
}

fn boundary(id: u64, entry: &str, resumed_here: bool) -> Frame {
    Frame::Boundary(Boundary {
        continuation: id,
        entry: entry.into(),
        handlers: None,
        resumed_here,
        name: None,
    })
}

fn cont(id: u64, state: &str, entry: &str, frames: Vec<Frame>) -> Cont {
    Cont {
        id,
        state: state.into(),
        entry: entry.into(),
        resumes: id,
        switches: 0,
        stack_used: 1024,
        stack_size: 256 * 1024,
        parent: None,
        tag: None,
        frames,
        name: None,
        created: None,
    }
}

/// A host stack running #1, which runs #2; #3 suspended on $yield; #4 fresh.
fn chain_state() -> State {
    let mut state = State::new(SourceKind::Live, "chain.wat".into());
    let mut host = cont(
        0,
        "host",
        "host entry",
        vec![frame("m!main"), Frame::HostEntry],
    );
    host.stack_size = 0;
    let mut one = cont(
        1,
        "running",
        "m!outer",
        vec![
            frame("m!outer"),
            boundary(1, "m!outer", true),
            frame("m!main"),
            Frame::HostEntry,
        ],
    );
    one.parent = Some(0);
    let mut two = cont(
        2,
        "running",
        "m!inner",
        vec![
            frame("m!leaf"),
            frame("m!inner"),
            boundary(2, "m!inner", true),
            frame("m!outer"),
        ],
    );
    two.parent = Some(1);
    let mut three = cont(
        3,
        "suspended",
        "m!gen",
        vec![frame("m!gen"), boundary(3, "m!gen", false)],
    );
    three.tag = Some("$yield".into());
    let four = cont(4, "fresh", "m!later", vec![]);
    state.picture = Picture {
        conts: vec![host, one, two, three, four],
        trap: None,
    };
    state.progress = Progress::Stopped;
    for (i, kind) in ["resume", "resume", "suspend"].iter().enumerate() {
        state.push_event(EventLine {
            seq: i as u64 + 1,
            kind: kind.to_string(),
            cont: 3,
            other: 0,
            entry: "m!gen".into(),
            tag: (*kind == "suspend").then(|| "$yield".into()),
        });
    }
    state
}

/// Records what the UI asked of the program.
#[derive(Default)]
struct Recorded {
    steps: Vec<u64>,
    breaks: Vec<Vec<String>>,
    resumed: bool,
}

impl Control for Recorded {
    fn step(&mut self, n: u64) -> Result<(), String> {
        self.steps.push(n);
        Ok(())
    }
    fn resume(&mut self) -> Result<(), String> {
        self.resumed = true;
        Ok(())
    }
    fn pause(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn set_breaks(&mut self, breaks: &[String]) -> Result<(), String> {
        self.breaks.push(breaks.to_vec());
        Ok(())
    }
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn type_in(app: &mut App, control: &mut dyn Control, text: &str) {
    for c in text.chars() {
        app.prompt_key(key(c), control);
    }
    app.prompt_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE), control);
}

#[test]
fn continuations_pane_shows_the_running_chain_as_a_tree_and_the_parked_ones() {
    let app = App::new(chain_state());
    let text = screen(&app, 120, 40);
    assert!(text.contains("Continuations (4 live)"), "{text}");
    assert!(text.contains("│host entry"), "{text}");
    assert!(
        text.contains("└ #1   running   m!outer r1 s0 1K/256K"),
        "{text}"
    );
    assert!(text.contains("  └ #2   running   m!inner r2 s0"), "{text}");
    assert!(text.contains("not running:"), "{text}");
    assert!(
        text.contains("#3   suspended m!gen on $yield r3 s0"),
        "{text}"
    );
    assert!(text.contains("#4   fresh     m!later"), "{text}");
}

#[test]
fn backtrace_pane_shows_the_innermost_running_continuation_first_with_boundaries() {
    let app = App::new(chain_state());
    let text = screen(&app, 120, 40);
    assert!(text.contains("Backtrace of #2 (m!inner)"), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    let at = |s: &str| {
        lines
            .iter()
            .position(|l| l.contains(s))
            .unwrap_or_else(|| panic!("{s}\n{text}"))
    };
    assert!(at("  0 m!leaf") < at("  1 m!inner"));
    assert!(at("  1 m!inner") < at("-- #2 (m!inner) was resumed here"));
    assert!(at("-- #2 (m!inner) was resumed here") < at("  2 m!outer"));
}

#[test]
fn selecting_a_suspended_continuation_shows_its_stack_down_to_its_bottom() {
    let mut app = App::new(chain_state());
    let mut control = Recorded::default();
    app.apply(Action::Down, &mut control);
    let text = screen(&app, 120, 40);
    assert!(text.contains("Backtrace of #3 (m!gen)"), "{text}");
    assert!(text.contains("  0 m!gen"), "{text}");
    assert!(text.contains("-- bottom of #3 (m!gen)"), "{text}");
    app.apply(Action::Down, &mut control);
    let text = screen(&app, 120, 40);
    assert!(text.contains("Backtrace of #4 (m!later)"), "{text}");
    assert!(text.contains("(not started)"), "{text}");
}

#[test]
fn a_trap_is_listed_first_and_its_chain_is_shown() {
    let mut state = chain_state();
    state.picture.trap = Some(TrapView {
        message: "wasm trap: integer divide by zero in m!leaf".into(),
        frames: vec![
            Frame::Wasm(WasmFrame {
                module: "m".into(),
                function: "leaf".into(),
                index: None,
                offset: Some(0x47),
                pc: 0,
                locations: vec![Location {
                    file: "leaf.c".into(),
                    line: Some(7),
                    column: Some(3),
                    function: None,
                }],
            }),
            boundary(2, "m!inner", true),
            frame("m!outer"),
        ],
    });
    state.progress = Progress::Still;
    state.source = SourceKind::Snapshot;
    let app = App::new(state);
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("wasm trap: integer divide by zero in m!leaf"),
        "{text}"
    );
    assert!(text.contains("Backtrace of the trap"), "{text}");
    assert!(text.contains("  0 m!leaf  at leaf.c:7"), "{text}");
    assert!(text.contains("-- #2 (m!inner) was resumed here"), "{text}");
    assert!(text.contains("snapshot: post-mortem"), "{text}");
    assert!(text.contains("leaf.c is not readable here"), "{text}");
}

#[test]
fn event_log_lists_events_newest_last_and_scrolls_back() {
    let mut app = App::new(chain_state());
    let text = screen(&app, 120, 40);
    assert!(text.contains("Events (3 in all)"), "{text}");
    let a = text.find("1 resume #3 (m!gen) from host").expect(&text);
    let b = text.find("3 suspend #3 (m!gen) on $yield").expect(&text);
    assert!(a < b);
    let mut control = Recorded::default();
    app.apply(Action::NextPane, &mut control);
    app.apply(Action::NextPane, &mut control);
    assert_eq!(app.focus, Pane::Events);
    app.apply(Action::Up, &mut control);
    let text = screen(&app, 120, 40);
    assert!(!text.contains("3 suspend #3"), "{text}");
}

#[test]
fn status_line_shows_mode_keys_prompts_and_messages() {
    let mut app = App::new(chain_state());
    let text = screen(&app, 120, 40);
    let status = text.lines().last().unwrap();
    assert!(status.contains("live: paused at event 3"), "{status}");
    assert!(status.contains("n step"), "{status}");
    let mut control = Recorded::default();
    app.apply(input::action(key('b')), &mut control);
    app.prompt_key(key('$'), &mut control);
    app.prompt_key(key('y'), &mut control);
    let text = screen(&app, 120, 40);
    assert!(
        text.lines()
            .last()
            .unwrap()
            .contains("break on function or tag: $y_")
    );
    type_in(&mut app, &mut control, "ield");
    assert_eq!(control.breaks, vec![vec!["$yield".to_string()]]);
    let text = screen(&app, 120, 40);
    assert!(
        text.lines().last().unwrap().contains("break on $yield"),
        "{text}"
    );
    app.apply(input::action(key('N')), &mut control);
    type_in(&mut app, &mut control, "12");
    app.apply(input::action(key('n')), &mut control);
    assert_eq!(control.steps, vec![12, 1]);
    app.apply(input::action(key('c')), &mut control);
    assert!(control.resumed);
}

#[test]
fn jump_and_search_select_continuations() {
    let mut app = App::new(chain_state());
    let mut control = Recorded::default();
    app.apply(input::action(key('g')), &mut control);
    type_in(&mut app, &mut control, "4");
    assert_eq!(app.selected_cont().unwrap().id, 4);
    app.apply(input::action(key('g')), &mut control);
    type_in(&mut app, &mut control, "99");
    assert_eq!(app.message.as_deref(), Some("no live continuation #99"));
    app.apply(input::action(key('/')), &mut control);
    type_in(&mut app, &mut control, "leaf");
    assert_eq!(app.selected_cont().unwrap().id, 2);
    assert_eq!(app.frame, 0);
    app.apply(input::action(key('/')), &mut control);
    type_in(&mut app, &mut control, "nothing-like-this");
    let text = screen(&app, 120, 40);
    assert!(text.contains("`nothing-like-this` not found"), "{text}");
}

#[test]
fn arrows_and_vim_keys_move_the_same_way() {
    for (down, up) in [
        (KeyCode::Down, KeyCode::Up),
        (KeyCode::Char('j'), KeyCode::Char('k')),
    ] {
        let mut app = App::new(chain_state());
        let mut control = Recorded::default();
        let start = app.selected;
        app.apply(
            input::action(KeyEvent::new(down, KeyModifiers::NONE)),
            &mut control,
        );
        assert_eq!(app.selected, start + 1);
        app.apply(
            input::action(KeyEvent::new(up, KeyModifiers::NONE)),
            &mut control,
        );
        assert_eq!(app.selected, start);
    }
    assert_eq!(input::action(key('q')), Action::Quit);
    assert_eq!(input::action(key('?')), Action::Help);
}

#[test]
fn help_lists_every_key_and_any_key_closes_it() {
    let mut app = App::new(chain_state());
    let mut control = Recorded::default();
    app.apply(Action::Help, &mut control);
    let text = screen(&app, 120, 40);
    assert!(text.contains(" Keys "), "{text}");
    for (keys, what) in input::HELP {
        assert!(
            text.contains(&format!("{keys:<12} {what}")),
            "{keys}\n{text}"
        );
    }
    app.apply(Action::Down, &mut control);
    assert!(!app.help);
}

#[test]
fn a_terminal_too_small_gets_a_message_instead_of_panes() {
    let app = App::new(chain_state());
    let text = screen(&app, 60, 15);
    assert!(
        text.replace('\n', "")
            .contains("The terminal is too small for the inspector: 60x15"),
        "{text}"
    );
    assert!(!text.contains("Continuations"));
}

#[test]
fn source_pane_shows_the_wat_listing_or_the_c_line() {
    let dir = std::env::temp_dir().join(format!("inspect-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wat = dir.join("m.wat");
    std::fs::write(
        &wat,
        "(module\n  (func $leaf)\n  (func $inner (call $leaf) (nop)))\n",
    )
    .unwrap();
    let c = dir.join("leaf.c");
    std::fs::write(&c, "int a;\nint leaf(void) {\n  return 1 / a;\n}\n").unwrap();

    // No offset: the function's definition in the listing.
    let mut state = chain_state();
    state.source_files = vec![wat.clone()];
    let mut app = App::new(state);
    let text = screen(&app, 120, 40);
    assert!(
        text.contains("Source: m.wat, WAT listing, definition of $leaf"),
        "{text}"
    );
    assert!(
        text.contains("   17   (func $leaf (;0;) (type 0)"),
        "{text}"
    );

    // An offset: the instruction there.
    let listing = switchyard_inspect::view::source::wat_listing(&wat).unwrap();
    let call = listing
        .iter()
        .find(|(_, l)| l.trim() == "call $leaf")
        .and_then(|(o, _)| *o)
        .expect("an offset for the call");
    app.frame = 1;
    if let Frame::Wasm(w) = &mut app.state.picture.conts[2].frames[1] {
        w.offset = Some(call);
    }
    let text = screen(&app, 120, 40);
    assert!(
        text.contains(&format!(
            "Source: m.wat, WAT listing, at {call:#x}: call $leaf"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{call:>5x}     call $leaf")),
        "{text}"
    );

    // DWARF naming a file that exists: that file's line.
    app.frame = 0;
    if let Frame::Wasm(w) = &mut app.state.picture.conts[2].frames[0] {
        w.locations = vec![Location {
            file: c.display().to_string(),
            line: Some(3),
            column: Some(12),
            function: None,
        }];
    }
    let text = screen(&app, 120, 40);
    assert!(text.contains("Source: leaf.c, line 3"), "{text}");
    assert!(text.contains("   3   return 1 / a;"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn program_output_is_shown_in_its_pane() {
    let mut state = chain_state();
    state.push_output("hello from the program\nsecond line\n");
    let app = App::new(state);
    let text = screen(&app, 120, 40);
    assert!(text.contains("Program output"), "{text}");
    assert!(text.contains("hello from the program"), "{text}");
    assert!(text.contains("second line"), "{text}");
}

#[test]
fn identical_parked_continuations_fold_into_one_line_that_unfolds() {
    let mut state = State::new(SourceKind::Live, "many.wasm".into());
    let worker = |id: u64| {
        let mut c = cont(
            id,
            "suspended",
            "fiber!entry",
            vec![
                frame("app!worker"),
                frame("fiber!entry"),
                boundary(id, "fiber!entry", false),
            ],
        );
        c.name = Some("app!worker".into());
        c.created = Some("spawn at app.c:41".into());
        c.tag = Some("$yield".into());
        c
    };
    let mut other = cont(13, "fresh", "fiber!entry", vec![]);
    other.created = Some("main at app.c:7".into());
    state.picture = Picture {
        conts: vec![worker(10), worker(11), worker(12), other],
        trap: None,
    };
    state.progress = Progress::Stopped;
    let mut app = App::new(state);
    let mut control = Recorded::default();
    // Folded: one line for the three workers, by name and creation site.
    let text = screen(&app, 200, 30);
    assert!(
        text.contains("3× #10  suspended app!worker on $yield r10 s0 1K/256K ← spawn at app.c:41"),
        "{text}"
    );
    assert!(!text.contains("#11"), "{text}");
    // `/` finds by creation site.
    app.search("main at app.c");
    assert_eq!(app.selected_cont().map(|c| c.id), Some(13));
    // Unfolded: every member.
    app.search("spawn at");
    assert_eq!(app.selected_cont().map(|c| c.id), Some(10));
    app.apply(Action::Expand, &mut control);
    let text = screen(&app, 200, 30);
    assert!(text.contains("#11  suspended app!worker"), "{text}");
    assert!(!text.contains("3× "), "{text}");
    app.apply(Action::Expand, &mut control);
    assert!(screen(&app, 200, 30).contains("3× #10"));
    // Going to a folded member unfolds its group.
    assert!(app.select_id(12));
    assert_eq!(app.selected_cont().map(|c| c.id), Some(12));
}
