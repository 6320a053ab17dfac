;; exhaustion.wast -- call stack exhaustion inside continuations. Unbounded
;; recursion at the bottom of a chain of 10 nested continuations (with and
;; without handler clauses at each level), after the continuation had
;; suspended and been resumed, in a switch target, and on the main stack
;; while continuations are parked in globals, must trap with "call stack
;; exhausted". Afterwards normal calls work, the same chains with bounded
;; recursion work, and parked continuations resume where they were.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (rec
    (type $fs (func (param (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $yield (param i32))
  (tag $unused)
  (tag $sw (result i32))

  (global $forever_at_bottom (mut i32) (i32.const 0))
  (global $parked (mut (ref null $c)) (ref.null $c))

  (func $forever (param i32) (result i32)
    (i32.add (call $forever (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  ;; Bounded recursion: returns n.
  (func $finite (param $n i32) (result i32)
    (if (result i32) (i32.eqz (local.get $n))
      (then (i32.const 0))
      (else (i32.add (call $finite (i32.sub (local.get $n) (i32.const 1))) (i32.const 1)))))
  (func $bottom (result i32)
    (if (result i32) (global.get $forever_at_bottom)
      (then (call $forever (i32.const 0)))
      (else (call $finite (i32.const 1000)))))

  ;; chain(d): d continuations each resuming the next, plain resumes.
  (func $chain (param $d i32) (result i32)
    (if (i32.eqz (local.get $d)) (then (return (call $bottom))))
    (i32.add
      (resume $ci (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $chain)))
      (i32.const 1)))
  ;; The same with a handler clause at every level.
  (func $chain_h (param $d i32) (result i32)
    (if (i32.eqz (local.get $d)) (then (return (call $bottom))))
    (block $h (result (ref $c))
      (return
        (i32.add
          (resume $ci (on $unused $h)
            (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $chain_h)))
          (i32.const 1))))
    (drop)
    (i32.const -1))
  ;; Yields once, then runs the bottom.
  (func $late (result i32)
    (suspend $yield (i32.const 1))
    (call $bottom))
  ;; Yields 1, 2, 3, ... forever.
  (func $naturals (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (suspend $yield (local.get $i))
      (br $l))
    (unreachable))
  ;; Switches to a target that runs the bottom.
  (func $switcher (result i32)
    (drop (switch $cs $sw (cont.new $cs (ref.func $switch_target))))
    (i32.const -1))
  (func $switch_target (type $fs) (call $bottom))

  (elem declare func $chain $chain_h $late $naturals $switcher $switch_target)

  (func (export "finite") (param i32) (result i32) (call $finite (local.get 0)))
  (func (export "forever") (result i32) (call $forever (i32.const 0)))
  (func (export "chain") (param $d i32) (param $forever i32) (result i32)
    (global.set $forever_at_bottom (local.get $forever))
    (resume $ci (local.get $d) (cont.new $ci (ref.func $chain))))
  (func (export "chain_h") (param $d i32) (param $forever i32) (result i32)
    (global.set $forever_at_bottom (local.get $forever))
    (resume $ci (local.get $d) (cont.new $ci (ref.func $chain_h))))
  ;; Handles the yield, then resumes: result + 100.
  (func (export "late") (param $forever i32) (result i32)
    (global.set $forever_at_bottom (local.get $forever))
    (block $y (result i32 (ref $c))
      (return (resume $c (on $yield $y) (cont.new $c (ref.func $late)))))
    (resume $c)
    (i32.add (i32.const 100))
    (return))
  (func (export "switched") (param $forever i32) (result i32)
    (global.set $forever_at_bottom (local.get $forever))
    (resume $c (on $sw switch) (cont.new $c (ref.func $switcher))))

  ;; A generator parked in a global between calls.
  (func (export "park_naturals")
    (global.set $parked (cont.new $c (ref.func $naturals))))
  (func (export "next") (result i32)
    (block $y (result i32 (ref $c))
      (drop (resume $c (on $yield $y) (global.get $parked)))
      (return (i32.const -1)))
    (global.set $parked)
    (return))
)

(assert_return (invoke "finite" (i32.const 1000)) (i32.const 1000))
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_return (invoke "finite" (i32.const 1000)) (i32.const 1000))

;; 10 levels, each adding 1 to the bottom's 1000.
(assert_return (invoke "chain" (i32.const 10) (i32.const 0)) (i32.const 1010))
(assert_exhaustion (invoke "chain" (i32.const 10) (i32.const 1)) "call stack exhausted")
(assert_return (invoke "finite" (i32.const 1000)) (i32.const 1000))
(assert_return (invoke "chain" (i32.const 10) (i32.const 0)) (i32.const 1010))
(assert_exhaustion (invoke "chain" (i32.const 10) (i32.const 1)) "call stack exhausted")
(assert_exhaustion (invoke "chain" (i32.const 1) (i32.const 1)) "call stack exhausted")
(assert_exhaustion (invoke "chain" (i32.const 0) (i32.const 1)) "call stack exhausted")
(assert_return (invoke "chain" (i32.const 1) (i32.const 0)) (i32.const 1001))
(assert_return (invoke "chain_h" (i32.const 10) (i32.const 0)) (i32.const 1010))
(assert_exhaustion (invoke "chain_h" (i32.const 10) (i32.const 1)) "call stack exhausted")
(assert_return (invoke "chain_h" (i32.const 10) (i32.const 0)) (i32.const 1010))
(assert_return (invoke "late" (i32.const 0)) (i32.const 1100))
(assert_exhaustion (invoke "late" (i32.const 1)) "call stack exhausted")
(assert_return (invoke "late" (i32.const 0)) (i32.const 1100))
(assert_return (invoke "switched" (i32.const 0)) (i32.const 1000))
(assert_exhaustion (invoke "switched" (i32.const 1)) "call stack exhausted")
(assert_return (invoke "switched" (i32.const 0)) (i32.const 1000))

;; A parked generator survives exhaustion elsewhere.
(invoke "park_naturals")
(assert_return (invoke "next") (i32.const 1))
(assert_return (invoke "next") (i32.const 2))
(assert_exhaustion (invoke "forever") "call stack exhausted")
(assert_return (invoke "next") (i32.const 3))
(assert_exhaustion (invoke "chain" (i32.const 10) (i32.const 1)) "call stack exhausted")
(assert_return (invoke "next") (i32.const 4))
(assert_exhaustion (invoke "late" (i32.const 1)) "call stack exhausted")
(assert_return (invoke "next") (i32.const 5))
(assert_return (invoke "chain" (i32.const 10) (i32.const 0)) (i32.const 1010))
(assert_return (invoke "next") (i32.const 6))
