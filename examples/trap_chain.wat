;; A trap at the bottom of a chain of continuations, to see the logical
;; backtrace:  switchyard run --invoke run examples/trap_chain.wat 3
(module $bt
  (type $ft (func (param i32) (result i32)))
  (type $ct (cont $ft))
  (type $ft0 (func (result i32)))
  (type $ct0 (cont $ft0))
  (tag $yield (export "yield") (param i32))
  (func $divide (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $level (param $d i32) (result i32)
    (if (result i32) (i32.eqz (local.get $d))
      (then (call $divide (i32.const 0)))
      (else
        (block $h (result i32 (ref $ct0))
          (return (resume $ct (on $yield $h) (i32.sub (local.get $d) (i32.const 1))
            (cont.new $ct (ref.func $level)))))
        (drop) (drop) (i32.const -1))))
  (elem declare func $level)
  (func (export "run") (param i32) (result i32)
    (resume $ct (local.get 0) (cont.new $ct (ref.func $level)))))
