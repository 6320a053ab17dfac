//! From a host function called at the bottom of a 3-deep resume chain, an
//! in-process DWARF unwind (libgcc's `_Unwind_Backtrace`) and a plain
//! frame-pointer walk both cross every continuation's bottom frame and reach
//! the host frames that entered Wasm.

use std::sync::{Arc, Mutex};

use switchyard_engine::frames::Frame;
use switchyard_engine::vm::code_lookup;
use switchyard_engine::*;

#[repr(C)]
struct UnwindContext {
    _private: [u8; 0],
}
unsafe extern "C" {
    fn _Unwind_Backtrace(
        trace: extern "C" fn(*mut UnwindContext, *mut std::ffi::c_void) -> i32,
        arg: *mut std::ffi::c_void,
    ) -> i32;
    fn _Unwind_GetIP(ctx: *mut UnwindContext) -> usize;
}

extern "C" fn collect(ctx: *mut UnwindContext, arg: *mut std::ffi::c_void) -> i32 {
    // SAFETY: `arg` is the Vec passed by `dwarf_backtrace`.
    let ips = unsafe { &mut *(arg as *mut Vec<usize>) };
    // SAFETY: libgcc passes a live context.
    ips.push(unsafe { _Unwind_GetIP(ctx) });
    if ips.len() > 500 { 5 } else { 0 }
}

#[inline(never)]
fn dwarf_backtrace() -> Vec<usize> {
    let mut ips: Vec<usize> = Vec::new();
    // SAFETY: the callback only appends to `ips`.
    unsafe {
        _Unwind_Backtrace(
            collect,
            &mut ips as *mut Vec<usize> as *mut std::ffi::c_void,
        )
    };
    ips
}

/// Walks saved frame pointers from the current frame; returns the return
/// addresses. Every frame on the way was compiled with frame pointers
/// (generated code, the trampolines, and this crate via .cargo/config.toml).
#[inline(never)]
fn fp_backtrace() -> Vec<usize> {
    let mut fp: usize;
    // SAFETY: reading rbp.
    unsafe { std::arch::asm!("mov {}, rbp", out(reg) fp) };
    let mut ips = Vec::new();
    while fp != 0 && ips.len() < 500 {
        // SAFETY: each frame record [saved fp, return address] is on a live
        // stack of this thread (this is what the test checks).
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret == 0 {
            break;
        }
        ips.push(ret);
        fp = next;
    }
    ips
}

/// Names of the Wasm functions among `ips`, innermost first.
fn wasm_names(ips: &[usize]) -> Vec<String> {
    ips.iter()
        .filter_map(|&ip| {
            let pc = ip.checked_sub(1)?;
            let info = code_lookup::lookup(pc)?;
            Some(info.function_name_at(pc)?.to_string())
        })
        .collect()
}

const CHAIN: &str = r#"(module
  (import "host" "probe" (func $probe))
  (type $ft (func (param i32) (result i32)))
  (type $ct (cont $ft))
  (func $level (param $d i32) (result i32)
    (if (result i32) (i32.eqz (local.get $d))
      (then (call $probe) (i32.const 0))
      (else
        (i32.add (i32.const 1)
          (resume $ct (i32.sub (local.get $d) (i32.const 1))
            (cont.new $ct (ref.func $level)))))))
  (elem declare func $level)
  (func (export "run") (result i32)
    (resume $ct (i32.const 2) (cont.new $ct (ref.func $level)))))"#;

#[test]
fn unwinders_cross_a_three_deep_resume_chain() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let traces: Arc<Mutex<(Vec<usize>, Vec<usize>)>> = Arc::default();
    let sink = traces.clone();
    linker.func_new("host", "probe", FuncType::new([], []), move |_, _, _| {
        *sink.lock().unwrap() = (dwarf_backtrace(), fp_backtrace());
        Ok(())
    });
    let module = Module::new(&engine, CHAIN).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 2);
    let outside = dwarf_backtrace();
    let (dwarf, fp) = traces.lock().unwrap().clone();

    // Three continuation stacks, each running `level`, resumed from `level`
    // (twice) and from `run` (once): every resume site is on the way.
    let expected = ["level", "level", "level", "run"];
    assert_eq!(wasm_names(&dwarf), expected, "DWARF walk: {dwarf:x?}");
    assert_eq!(wasm_names(&fp), expected, "frame-pointer walk: {fp:x?}");

    // Both walks continue into the host frames that called `run`: the
    // DWARF walk all the way to the thread's first frame.
    let common = outside.len() - 2;
    assert_eq!(
        dwarf[dwarf.len() - common..],
        outside[outside.len() - common..]
    );
    // The frame-pointer walk agrees with the DWARF one on the deepest host
    // frames (the test harness's thread), so it crossed everything above.
    assert!(fp.len() > 20, "{fp:x?}");
    for ip in &fp[fp.len() - 10..fp.len() - 1] {
        assert!(
            dwarf.contains(ip),
            "{ip:x} of the fp walk {fp:x?} not in the DWARF walk {dwarf:x?}"
        );
    }
}

const SUSPENDED: &str = r#"(module
  (import "host" "probe" (func $probe))
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $t)
  (func $inner (suspend $t) (call $probe))
  (elem declare func $inner)
  (func (export "run")
    (local $k (ref null $ct))
    (block $h (result (ref $ct))
      (resume $ct (on $t $h) (cont.new $ct (ref.func $inner)))
      (return))
    (local.set $k)
    (resume $ct (local.get $k))))"#;

#[test]
fn a_resumed_continuation_walks_into_its_new_resumer() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let traces: Arc<Mutex<(Vec<usize>, Vec<usize>)>> = Arc::default();
    let sink = traces.clone();
    linker.func_new("host", "probe", FuncType::new([], []), move |_, _, _| {
        *sink.lock().unwrap() = (dwarf_backtrace(), fp_backtrace());
        Ok(())
    });
    let module = Module::new(&engine, SUSPENDED).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance.get_func(&mut store, "run").unwrap();
    run.call(&mut store, &[], &mut []).unwrap();
    let (dwarf, fp) = traces.lock().unwrap().clone();
    assert_eq!(wasm_names(&dwarf), ["inner", "run"]);
    assert_eq!(wasm_names(&fp), ["inner", "run"]);
}

/// The records of this process's stores, from the registry.
fn suspended_records() -> Vec<usize> {
    use switchyard_engine::vm::registry::{StoreDescriptor, with_registry};
    use switchyard_engine::vm::stack_switching::continuation::{ContinuationRecord, state};
    with_registry(|h| {
        let mut found = Vec::new();
        let mut store = h.stores;
        while store != 0 {
            // SAFETY: the registry holds live descriptors while locked.
            let s = unsafe { &*(store as *const StoreDescriptor) };
            for i in 0..s.record_count as usize {
                // SAFETY: `records` has `record_count` record pointers.
                let r = unsafe { *(s.records as *const usize).add(i) } as *const ContinuationRecord;
                if unsafe { (*r).state } == state::SUSPENDED {
                    found.push(r as usize);
                }
            }
            store = s.next;
        }
        found
    })
}

#[test]
fn a_walk_from_a_suspended_continuation_ends_at_its_trampoline() {
    use switchyard_engine::vm::stack_switching::continuation::{
        ContinuationRecord, switchyard_continuation_start,
    };
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
          (type $ft (func)) (type $ct (cont $ft))
          (tag $t)
          (global $k (mut (ref null $ct)) (ref.null $ct))
          (func $leaf (suspend $t))
          (func $middle (call $leaf))
          (elem declare func $middle)
          (func (export "park")
            (block $h (result (ref $ct))
              (resume $ct (on $t $h) (cont.new $ct (ref.func $middle)))
              (return))
            (global.set $k)))"#,
    )
    .unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let park = instance.get_func(&mut store, "park").unwrap();
    park.call(&mut store, &[], &mut []).unwrap();

    // Other tests in this process may have continuations of their own:
    // ours is the one suspended in `leaf`.
    let records: Vec<usize> = suspended_records()
        .into_iter()
        .filter(|&r| {
            let pc = unsafe { (*(r as *const ContinuationRecord)).own.pc };
            wasm_names(&[pc + 1]) == ["leaf"]
        })
        .collect();
    assert_eq!(records.len(), 1, "one suspended continuation: {records:x?}");
    let record = unsafe { &*(records[0] as *const ContinuationRecord) };
    assert_eq!(
        record.parent.pc, 0,
        "a suspended continuation has no parent"
    );
    // Walk its frames from its saved context: leaf, middle, then the
    // trampoline's frame record, whose return address is 0.
    let mut ips = vec![record.own.pc];
    let mut fp = record.own.fp;
    loop {
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if ret == 0 {
            break;
        }
        ips.push(ret);
        fp = next;
        assert!(ips.len() < 50, "the walk does not end: {ips:x?}");
    }
    let names = wasm_names(&ips.iter().map(|ip| ip + 1).collect::<Vec<_>>());
    assert_eq!(names, ["leaf", "middle"]);
    // The frame record that ended the walk is the trampoline's.
    assert_eq!(fp, record as *const ContinuationRecord as usize + 72 + 8);
    let start = switchyard_continuation_start as *const () as usize;
    assert!(
        ips.last().is_some_and(|&ip| ip > start && ip < start + 64),
        "{ips:x?}"
    );
}

#[test]
fn a_trap_captures_the_logical_backtrace_across_continuations() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module $bt
          (type $ft (func (param i32) (result i32)))
          (type $ct (cont $ft))
          (type $ft0 (func (result i32)))
          (type $ct0 (cont $ft0))
          (tag $yield (export "yield") (param i32))
          (func $divide (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
          (func $level (param $d i32) (result i32)
            (if (result i32) (i32.eqz (local.get $d))
              (then (call $divide (i32.const 0)))
              (else
                (block $h (result i32 (ref $ct0))
                  (return (resume $ct (on $yield $h) (i32.sub (local.get $d) (i32.const 1))
                    (cont.new $ct (ref.func $level)))))
                (drop) (drop) (i32.const -1))))
          (elem declare func $level)
          (func (export "run") (param i32) (result i32)
            (resume $ct (local.get 0) (cont.new $ct (ref.func $level)))))"#,
    )
    .unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    for _ in 0..3 {
        let e = run.call(&mut store, 2).unwrap_err();
        let trap = e.as_trap().unwrap();
        let lines: Vec<String> = trap
            .backtrace
            .iter()
            .filter_map(|f| match f {
                Frame::Wasm(w) => Some(w.qualified_name()),
                Frame::Boundary(b) => Some(format!(
                    "resumed {} [{}]",
                    b.entry,
                    b.handlers.as_deref().unwrap_or_default().join(", ")
                )),
                Frame::HostEntry => Some("host".into()),
                _ => None,
            })
            .collect();
        assert_eq!(
            lines,
            [
                "bt!divide",
                "bt!level",
                "resumed bt!level [$yield]",
                "bt!level",
                "resumed bt!level [$yield]",
                "bt!level",
                "resumed bt!level []",
                "bt!run",
                "host",
            ]
        );
    }
}

#[test]
fn a_host_function_sees_the_backtrace_of_its_wasm_callers() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let seen: Arc<Mutex<Vec<Frame>>> = Arc::default();
    let sink = seen.clone();
    linker.func_new(
        "host",
        "probe",
        FuncType::new([], []),
        move |caller, _, _| {
            *sink.lock().unwrap() = caller.backtrace();
            Ok(())
        },
    );
    let module = Module::new(&engine, CHAIN).unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<(), i32>(&store)
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 2);
    let frames = seen.lock().unwrap().clone();
    let names: Vec<String> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Wasm(w) => Some(w.function.to_string()),
            Frame::Boundary(_) => Some("|".into()),
            Frame::HostEntry => Some("host".into()),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        ["level", "|", "level", "|", "level", "|", "run", "host"]
    );
}
