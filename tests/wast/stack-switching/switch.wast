;; switch.wast -- symmetric transfers with `switch $ct $tag`: the running
;; continuation suspends up to the innermost resume with an `(on $tag switch)`
;; clause, and the target continuation runs in its place, receiving the
;; values passed plus a reference to the switcher's continuation. When a
;; continuation returns, its results go to that resume. Covers ping-pong
;; between two continuations (short and 100000 switches), a ring of three
;; continuations that keep each other's references in a table, a switcher
;; that is later resumed with `resume` instead of `switch`, switching to a
;; continuation captured by `suspend`, switching out of a chain of nested
;; continuations, and a bound continuation as switch target.

(module
  (rec
    (type $fp (func (param i32 (ref null $cp)) (result i32)))
    (type $cp (cont $fp)))
  (tag $sw (result i32))

  (global $limit (mut i32) (i32.const 0))
  (global $switches (mut i32) (i32.const 0))

  ;; Both sides add 1 and pass the value on; whoever sees the limit
  ;; returns: ping returns the value, pong the value + 1000.
  (func $ping (type $fp)
    (local $v i32)
    (local $other (ref null $cp))
    (local.set $v (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (if (i32.ge_s (local.get $v) (global.get $limit)) (then (return (local.get $v))))
      (global.set $switches (i32.add (global.get $switches) (i32.const 1)))
      (switch $cp $sw (i32.add (local.get $v) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $v)
      (br $l))
    (unreachable))
  (func $pong (type $fp)
    (local $v i32)
    (local $other (ref null $cp))
    (local.set $v (local.get 0))
    (local.set $other (local.get 1))
    (loop $l
      (if (i32.ge_s (local.get $v) (global.get $limit))
        (then (return (i32.add (local.get $v) (i32.const 1000)))))
      (global.set $switches (i32.add (global.get $switches) (i32.const 1)))
      (switch $cp $sw (i32.add (local.get $v) (i32.const 1)) (local.get $other))
      (local.set $other)
      (local.set $v)
      (br $l))
    (unreachable))

  (elem declare func $ping $pong)

  ;; Starts ping with value 0 and a fresh pong.
  (func (export "pingpong") (param i32) (result i32)
    (global.set $limit (local.get 0))
    (global.set $switches (i32.const 0))
    (resume $cp (on $sw switch)
      (i32.const 0) (cont.new $cp (ref.func $pong))
      (cont.new $cp (ref.func $ping))))
  (func (export "switches") (result i32) (global.get $switches))
)

(assert_return (invoke "pingpong" (i32.const 0)) (i32.const 0))
(assert_return (invoke "switches") (i32.const 0))
(assert_return (invoke "pingpong" (i32.const 1)) (i32.const 1001))
(assert_return (invoke "switches") (i32.const 1))
(assert_return (invoke "pingpong" (i32.const 2)) (i32.const 2))
(assert_return (invoke "switches") (i32.const 2))
(assert_return (invoke "pingpong" (i32.const 10)) (i32.const 10))
(assert_return (invoke "pingpong" (i32.const 11)) (i32.const 1011))
(assert_return (invoke "switches") (i32.const 11))
(assert_return (invoke "pingpong" (i32.const 100000)) (i32.const 100000))
(assert_return (invoke "switches") (i32.const 100000))
(assert_return (invoke "pingpong" (i32.const 3)) (i32.const 1003))

;; A ring of three continuations. Worker i switches to worker (i + 1) mod 3,
;; whose reference it finds in the table; the reference it receives from a
;; switch belongs to its predecessor, which it stores for the predecessor's
;; own predecessor to find. The trace records which worker ran, one decimal
;; digit (id + 1) per step.
(module
  (rec
    (type $fr (func (param i32 (ref null $cr)) (result i32)))
    (type $cr (cont $fr)))
  (tag $sw (result i32))

  (table $ring 3 (ref null $cr))
  (global $limit (mut i32) (i32.const 0))
  (global $trace (mut i64) (i64.const 0))

  (func $work (param $id i32) (param $v i32) (param $prev (ref null $cr)) (result i32)
    (loop $l
      (if (i32.eqz (ref.is_null (local.get $prev)))
        (then
          (table.set $ring (i32.rem_u (i32.add (local.get $id) (i32.const 2)) (i32.const 3))
            (local.get $prev))))
      (global.set $trace
        (i64.add (i64.mul (global.get $trace) (i64.const 10))
                 (i64.extend_i32_u (i32.add (local.get $id) (i32.const 1)))))
      (local.set $v (i32.add (local.get $v) (i32.const 1)))
      (if (i32.ge_s (local.get $v) (global.get $limit))
        (then (return (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $id)))))
      (switch $cr $sw
        (local.get $v)
        (table.get $ring (i32.rem_u (i32.add (local.get $id) (i32.const 1)) (i32.const 3))))
      (local.set $prev)
      (local.set $v)
      (br $l))
    (unreachable))
  (func $w0 (type $fr) (call $work (i32.const 0) (local.get 0) (local.get 1)))
  (func $w1 (type $fr) (call $work (i32.const 1) (local.get 0) (local.get 1)))
  (func $w2 (type $fr) (call $work (i32.const 2) (local.get 0) (local.get 1)))
  (elem declare func $w0 $w1 $w2)

  (func (export "ring") (param i32) (result i32)
    (global.set $limit (local.get 0))
    (global.set $trace (i64.const 0))
    (table.set $ring (i32.const 0) (ref.null $cr))
    (table.set $ring (i32.const 1) (cont.new $cr (ref.func $w1)))
    (table.set $ring (i32.const 2) (cont.new $cr (ref.func $w2)))
    (resume $cr (on $sw switch) (i32.const 0) (ref.null $cr) (cont.new $cr (ref.func $w0))))
  (func (export "trace") (result i64) (global.get $trace))
)

(assert_return (invoke "ring" (i32.const 1)) (i32.const 10))
(assert_return (invoke "trace") (i64.const 1))
(assert_return (invoke "ring" (i32.const 2)) (i32.const 21))
(assert_return (invoke "trace") (i64.const 12))
(assert_return (invoke "ring" (i32.const 3)) (i32.const 32))
(assert_return (invoke "trace") (i64.const 123))
(assert_return (invoke "ring" (i32.const 7)) (i32.const 70))
(assert_return (invoke "trace") (i64.const 1231231))
(assert_return (invoke "ring" (i32.const 8)) (i32.const 81))
(assert_return (invoke "trace") (i64.const 12312312))
(assert_return (invoke "ring" (i32.const 18)) (i32.const 182))
(assert_return (invoke "trace") (i64.const 123123123123123123))
;; (30000 - 1) mod 3 = 2
(assert_return (invoke "ring" (i32.const 30000)) (i32.const 300002))

;; Mixing switch with resume, suspend, nesting and cont.bind.
(module
  (rec
    (type $fr (func (param i32 (ref null $cr)) (result i32)))
    (type $cr (cont $fr)))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $f3 (func (param i32 i32 (ref null $cr)) (result i32)))
  (type $c3 (cont $f3))
  (tag $sw (result i32))
  (tag $park (result i32 (ref null $cr)))
  (tag $other)

  (global $parked (mut (ref null $cr)) (ref.null $cr))

  ;; A switches to B; B resumes A's continuation with a plain resume (under
  ;; its own switch clause) and adds 1000 to what A returns.
  (func $a (result i32)
    (local $v i32)
    (switch $cr $sw (i32.const 5) (cont.new $cr (ref.func $b)))
    (drop)
    (local.set $v)
    (i32.add (local.get $v) (i32.const 1)))
  (func $b (type $fr)
    (i32.add
      (resume $cr (on $sw switch) (i32.mul (local.get 0) (i32.const 20)) (ref.null $cr) (local.get 1))
      (i32.const 1000)))
  (func (export "switch_then_resume") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $a))))

  ;; P parks itself by suspending; the handler stores the continuation (of
  ;; type $cr) in $parked. Later Q switches to it.
  (func $p (result i32)
    (local $v i32)
    (suspend $park)
    (drop)
    (local.set $v)
    (i32.mul (local.get $v) (i32.const 2)))
  (func $q (result i32)
    (switch $cr $sw (i32.const 21) (global.get $parked))
    (drop)
    (drop)
    (i32.const -1))
  (func (export "switch_to_suspended") (result i32)
    (block $h (result (ref $cr))
      (return (resume $c (on $park $h) (cont.new $c (ref.func $p)))))
    (global.set $parked)
    (resume $c (on $sw switch) (cont.new $c (ref.func $q))))

  ;; Outer runs Inner under a resume with a clause for another tag only; Inner
  ;; switches, which suspends the chain Inner + Outer up to the top-level
  ;; resume. The target resumes that chain.
  (func $outer (result i32)
    (block $h (result (ref $c))
      (return (i32.add (resume $c (on $other $h) (cont.new $c (ref.func $inner)))
                       (i32.const 10))))
    (drop)
    (i32.const -1))
  (func $inner (result i32)
    (local $v i32)
    (switch $cr $sw (i32.const 0) (cont.new $cr (ref.func $chain_target)))
    (drop)
    (local.set $v)
    (i32.add (local.get $v) (i32.const 1)))
  (func $chain_target (type $fr)
    (i32.add (resume $cr (i32.const 5) (ref.null $cr) (local.get 1)) (i32.const 100)))
  (func (export "switch_out_of_chain") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $outer))))

  ;; The switch target has had its first parameter bound.
  (func $t3 (type $f3)
    (i32.sub (local.get 0) (local.get 1)))
  (func $to_bound (result i32)
    (switch $cr $sw (i32.const 8)
      (cont.bind $c3 $cr (i32.const 50) (cont.new $c3 (ref.func $t3))))
    (drop)
    (drop)
    (i32.const -1))
  (func (export "switch_to_bound") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $to_bound))))

  (elem declare func $a $b $p $q $outer $inner $chain_target $t3 $to_bound
                     )
)

;; A gets 5 * 20 = 100 back, returns 101 to B's resume; B returns 1101.
(assert_return (invoke "switch_then_resume") (i32.const 1101))
(assert_return (invoke "switch_to_suspended") (i32.const 42))
;; inner gets 5, returns 6; outer adds 10; the target adds 100.
(assert_return (invoke "switch_out_of_chain") (i32.const 116))
(assert_return (invoke "switch_to_bound") (i32.const 42))
(assert_return (invoke "switch_then_resume") (i32.const 1101))

;; Switching to a target that switches straight back, many times; the
;; switcher's continuation type carries no values besides the reference.
;; (Kept in its own module with the recursive type first: Wasmtime 48 looks
;; up the switcher's continuation type by the wrong kind of index and
;; panics when the two indices differ.)
(module
  (rec
    (type $fb (func (param (ref null $cb)) (result i32)))
    (type $cb (cont $fb)))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (tag $sw (result i32))
  ;; Switching to a target that switches straight back, many times; the
  ;; switcher's continuation type has no values besides the reference.
  (global $count (mut i32) (i32.const 0))
  (func $bouncer (type $fb)
    (local $k (ref null $cb))
    (local.set $k (local.get 0))
    (loop $l
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (local.set $k (switch $cb $sw (local.get $k)))
      (br $l))
    (unreachable))
  (func $bounce_driver (result i32)
    (local $k (ref null $cb))
    (local $i i32)
    (local.set $k (cont.new $cb (ref.func $bouncer)))
    (loop $l
      (local.set $k (switch $cb $sw (local.get $k)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000))))
    (global.get $count))
  (func (export "bounce") (result i32)
    (global.set $count (i32.const 0))
    (resume $c (on $sw switch) (cont.new $c (ref.func $bounce_driver))))

  (elem declare func $bouncer $bounce_driver)
)

(assert_return (invoke "bounce") (i32.const 1000))
(assert_return (invoke "bounce") (i32.const 1000))
