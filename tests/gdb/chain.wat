;; A 3-deep resume chain: `_start` resumes `level 2`, which resumes
;; `level 1`, which resumes `level 0`, which calls `bottom`.
(module $chain
  (type $ft (func (param i32))) (type $ct (cont $ft))
  (global $sum (mut i32) (i32.const 0))
  (func $bottom (param $d i32)
    (global.set $sum (i32.add (global.get $sum) (i32.const 1))))
  (func $level (param $d i32)
    (if (i32.eqz (local.get $d))
      (then (call $bottom (local.get $d)) (return)))
    (resume $ct (i32.sub (local.get $d) (i32.const 1))
      (cont.new $ct (ref.func $level))))
  (elem declare func $level)
  (func (export "_start")
    (resume $ct (i32.const 2) (cont.new $ct (ref.func $level)))))
