;; linking.wast -- instantiation and linking of WebAssembly 2.0 modules: `register`,
;; importing functions, globals, memories and tables from other instances (and from
;; the spectest host module), state shared through imported mutable globals,
;; memories and tables being visible to every instance, functions keeping their own
;; instance's state when called from elsewhere, start functions, link errors
;; ("unknown import", "incompatible import type") and instantiation traps whose
;; side effects on shared state persist.

;; ---- functions ----
(module $Mf
  (global $hits (mut i32) (i32.const 0))
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "hit") (result i32)
    (global.set $hits (i32.add (global.get $hits) (i32.const 1)))
    (global.get $hits))
  (func (export "pair") (param i64) (result i64 i64) (local.get 0) (i64.mul (local.get 0) (i64.const 2)))
  (func (export "trap") (unreachable))
)
(register "Mf" $Mf)

(module $Nf
  (import "Mf" "add" (func $add (param i32 i32) (result i32)))
  (import "Mf" "hit" (func $hit (result i32)))
  (import "Mf" "pair" (func $pair (param i64) (result i64 i64)))
  (import "Mf" "trap" (func $trap))
  (import "spectest" "print_i32" (func $print (param i32)))
  (func (export "add3") (param i32 i32 i32) (result i32)
    (call $add (call $add (local.get 0) (local.get 1)) (local.get 2)))
  (func (export "hit") (result i32) (call $hit))
  (func (export "pair_sub") (param i64) (result i64) (i64.sub (call $pair (local.get 0))))
  (func (export "trap") (call $trap))
  (func (export "print") (param i32) (result i32) (call $print (local.get 0)) (local.get 0))
  ;; re-export an imported function
  (export "add" (func $add))
)

(assert_return (invoke $Nf "add3" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_return (invoke $Nf "add" (i32.const 40) (i32.const 2)) (i32.const 42))
(assert_return (invoke $Nf "pair_sub" (i64.const 5)) (i64.const -5))
;; both instances observe the same underlying state of $Mf
(assert_return (invoke $Mf "hit") (i32.const 1))
(assert_return (invoke $Nf "hit") (i32.const 2))
(assert_return (invoke $Mf "hit") (i32.const 3))
(assert_trap (invoke $Nf "trap") "unreachable")
(assert_return (invoke $Nf "print" (i32.const 17)) (i32.const 17))
;; the re-exported function can itself be imported
(register "Nf" $Nf)
(module
  (import "Nf" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0)))
)
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))

;; ---- globals ----
(module $Mg
  (global (export "const") i32 (i32.const 42))
  (global $mut (export "mut") (mut i32) (i32.const 0))
  (global (export "mut64") (mut i64) (i64.const 0))
  (global (export "f") f64 (f64.const 2.5))
  (func (export "get_mut") (result i32) (global.get $mut))
  (func (export "set_mut") (param i32) (global.set $mut (local.get 0)))
)
(register "Mg" $Mg)

(module $Ng
  (import "Mg" "const" (global $c i32))
  (import "Mg" "mut" (global $m (mut i32)))
  (import "Mg" "f" (global $f f64))
  ;; an imported immutable global may initialise a local global
  (global $derived i32 (global.get $c))
  (func (export "get_const") (result i32) (global.get $c))
  (func (export "get_derived") (result i32) (global.get $derived))
  (func (export "get_f") (result f64) (global.get $f))
  (func (export "get_mut") (result i32) (global.get $m))
  (func (export "set_mut") (param i32) (global.set $m (local.get 0)))
  (export "mut" (global $m))
)
(assert_return (invoke $Ng "get_const") (i32.const 42))
(assert_return (invoke $Ng "get_derived") (i32.const 42))
(assert_return (invoke $Ng "get_f") (f64.const 2.5))
(assert_return (invoke $Ng "get_mut") (i32.const 0))
(assert_return (invoke $Mg "set_mut" (i32.const 7)))
(assert_return (invoke $Ng "get_mut") (i32.const 7))
(assert_return (get $Ng "mut") (i32.const 7))
(assert_return (invoke $Ng "set_mut" (i32.const -9)))
(assert_return (invoke $Mg "get_mut") (i32.const -9))
(assert_return (get $Mg "mut") (i32.const -9))

;; ---- memories ----
(module $Mm
  (memory (export "mem") 1 5)
  (data (i32.const 0) "\01\02\03\04")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "size") (result i32) (memory.size))
)
(register "Mm" $Mm)

(module $Nm
  (import "Mm" "mem" (memory 1))
  ;; a data segment of the importing module writes into the shared memory
  (data (i32.const 10) "\aa")
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
)
(assert_return (invoke $Nm "load" (i32.const 2)) (i32.const 3))
(assert_return (invoke $Mm "load" (i32.const 10)) (i32.const 0xaa))
(assert_return (invoke $Nm "store" (i32.const 100) (i32.const 55)))
(assert_return (invoke $Mm "load" (i32.const 100)) (i32.const 55))
(assert_return (invoke $Mm "store" (i32.const 101) (i32.const 66)))
(assert_return (invoke $Nm "load" (i32.const 101)) (i32.const 66))
;; growth through one instance is seen by the other (size and bounds checks)
(assert_trap (invoke $Mm "load" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke $Nm "grow" (i32.const 1)) (i32.const 1))
(assert_return (invoke $Mm "size") (i32.const 2))
(assert_return (invoke $Mm "load" (i32.const 65536)) (i32.const 0))
(assert_return (invoke $Mm "store" (i32.const 131071) (i32.const 9)))
(assert_return (invoke $Nm "load" (i32.const 131071)) (i32.const 9))
(assert_return (invoke $Nm "grow" (i32.const 4)) (i32.const -1))
(assert_return (invoke $Nm "grow" (i32.const 3)) (i32.const 2))
(assert_return (invoke $Mm "size") (i32.const 5))

;; the spectest memory (1..2 pages) can be imported too
(module
  (import "spectest" "memory" (memory 1 2))
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
(assert_return (invoke "size") (i32.const 1))
(assert_return (invoke "grow" (i32.const 2)) (i32.const -1))

;; ---- tables ----
(module $Mt
  (type $v_i (func (result i32)))
  (global $id i32 (i32.const 1))
  (func $mine (type $v_i) (global.get $id))
  (table $t (export "tab") 4 funcref)
  (elem (table $t) (i32.const 0) func $mine)
  (func (export "call") (param i32) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
)
(register "Mt" $Mt)

(module $Nt
  (type $v_i (func (result i32)))
  (import "Mt" "tab" (table $t 4 funcref))
  (global $id i32 (i32.const 2))
  (func $theirs (type $v_i) (global.get $id))
  (elem (table $t) (i32.const 1) func $theirs)
  (func (export "call") (param i32) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
)
;; each function runs in the instance that defined it, whoever calls it
(assert_return (invoke $Mt "call" (i32.const 0)) (i32.const 1))
(assert_return (invoke $Mt "call" (i32.const 1)) (i32.const 2))
(assert_return (invoke $Nt "call" (i32.const 0)) (i32.const 1))
(assert_return (invoke $Nt "call" (i32.const 1)) (i32.const 2))
(assert_trap (invoke $Mt "call" (i32.const 2)) "uninitialized element")
(assert_trap (invoke $Mt "call" (i32.const 4)) "undefined element")
(assert_return (invoke $Nt "grow" (i32.const 2)) (i32.const 4))
(assert_trap (invoke $Mt "call" (i32.const 5)) "uninitialized element")
(assert_trap (invoke $Mt "call" (i32.const 6)) "undefined element")

;; the spectest table (10..20 funcref)
(module
  (type $v_i (func (result i32)))
  (import "spectest" "table" (table $t 10 funcref))
  (func $f (type $v_i) (i32.const 99))
  (elem (table $t) (i32.const 9) func $f)
  (func (export "call") (param i32) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
)
(assert_return (invoke "call" (i32.const 9)) (i32.const 99))
(assert_trap (invoke "call" (i32.const 10)) "undefined element")

;; ---- start functions ----
(module
  (global $g (mut i32) (i32.const 0))
  (memory 1)
  (func $start
    (global.set $g (i32.const 10))
    (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1))))
  (start $start)
  (data (i32.const 0) "\05")
  (func (export "g") (result i32) (global.get $g))
  (func (export "m") (result i32) (i32.load (i32.const 0)))
)
;; the start function runs once, after the data segments are applied
(assert_return (invoke "g") (i32.const 10))
(assert_return (invoke "m") (i32.const 6))

(module
  (import "Mf" "hit" (func $hit (result i32)))
  (func $start (drop (call $hit)))
  (start $start)
)
(assert_return (invoke $Mf "hit") (i32.const 5))

;; ---- link errors ----
(assert_unlinkable
  (module (import "Mf" "missing" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "NoSuchModule" "add" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32) (result i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i64 i64) (result i64))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (func (param i32 i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mf" "add" (global i32)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "const" (func)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "const" (global i64)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "const" (global (mut i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "mut" (global i32)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mg" "mut64" (global (mut i32))))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mm" "mem" (memory 6)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mm" "mem" (memory 1 4)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mm" "mem" (table 1 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (table 10 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (table 1 externref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "Mt" "tab" (table 1 10 funcref)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "global_i32" (global f32)))
  "incompatible import type")
(assert_unlinkable
  (module (import "spectest" "print_i32" (func (param i64))))
  "incompatible import type")
;; a larger maximum and a smaller minimum are fine
(module (import "Mm" "mem" (memory 1 10)))
(module (import "Mm" "mem" (memory 0)))
(module (import "Mt" "tab" (table 2 funcref)))
(module (import "spectest" "table" (table 5 30 funcref)))

;; ---- instantiation traps ----
(assert_trap
  (module (func $s (unreachable)) (start $s))
  "unreachable")
(assert_trap
  (module (func $s (drop (i32.div_s (i32.const 1) (i32.const 0)))) (start $s))
  "integer divide by zero")

;; A failed instantiation leaves earlier effects on imported state in place.
(module $Shared
  (memory (export "mem") 1)
  (table (export "tab") 3 funcref)
  (global (export "g") (mut i32) (i32.const 0))
  (type $v_i (func (result i32)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (type $v_i) (local.get 0)))
  (func (export "get_g") (result i32) (global.get 0))
)
(register "Shared" $Shared)

;; data: the first segment is written, the second is out of bounds
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (data (i32.const 0) "\11\22")
    (data (i32.const 65535) "\33\44"))
  "out of bounds memory access")
(assert_return (invoke $Shared "load" (i32.const 0)) (i32.const 0x11))
(assert_return (invoke $Shared "load" (i32.const 1)) (i32.const 0x22))
(assert_return (invoke $Shared "load" (i32.const 65535)) (i32.const 0))

;; elements: the first segment is written, the second is out of bounds
(assert_trap
  (module
    (import "Shared" "tab" (table 3 funcref))
    (func $f (result i32) (i32.const 77))
    (elem (i32.const 0) func $f)
    (elem (i32.const 2) func $f $f))
  "out of bounds table access")
(assert_return (invoke $Shared "call" (i32.const 0)) (i32.const 77))
(assert_trap (invoke $Shared "call" (i32.const 2)) "uninitialized element")

;; a trapping start function after writing to an imported global and memory
(assert_trap
  (module
    (import "Shared" "mem" (memory 1))
    (import "Shared" "g" (global $g (mut i32)))
    (func $s
      (global.set $g (i32.const 123))
      (i32.store8 (i32.const 5) (i32.const 0x5e))
      (unreachable))
    (start $s))
  "unreachable")
(assert_return (invoke $Shared "get_g") (i32.const 123))
(assert_return (invoke $Shared "load" (i32.const 5)) (i32.const 0x5e))

;; ---- an imported memory grown by its owner during a call ----
(module $Gm
  (memory (export "m") 1)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)
(register "Gm" $Gm)
(module
  (import "Gm" "m" (memory 1))
  (import "Gm" "grow" (func $grow (param i32) (result i32)))
  (func (export "f") (result i32)
    (drop (i32.load (i32.const 0)))
    (drop (call $grow (i32.const 1)))
    (i32.store (i32.const 65536) (i32.const 3))
    (i32.load (i32.const 65536)))
)
(assert_return (invoke "f") (i32.const 3))

;; ---- export names are arbitrary UTF-8 strings ----
(module $Names
  (func (export "") (result i32) (i32.const 1))
  (func (export " ") (result i32) (i32.const 2))
  (func (export "a b") (result i32) (i32.const 3))
  (func (export "☃") (result i32) (i32.const 4))
  (func (export "\u{1F600}") (result i32) (i32.const 5))
  (func (export "module") (result i32) (i32.const 6))
  (func (export "A") (result i32) (i32.const 7))
  (func (export "a") (result i32) (i32.const 8))
)
(assert_return (invoke "") (i32.const 1))
(assert_return (invoke " ") (i32.const 2))
(assert_return (invoke "a b") (i32.const 3))
(assert_return (invoke "☃") (i32.const 4))
(assert_return (invoke "\f0\9f\98\80") (i32.const 5))
(assert_return (invoke "module") (i32.const 6))
(assert_return (invoke "A") (i32.const 7))
(assert_return (invoke "a") (i32.const 8))
(register "names" $Names)
(module
  (import "names" "" (func $e (result i32)))
  (import "names" "☃" (func $s (result i32)))
  (func (export "sum") (result i32) (i32.add (call $e) (call $s)))
)
(assert_return (invoke "sum") (i32.const 5))
