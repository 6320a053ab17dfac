//! What both switching modes share: a `resume`'s handler table, the
//! choice among its clauses when a continuation suspends to it, and what
//! comes back from a switch (a return, a suspension, an exception).

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, InstBuilder, Value, types};

use crate::compile::translate::FuncTranslator;
use crate::error::TrapCode;
use crate::types::{ValType, word_offsets};
use crate::vm::stack_switching::continuation::payload as cpayload;

/// The handler table of a resume without clauses: no entry, but a first
/// word that handler search reads without checking the length first (0,
/// which matches no tag).
static NO_HANDLERS: u64 = 0;

impl FuncTranslator<'_, '_> {
    /// After a resume's switch back: splits on the payload word's kind,
    /// a suspension tested first (the common case, one compare). The
    /// builder continues in the block for suspensions; the returned block
    /// (for a return) is given back; a continuation that died of an
    /// exception rethrows it here, in this frame's handler scope, the
    /// exception read by `exn` in a cold block.
    pub(in crate::compile) fn split_on_return(
        &mut self,
        word: Value,
        exn: impl FnOnce(&mut Self) -> Value,
    ) -> ir::Block {
        let kind = self
            .builder
            .ins()
            .band_imm_u(word, cpayload::KIND_MASK as i64);
        let not_suspension =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::NotEqual, kind, cpayload::SUSPENDED as i64);
        let suspended = self.builder.create_block();
        let other = self.builder.create_block();
        // Cranelift places a branch's second target right after it: the
        // suspension path then continues the resume's code without a jump,
        // and in one line-table row with it, so that a debugger stepping
        // out of a suspension does not stop at the resume's line again.
        self.builder
            .ins()
            .brif(not_suspension, other, &[], suspended, &[]);
        self.builder.switch_to_block(other);
        let is_return =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::Equal, kind, cpayload::RETURNED as i64);
        let returned = self.builder.create_block();
        let rethrow = self.builder.create_block();
        self.builder.set_cold_block(rethrow);
        self.builder
            .ins()
            .brif(is_return, returned, &[], rethrow, &[]);
        self.builder.switch_to_block(rethrow);
        let exn = exn(self);
        self.raise_on_side_path(exn);
        self.builder.switch_to_block(suspended);
        returned
    }

    /// After a suspension to one of this resume's `clauses`: branches to the
    /// chosen clause's label with the tag's values (`value(t, at, type)`
    /// loads the one at payload word `at`) and the new continuation
    /// `contref`. With several clauses, `clause` is the index chosen.
    pub(in crate::compile) fn branch_to_clause(
        &mut self,
        clauses: &[(u32, Option<u32>)],
        clause: Option<Value>,
        contref: Value,
        value: impl Fn(&mut Self, usize, &ValType) -> Value,
    ) {
        let blocks: Vec<ir::Block> = clauses
            .iter()
            .map(|_| self.builder.create_block())
            .collect();
        if let Some(clause) = clause.filter(|_| blocks.len() > 1) {
            let dfg = &mut self.builder.func.dfg;
            let calls: Vec<_> = blocks.iter().map(|b| dfg.block_call(*b, &[])).collect();
            let jt = self
                .builder
                .create_jump_table(ir::JumpTableData::new(calls[0], &calls));
            let clause32 = self.builder.ins().ireduce(types::I32, clause);
            self.builder.ins().br_table(clause32, jt);
        } else {
            self.builder.ins().jump(blocks[0], &[]);
        }
        for (&(tag, label), block) in clauses.iter().zip(blocks) {
            self.builder.switch_to_block(block);
            let Some(label) = label else {
                // Only `switch` uses this clause, and it never comes here.
                self.trap(TrapCode::UnhandledTag);
                continue;
            };
            let params = self.tag_params(tag);
            let (at, _) = word_offsets(&params);
            let mut vals: Vec<Value> = params
                .iter()
                .zip(at)
                .map(|(p, at)| value(self, at, p))
                .collect();
            vals.push(contref);
            let (dest, _) = self.br_target(label);
            self.jump(dest, &vals);
        }
    }

    /// The handler table of the resume being translated: a slot of this
    /// frame that `fill_handler_tables` filled in the entry block.
    pub(in crate::compile) fn handler_table(&mut self, clauses: &[(u32, Option<u32>)]) -> Value {
        if clauses.is_empty() {
            return self.host_address(&raw const NO_HANDLERS as usize);
        }
        let slot = self.resume_tables[&self.op_offset];
        self.builder.ins().stack_addr(types::I64, slot, 0)
    }

    /// In the entry block: a stack slot per resume with clauses, holding
    /// its tags' identities (a `switch` clause's marked by the low bit).
    /// They are the same at every execution of the resume, so a resume in
    /// a loop stores only the table's address, not the tags again. In a
    /// function that suspends, also the running record (`native.rs`).
    pub(in crate::compile) fn fill_handler_tables(
        &mut self,
        body: &wasmparser::FunctionBody<'_>,
    ) -> Result<(), crate::error::Error> {
        if self.env.info.tags.is_empty() {
            return Ok(());
        }
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            let table = match reader.read()? {
                wasmparser::Operator::Resume { resume_table, .. }
                | wasmparser::Operator::ResumeThrow { resume_table, .. }
                | wasmparser::Operator::ResumeThrowRef { resume_table, .. } => resume_table,
                wasmparser::Operator::Suspend { .. } => {
                    self.define_running_record();
                    continue;
                }
                _ => continue,
            };
            let clauses = super::clauses_of(&table);
            if clauses.is_empty() {
                continue;
            }
            let slot = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
                ir::StackSlotKind::ExplicitSlot,
                8 * clauses.len() as u32,
                3,
            ));
            for (i, (tag, label)) in clauses.iter().enumerate() {
                let mut tag = self.tag_ptr(*tag);
                if label.is_none() {
                    tag = self.builder.ins().bor_imm_u(tag, 1);
                }
                self.builder
                    .ins()
                    .stack_store(types::I64, tag, slot, 8 * i as i32);
            }
            self.resume_tables.insert(offset, slot);
        }
        Ok(())
    }

    /// For `switch` with continuation type `cont_type_index`: how many
    /// values it sends (the type's parameters but the last, the switcher's
    /// own continuation) and the types it receives back when switched to
    /// again (the parameters of that continuation's type).
    pub(in crate::compile) fn switch_signature(
        &self,
        cont_type_index: u32,
    ) -> (usize, Vec<ValType>) {
        let ft = self.env.func_type(cont_type_index);
        let (last, sent) = ft.params().split_last().expect("validated switch type");
        let received = match last {
            ValType::Ref(r) => match r.heap {
                crate::types::HeapType::ConcreteCont(id) => {
                    self.env.func_type_by_id(id).params().to_vec()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        (sent.len(), received)
    }
}
