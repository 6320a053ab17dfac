//! Translation of the stack switching instructions: `cont.new`,
//! `cont.bind`, `resume`, `resume_throw`, `resume_throw_ref`, `suspend`
//! and `switch`.
//!
//! Each switching instruction has two translations, chosen per engine by
//! [`SwitchingMode`](crate::SwitchingMode):
//!
//! - `native.rs`: one Cranelift `stack_switch` in generated code, with the
//!   continuation records updated inline;
//! - `libcall.rs`: a call into a host routine that does the switch.
//!
//! What both use is in `handlers.rs` (handler tables, clause dispatch,
//! what comes back from a switch) and `contref.rs` (continuation
//! references and the one-shot check). The records these instructions
//! read and write, the stacks, and the host routines are in
//! `vm::stack_switching`.

mod contref;
mod handlers;
mod libcall;
mod native;
mod search;
mod wait;

use cranelift_codegen::ir::{InstBuilder, Value, types};

use crate::compile::env::clif_trap;
use crate::compile::translate::FuncTranslator;
use crate::error::TrapCode;
use crate::vm::stack_switching::routines;

impl FuncTranslator<'_, '_> {
    /// `cont.new`: a fresh continuation of the function reference on the
    /// stack. Making its stack may allocate, so this is a libcall in both
    /// modes.
    pub(in crate::compile) fn cont_new(&mut self, cont_type_index: u32) {
        let funcref = self.pop();
        self.builder
            .ins()
            .trapz(funcref, clif_trap(TrapCode::NullFuncRef));
        let body = self.late_const(crate::compile::late::LateConst::ContBody(cont_type_index));
        // With switch events on, a routine that also records the creation.
        let routine = if self.env.switch_events {
            crate::vm::events::cont_new_reported as *const () as usize
        } else {
            routines::cont_new as *const () as usize
        };
        let r = self.libcall(routine, &[funcref, body], &[types::I64]);
        self.builder
            .ins()
            .trapz(r[0], clif_trap(TrapCode::ContinuationLimit));
        self.push(r[0]);
    }

    /// `resume`, `resume_throw` or `resume_throw_ref`, as `how` says.
    pub(in crate::compile) fn resume(
        &mut self,
        cont_type_index: u32,
        table: &wasmparser::ResumeTable,
        how: Resumption,
    ) {
        let clauses = clauses_of(table);
        if self.env.libcall_switching {
            self.resume_by_libcall(cont_type_index, &clauses, how)
        } else {
            self.resume_native(cont_type_index, &clauses, how)
        }
    }

    /// Pops the operands of a resume below its continuation reference:
    /// the continuation's arguments, or for the throwing forms none and
    /// the exception to raise in the continuation. `resume_throw` makes
    /// the exception from its tag's values; `resume_throw_ref` checks its
    /// reference for null here, before the continuation is consumed.
    pub(in crate::compile) fn resume_operands(
        &mut self,
        cont_type_index: u32,
        how: Resumption,
    ) -> (Vec<Value>, Option<Value>) {
        match how {
            Resumption::Values => {
                let n = self.env.func_type(cont_type_index).params().len();
                (self.popn(n), None)
            }
            Resumption::Throw(tag) => {
                let n = self.tag_params(tag).len();
                let values = self.popn(n);
                (Vec::new(), Some(self.new_exception(tag, &values)))
            }
            Resumption::ThrowRef => {
                let exn = self.pop();
                self.builder
                    .ins()
                    .trapz(exn, clif_trap(TrapCode::NullExceptionReference));
                (Vec::new(), Some(exn))
            }
        }
    }

    /// `suspend`.
    pub(in crate::compile) fn suspend(&mut self, tag_index: u32) {
        if self.env.libcall_switching {
            self.suspend_by_libcall(tag_index)
        } else {
            self.suspend_native(tag_index)
        }
    }

    /// `switch`.
    pub(in crate::compile) fn switch(&mut self, cont_type_index: u32, tag_index: u32) {
        if self.env.libcall_switching {
            self.switch_by_libcall(cont_type_index, tag_index)
        } else {
            self.switch_native(cont_type_index, tag_index)
        }
    }
}

/// What a resume instruction sends into its continuation.
#[derive(Clone, Copy, Debug)]
pub(in crate::compile) enum Resumption {
    /// `resume`: the continuation's arguments.
    Values,
    /// `resume_throw $tag`: an exception of the tag, made from its values.
    Throw(u32),
    /// `resume_throw_ref`: an existing exception.
    ThrowRef,
}

/// A resume's handler clauses as `(tag, label)`; no label for a `switch`
/// clause.
pub(super) fn clauses_of(table: &wasmparser::ResumeTable) -> Vec<(u32, Option<u32>)> {
    table
        .handlers
        .iter()
        .map(|h| match *h {
            wasmparser::Handle::OnLabel { tag, label } => (tag, Some(label)),
            wasmparser::Handle::OnSwitch { tag } => (tag, None),
        })
        .collect()
}
