;; unhandled.wast -- suspensions that no handler takes. A `suspend` outside
;; of any continuation, inside a continuation resumed without clauses, or
;; with a tag for which no active resume has a label clause (switch clauses
;; do not count), and a `switch` for which no active resume has a switch
;; clause, all fail with "unhandled tag" (`assert_suspension`). Tags are
;; compared by identity, not by type: two tags of the same type are
;; different tags, an imported tag is the exporter's tag. After each failure
;; the instances keep working.

(module $A
  (type $f (func (result i32)))
  (type $c (cont $f))
  (tag $t (export "t") (param i32) (result i32))
  ;; Suspends with $t (answer + 1).
  (func $ask (export "ask") (result i32)
    (i32.add (suspend $t (i32.const 41)) (i32.const 1)))
  ;; The same, as a continuation for importers.
  (func (export "ask_direct") (result i32) (call $ask))
)
(register "A" $A)

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (rec
    (type $fs (func (param (ref null $cs)) (result i32)))
    (type $cs (cont $fs)))

  (tag $ta (import "A" "t") (param i32) (result i32))
  ;; Same type as $ta, but a different tag.
  (tag $mine (param i32) (result i32))
  (tag $other (param i32) (result i32))
  (tag $plain)
  (tag $sw (result i32))

  (func $a_ask (import "A" "ask") (result i32))

  (func $suspend_plain (result i32) (suspend $plain) (i32.const 1))
  (func $suspend_mine (result i32) (i32.add (suspend $mine (i32.const 1)) (i32.const 1)))
  (func $suspend_other (result i32) (suspend $other (i32.const 2)))
  ;; Two handled suspensions with $mine, then one with $other.
  (func $mine_mine_other (result i32)
    (drop (suspend $mine (i32.const 1)))
    (drop (suspend $mine (i32.const 2)))
    (suspend $other (i32.const 3)))
  (func $suspend_sw (result i32) (suspend $sw))
  (func $switcher (result i32)
    (drop (switch $cs $sw (cont.new $cs (ref.func $target))))
    (i32.const -1))
  (func $target (type $fs) (i32.const 5))
  (func $no_handler_inner (result i32)
    (resume $c (cont.new $c (ref.func $suspend_mine))))

  (elem declare func $suspend_plain $suspend_mine $suspend_other $mine_mine_other
                     $suspend_sw $switcher $target $no_handler_inner $a_ask $nest)

  ;; Answers every suspension with $mine (v + 10) until the continuation
  ;; returns.
  (func $handle_mine (param $k (ref null $c)) (result i32)
    (local $ki (ref null $ci))
    (local $v i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $mine $h) (local.get $k))))
    (local.set $ki)
    (local.set $v)
    (loop $l
      (block $h2 (result i32 (ref $ci))
        (return (resume $ci (on $mine $h2) (i32.add (local.get $v) (i32.const 10)) (local.get $ki))))
      (local.set $ki)
      (local.set $v)
      (br $l))
    (unreachable))
  ;; Answers suspensions with the imported tag (v + 100).
  (func $handle_ta (param $k (ref null $c)) (result i32)
    (local $ki (ref null $ci))
    (local $v i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $ta $h) (local.get $k))))
    (local.set $ki)
    (local.set $v)
    (resume $ci (i32.add (local.get $v) (i32.const 100)) (local.get $ki)))

  ;; No continuation at all.
  (func (export "top_level_plain") (result i32) (call $suspend_plain))
  (func (export "top_level_mine") (result i32) (call $suspend_mine))
  ;; A continuation resumed without clauses.
  (func (export "no_clauses") (result i32)
    (resume $c (cont.new $c (ref.func $suspend_plain))))
  (func (export "no_clauses_value") (result i32)
    (resume $c (cont.new $c (ref.func $suspend_mine))))
  ;; Clauses, but not for this tag.
  (func (export "other_tag") (result i32)
    (call $handle_mine (cont.new $c (ref.func $suspend_other))))
  (func (export "handled_then_unhandled") (result i32)
    (call $handle_mine (cont.new $c (ref.func $mine_mine_other))))
  (func (export "handled") (result i32)
    (call $handle_mine (cont.new $c (ref.func $suspend_mine))))
  ;; Nested resumes, none of which handles the tag.
  (func $nest (param $d i32) (result i32)
    (if (i32.eqz (local.get $d)) (then (return (call $suspend_other))))
    (call $handle_mine
      (cont.bind $ci $c (i32.sub (local.get $d) (i32.const 1)) (cont.new $ci (ref.func $nest)))))
  (func (export "nested_unhandled") (param i32) (result i32)
    (call $nest (local.get 0)))
  ;; An inner resume without clauses inside a handled one: handled outside.
  (func (export "inner_no_clauses") (result i32)
    (call $handle_mine (cont.new $c (ref.func $no_handler_inner))))
  ;; A switch clause does not handle `suspend`.
  (func (export "suspend_at_switch_clause") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $suspend_sw))))
  ;; A label clause does not handle `switch`.
  (func (export "switch_at_label_clause") (result i32)
    (block $h (result (ref $ci))
      (return (resume $c (on $sw $h) (cont.new $c (ref.func $switcher)))))
    (drop)
    (i32.const -2))
  ;; No handler at all for a switch.
  (func (export "switch_no_handler") (result i32)
    (resume $c (cont.new $c (ref.func $switcher))))
  (func (export "switch_handled") (result i32)
    (resume $c (on $sw switch) (cont.new $c (ref.func $switcher))))

  ;; Tag identity across modules: A's `ask` suspends with A's tag, which is
  ;; the imported $ta, not the look-alike $mine.
  (func (export "import_handled") (result i32)
    (call $handle_ta (cont.new $c (ref.func $a_ask))))
  (func (export "import_lookalike") (result i32)
    (call $handle_mine (cont.new $c (ref.func $a_ask))))
  (func (export "lookalike_import") (result i32)
    (call $handle_ta (cont.new $c (ref.func $suspend_mine))))
)

(assert_suspension (invoke "top_level_plain") "unhandled tag")
(assert_suspension (invoke "top_level_mine") "unhandled tag")
(assert_suspension (invoke "no_clauses") "unhandled tag")
(assert_suspension (invoke "no_clauses_value") "unhandled tag")
(assert_suspension (invoke "other_tag") "unhandled tag")
(assert_suspension (invoke "handled_then_unhandled") "unhandled tag")
(assert_return (invoke "handled") (i32.const 12))
(assert_suspension (invoke "nested_unhandled" (i32.const 0)) "unhandled tag")
(assert_suspension (invoke "nested_unhandled" (i32.const 1)) "unhandled tag")
(assert_suspension (invoke "nested_unhandled" (i32.const 10)) "unhandled tag")
(assert_return (invoke "inner_no_clauses") (i32.const 12))
(assert_suspension (invoke "suspend_at_switch_clause") "unhandled tag")
(assert_suspension (invoke "switch_at_label_clause") "unhandled tag")
(assert_suspension (invoke "switch_no_handler") "unhandled tag")
(assert_return (invoke "switch_handled") (i32.const 5))
(assert_return (invoke "import_handled") (i32.const 142))
(assert_suspension (invoke "import_lookalike") "unhandled tag")
(assert_suspension (invoke "lookalike_import") "unhandled tag")
(assert_suspension (invoke $A "ask_direct") "unhandled tag")
(assert_return (invoke "handled") (i32.const 12))
(assert_return (invoke "import_handled") (i32.const 142))
