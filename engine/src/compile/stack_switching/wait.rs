//! What a record says about waiting: when its continuation last switched
//! (the registry's coarse clock, copied with one load and one store) and
//! which `resume` caught its last suspension. Each switch path of
//! `native.rs` calls one of these once.

use cranelift_codegen::ir::{InstBuilder, Value, types};

use crate::compile::translate::{FuncTranslator, trusted};
use crate::vm::stack_switching::continuation::offsets as rec;

impl FuncTranslator<'_, '_> {
    /// `record.last_switch = clock`.
    pub(super) fn stamp_switch(&mut self, record: Value) {
        let t = trusted();
        let clock = self.host_address(crate::vm::registry::clock_address());
        let now = self.builder.ins().load(types::I64, t, clock, 0);
        self.builder.ins().store(t, now, record, rec::LAST_SWITCH);
    }

    /// `record` suspends (or switches away) to the resume that runs
    /// `handler`: stamps the clock and keeps that resume's site and stack,
    /// read from `handler`'s parent context before the switch clears it.
    pub(super) fn note_caught(&mut self, record: Value, handler: Value) {
        let t = trusted();
        let site = self
            .builder
            .ins()
            .load(types::I64, t, handler, rec::PARENT + rec::CTX_PC);
        let resumer = self
            .builder
            .ins()
            .load(types::I64, t, handler, rec::PARENT_RECORD);
        self.note_caught_at(record, site, resumer);
    }

    /// As `note_caught`, with the handler's resume site and resumer
    /// already loaded (`switch` moves them to the target's chain too).
    pub(super) fn note_caught_at(&mut self, record: Value, site: Value, resumer: Value) {
        let t = trusted();
        self.stamp_switch(record);
        self.builder.ins().store(t, site, record, rec::CAUGHT_PC);
        self.builder.ins().store(t, resumer, record, rec::CAUGHT_BY);
    }
}
