;; A function so small that most of its instructions are its prologue and
;; epilogue, called in a loop on a continuation: samples taken before its
;; frame is set up or after it is taken down must still show its caller.
;;
;;   switchyard profile --invoke run tests/profile/tiny_leaf.wat 20000000
(module
  (type $ft (func (param i32)))
  (type $ct (cont $ft))
  (global $sum (mut i32) (i32.const 0))

  (func $tiny (param $x i32) (result i32)
    (i32.add (local.get $x) (i32.const 1)))

  (func $caller (param $n i32)
    (loop $l
      (global.set $sum (call $tiny (global.get $sum)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (local.get $n))))

  (func (export "run") (param $n i32) (result i32)
    (resume $ct (local.get $n) (cont.new $ct (ref.func $caller)))
    (global.get $sum))
  (elem declare func $caller))
