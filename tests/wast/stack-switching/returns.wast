;; returns.wast -- a continuation's function returning: its results become the
;; results of the `resume` that resumed it last (not necessarily the first
;; one, nor one in the same function). Covers no results, one and several
;; results of mixed types (exact bits), sixteen results, returning at once or
;; after suspensions, returning through `return` from nested blocks, a `br` to
;; the function's label, `return_call` and `return_call_ref`, results flowing
;; into an enclosing continuation's computation, and continuations returning
;; (null or non-null) continuation references.

(module
  (type $f0 (func))
  (type $c0 (cont $f0))
  (type $f1 (func (result i32)))
  (type $c1 (cont $f1))
  (type $f2 (func (result i32 i32)))
  (type $c2 (cont $f2))
  (type $fm (func (result i32 i64 f32 f64)))
  (type $cm (cont $fm))
  (type $fmi (func (param i32) (result i32 i64 f32 f64)))
  (type $cmi (cont $fmi))
  (type $f16 (func (result i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64 i64 i64 i64)))
  (type $c16 (cont $f16))
  (type $fk (func (result (ref null $c1))))
  (type $ck (cont $fk))

  (tag $yield)
  (tag $get (result i32))

  (global $side (mut i32) (i32.const 0))

  (func $nothing (global.set $side (i32.const 77)))
  (func $seven (result i32) (i32.const 7))
  (func $multi (result i32 i64 f32 f64)
    (i32.const -1) (i64.const 0x7fffffffffffffff) (f32.const -0.75) (f64.const 0x1p-1074))
  ;; Yields twice, gets an i32 from its handler, and returns base + that
  ;; value v as (v, 2v, 3v, 4v) in four types.
  (func $multi_later (param $base i32) (result i32 i64 f32 f64)
    (local $v i32)
    (suspend $yield)
    (suspend $yield)
    (local.set $v (i32.add (local.get $base) (suspend $get)))
    (local.get $v)
    (i64.extend_i32_s (i32.mul (local.get $v) (i32.const 2)))
    (f32.convert_i32_s (i32.mul (local.get $v) (i32.const 3)))
    (f64.convert_i32_s (i32.mul (local.get $v) (i32.const 4))))
  (func $sixteen (result i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64 i64 i64 i64)
    (suspend $yield)
    (i32.const 1) (i32.const -2) (i32.const 3) (i32.const -4)
    (i32.const 5) (i32.const -6) (i32.const 7) (i32.const -8)
    (i64.const 9) (i64.const -10) (i64.const 11) (i64.const -12)
    (i64.const 13) (i64.const -14) (i64.const 15) (i64.const 0x8000000000000000))

  ;; Returning by `return` from inside nested blocks and a loop, after 4
  ;; yields.
  (func $early (result i32)
    (local $i i32)
    (block $out
      (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (block $inner
          (br_if $inner (i32.lt_u (local.get $i) (i32.const 5)))
          (return (i32.mul (local.get $i) (i32.const 11))))
        (suspend $yield)
        (br $l)))
    (i32.const -1))
  ;; Returning by a branch to the function's outermost label.
  (func $by_br (result i32)
    (suspend $yield)
    (br 0 (i32.const 31))
    (i32.const -1))
  ;; Returning by tail calls, yielding in each function of the chain.
  (func $tail (result i32)
    (suspend $yield)
    (return_call $tail2 (i32.const 20)))
  (func $tail2 (param i32) (result i32)
    (suspend $yield)
    (return_call_ref $f1 (ref.func $hundred_seven)))
  (func $hundred_seven (result i32) (i32.const 107))
  ;; Uses the two results of an inner continuation (which yields once, to
  ;; the outer handler: the inner resume has no clauses), yields itself, and
  ;; returns their product + 100.
  (func $pair (result i32 i32) (suspend $yield) (i32.const 6) (i32.const 7))
  (func $uses_pair (result i32)
    (local $p i32)
    (local.set $p (i32.mul (resume $c2 (cont.new $c2 (ref.func $pair)))))
    (suspend $yield)
    (i32.add (local.get $p) (i32.const 100)))
  ;; Continuations returning continuations.
  (func $make_seven (result (ref null $c1))
    (suspend $yield)
    (cont.new $c1 (ref.func $seven)))
  (func $make_null (result (ref null $c1))
    (suspend $yield)
    (ref.null $c1))

  (elem declare func $nothing $seven $multi $multi_later $sixteen $early $by_br
    $tail $tail2 $hundred_seven $pair $uses_pair $make_seven $make_null)

  (func (export "nothing") (result i32)
    (global.set $side (i32.const 0))
    (resume $c0 (cont.new $c0 (ref.func $nothing)))
    (global.get $side))
  (func (export "seven") (result i32)
    (resume $c1 (cont.new $c1 (ref.func $seven))))
  (func (export "multi") (result i32 i64 f32 f64)
    (resume $cm (cont.new $cm (ref.func $multi))))
  ;; The results land in a block's results and are used from there.
  (func (export "multi_sum") (result f64)
    (local $a i32) (local $b i64) (local $c f32) (local $d f64)
    (block (result i32 i64 f32 f64)
      (resume $cm (cont.new $cm (ref.func $multi))))
    (local.set $d)
    (local.set $c)
    (local.set $b)
    (local.set $a)
    (f64.add
      (f64.add (f64.convert_i32_s (local.get $a)) (f64.convert_i64_u (local.get $b)))
      (f64.add (f64.promote_f32 (local.get $c)) (local.get $d))))

  ;; Runs $multi_later(base) through its yields; when it asks, the last
  ;; resume happens in another function.
  (func (export "multi_later") (param $base i32) (param $answer i32) (result i32 i64 f32 f64)
    (local $k (ref null $cm))
    (local $kg (ref null $cmi))
    (block $g (result (ref $cmi))
      (block $y (result (ref $cm))
        (return
          (resume $cmi (on $yield $y) (on $get $g)
            (local.get $base) (cont.new $cmi (ref.func $multi_later)))))
      (local.set $k)
      (loop $l
        (block $y2 (result (ref $cm))
          (return (resume $cm (on $yield $y2) (on $get $g) (local.get $k))))
        (local.set $k)
        (br $l))
      (unreachable))
    (local.set $kg)
    (call $finish (local.get $kg) (local.get $answer)))
  (func $finish (param $k (ref null $cmi)) (param $v i32) (result i32 i64 f32 f64)
    (resume $cmi (local.get $v) (local.get $k)))

  (func (export "sixteen") (result i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64 i64 i64 i64)
    (local $k (ref null $c16))
    (block $y (result (ref $c16))
      (return (resume $c16 (on $yield $y) (cont.new $c16 (ref.func $sixteen)))))
    (local.set $k)
    (resume $c16 (local.get $k)))

  ;; Runs a $c1 continuation handling $yield; returns result + 1000 * yields.
  (func $count_run (param $k (ref null $c1)) (result i32)
    (local $n i32)
    (loop $l
      (block $y (result (ref $c1))
        (return
          (i32.add (resume $c1 (on $yield $y) (local.get $k))
                   (i32.mul (local.get $n) (i32.const 1000)))))
      (local.set $k)
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $l))
    (unreachable))
  (func (export "early") (result i32) (call $count_run (cont.new $c1 (ref.func $early))))
  (func (export "by_br") (result i32) (call $count_run (cont.new $c1 (ref.func $by_br))))
  (func (export "tail") (result i32) (call $count_run (cont.new $c1 (ref.func $tail))))
  (func (export "uses_pair") (result i32) (call $count_run (cont.new $c1 (ref.func $uses_pair))))

  ;; Runs a $ck continuation handling $yield, then resumes the continuation
  ;; it returned (or returns -1 for null).
  (func $run_maker (param $k (ref null $ck)) (result i32)
    (local $made (ref null $c1))
    (loop $l
      (block $y (result (ref $ck))
        (local.set $made (resume $ck (on $yield $y) (local.get $k)))
        (if (ref.is_null (local.get $made)) (then (return (i32.const -1))))
        (return (resume $c1 (local.get $made))))
      (local.set $k)
      (br $l))
    (unreachable))
  (func (export "make_seven") (result i32) (call $run_maker (cont.new $ck (ref.func $make_seven))))
  (func (export "make_null") (result i32) (call $run_maker (cont.new $ck (ref.func $make_null))))
)

(assert_return (invoke "nothing") (i32.const 77))
(assert_return (invoke "seven") (i32.const 7))
(assert_return (invoke "multi")
  (i32.const -1) (i64.const 0x7fffffffffffffff) (f32.const -0.75) (f64.const 0x1p-1074))
;; -1 + 2^63 (rounded) - 0.75 + tiny
(assert_return (invoke "multi_sum") (f64.const 0x1p63))
(assert_return (invoke "multi_later" (i32.const 10) (i32.const 5))
  (i32.const 15) (i64.const 30) (f32.const 45) (f64.const 60))
(assert_return (invoke "multi_later" (i32.const 0) (i32.const -1))
  (i32.const -1) (i64.const -2) (f32.const -3) (f64.const -4))
(assert_return (invoke "sixteen")
  (i32.const 1) (i32.const -2) (i32.const 3) (i32.const -4)
  (i32.const 5) (i32.const -6) (i32.const 7) (i32.const -8)
  (i64.const 9) (i64.const -10) (i64.const 11) (i64.const -12)
  (i64.const 13) (i64.const -14) (i64.const 15) (i64.const 0x8000000000000000))
(assert_return (invoke "early") (i32.const 4055))
(assert_return (invoke "by_br") (i32.const 1031))
(assert_return (invoke "tail") (i32.const 2107))
;; 6 * 7 + 100, with one yield from the inner and one from the outer.
(assert_return (invoke "uses_pair") (i32.const 2142))
(assert_return (invoke "make_seven") (i32.const 7))
(assert_return (invoke "make_null") (i32.const -1))
