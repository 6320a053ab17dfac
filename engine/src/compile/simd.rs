//! Translation of the fixed-width SIMD instructions (`v128`) and of relaxed
//! SIMD.
//!
//! Wasm has one vector type; Cranelift types vectors by lane shape. Between
//! instructions every `v128` is an `I8X16` (locals, block parameters,
//! calls, globals and payload words see only that type); each instruction
//! reinterprets its operands as the shape it works on and its result back
//! as `I8X16`. Such a bitcast is free: the value stays in its register.
//!
//! Memory accesses take their address from `mem_addr`, like the scalar
//! loads and stores, so they trap the same way.
//!
//! Relaxed SIMD instructions let an engine pick among several results. Ours
//! picks one per instruction, the same on every host (docs/engine.md has
//! the table): the result of the non-relaxed counterpart where one exists,
//! a fused multiply-add for `relaxed_madd`/`relaxed_nmadd`, and for the
//! relaxed dot products the signed product of both operands. These are the
//! choices of Wasmtime's deterministic mode, so that the two engines can
//! be compared result for result.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{Endianness, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

use super::translate::{FuncTranslator, heap_flags, op_name};
use crate::error::Error;
use crate::module_info::unsupported;

use types::{F32X4, F64X2, I8X16, I16X8, I32X4, I64X2};

/// The x86-64 features the SIMD lowering relies on: SSE4.1 (rounding,
/// lane inserts and extracts), SSSE3 (`pshufb` for shuffles and swizzles)
/// and FMA (`relaxed_madd`). Without them Cranelift would fall back to
/// library calls, which the engine does not link.
const NEEDED_FEATURES: [&str; 3] = ["has_sse41", "has_ssse3", "has_fma"];

/// Which of [`NEEDED_FEATURES`] the target `isa` lacks.
pub(super) fn missing_host_features(isa: &dyn TargetIsa) -> Vec<&'static str> {
    let flags = isa.isa_flags();
    NEEDED_FEATURES
        .into_iter()
        .filter(|name| {
            !flags
                .iter()
                .any(|f| f.name == *name && f.as_bool() == Some(true))
        })
        .collect()
}

/// How a lane-sized load becomes a vector.
#[derive(Clone, Copy)]
enum LaneLoad {
    /// Into every lane (`v128.loadN_splat`).
    Splat,
    /// Into lane 0, the others zero (`v128.loadN_zero`).
    Zero,
}

/// Flags for a bitcast between vector shapes: Cranelift asks for the lane
/// order to be explicit when the lane count changes; Wasm's is
/// little-endian.
fn lane_order() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// `value` as a vector of shape `ty`.
fn reshape(b: &mut FunctionBuilder<'_>, value: Value, ty: Type) -> Value {
    if b.func.dfg.value_type(value) == ty {
        value
    } else {
        b.ins().bitcast(ty, lane_order(), value)
    }
}

/// The lanes of `a` and `b` widened (`signed` or not) and multiplied lane
/// by lane, low halves and high halves: the first step of the extending
/// multiplications and of the dot products.
fn widening_products(
    b: &mut FunctionBuilder<'_>,
    x: Value,
    y: Value,
    signed: bool,
) -> (Value, Value) {
    let (xl, yl, xh, yh) = if signed {
        (
            b.ins().swiden_low(x),
            b.ins().swiden_low(y),
            b.ins().swiden_high(x),
            b.ins().swiden_high(y),
        )
    } else {
        (
            b.ins().uwiden_low(x),
            b.ins().uwiden_low(y),
            b.ins().uwiden_high(x),
            b.ins().uwiden_high(y),
        )
    };
    (b.ins().imul(xl, yl), b.ins().imul(xh, yh))
}

/// The signed dot product of `x` and `y` (i8x16) into i16x8: adjacent
/// products added, wrapping.
fn dot_i8x16(b: &mut FunctionBuilder<'_>, x: Value, y: Value) -> Value {
    let (low, high) = widening_products(b, x, y, true);
    b.ins().iadd_pairwise(low, high)
}

/// An all-zero vector of shape `ty`.
fn zeros(b: &mut FunctionBuilder<'_>, ty: Type) -> Value {
    let zero = b.func.dfg.constants.insert(vec![0u8; 16].into());
    b.ins().vconst(ty, zero)
}

impl<'b> FuncTranslator<'_, 'b> {
    /// Pops a `v128` as a vector of shape `ty`.
    fn pop_vec(&mut self, ty: Type) -> Value {
        let v = self.pop();
        reshape(&mut self.builder, v, ty)
    }

    /// Pushes a vector of any shape as a `v128` (`I8X16`).
    fn push_vec(&mut self, v: Value) {
        let v = reshape(&mut self.builder, v, I8X16);
        self.push(v);
    }

    /// A lane-wise operation on one vector of shape `ty`.
    fn vunop(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop_vec(ty);
        let v = f(&mut self.builder, a);
        self.push_vec(v);
    }

    /// A lane-wise operation on two vectors of shape `ty`.
    fn vbinop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value,
    ) {
        let y = self.pop_vec(ty);
        let x = self.pop_vec(ty);
        let v = f(&mut self.builder, x, y);
        self.push_vec(v);
    }

    /// A lane-wise operation on three vectors of shape `ty`.
    fn vternop(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value, Value) -> Value,
    ) {
        let z = self.pop_vec(ty);
        let y = self.pop_vec(ty);
        let x = self.pop_vec(ty);
        let v = f(&mut self.builder, x, y, z);
        self.push_vec(v);
    }

    /// A shift of every lane of a vector of shape `ty` by an i32 amount
    /// (Cranelift takes it modulo the lane width, as Wasm does).
    fn vshift(
        &mut self,
        ty: Type,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value,
    ) {
        let amount = self.pop();
        let x = self.pop_vec(ty);
        let v = f(&mut self.builder, x, amount);
        self.push_vec(v);
    }

    /// A lane-wise integer comparison: all ones where it holds.
    fn vicmp(&mut self, cc: IntCC, ty: Type) {
        self.vbinop(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    /// A lane-wise float comparison: all ones where it holds.
    fn vfcmp(&mut self, cc: FloatCC, ty: Type) {
        self.vbinop(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// A predicate over the whole vector (`any_true`, `all_true`) as i32.
    fn vtest(&mut self, ty: Type, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let x = self.pop_vec(ty);
        let bit = f(&mut self.builder, x);
        let v = self.builder.ins().uextend(types::I32, bit);
        self.push(v);
    }

    /// `extract_lane` of a vector of shape `ty`; narrow lanes are extended
    /// to i32 (`signed` or not).
    fn extract_lane(&mut self, ty: Type, lane: u8, signed: bool) {
        let x = self.pop_vec(ty);
        let mut v = self.builder.ins().extractlane(x, lane);
        if ty.lane_bits() < 32 {
            v = if signed {
                self.builder.ins().sextend(types::I32, v)
            } else {
                self.builder.ins().uextend(types::I32, v)
            };
        }
        self.push(v);
    }

    /// `replace_lane` of a vector of shape `ty`; an i32 operand is
    /// truncated to a narrow lane.
    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let mut scalar = self.pop();
        let x = self.pop_vec(ty);
        if ty.lane_bits() < 32 {
            scalar = self.builder.ins().ireduce(ty.lane_type(), scalar);
        }
        let v = self.builder.ins().insertlane(x, scalar, lane);
        self.push_vec(v);
    }

    /// `splat`: a scalar into every lane of shape `ty`.
    fn splat(&mut self, ty: Type) {
        let mut scalar = self.pop();
        if ty.lane_bits() < 32 {
            scalar = self.builder.ins().ireduce(ty.lane_type(), scalar);
        }
        let v = self.builder.ins().splat(ty, scalar);
        self.push_vec(v);
    }

    /// `v128.load`.
    fn v128_load(&mut self, memarg: &MemArg) {
        let (addr, off) = self.mem_addr(memarg);
        let v = self.builder.ins().load(I8X16, heap_flags(), addr, off);
        self.push(v);
    }

    /// `v128.loadMxN_s/u`: eight bytes, each lane extended to twice its
    /// width.
    fn load_extend(
        &mut self,
        memarg: &MemArg,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, i32) -> Value,
    ) {
        let (addr, off) = self.mem_addr(memarg);
        let v = f(&mut self.builder, addr, off);
        self.push_vec(v);
    }

    /// `v128.loadN_splat` and `v128.loadN_zero` into shape `ty`.
    fn load_lane_sized(&mut self, memarg: &MemArg, ty: Type, how: LaneLoad) {
        let (addr, off) = self.mem_addr(memarg);
        let scalar = self
            .builder
            .ins()
            .load(ty.lane_type(), heap_flags(), addr, off);
        let v = match how {
            LaneLoad::Splat => self.builder.ins().splat(ty, scalar),
            LaneLoad::Zero => self.builder.ins().scalar_to_vector(ty, scalar),
        };
        self.push_vec(v);
    }

    /// `v128.loadN_lane`: one lane of shape `ty` replaced from memory.
    fn load_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let x = self.pop_vec(ty);
        let (addr, off) = self.mem_addr(memarg);
        let scalar = self
            .builder
            .ins()
            .load(ty.lane_type(), heap_flags(), addr, off);
        let v = self.builder.ins().insertlane(x, scalar, lane);
        self.push_vec(v);
    }

    /// `v128.storeN_lane`: one lane of shape `ty` stored to memory.
    fn store_lane(&mut self, memarg: &MemArg, ty: Type, lane: u8) {
        let x = self.pop_vec(ty);
        let (addr, off) = self.mem_addr(memarg);
        let scalar = self.builder.ins().extractlane(x, lane);
        self.builder.ins().store(heap_flags(), scalar, addr, off);
    }

    /// `pmin` and `pmax` exactly as the spec defines them,
    /// `pmin(x, y) = y < x ? y : x` and `pmax(x, y) = x < y ? y : x`, lane
    /// by lane: a NaN or a zero of either sign keeps `x`.
    fn pseudo_min_max(&mut self, ty: Type, max: bool) {
        self.vbinop(ty, |b, x, y| {
            let take_y = if max {
                b.ins().fcmp(FloatCC::LessThan, x, y)
            } else {
                b.ins().fcmp(FloatCC::LessThan, y, x)
            };
            let mask = reshape(b, take_y, ty);
            b.ins().bitselect(mask, y, x)
        });
    }

    /// Translates one SIMD or relaxed SIMD instruction; any other operator
    /// the translator does not know is reported as unsupported.
    pub(super) fn simd_operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        use Operator as O;
        match op.clone() {
            // ----- memory -----
            O::V128Load { memarg } => self.v128_load(&memarg),
            O::V128Store { memarg } => self.store(&memarg, None),
            O::V128Load8x8S { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().sload8x8(heap_flags(), a, o))
            }
            O::V128Load8x8U { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().uload8x8(heap_flags(), a, o))
            }
            O::V128Load16x4S { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().sload16x4(heap_flags(), a, o))
            }
            O::V128Load16x4U { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().uload16x4(heap_flags(), a, o))
            }
            O::V128Load32x2S { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().sload32x2(heap_flags(), a, o))
            }
            O::V128Load32x2U { memarg } => {
                self.load_extend(&memarg, |b, a, o| b.ins().uload32x2(heap_flags(), a, o))
            }
            O::V128Load8Splat { memarg } => self.load_lane_sized(&memarg, I8X16, LaneLoad::Splat),
            O::V128Load16Splat { memarg } => self.load_lane_sized(&memarg, I16X8, LaneLoad::Splat),
            O::V128Load32Splat { memarg } => self.load_lane_sized(&memarg, I32X4, LaneLoad::Splat),
            O::V128Load64Splat { memarg } => self.load_lane_sized(&memarg, I64X2, LaneLoad::Splat),
            O::V128Load32Zero { memarg } => self.load_lane_sized(&memarg, I32X4, LaneLoad::Zero),
            O::V128Load64Zero { memarg } => self.load_lane_sized(&memarg, I64X2, LaneLoad::Zero),
            O::V128Load8Lane { memarg, lane } => self.load_lane(&memarg, I8X16, lane),
            O::V128Load16Lane { memarg, lane } => self.load_lane(&memarg, I16X8, lane),
            O::V128Load32Lane { memarg, lane } => self.load_lane(&memarg, I32X4, lane),
            O::V128Load64Lane { memarg, lane } => self.load_lane(&memarg, I64X2, lane),
            O::V128Store8Lane { memarg, lane } => self.store_lane(&memarg, I8X16, lane),
            O::V128Store16Lane { memarg, lane } => self.store_lane(&memarg, I16X8, lane),
            O::V128Store32Lane { memarg, lane } => self.store_lane(&memarg, I32X4, lane),
            O::V128Store64Lane { memarg, lane } => self.store_lane(&memarg, I64X2, lane),

            // ----- constants, lanes, shuffles -----
            O::V128Const { value } => {
                let bytes = self
                    .builder
                    .func
                    .dfg
                    .constants
                    .insert(value.bytes().to_vec().into());
                let v = self.builder.ins().vconst(I8X16, bytes);
                self.push(v);
            }
            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, true),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, false),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, true),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, false),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, false),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, false),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, false),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, false),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),
            O::I8x16Shuffle { lanes } => {
                let mask = self.builder.func.dfg.immediates.push(lanes.to_vec().into());
                self.vbinop(I8X16, |b, x, y| b.ins().shuffle(x, y, mask));
            }
            // Cranelift's `swizzle` has Wasm's semantics: an index out of
            // range gives 0. `relaxed_swizzle` is the same.
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.vbinop(I8X16, |b, x, y| b.ins().swizzle(x, y))
            }

            // ----- bitwise -----
            O::V128Not => self.vunop(I8X16, |b, x| b.ins().bnot(x)),
            O::V128And => self.vbinop(I8X16, |b, x, y| b.ins().band(x, y)),
            O::V128AndNot => self.vbinop(I8X16, |b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.vbinop(I8X16, |b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.vbinop(I8X16, |b, x, y| b.ins().bxor(x, y)),
            // `bitselect(v1, v2, c)`: bits of v1 where c is set, else v2;
            // `relaxed_laneselect` is the same (its lane masks are a case).
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                self.vternop(I8X16, |b, x, y, c| b.ins().bitselect(c, x, y))
            }
            O::V128AnyTrue => self.vtest(I8X16, |b, x| b.ins().vany_true(x)),
            O::I8x16AllTrue => self.vtest(I8X16, |b, x| b.ins().vall_true(x)),
            O::I16x8AllTrue => self.vtest(I16X8, |b, x| b.ins().vall_true(x)),
            O::I32x4AllTrue => self.vtest(I32X4, |b, x| b.ins().vall_true(x)),
            O::I64x2AllTrue => self.vtest(I64X2, |b, x| b.ins().vall_true(x)),
            O::I8x16Bitmask | O::I16x8Bitmask | O::I32x4Bitmask | O::I64x2Bitmask => {
                let ty = match op {
                    O::I8x16Bitmask => I8X16,
                    O::I16x8Bitmask => I16X8,
                    O::I32x4Bitmask => I32X4,
                    _ => I64X2,
                };
                let x = self.pop_vec(ty);
                let v = self.builder.ins().vhigh_bits(types::I32, x);
                self.push(v);
            }

            // ----- integer comparison -----
            O::I8x16Eq => self.vicmp(IntCC::Equal, I8X16),
            O::I8x16Ne => self.vicmp(IntCC::NotEqual, I8X16),
            O::I8x16LtS => self.vicmp(IntCC::SignedLessThan, I8X16),
            O::I8x16LtU => self.vicmp(IntCC::UnsignedLessThan, I8X16),
            O::I8x16GtS => self.vicmp(IntCC::SignedGreaterThan, I8X16),
            O::I8x16GtU => self.vicmp(IntCC::UnsignedGreaterThan, I8X16),
            O::I8x16LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I8X16),
            O::I8x16LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I8X16),
            O::I8x16GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I8X16),
            O::I8x16GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I8X16),
            O::I16x8Eq => self.vicmp(IntCC::Equal, I16X8),
            O::I16x8Ne => self.vicmp(IntCC::NotEqual, I16X8),
            O::I16x8LtS => self.vicmp(IntCC::SignedLessThan, I16X8),
            O::I16x8LtU => self.vicmp(IntCC::UnsignedLessThan, I16X8),
            O::I16x8GtS => self.vicmp(IntCC::SignedGreaterThan, I16X8),
            O::I16x8GtU => self.vicmp(IntCC::UnsignedGreaterThan, I16X8),
            O::I16x8LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I16X8),
            O::I16x8LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I16X8),
            O::I16x8GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I16X8),
            O::I16x8GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I16X8),
            O::I32x4Eq => self.vicmp(IntCC::Equal, I32X4),
            O::I32x4Ne => self.vicmp(IntCC::NotEqual, I32X4),
            O::I32x4LtS => self.vicmp(IntCC::SignedLessThan, I32X4),
            O::I32x4LtU => self.vicmp(IntCC::UnsignedLessThan, I32X4),
            O::I32x4GtS => self.vicmp(IntCC::SignedGreaterThan, I32X4),
            O::I32x4GtU => self.vicmp(IntCC::UnsignedGreaterThan, I32X4),
            O::I32x4LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I32X4),
            O::I32x4LeU => self.vicmp(IntCC::UnsignedLessThanOrEqual, I32X4),
            O::I32x4GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I32X4),
            O::I32x4GeU => self.vicmp(IntCC::UnsignedGreaterThanOrEqual, I32X4),
            O::I64x2Eq => self.vicmp(IntCC::Equal, I64X2),
            O::I64x2Ne => self.vicmp(IntCC::NotEqual, I64X2),
            O::I64x2LtS => self.vicmp(IntCC::SignedLessThan, I64X2),
            O::I64x2GtS => self.vicmp(IntCC::SignedGreaterThan, I64X2),
            O::I64x2LeS => self.vicmp(IntCC::SignedLessThanOrEqual, I64X2),
            O::I64x2GeS => self.vicmp(IntCC::SignedGreaterThanOrEqual, I64X2),

            // ----- float comparison -----
            O::F32x4Eq => self.vfcmp(FloatCC::Equal, F32X4),
            O::F32x4Ne => self.vfcmp(FloatCC::NotEqual, F32X4),
            O::F32x4Lt => self.vfcmp(FloatCC::LessThan, F32X4),
            O::F32x4Gt => self.vfcmp(FloatCC::GreaterThan, F32X4),
            O::F32x4Le => self.vfcmp(FloatCC::LessThanOrEqual, F32X4),
            O::F32x4Ge => self.vfcmp(FloatCC::GreaterThanOrEqual, F32X4),
            O::F64x2Eq => self.vfcmp(FloatCC::Equal, F64X2),
            O::F64x2Ne => self.vfcmp(FloatCC::NotEqual, F64X2),
            O::F64x2Lt => self.vfcmp(FloatCC::LessThan, F64X2),
            O::F64x2Gt => self.vfcmp(FloatCC::GreaterThan, F64X2),
            O::F64x2Le => self.vfcmp(FloatCC::LessThanOrEqual, F64X2),
            O::F64x2Ge => self.vfcmp(FloatCC::GreaterThanOrEqual, F64X2),

            // ----- integer arithmetic -----
            O::I8x16Abs => self.vunop(I8X16, |b, x| b.ins().iabs(x)),
            O::I16x8Abs => self.vunop(I16X8, |b, x| b.ins().iabs(x)),
            O::I32x4Abs => self.vunop(I32X4, |b, x| b.ins().iabs(x)),
            O::I64x2Abs => self.vunop(I64X2, |b, x| b.ins().iabs(x)),
            O::I8x16Neg => self.vunop(I8X16, |b, x| b.ins().ineg(x)),
            O::I16x8Neg => self.vunop(I16X8, |b, x| b.ins().ineg(x)),
            O::I32x4Neg => self.vunop(I32X4, |b, x| b.ins().ineg(x)),
            O::I64x2Neg => self.vunop(I64X2, |b, x| b.ins().ineg(x)),
            O::I8x16Popcnt => self.vunop(I8X16, |b, x| b.ins().popcnt(x)),
            O::I8x16Add => self.vbinop(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8Add => self.vbinop(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Add => self.vbinop(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Add => self.vbinop(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16Sub => self.vbinop(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Sub => self.vbinop(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Sub => self.vbinop(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Sub => self.vbinop(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Mul => self.vbinop(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I32x4Mul => self.vbinop(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I64x2Mul => self.vbinop(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I8x16AddSatS => self.vbinop(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.vbinop(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8AddSatS => self.vbinop(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.vbinop(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16SubSatS => self.vbinop(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.vbinop(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8SubSatS => self.vbinop(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.vbinop(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.vbinop(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.vbinop(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.vbinop(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.vbinop(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I16x8MinS => self.vbinop(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.vbinop(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.vbinop(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.vbinop(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I32x4MinS => self.vbinop(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.vbinop(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.vbinop(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.vbinop(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.vbinop(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8AvgrU => self.vbinop(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            // `relaxed_q15mulr` rounds and saturates like `q15mulr_sat`.
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.vbinop(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }

            // ----- shifts -----
            O::I8x16Shl => self.vshift(I8X16, |b, x, n| b.ins().ishl(x, n)),
            O::I16x8Shl => self.vshift(I16X8, |b, x, n| b.ins().ishl(x, n)),
            O::I32x4Shl => self.vshift(I32X4, |b, x, n| b.ins().ishl(x, n)),
            O::I64x2Shl => self.vshift(I64X2, |b, x, n| b.ins().ishl(x, n)),
            O::I8x16ShrS => self.vshift(I8X16, |b, x, n| b.ins().sshr(x, n)),
            O::I16x8ShrS => self.vshift(I16X8, |b, x, n| b.ins().sshr(x, n)),
            O::I32x4ShrS => self.vshift(I32X4, |b, x, n| b.ins().sshr(x, n)),
            O::I64x2ShrS => self.vshift(I64X2, |b, x, n| b.ins().sshr(x, n)),
            O::I8x16ShrU => self.vshift(I8X16, |b, x, n| b.ins().ushr(x, n)),
            O::I16x8ShrU => self.vshift(I16X8, |b, x, n| b.ins().ushr(x, n)),
            O::I32x4ShrU => self.vshift(I32X4, |b, x, n| b.ins().ushr(x, n)),
            O::I64x2ShrU => self.vshift(I64X2, |b, x, n| b.ins().ushr(x, n)),

            // ----- narrowing, widening, extended arithmetic -----
            O::I8x16NarrowI16x8S => self.vbinop(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.vbinop(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8NarrowI32x4S => self.vbinop(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.vbinop(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.vunop(I8X16, |b, x| b.ins().swiden_low(x)),
            O::I16x8ExtendHighI8x16S => self.vunop(I8X16, |b, x| b.ins().swiden_high(x)),
            O::I16x8ExtendLowI8x16U => self.vunop(I8X16, |b, x| b.ins().uwiden_low(x)),
            O::I16x8ExtendHighI8x16U => self.vunop(I8X16, |b, x| b.ins().uwiden_high(x)),
            O::I32x4ExtendLowI16x8S => self.vunop(I16X8, |b, x| b.ins().swiden_low(x)),
            O::I32x4ExtendHighI16x8S => self.vunop(I16X8, |b, x| b.ins().swiden_high(x)),
            O::I32x4ExtendLowI16x8U => self.vunop(I16X8, |b, x| b.ins().uwiden_low(x)),
            O::I32x4ExtendHighI16x8U => self.vunop(I16X8, |b, x| b.ins().uwiden_high(x)),
            O::I64x2ExtendLowI32x4S => self.vunop(I32X4, |b, x| b.ins().swiden_low(x)),
            O::I64x2ExtendHighI32x4S => self.vunop(I32X4, |b, x| b.ins().swiden_high(x)),
            O::I64x2ExtendLowI32x4U => self.vunop(I32X4, |b, x| b.ins().uwiden_low(x)),
            O::I64x2ExtendHighI32x4U => self.vunop(I32X4, |b, x| b.ins().uwiden_high(x)),
            O::I16x8ExtAddPairwiseI8x16S
            | O::I16x8ExtAddPairwiseI8x16U
            | O::I32x4ExtAddPairwiseI16x8S
            | O::I32x4ExtAddPairwiseI16x8U => {
                let (ty, signed) = match op {
                    O::I16x8ExtAddPairwiseI8x16S => (I8X16, true),
                    O::I16x8ExtAddPairwiseI8x16U => (I8X16, false),
                    O::I32x4ExtAddPairwiseI16x8S => (I16X8, true),
                    _ => (I16X8, false),
                };
                self.vunop(ty, |b, x| {
                    let (low, high) = if signed {
                        (b.ins().swiden_low(x), b.ins().swiden_high(x))
                    } else {
                        (b.ins().uwiden_low(x), b.ins().uwiden_high(x))
                    };
                    b.ins().iadd_pairwise(low, high)
                });
            }
            O::I16x8ExtMulLowI8x16S
            | O::I16x8ExtMulHighI8x16S
            | O::I16x8ExtMulLowI8x16U
            | O::I16x8ExtMulHighI8x16U
            | O::I32x4ExtMulLowI16x8S
            | O::I32x4ExtMulHighI16x8S
            | O::I32x4ExtMulLowI16x8U
            | O::I32x4ExtMulHighI16x8U
            | O::I64x2ExtMulLowI32x4S
            | O::I64x2ExtMulHighI32x4S
            | O::I64x2ExtMulLowI32x4U
            | O::I64x2ExtMulHighI32x4U => {
                let (ty, signed, high) = match op {
                    O::I16x8ExtMulLowI8x16S => (I8X16, true, false),
                    O::I16x8ExtMulHighI8x16S => (I8X16, true, true),
                    O::I16x8ExtMulLowI8x16U => (I8X16, false, false),
                    O::I16x8ExtMulHighI8x16U => (I8X16, false, true),
                    O::I32x4ExtMulLowI16x8S => (I16X8, true, false),
                    O::I32x4ExtMulHighI16x8S => (I16X8, true, true),
                    O::I32x4ExtMulLowI16x8U => (I16X8, false, false),
                    O::I32x4ExtMulHighI16x8U => (I16X8, false, true),
                    O::I64x2ExtMulLowI32x4S => (I32X4, true, false),
                    O::I64x2ExtMulHighI32x4S => (I32X4, true, true),
                    O::I64x2ExtMulLowI32x4U => (I32X4, false, false),
                    _ => (I32X4, false, true),
                };
                self.vbinop(ty, |b, x, y| {
                    let (x, y) = match (signed, high) {
                        (true, false) => (b.ins().swiden_low(x), b.ins().swiden_low(y)),
                        (true, true) => (b.ins().swiden_high(x), b.ins().swiden_high(y)),
                        (false, false) => (b.ins().uwiden_low(x), b.ins().uwiden_low(y)),
                        (false, true) => (b.ins().uwiden_high(x), b.ins().uwiden_high(y)),
                    };
                    b.ins().imul(x, y)
                });
            }
            O::I32x4DotI16x8S => self.vbinop(I16X8, |b, x, y| {
                let (low, high) = widening_products(b, x, y, true);
                b.ins().iadd_pairwise(low, high)
            }),
            // Both operands signed, adjacent products added with wrapping.
            O::I16x8RelaxedDotI8x16I7x16S => self.vbinop(I8X16, dot_i8x16),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.pop_vec(I32X4);
                let y = self.pop_vec(I8X16);
                let x = self.pop_vec(I8X16);
                let b = &mut self.builder;
                // The exact sum of the four products under each i32 lane.
                let (low, high) = widening_products(b, x, y, true);
                let (ll, lh) = (b.ins().swiden_low(low), b.ins().swiden_high(low));
                let (hl, hh) = (b.ins().swiden_low(high), b.ins().swiden_high(high));
                let low = b.ins().iadd_pairwise(ll, lh);
                let high = b.ins().iadd_pairwise(hl, hh);
                let dot = b.ins().iadd_pairwise(low, high);
                let v = b.ins().iadd(dot, acc);
                self.push_vec(v);
            }

            // ----- float arithmetic -----
            O::F32x4Abs => self.vunop(F32X4, |b, x| b.ins().fabs(x)),
            O::F64x2Abs => self.vunop(F64X2, |b, x| b.ins().fabs(x)),
            O::F32x4Neg => self.vunop(F32X4, |b, x| b.ins().fneg(x)),
            O::F64x2Neg => self.vunop(F64X2, |b, x| b.ins().fneg(x)),
            O::F32x4Sqrt => self.vunop(F32X4, |b, x| b.ins().sqrt(x)),
            O::F64x2Sqrt => self.vunop(F64X2, |b, x| b.ins().sqrt(x)),
            O::F32x4Ceil => self.vunop(F32X4, |b, x| b.ins().ceil(x)),
            O::F64x2Ceil => self.vunop(F64X2, |b, x| b.ins().ceil(x)),
            O::F32x4Floor => self.vunop(F32X4, |b, x| b.ins().floor(x)),
            O::F64x2Floor => self.vunop(F64X2, |b, x| b.ins().floor(x)),
            O::F32x4Trunc => self.vunop(F32X4, |b, x| b.ins().trunc(x)),
            O::F64x2Trunc => self.vunop(F64X2, |b, x| b.ins().trunc(x)),
            O::F32x4Nearest => self.vunop(F32X4, |b, x| b.ins().nearest(x)),
            O::F64x2Nearest => self.vunop(F64X2, |b, x| b.ins().nearest(x)),
            O::F32x4Add => self.vbinop(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Add => self.vbinop(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.vbinop(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Sub => self.vbinop(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.vbinop(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Mul => self.vbinop(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.vbinop(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Div => self.vbinop(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            // Cranelift's `fmin`/`fmax` have Wasm's NaN and signed-zero
            // rules; the relaxed forms give the same.
            O::F32x4Min | O::F32x4RelaxedMin => self.vbinop(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2Min | O::F64x2RelaxedMin => self.vbinop(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4Max | O::F32x4RelaxedMax => self.vbinop(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2Max | O::F64x2RelaxedMax => self.vbinop(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::F32x4PMin => self.pseudo_min_max(F32X4, false),
            O::F64x2PMin => self.pseudo_min_max(F64X2, false),
            O::F32x4PMax => self.pseudo_min_max(F32X4, true),
            O::F64x2PMax => self.pseudo_min_max(F64X2, true),
            // Fused: one rounding.
            O::F32x4RelaxedMadd => self.vternop(F32X4, |b, x, y, z| b.ins().fma(x, y, z)),
            O::F64x2RelaxedMadd => self.vternop(F64X2, |b, x, y, z| b.ins().fma(x, y, z)),
            O::F32x4RelaxedNmadd | O::F64x2RelaxedNmadd => {
                let ty = if matches!(op, O::F32x4RelaxedNmadd) {
                    F32X4
                } else {
                    F64X2
                };
                self.vternop(ty, |b, x, y, z| {
                    let minus_x = b.ins().fneg(x);
                    b.ins().fma(minus_x, y, z)
                });
            }

            // ----- conversions -----
            O::F32x4ConvertI32x4S => self.vunop(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            O::F32x4ConvertI32x4U => self.vunop(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            O::F64x2ConvertLowI32x4S => self.vunop(I32X4, |b, x| {
                let wide = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, wide)
            }),
            O::F64x2ConvertLowI32x4U => self.vunop(I32X4, |b, x| {
                let wide = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, wide)
            }),
            O::F32x4DemoteF64x2Zero => self.vunop(F64X2, |b, x| b.ins().fvdemote(x)),
            O::F64x2PromoteLowF32x4 => self.vunop(F32X4, |b, x| b.ins().fvpromote_low(x)),
            // The relaxed truncations saturate like their non-relaxed twins.
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vunop(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vunop(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.vunop(F64X2, |b, x| {
                    let wide = b.ins().fcvt_to_sint_sat(I64X2, x);
                    let zero = zeros(b, I64X2);
                    b.ins().snarrow(wide, zero)
                })
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.vunop(F64X2, |b, x| {
                    let wide = b.ins().fcvt_to_uint_sat(I64X2, x);
                    let zero = zeros(b, I64X2);
                    b.ins().uunarrow(wide, zero)
                })
            }

            _ => return Err(unsupported(&format!("the {} instruction", op_name(&op)))),
        }
        // The code just built would need library calls on this CPU: the
        // function is not compiled.
        if !self.env.missing_simd_features.is_empty() {
            let missing: Vec<&str> = self
                .env
                .missing_simd_features
                .iter()
                .map(|f| f.trim_start_matches("has_"))
                .collect();
            return Err(unsupported(&format!(
                "the {} instruction on this CPU (SIMD needs {})",
                op_name(&op),
                missing.join(", ")
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranelift_codegen::settings::{self, Configurable};

    fn x86_64_isa(features: &[&str]) -> cranelift_codegen::isa::OwnedTargetIsa {
        let mut isa = cranelift_codegen::isa::lookup_by_name("x86_64").expect("x86_64 backend");
        for f in features {
            isa.enable(f).expect("a known x86_64 setting");
        }
        isa.finish(settings::Flags::new(settings::builder()))
            .expect("isa")
    }

    #[test]
    fn simd_needs_sse41_ssse3_and_fma() {
        let baseline = x86_64_isa(&[]);
        assert_eq!(
            missing_host_features(&*baseline),
            ["has_sse41", "has_ssse3", "has_fma"]
        );
        let partial = x86_64_isa(&["has_sse41", "has_ssse3"]);
        assert_eq!(missing_host_features(&*partial), ["has_fma"]);
        let full = x86_64_isa(&["has_sse41", "has_ssse3", "has_fma"]);
        assert!(missing_host_features(&*full).is_empty());
    }
}
