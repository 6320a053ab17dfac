;; v128_payloads.wast -- v128 values wherever a switch or an exception carries
;; values: continuation arguments and results, arguments bound by
;; `cont.bind` (before and after a v128), tag payloads both ways through
;; `suspend`, values passed by `switch`, exceptions thrown in a continuation
;; and caught outside, thrown and caught in one function, rethrown with
;; `throw_ref`, and raised by `resume_throw` in a suspended and in a fresh
;; continuation. Scalars sit on both sides of each v128 so that a value read
;; from the wrong payload word shows.

(module
  (type $f (func (param i32 v128 i64) (result v128 i32)))
  (type $c (cont $f))
  (type $g (func (param v128 i64) (result v128 i32)))
  (type $cg (cont $g))
  (type $h (func (param i64) (result v128 i32)))
  (type $ch (cont $h))

  (tag $yield (param i32 v128) (result v128 i64))

  ;; Yields (a, v), is resumed with (w, k); returns
  ;; (v + w + splat(k + x), a + k).
  (func $body (type $f)
    (local $w v128)
    (local $k i64)
    (suspend $yield (local.get 0) (local.get 1))
    (local.set $k)
    (local.set $w)
    (i32x4.add
      (i32x4.add (local.get 1) (local.get $w))
      (i32x4.splat (i32.wrap_i64 (i64.add (local.get $k) (local.get 2)))))
    (i32.add (local.get 0) (i32.wrap_i64 (local.get $k))))
  (elem declare func $body)

  ;; Answers a suspension (a, v) with (v + v, a).
  (func $answer (param $a i32) (param $v v128) (param $k (ref $cg)) (result v128 i32)
    (resume $cg
      (i32x4.add (local.get $v) (local.get $v))
      (i64.extend_i32_u (local.get $a))
      (local.get $k)))

  (func (export "run") (param i32 v128 i64) (result v128 i32)
    (block $on_yield (result i32 v128 (ref $cg))
      (return
        (resume $c (on $yield $on_yield)
          (local.get 0) (local.get 1) (local.get 2)
          (cont.new $c (ref.func $body)))))
    (return_call $answer))

  ;; The i32 bound, the rest passed by `resume`.
  (func (export "bind_one") (param i32 v128 i64) (result v128 i32)
    (block $on_yield (result i32 v128 (ref $cg))
      (return
        (resume $cg (on $yield $on_yield)
          (local.get 1) (local.get 2)
          (cont.bind $c $cg (local.get 0) (cont.new $c (ref.func $body))))))
    (return_call $answer))

  ;; The i32 and the v128 bound (in two steps), the i64 passed.
  (func (export "bind_two") (param i32 v128 i64) (result v128 i32)
    (block $on_yield (result i32 v128 (ref $cg))
      (return
        (resume $ch (on $yield $on_yield)
          (local.get 2)
          (cont.bind $cg $ch (local.get 1)
            (cont.bind $c $cg (local.get 0) (cont.new $c (ref.func $body)))))))
    (return_call $answer))
)

(assert_return
  (invoke "run" (i32.const 5) (v128.const i32x4 1 2 3 4) (i64.const 10))
  (v128.const i32x4 18 21 24 27) (i32.const 10))
(assert_return
  (invoke "run" (i32.const -1) (v128.const i64x2 0x0123456789abcdef 0x7edcba9876543210) (i64.const 1))
  (v128.const i32x4 0x9d0369cd 0x0369d035 0x62fc9630 0x7c962fc8) (i32.const -2))
(assert_return
  (invoke "bind_one" (i32.const 5) (v128.const i32x4 1 2 3 4) (i64.const 10))
  (v128.const i32x4 18 21 24 27) (i32.const 10))
(assert_return
  (invoke "bind_two" (i32.const 5) (v128.const i32x4 1 2 3 4) (i64.const 10))
  (v128.const i32x4 18 21 24 27) (i32.const 10))
(assert_return
  (invoke "bind_two" (i32.const 7) (v128.const f32x4 1.5 -2.5 0 -0) (i64.const 0))
  (v128.const i32x4 0xbf400007 0x40600007 7 0x80000007) (i32.const 14))

;; switch: both sides add splat(1) to the vector they are passed; whoever
;; reaches the limit returns it, pong with splat(1000) added.
(module
  (rec
    (type $fp (func (param i32 v128 (ref null $cp)) (result v128)))
    (type $cp (cont $fp)))
  (tag $sw (result v128))

  (global $limit (mut i32) (i32.const 0))

  (func $side (param $v i32) (param $acc v128) (param $other (ref null $cp)) (param $bonus i32) (result v128)
    (loop $l
      (if (i32.ge_s (local.get $v) (global.get $limit))
        (then (return (i32x4.add (local.get $acc) (i32x4.splat (local.get $bonus))))))
      (switch $cp $sw
        (i32.add (local.get $v) (i32.const 1))
        (i32x4.add (local.get $acc) (i32x4.splat (i32.const 1)))
        (local.get $other))
      (local.set $other)
      (local.set $acc)
      (local.set $v)
      (br $l))
    (unreachable))
  (func $ping (type $fp) (call $side (local.get 0) (local.get 1) (local.get 2) (i32.const 0)))
  (func $pong (type $fp) (call $side (local.get 0) (local.get 1) (local.get 2) (i32.const 1000)))
  (elem declare func $ping $pong)

  (func (export "pingpong") (param i32 v128) (result v128)
    (global.set $limit (local.get 0))
    (resume $cp (on $sw switch)
      (i32.const 0) (local.get 1) (cont.new $cp (ref.func $pong))
      (cont.new $cp (ref.func $ping))))
)

(assert_return
  (invoke "pingpong" (i32.const 0) (v128.const i32x4 10 20 30 40))
  (v128.const i32x4 10 20 30 40))
(assert_return
  (invoke "pingpong" (i32.const 1) (v128.const i32x4 10 20 30 40))
  (v128.const i32x4 1011 1021 1031 1041))
(assert_return
  (invoke "pingpong" (i32.const 1000) (v128.const i32x4 0 -1 -1000 7))
  (v128.const i32x4 1000 999 0 1007))

;; Exceptions whose payload holds v128 values.
(module
  (tag $boom (param v128 i32 v128))
  (tag $wait)
  (type $t0 (func (param v128 v128)))
  (type $c0 (cont $t0))
  (type $t1 (func (result v128 i32 v128)))
  (type $c1 (cont $t1))

  (func $throws (type $t0)
    (throw $boom (local.get 0) (i32.const 7) (local.get 1)))
  (func $waits (type $t1)
    (block $h (result v128 i32 v128)
      (try_table (catch $boom $h)
        (suspend $wait))
      (unreachable)))
  (elem declare func $throws $waits)

  ;; Thrown in a continuation, caught around its resume.
  (func (export "from_continuation") (param v128 v128) (result v128 i32 v128)
    (block $h (result v128 i32 v128)
      (try_table (catch $boom $h)
        (resume $c0 (local.get 0) (local.get 1) (cont.new $c0 (ref.func $throws))))
      (unreachable)))

  ;; Thrown and caught in one function.
  (func (export "local") (param v128) (result v128 i32 v128)
    (block $h (result v128 i32 v128)
      (try_table (catch $boom $h)
        (throw $boom (local.get 0) (i32.const 1) (i32x4.splat (i32.const -1))))
      (unreachable)))

  ;; Caught with its reference (catch_all_ref) from a callee, rethrown, caught
  ;; again.
  (func (export "rethrown") (param v128 v128) (result v128 i32 v128)
    (block $h (result v128 i32 v128)
      (try_table (catch $boom $h)
        (block $r (result exnref)
          (try_table (catch_all_ref $r)
            (call $throws (local.get 0) (local.get 1)))
          (unreachable))
        (throw_ref))
      (unreachable)))

  ;; Raised where the continuation is suspended, caught there.
  (func (export "resume_throw") (param v128 v128) (result v128 i32 v128)
    (local $k (ref null $c1))
    (block $on_wait (result (ref $c1))
      (resume $c1 (on $wait $on_wait) (cont.new $c1 (ref.func $waits)))
      (unreachable))
    (local.set $k)
    (resume_throw $c1 $boom (local.get 0) (i32.const 3) (local.get 1) (local.get $k)))

  ;; Raised at the resume of a continuation that never ran.
  (func (export "resume_throw_fresh") (param v128) (result v128 i32 v128)
    (block $h (result v128 i32 v128)
      (try_table (catch $boom $h)
        (resume_throw $c1 $boom (local.get 0) (i32.const 4) (local.get 0)
          (cont.new $c1 (ref.func $waits)))
        (return))
      (unreachable)))
)

(assert_return
  (invoke "from_continuation" (v128.const i32x4 1 2 3 4) (v128.const i64x2 -1 5))
  (v128.const i32x4 1 2 3 4) (i32.const 7) (v128.const i64x2 -1 5))
(assert_return
  (invoke "local" (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16))
  (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16) (i32.const 1)
  (v128.const i32x4 -1 -1 -1 -1))
(assert_return
  (invoke "rethrown" (v128.const f64x2 1.5 -0) (v128.const i32x4 9 8 7 6))
  (v128.const f64x2 1.5 -0) (i32.const 7) (v128.const i32x4 9 8 7 6))
(assert_return
  (invoke "resume_throw" (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8))
  (v128.const i32x4 1 2 3 4) (i32.const 3) (v128.const i32x4 5 6 7 8))
(assert_return
  (invoke "resume_throw_fresh" (v128.const i16x8 1 2 3 4 5 6 7 8))
  (v128.const i16x8 1 2 3 4 5 6 7 8) (i32.const 4) (v128.const i16x8 1 2 3 4 5 6 7 8))
