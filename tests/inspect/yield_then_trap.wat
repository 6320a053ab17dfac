;; A generator that yields N times, then divides by zero: a trap after
;; 2N + 2 switch events, for the events a snapshot keeps.
;;
;;   switchyard run --snapshot-on-trap snap.json --invoke run yield_then_trap.wat 500
(module $ytt
  (type $ft (func (param i32)))
  (type $ct (cont $ft))
  (type $ft0 (func))
  (type $ct0 (cont $ft0))
  (tag $yield)
  (func $gen (param $n i32)
    (loop $l
      (suspend $yield)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n)))
    (drop (i32.div_s (i32.const 1) (local.get $n))))
  (elem declare func $gen)
  (func (export "run") (param $n i32)
    (local $k (ref null $ct0))
    (block $h (result (ref $ct0))
      (resume $ct (on $yield $h) (local.get $n) (cont.new $ct (ref.func $gen)))
      (return))
    (local.set $k)
    (loop $l
      (block $h2 (result (ref $ct0))
        (resume $ct0 (on $yield $h2) (local.get $k))
        (return))
      (local.set $k)
      (br $l))))
