//! Translation of the exception handling instructions: `throw`,
//! `throw_ref` and `try_table`, and the exception tables that turn calls
//! made inside a `try_table` into `try_call`s.
//!
//! Cranelift's unwinder finds the landing pads; the host side of throwing
//! (the exception objects and the unwind to a handler) is in
//! `vm::exceptions`.

use cranelift_codegen::ir::{self, AbiParam, BlockArg, InstBuilder, Signature, Value, types};
use cranelift_codegen::isa::CallConv;

use super::env::clif_trap;
use super::translate::{Frame, FrameKind, FuncTranslator};
use crate::error::TrapCode;

/// One catch clause of a `try_table`.
pub(super) struct CatchClause {
    /// The module tag index, or `None` for `catch_all`.
    tag: Option<u32>,
    /// Whether the exception reference is passed too (`catch_ref`).
    with_ref: bool,
    /// Where the clause's label branches to.
    dest: ir::Block,
    /// Landing pad: receives the exception object from the unwinder.
    landing: ir::Block,
}

impl FuncTranslator<'_, '_> {
    /// An exception table for a call with signature `sig` made inside
    /// `try_table`s, and the values the call returns normally; `None` when
    /// no handler is in scope. Afterwards the builder is in the block where
    /// the call returns normally.
    pub(super) fn exception_table(
        &mut self,
        sig: ir::SigRef,
    ) -> Option<(ir::ExceptionTable, Vec<Value>)> {
        if self.handler_scopes.is_empty() {
            return None;
        }
        let returns: Vec<ir::Type> = self.builder.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|r| r.value_type)
            .collect();
        let normal = self.builder.create_block();
        let mut rets = Vec::new();
        let mut results = Vec::new();
        for (i, t) in returns.iter().enumerate() {
            results.push(self.builder.append_block_param(normal, *t));
            rets.push(BlockArg::TryCallRet(i as u32));
        }
        let dfg = &mut self.builder.func.dfg;
        let normal_call = dfg.block_call(normal, &rets);
        // The unwinder reads the VMContext to resolve tag indices.
        let mut items = vec![ir::ExceptionTableItem::Context(self.vmctx)];
        for scope in self.handler_scopes.iter().rev() {
            for clause in scope {
                let call = dfg.block_call(clause.landing, &[BlockArg::TryCallExn(0)]);
                items.push(match clause.tag {
                    Some(tag) => ir::ExceptionTableItem::Tag(ir::ExceptionTag::from_u32(tag), call),
                    None => ir::ExceptionTableItem::Default(call),
                });
            }
        }
        let data = ir::ExceptionTableData::new(sig, normal_call, items);
        let table = self.builder.func.dfg.exception_tables.push(data);
        self.pending_normal = Some(normal);
        Some((table, results))
    }

    pub(super) fn continue_after_try_call(&mut self) {
        let normal = self.pending_normal.take().expect("exception table made");
        self.builder.switch_to_block(normal);
    }

    pub(super) fn exception_table_for_func(
        &mut self,
        f: ir::FuncRef,
    ) -> Option<(ir::ExceptionTable, Vec<Value>)> {
        let sig = self.builder.func.dfg.ext_funcs[f].signature;
        self.exception_table(sig)
    }

    /// Calls a libcall that never returns normally (it throws), as a
    /// `try_call` when handlers are in scope.
    pub(super) fn throw_call(&mut self, addr: usize, args: &[Value]) {
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params
            .extend(all.iter().map(|_| AbiParam::new(types::I64)));
        let sig = self.builder.import_signature(sig);
        let callee = self.host_address(addr);
        if let Some((table, _)) = self.exception_table(sig) {
            self.builder.ins().try_call_indirect(callee, &all, table);
            self.continue_after_try_call();
        } else {
            self.builder.ins().call_indirect(sig, callee, &all);
        }
        self.trap(TrapCode::Unreachable);
        self.reachable = false;
    }

    /// Fills the landing pads of a `try_table`'s clauses: each loads what
    /// its label expects from the exception object and branches there.
    pub(super) fn emit_landing_pads(&mut self, clauses: Vec<CatchClause>) {
        use crate::vm::exceptions::EXN_VALUES;
        for clause in clauses {
            self.builder.switch_to_block(clause.landing);
            let exn = self.builder.append_block_param(clause.landing, types::I64);
            let mut vals = Vec::new();
            if let Some(tag) = clause.tag {
                let params = self.tag_params(tag);
                vals = self.load_words(&params, exn, EXN_VALUES);
            }
            if clause.with_ref {
                vals.push(exn);
            }
            self.jump(clause.dest, &vals);
        }
    }

    /// `try_table`: a block whose catch clauses handle what calls in its body
    /// throw.
    pub(super) fn try_table(&mut self, table: wasmparser::TryTable) {
        let mut clauses = Vec::new();
        for catch in &table.catches {
            let (tag, with_ref, label) = match *catch {
                wasmparser::Catch::One { tag, label } => (Some(tag), false, label),
                wasmparser::Catch::OneRef { tag, label } => (Some(tag), true, label),
                wasmparser::Catch::All { label } => (None, false, label),
                wasmparser::Catch::AllRef { label } => (None, true, label),
            };
            // Labels count from outside the try_table.
            let (dest, _) = self.br_target(label);
            let landing = self.builder.create_block();
            self.builder.set_cold_block(landing);
            clauses.push(CatchClause {
                tag,
                with_ref,
                dest,
                landing,
            });
        }
        let (params, results) = self.block_arity(table.ty);
        let end = self.new_block(&results);
        self.control.push(Frame {
            kind: FrameKind::TryTable,
            br_dest: end,
            end,
            params: params.len(),
            results: results.len(),
            height: self.stack.len() - params.len(),
            end_reachable: false,
        });
        self.handler_scopes.push(clauses);
    }

    /// `throw $tag`.
    pub(super) fn throw(&mut self, tag_index: u32) {
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        let words = self.value_words(&vals);
        let (_, buffer) = self.value_buffer(&vals, words);
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, words as i64);
        self.throw_call(
            crate::vm::exceptions::switchyard_throw as *const () as usize,
            &[tag, buffer, n],
        );
    }

    /// `throw_ref`.
    pub(super) fn throw_ref(&mut self) {
        let exn = self.pop();
        self.builder
            .ins()
            .trapz(exn, clif_trap(TrapCode::NullExceptionReference));
        self.throw_call(
            crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
            &[exn],
        );
    }

    /// Raises the exception object `exn` on a side path that a switch
    /// took (a continuation that died of it, a `resume_throw`): like
    /// `throw_ref`, but the code being translated stays reachable, since
    /// the path that goes on is another block.
    pub(super) fn raise_on_side_path(&mut self, exn: Value) {
        let reachable = self.reachable;
        self.throw_call(
            crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
            &[exn],
        );
        self.reachable = reachable;
    }

    /// A new exception object of tag `tag_index` with `values`.
    pub(super) fn new_exception(&mut self, tag_index: u32, values: &[Value]) -> Value {
        let words = self.value_words(values);
        let (_, buffer) = self.value_buffer(values, words);
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, words as i64);
        self.libcall(
            crate::vm::exceptions::new_exception as *const () as usize,
            &[tag, buffer, n],
            &[types::I64],
        )[0]
    }
}
