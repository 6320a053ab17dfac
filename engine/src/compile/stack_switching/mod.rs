//! Translation of the stack switching instructions: `cont.new`,
//! `cont.bind`, `resume`, `resume_throw`, `suspend` and `switch`.
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

use cranelift_codegen::ir::{InstBuilder, types};

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
        let body = self.env.cont_bodies[&cont_type_index];
        let body = self.builder.ins().iconst(types::I64, body as i64);
        let r = self.libcall(
            routines::cont_new as *const () as usize,
            &[funcref, body],
            &[types::I64],
        );
        self.builder
            .ins()
            .trapz(r[0], clif_trap(TrapCode::ContinuationLimit));
        self.push(r[0]);
    }

    /// `resume`, or `resume_throw` when `throw_tag` is given.
    pub(in crate::compile) fn resume(
        &mut self,
        cont_type_index: u32,
        table: &wasmparser::ResumeTable,
        throw_tag: Option<u32>,
    ) {
        let clauses = clauses_of(table);
        if self.env.libcall_switching {
            self.resume_by_libcall(cont_type_index, &clauses, throw_tag)
        } else {
            self.resume_native(cont_type_index, &clauses, throw_tag)
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

/// A resume's handler clauses as `(tag, label)`; no label for a `switch`
/// clause.
fn clauses_of(table: &wasmparser::ResumeTable) -> Vec<(u32, Option<u32>)> {
    table
        .handlers
        .iter()
        .map(|h| match *h {
            wasmparser::Handle::OnLabel { tag, label } => (tag, Some(label)),
            wasmparser::Handle::OnSwitch { tag } => (tag, None),
        })
        .collect()
}
