;; tables_globals.wast -- continuation references kept in tables and globals,
;; also between separate invocations from the host: a continuation suspended
;; during one call is resumed by a later call. Covers a generator in a
;; global pulled one value per call, a round-robin scheduler over a table of
;; tasks (slots refilled with each task's new continuation, cleared when it
;; finishes), spawning and stepping tasks by slot from the host, the table
;; instructions (size, grow with a continuation or null, fill, copy, get/set
;; out of bounds), and several tables and globals of continuation types.

(module
  (type $f (func))
  (type $c (cont $f))
  (type $fi (func (param i32)))
  (type $ci (cont $fi))

  (tag $yield (param i32))

  ;; Yields start, start + step, ... (count values).
  (func $counter (param $start i32) (param $step i32) (param $count i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $count)))
        (suspend $yield (local.get $start))
        (local.set $start (i32.add (local.get $start) (local.get $step)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $l))))
  (type $f3 (func (param i32 i32 i32)))
  (type $c3 (cont $f3))
  (elem declare func $counter)

  (func $make (param $start i32) (param $step i32) (param $count i32) (result (ref $c))
    (cont.bind $c3 $c (local.get $start) (local.get $step) (local.get $count)
      (cont.new $c3 (ref.func $counter))))

  ;; One generator in a global, one value per call; -1 once it finished.
  (global $gen (mut (ref null $c)) (ref.null $c))
  (func (export "gen_start") (param i32 i32 i32)
    (global.set $gen (call $make (local.get 0) (local.get 1) (local.get 2))))
  (func (export "gen_next") (result i32)
    (if (ref.is_null (global.get $gen)) (then (return (i32.const -1))))
    (block $y (result i32 (ref $c))
      (resume $c (on $yield $y) (global.get $gen))
      (global.set $gen (ref.null $c))
      (return (i32.const -1)))
    (global.set $gen)
    (return))
  (func (export "gen_active") (result i32)
    (i32.eqz (ref.is_null (global.get $gen))))

  ;; Tasks in a table, stepped by slot.
  (table $tasks 4 (ref null $c))
  (func (export "spawn") (param $slot i32) (param $start i32) (param $step i32) (param $count i32)
    (table.set $tasks (local.get $slot)
      (call $make (local.get $start) (local.get $step) (local.get $count))))
  ;; The task's next value; -1 when it finished (the slot is cleared), -2
  ;; when the slot is empty.
  (func $step (export "step") (param $slot i32) (result i32)
    (local $k (ref null $c))
    (if (ref.is_null (table.get $tasks (local.get $slot))) (then (return (i32.const -2))))
    (block $y (result i32 (ref $c))
      (resume $c (on $yield $y) (table.get $tasks (local.get $slot)))
      (table.set $tasks (local.get $slot) (ref.null $c))
      (return (i32.const -1)))
    (local.set $k)
    (table.set $tasks (local.get $slot) (local.get $k))
    (return))
  ;; Round robin over all slots until every task finished: returns the sum
  ;; of the values, weighting values by the order in which they came out
  ;; (value * position, positions counting from 1).
  (func (export "run_all") (result i32)
    (local $slot i32) (local $v i32) (local $pos i32) (local $acc i32) (local $live i32)
    (loop $round
      (local.set $live (i32.const 0))
      (local.set $slot (i32.const 0))
      (loop $each
        (local.set $v (call $step (local.get $slot)))
        (if (i32.ge_s (local.get $v) (i32.const 0))
          (then
            (local.set $live (i32.const 1))
            (local.set $pos (i32.add (local.get $pos) (i32.const 1)))
            (local.set $acc
              (i32.add (local.get $acc) (i32.mul (local.get $v) (local.get $pos))))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br_if $each (i32.lt_u (local.get $slot) (table.size $tasks))))
      (br_if $round (local.get $live)))
    (local.get $acc))
  (func (export "live_tasks") (result i32)
    (local $slot i32) (local $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $slot) (table.size $tasks)))
        (if (i32.eqz (ref.is_null (table.get $tasks (local.get $slot))))
          (then (local.set $n (i32.add (local.get $n) (i32.const 1)))))
        (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
        (br $l)))
    (local.get $n))

  ;; Table instructions on continuation tables.
  (table $other 0 (ref null $c))
  (func (export "size") (result i32) (table.size $tasks))
  (func (export "grow_with_task") (param $start i32) (result i32)
    (table.grow $tasks (call $make (local.get $start) (i32.const 0) (i32.const 1)) (i32.const 1)))
  (func (export "grow_null") (param i32) (result i32)
    (table.grow $tasks (ref.null $c) (local.get 0)))
  (func (export "fill_null") (param $from i32) (param $n i32)
    (table.fill $tasks (local.get $from) (ref.null $c) (local.get $n)))
  ;; Moves the tasks into $other and back in reverse slot order.
  (func (export "reverse_via_other") (param $n i32)
    (local $i i32)
    (drop (table.grow $other (ref.null $c) (local.get $n)))
    (table.copy $other $tasks (i32.const 0) (i32.const 0) (local.get $n))
    (table.fill $tasks (i32.const 0) (ref.null $c) (local.get $n))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (table.set $tasks
          (i32.sub (i32.sub (local.get $n) (local.get $i)) (i32.const 1))
          (table.get $other (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (table.fill $other (i32.const 0) (ref.null $c) (local.get $n)))
  (func (export "get_oob") (param i32) (result i32)
    (ref.is_null (table.get $tasks (local.get 0))))
  (func (export "set_oob") (param i32)
    (table.set $tasks (local.get 0) (ref.null $c)))
)

;; The global generator, across calls.
(assert_return (invoke "gen_active") (i32.const 0))
(assert_return (invoke "gen_next") (i32.const -1))
(invoke "gen_start" (i32.const 10) (i32.const 5) (i32.const 3))
(assert_return (invoke "gen_active") (i32.const 1))
(assert_return (invoke "gen_next") (i32.const 10))
(assert_return (invoke "gen_next") (i32.const 15))
(assert_return (invoke "gen_next") (i32.const 20))
(assert_return (invoke "gen_active") (i32.const 1))
(assert_return (invoke "gen_next") (i32.const -1))
(assert_return (invoke "gen_active") (i32.const 0))
(assert_return (invoke "gen_next") (i32.const -1))
;; Replacing a suspended generator abandons it.
(invoke "gen_start" (i32.const 1) (i32.const 1) (i32.const 100))
(assert_return (invoke "gen_next") (i32.const 1))
(assert_return (invoke "gen_next") (i32.const 2))
(invoke "gen_start" (i32.const 7) (i32.const -7) (i32.const 2))
(assert_return (invoke "gen_next") (i32.const 7))
(assert_return (invoke "gen_next") (i32.const 0))
(assert_return (invoke "gen_next") (i32.const -1))

;; Tasks stepped by slot from the host.
(assert_return (invoke "size") (i32.const 4))
(assert_return (invoke "step" (i32.const 0)) (i32.const -2))
(invoke "spawn" (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 2))
(invoke "spawn" (i32.const 2) (i32.const 200) (i32.const 10) (i32.const 3))
(assert_return (invoke "live_tasks") (i32.const 2))
(assert_return (invoke "step" (i32.const 2)) (i32.const 200))
(assert_return (invoke "step" (i32.const 0)) (i32.const 100))
(assert_return (invoke "step" (i32.const 2)) (i32.const 210))
(assert_return (invoke "step" (i32.const 1)) (i32.const -2))
(assert_return (invoke "step" (i32.const 0)) (i32.const 101))
(assert_return (invoke "step" (i32.const 0)) (i32.const -1))
(assert_return (invoke "step" (i32.const 0)) (i32.const -2))
(assert_return (invoke "live_tasks") (i32.const 1))
(assert_return (invoke "step" (i32.const 2)) (i32.const 220))
(assert_return (invoke "step" (i32.const 2)) (i32.const -1))
(assert_return (invoke "live_tasks") (i32.const 0))

;; Round robin: slot 0 yields 1, 2, 3; slot 1 yields 10, 20; slot 3 yields
;; 100. Order: 1, 10, 100, 2, 20, 3.
(invoke "spawn" (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 3))
(invoke "spawn" (i32.const 1) (i32.const 10) (i32.const 10) (i32.const 2))
(invoke "spawn" (i32.const 3) (i32.const 100) (i32.const 0) (i32.const 1))
(assert_return (invoke "live_tasks") (i32.const 3))
;; 1*1 + 10*2 + 100*3 + 2*4 + 20*5 + 3*6
(assert_return (invoke "run_all") (i32.const 447))
(assert_return (invoke "live_tasks") (i32.const 0))

;; Growing the table with a task and with nulls, filling, copying.
(assert_return (invoke "grow_with_task" (i32.const 55)) (i32.const 4))
(assert_return (invoke "size") (i32.const 5))
(assert_return (invoke "live_tasks") (i32.const 1))
(assert_return (invoke "grow_null" (i32.const 3)) (i32.const 5))
(assert_return (invoke "size") (i32.const 8))
(assert_return (invoke "live_tasks") (i32.const 1))
(assert_return (invoke "step" (i32.const 4)) (i32.const 55))
(assert_return (invoke "step" (i32.const 5)) (i32.const -2))
(assert_return (invoke "step" (i32.const 4)) (i32.const -1))
(invoke "spawn" (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 5))
(invoke "spawn" (i32.const 1) (i32.const 2) (i32.const 1) (i32.const 5))
(invoke "spawn" (i32.const 2) (i32.const 3) (i32.const 1) (i32.const 5))
(assert_return (invoke "step" (i32.const 0)) (i32.const 1))
(invoke "fill_null" (i32.const 0) (i32.const 2))
(assert_return (invoke "live_tasks") (i32.const 1))
(assert_return (invoke "step" (i32.const 0)) (i32.const -2))
(assert_return (invoke "step" (i32.const 2)) (i32.const 3))
;; Slot 2 moves to slot 5 of 8 (the copy goes through the second table);
;; the suspended task continues where it was.
(invoke "reverse_via_other" (i32.const 8))
(assert_return (invoke "step" (i32.const 2)) (i32.const -2))
(assert_return (invoke "step" (i32.const 5)) (i32.const 4))
(assert_return (invoke "live_tasks") (i32.const 1))
(assert_return (invoke "get_oob" (i32.const 7)) (i32.const 1))
(assert_trap (invoke "get_oob" (i32.const 8)) "out of bounds table access")
(assert_trap (invoke "set_oob" (i32.const 100)) "out of bounds table access")
(assert_return (invoke "step" (i32.const 5)) (i32.const 5))
(assert_return (invoke "step" (i32.const 5)) (i32.const 6))
(assert_return (invoke "step" (i32.const 5)) (i32.const 7))
(assert_return (invoke "step" (i32.const 5)) (i32.const -1))
(assert_return (invoke "live_tasks") (i32.const 0))

;; Several continuation globals and tables of different continuation types;
;; a handler stores the continuation it receives and a later call resumes
;; it with the answer.
(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (tag $ask (param i32) (result i32))

  (global $waiting (mut (ref null $ci)) (ref.null $ci))
  (global $last_question (mut i32) (i32.const 0))
  (global $empty (ref null $c) (ref.null $c))
  (table $parked 2 (ref null $ci))

  ;; Asks twice and returns 1000 * first answer + second answer.
  (func $asker (result i32)
    (i32.add
      (i32.mul (suspend $ask (i32.const 1)) (i32.const 1000))
      (suspend $ask (i32.const 2))))
  (elem declare func $asker)

  ;; Runs k until it asks or finishes. Returns -1 when it asked (the
  ;; continuation is parked in $waiting, the question in $last_question),
  ;; else the result.
  (func $drive (param $k (ref null $ci)) (param $v i32) (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $ci (on $ask $h) (local.get $v) (local.get $k))))
    (global.set $waiting)
    (global.set $last_question)
    (i32.const -1))
  (func $start_fn (param i32) (result i32)
    (drop (local.get 0))
    (call $asker))
  (elem declare func $start_fn)
  (func (export "start") (result i32)
    (call $drive (cont.new $ci (ref.func $start_fn)) (i32.const 0)))
  (func (export "question") (result i32) (global.get $last_question))
  (func (export "answer") (param i32) (result i32)
    (local $k (ref null $ci))
    (local.set $k (global.get $waiting))
    (global.set $waiting (ref.null $ci))
    (call $drive (local.get $k) (local.get 0)))
  (func (export "answer_again") (param i32) (result i32)
    (call $drive (global.get $waiting) (local.get 0)))
  ;; Move the waiting continuation to a table slot and back.
  (func (export "park") (param i32)
    (table.set $parked (local.get 0) (global.get $waiting))
    (global.set $waiting (ref.null $ci)))
  (func (export "unpark") (param i32)
    (global.set $waiting (table.get $parked (local.get 0)))
    (table.set $parked (local.get 0) (ref.null $ci)))
  (func (export "empty_is_null") (result i32) (ref.is_null (global.get $empty)))
)

(assert_return (invoke "empty_is_null") (i32.const 1))
(assert_return (invoke "start") (i32.const -1))
(assert_return (invoke "question") (i32.const 1))
(assert_return (invoke "answer" (i32.const 4)) (i32.const -1))
(assert_return (invoke "question") (i32.const 2))
(invoke "park" (i32.const 1))
(assert_trap (invoke "answer_again" (i32.const 0)) "null continuation reference")
(invoke "unpark" (i32.const 1))
(assert_return (invoke "answer" (i32.const 2)) (i32.const 4002))
(assert_trap (invoke "answer_again" (i32.const 0)) "null continuation reference")
;; Two conversations, one parked while the other runs.
(assert_return (invoke "start") (i32.const -1))
(invoke "park" (i32.const 0))
(assert_return (invoke "start") (i32.const -1))
(assert_return (invoke "answer" (i32.const 7)) (i32.const -1))
(assert_return (invoke "answer" (i32.const 8)) (i32.const 7008))
(invoke "unpark" (i32.const 0))
(assert_return (invoke "answer" (i32.const 5)) (i32.const -1))
(assert_return (invoke "answer" (i32.const 6)) (i32.const 5006))
