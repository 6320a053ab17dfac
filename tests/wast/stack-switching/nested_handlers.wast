;; nested_handlers.wast -- continuations resumed from inside other
;; continuations, so that several handlers are installed at once. A
;; suspension goes to the innermost handler that has a clause for its tag;
;; handlers without one are passed over, and the continuation captured then
;; reaches from the suspending function up to (and including) the handler's
;; resumed continuation, inner handlers included: resuming it reinstalls
;; them. Covers two and three levels, handler code that itself suspends to an
;; outer handler, relaying a request through every level of a 100-deep nest,
;; and forwarding through 200 levels that do not handle the tag.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $a (param i32) (result i32))
  (tag $b (param i32) (result i32))
  (tag $t (param i32) (result i32))

  ;; Leaves: run under $middle (handles $a) under an outer handler of $b.
  (func $leaf_ab (result i32)
    (local $x i32) (local $y i32)
    (local.set $x (suspend $a (i32.const 1)))
    (local.set $y (suspend $b (i32.const 2)))
    (i32.add (local.get $x) (i32.mul (local.get $y) (i32.const 1000))))
  (func $leaf_ba (result i32)
    (local $x i32) (local $y i32)
    (local.set $y (suspend $b (i32.const 3)))
    (local.set $x (suspend $a (i32.const 4)))
    (i32.add (local.get $x) (i32.mul (local.get $y) (i32.const 1000))))
  (func $leaf_mixed (result i32)
    (local $i i32) (local $acc i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.and (local.get $i) (i32.const 1))
        (then (local.set $acc (i32.add (local.get $acc) (suspend $a (local.get $i)))))
        (else (local.set $acc (i32.add (local.get $acc) (suspend $b (local.get $i))))))
      (br_if $next (i32.lt_u (local.get $i) (i32.const 5))))
    (local.get $acc))
  (func $leaf_none (result i32) (i32.const 7))
  ;; Suspends with a tag only the outermost handler knows.
  (func $leaf_t (result i32)
    (i32.add (suspend $t (i32.const 5)) (suspend $a (i32.const 6))))

  (table $leaves (ref null $f) (elem $leaf_ab $leaf_ba $leaf_mixed $leaf_none $leaf_t))
  (elem declare func $middle $middle_suspends $inner_b $nest $nest_b)

  ;; Runs leaf `which`, answering each $a with v + 10; returns the leaf's
  ;; result + 5.
  (func $middle (param $which i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $done (result i32)
      (block $on_a (result i32 (ref $ci))
        (br $done
          (resume $c (on $a $on_a) (cont.new $c (table.get $leaves (local.get $which))))))
      (local.set $k)
      (local.set $v)
      (loop $next
        (block $on_a2 (result i32 (ref $ci))
          (br $done
            (resume $ci (on $a $on_a2) (i32.add (local.get $v) (i32.const 10)) (local.get $k))))
        (local.set $k)
        (local.set $v)
        (br $next))
      (unreachable))
    (i32.add (i32.const 5)))

  ;; Like $middle, but finds each answer to $a by suspending with $b itself:
  ;; the handler's own code runs inside a continuation.
  (func $middle_suspends (param $which i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $done (result i32)
      (block $on_a (result i32 (ref $ci))
        (br $done
          (resume $c (on $a $on_a) (cont.new $c (table.get $leaves (local.get $which))))))
      (local.set $k)
      (local.set $v)
      (loop $next
        (block $on_a2 (result i32 (ref $ci))
          (br $done (resume $ci (on $a $on_a2) (suspend $b (local.get $v)) (local.get $k))))
        (local.set $k)
        (local.set $v)
        (br $next))
      (unreachable))
    (return))

  ;; Runs `mid` (a $ci continuation taking `which`), answering each $b with
  ;; v + 100 and each $t with v + 1000 (when `with_t`).
  (func $outer (param $mid (ref $ci)) (param $which i32) (result i32)
    (local $k (ref null $ci))
    (local $ans i32)
    (local.set $k (local.get $mid))
    (local.set $ans (local.get $which))
    (loop $next
      (block $on_b (result i32 (ref $ci))
        (block $on_t (result i32 (ref $ci))
          (return (resume $ci (on $b $on_b) (on $t $on_t) (local.get $ans) (local.get $k))))
        (local.set $k)
        (local.set $ans (i32.add (i32.const 1000)))
        (br $next))
      (local.set $k)
      (local.set $ans (i32.add (i32.const 100)))
      (br $next))
    (unreachable))

  (func (export "two_level") (param $which i32) (result i32)
    (call $outer (cont.new $ci (ref.func $middle)) (local.get $which)))
  (func (export "handler_suspends") (param $which i32) (result i32)
    (call $outer (cont.new $ci (ref.func $middle_suspends)) (local.get $which)))
  ;; $middle without an outer handler: a $b from the leaf is unhandled.
  (func (export "middle_alone") (param $which i32) (result i32)
    (call $middle (local.get $which)))

  ;; Three levels: $outer (handles $b and $t) runs $inner_b (handles $b,
  ;; answering v + 20) which runs $middle (handles $a) which runs the leaf.
  ;; The leaf's $b goes to $inner_b, its $t past both to $outer.
  (func $inner_b (param $which i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $on_b (result i32 (ref $ci))
      (return
        (resume $ci (on $b $on_b) (local.get $which) (cont.new $ci (ref.func $middle)))))
    (local.set $k)
    (local.set $v)
    (loop $next
      (block $on_b2 (result i32 (ref $ci))
        (return (resume $ci (on $b $on_b2) (i32.add (local.get $v) (i32.const 20)) (local.get $k))))
      (local.set $k)
      (local.set $v)
      (br $next))
    (unreachable))
  (func (export "three_level") (param $which i32) (result i32)
    (call $outer (cont.new $ci (ref.func $inner_b)) (local.get $which)))

  ;; nest(d): at depth 0 asks $a with 0; every other level runs nest(d-1)
  ;; and answers its $a requests by asking its own handler with v + 1 and
  ;; passing the answer + 1 back in.
  (func $nest (param $d i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (if (i32.eqz (local.get $d)) (then (return (suspend $a (i32.const 0)))))
    (block $on_a (result i32 (ref $ci))
      (return
        (resume $ci (on $a $on_a)
          (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $nest)))))
    (local.set $k)
    (local.set $v)
    (loop $next
      (block $on_a2 (result i32 (ref $ci))
        (return
          (resume $ci (on $a $on_a2)
            (i32.add (suspend $a (i32.add (local.get $v) (i32.const 1))) (i32.const 1))
            (local.get $k))))
      (local.set $k)
      (local.set $v)
      (br $next))
    (unreachable))
  ;; The top handler answers 2v: the leaf gets 2d + d.
  (func (export "relay") (param $d i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $on_a (result i32 (ref $ci))
      (return (resume $ci (on $a $on_a) (local.get $d) (cont.new $ci (ref.func $nest)))))
    (local.set $k)
    (local.set $v)
    (loop $next
      (block $on_a2 (result i32 (ref $ci))
        (return (resume $ci (on $a $on_a2) (i32.shl (local.get $v) (i32.const 1)) (local.get $k))))
      (local.set $k)
      (local.set $v)
      (br $next))
    (unreachable))

  ;; nest_b(d): every level handles only $a (never used); the leaf at depth 0
  ;; asks $b with 7, which passes all levels. Each level adds 1 to the result.
  (func $nest_b (param $d i32) (result i32)
    (if (i32.eqz (local.get $d)) (then (return (suspend $b (i32.const 7)))))
    (block $on_a (result i32 (ref $ci))
      (return
        (i32.add
          (resume $ci (on $a $on_a)
            (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $nest_b)))
          (i32.const 1))))
    (drop)
    (drop)
    (i32.const -1000))
  ;; The top handler answers 3v.
  (func (export "forward_through") (param $d i32) (result i32)
    (local $k (ref null $ci))
    (local $v i32)
    (block $on_b (result i32 (ref $ci))
      (return (resume $ci (on $b $on_b) (local.get $d) (cont.new $ci (ref.func $nest_b)))))
    (local.set $k)
    (local.set $v)
    (resume $ci (i32.mul (local.get $v) (i32.const 3)) (local.get $k)))
)

;; leaf_ab: $a 1 -> 11 (middle), $b 2 -> 102 (outer): 11 + 102000, + 5.
(assert_return (invoke "two_level" (i32.const 0)) (i32.const 102016))
;; leaf_ba: $b first (the captured chain holds $middle), then $a is still
;; handled by $middle: 14 + 103000, + 5.
(assert_return (invoke "two_level" (i32.const 1)) (i32.const 103019))
;; 11 + 102 + 13 + 104 + 15, + 5.
(assert_return (invoke "two_level" (i32.const 2)) (i32.const 250))
(assert_return (invoke "two_level" (i32.const 3)) (i32.const 12))
;; $t 5 -> 1005 (outer), $a 6 -> 16 (middle), + 5.
(assert_return (invoke "two_level" (i32.const 4)) (i32.const 1026))
;; $a 1 -> middle asks $b 1 -> 101; $b 2 -> 102: 101 + 102000.
(assert_return (invoke "handler_suspends" (i32.const 0)) (i32.const 102101))
;; $b 3 -> 103; $a 4 -> 104: 104 + 103000.
(assert_return (invoke "handler_suspends" (i32.const 1)) (i32.const 103104))
;; 101 + 102 + 103 + 104 + 105.
(assert_return (invoke "handler_suspends" (i32.const 2)) (i32.const 515))
(assert_return (invoke "handler_suspends" (i32.const 3)) (i32.const 7))
(assert_return (invoke "middle_alone" (i32.const 3)) (i32.const 12))
(assert_suspension (invoke "middle_alone" (i32.const 0)) "unhandled tag")
(assert_suspension (invoke "middle_alone" (i32.const 4)) "unhandled tag")
;; $a 1 -> 11 (middle), $b 2 -> 22 (inner_b): 11 + 22000, + 5.
(assert_return (invoke "three_level" (i32.const 0)) (i32.const 22016))
(assert_return (invoke "three_level" (i32.const 1)) (i32.const 23019))
;; 11 + 22 + 13 + 24 + 15, + 5.
(assert_return (invoke "three_level" (i32.const 2)) (i32.const 90))
;; $t passes $middle and $inner_b: 1005 + 16, + 5.
(assert_return (invoke "three_level" (i32.const 4)) (i32.const 1026))
(assert_return (invoke "relay" (i32.const 0)) (i32.const 0))
(assert_return (invoke "relay" (i32.const 1)) (i32.const 3))
(assert_return (invoke "relay" (i32.const 10)) (i32.const 30))
(assert_return (invoke "relay" (i32.const 100)) (i32.const 300))
(assert_return (invoke "forward_through" (i32.const 0)) (i32.const 21))
(assert_return (invoke "forward_through" (i32.const 1)) (i32.const 22))
(assert_return (invoke "forward_through" (i32.const 10)) (i32.const 31))
(assert_return (invoke "forward_through" (i32.const 200)) (i32.const 221))
