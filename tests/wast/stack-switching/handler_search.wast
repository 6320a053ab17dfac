;; handler_search.wast -- handler search when the chain of running
;; continuations changes between two suspensions with the same tag from the
;; same continuation. Native switching remembers where its last walk found a
;; handler; these cases check that a remembered handler is never used once
;; the chain below it changed, and that a changed handler table at the
;; remembered place is read again.

;; `me` suspends $t to the handler above `outer` (a walk). Later a
;; continuation that `me` resumed suspends $u past `me` (handled at
;; `outer`'s resume), that segment is resumed from `run` under a different
;; handler table, and `me` suspends $t again: the handler is now `run`'s
;; third resume, not `outer`'s resumer. The log records the order of events.
(module
  (type $f0 (func))
  (type $c0 (cont $f0))
  (tag $t)
  (tag $u)
  (tag $v)
  (tag $z)
  (global $seg (mut (ref null $c0)) (ref.null $c0))
  (global $log (mut i32) (i32.const 0))
  (func $note (param i32)
    (global.set $log
      (i32.add (i32.mul (global.get $log) (i32.const 10)) (local.get 0))))

  (func $x
    (suspend $u)
    (call $note (i32.const 3)))
  (func $me
    (suspend $t)
    (call $note (i32.const 2))
    (block $on_v (result (ref $c0))
      (resume $c0 (on $v $on_v) (cont.new $c0 (ref.func $x)))
      (call $note (i32.const 4))
      (suspend $t)
      (call $note (i32.const 9))
      (return))
    (unreachable))
  (func $outer
    (block $on_u (result (ref $c0))
      (resume $c0 (on $u $on_u) (cont.new $c0 (ref.func $me)))
      (unreachable))
    (global.set $seg)
    (call $note (i32.const 5))
    (suspend $t)
    (unreachable))
  (elem declare func $x $me $outer)

  (func (export "run") (result i32)
    (block $on_t (result (ref $c0))
      (resume $c0 (on $t $on_t) (cont.new $c0 (ref.func $outer)))
      (unreachable))
    (call $note (i32.const 1))
    (block $on_t2 (param (ref $c0)) (result (ref $c0))
      (resume $c0 (on $t $on_t2))
      (unreachable))
    (drop)
    (call $note (i32.const 6))
    (block $on_t3 (result (ref $c0))
      (block $on_z (result (ref $c0))
        (resume $c0 (on $z $on_z) (on $t $on_t3) (global.get $seg))
        (unreachable))
      (unreachable))
    (drop)
    (call $note (i32.const 7))
    (global.get $log))
)
(assert_return (invoke "run") (i32.const 1256347))

;; A leaf two levels down suspends $ping to the root's resumer again and
;; again; `run` resumes the chain alternately from two sites whose tables
;; hold $ping at different clauses. Every suspension must reach the site
;; that resumed it: odd rounds add i, even rounds add 100 * i.
(module
  (type $f0 (func))
  (type $c0 (cont $f0))
  (tag $ping (param i32))
  (tag $other)

  (func $leaf (local $i i32)
    (loop $l
      (suspend $ping (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))
  (func $mid
    (block $h (result (ref $c0))
      (resume $c0 (on $other $h) (cont.new $c0 (ref.func $leaf)))
      (return))
    (drop))
  (elem declare func $leaf $mid)

  (func (export "run") (param $n i32) (result i32)
    (local $k (ref null $c0))
    (local $sum i32)
    (local $j i32)
    (local.set $k (cont.new $c0 (ref.func $mid)))
    (loop $l
      (if (i32.and (local.get $j) (i32.const 1))
        (then
          (block $a (result i32 (ref $c0))
            (resume $c0 (on $ping $a) (local.get $k))
            (unreachable))
          (local.set $k)
          (local.get $sum)
          (i32.add)
          (local.set $sum))
        (else
          (block $b (result i32 (ref $c0))
            (block $o (result (ref $c0))
              (resume $c0 (on $other $o) (on $ping $b) (local.get $k))
              (unreachable))
            (unreachable))
          (local.set $k)
          (i32.const 100)
          (i32.mul)
          (local.get $sum)
          (i32.add)
          (local.set $sum)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $j) (local.get $n))))
    (local.get $sum))
)
(assert_return (invoke "run" (i32.const 10)) (i32.const 2025))
(assert_return (invoke "run" (i32.const 1000)) (i32.const 25200000))
