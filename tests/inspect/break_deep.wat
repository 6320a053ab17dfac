;; Two workers started from one trampoline-like entry, `$worker`, which
;; calls `$compute` for one of them and `$idle` for the other; both
;; suspend inside. A break on `compute` must stop where `$compute` is on
;; the switching continuation's stack, though no continuation's entry
;; function is `$compute`.
(module
  (type $ft (func (param i32)))
  (type $ct (cont $ft))
  (type $ft0 (func))
  (type $ct0 (cont $ft0))
  (tag $yield)

  (func $compute
    (suspend $yield))
  (func $idle
    (suspend $yield))
  (func $worker (param $which i32)
    (if (local.get $which)
      (then (call $compute))
      (else (call $idle))))
  (elem declare func $worker)

  ;; Runs the idle worker, then the computing one, each to its end.
  (func (export "run") (result i32)
    (local $k (ref null $ct0))
    (local $which i32)
    (loop $each
      (local.set $k (cont.bind $ct $ct0 (local.get $which) (cont.new $ct (ref.func $worker))))
      (block $done
        (loop $drive
          (block $on_yield (result (ref $ct0))
            (resume $ct0 (on $yield $on_yield) (local.get $k))
            (br $done))
          (local.set $k)
          (br $drive)))
      (local.set $which (i32.add (local.get $which) (i32.const 1)))
      (br_if $each (i32.lt_u (local.get $which) (i32.const 2))))
    (local.get $which))
)
