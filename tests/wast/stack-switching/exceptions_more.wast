;; exceptions_more.wast -- more exceptions crossing continuation boundaries
;; (pending: the engine does not support exceptions yet). A switch target
;; that throws: the exception leaves through the resume whose switch clause
;; the target runs under. resume_throw into a continuation suspended by
;; `switch`, caught at the switch. An exception from an inner continuation
;; caught inside the outer one. A parked continuation resumed by a later call
;; throws to that call's try_table. A generator that ends its stream with an
;; exception. The continuation an exception escaped from stays consumed.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (rec
    (type $fs (func (param (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $e (param i32))
  (tag $done)
  (tag $sw (result i32))
  (tag $yield (param i32))

  (global $parked (mut (ref null $c)) (ref.null $c))

  (func $thrower (result i32) (throw $e (i32.const 42)))

  ;; Switches to a target that throws.
  (func $to_thrower (result i32)
    (drop (switch $cs $sw (cont.new $cs (ref.func $throwing_target))))
    (i32.const -1))
  (func $throwing_target (type $fs) (throw $e (i32.const 8)))

  ;; A switches to B, catching $e at its switch; B resume_throws into A.
  (func $a (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (drop (switch $cs $sw (cont.new $cs (ref.func $b))))
        (i32.const -1))
      (return))
    (i32.add (i32.const 100)))
  (func $b (type $fs)
    (i32.add (resume_throw $cs $e (i32.const 5) (local.get 0)) (i32.const 1000)))

  ;; Catches what an inner continuation throws.
  (func $outer_catches (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (resume $c (cont.new $c (ref.func $thrower))))
      (return))
    (i32.add (i32.const 10)))

  ;; Yields once, then throws.
  (func $yield_then_throw (result i32)
    (suspend $yield (i32.const 1))
    (throw $e (i32.const 3)))

  ;; Yields 1..n, then throws $done.
  (func $stream (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.gt_s (local.get $i) (local.get $n)) (then (throw $done)))
      (suspend $yield (local.get $i))
      (br $l))
    (unreachable))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (elem declare func $thrower $to_thrower $throwing_target $a $b $outer_catches
    $yield_then_throw $stream)

  (func (export "switch_target_throws") (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (resume $c (on $sw switch) (cont.new $c (ref.func $to_thrower))))
      (return))
    (i32.add (i32.const 1000)))
  ;; A catches 5, returns 105 to B's resume_throw; B returns 1105.
  (func (export "resume_throw_switched") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $a))))
  (func (export "inner_caught_by_outer") (result i32)
    (resume $c (cont.new $c (ref.func $outer_catches))))

  (func (export "park") (result i32)
    (block $y (result i32 (ref $c))
      (return (resume $c (on $yield $y) (cont.new $c (ref.func $yield_then_throw)))))
    (global.set $parked)
    (return))
  (func (export "resume_parked") (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (resume $c (global.get $parked)))
      (return))
    (i32.add (i32.const 2000)))

  ;; Sums a stream until its $done.
  (func (export "sum_stream") (param $n i32) (result i32)
    (local $k (ref null $c))
    (local $acc i32)
    (local.set $k (cont.bind $ci $c (local.get $n) (cont.new $ci (ref.func $stream))))
    (block $finished
      (try_table (catch $done $finished)
        (loop $l
          (block $y (result i32 (ref $c))
            (drop (resume $c (on $yield $y) (local.get $k)))
            (return (i32.const -1)))
          (local.set $k)
          (local.set $acc (i32.add (local.get $acc)))
          (br $l))))
    (local.get $acc))
)

(assert_return (invoke "switch_target_throws") (i32.const 1008))
(assert_return (invoke "resume_throw_switched") (i32.const 1105))
(assert_return (invoke "inner_caught_by_outer") (i32.const 52))
(assert_return (invoke "park") (i32.const 1))
(assert_return (invoke "resume_parked") (i32.const 2003))
(assert_trap (invoke "resume_parked") "continuation already consumed")
(assert_return (invoke "sum_stream" (i32.const 0)) (i32.const 0))
(assert_return (invoke "sum_stream" (i32.const 10)) (i32.const 55))
(assert_return (invoke "sum_stream" (i32.const 1000)) (i32.const 500500))
(assert_return (invoke "switch_target_throws") (i32.const 1008))
