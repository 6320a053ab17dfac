;; bulk_memory.wast -- bulk memory instructions of WebAssembly 2.0: memory.fill,
;; memory.copy (non-overlapping and overlapping in both directions), memory.init
;; from passive segments, data.drop, the bounds checks that make them trap with
;; "out of bounds memory access" before writing anything, and the zero-length
;; cases at (and just past) the end of memory and of a segment.

(module
  (memory 1)
  (data $d0 "\01\02\03\04\05")
  (data $d1 "Hello, world!")
  (data $act (i32.const 0x8000) "\aa\bb")

  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init0") (param i32 i32 i32) (memory.init $d0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init1") (param i32 i32 i32) (memory.init $d1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init_active") (param i32 i32 i32) (memory.init $act (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop0") (data.drop $d0))
  (func (export "drop1") (data.drop $d1))
  (func (export "drop_active") (data.drop $act))
  (func (export "load8") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "load32") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.load (local.get 0)))
  ;; sum of bytes in [from, to)
  (func (export "sum") (param $from i32) (param $to i32) (result i32)
    (local $s i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $from) (local.get $to)))
        (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $from))))
        (local.set $from (i32.add (local.get $from) (i32.const 1)))
        (br $l)))
    (local.get $s))
)

;; the active segment was applied; passive ones were not
(assert_return (invoke "load8" (i32.const 0x8000)) (i32.const 0xaa))
(assert_return (invoke "load8" (i32.const 0x8001)) (i32.const 0xbb))
(assert_return (invoke "sum" (i32.const 0) (i32.const 0x8000)) (i32.const 0))

;; ---- memory.fill ----
(assert_return (invoke "fill" (i32.const 1) (i32.const 0xff) (i32.const 3)))
(assert_return (invoke "load64" (i32.const 0)) (i64.const 0x00000000ffffff00))
;; only the low byte of the value is used
(assert_return (invoke "fill" (i32.const 2) (i32.const 0x12345607) (i32.const 1)))
(assert_return (invoke "load64" (i32.const 0)) (i64.const 0x00000000ff07ff00))
(assert_return (invoke "fill" (i32.const 100) (i32.const 1) (i32.const 1000)))
(assert_return (invoke "sum" (i32.const 0) (i32.const 2000)) (i32.const 1517))
(assert_return (invoke "load8" (i32.const 99)) (i32.const 0))
(assert_return (invoke "load8" (i32.const 1100)) (i32.const 0))
;; fill up to exactly the end
(assert_return (invoke "fill" (i32.const 65530) (i32.const 0x5a) (i32.const 6)))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 0x5a))
(assert_return (invoke "load8" (i32.const 65529)) (i32.const 0))
;; zero-length fills at and past the end
(assert_return (invoke "fill" (i32.const 65536) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "fill" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const -1) (i32.const 0) (i32.const 0)) "out of bounds memory access")
;; a fill that runs past the end traps and writes nothing
(assert_trap (invoke "fill" (i32.const 65530) (i32.const 0x11) (i32.const 7)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 65530)) (i32.const 0x5a))
(assert_trap (invoke "fill" (i32.const 60000) (i32.const 0x11) (i32.const 10000)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 60000)) (i32.const 0))
(assert_trap (invoke "fill" (i32.const 1) (i32.const 0x11) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 1)) (i32.const 0xff))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 0x11) (i32.const 65537)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 0)) (i32.const 0))
;; the whole memory
(assert_return (invoke "fill" (i32.const 0) (i32.const 0) (i32.const 65536)))
(assert_return (invoke "sum" (i32.const 0) (i32.const 65536)) (i32.const 0))

;; ---- memory.init ----
(assert_return (invoke "init0" (i32.const 10) (i32.const 0) (i32.const 5)))
(assert_return (invoke "load64" (i32.const 8)) (i64.const 0x0005040302010000))
(assert_return (invoke "init0" (i32.const 20) (i32.const 2) (i32.const 3)))
(assert_return (invoke "load32" (i32.const 20)) (i32.const 0x00050403))
(assert_return (invoke "init1" (i32.const 30) (i32.const 7) (i32.const 5)))
(assert_return (invoke "load32" (i32.const 30)) (i32.const 0x6c726f77))
(assert_return (invoke "load8" (i32.const 34)) (i32.const 0x64))
;; source range must lie within the segment (length 5)
(assert_trap (invoke "init0" (i32.const 40) (i32.const 1) (i32.const 5)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 40) (i32.const 6) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 40) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "init0" (i32.const 40) (i32.const 5) (i32.const 0)))
(assert_return (invoke "load8" (i32.const 40)) (i32.const 0))
;; destination range must lie within memory
(assert_return (invoke "init0" (i32.const 65531) (i32.const 0) (i32.const 5)))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 5))
(assert_trap (invoke "init1" (i32.const 65532) (i32.const 0) (i32.const 5)) "out of bounds memory access")
(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0x05040302))
(assert_return (invoke "init1" (i32.const 65536) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init1" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "init1" (i32.const 65536) (i32.const 13) (i32.const 0)))
(assert_trap (invoke "init1" (i32.const 0) (i32.const 14) (i32.const 0)) "out of bounds memory access")

;; ---- data.drop ----
(assert_return (invoke "drop0"))
;; after a drop the segment has length zero: only empty inits at offset 0 succeed
(assert_return (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_return (invoke "init0" (i32.const 65536) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init0" (i32.const 0) (i32.const 1) (i32.const 0)) "out of bounds memory access")
;; dropping twice is allowed
(assert_return (invoke "drop0"))
(assert_trap (invoke "init0" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
;; the other segment is unaffected
(assert_return (invoke "init1" (i32.const 50) (i32.const 0) (i32.const 5)))
(assert_return (invoke "load8" (i32.const 54)) (i32.const 0x6f))
;; active segments behave as already dropped
(assert_return (invoke "init_active" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "init_active" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "drop_active"))

;; ---- memory.copy ----
(assert_return (invoke "fill" (i32.const 0) (i32.const 0) (i32.const 65536)))
(assert_return (invoke "init1" (i32.const 100) (i32.const 0) (i32.const 13)))
;; non-overlapping
(assert_return (invoke "copy" (i32.const 200) (i32.const 100) (i32.const 5)))
(assert_return (invoke "load32" (i32.const 200)) (i32.const 0x6c6c6548))
(assert_return (invoke "load8" (i32.const 204)) (i32.const 0x6f))
(assert_return (invoke "load8" (i32.const 205)) (i32.const 0))
;; overlapping, destination after source (must copy backwards)
(assert_return (invoke "copy" (i32.const 102) (i32.const 100) (i32.const 5)))
(assert_return (invoke "load64" (i32.const 100)) (i64.const 0x776f6c6c65486548))
;; overlapping, destination before source (must copy forwards)
(assert_return (invoke "init1" (i32.const 100) (i32.const 0) (i32.const 13)))
(assert_return (invoke "copy" (i32.const 99) (i32.const 100) (i32.const 8)))
(assert_return (invoke "load64" (i32.const 99)) (i64.const 0x77202c6f6c6c6548))
(assert_return (invoke "load8" (i32.const 107)) (i32.const 0x77))
(assert_return (invoke "load8" (i32.const 108)) (i32.const 0x6f))
;; larger overlapping copies, shifted by one byte in each direction
(assert_return (invoke "fill" (i32.const 1000) (i32.const 1) (i32.const 500)))
(assert_return (invoke "copy" (i32.const 1001) (i32.const 1000) (i32.const 500)))
(assert_return (invoke "sum" (i32.const 0) (i32.const 2000)) (i32.const 2281))
(assert_return (invoke "load8" (i32.const 1000)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 1500)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 1501)) (i32.const 0))
(assert_return (invoke "copy" (i32.const 999) (i32.const 1000) (i32.const 501)))
(assert_return (invoke "load8" (i32.const 999)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 1499)) (i32.const 1))
(assert_return (invoke "load8" (i32.const 1500)) (i32.const 1))
;; copy onto itself
(assert_return (invoke "copy" (i32.const 100) (i32.const 100) (i32.const 13)))
(assert_return (invoke "load8" (i32.const 100)) (i32.const 0x65))
;; up to exactly the end, in both roles
(assert_return (invoke "copy" (i32.const 65531) (i32.const 100) (i32.const 5)))
(assert_return (invoke "load8" (i32.const 65535)) (i32.const 0x2c))
(assert_return (invoke "copy" (i32.const 300) (i32.const 65532) (i32.const 4)))
(assert_return (invoke "load32" (i32.const 300)) (i32.const 0x2c6f6c6c))
;; zero-length copies at and past the end
(assert_return (invoke "copy" (i32.const 65536) (i32.const 0) (i32.const 0)))
(assert_return (invoke "copy" (i32.const 0) (i32.const 65536) (i32.const 0)))
(assert_return (invoke "copy" (i32.const 65536) (i32.const 65536) (i32.const 0)))
(assert_trap (invoke "copy" (i32.const 65537) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 0) (i32.const 65537) (i32.const 0)) "out of bounds memory access")
;; out of bounds copies trap and write nothing
(assert_trap (invoke "copy" (i32.const 65532) (i32.const 100) (i32.const 5)) "out of bounds memory access")
(assert_return (invoke "load32" (i32.const 65532)) (i32.const 0x2c6f6c6c))
(assert_trap (invoke "copy" (i32.const 400) (i32.const 65532) (i32.const 5)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 400)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const 400) (i32.const 100) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 400)) (i32.const 0))
(assert_trap (invoke "copy" (i32.const -1) (i32.const 100) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 100) (i32.const -1) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i32.const 1) (i32.const 0) (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "load8" (i32.const 1)) (i32.const 0))
(assert_return (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 65536)))

;; ---- bulk operations on a zero-page memory ----
(module
  (memory 0)
  (data $d "abc")
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
)
(assert_return (invoke "fill" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "fill" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "fill" (i32.const 1) (i32.const 0) (i32.const 0)) "out of bounds memory access")
(assert_return (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 0)))
(assert_trap (invoke "copy" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_return (invoke "init" (i32.const 0) (i32.const 3) (i32.const 0)))
(assert_trap (invoke "init" (i32.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")

;; memory.init and data.drop validate their segment index; data.count is required
(assert_invalid
  (module (memory 1) (func (data.drop 0)))
  "unknown data segment")
(assert_invalid
  (module (memory 1) (data "a") (func (memory.init 1 (i32.const 0) (i32.const 0) (i32.const 0))))
  "unknown data segment")
(assert_invalid
  (module (data "a") (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 0))))
  "unknown memory")
(assert_invalid
  (module (func (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))))
  "unknown memory")
(assert_invalid
  (module (func (memory.copy (i32.const 0) (i32.const 0) (i32.const 0))))
  "unknown memory")
