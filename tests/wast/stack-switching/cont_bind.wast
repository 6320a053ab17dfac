;; cont_bind.wast -- partial application with `cont.bind $src $dst`: it takes
;; the leading parameters of a continuation of type $src and yields a new
;; continuation of type $dst that expects only the remaining ones. Binding
;; consumes the original continuation. Covers fresh continuations (binding
;; one, several, all or none of the parameters; binding in several steps),
;; suspended continuations (binding the values a suspension is waiting for),
;; parameters of every number type in the right order, and a bound
;; continuation that suspends and is resumed again.

(module
  (type $f3 (func (param i32 i32 i32) (result i32)))
  (type $c3 (cont $f3))
  (type $f2 (func (param i32 i32) (result i32)))
  (type $c2 (cont $f2))
  (type $f1 (func (param i32) (result i32)))
  (type $c1 (cont $f1))
  (type $f0 (func (result i32)))
  (type $c0 (cont $f0))

  ;; Order-sensitive: digits(a, b, c) = 100a + 10b + c.
  (func $digits (param $a i32) (param $b i32) (param $c i32) (result i32)
    (i32.add
      (i32.add (i32.mul (local.get $a) (i32.const 100))
               (i32.mul (local.get $b) (i32.const 10)))
      (local.get $c)))

  (elem declare func $digits)

  (func $fresh (result (ref $c3)) (cont.new $c3 (ref.func $digits)))

  (func (export "bind0") (param i32 i32 i32) (result i32)
    (resume $c3 (local.get 0) (local.get 1) (local.get 2)
      (cont.bind $c3 $c3 (call $fresh))))
  (func (export "bind1") (param i32 i32 i32) (result i32)
    (resume $c2 (local.get 1) (local.get 2)
      (cont.bind $c3 $c2 (local.get 0) (call $fresh))))
  (func (export "bind2") (param i32 i32 i32) (result i32)
    (resume $c1 (local.get 2)
      (cont.bind $c3 $c1 (local.get 0) (local.get 1) (call $fresh))))
  (func (export "bind3") (param i32 i32 i32) (result i32)
    (resume $c0
      (cont.bind $c3 $c0 (local.get 0) (local.get 1) (local.get 2) (call $fresh))))
  ;; One parameter at a time.
  (func (export "bind_steps") (param i32 i32 i32) (result i32)
    (resume $c0
      (cont.bind $c1 $c0 (local.get 2)
        (cont.bind $c2 $c1 (local.get 1)
          (cont.bind $c3 $c2 (local.get 0) (call $fresh))))))
  ;; Two, then one.
  (func (export "bind_2_1") (param i32 i32 i32) (result i32)
    (resume $c0
      (cont.bind $c1 $c0 (local.get 2)
        (cont.bind $c3 $c1 (local.get 0) (local.get 1) (call $fresh)))))
  ;; One, then two.
  (func (export "bind_1_2") (param i32 i32 i32) (result i32)
    (resume $c0
      (cont.bind $c2 $c0 (local.get 1) (local.get 2)
        (cont.bind $c3 $c2 (local.get 0) (call $fresh)))))
  ;; Empty binds between the real ones change nothing.
  (func (export "bind_empty_steps") (param i32 i32 i32) (result i32)
    (resume $c1 (local.get 2)
      (cont.bind $c1 $c1
        (cont.bind $c2 $c1 (local.get 1)
          (cont.bind $c2 $c2
            (cont.bind $c3 $c2 (local.get 0)
              (cont.bind $c3 $c3 (call $fresh))))))))

  ;; Binding consumes its operand: the original cannot be resumed or bound.
  (func (export "resume_after_bind") (result i32)
    (local $k (ref null $c3))
    (local.set $k (call $fresh))
    (drop (cont.bind $c3 $c2 (i32.const 1) (local.get $k)))
    (resume $c3 (i32.const 1) (i32.const 2) (i32.const 3) (local.get $k)))
  (func (export "bind_after_bind") (result i32)
    (local $k (ref null $c3))
    (local.set $k (call $fresh))
    (drop (cont.bind $c3 $c3 (local.get $k)))
    (resume $c2 (i32.const 2) (i32.const 3)
      (cont.bind $c3 $c2 (i32.const 1) (local.get $k))))
  ;; ... but the bound continuation is usable, once.
  (func (export "bound_is_usable") (result i32)
    (local $k (ref null $c3))
    (local $b (ref null $c2))
    (local.set $k (call $fresh))
    (local.set $b (cont.bind $c3 $c2 (i32.const 7) (local.get $k)))
    (resume $c2 (i32.const 8) (i32.const 9) (local.get $b)))
  (func (export "bound_twice") (result i32)
    (local $b (ref null $c2))
    (local.set $b (cont.bind $c3 $c2 (i32.const 7) (call $fresh)))
    (drop (resume $c2 (i32.const 8) (i32.const 9) (local.get $b)))
    (resume $c2 (i32.const 8) (i32.const 9) (local.get $b)))
  (func (export "bind_null") (result i32)
    (resume $c2 (i32.const 2) (i32.const 3)
      (cont.bind $c3 $c2 (i32.const 1) (ref.null $c3))))
  ;; After the traps, binding still works.
  (func (export "bind_ok") (result i32)
    (resume $c0
      (cont.bind $c3 $c0 (i32.const 4) (i32.const 5) (i32.const 6) (call $fresh))))
)

(assert_return (invoke "bind0" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind1" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind1" (i32.const 3) (i32.const 2) (i32.const 1)) (i32.const 321))
(assert_return (invoke "bind2" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind2" (i32.const 9) (i32.const 0) (i32.const 5)) (i32.const 905))
(assert_return (invoke "bind3" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind3" (i32.const 0) (i32.const 0) (i32.const 7)) (i32.const 7))
(assert_return (invoke "bind_steps" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind_steps" (i32.const 4) (i32.const 5) (i32.const 6)) (i32.const 456))
(assert_return (invoke "bind_2_1" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind_1_2" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind_empty_steps" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "bind1" (i32.const -1) (i32.const 0) (i32.const 0)) (i32.const -100))
(assert_trap (invoke "resume_after_bind") "continuation already consumed")
(assert_trap (invoke "bind_after_bind") "continuation already consumed")
(assert_return (invoke "bound_is_usable") (i32.const 789))
(assert_trap (invoke "bound_twice") "continuation already consumed")
(assert_trap (invoke "bind_null") "null continuation reference")
(assert_return (invoke "bind_ok") (i32.const 456))

;; Parameters of every number type keep their order and bits.
(module
  (type $fm (func (param i64 f32 f64 i32) (result f64)))
  (type $cm (cont $fm))
  (type $fm1 (func (param f32 f64 i32) (result f64)))
  (type $cm1 (cont $fm1))
  (type $fm3 (func (param i32) (result f64)))
  (type $cm3 (cont $fm3))
  (type $fm4 (func (result f64)))
  (type $cm4 (cont $fm4))
  (type $fb (func (param i64 i64) (result i64)))
  (type $cb (cont $fb))
  (type $fb1 (func (param i64) (result i64)))
  (type $cb1 (cont $fb1))

  ;; a + b + c + d, all as f64.
  (func $mix (param $a i64) (param $b f32) (param $c f64) (param $d i32) (result f64)
    (f64.add
      (f64.add (f64.convert_i64_s (local.get $a)) (f64.promote_f32 (local.get $b)))
      (f64.add (local.get $c) (f64.convert_i32_s (local.get $d)))))
  ;; a - b: the bound value must end up first.
  (func $sub (param i64 i64) (result i64) (i64.sub (local.get 0) (local.get 1)))

  (elem declare func $mix $sub)

  (func (export "mix_bind1") (result f64)
    (resume $cm1 (f32.const 0.5) (f64.const 0.25) (i32.const -4)
      (cont.bind $cm $cm1 (i64.const 1000) (cont.new $cm (ref.func $mix)))))
  (func (export "mix_bind3") (result f64)
    (resume $cm3 (i32.const 3)
      (cont.bind $cm $cm3 (i64.const -10) (f32.const 1.5) (f64.const 2.25)
        (cont.new $cm (ref.func $mix)))))
  (func (export "mix_bind_all") (result f64)
    (resume $cm4
      (cont.bind $cm3 $cm4 (i32.const 100)
        (cont.bind $cm1 $cm3 (f32.const -0.5) (f64.const 0.125)
          (cont.bind $cm $cm1 (i64.const 7) (cont.new $cm (ref.func $mix)))))))
  (func (export "sub_bound") (param i64 i64) (result i64)
    (resume $cb1 (local.get 1)
      (cont.bind $cb $cb1 (local.get 0) (cont.new $cb (ref.func $sub)))))
)

(assert_return (invoke "mix_bind1") (f64.const 996.75))
(assert_return (invoke "mix_bind3") (f64.const -3.25))
(assert_return (invoke "mix_bind_all") (f64.const 106.625))
(assert_return (invoke "sub_bound" (i64.const 10) (i64.const 3)) (i64.const 7))
(assert_return (invoke "sub_bound" (i64.const 3) (i64.const 10)) (i64.const -7))
(assert_return (invoke "sub_bound" (i64.const 0x8000000000000000) (i64.const 1))
  (i64.const 0x7fffffffffffffff))

;; Suspended continuations: the values a suspension waits for (the tag's
;; results) are the continuation's parameters, so they can be bound before
;; resuming.
(module
  (type $f0 (func (result i32)))
  (type $c0 (cont $f0))
  (type $f1 (func (param i32) (result i32)))
  (type $c1 (cont $f1))
  (type $f2 (func (param i32 i32) (result i32)))
  (type $c2 (cont $f2))

  ;; Asks for one value.
  (tag $ask (result i32))
  ;; Asks for two values.
  (tag $ask2 (result i32 i32))

  ;; Asks three times and combines the answers in order: 100x + 10y + z.
  (func $three
    (result i32)
    (local $x i32) (local $y i32) (local $z i32)
    (local.set $x (suspend $ask))
    (local.set $y (suspend $ask))
    (local.set $z (suspend $ask))
    (i32.add (i32.add (i32.mul (local.get $x) (i32.const 100))
                      (i32.mul (local.get $y) (i32.const 10)))
             (local.get $z)))

  ;; Asks for a pair and returns 10a + b.
  (func $pair (result i32)
    (local $a i32) (local $b i32)
    (suspend $ask2)
    (local.set $b)
    (local.set $a)
    (i32.add (i32.mul (local.get $a) (i32.const 10)) (local.get $b)))

  ;; Takes a parameter, then asks once: 100p + answer.
  (func $param_then_ask (param $p i32) (result i32)
    (i32.add (i32.mul (local.get $p) (i32.const 100)) (suspend $ask)))

  (elem declare func $three $pair $param_then_ask)

  ;; Answers each $ask by binding the next digit of `digits` (most
  ;; significant first, three digits) and resuming the bound continuation
  ;; without arguments.
  (func (export "three_bound") (param $d1 i32) (param $d2 i32) (param $d3 i32) (result i32)
    (local $k (ref null $c1))
    (block $h1 (result (ref $c1))
      (return (resume $c0 (on $ask $h1) (cont.new $c0 (ref.func $three)))))
    (local.set $k)
    (block $h2 (result (ref $c1))
      (return (resume $c0 (on $ask $h2) (cont.bind $c1 $c0 (local.get $d1) (local.get $k)))))
    (local.set $k)
    (block $h3 (result (ref $c1))
      (return (resume $c0 (on $ask $h3) (cont.bind $c1 $c0 (local.get $d2) (local.get $k)))))
    (local.set $k)
    (block $h4 (result (ref $c1))
      (return (resume $c0 (on $ask $h4) (cont.bind $c1 $c0 (local.get $d3) (local.get $k)))))
    (drop)
    (i32.const -1))

  ;; Bind the first of the pair, pass the second to resume.
  (func (export "pair_half") (param i32 i32) (result i32)
    (local $k (ref null $c2))
    (block $h (result (ref $c2))
      (return (resume $c0 (on $ask2 $h) (cont.new $c0 (ref.func $pair)))))
    (local.set $k)
    (resume $c1 (local.get 1) (cont.bind $c2 $c1 (local.get 0) (local.get $k))))
  ;; Bind both.
  (func (export "pair_full") (param i32 i32) (result i32)
    (local $k (ref null $c2))
    (block $h (result (ref $c2))
      (return (resume $c0 (on $ask2 $h) (cont.new $c0 (ref.func $pair)))))
    (local.set $k)
    (resume $c0 (cont.bind $c2 $c0 (local.get 0) (local.get 1) (local.get $k))))
  ;; Bind the fresh continuation's parameter, then bind the answer after it
  ;; suspended.
  (func (export "param_then_answer") (param i32 i32) (result i32)
    (local $k (ref null $c1))
    (block $h (result (ref $c1))
      (return
        (resume $c0 (on $ask $h)
          (cont.bind $c1 $c0 (local.get 0) (cont.new $c1 (ref.func $param_then_ask))))))
    (local.set $k)
    (resume $c0 (cont.bind $c1 $c0 (local.get 1) (local.get $k))))
  ;; A suspended continuation that was bound is consumed.
  (func (export "suspended_bind_consumes") (result i32)
    (local $k (ref null $c1))
    (block $h (result (ref $c1))
      (return (resume $c0 (on $ask $h) (cont.new $c0 (ref.func $three)))))
    (local.set $k)
    (drop (cont.bind $c1 $c0 (i32.const 1) (local.get $k)))
    (resume $c1 (i32.const 1) (local.get $k)))
)

(assert_return (invoke "three_bound" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 123))
(assert_return (invoke "three_bound" (i32.const 9) (i32.const 8) (i32.const 7)) (i32.const 987))
(assert_return (invoke "three_bound" (i32.const 0) (i32.const 0) (i32.const 0)) (i32.const 0))
(assert_return (invoke "pair_half" (i32.const 4) (i32.const 2)) (i32.const 42))
(assert_return (invoke "pair_half" (i32.const 2) (i32.const 4)) (i32.const 24))
(assert_return (invoke "pair_full" (i32.const 5) (i32.const 6)) (i32.const 56))
(assert_return (invoke "param_then_answer" (i32.const 3) (i32.const 14)) (i32.const 314))
(assert_trap (invoke "suspended_bind_consumes") "continuation already consumed")
(assert_return (invoke "pair_full" (i32.const 1) (i32.const 0)) (i32.const 10))
