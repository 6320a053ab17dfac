;; generators.wast -- generators built from `suspend` and `resume ... (on $tag $label)`:
;; a producer running in a continuation suspends with a `$yield` tag carrying
;; one value, the consumer's handler receives the value and the continuation of
;; the rest of the producer, and resumes it to ask for the next value. Covers
;; sums and counts over many yields (up to 100000), yields from inside nested
;; and recursive calls, abandoning a generator part way through, running two
;; generators interleaved, generators of i64 values, and a generator without
;; any yields.

(module
  (type $ft (func))
  (type $ct (cont $ft))
  (type $fti (func (param i32)))
  (type $cti (cont $fti))

  (tag $yield (param i32))

  ;; Yields 1, 2, ..., n.
  (func $range (param $n i32)
    (local $i i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (suspend $yield (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Yields 1*1, 2*2, ..., n*n.
  (func $squares (param $n i32)
    (local $i i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (suspend $yield (i32.mul (local.get $i) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Yields 10, 20, ..., 10*n.
  (func $tens (param $n i32)
    (local $i i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (suspend $yield (i32.mul (local.get $i) (i32.const 10)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Yields from a helper function two calls deep.
  (func $emit (param $v i32) (call $emit2 (local.get $v)))
  (func $emit2 (param $v i32) (suspend $yield (local.get $v)))
  (func $range_deep (param $n i32)
    (local $i i32)
    (local.set $i (i32.const 1))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (local.get $i) (local.get $n)))
        (call $emit (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Pre-order walk of a complete binary tree of depth d whose nodes at
  ;; depth level l are labelled l: yields d, then walks two subtrees of depth
  ;; d-1. Yields 2^d - 1 values.
  (func $walk (param $d i32)
    (if (i32.eqz (local.get $d)) (then (return)))
    (suspend $yield (local.get $d))
    (call $walk (i32.sub (local.get $d) (i32.const 1)))
    (call $walk (i32.sub (local.get $d) (i32.const 1))))

  ;; Never yields.
  (func $silent (param $n i32) (drop (local.get $n)))

  (elem declare func $range $squares $tens $range_deep $walk $silent)

  ;; Runs the generator f(n) to completion; returns the sum (as i64) and the
  ;; number of values it yielded.
  (func $drive (param $f (ref $fti)) (param $n i32) (result i64 i32)
    (local $k (ref null $ct))
    (local $v i32)
    (local $acc i64)
    (local $cnt i32)
    (block $on_first (result i32 (ref $ct))
      (resume $cti (on $yield $on_first) (local.get $n) (cont.new $cti (local.get $f)))
      (return (i64.const 0) (i32.const 0)))
    (local.set $k)
    (local.set $v)
    (loop $next
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_s (local.get $v))))
      (local.set $cnt (i32.add (local.get $cnt) (i32.const 1)))
      (block $on_yield (result i32 (ref $ct))
        (resume $ct (on $yield $on_yield) (local.get $k))
        (return (local.get $acc) (local.get $cnt)))
      (local.set $k)
      (local.set $v)
      (br $next))
    (unreachable))

  (func (export "sum_range") (param i32) (result i64)
    (call $drive (ref.func $range) (local.get 0)) (drop))
  (func (export "count_range") (param i32) (result i32)
    (call $drive (ref.func $range) (local.get 0)) (local.set 0) (drop) (local.get 0))
  (func (export "sum_squares") (param i32) (result i64)
    (call $drive (ref.func $squares) (local.get 0)) (drop))
  (func (export "sum_range_deep") (param i32) (result i64)
    (call $drive (ref.func $range_deep) (local.get 0)) (drop))
  (func (export "sum_walk") (param i32) (result i64)
    (call $drive (ref.func $walk) (local.get 0)) (drop))
  (func (export "count_walk") (param i32) (result i32)
    (call $drive (ref.func $walk) (local.get 0)) (local.set 0) (drop) (local.get 0))
  (func (export "sum_silent") (param i32) (result i64 i32)
    (call $drive (ref.func $silent) (local.get 0)))

  ;; Sum of the first m values of range(n); the generator is abandoned while
  ;; suspended when m < n.
  (func (export "take") (param $n i32) (param $m i32) (result i32)
    (local $k (ref null $ct))
    (local $acc i32)
    (local $v i32)
    (local.set $k
      (cont.bind $cti $ct (local.get $n) (cont.new $cti (ref.func $range))))
    (block $finished
      (loop $next
        (br_if $finished (i32.eqz (local.get $m)))
        (block $on_yield (result i32 (ref $ct))
          (resume $ct (on $yield $on_yield) (local.get $k))
          (br $finished))
        (local.set $k)
        (local.set $v)
        (local.set $acc (i32.add (local.get $acc) (local.get $v)))
        (local.set $m (i32.sub (local.get $m) (i32.const 1)))
        (br $next)))
    (local.get $acc))

  ;; Value of the i-th yield (1-based) of walk(d), or -1 when it yields fewer.
  (func (export "walk_nth") (param $d i32) (param $i i32) (result i32)
    (local $k (ref null $ct))
    (local $v i32)
    (local.set $k
      (cont.bind $cti $ct (local.get $d) (cont.new $cti (ref.func $walk))))
    (loop $next
      (block $on_yield (result i32 (ref $ct))
        (resume $ct (on $yield $on_yield) (local.get $k))
        (return (i32.const -1)))
      (local.set $k)
      (local.set $v)
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (br_if $next (local.get $i)))
    (local.get $v))

  ;; Two generators, range(n) and tens(n), pulled in lock step; returns the
  ;; sum of the products of corresponding values.
  (func (export "zip") (param $n i32) (result i32)
    (local $a (ref null $ct))
    (local $b (ref null $ct))
    (local $x i32)
    (local $y i32)
    (local $acc i32)
    (local.set $a (cont.bind $cti $ct (local.get $n) (cont.new $cti (ref.func $range))))
    (local.set $b (cont.bind $cti $ct (local.get $n) (cont.new $cti (ref.func $tens))))
    (loop $next
      (block $on_a (result i32 (ref $ct))
        (resume $ct (on $yield $on_a) (local.get $a))
        (return (local.get $acc)))
      (local.set $a)
      (local.set $x)
      (block $on_b (result i32 (ref $ct))
        (resume $ct (on $yield $on_b) (local.get $b))
        (return (i32.const -1)))
      (local.set $b)
      (local.set $y)
      (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $x) (local.get $y))))
      (br $next))
    (unreachable))
)

(assert_return (invoke "sum_range" (i32.const 0)) (i64.const 0))
(assert_return (invoke "sum_range" (i32.const 1)) (i64.const 1))
(assert_return (invoke "sum_range" (i32.const 2)) (i64.const 3))
(assert_return (invoke "sum_range" (i32.const 10)) (i64.const 55))
(assert_return (invoke "sum_range" (i32.const 100)) (i64.const 5050))
(assert_return (invoke "sum_range" (i32.const 1000)) (i64.const 500500))
(assert_return (invoke "sum_range" (i32.const 100000)) (i64.const 5000050000))
(assert_return (invoke "count_range" (i32.const 0)) (i32.const 0))
(assert_return (invoke "count_range" (i32.const 7)) (i32.const 7))
(assert_return (invoke "count_range" (i32.const 100000)) (i32.const 100000))
(assert_return (invoke "sum_squares" (i32.const 3)) (i64.const 14))
(assert_return (invoke "sum_squares" (i32.const 10)) (i64.const 385))
(assert_return (invoke "sum_squares" (i32.const 1000)) (i64.const 333833500))
(assert_return (invoke "sum_range_deep" (i32.const 5)) (i64.const 15))
(assert_return (invoke "sum_range_deep" (i32.const 5000)) (i64.const 12502500))
(assert_return (invoke "sum_walk" (i32.const 0)) (i64.const 0))
(assert_return (invoke "sum_walk" (i32.const 1)) (i64.const 1))
(assert_return (invoke "sum_walk" (i32.const 3)) (i64.const 11))
(assert_return (invoke "sum_walk" (i32.const 10)) (i64.const 2036))
(assert_return (invoke "count_walk" (i32.const 10)) (i32.const 1023))
(assert_return (invoke "count_walk" (i32.const 14)) (i32.const 16383))
(assert_return (invoke "sum_silent" (i32.const 5)) (i64.const 0) (i32.const 0))
(assert_return (invoke "take" (i32.const 100) (i32.const 0)) (i32.const 0))
(assert_return (invoke "take" (i32.const 100) (i32.const 5)) (i32.const 15))
(assert_return (invoke "take" (i32.const 3) (i32.const 5)) (i32.const 6))
(assert_return (invoke "take" (i32.const 1000) (i32.const 999)) (i32.const 499500))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 1)) (i32.const 3))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 2)) (i32.const 2))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 3)) (i32.const 1))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 4)) (i32.const 1))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 5)) (i32.const 2))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 7)) (i32.const 1))
(assert_return (invoke "walk_nth" (i32.const 3) (i32.const 8)) (i32.const -1))
(assert_return (invoke "zip" (i32.const 0)) (i32.const 0))
(assert_return (invoke "zip" (i32.const 3)) (i32.const 140))
(assert_return (invoke "zip" (i32.const 100)) (i32.const 3383500))
;; Many abandoned generators in a row must not exhaust anything.
(assert_return (invoke "take" (i32.const 100) (i32.const 1)) (i32.const 1))
(assert_return (invoke "sum_range" (i32.const 10)) (i64.const 55))

;; Generators of i64 values, and a generator whose yields depend on the values
;; it produced before (Fibonacci).
(module
  (type $ft (func))
  (type $ct (cont $ft))
  (tag $yield64 (param i64))
  (global $limit (mut i32) (i32.const 0))

  ;; Yields 2^0, 2^1, ..., 2^(limit-1).
  (func $powers
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (global.get $limit)))
        (suspend $yield64 (i64.shl (i64.const 1) (i64.extend_i32_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))

  ;; Yields the Fibonacci numbers 0, 1, 1, 2, 3, 5, ... forever.
  (func $fib
    (local $a i64)
    (local $b i64)
    (local $t i64)
    (local.set $b (i64.const 1))
    (loop $next
      (suspend $yield64 (local.get $a))
      (local.set $t (i64.add (local.get $a) (local.get $b)))
      (local.set $a (local.get $b))
      (local.set $b (local.get $t))
      (br $next)))

  (elem declare func $powers $fib)

  (func (export "sum_powers") (param i32) (result i64)
    (local $k (ref null $ct))
    (local $acc i64)
    (global.set $limit (local.get 0))
    (local.set $k (cont.new $ct (ref.func $powers)))
    (loop $next
      (block $on (result i64 (ref $ct))
        (resume $ct (on $yield64 $on) (local.get $k))
        (return (local.get $acc)))
      (local.set $k)
      (local.set $acc (i64.add (local.get $acc)))
      (br $next))
    (unreachable))

  ;; The n-th Fibonacci number (0-based), taken from an infinite generator.
  (func (export "fib") (param $n i32) (result i64)
    (local $k (ref null $ct))
    (local $v i64)
    (local.set $k (cont.new $ct (ref.func $fib)))
    (loop $next
      (block $on (result i64 (ref $ct))
        (resume $ct (on $yield64 $on) (local.get $k))
        (unreachable))
      (local.set $k)
      (local.set $v)
      (if (i32.eqz (local.get $n)) (then (return (local.get $v))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))
    (unreachable))
)

(assert_return (invoke "sum_powers" (i32.const 0)) (i64.const 0))
(assert_return (invoke "sum_powers" (i32.const 1)) (i64.const 1))
(assert_return (invoke "sum_powers" (i32.const 8)) (i64.const 255))
(assert_return (invoke "sum_powers" (i32.const 41)) (i64.const 2199023255551))
(assert_return (invoke "sum_powers" (i32.const 64)) (i64.const -1))
(assert_return (invoke "fib" (i32.const 0)) (i64.const 0))
(assert_return (invoke "fib" (i32.const 1)) (i64.const 1))
(assert_return (invoke "fib" (i32.const 2)) (i64.const 1))
(assert_return (invoke "fib" (i32.const 10)) (i64.const 55))
(assert_return (invoke "fib" (i32.const 50)) (i64.const 12586269025))
(assert_return (invoke "fib" (i32.const 90)) (i64.const 2880067194370816120))
