;; traps.wast -- traps raised while continuations are running. A trap is not
;; a suspension: handler clauses do not see it, it ends the whole call, and
;; every continuation on the way is abandoned. Covers integer division by
;; zero at the bottom of a 10-deep chain (with handler clauses at each level),
;; `unreachable` in a continuation, traps after a suspension, in handler code
;; while a continuation is suspended, in a switch target, out-of-bounds memory
;; access, integer overflow and indirect call type mismatch in continuations,
;; and what can still be used afterwards: normal calls, parked continuations
;; (untouched), while the continuation that trapped stays consumed.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (type $fv (func))
  (rec
    (type $fs (func (param (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $yield (param i32))
  (tag $ask (result i32))
  (tag $sw (result i32))

  (memory 1)
  (table $funcs 2 funcref)
  (elem (table $funcs) (i32.const 0) func $seven $void)

  (global $divisor (mut i32) (i32.const 1))
  (global $parked (mut (ref null $c)) (ref.null $c))
  (global $trapped (mut (ref null $c)) (ref.null $c))

  (func $seven (result i32) (i32.const 7))
  (func $void)
  (func $div (param i32) (result i32)
    (i32.div_s (i32.const 1000) (local.get 0)))

  ;; Bottom of the chain: 1000 / divisor.
  (func $chain (param $d i32) (result i32)
    (if (i32.eqz (local.get $d)) (then (return (call $div (global.get $divisor)))))
    (block $h (result i32 (ref $c))
      (return
        (i32.add
          (resume $ci (on $yield $h)
            (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $chain)))
          (i32.const 1))))
    (drop)
    (drop)
    (i32.const -1))
  (func $unreachable_fn (result i32) (unreachable))
  (func $unreachable_after_yield (result i32)
    (suspend $yield (i32.const 1))
    (unreachable))
  (func $div_after_ask (result i32)
    (call $div (suspend $ask)))
  (func $oob (result i32)
    (i32.load (i32.const 65534)))
  (func $overflow (result i32)
    (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func $bad_indirect (result i32)
    (call_indirect $funcs (type $f) (i32.const 1)))
  (func $good_indirect (result i32)
    (call_indirect $funcs (type $f) (i32.const 0)))
  (func $switcher (result i32)
    (drop (switch $cs $sw (cont.new $cs (ref.func $switch_target))))
    (i32.const -1))
  (func $switch_target (type $fs) (call $div (global.get $divisor)))
  ;; Yields 1, 2, 3, ... forever.
  (func $naturals (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (suspend $yield (local.get $i))
      (br $l))
    (unreachable))

  (elem declare func $chain $unreachable_fn $unreachable_after_yield $div_after_ask
    $oob $overflow $bad_indirect $good_indirect $switcher $switch_target $naturals)

  (func (export "div") (param i32) (result i32) (call $div (local.get 0)))
  (func (export "chain") (param $d i32) (param $divisor i32) (result i32)
    (global.set $divisor (local.get $divisor))
    (resume $ci (local.get $d) (cont.new $ci (ref.func $chain))))
  (func (export "unreachable_in_cont") (result i32)
    (resume $c (cont.new $c (ref.func $unreachable_fn))))
  ;; The handler clause for $yield sees the yield but not the trap.
  (func (export "unreachable_after_yield") (result i32)
    (local $k (ref null $c))
    (block $h (result i32 (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $unreachable_after_yield)))))
    (local.set $k)
    (drop)
    (block $h2 (result i32 (ref $c))
      (return (resume $c (on $yield $h2) (local.get $k))))
    (drop)
    (drop)
    (i32.const -1))
  ;; Answers the question with the divisor.
  (func (export "div_after_ask") (param i32) (result i32)
    (local $k (ref null $ci))
    (block $h (result (ref $ci))
      (return (resume $c (on $ask $h) (cont.new $c (ref.func $div_after_ask)))))
    (local.set $k)
    (global.set $trapped (cont.bind $ci $c (local.get 0) (local.get $k)))
    (resume $c (global.get $trapped)))
  ;; The continuation that trapped stays consumed.
  (func (export "resume_trapped") (result i32)
    (resume $c (global.get $trapped)))
  ;; The handler traps while the continuation is suspended.
  (func (export "handler_traps") (param i32) (result i32)
    (local $v i32)
    (block $h (result i32 (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $unreachable_after_yield)))))
    (drop)
    (local.set $v)
    (call $div (i32.sub (local.get $v) (local.get 0))))
  (func (export "oob") (result i32)
    (resume $c (cont.new $c (ref.func $oob))))
  (func (export "overflow") (result i32)
    (resume $c (cont.new $c (ref.func $overflow))))
  (func (export "bad_indirect") (result i32)
    (resume $c (cont.new $c (ref.func $bad_indirect))))
  (func (export "good_indirect") (result i32)
    (resume $c (cont.new $c (ref.func $good_indirect))))
  (func (export "switched") (param i32) (result i32)
    (global.set $divisor (local.get 0))
    (resume $c (on $sw switch) (cont.new $c (ref.func $switcher))))

  ;; A generator parked in a global between calls.
  (func (export "park_naturals")
    (global.set $parked (cont.new $c (ref.func $naturals))))
  (func (export "next") (result i32)
    (block $y (result i32 (ref $c))
      (drop (resume $c (on $yield $y) (global.get $parked)))
      (return (i32.const -1)))
    (global.set $parked)
    (return))
)

(assert_return (invoke "div" (i32.const 10)) (i32.const 100))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
;; 1000 / 4 + 10 levels
(assert_return (invoke "chain" (i32.const 10) (i32.const 4)) (i32.const 260))
(assert_trap (invoke "chain" (i32.const 10) (i32.const 0)) "integer divide by zero")
(assert_return (invoke "div" (i32.const 10)) (i32.const 100))
(assert_return (invoke "chain" (i32.const 10) (i32.const 4)) (i32.const 260))
(assert_trap (invoke "chain" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "chain" (i32.const 0) (i32.const 0)) "integer divide by zero")
(assert_return (invoke "chain" (i32.const 3) (i32.const -10)) (i32.const -97))
(assert_trap (invoke "unreachable_in_cont") "unreachable")
(assert_return (invoke "div" (i32.const 10)) (i32.const 100))
(assert_trap (invoke "unreachable_after_yield") "unreachable")
(assert_return (invoke "div_after_ask" (i32.const 8)) (i32.const 125))
(assert_trap (invoke "div_after_ask" (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "resume_trapped") "continuation already consumed")
(assert_return (invoke "handler_traps" (i32.const 0)) (i32.const 1000))
(assert_trap (invoke "handler_traps" (i32.const 1)) "integer divide by zero")
(assert_trap (invoke "oob") "out of bounds memory access")
(assert_trap (invoke "overflow") "integer overflow")
(assert_trap (invoke "bad_indirect") "indirect call type mismatch")
(assert_return (invoke "good_indirect") (i32.const 7))
(assert_return (invoke "switched" (i32.const 2)) (i32.const 500))
(assert_trap (invoke "switched" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "switched" (i32.const 5)) (i32.const 200))

;; A parked generator survives traps elsewhere.
(invoke "park_naturals")
(assert_return (invoke "next") (i32.const 1))
(assert_trap (invoke "chain" (i32.const 10) (i32.const 0)) "integer divide by zero")
(assert_return (invoke "next") (i32.const 2))
(assert_trap (invoke "unreachable_after_yield") "unreachable")
(assert_return (invoke "next") (i32.const 3))
(assert_trap (invoke "handler_traps" (i32.const 1)) "integer divide by zero")
(assert_return (invoke "next") (i32.const 4))
(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "next") (i32.const 5))
(assert_return (invoke "chain" (i32.const 10) (i32.const 4)) (i32.const 260))
