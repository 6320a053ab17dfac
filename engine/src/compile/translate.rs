//! Translation of one Wasm function body to Cranelift IR.
//!
//! The translator keeps Wasm's operand stack as a stack of SSA values and
//! its control stack as frames that know their Cranelift blocks. Code after
//! an unconditional branch is skipped until the enclosing `else` or `end`,
//! counting the blocks nested inside it.

use crate::vm::events;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, Signature,
    UserExternalName, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, FunctionBody, Operator};

use super::env::{ModuleEnv, clif_trap, clif_type, wasm_signature};
use crate::error::{Error, TrapCode};
use crate::module::info::{unsupported, val_type};
use crate::types::ValType;
use crate::vm::continuation::payload as cpayload;
use crate::vm::layout::*;
use crate::vm::libcalls;

/// What kind of construct a control frame is.
enum FrameKind {
    Block,
    Loop,
    /// An `if` whose `else` has not been seen yet keeps its else block and
    /// the parameter values the else arm starts with.
    If {
        else_block: Option<ir::Block>,
        else_params: Vec<Value>,
    },
    /// A `try_table`: its catch clauses are the innermost handler scope
    /// until its `end`.
    TryTable,
}

/// One catch clause of a `try_table`.
struct CatchClause {
    /// The module tag index, or `None` for `catch_all`.
    tag: Option<u32>,
    /// Whether the exception reference is passed too (`catch_ref`).
    with_ref: bool,
    /// Where the clause's label branches to.
    dest: ir::Block,
    /// Landing pad: receives the exception object from the unwinder.
    landing: ir::Block,
}

struct Frame {
    kind: FrameKind,
    /// Where `br` to this frame goes: the loop header, else the end.
    br_dest: ir::Block,
    /// The block after the construct.
    end: ir::Block,
    params: usize,
    results: usize,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether some branch targets `end`.
    end_reachable: bool,
}

/// Translates function bodies; reused across the functions of a module.
pub(crate) struct FuncTranslator<'a, 'b> {
    env: &'a ModuleEnv<'a>,
    builder: FunctionBuilder<'b>,
    vmctx: Value,
    locals: Vec<Variable>,
    stack: Vec<Value>,
    control: Vec<Frame>,
    reachable: bool,
    /// Nesting depth of blocks inside unreachable code.
    dead_depth: usize,
    sig_refs: HashMap<u32, ir::SigRef>,
    func_refs: HashMap<u32, ir::FuncRef>,
    libcall_sigs: HashMap<(Vec<ir::Type>, Vec<ir::Type>), ir::SigRef>,
    /// Catch clauses of the enclosing `try_table`s, innermost last.
    handler_scopes: Vec<Vec<CatchClause>>,
    /// The block where the last `try_call` returns normally, to continue in.
    pending_normal: Option<ir::Block>,
}

fn heap_flags() -> MemFlagsData {
    MemFlagsData::new().with_trap_code(Some(clif_trap(TrapCode::MemoryOutOfBounds)))
}

/// Flags for loads of VM structures that never change once set.
fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl<'a, 'b> FuncTranslator<'a, 'b> {
    pub fn new(env: &'a ModuleEnv<'a>, builder: FunctionBuilder<'b>) -> Self {
        FuncTranslator {
            env,
            builder,
            vmctx: Value::from_u32(0),
            locals: Vec::new(),
            stack: Vec::new(),
            control: Vec::new(),
            reachable: true,
            dead_depth: 0,
            sig_refs: HashMap::new(),
            func_refs: HashMap::new(),
            libcall_sigs: HashMap::new(),
            handler_scopes: Vec::new(),
            pending_normal: None,
        }
    }

    /// Translates `body` of function `func_index`; the builder's function
    /// already has its signature.
    pub fn translate(mut self, func_index: u32, body: &FunctionBody<'_>) -> Result<(), Error> {
        let env = self.env;
        let sig = env.func_sig(func_index).clone();
        let entry = self.builder.create_block();
        self.builder.append_block_params_for_function_params(entry);
        self.builder.switch_to_block(entry);
        self.builder.seal_block(entry);
        let params = self.builder.block_params(entry).to_vec();
        self.vmctx = params[0];

        // The prologue's stack check reads the limit through the VMContext.
        let vmctx_gv = self
            .builder
            .create_global_value(ir::GlobalValueData::VMContext);
        let flags = self
            .builder
            .func
            .dfg
            .mem_flags
            .insert(trusted())
            .expect("memflags");
        let store_gv = self.builder.create_global_value(ir::GlobalValueData::Load {
            base: vmctx_gv,
            offset: VMCTX_STORE.into(),
            global_type: types::I64,
            flags,
        });
        let limit_gv = self.builder.create_global_value(ir::GlobalValueData::Load {
            base: store_gv,
            offset: VMSTORE_STACK_LIMIT.into(),
            global_type: types::I64,
            flags,
        });
        self.builder.func.stack_limit = Some(limit_gv);

        for (i, ty) in sig.params().iter().enumerate() {
            let var = self.builder.declare_var(clif_type(ty));
            self.builder.def_var(var, params[i + 2]);
            self.locals.push(var);
        }
        let mut locals_reader = body.get_locals_reader()?;
        for _ in 0..locals_reader.get_count() {
            let (count, ty) = locals_reader.read()?;
            let ty = val_type(ty, &env.info.types, env.registry)?;
            for _ in 0..count {
                let var = self.builder.declare_var(clif_type(&ty));
                let zero = self.zero(&ty);
                self.builder.def_var(var, zero);
                self.locals.push(var);
            }
        }

        let ret = self.builder.create_block();
        for r in sig.results() {
            self.builder.append_block_param(ret, clif_type(r));
        }
        self.control.push(Frame {
            kind: FrameKind::Block,
            br_dest: ret,
            end: ret,
            params: 0,
            results: sig.results().len(),
            height: 0,
            end_reachable: false,
        });

        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            // Native code is mapped back to this byte offset of the module
            // (backtraces, DWARF line lookups).
            self.builder.set_srcloc(ir::SourceLoc::new(offset as u32));
            if self.reachable {
                self.operator(op)?;
            } else {
                self.dead_operator(op)?;
            }
        }
        // The final `end` left us in the return block.
        let rets = self.builder.block_params(ret).to_vec();
        if self.reachable {
            self.builder.ins().return_(&rets);
        }
        self.builder.seal_all_blocks();
        self.builder.finalize(self.env.frontend);
        Ok(())
    }

    fn zero(&mut self, ty: &ValType) -> Value {
        let ins = self.builder.ins();
        match ty {
            ValType::I32 => ins.iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => ins.iconst(types::I64, 0),
            ValType::F32 => ins.f32const(0.0),
            ValType::F64 => ins.f64const(0.0),
        }
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated operand stack")
    }

    fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn block_arity(&self, bt: BlockType) -> (Vec<ir::Type>, Vec<ir::Type>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => {
                let t = val_type(t, &self.env.info.types, self.env.registry)
                    .map(|t| clif_type(&t))
                    .unwrap_or(types::I64);
                (vec![], vec![t])
            }
            BlockType::FuncType(i) => {
                let f = self.env.func_type(i);
                (
                    f.params().iter().map(clif_type).collect(),
                    f.results().iter().map(clif_type).collect(),
                )
            }
        }
    }

    fn new_block(&mut self, tys: &[ir::Type]) -> ir::Block {
        let b = self.builder.create_block();
        for t in tys {
            self.builder.append_block_param(b, *t);
        }
        b
    }

    fn args(vals: &[Value]) -> Vec<BlockArg> {
        vals.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    fn jump(&mut self, block: ir::Block, vals: &[Value]) {
        let args = Self::args(vals);
        self.builder.ins().jump(block, &args);
    }

    fn trap(&mut self, code: TrapCode) {
        self.builder.ins().trap(clif_trap(code));
    }

    /// The branch target and arity of relative depth `depth`, marking the
    /// frame's end as reachable.
    fn br_target(&mut self, depth: u32) -> (ir::Block, usize) {
        let i = self.control.len() - 1 - depth as usize;
        let frame = &mut self.control[i];
        match frame.kind {
            FrameKind::Loop => (frame.br_dest, frame.params),
            _ => {
                frame.end_reachable = true;
                (frame.br_dest, frame.results)
            }
        }
    }

    fn dead_operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        match op {
            Operator::Block { .. }
            | Operator::Loop { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. } => self.dead_depth += 1,
            Operator::Else if self.dead_depth == 0 => self.op_else(),
            Operator::End if self.dead_depth == 0 => self.op_end(),
            Operator::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn op_else(&mut self) {
        let frame = self.control.last_mut().expect("if frame");
        let FrameKind::If {
            else_block,
            else_params,
        } = &mut frame.kind
        else {
            unreachable!("validated else")
        };
        let else_block = else_block.take().expect("one else");
        let else_params = std::mem::take(else_params);
        let (end, results, height) = (frame.end, frame.results, frame.height);
        if self.reachable {
            frame.end_reachable = true;
            let vals = self.popn(results);
            self.jump(end, &vals);
        }
        self.stack.truncate(height);
        self.stack.extend(else_params);
        self.builder.switch_to_block(else_block);
        self.reachable = true;
    }

    fn op_end(&mut self) {
        let mut frame = self.control.pop().expect("frame");
        if self.reachable {
            frame.end_reachable = true;
            let vals = self.popn(frame.results);
            self.jump(frame.end, &vals);
        }
        if let FrameKind::If {
            else_block: Some(else_block),
            else_params,
        } = &frame.kind
        {
            // An `if` without `else`: the false arm passes its parameters on.
            frame.end_reachable = true;
            let else_params = else_params.clone();
            self.builder.switch_to_block(*else_block);
            self.jump(frame.end, &else_params);
        }
        if let FrameKind::TryTable = frame.kind {
            let clauses = self.handler_scopes.pop().expect("try_table scope");
            self.emit_landing_pads(clauses);
        }
        self.stack.truncate(frame.height);
        self.builder.switch_to_block(frame.end);
        self.reachable = frame.end_reachable;
        let params = self.builder.block_params(frame.end).to_vec();
        self.stack.extend(params);
    }

    // ----- exceptions -----

    /// An exception table for a call with signature `sig` made inside
    /// `try_table`s, and the values the call returns normally; `None` when
    /// no handler is in scope. Afterwards the builder is in the block where
    /// the call returns normally.
    fn exception_table(&mut self, sig: ir::SigRef) -> Option<(ir::ExceptionTable, Vec<Value>)> {
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

    fn continue_after_try_call(&mut self) {
        let normal = self.pending_normal.take().expect("exception table made");
        self.builder.switch_to_block(normal);
    }

    fn exception_table_for_func(
        &mut self,
        f: ir::FuncRef,
    ) -> Option<(ir::ExceptionTable, Vec<Value>)> {
        let sig = self.builder.func.dfg.ext_funcs[f].signature;
        self.exception_table(sig)
    }

    /// Calls a libcall that never returns normally (it throws), as a
    /// `try_call` when handlers are in scope.
    fn throw_call(&mut self, addr: usize, args: &[Value]) {
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params
            .extend(all.iter().map(|_| AbiParam::new(types::I64)));
        let sig = self.builder.import_signature(sig);
        let callee = self.builder.ins().iconst(types::I64, addr as i64);
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
    fn emit_landing_pads(&mut self, clauses: Vec<CatchClause>) {
        use crate::vm::exceptions::EXN_VALUES;
        for clause in clauses {
            self.builder.switch_to_block(clause.landing);
            let exn = self.builder.append_block_param(clause.landing, types::I64);
            let mut vals = Vec::new();
            if let Some(tag) = clause.tag {
                for (i, p) in self.tag_params(tag).iter().enumerate() {
                    let off = EXN_VALUES + 8 * i as i32;
                    vals.push(self.builder.ins().load(clif_type(p), trusted(), exn, off));
                }
            }
            if clause.with_ref {
                vals.push(exn);
            }
            self.jump(clause.dest, &vals);
        }
    }

    /// After a switch back from a continuation: if it died of an exception
    /// (`kind`), rethrow that exception here, in this frame's handler scope.
    fn rethrow_if_exception(&mut self, kind: Value, exn: impl FnOnce(&mut Self) -> Value) {
        let is_exn = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, kind, cpayload::EXCEPTION as i64);
        let rethrow = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(rethrow);
        self.builder.ins().brif(is_exn, rethrow, &[], next, &[]);
        self.builder.switch_to_block(rethrow);
        let exn = exn(self);
        let reachable = self.reachable;
        self.throw_call(
            crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
            &[exn],
        );
        self.reachable = reachable;
        self.builder.switch_to_block(next);
    }

    /// `try_table`: a block whose catch clauses handle what calls in its body
    /// throw.
    fn try_table(&mut self, table: wasmparser::TryTable) {
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
    fn throw(&mut self, tag_index: u32) {
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        let (_, buffer) = self.switch_buffer(&vals, vals.len());
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, vals.len() as i64);
        self.throw_call(
            crate::vm::exceptions::switchyard_throw as *const () as usize,
            &[tag, buffer, n],
        );
    }

    /// `throw_ref`.
    fn throw_ref(&mut self) {
        let exn = self.pop();
        self.builder
            .ins()
            .trapz(exn, clif_trap(TrapCode::NullExceptionReference));
        self.throw_call(
            crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
            &[exn],
        );
    }

    // ----- VM structure access -----

    fn vmctx_load(&mut self, offset: u32, flags: MemFlagsData) -> Value {
        self.builder
            .ins()
            .load(types::I64, flags, self.vmctx, offset as i32)
    }

    fn memory_ptr(&mut self, mem: u32) -> Value {
        let off = self.env.offsets.memory(mem);
        self.vmctx_load(off, readonly())
    }

    fn memory_base(&mut self, mem: u32) -> Value {
        let vm = self.memory_ptr(mem);
        self.builder
            .ins()
            .load(types::I64, readonly(), vm, VMMEMORY_BASE)
    }

    fn global_ptr(&mut self, index: u32) -> Value {
        let off = self.env.offsets.global(index);
        self.vmctx_load(off, readonly())
    }

    fn table_ptr(&mut self, index: u32) -> Value {
        let off = self.env.offsets.table(index);
        self.vmctx_load(off, readonly())
    }

    /// The address of element `index` (i32) of `table`, trapping with
    /// `code` when it is out of bounds.
    fn table_elem_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let t = self.table_ptr(table);
        let len = self
            .builder
            .ins()
            .load(types::I64, trusted(), t, VMTABLE_LENGTH);
        let index = self.builder.ins().uextend(types::I64, index);
        let oob = self
            .builder
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.builder.ins().trapnz(oob, clif_trap(code));
        let base = self
            .builder
            .ins()
            .load(types::I64, trusted(), t, VMTABLE_BASE);
        let off = self.builder.ins().ishl_imm_u(index, 3);
        self.builder.ins().iadd(base, off)
    }

    /// Effective address of a memory access: base + zext(index), with the
    /// static offset folded in where it fits.
    fn mem_addr(&mut self, memarg: &wasmparser::MemArg) -> (Value, i32) {
        let index = self.pop();
        let base = self.memory_base(memarg.memory);
        let index = self.builder.ins().uextend(types::I64, index);
        let addr = self.builder.ins().iadd(base, index);
        if memarg.offset <= i32::MAX as u64 {
            (addr, memarg.offset as i32)
        } else {
            (self.builder.ins().iadd_imm_s(addr, memarg.offset as i64), 0)
        }
    }

    fn load(&mut self, memarg: &wasmparser::MemArg, ty: ir::Type) {
        let (addr, off) = self.mem_addr(memarg);
        let v = self.builder.ins().load(ty, heap_flags(), addr, off);
        self.push(v);
    }

    fn load_ext(&mut self, memarg: &wasmparser::MemArg, bits: u8, signed: bool, ty: ir::Type) {
        let (addr, off) = self.mem_addr(memarg);
        let ins = self.builder.ins();
        let v = match (bits, signed) {
            (8, false) => ins.uload8(ty, heap_flags(), addr, off),
            (8, true) => ins.sload8(ty, heap_flags(), addr, off),
            (16, false) => ins.uload16(ty, heap_flags(), addr, off),
            (16, true) => ins.sload16(ty, heap_flags(), addr, off),
            (32, false) => ins.uload32(heap_flags(), addr, off),
            (32, true) => ins.sload32(heap_flags(), addr, off),
            _ => unreachable!(),
        };
        self.push(v);
    }

    fn store(&mut self, memarg: &wasmparser::MemArg, bits: Option<u8>) {
        let v = self.pop();
        let (addr, off) = self.mem_addr(memarg);
        let ins = self.builder.ins();
        match bits {
            None => ins.store(heap_flags(), v, addr, off),
            Some(8) => ins.istore8(heap_flags(), v, addr, off),
            Some(16) => ins.istore16(heap_flags(), v, addr, off),
            Some(32) => ins.istore32(heap_flags(), v, addr, off),
            _ => unreachable!(),
        };
    }

    /// Calls a host libcall (System V convention) at a fixed address; the
    /// VMContext is passed first.
    fn libcall(&mut self, addr: usize, args: &[Value], returns: &[ir::Type]) -> Vec<Value> {
        let mut all = vec![self.vmctx];
        all.extend_from_slice(args);
        let params: Vec<ir::Type> = all
            .iter()
            .map(|v| self.builder.func.dfg.value_type(*v))
            .collect();
        let key = (params.clone(), returns.to_vec());
        let sig_ref = match self.libcall_sigs.get(&key) {
            Some(s) => *s,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
                sig.returns
                    .extend(returns.iter().map(|t| AbiParam::new(*t)));
                let s = self.builder.import_signature(sig);
                self.libcall_sigs.insert(key, s);
                s
            }
        };
        let callee = self.builder.ins().iconst(types::I64, addr as i64);
        let call = self.builder.ins().call_indirect(sig_ref, callee, &all);
        self.builder.inst_results(call).to_vec()
    }

    /// In native mode with switch events on, calls the event routine
    /// (`vm::events::native_event`) with `what` and its operands.
    fn switch_event(&mut self, what: u64, operands: [Value; 3]) {
        if !self.env.switch_events || self.env.libcall_switching {
            return;
        }
        use crate::vm::events::native_event;
        let what = self.builder.ins().iconst(types::I64, what as i64);
        let [a, b, tag] = operands;
        self.libcall(native_event as *const () as usize, &[what, a, b, tag], &[]);
    }

    fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(self.env.func_type(type_index));
        let s = self.builder.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    fn func_ref(&mut self, func_index: u32) -> ir::FuncRef {
        if let Some(f) = self.func_refs.get(&func_index) {
            return *f;
        }
        let type_index = self.env.info.funcs[func_index as usize].type_index;
        let signature = self.sig_ref(type_index);
        let name = self
            .builder
            .func
            .declare_imported_user_function(UserExternalName {
                namespace: 0,
                index: func_index,
            });
        let f = self.builder.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        });
        self.func_refs.insert(func_index, f);
        f
    }

    fn push_results(&mut self, inst: ir::Inst) {
        let results = self.builder.inst_results(inst).to_vec();
        self.stack.extend(results);
    }

    fn call(&mut self, func_index: u32, tail: bool) {
        let n = self.env.func_sig(func_index).params().len();
        let mut args = vec![self.vmctx, self.vmctx];
        let popped = self.popn(n);
        if self.env.info.is_imported_func(func_index) {
            let off = self.env.offsets.imported_func(func_index);
            let funcref = self.vmctx_load(off, readonly());
            args[0] = self
                .builder
                .ins()
                .load(types::I64, readonly(), funcref, VMFUNCREF_VMCTX);
            args.extend(popped);
            let code = self
                .builder
                .ins()
                .load(types::I64, readonly(), funcref, VMFUNCREF_CODE);
            let type_index = self.env.info.funcs[func_index as usize].type_index;
            let sig = self.sig_ref(type_index);
            self.finish_indirect_call(sig, code, &args, tail);
        } else {
            args.extend(popped);
            let f = self.func_ref(func_index);
            if tail {
                self.builder.ins().return_call(f, &args);
                self.reachable = false;
            } else if let Some((table, results)) = self.exception_table_for_func(f) {
                self.builder.ins().try_call(f, &args, table);
                self.continue_after_try_call();
                self.stack.extend(results);
            } else {
                let call = self.builder.ins().call(f, &args);
                self.push_results(call);
            }
        }
    }

    fn finish_indirect_call(&mut self, sig: ir::SigRef, code: Value, args: &[Value], tail: bool) {
        if tail {
            self.builder.ins().return_call_indirect(sig, code, args);
            self.reachable = false;
        } else if let Some((table, results)) = self.exception_table(sig) {
            self.builder.ins().try_call_indirect(code, args, table);
            self.continue_after_try_call();
            self.stack.extend(results);
        } else {
            let call = self.builder.ins().call_indirect(sig, code, args);
            self.push_results(call);
        }
    }

    /// Calls through a non-null `*const VMFuncRef`.
    fn call_funcref(&mut self, funcref: Value, type_index: u32, tail: bool) {
        let n = self.env.func_type(type_index).params().len();
        let popped = self.popn(n);
        let vmctx = self
            .builder
            .ins()
            .load(types::I64, trusted(), funcref, VMFUNCREF_VMCTX);
        let code = self
            .builder
            .ins()
            .load(types::I64, trusted(), funcref, VMFUNCREF_CODE);
        let mut args = vec![vmctx, self.vmctx];
        args.extend(popped);
        let sig = self.sig_ref(type_index);
        self.finish_indirect_call(sig, code, &args, tail);
    }

    fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
        let index = self.pop();
        let addr = self.table_elem_addr(table, index, TrapCode::UndefinedElement);
        let funcref = self.builder.ins().load(types::I64, trusted(), addr, 0);
        self.builder
            .ins()
            .trapz(funcref, clif_trap(TrapCode::UninitializedElement));
        let actual = self
            .builder
            .ins()
            .load(types::I64, trusted(), funcref, VMFUNCREF_TYPE);
        let expected = self.env.info.types[type_index as usize];
        let ok = self
            .builder
            .ins()
            .icmp_imm_s(IntCC::Equal, actual, expected as i64);
        self.builder
            .ins()
            .trapz(ok, clif_trap(TrapCode::IndirectCallTypeMismatch));
        self.call_funcref(funcref, type_index, tail);
    }

    fn ref_func(&mut self, func_index: u32) -> Value {
        if self.env.info.is_imported_func(func_index) {
            let off = self.env.offsets.imported_func(func_index);
            self.vmctx_load(off, readonly())
        } else {
            let off = self.env.offsets.defined_funcref(func_index);
            self.builder.ins().iadd_imm_s(self.vmctx, off as i64)
        }
    }

    /// Consumes a continuation reference: traps on null and on a reference
    /// already used, then bumps the record's generation. Returns the record.
    fn take_continuation(&mut self, contref: Value) -> Value {
        use crate::vm::continuation::{contref as cref, offsets as rec};
        self.builder
            .ins()
            .trapz(contref, clif_trap(TrapCode::NullContinuation));
        let address = self
            .builder
            .ins()
            .band_imm_u(contref, cref::ADDRESS_MASK as i64);
        let record = self.builder.ins().ishl_imm_u(address, 6);
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
    fn make_contref(&mut self, record: Value) -> Value {
        use crate::vm::continuation::{contref as cref, offsets as rec};
        let generation = self
            .builder
            .ins()
            .load(types::I64, trusted(), record, rec::GENERATION);
        let generation = self
            .builder
            .ins()
            .band_imm_u(generation, cref::GENERATION_MASK as i64);
        let high = self
            .builder
            .ins()
            .ishl_imm_u(generation, cref::ADDRESS_BITS as i64);
        let low = self.builder.ins().ushr_imm_u(record, 6);
        self.builder.ins().bor(high, low)
    }

    fn store_context(&mut self) -> Value {
        self.vmctx_load(VMCTX_STORE as u32, readonly())
    }

    fn tag_ptr(&mut self, tag_index: u32) -> Value {
        let off = self.env.offsets.tag(tag_index);
        self.vmctx_load(off, readonly())
    }

    /// The parameter types of tag `tag_index`.
    fn tag_params(&self, tag_index: u32) -> Vec<ValType> {
        let ty = self.env.info.tags[tag_index as usize];
        self.env.func_type(ty).params().to_vec()
    }

    /// `resume`: passes the arguments, links the continuation's chain under
    /// the running stack with the handler clauses `(tag, label)` (no label:
    /// a `switch` clause), switches to it; on return releases its stack, on
    /// a suspension branches to the clause's label with the tag's values and
    /// the new continuation.
    fn resume(
        &mut self,
        cont_type_index: u32,
        clauses: &[(u32, Option<u32>)],
        throw_tag: Option<u32>,
    ) {
        use crate::vm::continuation::{offsets as rec, state};
        let ft = self.env.func_type(cont_type_index).clone();
        let contref = self.pop();
        let t = trusted();
        let (args, thrown) = match throw_tag {
            None => (self.popn(ft.params().len()), Vec::new()),
            Some(tag) => {
                let n = self.tag_params(tag).len();
                (Vec::new(), self.popn(n))
            }
        };
        let record = self.take_continuation(contref);
        // `resume_throw`: the exception is raised where the continuation is
        // suspended; a continuation that never ran raises it right here.
        let exn = match throw_tag {
            None => None,
            Some(tag) => {
                let exn = self.new_exception(tag, &thrown);
                let st = self.builder.ins().load(types::I32, t, record, rec::STATE);
                let fresh = self
                    .builder
                    .ins()
                    .icmp_imm_u(IntCC::Equal, st, state::FRESH as i64);
                let now = self.builder.create_block();
                let later = self.builder.create_block();
                self.builder.set_cold_block(now);
                self.builder.ins().brif(fresh, now, &[], later, &[]);
                self.builder.switch_to_block(now);
                let store = self.store_context();
                self.release_inline(record, store);
                let reachable = self.reachable;
                self.throw_call(
                    crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
                    &[exn],
                );
                self.reachable = reachable;
                self.builder.switch_to_block(later);
                Some(exn)
            }
        };

        // Arguments go after the values `cont.bind` put in the record.
        let bound = self.builder.ins().load(types::I64, t, record, rec::BOUND);
        let bound_bytes = self.builder.ins().ishl_imm_u(bound, 3);
        let base = self.builder.ins().iadd(record, bound_bytes);
        for (i, a) in args.iter().enumerate() {
            self.builder
                .ins()
                .store(t, *a, base, rec::ARGS + 8 * i as i32);
        }

        let throwing = self
            .builder
            .ins()
            .iconst(types::I64, i64::from(exn.is_some()));
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.switch_event(events::native::RESUME, [record, throwing, zero]);
        let ancestor = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::LAST_ANCESTOR);
        let store = self.store_context();
        let resumer = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CURRENT_CONT);
        self.builder
            .ins()
            .store(t, resumer, ancestor, rec::PARENT_RECORD);
        let zero = self.builder.ins().iconst(types::I64, 0);
        let table = self.handler_table(clauses);
        self.builder.ins().store(t, table, ancestor, rec::HANDLERS);
        let count = self.builder.ins().iconst(types::I64, clauses.len() as i64);
        self.builder
            .ins()
            .store(t, count, ancestor, rec::HANDLERS_LEN);
        let running = self.builder.ins().iconst(types::I32, state::RUNNING as i64);
        self.builder.ins().store(t, running, record, rec::STATE);
        let resumes = self.builder.ins().load(types::I64, t, record, rec::RESUMES);
        let resumes = self.builder.ins().iadd_imm_s(resumes, 1);
        self.builder.ins().store(t, resumes, record, rec::RESUMES);
        self.builder
            .ins()
            .store(t, record, store, VMSTORE_CURRENT_CONT);
        let old_limit = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_STACK_LIMIT);
        let new_limit = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::STACK_LIMIT);
        self.builder
            .ins()
            .store(t, new_limit, store, VMSTORE_STACK_LIMIT);

        let parent_ctx = self.builder.ins().iadd_imm_s(ancestor, rec::PARENT as i64);
        let own_ctx = self.builder.ins().iadd_imm_s(record, rec::OWN as i64);
        let sent = exn.unwrap_or(zero);
        let payload = self.builder.ins().stack_switch(parent_ctx, own_ctx, sent);

        // Back on our stack: the payload is the record involved, with what
        // happened in its low bits.
        let store = self.store_context();
        self.builder
            .ins()
            .store(t, resumer, store, VMSTORE_CURRENT_CONT);
        self.builder
            .ins()
            .store(t, old_limit, store, VMSTORE_STACK_LIMIT);
        let involved = self
            .builder
            .ins()
            .band_imm_u(payload, !(cpayload::KIND_MASK as i64));
        let (kind, returned) = self.split_on_return(payload);
        if self.env.switch_events {
            // Died of an exception (the routine looks at the kind).
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.switch_event(events::native::BACK, [payload, zero, zero]);
        }
        self.rethrow_if_exception(kind, |t| {
            t.builder
                .ins()
                .load(types::I64, trusted(), involved, rec::ARGS)
        });
        if clauses.is_empty() {
            // Handler search never picks a resume without clauses.
            self.trap(TrapCode::UnhandledTag);
        } else {
            let suspender = involved;
            let ancestor = self
                .builder
                .ins()
                .load(types::I64, t, suspender, rec::LAST_ANCESTOR);
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.builder
                .ins()
                .store(t, zero, ancestor, rec::PARENT + rec::CTX_PC);
            self.switch_event(events::native::SUSPENDED, [suspender, zero, zero]);
            let new_ref = self.make_contref(suspender);
            self.branch_to_clause(clauses, store, new_ref, |t, i, ty| {
                let off = rec::ARGS + 8 * i as i32;
                t.builder
                    .ins()
                    .load(clif_type(ty), trusted(), suspender, off)
            });
        }

        self.builder.switch_to_block(returned);
        // The record that returned: the chain's outermost, or whatever took
        // its place through `switch`.
        let finished = involved;
        let mut results = Vec::new();
        for (i, r) in ft.results().iter().enumerate() {
            let off = rec::ARGS + 8 * i as i32;
            results.push(self.builder.ins().load(clif_type(r), t, finished, off));
        }
        // Read before the release frees the record.
        let reported = self.env.switch_events.then(|| {
            let id_offset = std::mem::offset_of!(crate::vm::continuation::ContinuationRecord, id);
            let id = self
                .builder
                .ins()
                .load(types::I64, t, finished, id_offset as i32);
            let entry = self
                .builder
                .ins()
                .load(types::I64, t, finished, rec::ENTRY_FUNC);
            (id, entry)
        });
        self.release_inline(finished, store);
        if let Some((id, entry)) = reported {
            let zero = self.builder.ins().iconst(types::I64, 0);
            self.switch_event(events::native::RETURNED, [id, entry, zero]);
        }
        self.stack.extend(results);
    }

    /// After a resume's switch back: splits on the payload word's kind. The
    /// builder continues in the block for suspensions and exceptions; the
    /// returned block (for a return) and the kind are given back.
    fn split_on_return(&mut self, word: Value) -> (Value, ir::Block) {
        let kind = self
            .builder
            .ins()
            .band_imm_u(word, cpayload::KIND_MASK as i64);
        let is_return =
            self.builder
                .ins()
                .icmp_imm_u(IntCC::Equal, kind, cpayload::RETURNED as i64);
        let returned = self.builder.create_block();
        let other = self.builder.create_block();
        self.builder
            .ins()
            .brif(is_return, returned, &[], other, &[]);
        self.builder.switch_to_block(other);
        (kind, returned)
    }

    /// After a suspension to one of this resume's `clauses`: branches to the
    /// chosen clause's label with the tag's values (`value(t, i, type)`
    /// loads the i-th) and the new continuation `contref`. With several
    /// clauses the choice is in the store context.
    fn branch_to_clause(
        &mut self,
        clauses: &[(u32, Option<u32>)],
        store: Value,
        contref: Value,
        value: impl Fn(&mut Self, usize, &ValType) -> Value,
    ) {
        let blocks: Vec<ir::Block> = clauses
            .iter()
            .map(|_| self.builder.create_block())
            .collect();
        if blocks.len() == 1 {
            self.builder.ins().jump(blocks[0], &[]);
        } else {
            let clause =
                self.builder
                    .ins()
                    .load(types::I64, trusted(), store, VMSTORE_SUSPEND_CLAUSE);
            let dfg = &mut self.builder.func.dfg;
            let calls: Vec<_> = blocks.iter().map(|b| dfg.block_call(*b, &[])).collect();
            let jt = self
                .builder
                .create_jump_table(ir::JumpTableData::new(calls[0], &calls));
            let clause32 = self.builder.ins().ireduce(types::I32, clause);
            self.builder.ins().br_table(clause32, jt);
        }
        for (&(tag, label), block) in clauses.iter().zip(blocks) {
            self.builder.switch_to_block(block);
            let Some(label) = label else {
                // Only `switch` uses this clause, and it never comes here.
                self.trap(TrapCode::UnhandledTag);
                continue;
            };
            let mut vals: Vec<Value> = self
                .tag_params(tag)
                .iter()
                .enumerate()
                .map(|(i, p)| value(self, i, p))
                .collect();
            vals.push(contref);
            let (dest, _) = self.br_target(label);
            self.jump(dest, &vals);
        }
    }

    /// Puts a finished continuation's record on the store's free list (the
    /// inline twin of `runtime::continuations::release`).
    fn release_inline(&mut self, record: Value, store: Value) {
        use crate::vm::continuation::{offsets as rec, state};
        let t = trusted();
        let returned = self
            .builder
            .ins()
            .iconst(types::I32, state::RETURNED as i64);
        self.builder.ins().store(t, returned, record, rec::STATE);
        let generation = self
            .builder
            .ins()
            .load(types::I64, t, record, rec::GENERATION);
        let generation = self.builder.ins().iadd_imm_s(generation, 1);
        self.builder
            .ins()
            .store(t, generation, record, rec::GENERATION);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder
            .ins()
            .store(t, zero, record, rec::PARENT + rec::CTX_PC);
        let free = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CONT_FREE);
        self.builder.ins().store(t, free, record, rec::NEXT_FREE);
        self.builder
            .ins()
            .store(t, record, store, VMSTORE_CONT_FREE);
        let live = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CONT_LIVE);
        let live = self.builder.ins().iadd_imm_s(live, -1);
        self.builder.ins().store(t, live, store, VMSTORE_CONT_LIVE);
    }

    /// A new exception object of tag `tag_index` with `values`.
    fn new_exception(&mut self, tag_index: u32, values: &[Value]) -> Value {
        let (_, buffer) = self.switch_buffer(values, values.len());
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, values.len() as i64);
        self.libcall(
            crate::vm::exceptions::new_exception as *const () as usize,
            &[tag, buffer, n],
            &[types::I64],
        )[0]
    }

    /// After this continuation was switched back to: a resume_throw sends
    /// an exception (non-zero `received`) to raise here.
    fn throw_if_received(&mut self, received: Value) {
        let raise = self.builder.create_block();
        let next = self.builder.create_block();
        self.builder.set_cold_block(raise);
        self.builder.ins().brif(received, raise, &[], next, &[]);
        self.builder.switch_to_block(raise);
        let reachable = self.reachable;
        self.throw_call(
            crate::vm::exceptions::switchyard_throw_ref as *const () as usize,
            &[received],
        );
        self.reachable = reachable;
        self.builder.switch_to_block(next);
    }

    /// A buffer in this frame for the values of one switch: `capacity`
    /// values plus one slot (for a continuation reference), holding
    /// `values` at first.
    fn switch_buffer(&mut self, values: &[Value], capacity: usize) -> (ir::StackSlot, Value) {
        let slot = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            8 * (capacity.max(values.len()) as u32 + 1),
            3,
        ));
        for (i, v) in values.iter().enumerate() {
            self.builder
                .ins()
                .stack_store(types::I64, *v, slot, 8 * i as i32);
        }
        let addr = self.builder.ins().stack_addr(types::I64, slot, 0);
        (slot, addr)
    }

    /// Values of `tys` back from a switch buffer.
    fn load_buffer(&mut self, slot: ir::StackSlot, tys: &[ValType]) -> Vec<Value> {
        tys.iter()
            .enumerate()
            .map(|(i, t)| {
                self.builder
                    .ins()
                    .stack_load(types::I64, clif_type(t), slot, 8 * i as i32)
            })
            .collect()
    }

    /// A libcall-mode `suspend` or `switch` reporting that this continuation
    /// was resumed by `resume_throw`: raise the exception (in the buffer).
    fn raise_on_throw_status(&mut self, status: Value, slot: ir::StackSlot) {
        use crate::vm::libcall_switching::status as st;
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
    fn trap_on_status(&mut self, result: Value, status: u64, code: TrapCode) {
        let hit = self
            .builder
            .ins()
            .icmp_imm_u(IntCC::Equal, result, status as i64);
        self.builder.ins().trapnz(hit, clif_trap(code));
    }

    /// The handler table of a resume, in this frame.
    fn handler_table(&mut self, clauses: &[(u32, Option<u32>)]) -> Value {
        if clauses.is_empty() {
            return self.builder.ins().iconst(types::I64, 0);
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
        self.builder.ins().stack_addr(types::I64, slot, 0)
    }

    /// `resume` in libcall mode.
    fn resume_by_libcall(
        &mut self,
        cont_type_index: u32,
        clauses: &[(u32, Option<u32>)],
        throw_tag: Option<u32>,
    ) {
        use crate::vm::libcall_switching::{self as ls, status};
        let ft = self.env.func_type(cont_type_index).clone();
        let contref = self.pop();
        let (args, thrown) = match throw_tag {
            None => (self.popn(ft.params().len()), Vec::new()),
            Some(tag) => {
                let n = self.tag_params(tag).len();
                (Vec::new(), self.popn(n))
            }
        };
        let exn = match throw_tag {
            Some(tag) => self.new_exception(tag, &thrown),
            None => self.builder.ins().iconst(types::I64, 0),
        };
        let mut capacity = args.len().max(ft.results().len()).max(1);
        for (tag, label) in clauses {
            if label.is_some() {
                capacity = capacity.max(self.tag_params(*tag).len());
            }
        }
        let (slot, buffer) = self.switch_buffer(&args, capacity);
        let table = self.handler_table(clauses);
        let nargs = self.builder.ins().iconst(types::I64, args.len() as i64);
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
        if throw_tag.is_some() {
            // A continuation that never ran raises the exception right here.
            let here = self
                .builder
                .ins()
                .icmp_imm_u(IntCC::Equal, word, status::THROW as i64);
            let flag = self.builder.ins().uextend(types::I64, here);
            let to_throw = self.builder.ins().imul(flag, exn);
            self.throw_if_received(to_throw);
        }
        let (kind, returned) = self.split_on_return(word);
        self.rethrow_if_exception(kind, |t| {
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
            self.branch_to_clause(clauses, store, k, |t, i, ty| {
                t.builder
                    .ins()
                    .stack_load(types::I64, clif_type(ty), slot, 8 * i as i32)
            });
        }
        self.builder.switch_to_block(returned);
        let results = self.load_buffer(slot, ft.results());
        self.stack.extend(results);
    }

    /// `suspend` in libcall mode.
    fn suspend_by_libcall(&mut self, tag_index: u32) {
        use crate::vm::libcall_switching as ls;
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        let ty = self.env.info.tags[tag_index as usize];
        let results = self.env.func_type(ty).results().to_vec();
        let (slot, buffer) = self.switch_buffer(&vals, results.len());
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, vals.len() as i64);
        let cap = self
            .builder
            .ins()
            .iconst(types::I64, vals.len().max(results.len()) as i64);
        let status = self.libcall(
            ls::suspend as *const () as usize,
            &[tag, buffer, n, cap],
            &[types::I64],
        )[0];
        self.raise_on_throw_status(status, slot);
        self.builder
            .ins()
            .trapnz(status, clif_trap(TrapCode::UnhandledTag));
        let vals = self.load_buffer(slot, &results);
        self.stack.extend(vals);
    }

    /// For `switch` with continuation type `cont_type_index`: how many
    /// values it sends (the type's parameters but the last, the switcher's
    /// own continuation) and the types it receives back when switched to
    /// again (the parameters of that continuation's type).
    fn switch_signature(&self, cont_type_index: u32) -> (usize, Vec<ValType>) {
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

    /// `switch` in libcall mode.
    fn switch_by_libcall(&mut self, cont_type_index: u32, tag_index: u32) {
        use crate::vm::libcall_switching::{self as ls, status};
        let (sent, received) = self.switch_signature(cont_type_index);
        let target = self.pop();
        let vals = self.popn(sent);
        let (slot, buffer) = self.switch_buffer(&vals, received.len());
        let tag = self.tag_ptr(tag_index);
        let n = self.builder.ins().iconst(types::I64, vals.len() as i64);
        let cap = self
            .builder
            .ins()
            .iconst(types::I64, vals.len().max(received.len()) as i64);
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
        let vals = self.load_buffer(slot, &received);
        self.stack.extend(vals);
    }

    /// `cont.bind`: consumes the continuation and returns a new reference to
    /// it with its first arguments stored in the record.
    fn cont_bind(&mut self, from: u32, to: u32) {
        use crate::vm::continuation::offsets as rec;
        let n = self.env.func_type(from).params().len() - self.env.func_type(to).params().len();
        let contref = self.pop();
        let record = self.take_continuation(contref);
        let vals = self.popn(n);
        let t = trusted();
        let bound = self.builder.ins().load(types::I64, t, record, rec::BOUND);
        let bound_bytes = self.builder.ins().ishl_imm_u(bound, 3);
        let base = self.builder.ins().iadd(record, bound_bytes);
        for (i, v) in vals.iter().enumerate() {
            self.builder
                .ins()
                .store(t, *v, base, rec::ARGS + 8 * i as i32);
        }
        let bound = self.builder.ins().iadd_imm_s(bound, n as i64);
        self.builder.ins().store(t, bound, record, rec::BOUND);
        let new_ref = self.make_contref(record);
        self.push(new_ref);
    }

    /// `switch`: suspends the running continuation to the resume that has a
    /// `(on $tag switch)` clause for `tag_index`, and runs the target
    /// continuation in its place, handing it the values and a reference to
    /// the suspended one.
    fn switch(&mut self, cont_type_index: u32, tag_index: u32) {
        use crate::vm::continuation::{offsets as rec, state};
        let t = trusted();
        let (sent, received) = self.switch_signature(cont_type_index);
        let target_ref = self.pop();
        let vals = self.popn(sent);
        let target = self.take_continuation(target_ref);
        let tag = self.tag_ptr(tag_index);
        let marked = self.builder.ins().bor_imm_u(tag, 1);
        let found = self.libcall(
            libcalls::find_handler as *const () as usize,
            &[marked],
            &[types::I64],
        )[0];
        self.builder
            .ins()
            .trapz(found, clif_trap(TrapCode::UnhandledTag));
        let handler = self.builder.ins().band_imm_u(found, (1i64 << 48) - 1);
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.switch_event(events::native::SWITCH, [target, zero, tag]);
        let store = self.store_context();
        let me = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CURRENT_CONT);

        // Suspend ourselves, with the handler's continuation as our chain's
        // outermost.
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().store(t, zero, me, rec::BOUND);
        self.builder.ins().store(t, handler, me, rec::LAST_ANCESTOR);
        self.builder.ins().store(t, tag, me, rec::LAST_TAG);
        let suspended = self
            .builder
            .ins()
            .iconst(types::I32, state::SUSPENDED as i64);
        self.builder.ins().store(t, suspended, me, rec::STATE);
        let switches = self.builder.ins().load(types::I64, t, me, rec::SWITCHES);
        let switches = self.builder.ins().iadd_imm_s(switches, 1);
        self.builder.ins().store(t, switches, me, rec::SWITCHES);
        let my_ref = self.make_contref(me);

        // The target receives the values and our reference.
        let bound = self.builder.ins().load(types::I64, t, target, rec::BOUND);
        let bound_bytes = self.builder.ins().ishl_imm_u(bound, 3);
        let base = self.builder.ins().iadd(target, bound_bytes);
        for (i, v) in vals.iter().chain([&my_ref]).enumerate() {
            self.builder
                .ins()
                .store(t, *v, base, rec::ARGS + 8 * i as i32);
        }

        // The target's chain takes our chain's place under the resumer.
        let outer = self
            .builder
            .ins()
            .load(types::I64, t, target, rec::LAST_ANCESTOR);
        for off in [rec::PARENT_RECORD, rec::HANDLERS, rec::HANDLERS_LEN] {
            let v = self.builder.ins().load(types::I64, t, handler, off);
            self.builder.ins().store(t, v, outer, off);
        }
        for word in 0..3 {
            let v = self
                .builder
                .ins()
                .load(types::I64, t, handler, rec::PARENT + 8 * word);
            self.builder
                .ins()
                .store(t, v, outer, rec::PARENT + 8 * word);
        }
        self.builder
            .ins()
            .store(t, zero, handler, rec::PARENT + rec::CTX_PC);
        let running = self.builder.ins().iconst(types::I32, state::RUNNING as i64);
        self.builder.ins().store(t, running, target, rec::STATE);
        let switches = self
            .builder
            .ins()
            .load(types::I64, t, target, rec::SWITCHES);
        let switches = self.builder.ins().iadd_imm_s(switches, 1);
        self.builder.ins().store(t, switches, target, rec::SWITCHES);
        self.builder
            .ins()
            .store(t, target, store, VMSTORE_CURRENT_CONT);
        let limit = self
            .builder
            .ins()
            .load(types::I64, t, target, rec::STACK_LIMIT);
        self.builder
            .ins()
            .store(t, limit, store, VMSTORE_STACK_LIMIT);
        let own_ctx = self.builder.ins().iadd_imm_s(me, rec::OWN as i64);
        let target_ctx = self.builder.ins().iadd_imm_s(target, rec::OWN as i64);
        let payload_in = self.builder.ins().stack_switch(own_ctx, target_ctx, zero);
        self.throw_if_received(payload_in);

        // Switched back to or resumed: our values are in our record.
        for (i, r) in received.iter().enumerate() {
            let v = self
                .builder
                .ins()
                .load(clif_type(r), t, me, rec::ARGS + 8 * i as i32);
            self.push(v);
        }
    }

    /// Handler search from the running continuation `me` for `tag` (marked
    /// for switch clauses): the record whose resumer handles it and the
    /// clause index. The common case, the first clause of the innermost
    /// resume, is checked inline; the rest is an allocation-free routine.
    fn find_handler(&mut self, me: Value, tag: Value) -> (Value, Value) {
        use crate::vm::continuation::offsets as rec;
        let t = trusted();
        let done = self.builder.create_block();
        let handler = self.builder.append_block_param(done, types::I64);
        let clause = self.builder.append_block_param(done, types::I64);
        let slow = self.builder.create_block();
        let check = self.builder.create_block();
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().brif(me, check, &[], slow, &[]);
        self.builder.switch_to_block(check);
        let len = self
            .builder
            .ins()
            .load(types::I64, t, me, rec::HANDLERS_LEN);
        let first = self.builder.create_block();
        self.builder.ins().brif(len, first, &[], slow, &[]);
        self.builder.switch_to_block(first);
        let table = self.builder.ins().load(types::I64, t, me, rec::HANDLERS);
        let t0 = self.builder.ins().load(types::I64, t, table, 0);
        let hit = self.builder.ins().icmp(IntCC::Equal, t0, tag);
        let args = Self::args(&[me, zero]);
        self.builder.ins().brif(hit, done, &args, slow, &[]);
        self.builder.switch_to_block(slow);
        let found = self.libcall(
            libcalls::find_handler as *const () as usize,
            &[tag],
            &[types::I64],
        )[0];
        self.builder
            .ins()
            .trapz(found, clif_trap(TrapCode::UnhandledTag));
        let h = self.builder.ins().band_imm_u(found, (1i64 << 48) - 1);
        let c = self.builder.ins().ushr_imm_u(found, 48);
        let args = Self::args(&[h, c]);
        self.builder.ins().jump(done, &args);
        self.builder.switch_to_block(done);
        (handler, clause)
    }

    /// `suspend`: finds the handler, hands the tag's values and this
    /// continuation to it, and when resumed pushes the values it was
    /// resumed with.
    fn suspend(&mut self, tag_index: u32) {
        use crate::vm::continuation::{offsets as rec, state};
        let t = trusted();
        let tag = self.tag_ptr(tag_index);
        let store = self.store_context();
        let me = self
            .builder
            .ins()
            .load(types::I64, t, store, VMSTORE_CURRENT_CONT);
        let (handler, clause) = self.find_handler(me, tag);
        let params = self.tag_params(tag_index);
        let vals = self.popn(params.len());
        for (i, v) in vals.iter().enumerate() {
            self.builder
                .ins()
                .store(t, *v, me, rec::ARGS + 8 * i as i32);
        }
        let zero = self.builder.ins().iconst(types::I64, 0);
        self.builder.ins().store(t, zero, me, rec::BOUND);
        self.builder.ins().store(t, handler, me, rec::LAST_ANCESTOR);
        self.builder.ins().store(t, tag, me, rec::LAST_TAG);
        let suspended = self
            .builder
            .ins()
            .iconst(types::I32, state::SUSPENDED as i64);
        self.builder.ins().store(t, suspended, me, rec::STATE);
        self.builder
            .ins()
            .store(t, clause, store, VMSTORE_SUSPEND_CLAUSE);
        let own_ctx = self.builder.ins().iadd_imm_s(me, rec::OWN as i64);
        let parent_ctx = self.builder.ins().iadd_imm_s(handler, rec::PARENT as i64);
        let word = self.builder.ins().bor_imm_u(me, cpayload::SUSPENDED as i64);
        let received = self.builder.ins().stack_switch(own_ctx, parent_ctx, word);
        self.throw_if_received(received);

        // Resumed: the values are at the start of our record's arguments.
        let ty = self.env.info.tags[tag_index as usize];
        let results = self.env.func_type(ty).results().to_vec();
        for (i, r) in results.iter().enumerate() {
            let v = self
                .builder
                .ins()
                .load(clif_type(r), t, me, rec::ARGS + 8 * i as i32);
            self.push(v);
        }
    }

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.builder, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let (a, b) = self.pop2();
        let v = f(&mut self.builder, a, b);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        self.binop(|b, x, y| {
            let c = b.ins().icmp(cc, x, y);
            b.ins().uextend(types::I32, c)
        });
    }

    fn fcmp(&mut self, cc: FloatCC) {
        self.binop(|b, x, y| {
            let c = b.ins().fcmp(cc, x, y);
            b.ins().uextend(types::I32, c)
        });
    }

    fn eqz(&mut self) {
        self.unop(|b, x| {
            let c = b.ins().icmp_imm_s(IntCC::Equal, x, 0);
            b.ins().uextend(types::I32, c)
        });
    }

    /// Calls a libcall with immediate i32 arguments `imm` followed by `n`
    /// operands, pushing its results.
    fn libcall_i32(&mut self, addr: usize, n: usize, returns: &[ir::Type], imm: &[i64]) {
        let mut args: Vec<Value> = imm
            .iter()
            .map(|i| self.builder.ins().iconst(types::I32, *i))
            .collect();
        args.extend(self.popn(n));
        let results = self.libcall(addr, &args, returns);
        self.stack.extend(results);
    }

    /// Like `libcall_i32` for a libcall that returns nonzero on failure:
    /// the trap happens here, in generated code, so that its pc names the
    /// Wasm function.
    fn libcall_checked(&mut self, addr: usize, n: usize, imm: &[i64], code: TrapCode) {
        self.libcall_i32(addr, n, &[types::I32], imm);
        let status = self.pop();
        self.builder.ins().trapnz(status, clif_trap(code));
    }

    fn operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
        use Operator as O;
        match op {
            O::Unreachable => {
                self.trap(TrapCode::Unreachable);
                self.reachable = false;
            }
            O::Nop => {}
            O::Block { blockty } => {
                let (params, results) = self.block_arity(blockty);
                let end = self.new_block(&results);
                self.control.push(Frame {
                    kind: FrameKind::Block,
                    br_dest: end,
                    end,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len() - params.len(),
                    end_reachable: false,
                });
            }
            O::Loop { blockty } => {
                let (params, results) = self.block_arity(blockty);
                let header = self.new_block(&params);
                let end = self.new_block(&results);
                let vals = self.popn(params.len());
                self.jump(header, &vals);
                self.builder.switch_to_block(header);
                let hp = self.builder.block_params(header).to_vec();
                self.control.push(Frame {
                    kind: FrameKind::Loop,
                    br_dest: header,
                    end,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len(),
                    end_reachable: false,
                });
                self.stack.extend(hp);
            }
            O::If { blockty } => {
                let (params, results) = self.block_arity(blockty);
                let cond = self.pop();
                let then_block = self.builder.create_block();
                let else_block = self.builder.create_block();
                let end = self.new_block(&results);
                self.builder
                    .ins()
                    .brif(cond, then_block, &[], else_block, &[]);
                self.builder.switch_to_block(then_block);
                let else_params = self.peekn(params.len()).to_vec();
                self.control.push(Frame {
                    kind: FrameKind::If {
                        else_block: Some(else_block),
                        else_params,
                    },
                    br_dest: end,
                    end,
                    params: params.len(),
                    results: results.len(),
                    height: self.stack.len() - params.len(),
                    end_reachable: false,
                });
            }
            O::Else => self.op_else(),
            O::End => self.op_end(),
            O::Br { relative_depth } => {
                let (dest, n) = self.br_target(relative_depth);
                let vals = self.peekn(n).to_vec();
                self.jump(dest, &vals);
                self.reachable = false;
            }
            O::BrIf { relative_depth } => {
                let cond = self.pop();
                let (dest, n) = self.br_target(relative_depth);
                let vals = Self::args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(cond, dest, &vals, next, &[]);
                self.builder.switch_to_block(next);
            }
            O::BrTable { targets } => {
                let index = self.pop();
                let default = self.br_target(targets.default());
                let mut dests = Vec::new();
                for t in targets.targets() {
                    dests.push(self.br_target(t?).0);
                }
                let vals = Self::args(self.peekn(default.1));
                let dfg = &mut self.builder.func.dfg;
                let def = dfg.block_call(default.0, &vals);
                let calls: Vec<_> = dests.iter().map(|d| dfg.block_call(*d, &vals)).collect();
                let jt = self
                    .builder
                    .create_jump_table(ir::JumpTableData::new(def, &calls));
                self.builder.ins().br_table(index, jt);
                self.reachable = false;
            }
            O::Return => {
                let n = self.control[0].results;
                let vals = self.peekn(n).to_vec();
                self.builder.ins().return_(&vals);
                self.reachable = false;
            }
            O::Call { function_index } => self.call(function_index, false),
            O::ReturnCall { function_index } => self.call(function_index, true),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, false),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.call_indirect(type_index, table_index, true),
            O::CallRef { type_index } | O::ReturnCallRef { type_index } => {
                let tail = matches!(op, O::ReturnCallRef { .. });
                let funcref = self.pop();
                self.builder
                    .ins()
                    .trapz(funcref, clif_trap(TrapCode::NullFuncRef));
                self.call_funcref(funcref, type_index, tail);
            }
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } | O::TypedSelectMulti { .. } => {
                let cond = self.pop();
                let (a, b) = self.pop2();
                let v = self.builder.ins().select(cond, a, b);
                self.push(v);
            }
            O::LocalGet { local_index } => {
                let v = self.builder.use_var(self.locals[local_index as usize]);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let v = self.pop();
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("operand");
                self.builder.def_var(self.locals[local_index as usize], v);
            }
            O::GlobalGet { global_index } => {
                let ty = clif_type(&self.env.info.globals[global_index as usize].ty.content);
                let p = self.global_ptr(global_index);
                let flags = if self.env.info.globals[global_index as usize].ty.mutable {
                    trusted()
                } else {
                    readonly()
                };
                let v = self.builder.ins().load(ty, flags, p, 0);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let p = self.global_ptr(global_index);
                self.builder.ins().store(trusted(), v, p, 0);
            }

            // ----- memory -----
            O::I32Load { memarg } => self.load(&memarg, types::I32),
            O::I64Load { memarg } => self.load(&memarg, types::I64),
            O::F32Load { memarg } => self.load(&memarg, types::F32),
            O::F64Load { memarg } => self.load(&memarg, types::F64),
            O::I32Load8S { memarg } => self.load_ext(&memarg, 8, true, types::I32),
            O::I32Load8U { memarg } => self.load_ext(&memarg, 8, false, types::I32),
            O::I32Load16S { memarg } => self.load_ext(&memarg, 16, true, types::I32),
            O::I32Load16U { memarg } => self.load_ext(&memarg, 16, false, types::I32),
            O::I64Load8S { memarg } => self.load_ext(&memarg, 8, true, types::I64),
            O::I64Load8U { memarg } => self.load_ext(&memarg, 8, false, types::I64),
            O::I64Load16S { memarg } => self.load_ext(&memarg, 16, true, types::I64),
            O::I64Load16U { memarg } => self.load_ext(&memarg, 16, false, types::I64),
            O::I64Load32S { memarg } => self.load_ext(&memarg, 32, true, types::I64),
            O::I64Load32U { memarg } => self.load_ext(&memarg, 32, false, types::I64),
            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg } => self.store(&memarg, None),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(&memarg, Some(8)),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(&memarg, Some(16)),
            O::I64Store32 { memarg } => self.store(&memarg, Some(32)),
            O::MemorySize { mem } => {
                let vm = self.memory_ptr(mem);
                let len = self
                    .builder
                    .ins()
                    .load(types::I64, trusted(), vm, VMMEMORY_LENGTH);
                let pages = self.builder.ins().ushr_imm_u(len, 16);
                let v = self.builder.ins().ireduce(types::I32, pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => self.libcall_i32(
                libcalls::memory_grow as *const () as usize,
                1,
                &[types::I32],
                &[mem as i64],
            ),
            O::MemoryFill { mem } => self.libcall_checked(
                libcalls::memory_fill as *const () as usize,
                3,
                &[mem as i64],
                TrapCode::MemoryOutOfBounds,
            ),
            O::MemoryCopy { dst_mem, src_mem } => self.libcall_checked(
                libcalls::memory_copy as *const () as usize,
                3,
                &[dst_mem as i64, src_mem as i64],
                TrapCode::MemoryOutOfBounds,
            ),
            O::MemoryInit { data_index, mem } => self.libcall_checked(
                libcalls::memory_init as *const () as usize,
                3,
                &[mem as i64, data_index as i64],
                TrapCode::MemoryOutOfBounds,
            ),
            O::DataDrop { data_index } => self.libcall_i32(
                libcalls::data_drop as *const () as usize,
                0,
                &[],
                &[data_index as i64],
            ),

            // ----- tables and references -----
            O::TableGet { table } => {
                let index = self.pop();
                let addr = self.table_elem_addr(table, index, TrapCode::TableOutOfBounds);
                let v = self.builder.ins().load(types::I64, trusted(), addr, 0);
                self.push(v);
            }
            O::TableSet { table } => {
                let v = self.pop();
                let index = self.pop();
                let addr = self.table_elem_addr(table, index, TrapCode::TableOutOfBounds);
                self.builder.ins().store(trusted(), v, addr, 0);
            }
            O::TableSize { table } => {
                let t = self.table_ptr(table);
                let len = self
                    .builder
                    .ins()
                    .load(types::I64, trusted(), t, VMTABLE_LENGTH);
                let v = self.builder.ins().ireduce(types::I32, len);
                self.push(v);
            }
            O::TableGrow { table } => {
                let delta = self.pop();
                let init = self.pop();
                let t = self.builder.ins().iconst(types::I32, table as i64);
                let r = self.libcall(
                    libcalls::table_grow as *const () as usize,
                    &[t, init, delta],
                    &[types::I32],
                );
                self.push(r[0]);
            }
            O::TableFill { table } => {
                let len = self.pop();
                let val = self.pop();
                let dst = self.pop();
                let t = self.builder.ins().iconst(types::I32, table as i64);
                let status = self.libcall(
                    libcalls::table_fill as *const () as usize,
                    &[t, dst, val, len],
                    &[types::I32],
                );
                self.builder
                    .ins()
                    .trapnz(status[0], clif_trap(TrapCode::TableOutOfBounds));
            }
            O::TableCopy {
                dst_table,
                src_table,
            } => self.libcall_checked(
                libcalls::table_copy as *const () as usize,
                3,
                &[dst_table as i64, src_table as i64],
                TrapCode::TableOutOfBounds,
            ),
            O::TableInit { elem_index, table } => self.libcall_checked(
                libcalls::table_init as *const () as usize,
                3,
                &[table as i64, elem_index as i64],
                TrapCode::TableOutOfBounds,
            ),
            O::ElemDrop { elem_index } => self.libcall_i32(
                libcalls::elem_drop as *const () as usize,
                0,
                &[],
                &[elem_index as i64],
            ),
            O::RefNull { .. } => {
                let v = self.builder.ins().iconst(types::I64, 0);
                self.push(v);
            }
            O::RefIsNull => self.eqz(),
            O::RefFunc { function_index } => {
                let v = self.ref_func(function_index);
                self.push(v);
            }
            O::RefAsNonNull => {
                let v = *self.stack.last().expect("operand");
                self.builder
                    .ins()
                    .trapz(v, clif_trap(TrapCode::NullReference));
            }
            O::RefEq => self.icmp(IntCC::Equal),
            O::BrOnNull { relative_depth } => {
                let v = self.pop();
                let (dest, n) = self.br_target(relative_depth);
                let vals = Self::args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(v, next, &[], dest, &vals);
                self.builder.switch_to_block(next);
                self.push(v);
            }
            O::BrOnNonNull { relative_depth } => {
                let v = *self.stack.last().expect("operand");
                let (dest, n) = self.br_target(relative_depth);
                let vals = Self::args(self.peekn(n));
                let next = self.builder.create_block();
                self.builder.ins().brif(v, dest, &vals, next, &[]);
                self.builder.switch_to_block(next);
                self.pop();
            }

            // ----- constants -----
            O::I32Const { value } => {
                let v = self.builder.ins().iconst(types::I32, value as i64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.builder.ins().iconst(types::I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self
                    .builder
                    .ins()
                    .f32const(ir::immediates::Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self
                    .builder
                    .ins()
                    .f64const(ir::immediates::Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // ----- integer comparison -----
            O::I32Eqz | O::I64Eqz => self.eqz(),
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // ----- float comparison -----
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // ----- integer arithmetic -----
            O::I32Clz | O::I64Clz => self.unop(|b, x| b.ins().clz(x)),
            O::I32Ctz | O::I64Ctz => self.unop(|b, x| b.ins().ctz(x)),
            O::I32Popcnt | O::I64Popcnt => self.unop(|b, x| b.ins().popcnt(x)),
            O::I32Add | O::I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            O::I32DivS | O::I64DivS => self.binop(|b, x, y| b.ins().sdiv(x, y)),
            O::I32DivU | O::I64DivU => self.binop(|b, x, y| b.ins().udiv(x, y)),
            O::I32RemS | O::I64RemS => self.binop(|b, x, y| b.ins().srem(x, y)),
            O::I32RemU | O::I64RemU => self.binop(|b, x, y| b.ins().urem(x, y)),
            O::I32And | O::I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            O::I32Shl | O::I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),
            O::I32Extend8S => self.unop(|b, x| {
                let n = b.ins().ireduce(types::I8, x);
                b.ins().sextend(types::I32, n)
            }),
            O::I32Extend16S => self.unop(|b, x| {
                let n = b.ins().ireduce(types::I16, x);
                b.ins().sextend(types::I32, n)
            }),
            O::I64Extend8S => self.unop(|b, x| {
                let n = b.ins().ireduce(types::I8, x);
                b.ins().sextend(types::I64, n)
            }),
            O::I64Extend16S => self.unop(|b, x| {
                let n = b.ins().ireduce(types::I16, x);
                b.ins().sextend(types::I64, n)
            }),
            O::I64Extend32S => self.unop(|b, x| {
                let n = b.ins().ireduce(types::I32, x);
                b.ins().sextend(types::I64, n)
            }),

            // ----- float arithmetic -----
            O::F32Abs | O::F64Abs => self.unop(|b, x| b.ins().fabs(x)),
            O::F32Neg | O::F64Neg => self.unop(|b, x| b.ins().fneg(x)),
            O::F32Ceil | O::F64Ceil => self.unop(|b, x| b.ins().ceil(x)),
            O::F32Floor | O::F64Floor => self.unop(|b, x| b.ins().floor(x)),
            O::F32Trunc | O::F64Trunc => self.unop(|b, x| b.ins().trunc(x)),
            O::F32Nearest | O::F64Nearest => self.unop(|b, x| b.ins().nearest(x)),
            O::F32Sqrt | O::F64Sqrt => self.unop(|b, x| b.ins().sqrt(x)),
            O::F32Add | O::F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            O::F32Min | O::F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y)),

            // ----- conversions -----
            O::I32WrapI64 => self.unop(|b, x| b.ins().ireduce(types::I32, x)),
            O::I64ExtendI32S => self.unop(|b, x| b.ins().sextend(types::I64, x)),
            O::I64ExtendI32U => self.unop(|b, x| b.ins().uextend(types::I64, x)),
            O::I32TruncF32S | O::I32TruncF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint(types::I32, x))
            }
            O::I32TruncF32U | O::I32TruncF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint(types::I32, x))
            }
            O::I64TruncF32S | O::I64TruncF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint(types::I64, x))
            }
            O::I64TruncF32U | O::I64TruncF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint(types::I64, x))
            }
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint_sat(types::I32, x))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint_sat(types::I32, x))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(|b, x| b.ins().fcvt_to_sint_sat(types::I64, x))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(|b, x| b.ins().fcvt_to_uint_sat(types::I64, x))
            }
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unop(|b, x| b.ins().fcvt_from_sint(types::F32, x))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unop(|b, x| b.ins().fcvt_from_uint(types::F32, x))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unop(|b, x| b.ins().fcvt_from_sint(types::F64, x))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unop(|b, x| b.ins().fcvt_from_uint(types::F64, x))
            }
            O::F32DemoteF64 => self.unop(|b, x| b.ins().fdemote(types::F32, x)),
            O::F64PromoteF32 => self.unop(|b, x| b.ins().fpromote(types::F64, x)),
            O::I32ReinterpretF32 => {
                self.unop(|b, x| b.ins().bitcast(types::I32, MemFlagsData::new(), x))
            }
            O::I64ReinterpretF64 => {
                self.unop(|b, x| b.ins().bitcast(types::I64, MemFlagsData::new(), x))
            }
            O::F32ReinterpretI32 => {
                self.unop(|b, x| b.ins().bitcast(types::F32, MemFlagsData::new(), x))
            }
            O::F64ReinterpretI64 => {
                self.unop(|b, x| b.ins().bitcast(types::F64, MemFlagsData::new(), x))
            }

            O::ContNew { cont_type_index } => {
                let funcref = self.pop();
                self.builder
                    .ins()
                    .trapz(funcref, clif_trap(TrapCode::NullFuncRef));
                let body = self.env.cont_bodies[&cont_type_index];
                let body = self.builder.ins().iconst(types::I64, body as i64);
                let r = self.libcall(
                    libcalls::cont_new as *const () as usize,
                    &[funcref, body],
                    &[types::I64],
                );
                self.builder
                    .ins()
                    .trapz(r[0], clif_trap(TrapCode::ContinuationLimit));
                self.push(r[0]);
            }
            O::Resume {
                cont_type_index,
                resume_table,
            } => {
                let clauses = clauses_of(&resume_table);
                if self.env.libcall_switching {
                    self.resume_by_libcall(cont_type_index, &clauses, None)
                } else {
                    self.resume(cont_type_index, &clauses, None)
                }
            }
            O::ResumeThrow {
                cont_type_index,
                tag_index,
                resume_table,
            } => {
                let clauses = clauses_of(&resume_table);
                if self.env.libcall_switching {
                    self.resume_by_libcall(cont_type_index, &clauses, Some(tag_index))
                } else {
                    self.resume(cont_type_index, &clauses, Some(tag_index))
                }
            }
            O::Suspend { tag_index } if self.env.libcall_switching => {
                self.suspend_by_libcall(tag_index)
            }
            O::Suspend { tag_index } => self.suspend(tag_index),
            O::Switch {
                cont_type_index,
                tag_index,
            } if self.env.libcall_switching => self.switch_by_libcall(cont_type_index, tag_index),
            O::Switch {
                cont_type_index,
                tag_index,
            } => self.switch(cont_type_index, tag_index),
            O::ContBind {
                argument_index,
                result_index,
            } => self.cont_bind(argument_index, result_index),
            O::TryTable { try_table } => self.try_table(try_table),
            O::Throw { tag_index } => self.throw(tag_index),
            O::ThrowRef => self.throw_ref(),

            other => {
                return Err(unsupported(&format!("the {} instruction", op_name(&other))));
            }
        }
        Ok(())
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

/// The text-format-like name of an operator, for error messages.
fn op_name(op: &Operator<'_>) -> String {
    let debug = format!("{op:?}");
    let name = debug.split([' ', '{', '(']).next().unwrap_or("");
    // `MemoryAtomicNotify` → `memory.atomic.notify` is close enough to the
    // text format for an error message.
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('.');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}
