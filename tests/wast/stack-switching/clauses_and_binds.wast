;; Three tags at one resume (clauses 0, 1 and 2 each taken in turn) and
;; cont.bind of each suspended continuation before it is resumed: the
;; clause index and the bound count must survive every switch. The
;; expected sum is what Wasmtime 49 computes for the same module.
(module
  (type $ft (func (param i64 i64)))
  (type $ct (cont $ft))
  (type $ft1 (func (param i64)))
  (type $ct1 (cont $ft1))
  (type $ft0 (func))
  (type $ct0 (cont $ft0))
  (tag $a (param i64) (result i64 i64))
  (tag $b (param i64) (result i64 i64))
  (tag $c (param i64) (result i64 i64))
  (func $gen (param $x i64) (param $y i64)
    (local $i i64)
    (loop $l
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (if (i64.eq (i64.rem_u (local.get $i) (i64.const 3)) (i64.const 0))
        (then (suspend $a (i64.add (local.get $x) (local.get $y)))
              (local.set $y) (local.set $x))
        (else (if (i64.eq (i64.rem_u (local.get $i) (i64.const 3)) (i64.const 1))
          (then (suspend $b (i64.mul (local.get $x) (i64.const 2)))
                (local.set $y) (local.set $x))
          (else (suspend $c (local.get $y)) (local.set $y) (local.set $x)))))
      (br_if $l (i64.lt_u (local.get $i) (i64.const 30)))))
  (elem declare func $gen)
  (func (export "run") (result i64)
    (local $k (ref null $ct))
    (local $k1 (ref null $ct1))
    (local $sum i64) (local $n i64)
    (local.set $k (cont.new $ct (ref.func $gen)))
    (local.set $k1 (cont.bind $ct $ct1 (i64.const 5) (local.get $k)))
    (block $done
      (loop $drive
        (local.set $n (i64.add (local.get $n) (i64.const 1)))
        (block $on_a (result i64 (ref $ct))
          (block $on_b (result i64 (ref $ct))
            (block $on_c (result i64 (ref $ct))
              (resume $ct1 (on $a $on_a) (on $b $on_b) (on $c $on_c) (i64.const 7) (local.get $k1))
              (br $done))
            ;; c: weight 1000
            (local.set $k)
            (local.set $sum (i64.add (local.get $sum) (i64.mul (i64.const 1000))))
            (local.set $k1 (cont.bind $ct $ct1 (local.get $n) (local.get $k)))
            (br $drive))
          ;; b: weight 10
          (local.set $k)
          (local.set $sum (i64.add (local.get $sum) (i64.mul (i64.const 10))))
          (local.set $k1 (cont.bind $ct $ct1 (i64.const 3) (local.get $k)))
          (br $drive))
        ;; a: weight 1
        (local.set $k)
        (local.set $sum (i64.add (local.get $sum)))
        (local.set $k1 (cont.bind $ct $ct1 (i64.const 2) (local.get $k)))
        (br $drive)))
    (local.get $sum))
)

(assert_return (invoke "run") (i64.const 2085386675467503947))
