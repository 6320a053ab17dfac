//! What the translator needs to know about the module being compiled, and
//! how Wasm types become Cranelift types and signatures.

use cranelift_codegen::ir::{self, AbiParam, MemFlagsData, Signature, types};
use cranelift_codegen::isa::CallConv;

use crate::error::TrapCode;
use crate::module_info::ModuleInfo;
use crate::types::{CompositeType, FuncType, TypeInterner, ValType};
use crate::vm::layout::VMOffsets;

/// The module-level context of a function translation.
pub(crate) struct ModuleEnv<'a> {
    pub frontend: cranelift_codegen::isa::TargetFrontendConfig,
    pub info: &'a ModuleInfo,
    pub offsets: &'a VMOffsets,
    pub interner: &'a TypeInterner,
    /// For each continuation type index of the module, the address of the
    /// body adapter its continuations start in.
    /// Switch through host calls (`--switching=libcall`) instead of inline
    /// `stack_switch`.
    pub libcall_switching: bool,
    /// In native mode, call the switch event routine at each switch point
    /// (`Config::report_switch_events`).
    pub switch_events: bool,
    /// The CPU features SIMD translation needs that the host lacks (empty:
    /// none missing).
    pub missing_simd_features: Vec<&'static str>,
}

impl ModuleEnv<'_> {
    /// The signature of module type `index` (a function type).
    pub fn func_type(&self, index: u32) -> &FuncType {
        self.func_type_by_id(self.info.types[index as usize])
    }

    /// The function type of canonical id `id` (for a continuation type,
    /// the function type it wraps).
    pub fn func_type_by_id(&self, id: u32) -> &FuncType {
        match self.interner.get(id) {
            CompositeType::Func(f) => f,
            CompositeType::Cont(f) => self.func_type_by_id(*f),
        }
    }

    /// The signature of function `index`.
    pub fn func_sig(&self, index: u32) -> &FuncType {
        self.func_type(self.info.funcs[index as usize].type_index)
    }
}

/// The Cranelift type that holds a Wasm value.
pub(crate) fn clif_type(v: &ValType) -> ir::Type {
    match v {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        // Every v128 is an I8X16 between instructions; SIMD instructions
        // bitcast to the lane shape they need (`simd.rs`).
        ValType::V128 => types::I8X16,
        ValType::Ref(_) => types::I64,
    }
}

/// Flags for accesses to value buffers and payload words (host entry
/// buffers, exception and continuation payloads): they never trap, and
/// promise no alignment, since a v128 starts at any multiple of 8.
pub(crate) fn word_flags() -> MemFlagsData {
    MemFlagsData::new().with_notrap()
}

/// How many 8-byte payload words a value of Cranelift type `ty` takes: the
/// same count as [`ValType::words`] of the Wasm type it holds.
pub(crate) fn clif_words(ty: ir::Type) -> usize {
    (ty.bytes() as usize).div_ceil(8)
}

/// The native signature of a Wasm function: the callee's VMContext, the
/// caller's VMContext (0 from the host; host functions use it to find the
/// caller's memory), then the Wasm parameters. The `tail` convention makes
/// tail calls possible.
pub(crate) fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::special(
        types::I64,
        ir::ArgumentPurpose::VMContext,
    ));
    sig.params.push(AbiParam::new(types::I64));
    sig.params
        .extend(ty.params().iter().map(|p| AbiParam::new(clif_type(p))));
    sig.returns
        .extend(ty.results().iter().map(|r| AbiParam::new(clif_type(r))));
    sig
}

/// Our trap code as a Cranelift trap code.
pub(crate) fn clif_trap(code: TrapCode) -> ir::TrapCode {
    match code {
        TrapCode::StackOverflow => ir::TrapCode::STACK_OVERFLOW,
        TrapCode::IntegerOverflow => ir::TrapCode::INTEGER_OVERFLOW,
        TrapCode::MemoryOutOfBounds => ir::TrapCode::HEAP_OUT_OF_BOUNDS,
        TrapCode::IntegerDivideByZero => ir::TrapCode::INTEGER_DIVISION_BY_ZERO,
        TrapCode::BadConversionToInteger => ir::TrapCode::BAD_CONVERSION_TO_INTEGER,
        other => ir::TrapCode::unwrap_user(other.to_byte()),
    }
}

/// A Cranelift trap code back as ours.
pub(crate) fn from_clif_trap(code: ir::TrapCode) -> Option<TrapCode> {
    Some(match code {
        ir::TrapCode::STACK_OVERFLOW => TrapCode::StackOverflow,
        ir::TrapCode::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => TrapCode::MemoryOutOfBounds,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivideByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapCode::BadConversionToInteger,
        other => TrapCode::from_byte(other.as_raw().get())?,
    })
}
