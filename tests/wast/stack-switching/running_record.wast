;; running_record.wast -- the word a switch back hands to a suspended site.
;; Native switching passes a `suspend` site its own record (kept in a
;; register by the function), a `switch` passes a flag that says "load it",
;; and `resume_throw` passes the exception flagged. Here $a suspends inside
;; a try_table and switches on alternate steps; $b is first suspended by
;; `suspend` and later switched to, so both kinds of site are reached by
;; `resume`, by `switch` and (for $a) by `resume_throw`, and each then
;; suspends or switches again, which needs the right record. The expected
;; log is what Wasmtime 49 computes for the same module.

(module
  (rec
    (type $ft (func (param i64 (ref null $ct)) (result i64)))
    (type $ct (cont $ft)))
  (tag $y (param i64) (result i64 (ref null $ct)))
  (tag $sw (result i64))
  (tag $e (param i64))
  (global $log (mut i64) (i64.const 0))
  (func $note (param i64)
    (global.set $log
      (i64.add (i64.mul (global.get $log) (i64.const 31)) (local.get 0))))

  ;; a: suspends on odd steps (inside a try_table that catches $e), and on
  ;; even steps switches to its peer when it has one. Returns at step 6.
  (func $a (type $ft)
    (local $v i64) (local $peer (ref null $ct)) (local $i i64)
    (local.set $v (local.get 0))
    (local.set $peer (local.get 1))
    (loop $l
      (call $note (local.get $v))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (if (i64.eq (local.get $i) (i64.const 6))
        (then (return (i64.add (i64.mul (local.get $v) (i64.const 100)) (local.get $i)))))
      (if (i32.and (i32.eqz (ref.is_null (local.get $peer)))
                   (i64.eqz (i64.rem_u (local.get $i) (i64.const 2))))
        (then
          (switch $ct $sw (i64.add (local.get $v) (i64.const 10)) (local.get $peer))
          (local.set $peer)
          (local.set $v))
        (else
          (block $caught (result i64)
            (try_table (catch $e $caught)
              (suspend $y (local.get $v))
              (local.set $peer)
              (local.set $v))
            (br $l))
          (local.set $v (i64.add (i64.const 500)))))
      (br $l))
    (unreachable))

  ;; b: switches back to whoever hands it a continuation, else suspends.
  (func $b (type $ft)
    (local $v i64) (local $peer (ref null $ct))
    (local.set $v (local.get 0))
    (local.set $peer (local.get 1))
    (loop $l
      (call $note (i64.add (local.get $v) (i64.const 1000)))
      (if (ref.is_null (local.get $peer))
        (then
          (suspend $y (i64.add (local.get $v) (i64.const 1000)))
          (local.set $peer)
          (local.set $v))
        (else
          (switch $ct $sw (i64.add (local.get $v) (i64.const 1)) (local.get $peer))
          (local.set $peer)
          (local.set $v)))
      (br $l))
    (unreachable))
  (elem declare func $a $b)

  (func (export "run") (result i64)
    (local $k (ref null $ct)) (local $v i64) (local $peer (ref null $ct))
    (local $n i64) (local $val i64) (local $kk (ref null $ct)) (local $a (ref null $ct))
    (local.set $k (cont.new $ct (ref.func $a)))
    (block $done
      (loop $drive
        (block $h (result i64 (ref $ct))
          (if (i64.eq (local.get $n) (i64.const 3))
            (then
              (resume_throw $ct $e (on $y $h) (on $sw switch)
                (i64.add (local.get $v) (i64.const 3)) (local.get $k))
              (call $note)
              (br $done)))
          (resume $ct (on $y $h) (on $sw switch)
            (local.get $v) (local.get $peer) (local.get $k))
          (call $note)
          (br $done))
        (local.set $kk)
        (local.set $val)
        (local.set $n (i64.add (local.get $n) (i64.const 1)))
        (call $note (i64.add (local.get $val) (i64.mul (local.get $n) (i64.const 100000))))
        (local.set $peer (ref.null $ct))
        (local.set $v (i64.add (local.get $val) (i64.const 1)))
        (local.set $k (local.get $kk))
        (if (i64.eq (local.get $n) (i64.const 1))
          (then
            ;; a suspended: keep it, start b.
            (local.set $a (local.get $kk))
            (local.set $k (cont.new $ct (ref.func $b)))
            (local.set $v (i64.const 7))))
        (if (i64.eq (local.get $n) (i64.const 2))
          (then
            ;; b suspended: resume a with b as its peer.
            (local.set $peer (local.get $kk))
            (local.set $k (local.get $a))))
        (br $drive)))
    (global.get $log))
)

(assert_return (invoke "run") (i64.const 4579770204373807623))
