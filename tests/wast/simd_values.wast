;; simd_values.wast -- v128 wherever a value can be, beyond the official SIMD
;; scripts: mutable and immutable globals (defined, exported, imported,
;; initialized from another global), locals that start at zero, block and
;; loop parameters and results, `select` with a type, `br_if` and
;; `br_table` carrying vectors, direct, indirect, `call_ref` and tail calls
;; with v128 parameters and results between scalars, many v128 arguments
;; (more than fit in registers), and a trap in the middle of vector code.

(module $m
  (global $c (export "c") v128 (v128.const i32x4 1 2 3 4))
  (global $g (export "g") (mut v128) (v128.const i64x2 -1 0x0102030405060708))
  (global $d v128 (global.get $c))

  (func (export "get_g") (result v128) (global.get $g))
  (func (export "set_g") (param v128) (global.set $g (local.get 0)))
  (func (export "get_d") (result v128) (global.get $d))
  (func (export "zero_local") (result v128) (local v128) (local.get 0))
)

(assert_return (invoke "get_g") (v128.const i64x2 -1 0x0102030405060708))
(assert_return (invoke "get_d") (v128.const i32x4 1 2 3 4))
(assert_return (invoke "zero_local") (v128.const i64x2 0 0))
(invoke "set_g" (v128.const f32x4 1 2 3 4))
(assert_return (invoke "get_g") (v128.const f32x4 1 2 3 4))

(register "m" $m)

(module
  (import "m" "c" (global $c v128))
  (import "m" "g" (global $g (mut v128)))
  (global $e v128 (global.get $c))

  (func (export "bump") (result v128)
    (global.set $g (i32x4.add (global.get $g) (global.get $e)))
    (global.get $g))
)

(assert_return (invoke "bump") (v128.const i32x4 0x3f800001 0x40000002 0x40400003 0x40800004))
(assert_return (invoke $m "get_g") (v128.const i32x4 0x3f800001 0x40000002 0x40400003 0x40800004))

(module
  (type $vv (func (param i32 v128 i64 v128) (result v128 i32 v128)))
  (table $t 2 funcref)
  (elem (table $t) (i32.const 0) func $swap $add)

  (func $swap (type $vv)
    (local.get 3) (i32.wrap_i64 (local.get 2)) (local.get 1))
  (func $add (type $vv)
    (i32x4.add (local.get 1) (local.get 3))
    (local.get 0)
    (i32x4.sub (local.get 1) (local.get 3)))
  (elem declare func $swap)

  (func (export "direct") (param i32 v128 i64 v128) (result v128 i32 v128)
    (call $swap (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "indirect") (param i32 v128 i64 v128) (result v128 i32 v128)
    (call_indirect $t (type $vv) (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 0)))
  (func (export "by_ref") (param i32 v128 i64 v128) (result v128 i32 v128)
    (call_ref $vv (local.get 0) (local.get 1) (local.get 2) (local.get 3) (ref.func $swap)))
  (func (export "tail") (param i32 v128 i64 v128) (result v128 i32 v128)
    (return_call_indirect $t (type $vv) (local.get 0) (local.get 1) (local.get 2) (local.get 3) (local.get 0)))

  ;; Ten v128 arguments: most of them go on the stack.
  (func $sum10 (param v128 v128 v128 v128 v128 v128 v128 v128 v128 v128) (result v128)
    (i32x4.add (local.get 0)
    (i32x4.add (local.get 1)
    (i32x4.add (local.get 2)
    (i32x4.add (local.get 3)
    (i32x4.add (local.get 4)
    (i32x4.add (local.get 5)
    (i32x4.add (local.get 6)
    (i32x4.add (local.get 7)
    (i32x4.add (local.get 8) (i32x4.mul (local.get 9) (i32x4.splat (i32.const 1000)))))))))))))
  (func (export "many") (param $v v128) (result v128)
    (call $sum10
      (local.get $v) (local.get $v) (local.get $v) (local.get $v) (local.get $v)
      (local.get $v) (local.get $v) (local.get $v) (local.get $v)
      (i32x4.splat (i32.const 1))))

  (func (export "select") (param v128 v128 i32) (result v128)
    (select (result v128) (local.get 0) (local.get 1) (local.get 2)))
  (func (export "select_untyped") (param v128 v128 i32) (result v128)
    (select (local.get 0) (local.get 1) (local.get 2)))

  ;; Sums lanes with a loop whose parameters are a vector and a counter.
  (func (export "loop") (param $v v128) (param $n i32) (result v128)
    (local.get $v)
    (local.get $n)
    (loop $l (param v128 i32) (result v128)
      (local.set $n)
      (local.get $v)
      (i32x4.add)
      (local.tee $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))
      (drop)))

  (func (export "br_table") (param $v v128) (param $i i32) (result v128)
    (block $b2 (result v128)
      (block $b1 (result v128)
        (block $b0 (result v128)
          (local.get $v)
          (br_table $b0 $b1 $b2 (local.get $i)))
        (i32x4.neg)
        (return))
      (i32x4.splat (i32.const 100))
      (i32x4.add)
      (return)))

  (func (export "trap_in_middle") (param v128) (result v128)
    (drop (i32.div_s (i32x4.extract_lane 0 (local.get 0)) (i32x4.extract_lane 1 (local.get 0))))
    (local.get 0))
)

(assert_return
  (invoke "direct" (i32.const 1) (v128.const i32x4 1 2 3 4) (i64.const 9) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 5 6 7 8) (i32.const 9) (v128.const i32x4 1 2 3 4))
(assert_return
  (invoke "indirect" (i32.const 0) (v128.const i32x4 1 2 3 4) (i64.const 9) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 5 6 7 8) (i32.const 9) (v128.const i32x4 1 2 3 4))
(assert_return
  (invoke "indirect" (i32.const 1) (v128.const i32x4 1 2 3 4) (i64.const 9) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 6 8 10 12) (i32.const 1) (v128.const i32x4 -4 -4 -4 -4))
(assert_return
  (invoke "by_ref" (i32.const 1) (v128.const i64x2 1 2) (i64.const -3) (v128.const i64x2 3 4))
  (v128.const i64x2 3 4) (i32.const -3) (v128.const i64x2 1 2))
(assert_return
  (invoke "tail" (i32.const 1) (v128.const i32x4 1 2 3 4) (i64.const 9) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 6 8 10 12) (i32.const 1) (v128.const i32x4 -4 -4 -4 -4))
(assert_return (invoke "many" (v128.const i32x4 1 2 3 4)) (v128.const i32x4 1009 1018 1027 1036))
(assert_return
  (invoke "select" (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8) (i32.const 1))
  (v128.const i32x4 1 2 3 4))
(assert_return
  (invoke "select" (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8) (i32.const 0))
  (v128.const i32x4 5 6 7 8))
(assert_return
  (invoke "select_untyped" (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8) (i32.const 0))
  (v128.const i32x4 5 6 7 8))
(assert_return (invoke "loop" (v128.const i32x4 1 2 3 -4) (i32.const 3)) (v128.const i32x4 4 8 12 -16))
(assert_return (invoke "br_table" (v128.const i32x4 1 2 3 4) (i32.const 0)) (v128.const i32x4 -1 -2 -3 -4))
(assert_return (invoke "br_table" (v128.const i32x4 1 2 3 4) (i32.const 1)) (v128.const i32x4 101 102 103 104))
(assert_return (invoke "br_table" (v128.const i32x4 1 2 3 4) (i32.const 7)) (v128.const i32x4 1 2 3 4))
(assert_return (invoke "trap_in_middle" (v128.const i32x4 6 3 0 0)) (v128.const i32x4 6 3 0 0))
(assert_trap (invoke "trap_in_middle" (v128.const i32x4 6 0 0 0)) "integer divide by zero")
