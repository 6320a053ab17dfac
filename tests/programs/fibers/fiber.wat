;; fiber.wat -- a small fiber library for C programs, on the stack switching
;; proposal (cont.new, cont.bind, resume, suspend, switch).
;;
;; Load it before the C program with `switchyard run --preload env=fiber.wat
;; green.wasm`: the C program is linked with `-Wl,--import-table`, so it
;; imports its function table as `env.__indirect_function_table`, and it
;; imports the fiber_* functions below from `env` too.  This module owns that
;; table, so a C function pointer (an index into it) can be called from here:
;; a fiber's first frame is $entry, which calls the C function through
;; call_indirect.
;;
;; C cannot hold continuation references, so fibers are named by i32
;; handles: slots of the table $fibers, which holds each suspended fiber's
;; continuation.  A slot is null while its fiber runs (or while it is free);
;; a finished fiber's handle goes to a free list and is reused, lowest
;; reuse first in LIFO order.
;;
;; C interface (all values i32):
;;   int fiber_new(int (*fn)(int arg, int first), int arg)
;;       a new suspended fiber that will run fn(arg, first), where first is
;;       the value it is first resumed or switched to with.  Returns its
;;       handle.
;;   int fiber_resume(int h, int v)
;;       runs fiber h (suspended) until a fiber under this resume yields or
;;       returns; h receives v.  Returns the value yielded or returned.
;;       Because of fiber_switch, the fiber that stopped need not be h:
;;       fiber_last() says which one, fiber_finished() whether it returned
;;       (its handle is then free again).
;;   int fiber_yield(int v)
;;       suspends the running fiber up to the innermost fiber_resume, which
;;       returns v.  Returns the value it is resumed or switched to with.
;;   int fiber_switch(int h, int v)
;;       suspends the running fiber and runs suspended fiber h in its place
;;       (under the same fiber_resume), giving it v.  Returns the value the
;;       caller is later resumed or switched to with.
;;   int fiber_self(void)      the running fiber's handle, -1 outside fibers
;;   int fiber_last(void)      the fiber that stopped in the last fiber_resume
;;   int fiber_finished(void)  1 if it returned, 0 if it yielded
;;   int fiber_live(void)      fibers created and not finished
;;
;; Misuse (resuming or switching to a running, finished or unknown fiber)
;; traps: `resume`/`switch` of a null continuation, or a table index out of
;; bounds.
;;
;; Every fiber continuation has the one type $ct, so that any suspended
;; fiber can be the target of either resume or switch: it takes the value
;; passed to it plus, when it was reached by a switch, the switcher's
;; continuation (null when reached by resume), and returns the fiber's i32
;; result.  Yield's tag returns the same two values for that reason.

(module
  (rec
    (type $ft (func (param i32 (ref null $ct)) (result i32)))
    (type $ct (cont $ft)))
  ;; $entry before its first two parameters (fn, arg) are bound
  (type $entry_ft (func (param i32 i32 i32 (ref null $ct)) (result i32)))
  (type $entry_ct (cont $entry_ft))
  ;; a fiber body in C: int fn(int arg, int first)
  (type $body (func (param i32 i32) (result i32)))

  ;; suspend to the innermost resume, with the yielded value
  (tag $yield (param i32) (result i32 (ref null $ct)))
  ;; switch: the tag's result is what a fiber returns
  (tag $sw (result i32))

  ;; The C program's function table (it imports it with a minimum size,
  ;; which must not exceed this one).
  (table $funcs (export "__indirect_function_table") 1024 funcref)

  ;; suspended fibers by handle
  (table $fibers 0 (ref null $ct))
  ;; next free handle after each free handle (i32 at handle * 4)
  (memory $next 1)
  (global $free (mut i32) (i32.const -1))
  (global $live (mut i32) (i32.const 0))

  ;; the running fiber, -1 outside fibers
  (global $current (mut i32) (i32.const -1))
  ;; the fiber that performed the last switch, whose continuation the
  ;; target stores when it arrives
  (global $switcher (mut i32) (i32.const -1))
  ;; what the last fiber_resume saw
  (global $last (mut i32) (i32.const -1))
  (global $finished (mut i32) (i32.const 0))

  (elem declare func $entry)

  ;; Where a fiber arrives after it was suspended (or first started): when
  ;; a switch brought it here, keep the switcher's continuation in the
  ;; switcher's slot.  Returns the value passed.
  (func $arrive (param $v i32) (param $k (ref null $ct)) (result i32)
    (if (i32.eqz (ref.is_null (local.get $k)))
      (then (table.set $fibers (global.get $switcher) (local.get $k))))
    (local.get $v))

  ;; The first frame of every fiber.
  (func $entry (type $entry_ft)
    (param $fn i32) (param $arg i32) (param $v i32) (param $k (ref null $ct))
    (result i32)
    (call_indirect $funcs (type $body)
      (local.get $arg)
      (call $arrive (local.get $v) (local.get $k))
      (local.get $fn)))

  (func (export "fiber_new") (param $fn i32) (param $arg i32) (result i32)
    (local $h i32)
    (if (i32.ge_s (global.get $free) (i32.const 0))
      (then
        (local.set $h (global.get $free))
        (global.set $free (i32.load (i32.shl (local.get $h) (i32.const 2)))))
      (else
        (local.set $h (table.grow $fibers (ref.null $ct) (i32.const 1)))
        (if (i32.lt_s (local.get $h) (i32.const 0)) (then (unreachable)))
        ;; room in $next for this handle
        (if (i32.ge_u (i32.shl (local.get $h) (i32.const 2))
                      (i32.shl (memory.size) (i32.const 16)))
          (then
            (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0))
              (then (unreachable)))))))
    (table.set $fibers (local.get $h)
      (cont.bind $entry_ct $ct (local.get $fn) (local.get $arg)
        (cont.new $entry_ct (ref.func $entry))))
    (global.set $live (i32.add (global.get $live) (i32.const 1)))
    (local.get $h))

  (func (export "fiber_resume") (param $h i32) (param $v i32) (result i32)
    (local $k (ref null $ct))
    (local $prev i32)
    (local $r i32)
    (local.set $k (table.get $fibers (local.get $h)))
    (table.set $fibers (local.get $h) (ref.null $ct))
    (local.set $prev (global.get $current))
    (global.set $current (local.get $h))
    (block $on_yield (result i32 (ref $ct))
      (local.set $r
        (resume $ct (on $yield $on_yield) (on $sw switch)
          (local.get $v) (ref.null $ct) (local.get $k)))
      ;; Returned: the fiber running last (h or one switched to) finished;
      ;; its handle is free again.
      (global.set $last (global.get $current))
      (global.set $finished (i32.const 1))
      (i32.store (i32.shl (global.get $last) (i32.const 2)) (global.get $free))
      (global.set $free (global.get $last))
      (global.set $live (i32.sub (global.get $live) (i32.const 1)))
      (global.set $current (local.get $prev))
      (return (local.get $r)))
    ;; Yielded: [value, continuation of the fiber running last].
    (local.set $k)
    (local.set $r)
    (table.set $fibers (global.get $current) (local.get $k))
    (global.set $last (global.get $current))
    (global.set $finished (i32.const 0))
    (global.set $current (local.get $prev))
    (local.get $r))

  (func (export "fiber_yield") (param $v i32) (result i32)
    (if (i32.lt_s (global.get $current) (i32.const 0)) (then (unreachable)))
    (call $arrive (suspend $yield (local.get $v))))

  (func (export "fiber_switch") (param $h i32) (param $v i32) (result i32)
    (local $k (ref null $ct))
    (if (i32.lt_s (global.get $current) (i32.const 0)) (then (unreachable)))
    (local.set $k (table.get $fibers (local.get $h)))
    (table.set $fibers (local.get $h) (ref.null $ct))
    (global.set $switcher (global.get $current))
    (global.set $current (local.get $h))
    (call $arrive (switch $ct $sw (local.get $v) (local.get $k))))

  (func (export "fiber_self") (result i32) (global.get $current))
  (func (export "fiber_last") (result i32) (global.get $last))
  (func (export "fiber_finished") (result i32) (global.get $finished))
  (func (export "fiber_live") (result i32) (global.get $live))
)
