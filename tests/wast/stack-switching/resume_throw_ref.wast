;; resume_throw_ref.wast -- `resume_throw_ref $ct hdl*`: resumes a continuation
;; by raising an existing exception (an exnref, e.g. caught with catch_ref or
;; catch_all_ref) at its suspension point, or, when the continuation never ran,
;; at the resume_throw_ref itself (the continuation is consumed). Covers the
;; exception caught inside the continuation (values intact, also from a
;; suspension by `switch`), not caught there (it comes out of the
;; resume_throw_ref with its tag and values, for catch and catch_ref),
;; caught after which the continuation suspends again to the handler clauses of
;; the resume_throw_ref, a fresh continuation, a continuation consumed before or
;; by the resume_throw_ref, null continuation and null exception references, and
;; an exception uncaught up to the host. Expected values checked with
;; `wasmtime wast -W stack-switching=y,exceptions=y,function-references=y` 49.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $e (param i32))
  (tag $e2 (param i32 i64))
  (tag $other)
  (tag $yield (param i32))
  (tag $ask (result i32))

  ;; Suspends; catches $e at its suspension and returns 100 + the value.
  (func $catches_e (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (suspend $yield (i32.const 1))
        (i32.const -1))
      (return))
    (i32.add (i32.const 100)))
  ;; Suspends; catches $e2 and returns the sum of its values.
  (func $catches_e2 (result i32)
    (block $caught (result i32 i64)
      (try_table (result i32) (catch $e2 $caught)
        (suspend $yield (i32.const 1))
        (i32.const -1))
      (return))
    (i32.wrap_i64)
    (i32.add))
  ;; Suspends; catches nothing.
  (func $no_catch (result i32)
    (suspend $yield (i32.const 1))
    (i32.const -1))
  ;; Suspends; catches every exception and then asks its resumer for a value.
  (func $catch_then_ask (result i32)
    (block $caught
      (try_table (catch_all $caught)
        (suspend $yield (i32.const 1)))
      (return (i32.const -1)))
    (i32.add (i32.const 1000) (suspend $ask)))
  ;; Must never run.
  (func $never (result i32) (unreachable))

  (elem declare func $catches_e $catches_e2 $no_catch $catch_then_ask $never)

  ;; An exnref of tag $e with value v.
  (func $exn_e (param $v i32) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e (local.get $v)))
      (unreachable)))
  ;; An exnref of tag $e2 caught by catch_all_ref.
  (func $exn_e2 (param i32 i64) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e2 (local.get 0) (local.get 1)))
      (unreachable)))
  ;; A continuation of `f` suspended at its first `suspend $yield`.
  (func $suspended (param $f (ref $f)) (result (ref $c))
    (block $h (result i32 (ref $c))
      (resume $c (on $yield $h) (cont.new $c (local.get $f)))
      (unreachable))
    (return))

  (func (export "caught") (param i32) (result i32)
    (resume_throw_ref $c
      (call $exn_e (local.get 0))
      (call $suspended (ref.func $catches_e))))
  (func (export "caught_two_values") (result i32)
    (resume_throw_ref $c
      (call $exn_e2 (i32.const 5) (i64.const 0x1_0000_0007))
      (call $suspended (ref.func $catches_e2))))
  ;; The exception comes back out: caught by catch_ref, its value read by
  ;; throwing it again.
  (func (export "uncaught_rethrown") (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e $outer)
        (block $h (result i32 exnref)
          (try_table (result i32) (catch_ref $e $h)
            (resume_throw_ref $c
              (call $exn_e (i32.const 9)) (call $suspended (ref.func $no_catch))))
          (return))
        (throw_ref)
        (drop))
      (return))
    (i32.add (i32.const 2000)))
  (func (export "uncaught_value") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (resume_throw_ref $c
          (call $exn_e (i32.const 9)) (call $suspended (ref.func $no_catch))))
      (return))
    (i32.add (i32.const 3000)))
  ;; Caught inside; the continuation then suspends to this instruction's own
  ;; handler clause.
  (func (export "then_ask") (param i32) (result i32)
    (local $k (ref null $ci))
    (block $q (result (ref $ci))
      (return
        (resume_throw_ref $c (on $ask $q)
          (call $exn_e2 (i32.const 1) (i64.const 2))
          (call $suspended (ref.func $catch_then_ask)))))
    (local.set $k)
    (resume $ci (local.get 0) (local.get $k)))
  ;; A fresh continuation: raised at the resume_throw_ref, the continuation is
  ;; consumed and never runs.
  (func (export "fresh") (result i32)
    (local $k (ref null $c))
    (local.set $k (cont.new $c (ref.func $never)))
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (resume_throw_ref $c (call $exn_e (i32.const 11)) (local.get $k)))
      (return))
    (drop)
    (resume $c (local.get $k)))
  (func (export "fresh_value") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (resume_throw_ref $c
          (call $exn_e (i32.const 11)) (cont.new $c (ref.func $never))))
      (return))
    (i32.add (i32.const 4000)))
  ;; A continuation consumed by the resume_throw_ref cannot be resumed again.
  (func (export "consumed_after") (result i32)
    (local $k (ref null $c))
    (local.set $k (call $suspended (ref.func $catches_e)))
    (drop (resume_throw_ref $c (call $exn_e (i32.const 1)) (local.get $k)))
    (resume_throw_ref $c (call $exn_e (i32.const 2)) (local.get $k)))
  (func (export "consumed_before") (result i32)
    (local $k (ref null $c))
    (local.set $k (call $suspended (ref.func $catches_e)))
    (drop (resume $c (local.get $k)))
    (resume_throw_ref $c (call $exn_e (i32.const 2)) (local.get $k)))
  (func (export "null_cont") (result i32)
    (resume_throw_ref $c (call $exn_e (i32.const 1)) (ref.null $c)))
  (func (export "null_exn") (result i32)
    (resume_throw_ref $c (ref.null exn) (call $suspended (ref.func $catches_e))))
  (func (export "null_exn_fresh") (result i32)
    (resume_throw_ref $c (ref.null exn) (cont.new $c (ref.func $never))))
  (func (export "to_host") (result i32)
    (resume_throw_ref $c
      (call $exn_e (i32.const 1)) (call $suspended (ref.func $no_catch))))
)

(assert_return (invoke "caught" (i32.const 5)) (i32.const 105))
(assert_return (invoke "caught" (i32.const -100)) (i32.const 0))
(assert_return (invoke "caught_two_values") (i32.const 12))
(assert_return (invoke "uncaught_rethrown") (i32.const 2009))
(assert_return (invoke "uncaught_value") (i32.const 3009))
(assert_return (invoke "then_ask" (i32.const 7)) (i32.const 1007))
(assert_trap (invoke "fresh") "continuation already consumed")
(assert_return (invoke "fresh_value") (i32.const 4011))
(assert_trap (invoke "consumed_after") "continuation already consumed")
(assert_trap (invoke "consumed_before") "continuation already consumed")
(assert_trap (invoke "null_cont") "null continuation reference")
(assert_trap (invoke "null_exn") "null exception reference")
(assert_trap (invoke "null_exn_fresh") "null exception reference")
(assert_exception (invoke "to_host"))
(assert_return (invoke "caught" (i32.const 6)) (i32.const 106))

;; Switching: a continuation suspended by `switch` gets the exception at its
;; `switch`.
(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $g (func (param (ref null $c)) (result i32)))
  (type $cg (cont $g))

  (tag $e (param i32))
  (tag $sw (result i32))

  ;; A: switches to B, catching $e at its switch.
  (func $a (result i32)
    (block $caught (result i32)
      (try_table (result i32) (catch $e $caught)
        (switch $cg $sw (cont.new $cg (ref.func $b)))
        (i32.const -1))
      (return))
    (i32.add (i32.const 500)))
  ;; B: gets A's continuation and throws into it an exception it caught.
  (func $b (param $k (ref null $c)) (result i32)
    (resume_throw_ref $c
      (block $h (result exnref)
        (try_table (catch_all_ref $h) (throw $e (i32.const 21)))
        (unreachable))
      (local.get $k)))
  (elem declare func $a $b)

  (func (export "run") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $a))))
)
(assert_return (invoke "run") (i32.const 521))

(assert_invalid
  (module
    (type $f (func))
    (type $c (cont $f))
    (func (param (ref $c)) (resume_throw_ref $c (i32.const 0) (local.get 0))))
  "type mismatch"
)
