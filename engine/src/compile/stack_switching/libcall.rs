//! Libcall switching: `resume`, `suspend` and `switch` as calls into the
//! host routines of `vm::stack_switching::libcall`, which do the switch.
//! Values travel through a buffer in the caller's frame. This mode exists
//! to measure what native switching saves and to make every switch
//! observable.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{self, InstBuilder, Value, types};

use super::Resumption;
use crate::compile::env::{clif_trap, clif_type};
use crate::compile::translate::FuncTranslator;
use crate::error::TrapCode;
use crate::types::words_of;

impl FuncTranslator<'_, '_> {
    /// A libcall-mode `suspend` or `switch` reporting that this continuation
    /// was resumed by `resume_throw`: raise the exception (in the buffer).
    pub(in crate::compile) fn raise_on_throw_status(&mut self, status: Value, slot: ir::StackSlot) {
        use crate::vm::stack_switching::libcall::status as st;
        let hit = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, status, st::THROW as i64);
        let flag = self.builder.ins().uextend(types::I64, hit);
        let exn = self
            .builder
            .ins()
            .stack_load(types::I64, types::I64, slot, 0);
        let to_throw = self.builder.ins().imul(flag, exn);
        self.throw_if_received(to_throw);
    }

    /// Traps with `code` if a libcall-mode routine returned `status`.
    pub(in crate::compile) fn trap_on_status(
        &mut self,
        result: Value,
        status: u64,
        code: TrapCode,
    ) {
        let hit = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, result, status as i64);
        self.builder.ins().trapnz(hit, clif_trap(code));
    }

    /// `resume` in libcall mode.
    pub(in crate::compile) fn resume_by_libcall(
        &mut self,
        cont_type_index: u32,
        clauses: &[(u32, Option<u32>)],
        how: Resumption,
    ) {
        use crate::vm::stack_switching::libcall::{self as ls, status};
        let ft = self.env.func_type(cont_type_index).clone();
        let contref = self.pop();
        let (args, exn) = self.resume_operands(cont_type_index, how);
        let throwing = exn.is_some();
        let exn = match exn {
            Some(exn) => exn,
            None => self.builder.ins().iconst(types::I64, 0),
        };
        // Counted in payload words (a v128 takes two).
        let nargs = self.value_words(&args);
        let mut capacity = nargs.max(words_of(ft.results())).max(1);
        for (tag, label) in clauses {
            if label.is_some() {
                capacity = capacity.max(words_of(&self.tag_params(*tag)));
            }
        }
        let (slot, buffer) = self.value_buffer(&args, capacity);
        let table = self.handler_table(clauses);
        let nargs = self.builder.ins().iconst(types::I64, nargs as i64);
        let nclauses = self.builder.ins().iconst(types::I64, clauses.len() as i64);
        let cap = self.builder.ins().iconst(types::I64, capacity as i64);
        let word = self.libcall(
            ls::resume as *const () as usize,
            &[contref, buffer, nargs, table, nclauses, cap, exn],
            &[types::I64],
        )[0];
        self.trap_on_status(word, status::NULL, TrapCode::NullContinuation);
        self.trap_on_status(
            word,
            status::CONSUMED,
            TrapCode::ContinuationAlreadyConsumed,
        );
        if throwing {
            // A continuation that never ran raises the exception right here.
            let here = self
                .builder
                .ins()
                .icmp_imm_u(IntCC::Equal, word, status::THROW as i64);
            let flag = self.builder.ins().uextend(types::I64, here);
            let to_throw = self.builder.ins().imul(flag, exn);
            self.throw_if_received(to_throw);
        }
        let returned = self.split_on_return(word, |t| {
            t.builder.ins().stack_load(types::I64, types::I64, slot, 0)
        });
        if clauses.is_empty() {
            self.trap(TrapCode::UnhandledTag);
        } else {
            let store = self.store_context();
            let k =
                self.builder
                    .ins()
                    .stack_load(types::I64, types::I64, slot, 8 * capacity as i32);
            let clause = (clauses.len() > 1).then(|| {
                self.builder.ins().load(
                    types::I64,
                    crate::compile::translate::trusted(),
                    store,
                    crate::vm::layout::VMSTORE_SUSPEND_CLAUSE,
                )
            });
            self.branch_to_clause(clauses, clause, k, |t, at, ty| {
                t.builder
                    .ins()
                    .stack_load(types::I64, clif_type(ty), slot, 8 * at as i32)
            });
        }
        self.builder.switch_to_block(returned);
        let results = self.load_value_buffer(slot, ft.results());
        self.stack.extend(results);
    }

    /// `suspend` in libcall mode.
    pub(in crate::compile) fn suspend_by_libcall(&mut self, tag_index: u32) {
        use crate::vm::stack_switching::libcall as ls;
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        let ty = self.env.info.tags[tag_index as usize];
        let results = self.env.func_type(ty).results().to_vec();
        let (words, result_words) = (self.value_words(&vals), words_of(&results));
        let (slot, buffer) = self.value_buffer(&vals, result_words);
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, words as i64);
        let cap = self
            .builder
            .ins()
            .iconst(types::I64, words.max(result_words) as i64);
        let status = self.libcall(
            ls::suspend as *const () as usize,
            &[tag, buffer, n, cap],
            &[types::I64],
        )[0];
        self.raise_on_throw_status(status, slot);
        self.builder
            .ins()
            .trapnz(status, clif_trap(TrapCode::UnhandledTag));
        let vals = self.load_value_buffer(slot, &results);
        self.stack.extend(vals);
    }

    /// `switch` in libcall mode.
    pub(in crate::compile) fn switch_by_libcall(&mut self, cont_type_index: u32, tag_index: u32) {
        use crate::vm::stack_switching::libcall::{self as ls, status};
        let (sent, received) = self.switch_signature(cont_type_index);
        let target = self.pop();
        let vals = self.popn(sent);
        let (words, received_words) = (self.value_words(&vals), words_of(&received));
        let (slot, buffer) = self.value_buffer(&vals, received_words);
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, words as i64);
        let cap = self
            .builder
            .ins()
            .iconst(types::I64, words.max(received_words) as i64);
        let result = self.libcall(
            ls::switch as *const () as usize,
            &[target, tag, buffer, n, cap],
            &[types::I64],
        )[0];
        self.trap_on_status(result, status::NULL, TrapCode::NullContinuation);
        self.trap_on_status(
            result,
            status::CONSUMED,
            TrapCode::ContinuationAlreadyConsumed,
        );
        self.trap_on_status(result, status::UNHANDLED, TrapCode::UnhandledTag);
        self.raise_on_throw_status(result, slot);
        let vals = self.load_value_buffer(slot, &received);
        self.stack.extend(vals);
    }

    /// After this continuation was switched back to: a resume_throw sends
    /// an exception (non-zero `received`) to raise here. (Native code
    /// reads a different word: `native::received_back`.)
    fn throw_if_received(&mut self, received: Value) {
        let raise = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(raise);
        self.builder.ins().brif(received, raise, &[], next, &[]);
        self.builder.switch_to_block(raise);
        self.raise_on_side_path(received);
        self.builder.switch_to_block(next);
    }
}
