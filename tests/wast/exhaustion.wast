;; exhaustion.wast -- call stack exhaustion: unbounded recursion (direct, mutual,
;; through call_indirect and call_ref, with large frames, across instances) must
;; trap with "call stack exhausted" rather than crash, and afterwards the
;; instance must work normally, including moderately deep (finite) recursion.

(module $E
  (type $v (func))
  (type $i_i (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) func $via_table)
  (elem declare func $via_ref)
  (global $depth (mut i32) (i32.const 0))

  (func $forever (export "forever") (call $forever))
  (func $forever_value (export "forever_value") (param i32) (result i32)
    (i32.add (i32.const 1) (call $forever_value (i32.add (local.get 0) (i32.const 1)))))
  (func $ping (export "ping") (param i64) (result i64) (call $pong (i64.add (local.get 0) (i64.const 1))))
  (func $pong (param i64) (result i64) (call $ping (i64.mul (local.get 0) (i64.const 3))))
  (func $via_table (export "via_table") (type $v)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (call_indirect (type $v) (i32.const 0)))
  (func $via_ref (export "via_ref") (type $i_i)
    (call_ref $i_i (local.get 0) (ref.func $via_ref)))
  ;; big frames: many locals and many (stack-passed) arguments
  (func $big (export "big")
      (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)
    (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64)
    (local.set 16 (i64.add (local.get 0) (local.get 15)))
    (i64.add (local.get 16)
      (call $big (local.get 1) (local.get 2) (local.get 3) (local.get 4) (local.get 5)
        (local.get 6) (local.get 7) (local.get 8) (local.get 9) (local.get 10)
        (local.get 11) (local.get 12) (local.get 13) (local.get 14) (local.get 15) (local.get 16))))

  (func $sum (export "sum") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (local.get 0) (call $sum (i32.sub (local.get 0) (i32.const 1)))))))
  (func (export "deep_enough") (result i32) (i32.gt_u (global.get $depth) (i32.const 100)))
  (func (export "ok") (result i32) (i32.const 42))
)

(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))
(assert_return (invoke "sum" (i32.const 1000)) (i32.const 500500))
(assert_exhaustion (invoke "forever_value" (i32.const 0)) "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))
(assert_exhaustion (invoke "ping" (i64.const 0)) "call stack exhausted")
(assert_return (invoke "sum" (i32.const 2000)) (i32.const 2001000))
(assert_exhaustion (invoke "via_table") "call stack exhausted")
;; the frames before the exhaustion ran (and their global updates persist)
(assert_return (invoke "deep_enough") (i32.const 1))
(assert_return (invoke "ok") (i32.const 42))
(assert_exhaustion (invoke "via_ref" (i32.const 0)) "call stack exhausted")
(assert_exhaustion (invoke "big"
    (i64.const 1) (i64.const 2) (i64.const 3) (i64.const 4) (i64.const 5) (i64.const 6)
    (i64.const 7) (i64.const 8) (i64.const 9) (i64.const 10) (i64.const 11) (i64.const 12)
    (i64.const 13) (i64.const 14) (i64.const 15) (i64.const 16))
  "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))
(assert_return (invoke "sum" (i32.const 1000)) (i32.const 500500))
;; exhausting the stack repeatedly does not leak it
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_exhaustion (invoke "forever_value" (i32.const 0)) "call stack exhausted")
(assert_return (invoke "sum" (i32.const 2000)) (i32.const 2001000))

;; exhaustion through a chain of instances
(register "E" $E)
(module
  (import "E" "forever" (func $forever))
  (import "E" "ok" (func $ok (result i32)))
  (func $again (export "again") (call $forever))
  (func $self (export "self") (param i32) (result i32)
    (call $self (call $ok)))
  (func (export "ok") (result i32) (call $ok))
)
(assert_exhaustion (invoke "again") "call stack exhausted")
(assert_exhaustion (invoke "self" (i32.const 0)) "call stack exhausted")
(assert_return (invoke "ok") (i32.const 42))

;; a start function that recurses forever makes instantiation fail
(assert_trap
  (module (func $s (call $s)) (start $s))
  "call stack exhausted")
