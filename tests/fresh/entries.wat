;; Fresh continuations (created, never resumed) with different entry
;; functions, for the names `switchyard run --backtrace-all` gives them
;; (`tools/tests/fresh_names.rs`). `park` creates one of each kind, keeps
;; them in globals, then traps:
;;
;; - `$by_index`: a forwarding entry, `call_indirect` through `$funcs` of
;;   its bound first parameter: named by `$target_index`, the element at
;;   the bound index;
;; - `$by_ref`: a forwarding entry, `call_ref` of its bound first
;;   parameter: named by `$target_ref`;
;; - `$by_index` again, nothing bound: named by its entry;
;; - `$plain`: an entry that does work itself: named by its entry.
(module $fresh
  (type $ft (func (param i32) (result i32)))
  (type $ct (cont $ft))
  (type $idx_ft (func (param i32 i32) (result i32)))
  (type $idx_ct (cont $idx_ft))
  (type $ref_ft (func (param (ref $ft) i32) (result i32)))
  (type $ref_ct (cont $ref_ft))

  (table $funcs 4 funcref)
  (elem (table $funcs) (i32.const 2) func $target_index)

  (global $a (mut (ref null $ct)) (ref.null $ct))
  (global $b (mut (ref null $ct)) (ref.null $ct))
  (global $c (mut (ref null $idx_ct)) (ref.null $idx_ct))
  (global $d (mut (ref null $ct)) (ref.null $ct))

  (func $target_index (type $ft) (i32.add (local.get 0) (i32.const 1)))
  (func $target_ref (type $ft) (i32.add (local.get 0) (i32.const 2)))

  (func $by_index (type $idx_ft)
    (call_indirect $funcs (type $ft) (local.get 1) (local.get 0)))
  (func $by_ref (type $ref_ft)
    (call_ref $ft (local.get 1) (local.get 0)))
  (func $plain (type $ft)
    (i32.mul (local.get 0) (i32.const 3)))

  (func (export "park")
    (global.set $a
      (cont.bind $idx_ct $ct (i32.const 2)
        (cont.new $idx_ct (ref.func $by_index))))
    (global.set $b
      (cont.bind $ref_ct $ct (ref.func $target_ref)
        (cont.new $ref_ct (ref.func $by_ref))))
    (global.set $c (cont.new $idx_ct (ref.func $by_index)))
    (global.set $d (cont.new $ct (ref.func $plain)))
    (unreachable))

  (elem declare func $by_index $by_ref $plain $target_ref))
