;; tag_values.wast -- values carried by suspensions in both directions: a
;; tag's parameters go from `suspend` to the handler's label (before the
;; continuation), its results go from the next `resume` of that continuation
;; back to `suspend`. Covers tags without values, with only parameters, with
;; only results, with both, of mixed number types (exact bits, including NaN
;; payloads and negative zero), with many parameters and results, with
;; references (externref, funcref and a continuation reference) as values,
;; and conversations where each answer depends on the previous request.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $pause)
  (tag $emit (param i32))
  (tag $ask (result i32))
  (tag $inc (param i32) (result i32))

  ;; Pauses n times, then returns n.
  (func $pauser (result i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $n)))
        (suspend $pause)
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $i))
  (global $n (mut i32) (i32.const 0))

  ;; Emits 3 values, then asks for 2 and returns the combination.
  (func $mixed (result i32)
    (suspend $emit (i32.const 5))
    (suspend $emit (i32.const 6))
    (suspend $emit (i32.const 7))
    (i32.sub (suspend $ask) (suspend $ask)))

  ;; A conversation: send x, receive y, send y * 2, ... four rounds; return
  ;; the last answer.
  (func $talk (result i32)
    (local $x i32)
    (local.set $x (i32.const 1))
    (local.set $x (suspend $inc (local.get $x)))
    (local.set $x (suspend $inc (i32.mul (local.get $x) (i32.const 2))))
    (local.set $x (suspend $inc (i32.mul (local.get $x) (i32.const 2))))
    (local.set $x (suspend $inc (i32.mul (local.get $x) (i32.const 2))))
    (local.get $x))

  (elem declare func $pauser $mixed $talk)

  ;; Counts the pauses of $pauser and adds its result.
  (func (export "pauses") (param i32) (result i32)
    (local $k (ref null $c))
    (local $cnt i32)
    (global.set $n (local.get 0))
    (local.set $k (cont.new $c (ref.func $pauser)))
    (loop $next
      (block $on_pause (result (ref $c))
        (return (i32.add (local.get $cnt) (resume $c (on $pause $on_pause) (local.get $k)))))
      (local.set $k)
      (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))
      (br $next))
    (unreachable))

  ;; Records emitted values as digits, answers the asks with 100 then 1.
  (func (export "mixed") (result i32)
    (local $k (ref null $c))
    (local $kq (ref null $ci))
    (local $digits i32)
    (local $answer i32)
    (local.set $k (cont.new $c (ref.func $mixed)))
    (local.set $answer (i32.const 100))
    (loop $next
      (block $on_emit (result i32 (ref $c))
        (block $on_ask (result (ref $ci))
          (return
            (i32.add (i32.mul (local.get $digits) (i32.const 1000))
                     (resume $c (on $emit $on_emit) (on $ask $on_ask) (local.get $k)))))
        ;; $ask: the continuation wants an i32.
        (local.set $kq)
        (local.set $k (cont.bind $ci $c (local.get $answer) (local.get $kq)))
        (local.set $answer (i32.const 1))
        (br $next))
      (local.set $k)
      (local.set $digits (i32.add (i32.mul (local.get $digits) (i32.const 10))))
      (br $next))
    (unreachable))
  ;; Answers each $inc with request + 3.
  (func (export "talk") (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $first (result i32 (ref $ci))
      (return (resume $c (on $inc $first) (cont.new $c (ref.func $talk)))))
    (local.set $k)
    (local.set $v)
    (loop $next
      (block $on_inc (result i32 (ref $ci))
        (return (resume $ci (on $inc $on_inc) (i32.add (local.get $v) (i32.const 3)) (local.get $k))))
      (local.set $k)
      (local.set $v)
      (br $next))
    (unreachable))
)

(assert_return (invoke "pauses" (i32.const 0)) (i32.const 0))
(assert_return (invoke "pauses" (i32.const 1)) (i32.const 2))
(assert_return (invoke "pauses" (i32.const 50)) (i32.const 100))
;; digits 5,6,7; answers 100 and 1: 567000 + 99.
(assert_return (invoke "mixed") (i32.const 567099))
;; 1 -> 4, 8 -> 11, 22 -> 25, 50 -> 53.
(assert_return (invoke "talk") (i32.const 53))

;; Mixed number types, many values, exact bits.
(module
  (type $f (func (result f64)))
  (type $c (cont $f))
  (type $fk (func (param i64 i32 f64 f32) (result f64)))
  (type $ck (cont $fk))

  ;; Four parameters of four types; four results of four types, in a
  ;; different order.
  (tag $quad (param i32 i64 f32 f64) (result i64 i32 f64 f32))

  ;; Sends (7, 1e12, 0.5, -2.25); gets back (a, b, c, d) and combines them.
  (func $client (result f64)
    (local $a i64) (local $b i32) (local $c f64) (local $d f32)
    (suspend $quad (i32.const 7) (i64.const 1000000000000) (f32.const 0.5) (f64.const -2.25))
    (local.set $d)
    (local.set $c)
    (local.set $b)
    (local.set $a)
    (f64.add
      (f64.add (f64.convert_i64_s (local.get $a)) (f64.convert_i32_s (local.get $b)))
      (f64.add (local.get $c) (f64.promote_f32 (local.get $d)))))

  (elem declare func $client $echo_bits)

  ;; The handler answers (i64 of the i32 * 2, i32 of the i64 / 1e9, f64 of
  ;; the f32 * 4, f32 of the f64 * 2).
  (func (export "quad") (result f64)
    (local $k (ref null $ck))
    (local $p0 i32) (local $p1 i64) (local $p2 f32) (local $p3 f64)
    (block $h (result i32 i64 f32 f64 (ref $ck))
      (return (resume $c (on $quad $h) (cont.new $c (ref.func $client)))))
    (local.set $k)
    (local.set $p3)
    (local.set $p2)
    (local.set $p1)
    (local.set $p0)
    (resume $ck
      (i64.mul (i64.extend_i32_s (local.get $p0)) (i64.const 2))
      (i32.wrap_i64 (i64.div_s (local.get $p1) (i64.const 1000000000)))
      (f64.mul (f64.promote_f32 (local.get $p2)) (f64.const 4))
      (f32.demote_f64 (f64.mul (local.get $p3) (f64.const 2)))
      (local.get $k)))

  ;; Bits pass unchanged both ways: the client sends its parameters in a
  ;; suspension and returns what comes back; the handler sends back what
  ;; it received.
  (type $fb (func (param f32 f64) (result f32 f64)))
  (type $cb (cont $fb))
  (tag $bits (param f32 f64) (result f32 f64))
  (func $echo_bits (param f32 f64) (result f32 f64)
    (suspend $bits (local.get 0) (local.get 1)))
  (func (export "bits") (param f32 f64) (result f32 f64)
    (local $k (ref null $cb))
    (block $h (result f32 f64 (ref $cb))
      (return
        (resume $cb (on $bits $h) (local.get 0) (local.get 1) (cont.new $cb (ref.func $echo_bits)))))
    (local.set $k)
    (resume $cb (local.get $k)))
)

;; 14 + 1000 + 2 + -4.5
(assert_return (invoke "quad") (f64.const 1011.5))
(assert_return (invoke "bits" (f32.const 1.5) (f64.const -0.125)) (f32.const 1.5) (f64.const -0.125))
(assert_return (invoke "bits" (f32.const -0) (f64.const -0)) (f32.const -0) (f64.const -0))
(assert_return (invoke "bits" (f32.const inf) (f64.const -inf)) (f32.const inf) (f64.const -inf))
(assert_return (invoke "bits" (f32.const nan:0x200001) (f64.const -nan:0x4000000000001))
  (f32.const nan:0x200001) (f64.const -nan:0x4000000000001))
(assert_return (invoke "bits" (f32.const 0x1p-149) (f64.const 0x1.fffffffffffffp+1023))
  (f32.const 0x1p-149) (f64.const 0x1.fffffffffffffp+1023))

;; Many values: twelve parameters and ten results.
(module
  (type $f (func (result i64)))
  (type $c (cont $f))
  (type $f10 (func (param i64 i64 i64 i64 i64 i32 i32 i32 i32 i32) (result i64)))
  (type $c10 (cont $f10))

  (tag $wide (param i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64 i64)
             (result i64 i64 i64 i64 i64 i32 i32 i32 i32 i32))

  ;; Sends 1..12, gets ten values back and weighs them by position.
  (func $client (result i64)
    (local $r1 i64) (local $r2 i64) (local $r3 i64) (local $r4 i64) (local $r5 i64)
    (local $r6 i32) (local $r7 i32) (local $r8 i32) (local $r9 i32) (local $r10 i32)
    (suspend $wide
      (i32.const 1) (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6)
      (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12))
    (local.set $r10) (local.set $r9) (local.set $r8) (local.set $r7) (local.set $r6)
    (local.set $r5) (local.set $r4) (local.set $r3) (local.set $r2) (local.set $r1)
    (i64.add
      (i64.add
        (i64.add (local.get $r1) (i64.mul (local.get $r2) (i64.const 2)))
        (i64.add (i64.mul (local.get $r3) (i64.const 3)) (i64.mul (local.get $r4) (i64.const 4))))
      (i64.add
        (i64.add
          (i64.mul (local.get $r5) (i64.const 5))
          (i64.extend_i32_s
            (i32.add (i32.mul (local.get $r6) (i32.const 6)) (i32.mul (local.get $r7) (i32.const 7)))))
        (i64.extend_i32_s
          (i32.add
            (i32.mul (local.get $r8) (i32.const 8))
            (i32.add (i32.mul (local.get $r9) (i32.const 9)) (i32.mul (local.get $r10) (i32.const 10))))))))

  (elem declare func $client)

  ;; Returns, as i64 results, the sums p1+p7, p2+p8, ..., p5+p11, and as i32
  ;; results p6 * 10, p12 * 10, p1 * 100, p2 * 100, p3 * 100 -- so each
  ;; result tells which parameters it came from.
  (func (export "wide") (result i64)
    (local $k (ref null $c10))
    (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $p4 i32) (local $p5 i32) (local $p6 i32)
    (local $p7 i64) (local $p8 i64) (local $p9 i64) (local $p10 i64) (local $p11 i64) (local $p12 i64)
    (block $h (result i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64 i64 (ref $c10))
      (return (resume $c (on $wide $h) (cont.new $c (ref.func $client)))))
    (local.set $k)
    (local.set $p12) (local.set $p11) (local.set $p10) (local.set $p9) (local.set $p8) (local.set $p7)
    (local.set $p6) (local.set $p5) (local.set $p4) (local.set $p3) (local.set $p2) (local.set $p1)
    (resume $c10
      (i64.add (i64.extend_i32_s (local.get $p1)) (local.get $p7))
      (i64.add (i64.extend_i32_s (local.get $p2)) (local.get $p8))
      (i64.add (i64.extend_i32_s (local.get $p3)) (local.get $p9))
      (i64.add (i64.extend_i32_s (local.get $p4)) (local.get $p10))
      (i64.add (i64.extend_i32_s (local.get $p5)) (local.get $p11))
      (i32.mul (local.get $p6) (i32.const 10))
      (i32.mul (i32.wrap_i64 (local.get $p12)) (i32.const 10))
      (i32.mul (local.get $p1) (i32.const 100))
      (i32.mul (local.get $p2) (i32.const 100))
      (i32.mul (local.get $p3) (i32.const 100))
      (local.get $k)))
)

;; results r1..r10 = 8, 10, 12, 14, 16, 60, 120, 100, 200, 300;
;; sum of i * ri = 8 + 20 + 36 + 56 + 80 + 360 + 840 + 800 + 1800 + 3000.
(assert_return (invoke "wide") (i64.const 7000))

;; References as tag values: externref and funcref round trips, and a
;; continuation handed to the handler to run.
(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fe (func (param externref) (result externref)))
  (type $ce (cont $fe))
  (type $fr (func (param funcref) (result i32)))
  (type $cr (cont $fr))
  (type $fk (func (param i32) (result i32)))
  (type $ck (cont $fk))

  (tag $ext (param externref) (result externref))
  (tag $fn (result funcref))
  ;; The leaf gives the handler a continuation to run on its behalf and gets
  ;; back that continuation's result.
  (tag $delegate (param (ref $c)) (result i32))

  (func $echo_ext (param externref) (result externref)
    (suspend $ext (local.get 0)))
  (func $call_given (param funcref) (result i32)
    (table.set $t (i32.const 0) (suspend $fn))
    (call_indirect $t (type $f) (i32.const 0)))
  (func $forty (result i32) (i32.const 40))
  (func $two (result i32) (i32.const 2))
  (func $delegator (result i32)
    (i32.add
      (suspend $delegate (cont.new $c (ref.func $forty)))
      (suspend $delegate (cont.new $c (ref.func $two)))))
  (table $t 1 funcref)
  (elem declare func $echo_ext $call_given $forty $two $delegator)

  ;; The handler swaps in its own externref.
  (func (export "ext") (param externref externref) (result externref)
    (local $k (ref null $ce))
    (block $h (result externref (ref $ce))
      (return (resume $ce (on $ext $h) (local.get 0) (cont.new $ce (ref.func $echo_ext)))))
    (local.set $k)
    (drop)
    (resume $ce (local.get 1) (local.get $k)))
  ;; The handler gives the continuation a function to call.
  (func (export "fn") (param i32) (result i32)
    (local $k (ref null $cr))
    (block $h (result (ref $cr))
      (return (resume $cr (on $fn $h) (ref.null func) (cont.new $cr (ref.func $call_given)))))
    (local.set $k)
    (resume $cr (select (result funcref) (ref.func $forty) (ref.func $two) (local.get 0))
      (local.get $k)))
  ;; Runs each delegated continuation to its end and passes the result back.
  (func (export "delegate") (result i32)
    (local $k (ref null $ck))
    (local $v i32)
    (block $first (result (ref $c) (ref $ck))
      (return (resume $c (on $delegate $first) (cont.new $c (ref.func $delegator)))))
    (local.set $k)
    (local.set $v (resume $c))
    (loop $next
      (block $on (result (ref $c) (ref $ck))
        (return (resume $ck (on $delegate $on) (local.get $v) (local.get $k))))
      (local.set $k)
      (local.set $v (resume $c))
      (br $next))
    (unreachable))
)

(assert_return (invoke "ext" (ref.extern 1) (ref.extern 2)) (ref.extern 2))
(assert_return (invoke "ext" (ref.extern 3) (ref.null extern)) (ref.null extern))
(assert_return (invoke "fn" (i32.const 1)) (i32.const 40))
(assert_return (invoke "fn" (i32.const 0)) (i32.const 2))
(assert_return (invoke "delegate") (i32.const 42))
