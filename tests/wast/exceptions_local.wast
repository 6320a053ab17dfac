;; Exceptions thrown and caught inside one function (no call in between):
;; the snippet of issue 12, which was reported to kill the process, and
;; its neighbours: a local throw_ref, a throw out of a nested try_table to
;; an outer handler of the same function, catch_all and catch_ref.

(module
  (tag $e0)
  (tag $e1 (param i32))
  (func (export "f") (param i32) (result i32)
    (block $h
      (try_table (result i32) (catch $e0 $h)
        (if (i32.eqz (local.get 0)) (then (throw $e0)))
        (i32.const 42))
      (return))
    (i32.const 23))

  (func (export "payload") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (throw $e1 (i32.add (local.get 0) (i32.const 1)))))
    (i32.mul (i32.const 2)))

  (func (export "nested") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e1 $outer)
        (block $inner
          (try_table (catch $e0 $inner)
            (throw $e1 (local.get 0))))
        (i32.const -1))))

  (func (export "rethrow") (param i32) (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e1 $outer)
        (block $h (result exnref)
          (try_table (catch_all_ref $h)
            (throw $e1 (local.get 0)))
          (unreachable))
        (throw_ref))))

  (func (export "all") (param i32) (result i32)
    (block $h
      (try_table (catch_all $h)
        (br_if 0 (local.get 0))
        (throw $e0))
      (return (i32.const 1)))
    (i32.const 0))
)

(assert_return (invoke "f" (i32.const 0)) (i32.const 23))
(assert_return (invoke "f" (i32.const 1)) (i32.const 42))
(assert_return (invoke "payload" (i32.const 20)) (i32.const 42))
(assert_return (invoke "nested" (i32.const 7)) (i32.const 7))
(assert_return (invoke "rethrow" (i32.const 9)) (i32.const 9))
(assert_return (invoke "all" (i32.const 0)) (i32.const 0))
(assert_return (invoke "all" (i32.const 1)) (i32.const 1))
