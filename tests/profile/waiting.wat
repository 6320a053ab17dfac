;; One continuation waits suspended while another works, for off-CPU time:
;; `run` starts $sleeper (it suspends at once), runs $worker (a hot loop
;; of n steps) to its end, then wakes $sleeper, which returns.
;;
;;   switchyard profile --off-cpu --invoke run tests/profile/waiting.wat 100000000
(module
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $wait)
  (global $n (mut i32) (i32.const 0))
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

  (func $sleeper
    (suspend $wait))
  (func $worker
    (global.set $work (call $hot (global.get $n))))
  (elem declare func $sleeper $worker)

  (func (export "run") (param $n i32) (result i32)
    (local $sleeping (ref null $ct))
    (global.set $n (local.get $n))
    (block $on_wait (result (ref $ct))
      (resume $ct (on $wait $on_wait) (cont.new $ct (ref.func $sleeper)))
      (unreachable))
    (local.set $sleeping)
    (resume $ct (cont.new $ct (ref.func $worker)))
    (resume $ct (local.get $sleeping))
    (global.get $work))
)
