;; Unbounded recursion inside a continuation: the stack-limit check in
;; `descend`'s prologue traps ("call stack exhausted") before the prologue
;; has stored the callee-saved registers.
(module $overflow
  (type $ft (func)) (type $ct (cont $ft))
  (func $descend (param $depth i32) (result i32)
    (i32.add
      (call $descend (i32.add (local.get $depth) (i32.const 1)))
      (local.get $depth)))
  (func $fiber (drop (call $descend (i32.const 0))))
  (elem declare func $fiber)
  (func (export "_start") (resume $ct (cont.new $ct (ref.func $fiber)))))
