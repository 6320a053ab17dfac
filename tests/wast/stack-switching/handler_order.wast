;; handler_order.wast -- which handler clause receives a suspension. Within one
;; `resume`, clauses are tried in the order written and the first one for the
;; suspension's tag wins, also when the same tag has several clauses and other
;; tags' clauses come between. Across nested resumes the innermost resume
;; with a matching clause wins. A resumed continuation is governed by the
;; clauses of the resume that resumed it last. `suspend` only considers
;; `(on $tag $label)` clauses and passes over `(on $tag switch)` clauses for
;; the same tag, and `switch` only considers switch clauses.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (type $fs (func (param (ref null $c)) (result i32)))
  (type $cs (cont $fs))

  (tag $a (param i32) (result i32))
  (tag $b (param i32) (result i32))
  (tag $s (result i32))

  (func $leaf_a (result i32) (i32.add (suspend $a (i32.const 1)) (i32.const 1000)))
  (func $leaf_b (result i32) (i32.add (suspend $b (i32.const 2)) (i32.const 2000)))
  (func $leaf_s (result i32) (i32.add (suspend $s) (i32.const 3000)))
  ;; Switches to a fresh continuation that returns 50 at once.
  (func $leaf_switch (result i32)
    (switch $cs $s (cont.new $cs (ref.func $ret50)))
    (i32.const 3000))
  (func $ret50 (param (ref null $c)) (result i32) (i32.const 50))
  ;; Suspends with $a twice.
  (func $leaf_aa (result i32)
    (i32.add (suspend $a (i32.const 1)) (suspend $a (i32.const 2))))

  (elem declare func $leaf_a $leaf_b $leaf_s $leaf_switch $ret50 $leaf_aa
                     $inner_a $inner_b $inner_ab $inner_switch_only $inner_label_s)

  ;; Each handler block returns its own number without resuming.
  (func (export "dup_a_12") (result i32)
    (block $h2 (result i32 (ref $ci))
      (block $h1 (result i32 (ref $ci))
        (return (resume $c (on $a $h1) (on $a $h2) (cont.new $c (ref.func $leaf_a)))))
      (drop) (drop) (return (i32.const 1)))
    (drop) (drop) (i32.const 2))
  (func (export "dup_a_21") (result i32)
    (block $h2 (result i32 (ref $ci))
      (block $h1 (result i32 (ref $ci))
        (return (resume $c (on $a $h2) (on $a $h1) (cont.new $c (ref.func $leaf_a)))))
      (drop) (drop) (return (i32.const 1)))
    (drop) (drop) (i32.const 2))
  (func (export "dup_a_312") (result i32)
    (block $h3 (result i32 (ref $ci))
      (block $h2 (result i32 (ref $ci))
        (block $h1 (result i32 (ref $ci))
          (return
            (resume $c (on $a $h3) (on $a $h1) (on $a $h2) (cont.new $c (ref.func $leaf_a)))))
        (drop) (drop) (return (i32.const 1)))
      (drop) (drop) (return (i32.const 2)))
    (drop) (drop) (i32.const 3))

  ;; Clauses for $b around two for $a: selection is by tag, then by order.
  (func $b_a_b_a (param $leaf (ref $f)) (result i32)
    (block $ha2 (result i32 (ref $ci))
      (block $hb2 (result i32 (ref $ci))
        (block $ha1 (result i32 (ref $ci))
          (block $hb1 (result i32 (ref $ci))
            (return
              (resume $c (on $b $hb1) (on $a $ha1) (on $b $hb2) (on $a $ha2)
                (cont.new $c (local.get $leaf)))))
          (drop) (drop) (return (i32.const 21)))
        (drop) (drop) (return (i32.const 11)))
      (drop) (drop) (return (i32.const 22)))
    (drop) (drop) (i32.const 12))
  (func (export "mixed_a") (result i32) (call $b_a_b_a (ref.func $leaf_a)))
  (func (export "mixed_b") (result i32) (call $b_a_b_a (ref.func $leaf_b)))
  ;; No clause matches the tag... but the leaf returns normally.
  (func (export "mixed_none") (result i32)
    (call $b_a_b_a (ref.func $ret7)))
  (func $ret7 (result i32) (i32.const 7))
  (elem declare func $ret7)

  ;; The clause that fires hands over the tag's value and the continuation:
  ;; resuming from the first of two $a clauses completes the leaf.
  (func (export "dup_a_resume") (result i32)
    (local $k (ref null $ci))
    (block $h2 (result i32 (ref $ci))
      (block $h1 (result i32 (ref $ci))
        (return (resume $c (on $a $h1) (on $a $h2) (cont.new $c (ref.func $leaf_a)))))
      (local.set $k)
      ;; value 1 from the leaf, answer 1 + 40
      (return (resume $ci (i32.add (i32.const 40)) (local.get $k))))
    (drop) (drop) (i32.const -1))

  ;; Nested resumes: the innermost matching handler wins.
  ;; $inner_a handles $a (answers 10 without resuming the leaf).
  (func $inner_a (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $a $h) (cont.new $c (ref.func $leaf_a)))))
    (drop) (drop) (i32.const 10))
  ;; $inner_b handles only $b; the leaf's $a goes further out.
  (func $inner_b (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $b $h) (cont.new $c (ref.func $leaf_a)))))
    (drop) (drop) (i32.const 10))
  ;; $inner_ab: handles $b first, then $a, then $b again.
  (func $inner_ab (result i32)
    (block $ha (result i32 (ref $ci))
      (block $hb (result i32 (ref $ci))
        (return (resume $c (on $b $hb) (on $a $ha) (on $b $hb) (cont.new $c (ref.func $leaf_a)))))
      (drop) (drop) (return (i32.const 11)))
    (drop) (drop) (i32.const 12))
  (func $run_outer (param $inner (ref $f)) (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $a $h) (on $b $h) (cont.new $c (local.get $inner)))))
    (drop) (drop) (i32.const 20))
  (func (export "nested_inner_wins") (result i32) (call $run_outer (ref.func $inner_a)))
  (func (export "nested_outer_catches") (result i32) (call $run_outer (ref.func $inner_b)))
  (func (export "nested_inner_mixed") (result i32) (call $run_outer (ref.func $inner_ab)))

  ;; The continuation captured under one set of clauses is resumed under a
  ;; different order: the second $a goes to the new first clause.
  (func (export "reorder_on_resume") (result i32)
    (local $k (ref null $ci))
    (block $h2 (result i32 (ref $ci))
      (block $h1 (result i32 (ref $ci))
        (return (resume $c (on $a $h1) (on $a $h2) (cont.new $c (ref.func $leaf_aa)))))
      ;; First $a at $h1; now resume with $h2 listed first.
      (local.set $k)
      (drop)
      (block $h2b (result i32 (ref $ci))
        (block $h1b (result i32 (ref $ci))
          (return (resume $ci (on $a $h2b) (on $a $h1b) (i32.const 5) (local.get $k))))
        (drop) (drop) (return (i32.const 100)))
      (drop) (drop) (return (i32.const 200)))
    (drop) (drop) (i32.const -1))

  ;; `suspend` passes over a switch clause for its tag.
  (func (export "suspend_skips_switch_clause") (result i32)
    (block $h (result (ref $ci))
      (return (resume $c (on $s switch) (on $s $h) (cont.new $c (ref.func $leaf_s)))))
    (drop) (i32.const 30))
  ;; ... also in an inner resume that has only the switch clause.
  (func $inner_switch_only (result i32)
    (resume $c (on $s switch) (cont.new $c (ref.func $leaf_s))))
  (func (export "suspend_skips_inner_switch") (result i32)
    (local $k (ref null $ci))
    (block $h (result (ref $ci))
      (return (resume $c (on $s $h) (cont.new $c (ref.func $inner_switch_only)))))
    ;; The captured continuation spans both: answering completes the leaf
    ;; and the inner resume returns its result.
    (local.set $k)
    (resume $ci (i32.const 40) (local.get $k)))
  ;; `switch` passes over a label clause for its tag: the switch target
  ;; takes the switcher's place under the resume and its result (50) is the
  ;; result of the resume.
  (func (export "switch_skips_label_clause") (result i32)
    (block $h (result (ref $ci))
      (return (resume $c (on $s $h) (on $s switch) (cont.new $c (ref.func $leaf_switch)))))
    (drop) (i32.const -1))
  ;; ... also in an inner resume that has only the label clause.
  (func $inner_label_s (result i32)
    (block $h (result (ref $ci))
      (return (i32.add (resume $c (on $s $h) (cont.new $c (ref.func $leaf_switch)))
                       (i32.const 1))))
    (drop) (i32.const -2))
  (func (export "switch_skips_inner_label") (result i32)
    (resume $c (on $s switch) (cont.new $c (ref.func $inner_label_s))))
)

(assert_return (invoke "dup_a_12") (i32.const 1))
(assert_return (invoke "dup_a_21") (i32.const 2))
(assert_return (invoke "dup_a_312") (i32.const 3))
(assert_return (invoke "mixed_a") (i32.const 11))
(assert_return (invoke "mixed_b") (i32.const 21))
(assert_return (invoke "mixed_none") (i32.const 7))
(assert_return (invoke "dup_a_resume") (i32.const 1041))
(assert_return (invoke "nested_inner_wins") (i32.const 10))
(assert_return (invoke "nested_outer_catches") (i32.const 20))
(assert_return (invoke "nested_inner_mixed") (i32.const 12))
(assert_return (invoke "reorder_on_resume") (i32.const 200))
(assert_return (invoke "suspend_skips_switch_clause") (i32.const 30))
(assert_return (invoke "suspend_skips_inner_switch") (i32.const 3040))
(assert_return (invoke "switch_skips_label_clause") (i32.const 50))
;; The switch finds its clause at the outer resume, so the chain suspended by
;; the switch is the leaf together with $inner_label_s (whose +1 never runs):
;; the target takes the chain's place directly under the outer resume.
(assert_return (invoke "switch_skips_inner_label") (i32.const 50))
