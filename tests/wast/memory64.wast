;; memory64.wast -- 64-bit memories beyond what the memory64 proposal's scripts
;; cover: bounds checks against the current length (also after memory.grow), an
;; access that crosses the end, offsets whose sum with the address overflows,
;; addresses with high bits set that would be in bounds if truncated to 32 bits,
;; memory.fill/copy/init with i64 operands, memory.copy between a 32-bit and a
;; 64-bit memory (i32 length), memory.grow failing with -1, data segments with
;; i64 offsets, and imports/exports whose address types must match. Expected
;; values checked with `wasmtime wast` 49.

(module $m
  (memory $mem (export "mem64") i64 1 3)
  (memory $small 1)
  (data (memory $mem) (i64.const 8) "\01\02\03\04\05\06\07\08")
  (data $p "abcdef")

  (func (export "size") (result i64) (memory.size $mem))
  (func (export "grow") (param i64) (result i64) (memory.grow $mem (local.get 0)))
  (func (export "load8") (param i64) (result i32) (i32.load8_u $mem (local.get 0)))
  (func (export "load32") (param i64) (result i32) (i32.load $mem (local.get 0)))
  (func (export "load64") (param i64) (result i64) (i64.load $mem (local.get 0)))
  (func (export "load8_off") (param i64) (result i32)
    (i32.load8_u $mem offset=0xffff_ffff_ffff_fff0 (local.get 0)))
  (func (export "load8_4g") (param i64) (result i32)
    (i32.load8_u $mem offset=0x1_0000_0000 (local.get 0)))
  (func (export "store32") (param i64 i32) (i32.store $mem (local.get 0) (local.get 1)))
  (func (export "store64") (param i64 i64) (i64.store $mem (local.get 0) (local.get 1)))
  (func (export "fill") (param i64 i32 i64) (memory.fill $mem (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i64 i64 i64) (memory.copy $mem $mem (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i64 i32 i32) (memory.init $mem $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $p))
  ;; Between a 32-bit and a 64-bit memory the length is an i32.
  (func (export "copy_to32") (param i32 i64 i32) (memory.copy $small $mem (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy_to64") (param i64 i32 i32) (memory.copy $mem $small (local.get 0) (local.get 1) (local.get 2)))
  (func (export "load8_small") (param i32) (result i32) (i32.load8_u $small (local.get 0)))
)

(assert_return (invoke "size") (i64.const 1))
(assert_return (invoke "load8" (i64.const 8)) (i32.const 1))
(assert_return (invoke "load64" (i64.const 8)) (i64.const 0x0807060504030201))
(assert_return (invoke "load8" (i64.const 0xffff)) (i32.const 0))
(assert_trap (invoke "load8" (i64.const 0x10000)) "out of bounds memory access")
;; 2^32 + 8 truncated to 32 bits would be address 8.
(assert_trap (invoke "load8" (i64.const 0x1_0000_0008)) "out of bounds memory access")
(assert_trap (invoke "load8" (i64.const -1)) "out of bounds memory access")
;; The first bytes are in bounds, the last ones are not: no partial write.
(assert_trap (invoke "load32" (i64.const 0xfffd)) "out of bounds memory access")
(assert_trap (invoke "load64" (i64.const 0xfff9)) "out of bounds memory access")
(assert_return (invoke "store32" (i64.const 0xfffc) (i32.const 0x11223344)))
(assert_trap (invoke "store32" (i64.const 0xfffe) (i32.const -1)) "out of bounds memory access")
(assert_return (invoke "load32" (i64.const 0xfffc)) (i32.const 0x11223344))
(assert_trap (invoke "store64" (i64.const 0xfffa) (i64.const -1)) "out of bounds memory access")
(assert_return (invoke "load32" (i64.const 0xfffc)) (i32.const 0x11223344))
;; address + offset overflows 64 bits.
(assert_trap (invoke "load8_off" (i64.const 0x10)) "out of bounds memory access")
(assert_trap (invoke "load8_off" (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "load8_4g" (i64.const 0)) "out of bounds memory access")

;; The bounds follow memory.grow, up to the maximum (3 pages).
(assert_return (invoke "grow" (i64.const 1)) (i64.const 1))
(assert_return (invoke "size") (i64.const 2))
(assert_return (invoke "load32" (i64.const 0xfffe)) (i32.const 0x1122))
(assert_return (invoke "load8" (i64.const 0x1ffff)) (i32.const 0))
(assert_trap (invoke "load8" (i64.const 0x20000)) "out of bounds memory access")
(assert_return (invoke "grow" (i64.const 2)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0x1_0000_0000)) (i64.const -1))
(assert_return (invoke "grow" (i64.const -1)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 0)) (i64.const 2))
(assert_return (invoke "grow" (i64.const 1)) (i64.const 2))
(assert_return (invoke "load8" (i64.const 0x2ffff)) (i32.const 0))

;; memory.fill, memory.copy, memory.init with i64 operands, checked before any
;; write.
(assert_return (invoke "fill" (i64.const 0x100) (i32.const 0xaa) (i64.const 4)))
(assert_return (invoke "load32" (i64.const 0x100)) (i32.const 0xaaaaaaaa))
(assert_trap (invoke "fill" (i64.const 0x2fffe) (i32.const 0xbb) (i64.const 4)) "out of bounds memory access")
(assert_return (invoke "load8" (i64.const 0x2fffe)) (i32.const 0))
(assert_trap (invoke "fill" (i64.const 0x1_0000_0000) (i32.const 0) (i64.const 0)) "out of bounds memory access")
(assert_trap (invoke "fill" (i64.const 1) (i32.const 0) (i64.const -1)) "out of bounds memory access")
(assert_return (invoke "fill" (i64.const 0x30000) (i32.const 0) (i64.const 0)))
(assert_return (invoke "copy" (i64.const 0x200) (i64.const 8) (i64.const 8)))
(assert_return (invoke "load64" (i64.const 0x200)) (i64.const 0x0807060504030201))
(assert_return (invoke "copy" (i64.const 9) (i64.const 8) (i64.const 4)))
(assert_return (invoke "load64" (i64.const 8)) (i64.const 0x0807060403020101))
(assert_trap (invoke "copy" (i64.const 0x2fffc) (i64.const 0) (i64.const 8)) "out of bounds memory access")
(assert_trap (invoke "copy" (i64.const 0) (i64.const 0x1_0000_0000) (i64.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy" (i64.const 0) (i64.const -1) (i64.const 2)) "out of bounds memory access")
(assert_return (invoke "init" (i64.const 0x300) (i32.const 1) (i32.const 4)))
(assert_return (invoke "load32" (i64.const 0x300)) (i32.const 0x65646362))
(assert_trap (invoke "init" (i64.const 0x2fffe) (i32.const 0) (i32.const 4)) "out of bounds memory access")
(assert_trap (invoke "init" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "init" (i64.const 0) (i32.const 4) (i32.const 3)) "out of bounds memory access")
(assert_return (invoke "drop"))
(assert_trap (invoke "init" (i64.const 0) (i32.const 0) (i32.const 1)) "out of bounds memory access")

;; Between the 32-bit memory and the 64-bit one.
(assert_return (invoke "copy_to32" (i32.const 16) (i64.const 0x200) (i32.const 8)))
(assert_return (invoke "load8_small" (i32.const 16)) (i32.const 1))
(assert_return (invoke "load8_small" (i32.const 23)) (i32.const 8))
(assert_return (invoke "copy_to64" (i64.const 0x2fff0) (i32.const 16) (i32.const 16)))
(assert_return (invoke "load64" (i64.const 0x2fff0)) (i64.const 0x0807060504030201))
(assert_trap (invoke "copy_to32" (i32.const 0xfffc) (i64.const 0) (i32.const 8)) "out of bounds memory access")
(assert_trap (invoke "copy_to32" (i32.const 0) (i64.const 0x1_0000_0000) (i32.const 1)) "out of bounds memory access")
(assert_trap (invoke "copy_to64" (i64.const 0x2fffc) (i32.const 0) (i32.const 8)) "out of bounds memory access")
(assert_trap (invoke "copy_to64" (i64.const 0x1_0000_0000) (i32.const 0) (i32.const 1)) "out of bounds memory access")

;; Imports and exports: the address types must match, the limits too.
(register "m" $m)
(module
  (import "m" "mem64" (memory $mem i64 1))
  (func (export "size") (result i64) (memory.size $mem))
  (func (export "load8") (param i64) (result i32) (i32.load8_u $mem (local.get 0)))
  (func (export "grow") (param i64) (result i64) (memory.grow $mem (local.get 0)))
)
(assert_return (invoke "size") (i64.const 3))
(assert_return (invoke "load8" (i64.const 0x200)) (i32.const 1))
(assert_trap (invoke "load8" (i64.const 0x30000)) "out of bounds memory access")
(assert_return (invoke "grow" (i64.const 1)) (i64.const -1))
(assert_unlinkable
  (module (import "m" "mem64" (memory 1)))
  "incompatible import type"
)
(assert_unlinkable
  (module (import "m" "mem64" (memory i64 4)))
  "incompatible import type"
)
(assert_unlinkable
  (module (import "m" "mem64" (memory i64 1 2)))
  "incompatible import type"
)
(module (import "m" "mem64" (memory i64 1 3)))
(assert_unlinkable
  (module (import "spectest" "memory" (memory i64 1)))
  "incompatible import type"
)

;; Data segments: i64 offsets, also from a global and an extended constant
;; expression; one out of bounds fails instantiation, one at a large offset
;; is not truncated.
(module
  (global $g i64 (i64.const 0x10))
  (memory i64 1)
  (data (i64.add (global.get $g) (i64.const 0xfff0)) "")
  (data (i64.const 0xfffe) "xy")
  (data (global.get $g) "z")
  (func (export "load8") (param i64) (result i32) (i32.load8_u (local.get 0)))
)
(assert_return (invoke "load8" (i64.const 0xffff)) (i32.const 0x79))
(assert_return (invoke "load8" (i64.const 0x10)) (i32.const 0x7a))
(assert_trap
  (module (memory i64 1) (data (i64.const 0xffff) "ab"))
  "out of bounds memory access"
)
(assert_trap
  (module (memory i64 1) (data (i64.const 0x1_0000_0000) "a"))
  "out of bounds memory access"
)
(assert_trap
  (module (memory i64 1) (data (i64.const -1) "a"))
  "out of bounds memory access"
)

;; At its largest size an access that crosses the end still traps.
(module
  (memory i64 1 1)
  (func (export "store64") (param i64) (i64.store (local.get 0) (i64.const -1)))
  (func (export "load64") (param i64) (result i64) (i64.load (local.get 0)))
)
(assert_return (invoke "store64" (i64.const 0xfff8)))
(assert_trap (invoke "store64" (i64.const 0xfffc)) "out of bounds memory access")
(assert_trap (invoke "load64" (i64.const 0xffff)) "out of bounds memory access")
(assert_return (invoke "load64" (i64.const 0xfff8)) (i64.const -1))

;; A memory without a maximum grows until the engine's limit.
(module
  (memory i64 0)
  (func (export "grow") (param i64) (result i64) (memory.grow (local.get 0)))
  (func (export "store") (param i64) (i32.store8 (local.get 0) (i32.const 1)))
)
(assert_trap (invoke "store" (i64.const 0)) "out of bounds memory access")
(assert_return (invoke "grow" (i64.const 0x1_0000_0000_0000)) (i64.const -1))
(assert_return (invoke "grow" (i64.const 2)) (i64.const 0))
(assert_return (invoke "store" (i64.const 0x1ffff)))
(assert_trap (invoke "store" (i64.const 0x20000)) "out of bounds memory access")

(assert_invalid
  (module (memory i64 1) (func (drop (i32.load (i32.const 0)))))
  "type mismatch"
)
(assert_invalid
  (module (memory i64 1) (data (i32.const 0) ""))
  "type mismatch"
)
(assert_invalid
  (module
    (memory $a 1) (memory $b i64 1)
    (func (memory.copy $a $b (i32.const 0) (i64.const 0) (i64.const 0))))
  "type mismatch"
)
