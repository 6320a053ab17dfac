;; A small example: recursive factorial, and a trap.
;;   switchyard run --invoke fac examples/fac.wat 20
;;   switchyard run --invoke divide examples/fac.wat 1 0
(module $example
  (func $fac (export "fac") (param $n i64) (result i64)
    (if (result i64) (i64.le_u (local.get $n) (i64.const 1))
      (then (i64.const 1))
      (else
        (i64.mul (local.get $n) (call $fac (i64.sub (local.get $n) (i64.const 1)))))))
  (func $divide (export "divide") (param $a i32) (param $b i32) (result i32)
    (i32.div_s (local.get $a) (local.get $b))))
