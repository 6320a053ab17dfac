//! The reader and the walker on this very process: a store with running
//! and suspended continuations, read through `ProcessMemory` and the
//! documented layout only.

use switchyard_engine::*;
use switchyard_unwind::registry::State;
use switchyard_unwind::{Limits, ProcessMemory, Snapshot, Step, walk_suspended};

fn registry_address() -> u64 {
    &switchyard_engine::vm::registry::switchyard_registry as *const _ as u64
}

/// Names of the Wasm frames of a walk, and its boundaries.
fn describe(snapshot: &Snapshot, steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Frame { pc, is_return } => {
                snapshot.function_name(if *is_return { pc - 1 } else { *pc })
            }
            Step::Boundary(r) => Some(format!("boundary #{} {}", r.id, r.state.name())),
            Step::HostEntry => Some("host".into()),
            Step::End(why) => Some(format!("end: {why}")),
        })
        .collect()
}

#[test]
fn suspended_chains_are_read_and_walked_through_the_registry() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module $parked
          (type $ft (func (param i32))) (type $ct (cont $ft))
          (type $ft0 (func)) (type $ct0 (cont $ft0))
          (tag $t)
          (table $k 4 (ref null $ct0))
          (func $leaf (suspend $t))
          (func $nest (param $d i32)
            (if (i32.eqz (local.get $d)) (then (call $leaf) (return)))
            (resume $ct (i32.sub (local.get $d) (i32.const 1)) (cont.new $ct (ref.func $nest))))
          (elem declare func $nest)
          (func (export "park") (param $slot i32) (param $depth i32)
            (local $c (ref null $ct0))
            (block $h (result (ref $ct0))
              (resume $ct (on $t $h) (local.get $depth) (cont.new $ct (ref.func $nest)))
              (return))
            (local.set $c)
            (table.set $k (local.get $slot) (local.get $c))))"#,
    )
    .unwrap();
    let instance = Linker::new(&engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let park = instance
        .get_func(&mut store, "park")
        .unwrap()
        .typed::<(i32, i32), ()>(&store)
        .unwrap();
    park.call(&mut store, (0, 0)).unwrap();
    park.call(&mut store, (1, 2)).unwrap();

    let memory = ProcessMemory::current();
    let snapshot = Snapshot::read(&memory, registry_address()).unwrap();
    let module = snapshot
        .modules
        .iter()
        .find(|m| m.name == "parked")
        .expect("the module is in the code map");
    assert!(module.functions.iter().any(|f| f.name == "leaf"));
    let suspended: Vec<_> = snapshot
        .stores
        .iter()
        .flat_map(|s| &s.records)
        .filter(|r| {
            r.state == State::Suspended
                && snapshot.function_name(r.own.pc - 1).as_deref() == Some("parked!leaf")
        })
        .collect();
    assert_eq!(suspended.len(), 2, "two parked chains");
    let mut walks: Vec<Vec<String>> = suspended
        .iter()
        .map(|r| {
            describe(
                &snapshot,
                &walk_suspended(&memory, &snapshot, r, Limits::default()),
            )
        })
        .collect();
    walks.sort_by_key(|w| w.len());
    // Depth 0: the continuation runs `nest` directly.
    assert_eq!(walks[0][..2], ["parked!leaf", "parked!nest"]);
    assert!(walks[0][2].starts_with("boundary #") && walks[0][2].ends_with("suspended"));
    // Depth 2: the innermost stack of a suspended chain of three; its walk
    // ends at its own trampoline (the chain above it is captured too).
    assert_eq!(walks[1][..2], ["parked!leaf", "parked!nest"]);
}

#[test]
fn garbage_never_panics() {
    use switchyard_unwind::SliceMemory;
    // Deterministic pseudo-random bytes, with a valid-looking header.
    let mut state = 0x2545f4914f6cdd1du64;
    for round in 0..2000 {
        let mut bytes: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        if round % 2 == 0 {
            bytes[0..4].copy_from_slice(b"SYWR");
            bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
            bytes[12..16].copy_from_slice(&448u32.to_le_bytes());
            bytes[24..32].copy_from_slice(&0u64.to_le_bytes());
            // Pointers into the slice itself.
            for slot in [32usize, 40] {
                let target = 0x1000 + (state % 4000);
                bytes[slot..slot + 8].copy_from_slice(&target.to_le_bytes());
            }
        }
        let memory = SliceMemory {
            base: 0x1000,
            bytes,
        };
        if let Ok(snapshot) = Snapshot::read(&memory, 0x1000) {
            for store in &snapshot.stores {
                for record in &store.records {
                    let _ = walk_suspended(&memory, &snapshot, record, Limits::default());
                }
            }
        }
    }
}
