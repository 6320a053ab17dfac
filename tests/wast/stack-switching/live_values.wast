;; live_values.wast -- values that stay live across stack switches keep their
;; values: many locals and operand-stack values of every number type in the
;; resumer across `resume`, in the continuation across `suspend` and
;; `switch`, in a deep recursion that resumes at its bottom, and in a
;; continuation that suspends from deep inside its own recursion. Each side
;; clobbers many values of its own while the other is suspended.

(module
  (type $f (func (result f64)))
  (type $c (cont $f))
  (type $fi (func (param i64) (result f64)))
  (type $ci (cont $fi))
  (rec
    (type $fs (func (param i32 (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $tick (param i32) (result i64))
  (tag $sw (result i32))

  ;; Uses many values of its own around each suspension.
  (func $busy (result f64)
    (local $a i32) (local $b i64) (local $c f32) (local $d f64)
    (local $e i32) (local $f i64) (local $g f32) (local $h f64)
    (local $r i64)
    (local.set $a (i32.const 3))
    (local.set $b (i64.const 0x100000000))
    (local.set $c (f32.const 1.5))
    (local.set $d (f64.const 2.25))
    (local.set $e (i32.const -7))
    (local.set $f (i64.const -11))
    (local.set $g (f32.const 0.125))
    (local.set $h (f64.const 1e10))
    ;; Values on the operand stack across the suspension, too.
    (f64.add
      (f64.add
        (f64.mul (f64.convert_i32_s (local.get $a)) (local.get $d))
        (f64.convert_i64_s (local.get $b)))
      (f64.add
        (f64.convert_i64_s (suspend $tick (local.get $a)))
        (f64.add
          (f64.promote_f32 (f32.add (local.get $c) (local.get $g)))
          (f64.add
            (f64.convert_i32_s (local.get $e))
            (f64.add
              (f64.convert_i64_s (local.get $f))
              (f64.add
                (local.get $h)
                (f64.convert_i64_s (suspend $tick (local.get $e))))))))))

  (elem declare func $busy)

  ;; The resumer keeps its own values across both resumes.
  (func (export "across") (result f64)
    (local $k (ref null $ci))
    (local $p i32) (local $q i64) (local $r f32) (local $s f64)
    (local $t i32) (local $u i64) (local $v f32) (local $w f64)
    (local $x f64)
    (local.set $p (i32.const 100))
    (local.set $q (i64.const 200))
    (local.set $r (f32.const 0.5))
    (local.set $s (f64.const 0.25))
    (local.set $t (i32.const 1000))
    (local.set $u (i64.const 2000))
    (local.set $v (f32.const 4))
    (local.set $w (f64.const 8))
    (block $h1 (result i32 (ref $ci))
      (return (resume $c (on $tick $h1) (cont.new $c (ref.func $busy)))))
    (local.set $k)
    ;; The value ticked (3) times 1000.
    (i64.mul (i64.extend_i32_s) (i64.const 1000))
    (local.set $q (i64.add (local.get $q)))
    (block $h2 (result i32 (ref $ci))
      (return
        (f64.add
          (f64.add (f64.convert_i64_s (local.get $q)) (f64.convert_i32_s (local.get $p)))
          (resume $ci (on $tick $h2) (local.get $q) (local.get $k)))))
    (local.set $k)
    (local.set $t (i32.add (local.get $t)))
    ;; Finish: the continuation gets t (1000 - 7) as its second tick.
    (local.set $x (resume $ci (i64.extend_i32_s (local.get $t)) (local.get $k)))
    (f64.add
      (local.get $x)
      (f64.add
        (f64.add (f64.convert_i32_s (local.get $p)) (f64.convert_i64_s (local.get $q)))
        (f64.add
          (f64.add (f64.promote_f32 (local.get $r)) (local.get $s))
          (f64.add
            (f64.convert_i64_s (local.get $u))
            (f64.add (f64.promote_f32 (local.get $v)) (local.get $w)))))))

  ;; Resumes at the bottom of a recursion of depth d that keeps an i64 and
  ;; an f64 live in every frame.
  (func $deep_resume (param $d i32) (param $acc f64) (result f64)
    (local $mine i64)
    (local $k (ref null $ci))
    (local.set $mine (i64.extend_i32_s (local.get $d)))
    (if (result f64) (i32.eqz (local.get $d))
      (then
        (block $h (result i32 (ref $ci))
          (return (resume $c (on $tick $h) (cont.new $c (ref.func $busy)))))
        (local.set $k)
        (drop)
        (block $h2 (result i32 (ref $ci))
          (return (resume $ci (on $tick $h2) (i64.const 1) (local.get $k))))
        (local.set $k)
        (drop)
        (f64.add (local.get $acc) (resume $ci (i64.const 2) (local.get $k))))
      (else
        (f64.add
          (f64.add (local.get $acc) (f64.convert_i64_s (local.get $mine)))
          (call $deep_resume (i32.sub (local.get $d) (i32.const 1))
            (f64.sub (local.get $acc) (f64.const 1)))))))
  (func (export "deep_resume") (param i32) (result f64)
    (call $deep_resume (local.get 0) (f64.const 1024)))

  ;; Suspends at the bottom of its own recursion of depth d; every frame
  ;; adds its depth times the answer it got.
  (func $deep_suspend (param $d i64) (result f64)
    (local $here f64)
    (local.set $here (f64.convert_i64_s (local.get $d)))
    (if (result f64) (i64.eqz (local.get $d))
      (then (f64.convert_i64_s (suspend $tick (i32.const 0))))
      (else
        (f64.add
          (f64.mul (local.get $here) (f64.const 2))
          (call $deep_suspend (i64.sub (local.get $d) (i64.const 1)))))))
  (elem declare func $deep_suspend)
  (func (export "deep_suspend") (param i64) (result f64)
    (local $k (ref null $ci))
    (block $h (result i32 (ref $ci))
      (return (resume $ci (on $tick $h) (local.get 0) (cont.new $ci (ref.func $deep_suspend)))))
    (local.set $k)
    (drop)
    (resume $ci (i64.const 1000000) (local.get $k)))

  ;; Two continuations switching back and forth, each keeping a running
  ;; checksum in locals of several types that the other one never sees.
  (func $sw_a (type $fs)
    (local $n i32) (local $x i64) (local $y f64) (local $other (ref null $cs))
    (local.set $n (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (local.set $x (i64.add (i64.mul (local.get $x) (i64.const 3)) (i64.extend_i32_u (local.get $n))))
      (local.set $y (f64.add (local.get $y) (f64.const 0.5)))
      (if (i32.ge_u (local.get $n) (i32.const 20))
        (then (return (i32.add (i32.wrap_i64 (local.get $x)) (i32.trunc_f64_s (local.get $y))))))
      (switch $cs $sw (i32.add (local.get $n) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $n)
      (br $l))
    (unreachable))
  (func $sw_b (type $fs)
    (local $n i32) (local $x i64) (local $y f32) (local $other (ref null $cs))
    (local.set $n (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (local.set $x (i64.sub (local.get $x) (i64.extend_i32_u (local.get $n))))
      (local.set $y (f32.mul (f32.add (local.get $y) (f32.const 1)) (f32.const 1)))
      (if (i32.ge_u (local.get $n) (i32.const 20))
        (then (return (i32.const -1))))
      (switch $cs $sw (i32.add (local.get $n) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $n)
      (br $l))
    (unreachable))
  (elem declare func $sw_a $sw_b)
  (func (export "switch_checksums") (result i32)
    (resume $cs (on $sw switch)
      (i32.const 0) (cont.new $cs (ref.func $sw_b))
      (cont.new $cs (ref.func $sw_a))))
)
;; busy's result with ticks 3200 and 993: 14294971479.375; the resumer's own
;; values add 5312.75.
(assert_return (invoke "across") (f64.const 14294976792.125))
;; busy's result with ticks 1 and 2 is 14294967289.375; each level adds its
;; acc (1024, 1023, ...) and depth, the bottom its acc.
(assert_return (invoke "deep_resume" (i32.const 0)) (f64.const 14294968313.375))
(assert_return (invoke "deep_resume" (i32.const 10)) (f64.const 14294978553.375))
(assert_return (invoke "deep_resume" (i32.const 1000)) (f64.const 14295992313.375))
;; d(d + 1) + 1000000
(assert_return (invoke "deep_suspend" (i64.const 0)) (f64.const 1000000))
(assert_return (invoke "deep_suspend" (i64.const 10)) (f64.const 1000110))
(assert_return (invoke "deep_suspend" (i64.const 1000)) (f64.const 2001000))
;; a's x over n = 0, 2, ..., 20 (x = 3x + n) ends at 88562; its y at 5.5.
(assert_return (invoke "switch_checksums") (i32.const 88567))
(assert_return (invoke "across") (f64.const 14294976792.125))
