;; A generator yields once, then throws $oops, which ends it and goes on
;; in its resumer, caught there by a try_table: `run` returns 42 + 1.
(module
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $yield)
  (tag $oops (param i32))

  (func $gen
    (suspend $yield)
    (throw $oops (i32.const 42)))
  (elem declare func $gen)

  (func (export "run") (result i32)
    (local $k (ref null $ct))
    (local.set $k (cont.new $ct (ref.func $gen)))
    (block $on_yield (result (ref $ct))
      (resume $ct (on $yield $on_yield) (local.get $k))
      (unreachable))
    (local.set $k)
    (block $caught (result i32)
      (try_table (catch $oops $caught)
        (resume $ct (local.get $k)))
      (unreachable))
    (i32.const 1)
    (i32.add))
)
