;; relaxed_simd_choices.wast -- the one result Switchyard gives for each
;; relaxed SIMD instruction (docs/engine.md), on inputs where the allowed
;; results differ: out-of-range swizzle indices, NaN and out-of-range
;; truncations, products whose fused and unfused sums differ, lane masks
;; that are not all ones or all zeros, NaN and signed zeros in min/max,
;; the overflowing q15 product, and dot products whose second operand has
;; its top bit set.

(module
  (func (export "swizzle") (param v128 v128) (result v128)
    (i8x16.relaxed_swizzle (local.get 0) (local.get 1)))
  (func (export "trunc_f32x4_s") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_s (local.get 0)))
  (func (export "trunc_f32x4_u") (param v128) (result v128)
    (i32x4.relaxed_trunc_f32x4_u (local.get 0)))
  (func (export "trunc_f64x2_s_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_s_zero (local.get 0)))
  (func (export "trunc_f64x2_u_zero") (param v128) (result v128)
    (i32x4.relaxed_trunc_f64x2_u_zero (local.get 0)))
  (func (export "f32x4_madd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4_nmadd") (param v128 v128 v128) (result v128)
    (f32x4.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2_madd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_madd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f64x2_nmadd") (param v128 v128 v128) (result v128)
    (f64x2.relaxed_nmadd (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i8x16_laneselect") (param v128 v128 v128) (result v128)
    (i8x16.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i32x4_laneselect") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "i64x2_laneselect") (param v128 v128 v128) (result v128)
    (i64x2.relaxed_laneselect (local.get 0) (local.get 1) (local.get 2)))
  (func (export "f32x4_min") (param v128 v128) (result v128)
    (f32x4.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f32x4_max") (param v128 v128) (result v128)
    (f32x4.relaxed_max (local.get 0) (local.get 1)))
  (func (export "f64x2_min") (param v128 v128) (result v128)
    (f64x2.relaxed_min (local.get 0) (local.get 1)))
  (func (export "f64x2_max") (param v128 v128) (result v128)
    (f64x2.relaxed_max (local.get 0) (local.get 1)))
  (func (export "q15mulr") (param v128 v128) (result v128)
    (i16x8.relaxed_q15mulr_s (local.get 0) (local.get 1)))
  (func (export "dot") (param v128 v128) (result v128)
    (i16x8.relaxed_dot_i8x16_i7x16_s (local.get 0) (local.get 1)))
  (func (export "dot_add") (param v128 v128 v128) (result v128)
    (i32x4.relaxed_dot_i8x16_i7x16_add_s (local.get 0) (local.get 1) (local.get 2)))
)

;; Indices of 16 and more give 0, whatever their high bit.
(assert_return
  (invoke "swizzle"
    (v128.const i8x16 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25)
    (v128.const i8x16 0 15 16 17 127 128 255 1 2 3 31 32 64 -1 -16 14))
  (v128.const i8x16 10 25 0 0 0 0 0 11 12 13 0 0 0 0 0 24))

;; The saturating truncations: NaN gives 0, out of range saturates.
(assert_return
  (invoke "trunc_f32x4_s" (v128.const f32x4 nan 3e9 -3e9 -1.5))
  (v128.const i32x4 0 2147483647 -2147483648 -1))
(assert_return
  (invoke "trunc_f32x4_u" (v128.const f32x4 -nan 5e9 -1 1.9))
  (v128.const i32x4 0 -1 0 1))
(assert_return
  (invoke "trunc_f64x2_s_zero" (v128.const f64x2 nan -1e10))
  (v128.const i32x4 0 -2147483648 0 0))
(assert_return
  (invoke "trunc_f64x2_u_zero" (v128.const f64x2 1e10 -2.5))
  (v128.const i32x4 -1 0 0 0))

;; Fused: a * b + c with one rounding. (1 + 2^-12)^2 - (1 + 2^-11) is
;; 2^-24 exactly; rounding the product first would give 0. In f64,
;; (1 + 2^-27)^2 - (1 + 2^-26) is 2^-54, and 0 unfused.
(assert_return
  (invoke "f32x4_madd"
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 2 -0)
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 3 0)
    (v128.const f32x4 -0x1.002p+0 0 1 -0))
  (v128.const f32x4 0x1p-24 0x1.002p+0 7 -0))
(assert_return
  (invoke "f32x4_nmadd"
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 2 0)
    (v128.const f32x4 0x1.001p+0 0x1.001p+0 3 0)
    (v128.const f32x4 0x1.002p+0 0 1 0))
  (v128.const f32x4 -0x1p-24 -0x1.002p+0 -5 0))
(assert_return
  (invoke "f64x2_madd"
    (v128.const f64x2 0x1.0000002p+0 2)
    (v128.const f64x2 0x1.0000002p+0 3)
    (v128.const f64x2 -0x1.0000004p+0 1))
  (v128.const f64x2 0x1p-54 7))
(assert_return
  (invoke "f64x2_nmadd"
    (v128.const f64x2 0x1.0000002p+0 2)
    (v128.const f64x2 0x1.0000002p+0 3)
    (v128.const f64x2 0x1.0000004p+0 1))
  (v128.const f64x2 -0x1p-54 -5))

;; Bit by bit, like v128.bitselect, whatever the mask lanes hold.
(assert_return
  (invoke "i8x16_laneselect"
    (v128.const i8x16 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1)
    (v128.const i8x16 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0)
    (v128.const i8x16 0x0f 0xf0 0x80 0x7f 0 -1 1 2 3 4 5 6 7 8 9 10))
  (v128.const i8x16 0x0f 0xf0 0x80 0x7f 0 -1 1 2 3 4 5 6 7 8 9 10))
(assert_return
  (invoke "i32x4_laneselect"
    (v128.const i32x4 0x11111111 0x22222222 0x33333333 0x44444444)
    (v128.const i32x4 0xaaaaaaaa 0xbbbbbbbb 0xcccccccc 0xdddddddd)
    (v128.const i32x4 0x0000ffff 0xffff0000 0x80000000 0x7fffffff))
  (v128.const i32x4 0xaaaa1111 0x2222bbbb 0x4ccccccc 0xc4444444))
(assert_return
  (invoke "i64x2_laneselect"
    (v128.const i64x2 -1 0)
    (v128.const i64x2 0 -1)
    (v128.const i64x2 0x8000000000000000 0x00000000ffffffff))
  (v128.const i64x2 0x8000000000000000 0xffffffff00000000))

;; As f32x4.min/max and f64x2.min/max: NaN propagates, -0 < +0.
(assert_return
  (invoke "f32x4_min" (v128.const f32x4 nan 1 -0 0) (v128.const f32x4 1 nan 0 -0))
  (v128.const f32x4 nan:canonical nan:canonical -0 -0))
(assert_return
  (invoke "f32x4_max" (v128.const f32x4 nan 1 -0 0) (v128.const f32x4 1 nan 0 -0))
  (v128.const f32x4 nan:canonical nan:canonical 0 0))
(assert_return
  (invoke "f64x2_min" (v128.const f64x2 -0 nan) (v128.const f64x2 0 -inf))
  (v128.const f64x2 -0 nan:canonical))
(assert_return
  (invoke "f64x2_max" (v128.const f64x2 0 nan) (v128.const f64x2 -0 inf))
  (v128.const f64x2 0 nan:canonical))

;; -32768 * -32768 saturates to 32767; other lanes round.
(assert_return
  (invoke "q15mulr"
    (v128.const i16x8 -32768 -32768 16384 -16384 1 32767 -1 0)
    (v128.const i16x8 -32768 32767 16384 16384 16384 32767 1 5))
  (v128.const i16x8 32767 -32767 8192 -8192 1 32766 0 0))

;; Both operands signed; adjacent i16 products added with wrapping.
(assert_return
  (invoke "dot"
    (v128.const i8x16 -128 -128 1 1 1 2 127 127 0 0 0 0 0 0 0 0)
    (v128.const i8x16 -128 -128 -1 -1 -128 127 127 127 0 0 0 0 0 0 0 0))
  (v128.const i16x8 -32768 -2 126 32258 0 0 0 0))
(assert_return
  (invoke "dot_add"
    (v128.const i8x16 -128 -128 -128 -128 1 1 1 1 1 2 3 4 0 0 0 0)
    (v128.const i8x16 -128 -128 -128 -128 -1 -1 -1 -1 1 1 1 1 0 0 0 0)
    (v128.const i32x4 1 10 -10 0x7fffffff))
  (v128.const i32x4 65537 6 0 0x7fffffff))
