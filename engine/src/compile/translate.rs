//! Translation of one Wasm function body to Cranelift IR.
//!
//! The translator keeps Wasm's operand stack as a stack of SSA values and
//! its control stack as frames that know their Cranelift blocks. Code after
//! an unconditional branch is skipped until the enclosing `else` or `end`,
//! counting the blocks nested inside it.

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    self, AbiParam, BlockArg, ExtFuncData, ExternalName, InstBuilder, MemFlagsData, Signature,
    UserExternalName, Value, types,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, FunctionBody, Operator};

use super::env::{ModuleEnv, clif_trap, clif_type, clif_words, wasm_signature, word_flags};
use super::exceptions::CatchClause;
use super::late::LateConst;
use super::stack_switching::Resumption;
use crate::debug::{PARAM_LABEL, VMCTX_LABEL};
use crate::error::{Error, TrapCode};
use crate::module_info::val_type;
use crate::types::{AddrType, ValType, word_offsets};
use crate::vm::layout::*;
use crate::vm::libcalls;

/// What kind of construct a control frame is.
pub(super) enum FrameKind {
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

/// One entry of the control stack: a block, loop, if or try_table.
pub(super) struct Frame {
    pub(super) kind: FrameKind,
    /// Where `br` to this frame goes: the loop header, else the end.
    pub(super) br_dest: ir::Block,
    /// The block after the construct.
    pub(super) end: ir::Block,
    pub(super) params: usize,
    pub(super) results: usize,
    /// Operand stack height below the frame's parameters.
    pub(super) height: usize,
    /// Whether some branch targets `end`.
    pub(super) end_reachable: bool,
}

/// Translates function bodies; reused across the functions of a module.
pub(crate) struct FuncTranslator<'a, 'b> {
    pub(super) env: &'a ModuleEnv<'a>,
    pub(super) builder: FunctionBuilder<'b>,
    pub(super) vmctx: Value,
    pub(super) locals: Vec<Variable>,
    pub(super) stack: Vec<Value>,
    pub(super) control: Vec<Frame>,
    pub(super) reachable: bool,
    /// Nesting depth of blocks inside unreachable code.
    pub(super) dead_depth: usize,
    pub(super) sig_refs: HashMap<u32, ir::SigRef>,
    pub(super) func_refs: HashMap<u32, ir::FuncRef>,
    pub(super) libcall_sigs: HashMap<(Vec<ir::Type>, Vec<ir::Type>), ir::SigRef>,
    /// Catch clauses of the enclosing `try_table`s, innermost last.
    pub(super) handler_scopes: Vec<Vec<CatchClause>>,
    /// The block where the last `try_call` returns normally, to continue in.
    pub(super) pending_normal: Option<ir::Block>,
    /// Under a debugger only: the frame slot that holds each Wasm local's
    /// current value (`None`: no slot), see `keep_in_frame`.
    debug_slots: Option<Vec<Option<ir::StackSlot>>>,
    /// The handler table of each resume with clauses, by the resume's
    /// byte offset: filled once in the entry block (`stack_switching::
    /// handlers`), so that a resume in a loop only points to it.
    pub(super) resume_tables: HashMap<usize, ir::StackSlot>,
    /// Native switching, in a function that suspends: the
    /// record of the continuation this frame runs on (null on the main
    /// stack), loaded once at entry and then taken from the word every
    /// switch back hands over (`stack_switching::native`).
    pub(super) running_record: Option<Variable>,
    /// Byte offset of the operator being translated.
    pub(super) op_offset: usize,
}

pub(super) fn heap_flags() -> MemFlagsData {
    MemFlagsData::new().with_trap_code(Some(clif_trap(TrapCode::MemoryOutOfBounds)))
}

/// Flags for loads of VM structures that never change once set.
pub(super) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}

pub(super) fn trusted() -> MemFlagsData {
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
            debug_slots: None,
            resume_tables: HashMap::new(),
            running_record: None,
            op_offset: 0,
        }
    }

    /// Under a debugger only (value labels collected): gives the value
    /// `v` of `label` (the VM context, a Wasm local) a frame slot of its
    /// own, keyed by the label, and stores `v` there; `label_local` stores
    /// each later value of a local. Cranelift's value labels lose a value
    /// after its last use: in a frame whose last act was a call, the VM
    /// context (and with it every variable in linear memory) and clang's
    /// frame-base local; the slots keep them for every pc after the
    /// prologue's stores (`compile::places_beyond_ranges`). Scalars only.
    fn keep_in_frame(&mut self, v: Value, label: u32) -> Option<ir::StackSlot> {
        let ty = self.builder.func.dfg.value_type(v);
        if ![types::I32, types::I64, types::F32, types::F64].contains(&ty) {
            return None;
        }
        let slot = self
            .builder
            .create_sized_stack_slot(ir::StackSlotData::new_with_key(
                ir::StackSlotKind::ExplicitSlot,
                8,
                3,
                ir::StackSlotKey::new(u64::from(label)),
            ));
        self.store_in_slot(v, slot);
        Some(slot)
    }

    /// Stores `v` in a slot of `keep_in_frame`; an `i32` zero-extended, so
    /// that the slot's 8 bytes read as the value.
    fn store_in_slot(&mut self, v: Value, slot: ir::StackSlot) {
        let v = match self.builder.func.dfg.value_type(v) {
            types::I32 => self.builder.ins().uextend(types::I64, v),
            _ => v,
        };
        self.builder.ins().stack_store(types::I64, v, slot, 0);
    }

    /// Under a debugger: stores `v`, the new value of local `index`, in
    /// the local's frame slot (made at its first value, in the prologue).
    fn store_local_in_frame(&mut self, index: usize, v: Value) {
        let slots = self.debug_slots.as_ref().expect("under a debugger");
        if let Some(&slot) = slots.get(index) {
            if let Some(slot) = slot {
                self.store_in_slot(v, slot);
            }
            return;
        }
        let slot = self.keep_in_frame(v, index as u32);
        let slots = self.debug_slots.as_mut().expect("under a debugger");
        slots.resize(index, None);
        slots.push(slot);
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
        // Value labels (kept only when the function collects debug info)
        // tell the debugger where Wasm locals and the VM context live.
        self.builder
            .set_val_label(self.vmctx, ir::ValueLabel::from_u32(VMCTX_LABEL));
        let vmctx_slot = if self.builder.func.dfg.values_labels.is_some() {
            self.debug_slots = Some(Vec::new());
            self.keep_in_frame(self.vmctx, VMCTX_LABEL)
        } else {
            None
        };

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
            self.label_local(self.locals.len(), params[i + 2]);
            self.builder.set_val_label(
                params[i + 2],
                ir::ValueLabel::from_u32(PARAM_LABEL + self.locals.len() as u32),
            );
            self.locals.push(var);
        }
        let mut locals_reader = body.get_locals_reader()?;
        for _ in 0..locals_reader.get_count() {
            let (count, ty) = locals_reader.read()?;
            let ty = val_type(ty, &env.info.types, env.interner)?;
            for _ in 0..count {
                let var = self.builder.declare_var(clif_type(&ty));
                let zero = self.zero(&ty);
                self.builder.def_var(var, zero);
                self.label_local(self.locals.len(), zero);
                self.locals.push(var);
            }
        }
        if let Some(slot) = vmctx_slot {
            // Every slot holds its value from here on.
            let point = self.builder.ins().sequence_point();
            self.builder
                .func
                .debug_tags
                .set(point, [ir::DebugTag::StackSlot(slot)]);
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

        self.fill_handler_tables(body)?;

        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let offset = reader.original_position();
            let op = reader.read()?;
            self.op_offset = offset;
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

    /// Marks `v` as the value of Wasm local `index` from here on.
    fn label_local(&mut self, index: usize, v: Value) {
        self.builder
            .set_val_label(v, ir::ValueLabel::from_u32(index as u32));
        if self.debug_slots.is_some() {
            self.store_local_in_frame(index, v);
        }
    }

    pub(super) fn zero(&mut self, ty: &ValType) -> Value {
        let ins = self.builder.ins();
        match ty {
            ValType::I32 => ins.iconst(types::I32, 0),
            ValType::I64 | ValType::Ref(_) => ins.iconst(types::I64, 0),
            ValType::F32 => ins.f32const(0.0),
            ValType::F64 => ins.f64const(0.0),
            ValType::V128 => {
                let zero = self.builder.func.dfg.constants.insert(vec![0u8; 16].into());
                self.builder.ins().vconst(types::I8X16, zero)
            }
        }
    }

    pub(super) fn pop(&mut self) -> Value {
        self.stack.pop().expect("validated operand stack")
    }

    pub(super) fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub(super) fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    pub(super) fn peekn(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    pub(super) fn block_arity(&self, bt: BlockType) -> (Vec<ir::Type>, Vec<ir::Type>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => {
                let t = val_type(t, &self.env.info.types, self.env.interner)
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

    pub(super) fn new_block(&mut self, tys: &[ir::Type]) -> ir::Block {
        let b = self.builder.create_block();
        for t in tys {
            self.builder.append_block_param(b, *t);
        }
        b
    }

    pub(super) fn args(vals: &[Value]) -> Vec<BlockArg> {
        vals.iter().map(|v| BlockArg::Value(*v)).collect()
    }

    pub(super) fn jump(&mut self, block: ir::Block, vals: &[Value]) {
        let args = Self::args(vals);
        self.builder.ins().jump(block, &args);
    }

    pub(super) fn trap(&mut self, code: TrapCode) {
        self.builder.ins().trap(clif_trap(code));
    }

    /// The branch target and arity of relative depth `depth`, marking the
    /// frame's end as reachable.
    pub(super) fn br_target(&mut self, depth: u32) -> (ir::Block, usize) {
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

    pub(super) fn dead_operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
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

    pub(super) fn op_else(&mut self) {
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

    pub(super) fn op_end(&mut self) {
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

    // ----- VM structure access -----

    pub(super) fn vmctx_load(&mut self, offset: u32, flags: MemFlagsData) -> Value {
        self.builder
            .ins()
            .load(types::I64, flags, self.vmctx, offset as i32)
    }

    pub(super) fn memory_ptr(&mut self, mem: u32) -> Value {
        let off = self.env.offsets.memory(mem);
        self.vmctx_load(off, readonly())
    }

    pub(super) fn memory_base(&mut self, mem: u32) -> Value {
        let off = self.env.offsets.memory_base(mem);
        self.vmctx_load(off, readonly())
    }

    pub(super) fn global_ptr(&mut self, index: u32) -> Value {
        let off = self.env.offsets.global(index);
        self.vmctx_load(off, readonly())
    }

    /// Where global `index`'s value is: the VM context and the offset of
    /// its inline storage if the module defines it, else the imported
    /// global's storage.
    fn global_addr(&mut self, index: u32) -> (Value, i32) {
        match self.env.offsets.defined_global(index) {
            Some(off) => (self.vmctx, off as i32 + VMGLOBAL_VALUE),
            None => (self.global_ptr(index), VMGLOBAL_VALUE),
        }
    }

    pub(super) fn table_ptr(&mut self, index: u32) -> Value {
        let off = self.env.offsets.table(index);
        self.vmctx_load(off, readonly())
    }

    /// The address type of memory `mem`.
    pub(super) fn memory_addr_type(&self, mem: u32) -> AddrType {
        self.env.info.memories[mem as usize].addr
    }

    /// The address type of table `table`.
    pub(super) fn table_addr_type(&self, table: u32) -> AddrType {
        self.env.info.tables[table as usize].ty.addr
    }

    /// `v` as an i64: zero-extended if it is an i32 (an address, index or
    /// length of a 32-bit memory or table, or a `memory.fill` byte).
    pub(super) fn widen(&mut self, v: Value) -> Value {
        if self.builder.func.dfg.value_type(v) == types::I32 {
            self.builder.ins().uextend(types::I64, v)
        } else {
            v
        }
    }

    /// A size or old size computed as an i64 (pages, elements, or -1 as
    /// all ones), as the address type `addr` has it.
    pub(super) fn narrow_to(&mut self, addr: AddrType, v: Value) -> Value {
        match addr {
            AddrType::I32 => self.builder.ins().ireduce(types::I32, v),
            AddrType::I64 => v,
        }
    }

    /// The address of element `index` (i32 or i64, as the table's address
    /// type) of `table`, trapping with `code` when it is out of bounds.
    pub(super) fn table_elem_addr(&mut self, table: u32, index: Value, code: TrapCode) -> Value {
        let t = self.table_ptr(table);
        let len = self
            .builder
            .ins()
            .load(types::I64, trusted(), t, VMTABLE_LENGTH);
        let index = self.widen(index);
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

    /// Effective address of a memory access, as a native address and a
    /// static offset to add to it; pops the Wasm address.
    ///
    /// A 32-bit memory needs no check: base + zext(address) + offset lies
    /// in its reservation, and a fault there is the trap. A 64-bit memory
    /// checks that address + offset (without overflow) is below the
    /// current length: that covers the access's first byte, and the guard
    /// after the memory's largest size catches the rest of an access that
    /// crosses the end (`vm::memory`), so the check needs no access size.
    pub(super) fn mem_addr(&mut self, memarg: &wasmparser::MemArg) -> (Value, i32) {
        let index = self.pop();
        let base = self.memory_base(memarg.memory);
        if self.memory_addr_type(memarg.memory) == AddrType::I64 {
            let oob = clif_trap(TrapCode::MemoryOutOfBounds);
            let first = if memarg.offset == 0 {
                index
            } else {
                let offset = self.builder.ins().iconst(types::I64, memarg.offset as i64);
                self.builder.ins().uadd_overflow_trap(index, offset, oob)
            };
            let vm = self.memory_ptr(memarg.memory);
            let len = self
                .builder
                .ins()
                .load(types::I64, trusted(), vm, VMMEMORY_LENGTH);
            let outside = self
                .builder
                .ins()
                .icmp(IntCC::UnsignedGreaterThanOrEqual, first, len);
            self.builder.ins().trapnz(outside, oob);
            return (self.builder.ins().iadd(base, first), 0);
        }
        let index = self.builder.ins().uextend(types::I64, index);
        let addr = self.builder.ins().iadd(base, index);
        if memarg.offset <= i32::MAX as u64 {
            (addr, memarg.offset as i32)
        } else {
            (self.builder.ins().iadd_imm_s(addr, memarg.offset as i64), 0)
        }
    }

    pub(super) fn load(&mut self, memarg: &wasmparser::MemArg, ty: ir::Type) {
        let (addr, off) = self.mem_addr(memarg);
        let v = self.builder.ins().load(ty, heap_flags(), addr, off);
        self.push(v);
    }

    pub(super) fn load_ext(
        &mut self,
        memarg: &wasmparser::MemArg,
        bits: u8,
        signed: bool,
        ty: ir::Type,
    ) {
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

    pub(super) fn store(&mut self, memarg: &wasmparser::MemArg, bits: Option<u8>) {
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
    pub(super) fn libcall(
        &mut self,
        addr: usize,
        args: &[Value],
        returns: &[ir::Type],
    ) -> Vec<Value> {
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
        let callee = self.host_address(addr);
        let call = self.builder.ins().call_indirect(sig_ref, callee, &all);
        self.builder.inst_results(call).to_vec()
    }

    pub(super) fn sig_ref(&mut self, type_index: u32) -> ir::SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(self.env.func_type(type_index));
        let s = self.builder.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    pub(super) fn func_ref(&mut self, func_index: u32) -> ir::FuncRef {
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

    pub(super) fn push_results(&mut self, inst: ir::Inst) {
        let results = self.builder.inst_results(inst).to_vec();
        self.stack.extend(results);
    }

    pub(super) fn call(&mut self, func_index: u32, tail: bool) {
        let n = self.env.func_sig(func_index).params().len();
        let mut args = vec![self.vmctx, self.vmctx];
        let popped = self.popn(n);
        if self.env.info.is_imported_func(func_index) {
            let off = self.env.offsets.import_call(func_index);
            args[0] = self.vmctx_load(off + IMPORT_CALL_VMCTX, readonly());
            args.extend(popped);
            let code = self.vmctx_load(off + IMPORT_CALL_CODE, readonly());
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

    pub(super) fn finish_indirect_call(
        &mut self,
        sig: ir::SigRef,
        code: Value,
        args: &[Value],
        tail: bool,
    ) {
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
    pub(super) fn call_funcref(&mut self, funcref: Value, type_index: u32, tail: bool) {
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

    pub(super) fn call_indirect(&mut self, type_index: u32, table: u32, tail: bool) {
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
        let expected = self.late_const(LateConst::TypeId(type_index));
        let ok = self.builder.ins().icmp(IntCC::Equal, actual, expected);
        self.builder
            .ins()
            .trapz(ok, clif_trap(TrapCode::IndirectCallTypeMismatch));
        self.call_funcref(funcref, type_index, tail);
    }

    pub(super) fn ref_func(&mut self, func_index: u32) -> Value {
        if self.env.info.is_imported_func(func_index) {
            let off = self.env.offsets.imported_func(func_index);
            self.vmctx_load(off, readonly())
        } else {
            let off = self.env.offsets.defined_funcref(func_index);
            self.builder.ins().iadd_imm_s(self.vmctx, off as i64)
        }
    }

    /// The store context, loaded where it is used (stack switching and
    /// exceptions) rather than hoisted out of loops: a hoisted value lives
    /// across every `stack_switch` of the loop, which clobbers all
    /// registers, so it is spilled and stored again around each switch; a
    /// load from the VM context after the switch costs less
    /// (`switch_pingpong` about 8% faster, docs/performance.md).
    pub(super) fn store_context(&mut self) -> Value {
        self.vmctx_load(VMCTX_STORE as u32, trusted())
    }

    /// A tag's identity, loaded where it is used, as the store context is.
    pub(super) fn tag_ptr(&mut self, tag_index: u32) -> Value {
        let off = self.env.offsets.tag(tag_index);
        self.vmctx_load(off, trusted())
    }

    /// The parameter types of tag `tag_index`.
    pub(super) fn tag_params(&self, tag_index: u32) -> Vec<ValType> {
        let ty = self.env.info.tags[tag_index as usize];
        self.env.func_type(ty).params().to_vec()
    }

    /// How many payload words `vals` take (a v128 two).
    pub(super) fn value_words(&self, vals: &[Value]) -> usize {
        vals.iter()
            .map(|v| clif_words(self.builder.func.dfg.value_type(*v)))
            .sum()
    }

    /// Stores `vals` in consecutive payload words from `base + offset`.
    pub(super) fn store_words(&mut self, vals: &[Value], base: Value, offset: i32) {
        let mut at = offset;
        for v in vals {
            self.builder.ins().store(word_flags(), *v, base, at);
            at += 8 * clif_words(self.builder.func.dfg.value_type(*v)) as i32;
        }
    }

    /// Values of `tys` from consecutive payload words at `base + offset`.
    pub(super) fn load_words(&mut self, tys: &[ValType], base: Value, offset: i32) -> Vec<Value> {
        let (at, _) = word_offsets(tys);
        tys.iter()
            .zip(at)
            .map(|(t, at)| {
                self.builder
                    .ins()
                    .load(clif_type(t), word_flags(), base, offset + 8 * at as i32)
            })
            .collect()
    }

    /// A buffer in this frame for values handed to the host (a libcall-mode
    /// switch, a throw): `capacity` words plus one (for a continuation
    /// reference), holding `values` at first. A v128 takes two words.
    pub(super) fn value_buffer(
        &mut self,
        values: &[Value],
        capacity: usize,
    ) -> (ir::StackSlot, Value) {
        let words = self.value_words(values);
        let slot = self.builder.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            8 * (capacity.max(words) as u32 + 1),
            4,
        ));
        let mut at = 0;
        for v in values {
            self.builder.ins().stack_store(types::I64, *v, slot, at);
            at += 8 * clif_words(self.builder.func.dfg.value_type(*v)) as i32;
        }
        let addr = self.builder.ins().stack_addr(types::I64, slot, 0);
        (slot, addr)
    }

    /// Values of `tys` back from a value buffer.
    pub(super) fn load_value_buffer(&mut self, slot: ir::StackSlot, tys: &[ValType]) -> Vec<Value> {
        let (at, _) = word_offsets(tys);
        tys.iter()
            .zip(at)
            .map(|(t, at)| {
                self.builder
                    .ins()
                    .stack_load(types::I64, clif_type(t), slot, 8 * at as i32)
            })
            .collect()
    }

    pub(super) fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.builder, a);
        self.push(v);
    }

    pub(super) fn binop(
        &mut self,
        f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value,
    ) {
        let (a, b) = self.pop2();
        let v = f(&mut self.builder, a, b);
        self.push(v);
    }

    pub(super) fn icmp(&mut self, cc: IntCC) {
        self.binop(|b, x, y| {
            let c = b.ins().icmp(cc, x, y);
            b.ins().uextend(types::I32, c)
        });
    }

    pub(super) fn fcmp(&mut self, cc: FloatCC) {
        self.binop(|b, x, y| {
            let c = b.ins().fcmp(cc, x, y);
            b.ins().uextend(types::I32, c)
        });
    }

    pub(super) fn eqz(&mut self) {
        self.unop(|b, x| {
            let c = b.ins().icmp_imm_s(IntCC::Equal, x, 0);
            b.ins().uextend(types::I32, c)
        });
    }

    /// Calls a libcall with immediate i32 arguments `imm` followed by `n`
    /// operands, pushing its results. The operands are addresses, indices,
    /// lengths and values of bulk memory and table instructions: i32 ones
    /// are zero-extended, so the libcalls take 64-bit operands whatever
    /// the address types.
    pub(super) fn libcall_i32(&mut self, addr: usize, n: usize, returns: &[ir::Type], imm: &[i64]) {
        let mut args: Vec<Value> = imm
            .iter()
            .map(|i| self.builder.ins().iconst(types::I32, *i))
            .collect();
        for v in self.popn(n) {
            args.push(self.widen(v));
        }
        let results = self.libcall(addr, &args, returns);
        self.stack.extend(results);
    }

    /// Like `libcall_i32` for a libcall that returns nonzero on failure:
    /// the trap happens here, in generated code, so that its pc names the
    /// Wasm function.
    pub(super) fn libcall_checked(&mut self, addr: usize, n: usize, imm: &[i64], code: TrapCode) {
        self.libcall_i32(addr, n, &[types::I32], imm);
        let status = self.pop();
        self.builder.ins().trapnz(status, clif_trap(code));
    }

    pub(super) fn operator(&mut self, op: Operator<'_>) -> Result<(), Error> {
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
                self.label_local(local_index as usize, v);
            }
            O::LocalTee { local_index } => {
                let v = *self.stack.last().expect("operand");
                self.builder.def_var(self.locals[local_index as usize], v);
                self.label_local(local_index as usize, v);
            }
            O::GlobalGet { global_index } => {
                let ty = clif_type(&self.env.info.globals[global_index as usize].ty.content);
                let (p, offset) = self.global_addr(global_index);
                let flags = if self.env.info.globals[global_index as usize].ty.mutable {
                    trusted()
                } else {
                    readonly()
                };
                let v = self.builder.ins().load(ty, flags, p, offset);
                self.push(v);
            }
            O::GlobalSet { global_index } => {
                let v = self.pop();
                let (p, offset) = self.global_addr(global_index);
                self.builder.ins().store(trusted(), v, p, offset);
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
                let v = self.narrow_to(self.memory_addr_type(mem), pages);
                self.push(v);
            }
            O::MemoryGrow { mem } => {
                self.libcall_i32(
                    libcalls::memory_grow as *const () as usize,
                    1,
                    &[types::I64],
                    &[mem as i64],
                );
                let old = self.pop();
                let v = self.narrow_to(self.memory_addr_type(mem), old);
                self.push(v);
            }
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
                let v = self.narrow_to(self.table_addr_type(table), len);
                self.push(v);
            }
            O::TableGrow { table } => {
                self.libcall_i32(
                    libcalls::table_grow as *const () as usize,
                    2,
                    &[types::I64],
                    &[table as i64],
                );
                let old = self.pop();
                let v = self.narrow_to(self.table_addr_type(table), old);
                self.push(v);
            }
            O::TableFill { table } => self.libcall_checked(
                libcalls::table_fill as *const () as usize,
                3,
                &[table as i64],
                TrapCode::TableOutOfBounds,
            ),
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

            // Stack switching: `stack_switching/`.
            O::ContNew { cont_type_index } => self.cont_new(cont_type_index),
            O::ContBind {
                argument_index,
                result_index,
            } => self.cont_bind(argument_index, result_index),
            O::Resume {
                cont_type_index,
                resume_table,
            } => self.resume(cont_type_index, &resume_table, Resumption::Values),
            O::ResumeThrow {
                cont_type_index,
                tag_index,
                resume_table,
            } => self.resume(cont_type_index, &resume_table, Resumption::Throw(tag_index)),
            O::ResumeThrowRef {
                cont_type_index,
                resume_table,
            } => self.resume(cont_type_index, &resume_table, Resumption::ThrowRef),
            O::Suspend { tag_index } => self.suspend(tag_index),
            O::Switch {
                cont_type_index,
                tag_index,
            } => self.switch(cont_type_index, tag_index),

            // Exception handling: `exceptions.rs`.
            O::TryTable { try_table } => self.try_table(try_table),
            O::Throw { tag_index } => self.throw(tag_index),
            O::ThrowRef => self.throw_ref(),

            // SIMD and relaxed SIMD: `simd.rs`.
            other => return self.simd_operator(other),
        }
        Ok(())
    }
}

/// The text-format-like name of an operator, for error messages.
pub(super) fn op_name(op: &Operator<'_>) -> String {
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
