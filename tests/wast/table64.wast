;; table64.wast -- 64-bit tables (memory64 proposal, Wasm 3.0): i64 indices for
;; table.get/set/size/grow/fill/copy/init, call_indirect and return_call_indirect,
;; element segments with i64 offsets, table.copy between a 32-bit and a 64-bit
;; table (i32 length), grow failing with -1 at the maximum, indices with high bits
;; set that would be in bounds if truncated to 32 bits, and imports/exports whose
;; address types must match. Expected values checked with `wasmtime wast` 49.

(module $m
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (func $f0 (type $v_i) (i32.const 0))
  (func $f1 (type $v_i) (i32.const 1))
  (func $f2 (type $v_i) (i32.const 2))
  (func $f3 (type $v_i) (i32.const 3))
  (func $inc (type $i_i) (i32.add (local.get 0) (i32.const 1)))

  (table $t (export "t64") i64 8 12 funcref)
  (table $s 4 funcref)
  (table $e i64 2 externref)

  (elem (table $t) (i64.const 2) func $f2 $f3)
  (elem $p func $f0 $f1 $f2 $f3)
  (elem (table $s) (i32.const 0) func $f1 $inc)

  (func (export "size") (result i64) (table.size $t))
  (func (export "esize") (result i64) (table.size $e))
  (func (export "is_null") (param i64) (result i32) (ref.is_null (table.get $t (local.get 0))))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
  (func (export "call_inc") (param i64 i32) (result i32)
    (call_indirect $t (type $i_i) (local.get 1) (local.get 0)))
  (func (export "tail_call") (param i64) (result i32)
    (return_call_indirect $t (type $v_i) (local.get 0)))
  (func (export "call_s") (param i32) (result i32) (call_indirect $s (type $v_i) (local.get 0)))
  (func (export "set_f1") (param i64) (table.set $t (local.get 0) (ref.func $f1)))
  (func (export "set_null") (param i64) (table.set $t (local.get 0) (ref.null func)))
  (func (export "grow") (param i64) (result i64) (table.grow $t (ref.func $f0) (local.get 0)))
  (func (export "grow_e") (param i64) (result i64) (table.grow $e (ref.null extern) (local.get 0)))
  (func (export "fill_f3") (param i64 i64) (table.fill $t (local.get 0) (ref.func $f3) (local.get 1)))
  (func (export "copy") (param i64 i64 i64) (table.copy $t $t (local.get 0) (local.get 1) (local.get 2)))
  ;; Between a 32-bit and a 64-bit table the length is an i32.
  (func (export "copy_to64") (param i64 i32 i32) (table.copy $t $s (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to32") (param i32 i64 i32) (table.copy $s $t (local.get 0) (local.get 1) (local.get 2)))
  ;; table.init: the destination is an i64, the segment offset and length i32.
  (func (export "init") (param i64 i32 i32) (table.init $t $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $p))
  (func (export "set_e") (param i64 externref) (table.set $e (local.get 0) (local.get 1)))
  (func (export "get_e") (param i64) (result externref) (table.get $e (local.get 0)))
)

(assert_return (invoke "size") (i64.const 8))
(assert_return (invoke "esize") (i64.const 2))
(assert_return (invoke "call" (i64.const 2)) (i32.const 2))
(assert_return (invoke "call" (i64.const 3)) (i32.const 3))
(assert_return (invoke "tail_call" (i64.const 3)) (i32.const 3))
(assert_return (invoke "is_null" (i64.const 0)) (i32.const 1))
(assert_trap (invoke "call" (i64.const 0)) "uninitialized element")
(assert_trap (invoke "call" (i64.const 8)) "undefined element")
(assert_trap (invoke "tail_call" (i64.const 8)) "undefined element")
;; 2^32 + 2 truncated to 32 bits would be element 2.
(assert_trap (invoke "call" (i64.const 0x1_0000_0002)) "undefined element")
(assert_trap (invoke "call" (i64.const -1)) "undefined element")
(assert_trap (invoke "call_inc" (i64.const 2) (i32.const 5)) "indirect call type mismatch")
(assert_trap (invoke "is_null" (i64.const 8)) "out of bounds table access")
(assert_trap (invoke "is_null" (i64.const 0x1_0000_0000)) "out of bounds table access")
(assert_trap (invoke "set_f1" (i64.const 0x1_0000_0001)) "out of bounds table access")
(assert_return (invoke "set_f1" (i64.const 7)))
(assert_return (invoke "call" (i64.const 7)) (i32.const 1))
(assert_return (invoke "set_null" (i64.const 7)))
(assert_return (invoke "is_null" (i64.const 7)) (i32.const 1))

;; externref elements.
(assert_return (invoke "set_e" (i64.const 1) (ref.extern 42)))
(assert_return (invoke "get_e" (i64.const 1)) (ref.extern 42))
(assert_return (invoke "get_e" (i64.const 0)) (ref.null extern))
(assert_trap (invoke "get_e" (i64.const 0x1_0000_0000)) "out of bounds table access")
(assert_return (invoke "grow_e" (i64.const 3)) (i64.const 2))
(assert_return (invoke "esize") (i64.const 5))

;; fill and copy, with bounds checked before any write.
(assert_return (invoke "fill_f3" (i64.const 5) (i64.const 2)))
(assert_return (invoke "call" (i64.const 5)) (i32.const 3))
(assert_return (invoke "call" (i64.const 6)) (i32.const 3))
(assert_trap (invoke "fill_f3" (i64.const 7) (i64.const 2)) "out of bounds table access")
(assert_return (invoke "is_null" (i64.const 7)) (i32.const 1))
(assert_trap (invoke "fill_f3" (i64.const 0x1_0000_0000) (i64.const 0)) "out of bounds table access")
(assert_trap (invoke "fill_f3" (i64.const 1) (i64.const -1)) "out of bounds table access")
(assert_return (invoke "fill_f3" (i64.const 8) (i64.const 0)))
(assert_return (invoke "copy" (i64.const 0) (i64.const 2) (i64.const 2)))
(assert_return (invoke "call" (i64.const 0)) (i32.const 2))
(assert_return (invoke "call" (i64.const 1)) (i32.const 3))
(assert_trap (invoke "copy" (i64.const 0) (i64.const 7) (i64.const 2)) "out of bounds table access")
(assert_trap (invoke "copy" (i64.const 0x1_0000_0000) (i64.const 0) (i64.const 1)) "out of bounds table access")
(assert_trap (invoke "copy" (i64.const 0) (i64.const -1) (i64.const 1)) "out of bounds table access")

;; Between the 32-bit table $s (f1, inc, null, null) and the 64-bit one.
(assert_return (invoke "copy_to64" (i64.const 4) (i32.const 0) (i32.const 1)))
(assert_return (invoke "call" (i64.const 4)) (i32.const 1))
(assert_return (invoke "copy_to32" (i32.const 2) (i64.const 5) (i32.const 2)))
(assert_return (invoke "call_s" (i32.const 2)) (i32.const 3))
(assert_return (invoke "call_s" (i32.const 3)) (i32.const 3))
(assert_trap (invoke "copy_to64" (i64.const 8) (i32.const 0) (i32.const 1)) "out of bounds table access")
(assert_trap (invoke "copy_to32" (i32.const 0) (i64.const 0x1_0000_0000) (i32.const 1)) "out of bounds table access")

;; table.init from the passive segment ($f0 $f1 $f2 $f3).
(assert_return (invoke "init" (i64.const 4) (i32.const 1) (i32.const 3)))
(assert_return (invoke "call" (i64.const 4)) (i32.const 1))
(assert_return (invoke "call" (i64.const 6)) (i32.const 3))
(assert_trap (invoke "init" (i64.const 6) (i32.const 0) (i32.const 3)) "out of bounds table access")
(assert_trap (invoke "init" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 1)) "out of bounds table access")
(assert_trap (invoke "init" (i64.const 0) (i32.const 3) (i32.const 2)) "out of bounds table access")
(assert_return (invoke "drop"))
(assert_trap (invoke "init" (i64.const 0) (i32.const 0) (i32.const 1)) "out of bounds table access")
(assert_return (invoke "init" (i64.const 0) (i32.const 0) (i32.const 0)))

;; grow up to the maximum (12), then -1.
(assert_return (invoke "grow" (i64.const 0)) (i64.const 8))
(assert_return (invoke "grow" (i64.const 3)) (i64.const 8))
(assert_return (invoke "size") (i64.const 11))
(assert_return (invoke "call" (i64.const 10)) (i32.const 0))
(assert_return (invoke "grow" (i64.const 2)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0000)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 1)) (i64.const 11))
(assert_return (invoke "size") (i64.const 12))

;; Imports and exports: the address types must match.
(register "m" $m)
(module
  (type $v_i (func (result i32)))
  (import "m" "t64" (table $t i64 4 funcref))
  (func (export "size") (result i64) (table.size $t))
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
)
(assert_return (invoke "size") (i64.const 12))
(assert_return (invoke "call" (i64.const 10)) (i32.const 0))
(assert_unlinkable
  (module (import "m" "t64" (table 4 funcref)))
  "incompatible import type"
)
(assert_unlinkable
  (module (import "m" "t64" (table i64 13 funcref)))
  "incompatible import type"
)
(assert_unlinkable
  (module (import "m" "t64" (table i64 4 11 funcref)))
  "incompatible import type"
)
(module (import "m" "t64" (table i64 4 12 funcref)))

;; An active segment out of bounds fails instantiation; one at a large i64
;; offset is out of bounds too, not truncated.
(assert_trap
  (module
    (table i64 2 funcref)
    (func $f)
    (elem (table 0) (i64.const 0x1_0000_0000) func $f))
  "out of bounds table access"
)
(assert_trap
  (module
    (table i64 2 funcref)
    (func $f)
    (elem (table 0) (i64.const 1) func $f $f))
  "out of bounds table access"
)

;; Offsets of an active segment come from constant expressions of the
;; table's address type.
(module
  (global $g i64 (i64.const 1))
  (table $t i64 4 funcref)
  (type $v_i (func (result i32)))
  (func $seven (type $v_i) (i32.const 7))
  (elem (table $t) (i64.add (global.get $g) (i64.const 2)) func $seven)
  (func (export "call") (param i64) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
)
(assert_return (invoke "call" (i64.const 3)) (i32.const 7))

(assert_invalid
  (module (table i64 1 funcref) (func (drop (table.get 0 (i32.const 0)))))
  "type mismatch"
)
(assert_invalid
  (module (table i64 1 funcref) (elem (table 0) (i32.const 0) func))
  "type mismatch"
)
(assert_invalid
  (module
    (table $a 1 funcref) (table $b i64 1 funcref)
    (func (table.copy $a $b (i32.const 0) (i64.const 0) (i64.const 0))))
  "type mismatch"
)
