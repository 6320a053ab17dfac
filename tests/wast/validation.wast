;; validation.wast -- modules that must be rejected. assert_invalid: well-formed
;; modules that fail validation (operand/result type mismatches, unknown indices of
;; every kind, bad alignment, limits, immutable globals, non-constant initializers,
;; start function types, duplicate exports, typed-reference rules). assert_malformed:
;; byte strings (`module binary`) that are not valid binary encodings and texts
;; (`module quote`) that are not valid text format. Messages are the standard ones;
;; a runner may check only that the module is rejected.

;; ---- operand and result types ----
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_invalid (module (func (i32.const 0))) "type mismatch")
(assert_invalid (module (func (result i32) (i32.add (i32.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (i32.add (i32.const 1) (f32.const 1)))) "type mismatch")
(assert_invalid (module (func (result f64) (f64.neg (f32.const 1)))) "type mismatch")
(assert_invalid (module (func (result i64) (i64.eqz (i64.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (i32.wrap_i64 (i32.const 1)))) "type mismatch")
(assert_invalid (module (func (drop))) "type mismatch")
(assert_invalid (module (func (result i32) (i32.const 1) (i32.const 2))) "type mismatch")
(assert_invalid (module (func (param i32) (local.set 0 (f32.const 0)))) "type mismatch")
(assert_invalid (module (func (param i64) (result i32) (local.tee 0 (i64.const 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (select (i32.const 1) (i64.const 2) (i32.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (select (i32.const 1) (i32.const 2) (i64.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (select (result i64) (i64.const 1) (i64.const 2) (i32.const 1)))) "type mismatch")
(assert_invalid (module (memory 1) (func (i32.store (i32.const 0) (i64.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (result i64) (i32.load (i32.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (result i32) (i32.load (i64.const 0)))) "type mismatch")
(assert_invalid (module (memory 1) (func (result i64) (memory.grow (i32.const 0)))) "type mismatch")

;; blocks, branches and calls
(assert_invalid (module (func (result i32) (block (result i32) (i64.const 0)))) "type mismatch")
(assert_invalid (module (func (block (result i32)))) "type mismatch")
(assert_invalid (module (func (result i32) (loop (result i32)))) "type mismatch")
(assert_invalid (module (func (block (i32.const 1)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (param i32) (result i32)))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (if (result i32) (i32.const 1) (then (i32.const 1)) (else (f32.const 1))))) "type mismatch")
(assert_invalid (module (func (if (i64.const 1) (then)))) "type mismatch")
(assert_invalid (module (func (if (param i32) (i32.const 1) (then (drop))))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br 0)))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br 0 (f32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (block (result i32) (br_if 0 (i32.const 1))))) "type mismatch")
(assert_invalid (module (func (block (br_if 0 (i64.const 1))))) "type mismatch")
(assert_invalid
  (module (func (param i32) (result i32)
    (block (result i32) (block (result i64) (br_table 0 1 (i32.const 0) (local.get 0))) (drop) (i32.const 0))))
  "type mismatch")
(assert_invalid (module (func (i32.const 0) (loop (param i32) (br 0 (f32.const 1))))) "type mismatch")
(assert_invalid (module (func (result i32) (return))) "type mismatch")
(assert_invalid (module (func (result i32) (return (i64.const 1)))) "type mismatch")
(assert_invalid (module (func $f (param i32)) (func (call $f))) "type mismatch")
(assert_invalid (module (func $f (param i32)) (func (call $f (f64.const 1)))) "type mismatch")
(assert_invalid (module (func $f (result i32) (i32.const 0)) (func (call $f))) "type mismatch")
(assert_invalid
  (module (type $t (func (param i32))) (table 1 funcref) (func (call_indirect (type $t) (i32.const 0))))
  "type mismatch")
(assert_invalid
  (module (type $t (func)) (table 1 funcref) (func (call_indirect (type $t) (i64.const 0))))
  "type mismatch")
;; tail calls must agree on the result type of the caller
(assert_invalid (module (func $f (result i64) (i64.const 0)) (func (result i32) (return_call $f))) "type mismatch")
(assert_invalid (module (func $f (result i32) (i32.const 0)) (func (return_call $f))) "type mismatch")

;; typed references
(assert_invalid
  (module (type $t (func)) (func (param $r (ref null $t)) (call_ref $t (i32.const 0))))
  "type mismatch")
(assert_invalid
  (module (type $t (func)) (type $u (func (param i32))) (func (param $r (ref $u)) (call_ref $t (local.get $r))))
  "type mismatch")
(assert_invalid (module (func (param i32) (drop (ref.as_non_null (local.get 0))))) "type mismatch")
(assert_invalid (module (func (param i32) (block (br_on_null 0 (local.get 0)) (drop)))) "type mismatch")
(assert_invalid (module (type $t (func)) (func (result (ref $t)) (ref.null $t))) "type mismatch")
(assert_invalid (module (type $t (func)) (func (local $l (ref $t)) (drop (local.get $l)))) "uninitialized local")
(assert_invalid (module (type $t (func)) (global (ref $t) (ref.null $t))) "type mismatch")
(assert_invalid (module (type $t (func)) (table 1 (ref $t))) "type mismatch")

;; ---- unknown indices ----
(assert_invalid (module (func (drop (local.get 0)))) "unknown local")
(assert_invalid (module (func (param i32) (local i64) (drop (local.get 2)))) "unknown local")
(assert_invalid (module (func (local.set 0 (i32.const 0)))) "unknown local")
(assert_invalid (module (func (param i32) (drop (local.tee 1 (i32.const 0))))) "unknown local")
(assert_invalid (module (func (call 1))) "unknown function")
(assert_invalid (module (func (return_call 3))) "unknown function")
(assert_invalid (module (func) (export "f" (func 1))) "unknown function")
(assert_invalid (module (start 0)) "unknown function")
(assert_invalid (module (func (br 1))) "unknown label")
(assert_invalid (module (func (block (br_if 2 (i32.const 0))))) "unknown label")
(assert_invalid (module (func (block (br_table 0 1 2 (i32.const 0))))) "unknown label")
(assert_invalid (module (func (block (br_table 0 (i32.const 0)) (br_table 5 (i32.const 0))))) "unknown label")
(assert_invalid (module (func (type 0))) "unknown type")
(assert_invalid (module (table 1 funcref) (func (call_indirect (type 2) (i32.const 0)))) "unknown type")
(assert_invalid (module (func (call_indirect (i32.const 0)))) "unknown table")
(assert_invalid (module (func (drop (i32.load (i32.const 0))))) "unknown memory")
(assert_invalid (module (func (i64.store8 (i32.const 0) (i64.const 0)))) "unknown memory")
(assert_invalid (module (func (drop (memory.size)))) "unknown memory")
(assert_invalid (module (func (drop (memory.grow (i32.const 0))))) "unknown memory")
(assert_invalid (module (data (i32.const 0) "a")) "unknown memory")
(assert_invalid (module (elem (i32.const 0))) "unknown table")
(assert_invalid (module (func (drop (table.size 0)))) "unknown table")
(assert_invalid (module (func (global.set 0 (i32.const 0)))) "unknown global")
(assert_invalid (module (export "g" (global 0))) "unknown global")
(assert_invalid (module (export "m" (memory 0))) "unknown memory")
(assert_invalid (module (export "t" (table 0))) "unknown table")

;; ---- other static rules ----
(assert_invalid (module (memory 1) (func (drop (i32.load align=8 (i32.const 0))))) "alignment must not be larger than natural")
(assert_invalid (module (memory 1) (func (drop (i64.load16_s align=4 (i32.const 0))))) "alignment must not be larger than natural")
(assert_invalid (module (memory 1) (func (i32.store8 align=2 (i32.const 0) (i32.const 0)))) "alignment must not be larger than natural")
(assert_invalid (module (memory 1) (func (f64.store align=16 (i32.const 0) (f64.const 0)))) "alignment must not be larger than natural")
(assert_invalid (module (memory 65537)) "memory size must be at most")
(assert_invalid (module (memory 1 65537)) "memory size must be at most")
(assert_invalid (module (memory 2 1)) "size minimum must not be greater than maximum")
(assert_invalid (module (table 2 1 funcref)) "size minimum must not be greater than maximum")
(assert_invalid (module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1)))) "global is immutable")
(assert_invalid (module (global i32 (f32.const 0))) "type mismatch")
(assert_invalid (module (global (mut i32) (i32.const 0)) (global i32 (global.get 0))) "constant expression required")
(assert_invalid (module (func $s (param i32)) (start $s)) "start function")
(assert_invalid (module (func $s (result i32) (i32.const 0)) (start $s)) "start function")
(assert_invalid (module (func) (export "a" (func 0)) (export "a" (func 0))) "duplicate export name")
(assert_invalid (module (memory 1) (global i32 (i32.const 0)) (export "x" (memory 0)) (export "x" (global 0))) "duplicate export name")
(assert_invalid (module (func $f) (func (drop (ref.func $f)))) "undeclared function reference")
(assert_invalid (module (memory 1) (data (i64.const 0) "")) "type mismatch")
(assert_invalid (module (table 1 funcref) (elem (i32.const 0) externref (ref.null extern))) "type mismatch")

;; Code after unreachable is still type-checked against what it does push.
(assert_invalid (module (func (result i32) (unreachable) (i64.const 0))) "type mismatch")
(assert_invalid (module (func (result i32) (unreachable) (i64.const 0) (i32.add))) "type mismatch")
;; But after unreachable the stack is polymorphic: these are valid.
(module
  (func (result i32) (unreachable))
  (func (result i32) (unreachable) (i32.add))
  (func (result i64) (return (i64.const 0)) (i64.add))
  (func (result i32 i64) (br 0 (i32.const 1) (i64.const 2)) (drop))
  (func (block (br 0) (i32.const 0) (drop)))
)

;; ---- malformed binaries ----
(assert_malformed (module binary "\00asm\02\00\00\00") "unknown binary version")
(assert_malformed (module binary "\00asm\00\00\00\01") "unknown binary version")
;; section with an unknown id
(assert_malformed (module binary "\00asm\01\00\00\00" "\7f\00") "malformed section id")
;; type section whose declared size is larger than its content
(assert_malformed
  (module binary "\00asm\01\00\00\00" "\01\05\01\60\00\00")
  "unexpected end")
;; type section with trailing bytes inside its declared size
(assert_malformed
  (module binary "\00asm\01\00\00\00" "\01\05\01\60\00\00\00")
  "section size mismatch")
;; an over-long LEB128 for the type count
(assert_malformed
  (module binary "\00asm\01\00\00\00" "\01\09\81\80\80\80\80\00\60\00\00")
  "integer representation too long")
;; function section declaring one function, code section with none
(assert_malformed
  (module binary
    "\00asm\01\00\00\00"
    "\01\04\01\60\00\00"   ;; type section: one type () -> ()
    "\03\02\01\00"         ;; function section: one function of type 0
    "\0a\01\00"             ;; code section: zero bodies
  )
  "function and code section have inconsistent lengths")
;; a function body that ends in the middle of an instruction's immediate
(assert_malformed
  (module binary
    "\00asm\01\00\00\00"
    "\01\04\01\60\00\00"   ;; type section
    "\03\02\01\00"         ;; function section
    "\0a\05\01\03\00\41\80" ;; code: body of size 3: no locals, i32.const with a truncated LEB128
  )
  "unexpected end")
;; an illegal opcode
(assert_malformed
  (module binary
    "\00asm\01\00\00\00"
    "\01\04\01\60\00\00"
    "\03\02\01\00"
    "\0a\05\01\03\00\ff\0b"  ;; body: no locals, 0xff, end
  )
  "illegal opcode")
;; an export name that is not valid UTF-8
(assert_malformed
  (module binary
    "\00asm\01\00\00\00"
    "\01\04\01\60\00\00"
    "\03\02\01\00"
    "\07\05\01\01\ff\00\00"  ;; export section: name "\ff" -> func 0
    "\0a\04\01\02\00\0b"
  )
  "malformed UTF-8 encoding")
;; a well-formed binary module for comparison
(module binary
  "\00asm\01\00\00\00"
  "\01\05\01\60\00\01\7f"     ;; type: () -> i32
  "\03\02\01\00"              ;; one function of type 0
  "\07\05\01\01\66\00\00"     ;; export "f" -> func 0
  "\0a\06\01\04\00\41\2a\0b"  ;; body: i32.const 42, end
)
(assert_return (invoke "f") (i32.const 42))

;; ---- malformed text ----
(assert_malformed (module quote "(func (i32.foo))") "unknown operator")
(assert_malformed (module quote "(func (drop (i32.const 0x100000000)))") "constant out of range")
(assert_malformed (module quote "(func (drop (i32.const -0x80000001)))") "constant out of range")
(assert_malformed (module quote "(func (drop (i64.const 0x10000000000000000)))") "constant out of range")
(assert_malformed (module quote "(func (drop (f32.const 0x1p128)))") "constant out of range")
(assert_malformed (module quote "(memory 1) (func (drop (i32.load align=3 (i32.const 0))))") "alignment")
(assert_malformed (module quote "(func $f) (func $f)") "duplicate func")
(assert_malformed (module quote "(func (local $x i32) (local $x i64))") "duplicate local")
(assert_malformed (module quote "(type $t (func)) (func (type $t) (param i32))") "inline function type")
(assert_malformed (module quote "(func (block $a (br $b)))") "unknown label")
(assert_malformed (module quote "(func (block $a end $b))") "mismatching label")
(assert_malformed (module quote "(func (local.get))") "unexpected token")
