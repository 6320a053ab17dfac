//! The host API end to end: calls in both directions, traps, errors from
//! host functions, and that a store stays usable after any of them.

use switchyard_engine::*;

fn instantiate(store: &mut Store<()>, linker: &Linker<()>, wat: &str) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    linker.instantiate(store, &module).unwrap()
}

#[test]
fn host_functions_are_called_with_their_arguments() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_new(
        "host",
        "mul",
        FuncType::new([ValType::I64, ValType::I64], [ValType::I64]),
        |_, params, results| {
            results[0] = Val::I64(params[0].i64().unwrap() * params[1].i64().unwrap());
            Ok(())
        },
    );
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (import "host" "mul" (func $mul (param i64 i64) (result i64)))
            (func (export "square_plus_one") (param i64) (result i64)
              (i64.add (call $mul (local.get 0) (local.get 0)) (i64.const 1))))"#,
    );
    let f = instance.get_func(&mut store, "square_plus_one").unwrap();
    let f = f.typed::<i64, i64>(&store).unwrap();
    assert_eq!(f.call(&mut store, 12).unwrap(), 145);
}

#[test]
fn a_trap_leaves_the_store_usable() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (memory 1)
            (func $deep (export "deep") (param i32) (result i32)
              (i32.add (call $deep (local.get 0)) (i32.const 1)))
            (func (export "load") (param i32) (result i32) (i32.load (local.get 0))))"#,
    );
    let deep = instance
        .get_func(&mut store, "deep")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    let load = instance
        .get_func(&mut store, "load")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    for _ in 0..3 {
        let e = deep.call(&mut store, 0).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code, TrapCode::StackOverflow);
        let e = load.call(&mut store, 65534).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code, TrapCode::MemoryOutOfBounds);
        assert_eq!(load.call(&mut store, 0).unwrap(), 0);
    }
}

#[test]
fn a_host_error_unwinds_through_wasm_frames() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_new(
        "host",
        "fail",
        FuncType::new([ValType::I32], []),
        |_, params, _| {
            if params[0].i32() == Some(7) {
                Err(Error::Exit(7))
            } else {
                Ok(())
            }
        },
    );
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (import "host" "fail" (func $fail (param i32)))
            (func $a (param i32) (call $fail (local.get 0)))
            (func (export "run") (param i32) (result i32)
              (call $a (local.get 0)) (i32.const 1)))"#,
    );
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert!(matches!(run.call(&mut store, 7), Err(Error::Exit(7))));
    assert_eq!(run.call(&mut store, 1).unwrap(), 1);
}

#[test]
fn wasm_can_reenter_through_the_host_and_trap_inside() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker: Linker<()> = Linker::new(&engine);
    // The host function calls back into the instance's `inner` export.
    linker.func_new(
        "host",
        "reenter",
        FuncType::new([ValType::I32], [ValType::I32]),
        |mut caller, params, results| {
            let Some(Extern::Func(inner)) = caller.get_export("inner") else {
                return Err(Error::Host("no inner".into()));
            };
            let mut r = [Val::I32(0)];
            inner.call(&mut caller, params, &mut r)?;
            results[0] = r[0];
            Ok(())
        },
    );
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (import "host" "reenter" (func $reenter (param i32) (result i32)))
            (func (export "inner") (param i32) (result i32)
              (i32.div_u (i32.const 100) (local.get 0)))
            (func (export "outer") (param i32) (result i32)
              (i32.add (call $reenter (local.get 0)) (i32.const 1))))"#,
    );
    let outer = instance
        .get_func(&mut store, "outer")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(outer.call(&mut store, 5).unwrap(), 21);
    let e = outer.call(&mut store, 0).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code, TrapCode::IntegerDivideByZero);
    assert_eq!(outer.call(&mut store, 50).unwrap(), 3);
}

#[test]
fn externrefs_round_trip_through_tables() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (table $t 1 externref)
            (func (export "put") (param externref) (table.set $t (i32.const 0) (local.get 0)))
            (func (export "get") (result externref) (table.get $t (i32.const 0))))"#,
    );
    let r = ExternRef::new(&mut store, String::from("hello"));
    let put = instance.get_func(&mut store, "put").unwrap();
    put.call(&mut store, &[Val::ExternRef(Some(r))], &mut [])
        .unwrap();
    let get = instance.get_func(&mut store, "get").unwrap();
    let mut out = [Val::ExternRef(None)];
    get.call(&mut store, &[], &mut out).unwrap();
    let Val::ExternRef(Some(back)) = out[0] else {
        panic!("null")
    };
    assert_eq!(back.data(&store).downcast_ref::<String>().unwrap(), "hello");
}

#[test]
fn memory_grow_respects_the_configured_limit() {
    let engine = Engine::new(&Config {
        max_memory_pages: 3,
        ..Config::default()
    })
    .unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (memory 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    );
    let grow = instance
        .get_func(&mut store, "grow")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(grow.call(&mut store, 2).unwrap(), 1);
    assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
}

#[test]
fn wrong_argument_types_are_an_error_not_a_crash() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module (func (export "f") (param i32)))"#,
    );
    let f = instance.get_func(&mut store, "f").unwrap();
    assert!(matches!(
        f.call(&mut store, &[Val::I64(1)], &mut []),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        f.call(&mut store, &[], &mut []),
        Err(Error::Usage(_))
    ));
    assert!(f.typed::<i64, ()>(&store).is_err());
}

#[test]
fn unknown_imports_name_the_import() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let module = Module::new(&engine, r#"(module (import "env" "missing" (func)))"#).unwrap();
    let e = linker
        .instantiate(&mut store, &module)
        .unwrap_err()
        .to_string();
    assert!(e.contains("env::missing"), "{e}");
}

#[test]
fn a_trap_inside_a_nested_continuation_leaves_the_store_usable() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module
          (type $ft (func (param i32) (result i32)))
          (type $ct (cont $ft))
          (func $chain (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0))
              (then (i32.div_u (i32.const 1) (local.get 0)))
              (else (i32.add (i32.const 1)
                (resume $ct (i32.sub (local.get 0) (i32.const 1))
                  (cont.new $ct (ref.func $chain)))))))
          (func $ok (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
          (elem declare func $chain $ok)
          (func (export "chain") (param i32) (result i32)
            (resume $ct (local.get 0) (cont.new $ct (ref.func $chain))))
          (func (export "ok") (param i32) (result i32)
            (resume $ct (local.get 0) (cont.new $ct (ref.func $ok)))))"#,
    );
    let chain = instance
        .get_func(&mut store, "chain")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    let ok = instance
        .get_func(&mut store, "ok")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    for _ in 0..100 {
        let e = chain.call(&mut store, 10).unwrap_err();
        assert_eq!(e.as_trap().unwrap().code, TrapCode::IntegerDivideByZero);
        assert_eq!(ok.call(&mut store, 41).unwrap(), 42);
    }
}

#[test]
fn the_live_continuation_limit_traps_cleanly() {
    let engine = Engine::new(&Config {
        max_live_continuations: 10,
        ..Config::default()
    })
    .unwrap();
    let mut store = Store::new(&engine, ());
    let linker = Linker::new(&engine);
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module
          (type $ft (func (param i32) (result i32)))
          (type $ct (cont $ft))
          (func $chain (param i32) (result i32)
            (if (result i32) (i32.eqz (local.get 0)) (then (i32.const 0))
              (else (resume $ct (i32.sub (local.get 0) (i32.const 1))
                (cont.new $ct (ref.func $chain))))))
          (elem declare func $chain)
          (func (export "chain") (param i32) (result i32)
            (resume $ct (local.get 0) (cont.new $ct (ref.func $chain)))))"#,
    );
    let chain = instance
        .get_func(&mut store, "chain")
        .unwrap()
        .typed::<i32, i32>(&store)
        .unwrap();
    assert_eq!(chain.call(&mut store, 9).unwrap(), 0);
    let e = chain.call(&mut store, 10).unwrap_err();
    assert_eq!(e.as_trap().unwrap().code, TrapCode::ContinuationLimit);
    assert_eq!(chain.call(&mut store, 9).unwrap(), 0);
}

#[test]
fn v128_values_cross_the_host_boundary_both_ways() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    // Scalars around each v128, so that a value read from the wrong word
    // of the argument buffer shows.
    linker.func_new(
        "host",
        "mix",
        FuncType::new(
            [ValType::I32, ValType::V128, ValType::I64, ValType::V128],
            [ValType::V128, ValType::I32, ValType::V128],
        ),
        |_, params, results| {
            let (a, v, b, w) = (
                params[0].i32().unwrap(),
                params[1].v128().unwrap(),
                params[2].i64().unwrap(),
                params[3].v128().unwrap(),
            );
            results[0] = Val::V128(w.rotate_left(8));
            results[1] = Val::I32(a + b as i32);
            results[2] = Val::V128(v ^ u128::MAX);
            Ok(())
        },
    );
    let global = Global::new(
        &mut store,
        GlobalType {
            content: ValType::V128,
            mutable: true,
        },
        Val::V128(0x0f0e0d0c_0b0a0908_07060504_03020100),
    )
    .unwrap();
    linker.define("host", "g", Extern::Global(global));
    let instance = instantiate(
        &mut store,
        &linker,
        r#"(module
            (import "host" "mix" (func $mix (param i32 v128 i64 v128) (result v128 i32 v128)))
            (import "host" "g" (global $g (mut v128)))
            (func (export "call_mix") (param i32 v128 i64 v128) (result v128 i32 v128)
              (call $mix (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
            (func (export "swap_g") (param v128) (result v128)
              (global.get $g)
              (global.set $g (local.get 0)))
            (func (export "lane") (param v128) (result i32)
              (i8x16.extract_lane_u 15 (local.get 0))))"#,
    );
    let call_mix = instance.get_func(&mut store, "call_mix").unwrap();
    let v = 0x00112233_44556677_8899aabb_ccddeeffu128;
    let w = 0xfedcba98_76543210_01234567_89abcdefu128;
    let mut out = [Val::I32(0), Val::I32(0), Val::I32(0)];
    call_mix
        .call(
            &mut store,
            &[Val::I32(40), Val::V128(v), Val::I64(2), Val::V128(w)],
            &mut out,
        )
        .unwrap();
    assert_eq!(out[0].v128(), Some(w.rotate_left(8)));
    assert_eq!(out[1].i32(), Some(42));
    assert_eq!(out[2].v128(), Some(!v));

    let swap = instance
        .get_func(&mut store, "swap_g")
        .unwrap()
        .typed::<u128, u128>(&store)
        .unwrap();
    assert_eq!(
        swap.call(&mut store, v).unwrap(),
        0x0f0e0d0c_0b0a0908_07060504_03020100
    );
    assert_eq!(global.get(&store).v128(), Some(v));
    let lane = instance
        .get_func(&mut store, "lane")
        .unwrap()
        .typed::<u128, i32>(&store)
        .unwrap();
    // Lane 15 is the most significant byte.
    assert_eq!(lane.call(&mut store, w).unwrap(), 0xfe);
}

/// `Store::creation_stack` with `Config::trace_creation`: the logical
/// stack at `cont.new`, across the resume that ran the creating
/// continuation; nothing without the option.
#[test]
fn creation_stacks_cross_resumes_only_when_asked_for() {
    let wat = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/creation/nested.wat"
    ))
    .unwrap();
    let names = |frames: &[switchyard_frames::Frame]| -> Vec<String> {
        frames
            .iter()
            .filter_map(|f| match f {
                switchyard_frames::Frame::Wasm(w) => Some(w.function.to_string()),
                switchyard_frames::Frame::Boundary(b) => Some(format!("-- #{}", b.continuation)),
                _ => None,
            })
            .collect()
    };
    for trace in [true, false] {
        let engine = Engine::new(&Config {
            trace_creation: trace,
            ..Config::default()
        })
        .unwrap();
        let mut store = Store::new(&engine, ());
        let linker = Linker::new(&engine);
        let instance = instantiate(&mut store, &linker, &wat);
        let leak = instance.get_func(&mut store, "leak").unwrap();
        leak.call(&mut store, &[], &mut []).unwrap();
        if !trace {
            assert_eq!(store.creation_stack(1), None);
            assert_eq!(store.creation_stack(2), None);
            continue;
        }
        let inner = store.creation_stack(2).expect("#2's creation stack");
        assert_eq!(
            names(&inner),
            ["make_inner", "outer_body", "-- #1", "run_outer", "leak"]
        );
        assert!(
            matches!(inner.last(), Some(switchyard_frames::Frame::HostEntry)),
            "{inner:?}"
        );
        let outer = store.creation_stack(1).expect("#1's creation stack");
        assert_eq!(names(&outer), ["spawn_outer", "run_outer", "leak"]);
        assert_eq!(store.creation_stack(3), None);
    }
}
