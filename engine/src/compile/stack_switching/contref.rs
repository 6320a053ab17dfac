//! Continuation references: making and consuming them (`cont.new`,
//! `cont.bind`, and the one-shot check every `resume` and `switch` does).
//!
//! A reference packs the record's address with the record's generation
//! (`vm::stack_switching::record::contref`); consuming bumps the
//! generation, so a second use of the same reference traps.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};

use crate::compile::env::clif_trap;
use crate::compile::translate::{FuncTranslator, trusted};
use crate::error::TrapCode;

impl FuncTranslator<'_, '_> {
    /// Consumes a continuation reference: traps on null and on a reference
    /// already used, then bumps the record's generation. Returns the record.
    pub(in crate::compile) fn take_continuation(&mut self, contref: Value) -> Value {
        use crate::vm::stack_switching::continuation::{contref as cref, offsets as rec};
        self.builder
            .ins()
            .trapz(contref, clif_trap(TrapCode::NullContinuation));
        // (contref & ADDRESS_MASK) << 6, by two shifts: the mask is too wide
        // for an immediate and would be a load from the constant pool.
        let gen_bits = 64 - cref::ADDRESS_BITS as i64;
        let address = self.builder.ins().ishl_imm_u(contref, gen_bits);
        let record = self.builder.ins().ushr_imm_u(address, gen_bits - 6);
        let generation = self
            .builder
            .ins()
            .ushr_imm_u(contref, cref::ADDRESS_BITS as i64);
        let current = self
            .builder
            .ins()
            .load(types::I64, trusted(), record, rec::GENERATION);
        let masked = self
            .builder
            .ins()
            .band_imm_u(current, cref::GENERATION_MASK as i64);
        let stale = self.builder.ins().icmp(IntCC::NotEqual, masked, generation);
        self.builder
            .ins()
            .trapnz(stale, clif_trap(TrapCode::ContinuationAlreadyConsumed));
        let next = self.builder.ins().iadd_imm_s(current, 1);
        self.builder
            .ins()
            .store(trusted(), next, record, rec::GENERATION);
        record
    }

    /// A reference to `record` at its current generation.
    pub(in crate::compile) fn make_contref(&mut self, record: Value) -> Value {
        use crate::vm::stack_switching::continuation::{contref as cref, offsets as rec};
        let generation = self
            .builder
            .ins()
            .load(types::I64, trusted(), record, rec::GENERATION);
        // The shift drops the bits above the generation's width, which a
        // mask would drop.
        let high = self
            .builder
            .ins()
            .ishl_imm_u(generation, cref::ADDRESS_BITS as i64);
        let low = self.builder.ins().ushr_imm_u(record, 6);
        self.builder.ins().bor(high, low)
    }

    /// `cont.bind`: consumes the continuation and returns a new reference to
    /// it with its first arguments stored in the record.
    pub(in crate::compile) fn cont_bind(&mut self, from: u32, to: u32) {
        use crate::vm::stack_switching::continuation::offsets as rec;
        let n = self.env.func_type(from).params().len() - self.env.func_type(to).params().len();
        let contref = self.pop();
        let record = self.take_continuation(contref);
        let vals = self.popn(n);
        let t = trusted();
        // `bound` counts payload words (a v128 takes two).
        let bound = self.builder.ins().load(types::I64, t, record, rec::BOUND);
        let bound_bytes = self.builder.ins().ishl_imm_u(bound, 3);
        let base = self.builder.ins().iadd(record, bound_bytes);
        self.store_words(&vals, base, rec::ARGS);
        let words = self.value_words(&vals);
        let bound = self.builder.ins().iadd_imm_s(bound, words as i64);
        self.builder.ins().store(t, bound, record, rec::BOUND);
        let new_ref = self.make_contref(record);
        self.push(new_ref);
    }
}
