;; one_shot.wast -- continuation references are one-shot: `resume`,
;; `cont.bind` and `switch` consume the continuation they are given, and any
;; later use of a reference to it (the same local, a copy, a table or global
;; slot) traps with "continuation already consumed". A suspension creates a
;; new reference for the rest of the computation; the reference used to
;; resume it stays consumed. A continuation that is running (or that
;; returned) cannot be resumed through an old reference either. After each
;; trap the instance keeps working.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (rec
    (type $fs (func (param (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $yield)
  (tag $sw (result i32))

  (global $g (mut (ref null $c)) (ref.null $c))
  (table $t 2 (ref null $c))

  (func $seven (result i32) (i32.const 7))
  (func $yield_once (result i32) (suspend $yield) (i32.const 8))
  (func $yield_twice (result i32) (suspend $yield) (suspend $yield) (i32.const 9))
  ;; Resumes whatever $g holds -- run from the continuation in $g, this
  ;; resumes itself.
  (func $resume_global (result i32) (resume $c (global.get $g)))

  (elem declare func $seven $yield_once $yield_twice $resume_global
                     $switch_consumed $switch_self $target)

  (func (export "fresh_once") (result i32)
    (resume $c (cont.new $c (ref.func $seven))))
  (func (export "fresh_twice") (result i32)
    (local $k (ref null $c))
    (local.set $k (cont.new $c (ref.func $seven)))
    (drop (resume $c (local.get $k)))
    (resume $c (local.get $k)))
  ;; A copy refers to the same continuation.
  (func (export "copy_after_original") (result i32)
    (local $k (ref null $c))
    (local $copy (ref null $c))
    (local.set $k (cont.new $c (ref.func $seven)))
    (local.set $copy (local.get $k))
    (drop (resume $c (local.get $k)))
    (resume $c (local.get $copy)))
  ;; The reference used to start a continuation is stale once it suspended;
  ;; the handler's reference is the live one.
  (func (export "stale_after_suspend") (result i32)
    (local $k (ref null $c))
    (block $y (result (ref $c))
      (local.set $k (cont.new $c (ref.func $yield_once)))
      (return (resume $c (on $yield $y) (local.get $k))))
    (drop)
    (resume $c (local.get $k)))
  (func (export "live_after_suspend") (result i32)
    (local $k (ref null $c))
    (block $y (result (ref $c))
      (local.set $k (cont.new $c (ref.func $yield_once)))
      (return (resume $c (on $yield $y) (local.get $k))))
    (resume $c))
  ;; The handler's reference is consumed by resuming it, even if the
  ;; continuation suspends again.
  (func (export "handler_ref_twice") (result i32)
    (local $k1 (ref null $c))
    (block $y2 (result (ref $c))
      (block $y1 (result (ref $c))
        (return (resume $c (on $yield $y1) (cont.new $c (ref.func $yield_twice)))))
      (local.set $k1)
      (return (resume $c (on $yield $y2) (local.get $k1))))
    ;; Suspended again: $k1 is used up, the new reference is on the stack.
    (drop)
    (resume $c (local.get $k1)))
  ;; The whole protocol run properly.
  (func (export "handler_ref_chain") (result i32)
    (block $y2 (result (ref $c))
      (block $y1 (result (ref $c))
        (return (resume $c (on $yield $y1) (cont.new $c (ref.func $yield_twice)))))
      (return (resume $c (on $yield $y2))))
    (resume $c))
  ;; A continuation that returned cannot be resumed through any reference.
  (func (export "after_return") (result i32)
    (local $k (ref null $c))
    (block $y (result (ref $c))
      (return (resume $c (on $yield $y) (cont.new $c (ref.func $yield_once)))))
    (local.set $k)
    (drop (resume $c (local.get $k)))
    (resume $c (local.get $k)))
  ;; A running continuation resumes itself.
  (func (export "resume_self") (result i32)
    (global.set $g (cont.new $c (ref.func $resume_global)))
    (resume $c (global.get $g)))
  ;; Slots in tables and globals keep pointing at the consumed continuation.
  (func (export "table_twice") (result i32)
    (table.set $t (i32.const 1) (cont.new $c (ref.func $seven)))
    (drop (resume $c (table.get $t (i32.const 1))))
    (resume $c (table.get $t (i32.const 1))))
  (func (export "global_twice") (result i32)
    (global.set $g (cont.new $c (ref.func $seven)))
    (drop (resume $c (global.get $g)))
    (resume $c (global.get $g)))
  ;; cont.bind consumes; binding or resuming afterwards traps, and so does
  ;; binding a continuation that already ran.
  (func (export "bind_then_bind") (result i32)
    (local $k (ref null $c))
    (local.set $k (cont.new $c (ref.func $seven)))
    (drop (cont.bind $c $c (local.get $k)))
    (drop (cont.bind $c $c (local.get $k)))
    (i32.const 0))
  (func (export "bind_after_resume") (result i32)
    (local $k (ref null $c))
    (local.set $k (cont.new $c (ref.func $seven)))
    (drop (resume $c (local.get $k)))
    (resume $c (cont.bind $c $c (local.get $k))))
  (func (export "bind_suspended_twice") (result i32)
    (local $k (ref null $c))
    (block $y (result (ref $c))
      (return (resume $c (on $yield $y) (cont.new $c (ref.func $yield_once)))))
    (local.set $k)
    (drop (cont.bind $c $c (local.get $k)))
    (resume $c (cont.bind $c $c (local.get $k))))

  ;; switch consumes its target too.
  (func $target (type $fs) (i32.const 5))
  (func $switch_consumed (result i32)
    (local $k (ref null $cs))
    (local.set $k (cont.new $cs (ref.func $target)))
    (drop (cont.bind $cs $cs (local.get $k)))
    (switch $cs $sw (local.get $k))
    (drop)
    (i32.const -1))
  (func (export "switch_to_consumed") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $switch_consumed))))
  ;; The switch target is used once: switching to it works, and it returns
  ;; in the switcher's place.
  (func $switch_once (result i32)
    (switch $cs $sw (cont.new $cs (ref.func $target)))
    (drop)
    (i32.const -1))
  (elem declare func $switch_once)
  (func (export "switch_ok") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $switch_once))))
  ;; A continuation switches to itself through an old reference.
  (global $gs (mut (ref null $cs)) (ref.null $cs))
  (func $switch_self (type $fs)
    (switch $cs $sw (global.get $gs))
    (drop)
    (i32.const -1))
  (func (export "switch_self") (result i32)
    (global.set $gs (cont.new $cs (ref.func $switch_self)))
    (resume $cs (on $sw switch) (ref.null $cs) (global.get $gs)))

  ;; After all the traps.
  (func (export "still_works") (result i32)
    (i32.add (resume $c (cont.new $c (ref.func $seven)))
             (call $count (cont.new $c (ref.func $yield_twice)))))
  ;; result + 100 * yields
  (func $count (param $k (ref null $c)) (result i32)
    (local $n i32)
    (loop $l
      (block $y (result (ref $c))
        (return (i32.add (resume $c (on $yield $y) (local.get $k))
                         (i32.mul (local.get $n) (i32.const 100)))))
      (local.set $k)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l))
    (unreachable))
)

(assert_return (invoke "fresh_once") (i32.const 7))
(assert_trap (invoke "fresh_twice") "continuation already consumed")
(assert_trap (invoke "copy_after_original") "continuation already consumed")
(assert_trap (invoke "stale_after_suspend") "continuation already consumed")
(assert_return (invoke "live_after_suspend") (i32.const 8))
(assert_trap (invoke "handler_ref_twice") "continuation already consumed")
(assert_return (invoke "handler_ref_chain") (i32.const 9))
(assert_trap (invoke "after_return") "continuation already consumed")
(assert_trap (invoke "resume_self") "continuation already consumed")
(assert_trap (invoke "table_twice") "continuation already consumed")
(assert_trap (invoke "global_twice") "continuation already consumed")
(assert_trap (invoke "bind_then_bind") "continuation already consumed")
(assert_trap (invoke "bind_after_resume") "continuation already consumed")
(assert_trap (invoke "bind_suspended_twice") "continuation already consumed")
(assert_trap (invoke "switch_to_consumed") "continuation already consumed")
(assert_return (invoke "switch_ok") (i32.const 5))
(assert_trap (invoke "switch_self") "continuation already consumed")
(assert_return (invoke "still_works") (i32.const 216))
(assert_return (invoke "fresh_once") (i32.const 7))
(assert_trap (invoke "fresh_twice") "continuation already consumed")
(assert_return (invoke "still_works") (i32.const 216))
