//! The compilation cache: a module compiled again comes from it and runs
//! the same, also in an engine that interned its types in another order;
//! a corrupt entry is compiled again and replaced; a cache directory that
//! cannot be written is no error.

use std::path::{Path, PathBuf};

use switchyard_engine::*;

/// A module whose code holds every kind of late constant: host routines
/// (`memory.grow`, `cont.new`), statics (the registry clock stamped at a
/// suspension, the empty handler table of a resume without clauses), a
/// canonical type id (`call_indirect`) and a continuation body.
const PROGRAM: &str = r#"(module
  (type $gen_ft (func (param i64)))
  (type $gen_ct (cont $gen_ft))
  (type $ft0 (func))
  (type $ct0 (cont $ft0))
  (type $binop (func (param i64 i64) (result i64)))
  (tag $yield (param i64))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $add $mul)
  (func $add (type $binop) (i64.add (local.get 0) (local.get 1)))
  (func $mul (type $binop) (i64.mul (local.get 0) (local.get 1)))
  (func $gen (param $n i64)
    (local $i i64)
    (loop $l
      (suspend $yield (local.get $i))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (local.get $n)))))
  (func $nothing)
  (elem declare func $gen $nothing)
  (func (export "run") (param $n i64) (result i64)
    (local $k (ref null $ct0))
    (local $sum i64)
    (resume $ct0 (cont.new $ct0 (ref.func $nothing)))
    (drop (memory.grow (i32.const 1)))
    (local.set $k (cont.bind $gen_ct $ct0 (local.get $n) (cont.new $gen_ct (ref.func $gen))))
    (block $done
      (loop $drive
        (block $on_yield (result i64 (ref $ct0))
          (resume $ct0 (on $yield $on_yield) (local.get $k))
          (br $done))
        (local.set $k)
        (local.set $sum
          (call_indirect (type $binop) (local.get $sum) (i32.const 0)))
        (br $drive)))
    (i64.add
      (call_indirect (type $binop) (local.get $sum) (i64.const 1000) (i32.const 1))
      (i64.extend_i32_u (memory.size)))))"#;

/// sum(0..10) * 1000 + 2 pages.
const EXPECTED: i64 = 45_002;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("switchyard-cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn engine(dir: &Path) -> Engine {
    Engine::new(&Config {
        cache_dir: Some(dir.to_path_buf()),
        ..Default::default()
    })
    .unwrap()
}

/// Compiles and runs `PROGRAM`: its result and whether it was cached.
fn compile_and_run(engine: &Engine) -> (i64, bool) {
    let module = Module::new(engine, PROGRAM).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Linker::new(engine)
        .instantiate(&mut store, &module)
        .unwrap();
    let run = instance
        .get_func(&mut store, "run")
        .unwrap()
        .typed::<i64, i64>(&store)
        .unwrap();
    (run.call(&mut store, 10).unwrap(), module.from_cache())
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| Some(e.ok()?.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn a_module_compiled_again_comes_from_the_cache_and_runs_the_same() {
    let dir = temp_dir("hit");
    assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, false));
    assert_eq!(entries(&dir).len(), 1, "one entry for one module");
    assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, true));

    // Another engine whose canonical type ids differ: other types interned
    // first, so the cached code's type check must get this engine's id.
    let other = engine(&dir);
    Module::new(
        &other,
        r#"(module (type (func (param f32 f64) (result i32)))
             (type (func (param i32 i32 i32) (result i64)))
             (type (func (param i64 i64) (result f32)))
             (func (type 0) (i32.const 0)) (func (type 1) (i64.const 0))
             (func (type 2) (f32.const 0)))"#,
    )
    .unwrap();
    assert_eq!(compile_and_run(&other), (EXPECTED, true));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupt_entry_is_compiled_again_and_replaced() {
    let dir = temp_dir("corrupt");
    compile_and_run(&engine(&dir));
    let [entry] = entries(&dir).try_into().unwrap();
    let good = std::fs::read(&entry).unwrap();
    for bad in [
        b"not a cache entry".to_vec(),
        good[..good.len() / 2].to_vec(),
        {
            let mut flipped = good.clone();
            let middle = flipped.len() / 2;
            flipped[middle] ^= 0x40;
            flipped
        },
    ] {
        std::fs::write(&entry, &bad).unwrap();
        assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, false));
        assert_eq!(
            std::fs::read(&entry).unwrap(),
            good,
            "the entry is written again"
        );
        assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, true));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cache_directory_that_cannot_be_written_is_no_error() {
    let file = temp_dir("not-a-dir");
    std::fs::write(&file, "a file where the directory would be").unwrap();
    for _ in 0..2 {
        assert_eq!(compile_and_run(&engine(&file)), (EXPECTED, false));
    }
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("shared");
    compile_and_run(&engine(&dir));
    assert_eq!(entries(&dir).len(), 1);
    // Anyone could have put the entry there: it is not run.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, false));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, true));
    // An entry that is a link to another file is not followed.
    let [entry] = entries(&dir).try_into().unwrap();
    let moved = dir.join("elsewhere");
    std::fs::rename(&entry, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &entry).unwrap();
    assert_eq!(compile_and_run(&engine(&dir)), (EXPECTED, false));
    std::fs::remove_dir_all(&dir).unwrap();
}
