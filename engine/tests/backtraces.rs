//! Exact logical backtraces across continuations, through the public API:
//! `Caller::backtrace()` from a host probe and the backtrace of a trap.
//!
//! Each backtrace is turned into short strings, innermost first: a Wasm
//! frame is its function's name, a continuation boundary is
//! `|resumed ENTRY [HANDLERS]` (the frames above ran in a continuation whose
//! entry function is ENTRY, resumed by the frame below with those handler
//! tags), the host below the first Wasm frame is `host`; glue frames
//! (trampolines) are left out. Whole sequences are compared, with both
//! switching modes.
//!
//! The programs export their tags, so handlers are named by export; the
//! last test runs them all again without those exports, where the names
//! must come from the name section.
//!
//! Programs: a generator; resume chains of depth 1, 2, 5 and 10; `switch`
//! ping-pong; a suspension forwarded through three handlers and resumed by
//! a new resumer; an exception escaping a continuation into a `try_table` of
//! its resumer; a trap at the bottom of a 4-deep chain; a chain parked in a
//! table and resumed later from another function.

use std::sync::{Arc, Mutex};

use switchyard_engine::frames::Frame;
use switchyard_engine::*;

/// Every module is named `$bt`; frames of other modules would show up with
/// their module name.
const MODULE: &str = "bt";

/// The backtrace as short strings, innermost first, without the glue
/// frames (trampolines, host code) between Wasm frames and boundaries. The
/// innermost frame is always a Wasm one.
fn describe(frames: &[Frame]) -> Vec<String> {
    assert!(matches!(frames.first(), Some(Frame::Wasm(_))), "{frames:?}");
    frames
        .iter()
        .filter_map(|f| {
            Some(match f {
                Frame::Wasm(w) => {
                    if &*w.module == MODULE {
                        w.function.to_string()
                    } else {
                        w.qualified_name()
                    }
                }
                Frame::Host(_) => return None,
                Frame::Boundary(b) => {
                    assert!(b.resumed_here, "{b:?}");
                    let prefix = format!("{MODULE}!");
                    let entry = b.entry.strip_prefix(prefix.as_str()).unwrap_or(&b.entry);
                    let handlers = b.handlers.as_ref().expect("the engine knows the handlers");
                    format!("|resumed {entry} [{}]", handlers.join(", "))
                }
                Frame::HostEntry => "host".into(),
                Frame::Truncated { .. } => "truncated".into(),
                Frame::Skipped { frames } => format!("skipped {frames}"),
            })
        })
        .collect()
}

/// The continuation ids of the boundaries, innermost first.
fn ids(frames: &[Frame]) -> Vec<u64> {
    frames
        .iter()
        .filter_map(|f| Some(f.as_boundary()?.continuation))
        .collect()
}

/// Every program runs with both ways of switching stacks.
const MODES: [SwitchingMode; 2] = [SwitchingMode::Native, SwitchingMode::Libcall];

/// What the probe saw: its argument and the backtrace, per call.
type Probes = Arc<Mutex<Vec<(i32, Vec<Frame>)>>>;

/// Instantiates `wat` with `host.probe: [i32] -> []`, which records the
/// backtrace of its caller.
fn instantiate(wat: &str, mode: SwitchingMode) -> (Store<()>, Instance, Probes) {
    let engine = Engine::new(&Config {
        switching: mode,
        ..Config::default()
    })
    .unwrap();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let probes: Probes = Arc::default();
    let sink = probes.clone();
    linker.func_new(
        "host",
        "probe",
        FuncType::new([ValType::I32], []),
        move |caller, params, _| {
            let arg = params[0].i32().unwrap();
            sink.lock().unwrap().push((arg, caller.backtrace()));
            Ok(())
        },
    );
    let module = Module::new(&engine, wat).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    (store, instance, probes)
}

/// The backtrace the probe recorded with argument `arg` (exactly once).
fn probed(probes: &Probes, arg: i32) -> Vec<Frame> {
    let probes = probes.lock().unwrap();
    let mut found = probes.iter().filter(|(a, _)| *a == arg);
    let (_, frames) = found
        .next()
        .unwrap_or_else(|| panic!("no probe with {arg}"));
    assert!(found.next().is_none(), "more than one probe with {arg}");
    frames.clone()
}

fn probe_args(probes: &Probes) -> Vec<i32> {
    probes.lock().unwrap().iter().map(|(a, _)| *a).collect()
}

const GENERATOR: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $yield (param i32))
  (export "yield" (tag $yield))
  ;; Yields 1, 2, 3, 4, 5; probes before each yield.
  (func $gen
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $probe (local.get $i))
      (suspend $yield (local.get $i))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 5)))))
  (elem declare func $gen)
  ;; Sums what the generator yields.
  (func $consume (export "consume") (result i32)
    (local $k (ref null $ct))
    (local $sum i32)
    (local.set $k (cont.new $ct (ref.func $gen)))
    (block $done
      (loop $next
        (block $on_yield (result i32 (ref $ct))
          (resume $ct (on $yield $on_yield) (local.get $k))
          (br $done))
        (local.set $k)
        (local.set $sum (i32.add (local.get $sum)))
        (br $next)))
    (local.get $sum)))"#;

#[test]
fn a_generator_runs_above_its_consumer_on_every_iteration() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_generator_runs_above_its_consumer_on_every_iteration_in(GENERATOR, mode);
    }
}

fn a_generator_runs_above_its_consumer_on_every_iteration_in(wat: &str, mode: SwitchingMode) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let consume = instance
        .get_func(&mut store, "consume")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(consume.call(&mut store, ()).unwrap(), 15);
    assert_eq!(probe_args(&probes), [1, 2, 3, 4, 5]);

    let third = probed(&probes, 3);
    assert_eq!(
        describe(&third),
        ["gen", "|resumed gen [$yield]", "consume", "host"]
    );
    // Every iteration runs in the same continuation, resumed by the same
    // consumer loop.
    let first = probed(&probes, 1);
    for i in 1..=5 {
        let frames = probed(&probes, i);
        assert_eq!(describe(&frames), describe(&third), "iteration {i}");
        assert_eq!(ids(&frames), ids(&first), "iteration {i}");
    }
}

const CHAIN: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (type $ft (func (param i32) (result i32)))
  (type $ct (cont $ft))
  (type $ft0 (func (result i32)))
  (type $ct0 (cont $ft0))
  (tag $yield (param i32))
  (tag $outer)
  (export "yield" (tag $yield)) (export "outer" (tag $outer))
  ;; Level d (d >= 1) resumes level d - 1 in a new continuation; level 1
  ;; probes. Returns d.
  (func $level (param $d i32) (result i32)
    (if (result i32) (i32.eq (local.get $d) (i32.const 1))
      (then (call $probe (local.get $d)) (i32.const 1))
      (else
        (block $h (result i32 (ref $ct0))
          (return
            (i32.add (i32.const 1)
              (resume $ct (on $yield $h)
                (i32.sub (local.get $d) (i32.const 1))
                (cont.new $ct (ref.func $level))))))
        (drop) (drop) (i32.const -1))))
  (elem declare func $level)
  ;; A chain of n continuations.
  (func $run (export "run") (param $n i32) (result i32)
    (block $h (result (ref $ct0))
      (return
        (resume $ct (on $outer $h) (local.get $n) (cont.new $ct (ref.func $level)))))
    (drop) (i32.const -1)))"#;

#[test]
fn every_level_of_a_resume_chain_appears_with_a_boundary_below_it() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        every_level_of_a_resume_chain_appears_with_a_boundary_below_it_in(CHAIN, mode);
    }
}

fn every_level_of_a_resume_chain_appears_with_a_boundary_below_it_in(
    wat: &str,
    mode: SwitchingMode,
) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    for depth in [1, 2, 5, 10] {
        probes.lock().unwrap().clear();
        assert_eq!(run.call(&mut store, depth).unwrap(), depth);
        let frames = probed(&probes, 1);
        let mut expected: Vec<String> = Vec::new();
        for level in 1..=depth {
            expected.push("level".into());
            // Each level but the outermost was resumed by the level below
            // it, which handles $yield; `run` resumed the outermost with a
            // $outer handler.
            expected.push(if level == depth {
                "|resumed level [$outer]".into()
            } else {
                "|resumed level [$yield]".into()
            });
        }
        expected.extend(["run".into(), "host".into()]);
        assert_eq!(describe(&frames), expected, "depth {depth}");
        // One continuation per level, all different.
        let mut seen = ids(&frames);
        assert_eq!(seen.len(), depth as usize);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), depth as usize, "ids {:?}", ids(&frames));
    }
}

const PING_PONG: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (rec
    (type $fp (func (param i32 (ref null $cp)) (result i32)))
    (type $cp (cont $fp)))
  (type $fd (func (result i32)))
  (type $cd (cont $fd))
  (tag $sw (result i32))
  (tag $other)
  (export "sw" (tag $sw)) (export "other" (tag $other))
  ;; Both players probe with the value they received, add 1 and switch to
  ;; the other; ping sees 0, 2, 4, 6 and pong 1, 3, 5, 7. Pong returns at 7.
  (func $ping (type $fp)
    (local $v i32)
    (local $other (ref null $cp))
    (local.set $v (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (call $probe (local.get $v))
      (if (i32.ge_s (local.get $v) (i32.const 7)) (then (return (local.get $v))))
      (switch $cp $sw (i32.add (local.get $v) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $v)
      (br $l))
    (unreachable))
  (func $pong (type $fp)
    (local $v i32)
    (local $other (ref null $cp))
    (local.set $v (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (call $probe (local.get $v))
      (if (i32.ge_s (local.get $v) (i32.const 7))
        (then (return (i32.add (local.get $v) (i32.const 1000)))))
      (switch $cp $sw (i32.add (local.get $v) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $v)
      (br $l))
    (unreachable))
  ;; Runs in a continuation of its own; resumes ping, handing it a fresh pong.
  (func $driver (type $fd)
    (block $h (result (ref $cd))
      (return
        (resume $cp (on $other $h) (on $sw switch)
          (i32.const 0) (cont.new $cp (ref.func $pong))
          (cont.new $cp (ref.func $ping)))))
    (drop) (i32.const -1))
  (elem declare func $ping $pong $driver)
  (func $run (export "run") (result i32)
    (resume $cd (cont.new $cd (ref.func $driver)))))"#;

#[test]
fn a_switched_to_continuation_takes_the_switchers_place() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_switched_to_continuation_takes_the_switchers_place_in(PING_PONG, mode);
    }
}

fn a_switched_to_continuation_takes_the_switchers_place_in(wat: &str, mode: SwitchingMode) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 1007);
    assert_eq!(probe_args(&probes), [0, 1, 2, 3, 4, 5, 6, 7]);

    // After five switches, pong runs directly under the resume with the
    // switch clause, in ping's place.
    let pong = probed(&probes, 5);
    assert_eq!(
        describe(&pong),
        [
            "pong",
            "|resumed pong [$other, $sw (switch)]",
            "driver",
            "|resumed driver []",
            "run",
            "host",
        ]
    );
    let ping = probed(&probes, 4);
    assert_eq!(
        describe(&ping),
        [
            "ping",
            "|resumed ping [$other, $sw (switch)]",
            "driver",
            "|resumed driver []",
            "run",
            "host",
        ]
    );
    // Every turn of either player looks the same, in the same continuation
    // (the resumed one each time a switch comes back), below the same driver.
    for v in 0..=7 {
        let frames = probed(&probes, v);
        let (name, same) = if v % 2 == 0 {
            ("ping", &ping)
        } else {
            ("pong", &pong)
        };
        assert_eq!(describe(&frames), describe(same), "{name} at {v}");
        assert_eq!(ids(&frames), ids(same), "{name} at {v}");
    }
    assert_ne!(ids(&ping)[0], ids(&pong)[0], "two continuations");
    assert_eq!(ids(&ping)[1], ids(&pong)[1], "one driver");
}

const FORWARDED: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $t) (tag $a) (tag $b) (tag $c) (tag $z)
  (export "t" (tag $t)) (export "a" (tag $a)) (export "b" (tag $b)) (export "c" (tag $c)) (export "z" (tag $z))
  ;; Probes, suspends with $t, probes again once resumed.
  (func $leaf
    (call $probe (i32.const 1))
    (suspend $t)
    (call $probe (i32.const 2)))
  ;; Three handlers, none for $t.
  (func $l3
    (block $h (result (ref $ct))
      (resume $ct (on $c $h) (cont.new $ct (ref.func $leaf)))
      (return))
    (unreachable))
  (func $l2
    (block $h (result (ref $ct))
      (resume $ct (on $b $h) (cont.new $ct (ref.func $l3)))
      (return))
    (unreachable))
  (func $l1
    (block $h (result (ref $ct))
      (resume $ct (on $a $h) (cont.new $ct (ref.func $l2)))
      (return))
    (unreachable))
  (elem declare func $leaf $l3 $l2 $l1)
  ;; Resumes the captured chain with a handler of its own.
  (func $resumer (param $k (ref $ct))
    (block $h (result (ref $ct))
      (resume $ct (on $z $h) (local.get $k))
      (return))
    (unreachable))
  (func $run (export "run")
    (block $h (result (ref $ct))
      (resume $ct (on $t $h) (cont.new $ct (ref.func $l1)))
      (unreachable))
    (call $resumer)))"#;

#[test]
fn a_forwarded_suspension_keeps_the_whole_chain_under_its_new_resumer() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_forwarded_suspension_keeps_the_whole_chain_under_its_new_resumer_in(FORWARDED, mode);
    }
}

fn a_forwarded_suspension_keeps_the_whole_chain_under_its_new_resumer_in(
    wat: &str,
    mode: SwitchingMode,
) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let run = instance.get_func(&mut store, "run").unwrap();
    run.call(&mut store, &[], &mut []).unwrap();
    assert_eq!(probe_args(&probes), [1, 2]);

    let before = probed(&probes, 1);
    assert_eq!(
        describe(&before),
        [
            "leaf",
            "|resumed leaf [$c]",
            "l3",
            "|resumed l3 [$b]",
            "l2",
            "|resumed l2 [$a]",
            "l1",
            "|resumed l1 [$t]",
            "run",
            "host",
        ]
    );
    let after = probed(&probes, 2);
    assert_eq!(
        describe(&after),
        [
            "leaf",
            "|resumed leaf [$c]",
            "l3",
            "|resumed l3 [$b]",
            "l2",
            "|resumed l2 [$a]",
            "l1",
            "|resumed l1 [$z]",
            "resumer",
            "run",
            "host",
        ]
    );
    // The same four continuations.
    assert_eq!(ids(&after), ids(&before));
}

const EXCEPTION: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (type $ft (func (result i32)))
  (type $ct (cont $ft))
  (tag $e (param i32))
  (tag $yield)
  (export "e" (tag $e)) (export "yield" (tag $yield))
  (func $thrower (result i32)
    (call $probe (i32.const 1))
    (throw $e (i32.const 41)))
  (func $body (result i32)
    (i32.add (i32.const 1000) (call $thrower)))
  ;; Runs in a continuation; resumes body inside a try_table and catches
  ;; its exception.
  (func $mid (result i32)
    (block $caught (result i32)
      (block $h (result (ref $ct))
        (try_table (result i32) (catch $e $caught)
          (resume $ct (on $yield $h) (cont.new $ct (ref.func $body))))
        (return))
      (drop)
      (return (i32.const -1)))
    ;; The catch handler, with the payload on the stack.
    (call $probe (i32.const 2))
    (i32.add (i32.const 1)))
  (elem declare func $body $mid)
  (func $run (export "run") (result i32)
    (resume $ct (cont.new $ct (ref.func $mid)))))"#;

#[test]
fn a_catch_handler_in_the_resumer_no_longer_sees_the_continuation() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_catch_handler_in_the_resumer_no_longer_sees_the_continuation_in(EXCEPTION, mode);
    }
}

fn a_catch_handler_in_the_resumer_no_longer_sees_the_continuation_in(
    wat: &str,
    mode: SwitchingMode,
) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 42);
    assert_eq!(probe_args(&probes), [1, 2]);

    let thrower = probed(&probes, 1);
    assert_eq!(
        describe(&thrower),
        [
            "thrower",
            "body",
            "|resumed body [$yield]",
            "mid",
            "|resumed mid []",
            "run",
            "host",
        ]
    );
    let handler = probed(&probes, 2);
    assert_eq!(
        describe(&handler),
        ["mid", "|resumed mid []", "run", "host"]
    );
    // `mid` still runs in the same continuation.
    assert_eq!(ids(&handler), ids(&thrower)[1..]);
}

const TRAP: &str = r#"(module $bt
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $a) (tag $b) (tag $c) (tag $d)
  (export "a" (tag $a)) (export "b" (tag $b)) (export "c" (tag $c)) (export "d" (tag $d))
  (func $boom (unreachable))
  (func $c4 (call $boom))
  (func $c3
    (block $h (result (ref $ct))
      (resume $ct (on $d $h) (cont.new $ct (ref.func $c4)))
      (return))
    (drop))
  (func $c2
    (block $h (result (ref $ct))
      (resume $ct (on $c $h) (cont.new $ct (ref.func $c3)))
      (return))
    (drop))
  (func $c1
    (block $h (result (ref $ct))
      (resume $ct (on $b $h) (cont.new $ct (ref.func $c2)))
      (return))
    (drop))
  (elem declare func $c4 $c3 $c2 $c1)
  (func $run (export "run")
    (block $h (result (ref $ct))
      (resume $ct (on $a $h) (cont.new $ct (ref.func $c1)))
      (return))
    (drop)))"#;

#[test]
fn a_trap_at_the_bottom_of_a_four_deep_chain_names_every_level() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_trap_at_the_bottom_of_a_four_deep_chain_names_every_level_in(TRAP, mode);
    }
}

fn a_trap_at_the_bottom_of_a_four_deep_chain_names_every_level_in(wat: &str, mode: SwitchingMode) {
    let (mut store, instance, _) = instantiate(wat, mode);
    let run = instance.get_func(&mut store, "run").unwrap();
    let mut previous: Option<Vec<u64>> = None;
    // Twice: the store stays usable, and the second chain is a new one.
    for _ in 0..2 {
        let e = run.call(&mut store, &[], &mut []).unwrap_err();
        let trap = e.as_trap().unwrap();
        assert!(matches!(trap.code, TrapCode::Unreachable), "{trap}");
        assert_eq!(
            describe(&trap.backtrace),
            [
                "boom",
                "c4",
                "|resumed c4 [$d]",
                "c3",
                "|resumed c3 [$c]",
                "c2",
                "|resumed c2 [$b]",
                "c1",
                "|resumed c1 [$a]",
                "run",
                "host",
            ]
        );
        let now = ids(&trap.backtrace);
        if let Some(previous) = &previous {
            assert_ne!(&now, previous, "new continuations");
        }
        previous = Some(now);
    }
}

const PARKED: &str = r#"(module $bt
  (import "host" "probe" (func $probe (param i32)))
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $t) (tag $a) (tag $b) (tag $z)
  (export "t" (tag $t)) (export "a" (tag $a)) (export "b" (tag $b)) (export "z" (tag $z))
  (table $ks 2 (ref null $ct))
  (func $leaf
    (call $probe (i32.const 1))
    (suspend $t)
    (call $probe (i32.const 2)))
  (func $m2
    (block $h (result (ref $ct))
      (resume $ct (on $b $h) (cont.new $ct (ref.func $leaf)))
      (return))
    (unreachable))
  (func $m1
    (block $h (result (ref $ct))
      (resume $ct (on $a $h) (cont.new $ct (ref.func $m2)))
      (return))
    (unreachable))
  (elem declare func $leaf $m2 $m1)
  ;; Runs the chain until leaf suspends (forwarded past m2 and m1), and
  ;; parks it in the table.
  (func $park (export "park")
    (local $k (ref null $ct))
    (block $h (result (ref $ct))
      (resume $ct (on $t $h) (cont.new $ct (ref.func $m1)))
      (unreachable))
    (local.set $k)
    (table.set $ks (i32.const 1) (local.get $k)))
  (func $wake (param $i i32)
    (block $h (result (ref $ct))
      (resume $ct (on $z $h) (table.get $ks (local.get $i)))
      (return))
    (unreachable))
  (func $later (export "later")
    (call $wake (i32.const 1))))"#;

#[test]
fn a_parked_chain_resumed_later_runs_above_its_new_resumer() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_parked_chain_resumed_later_runs_above_its_new_resumer_in(PARKED, mode);
    }
}

fn a_parked_chain_resumed_later_runs_above_its_new_resumer_in(wat: &str, mode: SwitchingMode) {
    let (mut store, instance, probes) = instantiate(wat, mode);
    let park = instance.get_func(&mut store, "park").unwrap();
    let later = instance.get_func(&mut store, "later").unwrap();
    park.call(&mut store, &[], &mut []).unwrap();
    assert_eq!(probe_args(&probes), [1]);
    let before = probed(&probes, 1);
    assert_eq!(
        describe(&before),
        [
            "leaf",
            "|resumed leaf [$b]",
            "m2",
            "|resumed m2 [$a]",
            "m1",
            "|resumed m1 [$t]",
            "park",
            "host",
        ]
    );
    later.call(&mut store, &[], &mut []).unwrap();
    assert_eq!(probe_args(&probes), [1, 2]);
    let after = probed(&probes, 2);
    assert_eq!(
        describe(&after),
        [
            "leaf",
            "|resumed leaf [$b]",
            "m2",
            "|resumed m2 [$a]",
            "m1",
            "|resumed m1 [$z]",
            "wake",
            "later",
            "host",
        ]
    );
    assert_eq!(ids(&after), ids(&before));
}

/// `wat` without the lines that export its tags.
fn without_tag_exports(wat: &str) -> String {
    let kept: Vec<&str> = wat
        .lines()
        .filter(|l| !(l.trim_start().starts_with("(export ") && l.contains("(tag $")))
        .collect();
    assert!(kept.len() < wat.lines().count(), "no tag exports in {wat}");
    kept.join("\n")
}

/// Tags that are not exported are named from the name section (`$name` in
/// WAT), the same as exported ones: every program again, without its tag
/// exports.
#[test]
fn handler_tags_are_named_from_the_name_section() {
    for mode in MODES {
        eprintln!("switching: {mode:?}");
        a_generator_runs_above_its_consumer_on_every_iteration_in(
            &without_tag_exports(GENERATOR),
            mode,
        );
        every_level_of_a_resume_chain_appears_with_a_boundary_below_it_in(
            &without_tag_exports(CHAIN),
            mode,
        );
        a_switched_to_continuation_takes_the_switchers_place_in(
            &without_tag_exports(PING_PONG),
            mode,
        );
        a_forwarded_suspension_keeps_the_whole_chain_under_its_new_resumer_in(
            &without_tag_exports(FORWARDED),
            mode,
        );
        a_catch_handler_in_the_resumer_no_longer_sees_the_continuation_in(
            &without_tag_exports(EXCEPTION),
            mode,
        );
        a_trap_at_the_bottom_of_a_four_deep_chain_names_every_level_in(
            &without_tag_exports(TRAP),
            mode,
        );
        a_parked_chain_resumed_later_runs_above_its_new_resumer_in(
            &without_tag_exports(PARKED),
            mode,
        );
    }
}
