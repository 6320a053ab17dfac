//! The live source over a real program: the engine reports switch events,
//! the program thread waits at each stop, the inspector's state follows.
//! One test at a time: the engine's watcher is process-wide.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use switchyard_engine::{Config, Engine, Error, Linker, Module, Store, SwitchingMode, Val};
use switchyard_inspect::app::{App, Control};
use switchyard_inspect::state::live::{Live, LiveControl, ProgramHandle};
use switchyard_inspect::state::{Frame, Progress, SourceKind, State};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn engine(switching: SwitchingMode) -> Engine {
    Engine::new(&Config {
        report_switch_events: true,
        switching,
        ..Default::default()
    })
    .unwrap()
}

const MODES: [SwitchingMode; 2] = [SwitchingMode::Native, SwitchingMode::Libcall];

/// Starts `body` on a program thread under a live source.
fn start(body: impl FnOnce(&ProgramHandle) + Send + 'static) -> (Live, State) {
    let (live, handle) = Live::install();
    std::thread::spawn(move || body(&handle));
    (live, State::new(SourceKind::Live, "test".into()))
}

/// Polls until a new picture arrives; returns the continuation it is about.
fn next_stop(live: &mut Live, state: &mut State) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(focus) = live.poll(state) {
            return focus;
        }
        assert!(
            Instant::now() < deadline,
            "no stop; events: {:?}",
            state.events
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn control<'a>(live: &'a Live, state: &State) -> LiveControl<'a> {
    LiveControl {
        live,
        progress: state.progress.clone(),
    }
}

fn functions(frames: &[Frame]) -> Vec<String> {
    frames
        .iter()
        .map(|f| match f {
            Frame::Wasm(w) => w.qualified_name(),
            Frame::Boundary(b) => format!(
                "#{}{}",
                b.continuation,
                if b.resumed_here {
                    " resumed"
                } else {
                    " bottom"
                }
            ),
            Frame::HostEntry => "host".into(),
            Frame::Truncated { reason } => reason.clone(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn stepping_a_generator_switch_by_switch() {
    for mode in MODES {
        stepping_a_generator(mode);
    }
}

fn stepping_a_generator(mode: SwitchingMode) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (mut live, mut state) = start(move |handle| {
        let engine = engine(mode);
        let module = Module::from_file(&engine, "../bench/wat/yield_loop.wat").unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let run = instance.get_func(&mut store, "run").unwrap();
        let mut results = [Val::I64(0)];
        match run.call(&mut store, &[Val::I64(5)], &mut results) {
            Ok(()) => handle.finished(format!("returned {:?}", results[0])),
            Err(e) => handle.failed(e.to_string()),
        }
    });

    // It stops at its first switch: the generator, fresh, about to run.
    assert_eq!(next_stop(&mut live, &mut state), 1);
    assert_eq!(state.progress, Progress::Stopped);
    assert_eq!(state.events.len(), 1);
    assert_eq!(
        state.events[0].describe(),
        "resume #1 (yield_loop!gen) from host"
    );
    let gen_ = state.picture.cont(1).unwrap();
    assert_eq!(gen_.state, "fresh");
    let host = state.picture.cont(0).unwrap();
    assert_eq!(functions(&host.frames), ["yield_loop!run", "host"]);

    // Three steps: suspend, resume, suspend.
    for _ in 0..3 {
        control(&live, &state).step(1).unwrap();
        next_stop(&mut live, &mut state);
    }
    let kinds: Vec<&str> = state.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["resume", "suspend", "resume", "suspend"]);
    let gen_ = state.picture.cont(1).unwrap();
    assert_eq!(gen_.state, "suspended");
    assert_eq!(gen_.tag.as_deref(), Some("$yield"));
    assert_eq!(gen_.resumes, 2);
    assert!(gen_.stack_used > 0 && gen_.stack_used < gen_.stack_size);
    assert_eq!(functions(&gen_.frames), ["yield_loop!gen", "#1 bottom"]);

    // The screen says the same.
    let mut app = App::new(state.clone());
    app.new_picture(Some(1));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| switchyard_inspect::view::draw(f, &app))
        .unwrap();
    let buffer = terminal.backend().buffer().clone();
    let text: String = (0..40)
        .map(|y| {
            (0..120)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(
        text.contains("#1   suspended yield_loop!gen on $yield r2"),
        "{text}"
    );
    assert!(text.contains("-- bottom of #1 (yield_loop!gen)"), "{text}");

    // Step 3 at once: resume, suspend, resume; the generator runs.
    control(&live, &state).step(3).unwrap();
    next_stop(&mut live, &mut state);
    assert_eq!(state.total_events, 7);
    let gen_ = state.picture.cont(1).unwrap();
    assert_eq!(
        gen_.state, "suspended",
        "a resume event shows it before it runs"
    );

    // A break point on the tag stops at the next suspension only.
    control(&live, &state)
        .set_breaks(&["$yield".to_string()])
        .unwrap();
    control(&live, &state).resume().unwrap();
    next_stop(&mut live, &mut state);
    assert_eq!(state.total_events, 8);
    assert_eq!(state.events.back().unwrap().kind, "suspend");

    // Without break points it runs to the end: 5 yields, a last resume, the
    // return.
    control(&live, &state).set_breaks(&[]).unwrap();
    control(&live, &state).resume().unwrap();
    next_stop(&mut live, &mut state);
    assert_eq!(
        state.progress,
        Progress::Finished("returned I64(10)".into())
    );
    assert_eq!(
        state.events.back().unwrap().describe(),
        "return #1 (yield_loop!gen)"
    );
    assert_eq!(state.total_events, 12);
    assert!(control(&live, &state).step(1).is_err());
    live.release();
}

#[test]
fn a_trap_shows_its_chain_and_the_parked_continuations() {
    for mode in MODES {
        trap_chain(mode);
    }
}

fn trap_chain(mode: SwitchingMode) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (mut live, mut state) = start(move |handle| {
        let engine = engine(mode);
        let module = Module::from_file(&engine, "../tests/inspect/trap_chain.wat").unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let start = instance.get_func(&mut store, "_start").unwrap();
        match start.call(&mut store, &[], &mut []) {
            Err(Error::Trap(trap)) => handle.trapped(&trap, &[module]),
            other => handle.failed(format!("no trap: {other:?}")),
        }
    });
    next_stop(&mut live, &mut state);
    control(&live, &state).resume().unwrap();
    next_stop(&mut live, &mut state);
    assert_eq!(state.progress, Progress::Finished("trapped".into()));
    let trap = state.picture.trap.as_ref().expect("a trap");
    assert_eq!(
        trap.message,
        "wasm trap: integer divide by zero in trap_chain!inner"
    );
    assert_eq!(
        functions(&trap.frames),
        [
            "trap_chain!inner",
            "#3 resumed",
            "trap_chain!outer",
            "#2 resumed",
            "trap_chain!_start",
            "host"
        ]
    );
    let gen_ = state.picture.cont(1).unwrap();
    assert_eq!(gen_.state, "suspended");
    assert_eq!(gen_.tag.as_deref(), Some("$yield"));
    assert_eq!(functions(&gen_.frames), ["trap_chain!gen", "#1 bottom"]);
    let kinds: Vec<&str> = state.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["resume", "suspend", "resume", "resume", "trap"]);
    live.release();
}

#[test]
fn fresh_continuations_are_named_by_what_their_entry_will_call() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (mut live, mut state) = start(move |handle| {
        let engine = engine(SwitchingMode::Native);
        let module = Module::from_file(&engine, "../tests/fresh/entries.wat").unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Linker::new(&engine)
            .instantiate(&mut store, &module)
            .unwrap();
        let park = instance.get_func(&mut store, "park").unwrap();
        match park.call(&mut store, &[], &mut []) {
            Err(Error::Trap(trap)) => handle.trapped(&trap, &[module]),
            other => handle.failed(format!("no trap: {other:?}")),
        }
    });
    next_stop(&mut live, &mut state);
    assert_eq!(state.progress, Progress::Finished("trapped".into()));
    // tests/fresh/entries.wat: a bound table index, a bound funcref, an
    // unbound callee, an entry that is no wrapper.
    let expected = [
        (1, "fresh!target_index", "fresh!by_index"),
        (2, "fresh!target_ref", "fresh!by_ref"),
        (3, "fresh!by_index", "fresh!by_index"),
        (4, "fresh!plain", "fresh!plain"),
    ];
    for (id, title, entry) in expected {
        let c = state.picture.cont(id).unwrap();
        assert_eq!(c.state, "fresh");
        assert_eq!((c.title(), c.entry.as_str()), (title, entry), "#{id}");
    }
    live.release();
}
