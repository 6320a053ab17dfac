;; validation.wast -- typing rules of the stack switching instructions and
;; continuation types, checked on invalid modules (the expected messages are
;; the reference validator's; the engine's runner accepts any rejection), and
;; a module exercising the valid corner cases: nullable continuation types in
;; handler labels, a label taking a supertype of the tag's parameter, a
;; cont.bind that binds nothing, and a suspension whose tag value is a
;; continuation.

;; A handler label must take the continuation as its last value.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (tag $t)
    (func (param $k (ref $c))
      (block $h
        (resume $c (on $t $h) (local.get $k)))))
  "type mismatch")
;; The label's continuation type must take the tag's results.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (type $fi (func (param i32))) (type $ci (cont $fi))
    (tag $t (result i32))
    (func (param $k (ref $c))
      (drop (block $h (result (ref $c))
        (resume $c (on $t $h) (local.get $k))
        (unreachable)))))
  "type mismatch")
;; Suspend's operands must match the tag's parameters.
(assert_invalid
  (module (tag $t (param i32)) (func (suspend $t (i64.const 0))))
  "type mismatch")
;; Cont.new needs a function of the continuation type's function type.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (func $g (param i32))
    (elem declare func $g)
    (func (drop (cont.new $c (ref.func $g)))))
  "type mismatch")
;; Cont.bind cannot produce a continuation taking more parameters.
(assert_invalid
  (module
    (type $f0 (func)) (type $c0 (cont $f0))
    (type $f1 (func (param i32))) (type $c1 (cont $f1))
    (func (param $k (ref $c0)) (drop (cont.bind $c0 $c1 (local.get $k)))))
  "type mismatch")
;; A switch tag has no parameters.
(assert_invalid
  (module
    (rec (type $fs (func (param (ref null $cs)))) (type $cs (cont $fs)))
    (tag $t (param i32))
    (func (param $k (ref $cs)) (switch $cs $t (i32.const 0) (local.get $k)) (drop)))
  "type mismatch")
;; An (on $tag switch) tag's results must be the continuation's results.
(assert_invalid
  (module
    (type $f (func (result i32))) (type $c (cont $f))
    (tag $t (result i64))
    (func (param $k (ref $c)) (result i32) (resume $c (on $t switch) (local.get $k))))
  "type mismatch")
;; Resume's operands must match the continuation's parameters.
(assert_invalid
  (module
    (type $f (func (param i32))) (type $c (cont $f))
    (func (param $k (ref $c)) (resume $c (i64.const 1) (local.get $k))))
  "type mismatch")
;; A continuation type must be built on a function type.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f)) (type $cc (cont $c)))
  "non-function type")
;; Handler clauses name existing tags.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (func (param $k (ref $c)) (block $h (result (ref $c)) (resume $c (on 3 $h) (local.get $k)) (unreachable)) (drop)))
  "unknown tag")
;; Resume names a continuation type.
(assert_invalid
  (module
    (type $f (func))
    (func (param $k (ref $f)) (resume $f (local.get $k))))
  "non-continuation type")
;; Switch's continuation type must end in a continuation parameter.
(assert_invalid
  (module
    (type $f (func (param i32))) (type $c (cont $f))
    (tag $t)
    (func (param $k (ref $c)) (switch $c $t (local.get $k))))
  "type mismatch")
;; Resume produces the continuation's results.
(assert_invalid
  (module
    (type $f (func (result i32))) (type $c (cont $f))
    (func (param $k (ref $c)) (result i64) (resume $c (local.get $k))))
  "type mismatch")
;; Suspend produces the tag's results.
(assert_invalid
  (module (tag $t (result i32)) (func (result i64) (suspend $t)))
  "type mismatch")
;; A continuation is not a function.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (func (param $k (ref $c)) (call_ref $f (local.get $k))))
  "type mismatch")
;; The label's values must match the tag's parameters.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (tag $t (param i64))
    (func (param $k (ref $c))
      (drop (drop (block $h (result i32 (ref $c))
        (resume $c (on $t $h) (local.get $k))
        (unreachable))))))
  "type mismatch")
;; Cont.bind's operands must match the bound parameters.
(assert_invalid
  (module
    (type $f1 (func (param i32))) (type $c1 (cont $f1))
    (type $f0 (func)) (type $c0 (cont $f0))
    (func (param $k (ref $c1)) (drop (cont.bind $c1 $c0 (f32.const 0) (local.get $k)))))
  "type mismatch")
;; Cont.new takes a function reference, not a continuation.
(assert_invalid
  (module
    (type $f (func)) (type $c (cont $f))
    (func (param $k (ref $c)) (drop (cont.new $c (local.get $k)))))
  "type mismatch")

;; Valid corner cases.
(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (type $fg (func (param (ref $f)) (result i32)))
  (type $cg (cont $fg))

  (tag $ask (result i32))
  ;; Carries a non-null function reference.
  (tag $give (param (ref $f)) (result i32))
  ;; Carries a continuation.
  (tag $handoff (param (ref $c)))

  (func $seven (result i32) (i32.const 7))
  (func $asker (result i32) (i32.add (suspend $ask) (i32.const 1)))
  (func $giver (result i32) (suspend $give (ref.func $seven)))
  (func $hands_off (result i32)
    (suspend $handoff (cont.new $c (ref.func $seven)))
    (i32.const -1))
  (elem declare func $seven $asker $giver $hands_off)

  ;; The label's continuation type is nullable.
  (func (export "nullable_label") (result i32)
    (local $k (ref null $ci))
    (block $h (result (ref null $ci))
      (return (resume $c (on $ask $h) (cont.new $c (ref.func $asker)))))
    (local.set $k)
    (resume $ci (i32.const 41) (local.get $k)))
  ;; The label takes a nullable function reference where the tag gives a
  ;; non-null one.
  (func (export "supertype_label") (result i32)
    (local $g (ref null $f))
    (local $k (ref null $ci))
    (block $h (result (ref null $f) (ref $ci))
      (return (resume $c (on $give $h) (cont.new $c (ref.func $giver)))))
    (local.set $k)
    (local.set $g)
    (resume $ci (call_ref $f (local.get $g)) (local.get $k)))
  ;; Binding no values gives a continuation of the same type.
  (func (export "bind_nothing") (result i32)
    (resume $ci (i32.const 5)
      (cont.bind $ci $ci (cont.bind $ci $ci (cont.new $ci (ref.func $add1))))))
  (func $add1 (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (elem declare func $add1)
  ;; A continuation received through a tag is run by the handler; the
  ;; abandoned sender is dropped.
  (func (export "handoff") (result i32)
    (block $h (result (ref $c) (ref $c))
      (return (resume $c (on $handoff $h) (cont.new $c (ref.func $hands_off)))))
    (drop)
    (resume $c))
)

(assert_return (invoke "nullable_label") (i32.const 42))
(assert_return (invoke "supertype_label") (i32.const 7))
(assert_return (invoke "bind_nothing") (i32.const 6))
(assert_return (invoke "handoff") (i32.const 7))
