;; A known hot function inside a nested continuation, for the profiler's
;; tests: `run` resumes a continuation of $outer, which resumes a
;; continuation of $inner, which calls $hot (almost all of the time) and
;; suspends to $outer after each call.
;;
;;   switchyard profile --invoke run tests/profile/nested_hot.wat 300
(module
  (type $inner_ft (func))
  (type $inner_ct (cont $inner_ft))
  (type $outer_ft (func (param i32)))
  (type $outer_ct (cont $outer_ft))
  (tag $tick)
  (global $work (mut i32) (i32.const 0))

  ;; A linear congruential generator stepped n times.
  (func $hot (param $n i32) (result i32)
    (local $x i32)
    (local.set $x (i32.const 1))
    (loop $l
      (local.set $x
        (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (local.get $x))

  (func $inner
    (loop $l
      (global.set $work (i32.add (global.get $work) (call $hot (i32.const 200000))))
      (suspend $tick)
      (br $l)))

  ;; Resumes an $inner continuation `rounds` times.
  (func $outer (param $rounds i32)
    (local $k (ref null $inner_ct))
    (local.set $k (cont.new $inner_ct (ref.func $inner)))
    (loop $l
      (block $on_tick (result (ref $inner_ct))
        (resume $inner_ct (on $tick $on_tick) (local.get $k))
        (return))
      (local.set $k)
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br_if $l (local.get $rounds))))
  (elem declare func $inner $outer)

  (func (export "run") (param $rounds i32) (result i32)
    (resume $outer_ct (local.get $rounds) (cont.new $outer_ct (ref.func $outer)))
    (global.get $work))
)
