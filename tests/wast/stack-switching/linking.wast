;; linking.wast -- continuations and tags across module instances. Tags,
;; functions, tables and globals holding continuations are exported and
;; imported; continuation types declared separately in two modules are the
;; same type. A continuation created in one instance is resumed in another;
;; a suspension in one instance's code is handled by another instance's
;; resume; continuations pass between instances as arguments and results
;; of calls and through an exported table and global.

(module $lib
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $yield (export "yield") (param i32))
  (tag $ask (export "ask") (param i32) (result i32))

  (table $slots (export "slots") 4 (ref null $c))
  (global $slot (export "slot") (mut (ref null $c)) (ref.null $c))

  ;; Yields 1..n, returns n * 100.
  (func $count_to (export "count_to") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (suspend $yield (local.get $i))
        (br $l)))
    (i32.mul (local.get $n) (i32.const 100)))
  ;; Asks its handler about x and returns the answer + 1.
  (func (export "ask_about") (param $x i32) (result i32)
    (i32.add (suspend $ask (local.get $x)) (i32.const 1)))

  ;; Sum of the values a continuation yields, plus its result.
  (func $sum (export "sum") (param $k (ref null $c)) (result i32)
    (local $acc i32)
    (loop $l
      (block $y (result i32 (ref $c))
        (return (i32.add (local.get $acc) (resume $c (on $yield $y) (local.get $k)))))
      (local.set $k)
      (local.set $acc (i32.add (local.get $acc)))
      (br $l))
    (unreachable))
  ;; Runs a continuation to its first yield; returns the rest of it (or
  ;; null when it finished).
  (func (export "first_yield") (param $k (ref null $c)) (result (ref null $c))
    (block $y (result i32 (ref $c))
      (drop (resume $c (on $yield $y) (local.get $k)))
      (return (ref.null $c)))
    (return))
  (func (export "sum_slot") (param $i i32) (result i32)
    (call $sum (table.get $slots (local.get $i))))
  (func (export "sum_global") (result i32)
    (call $sum (global.get $slot)))
  (func (export "make") (param $n i32) (result (ref $c))
    (cont.bind $ci $c (local.get $n) (cont.new $ci (ref.func $count_to))))
  (elem declare func $count_to)
)
(register "lib" $lib)

(module $user
  ;; The same types, declared again.
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $yield (import "lib" "yield") (param i32))
  (tag $ask (import "lib" "ask") (param i32) (result i32))
  (func $count_to (import "lib" "count_to") (param i32) (result i32))
  (func $ask_about (import "lib" "ask_about") (param i32) (result i32))
  (func $sum (import "lib" "sum") (param (ref null $c)) (result i32))
  (func $first_yield (import "lib" "first_yield") (param (ref null $c)) (result (ref null $c)))
  (func $sum_slot (import "lib" "sum_slot") (param i32) (result i32))
  (func $sum_global (import "lib" "sum_global") (result i32))
  (func $make (import "lib" "make") (param i32) (result (ref $c)))
  (table $slots (import "lib" "slots") 4 (ref null $c))
  (global $slot (import "lib" "slot") (mut (ref null $c)))

  ;; Yields 10, 20, returns 5 -- a local function using the imported tag.
  (func $tens (result i32)
    (suspend $yield (i32.const 10))
    (suspend $yield (i32.const 20))
    (i32.const 5))
  (elem declare func $tens $count_to $ask_about)

  ;; lib resumes a continuation made here from a local function...
  (func (export "lib_sums_local") (result i32)
    (call $sum (cont.new $c (ref.func $tens))))
  ;; ... and from lib's own (imported) function.
  (func (export "lib_sums_imported") (param i32) (result i32)
    (call $sum (cont.bind $ci $c (local.get 0) (cont.new $ci (ref.func $count_to)))))
  ;; Here we handle suspensions from lib's code with lib's tag.
  (func (export "local_sums_imported") (param $n i32) (result i32)
    (local $k (ref null $c))
    (local $acc i32)
    (local.set $k (cont.bind $ci $c (local.get $n) (cont.new $ci (ref.func $count_to))))
    (loop $l
      (block $y (result i32 (ref $c))
        (return (i32.add (local.get $acc) (resume $c (on $yield $y) (local.get $k)))))
      (local.set $k)
      (local.set $acc (i32.add (local.get $acc)))
      (br $l))
    (unreachable))
  ;; A suspension inside a plain call into lib, handled here: answer x * 3.
  (func $asks_via_call (result i32)
    (call $ask_about (i32.const 14)))
  (elem declare func $asks_via_call)
  (func (export "answer_lib") (result i32)
    (local $k (ref null $ci))
    (local $x i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $ask $h) (cont.new $c (ref.func $asks_via_call)))))
    (local.set $k)
    (local.set $x)
    (resume $ci (i32.mul (local.get $x) (i32.const 3)) (local.get $k)))
  ;; lib runs our continuation to its first yield and hands back the rest,
  ;; which lib then sums.
  (func (export "rest_after_first") (result i32)
    (call $sum (call $first_yield (cont.new $c (ref.func $tens)))))
  ;; A continuation made by lib, resumed here.
  (func (export "made_by_lib") (param i32) (result i32)
    (local $k (ref null $c))
    (local $n i32)
    (local.set $k (call $make (local.get 0)))
    (loop $l
      (block $y (result i32 (ref $c))
        (return (i32.add (local.get $n) (resume $c (on $yield $y) (local.get $k)))))
      (local.set $k)
      (drop)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l))
    (unreachable))
  ;; Through the shared table and global.
  (func (export "via_table") (param $i i32) (result i32)
    (table.set $slots (local.get $i) (cont.new $c (ref.func $tens)))
    (call $sum_slot (local.get $i)))
  (func (export "via_global") (result i32)
    (global.set $slot (cont.new $c (ref.func $tens)))
    (call $sum_global))
  (func (export "global_reused") (result i32)
    (call $sum_global))
)

(assert_return (invoke "lib_sums_local") (i32.const 35))
(assert_return (invoke "lib_sums_imported" (i32.const 4)) (i32.const 410))
(assert_return (invoke "local_sums_imported" (i32.const 4)) (i32.const 410))
(assert_return (invoke "local_sums_imported" (i32.const 0)) (i32.const 0))
(assert_return (invoke "answer_lib") (i32.const 43))
;; The first yield (10) is dropped: 20 + 5.
(assert_return (invoke "rest_after_first") (i32.const 25))
;; 3 yields + 300
(assert_return (invoke "made_by_lib" (i32.const 3)) (i32.const 303))
(assert_return (invoke "via_table" (i32.const 2)) (i32.const 35))
(assert_return (invoke "via_global") (i32.const 35))
(assert_trap (invoke "global_reused") "continuation already consumed")
(assert_return (invoke "via_table" (i32.const 0)) (i32.const 35))
(assert_trap (invoke $lib "sum_slot" (i32.const 0)) "continuation already consumed")
(assert_trap (invoke $lib "sum_slot" (i32.const 1)) "null continuation reference")
;; lib's function suspending with its tag at the top level.
(assert_suspension (invoke $lib "count_to" (i32.const 1)) "unhandled tag")
(assert_return (invoke $lib "count_to" (i32.const 0)) (i32.const 0))
