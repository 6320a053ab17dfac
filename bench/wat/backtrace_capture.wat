;; Backtrace capture from the bottom of a chain of 11 stacks (a 10-deep
;; resume chain) with 100 Wasm frames in all: each level recurses 8 times,
;; then resumes the next; the bottom calls the host, which captures the
;; backtrace.
(module
  (import "host" "probe" (func $probe))
  (type $ft (func (param i32 i32)))
  (type $ct (cont $ft))
  (func $level (param $d i32) (param $n i32)
    (if (local.get $n)
      (then
        (call $level (local.get $d) (i32.sub (local.get $n) (i32.const 1)))
        (return)))
    (if (i32.eqz (local.get $d))
      (then (call $probe) (return)))
    (resume $ct (i32.sub (local.get $d) (i32.const 1)) (i32.const 8)
      (cont.new $ct (ref.func $level))))
  (elem declare func $level)
  (func (export "run")
    (resume $ct (i32.const 10) (i32.const 8) (cont.new $ct (ref.func $level)))))
