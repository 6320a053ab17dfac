;; A trap three stacks deep while another continuation is parked:
;; _start parks $gen (suspended on $yield), then resumes $outer, which
;; resumes $inner, which divides by zero.
(module
  (type $f (func))
  (type $c (cont $f))
  (tag $yield)
  (global $zero (mut i32) (i32.const 0))
  (func $gen (suspend $yield))
  (func $inner (drop (i32.div_s (i32.const 1) (global.get $zero))))
  (func $outer (resume $c (cont.new $c (ref.func $inner))))
  (elem declare func $gen $inner $outer)
  (func (export "_start")
    (local $k (ref null $c))
    (block $y (result (ref $c))
      (resume $c (on $yield $y) (cont.new $c (ref.func $gen)))
      (return))
    (local.set $k)
    (resume $c (cont.new $c (ref.func $outer))))
)
