;; Continuations created inside other continuations, for `switchyard run
;; --trace-creation`: the logical stack at the inner `cont.new` crosses the
;; resume that runs the outer continuation.
;;
;; - `leak`: the outer continuation creates the inner one, suspends, and
;;   both are left unfinished.
;; - `crash`: as `leak`, then the inner continuation is resumed and traps.
;; - `deep N`: a fresh continuation created under N recursive calls, left
;;   unfinished, then a trap.
(module $nest
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $yield)
  (global $inner (mut (ref null $ct)) (ref.null $ct))
  (global $deep (mut (ref null $ct)) (ref.null $ct))

  (func $make_inner
    (global.set $inner (cont.new $ct (ref.func $inner_body))))
  (func $inner_body
    (unreachable))
  (func $outer_body
    (call $make_inner)
    (suspend $yield))
  (func $spawn_outer (result (ref $ct))
    (cont.new $ct (ref.func $outer_body)))
  (func $run_outer
    (block $h (result (ref $ct))
      (resume $ct (on $yield $h) (call $spawn_outer))
      (return))
    (drop))

  (func (export "leak")
    (call $run_outer))

  (func (export "crash")
    (call $run_outer)
    (resume $ct (ref.as_non_null (global.get $inner))))

  (func $down (param $n i32)
    (if (i32.eqz (local.get $n))
      (then (global.set $deep (cont.new $ct (ref.func $inner_body))) (return)))
    (call $down (i32.sub (local.get $n) (i32.const 1))))
  (func (export "deep") (param $n i32)
    (call $down (local.get $n))
    (unreachable))

  (elem declare func $inner_body $outer_body))
