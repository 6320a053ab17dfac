//! Per-signature glue between the host and Wasm code.
//!
//! - The host entry (System V) is what the host calls:
//!   `entry(callee_vmctx, code, values)` loads the arguments from `values`,
//!   calls `code` with the Wasm convention, and stores the results back.
//! - The host adapter has the Wasm convention, so Wasm calls a host function
//!   exactly like any other function; it spills the arguments to a buffer on
//!   its stack and calls the dispatcher named in its `VMHostContext`:
//!   `dispatch(host_ctx, caller_vmctx, values)`.

use cranelift_codegen::Context;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{
    self, AbiParam, InstBuilder, MemFlagsData, Signature, StackSlotData, StackSlotKind,
    UserFuncName, types,
};
use cranelift_codegen::isa::{CallConv, TargetIsa};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use super::env::{clif_type, wasm_signature, word_flags};
use super::unwind_info::{FunctionCfi, UnwindRegistration};
use crate::error::Error;
use crate::types::{FuncType, word_offsets};
use crate::vm::code_memory::CodeMemory;
use crate::vm::layout::{VMFUNCREF_CODE, VMFUNCREF_VMCTX};
use crate::vm::layout::{
    VMHOSTCTX_DISPATCH, VMHOSTCTX_STORE, VMSTORE_LAST_EXIT_FP, VMSTORE_LAST_EXIT_PC,
};
use crate::vm::stack_switching::continuation::offsets as cont_offsets;

/// The glue code of one signature.
pub(crate) struct EntryGlue {
    /// gdb's description of the glue; withdrawn before the code goes.
    _debug: Option<crate::debug::DebugRegistration>,
    _code: CodeMemory,
    _unwind: Option<UnwindRegistration>,
    /// The host entry: `extern "sysv64" fn(callee_vmctx, code, values:
    /// *mut u64)`.
    pub host_entry: usize,
    /// A Wasm-convention function that calls into the host.
    pub host_adapter: usize,
    /// The body of a continuation of this signature, called by the
    /// continuation trampoline: `extern "sysv64" fn(record)` calls the
    /// record's `entry_func` with the arguments in `record.args` and
    /// leaves the results there.
    pub cont_body: usize,
}

fn finish(isa: &dyn TargetIsa, ctx: &mut Context) -> Result<(Vec<u8>, Option<FunctionCfi>), Error> {
    let compiled = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| Error::Compile(format!("entry glue: {:?}", e.inner)))?;
    let unwind = compiled
        .create_unwind_info(isa)
        .ok()
        .flatten()
        .map(FunctionCfi::new);
    Ok((compiled.code_buffer().to_vec(), unwind))
}

impl EntryGlue {
    /// Compiles the glue for `ty`.
    pub fn new(isa: &dyn TargetIsa, ty: &FuncType) -> Result<EntryGlue, Error> {
        let wasm_sig = wasm_signature(ty);
        let trusted = MemFlagsData::trusted();
        let words = word_flags();
        // Values sit in buffers of 8-byte words, a v128 in two.
        let (param_at, param_words) = word_offsets(ty.params());
        let (result_at, result_words) = word_offsets(ty.results());

        // Host entry.
        let mut ctx = Context::new();
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.extend([AbiParam::new(types::I64); 3]);
        ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 0), sig);
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let p = b.block_params(block).to_vec();
            let (vmctx, code, values) = (p[0], p[1], p[2]);
            let host = b.ins().iconst(types::I64, 0);
            let mut args = vec![vmctx, host];
            for (t, at) in ty.params().iter().zip(&param_at) {
                args.push(b.ins().load(clif_type(t), words, values, (at * 8) as i32));
            }
            let sig_ref = b.import_signature(wasm_sig.clone());
            let call = b.ins().call_indirect(sig_ref, code, &args);
            let results = b.inst_results(call).to_vec();
            for (r, at) in results.iter().zip(&result_at) {
                b.ins().store(words, *r, values, (at * 8) as i32);
            }
            b.ins().return_(&[]);
            b.seal_all_blocks();
            b.finalize(isa.frontend_config());
        }
        let (entry_code, entry_unwind) = finish(isa, &mut ctx)?;

        // Host adapter.
        let mut ctx = Context::new();
        ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 1), wasm_sig);
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let p = b.block_params(block).to_vec();
            let (host_ctx, caller_vmctx) = (p[0], p[1]);
            let slots = param_words.max(result_words).max(1);
            let slot = b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                (slots * 8) as u32,
                4,
            ));
            for (v, at) in p[2..].iter().zip(&param_at) {
                b.ins().stack_store(types::I64, *v, slot, (at * 8) as i32);
            }
            // Remember where Wasm left off, for backtraces taken in the host.
            let store_ctx = b.ins().load(types::I64, trusted, host_ctx, VMHOSTCTX_STORE);
            let fp = b.ins().get_frame_pointer(types::I64);
            let pc = b.ins().get_return_address(types::I64);
            let caller_fp = b.ins().load(types::I64, trusted, fp, 0);
            b.ins()
                .store(trusted, caller_fp, store_ctx, VMSTORE_LAST_EXIT_FP);
            b.ins().store(trusted, pc, store_ctx, VMSTORE_LAST_EXIT_PC);
            let values = b.ins().stack_addr(types::I64, slot, 0);
            let dispatch = b
                .ins()
                .load(types::I64, trusted, host_ctx, VMHOSTCTX_DISPATCH);
            let mut dsig = Signature::new(CallConv::SystemV);
            dsig.params.extend([AbiParam::new(types::I64); 3]);
            let dsig = b.import_signature(dsig);
            b.ins()
                .call_indirect(dsig, dispatch, &[host_ctx, caller_vmctx, values]);
            let mut rets = Vec::new();
            for (t, at) in ty.results().iter().zip(&result_at) {
                rets.push(
                    b.ins()
                        .stack_load(types::I64, clif_type(t), slot, (at * 8) as i32),
                );
            }
            b.ins().return_(&rets);
            b.seal_all_blocks();
            b.finalize(isa.frontend_config());
        }
        let (adapter_code, adapter_unwind) = finish(isa, &mut ctx)?;

        // Continuation body.
        let mut ctx = Context::new();
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(types::I64));
        ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 2), sig);
        let mut fctx = FunctionBuilderContext::new();
        {
            let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
            let block = b.create_block();
            b.append_block_params_for_function_params(block);
            b.switch_to_block(block);
            let record = b.block_params(block)[0];
            let funcref = b
                .ins()
                .load(types::I64, trusted, record, cont_offsets::ENTRY_FUNC);
            let vmctx = b.ins().load(types::I64, trusted, funcref, VMFUNCREF_VMCTX);
            let code = b.ins().load(types::I64, trusted, funcref, VMFUNCREF_CODE);
            let host = b.ins().iconst(types::I64, 0);
            let mut args = vec![vmctx, host];
            for (t, at) in ty.params().iter().zip(&param_at) {
                let off = cont_offsets::ARGS + (at * 8) as i32;
                args.push(b.ins().load(clif_type(t), words, record, off));
            }
            let sig_ref = b.import_signature(wasm_signature(ty));
            let call = b.ins().call_indirect(sig_ref, code, &args);
            let results = b.inst_results(call).to_vec();
            for (r, at) in results.iter().zip(&result_at) {
                let off = cont_offsets::ARGS + (at * 8) as i32;
                b.ins().store(words, *r, record, off);
            }
            b.ins().return_(&[]);
            b.seal_all_blocks();
            b.finalize(isa.frontend_config());
        }
        let (body_code, body_unwind) = finish(isa, &mut ctx)?;

        // Each piece is followed by the room perf's view of its unwinding
        // data needs when a jitdump is written (`compile::layout_module`).
        let room = |code: &[u8], unwind: &Option<FunctionCfi>| {
            std::iter::repeat_n(
                0xcc,
                crate::profiling::room_after_function(isa, code.len(), unwind.as_ref()),
            )
        };
        let mut image = entry_code.clone();
        image.extend(room(&entry_code, &entry_unwind));
        while image.len() % 16 != 0 {
            image.push(0xcc);
        }
        let adapter_offset = image.len();
        image.extend_from_slice(&adapter_code);
        image.extend(room(&adapter_code, &adapter_unwind));
        while image.len() % 16 != 0 {
            image.push(0xcc);
        }
        let body_offset = image.len();
        image.extend_from_slice(&body_code);
        image.extend(room(&body_code, &body_unwind));
        let code = CodeMemory::new(&image, |_, _| {})
            .map_err(|e| Error::Compile(format!("cannot map code: {e}")))?;
        let base = code.base();
        let mut unwinds = Vec::new();
        if let Some(u) = &entry_unwind {
            unwinds.push((base, entry_code.len(), u));
        }
        if let Some(u) = &adapter_unwind {
            unwinds.push((base + adapter_offset, adapter_code.len(), u));
        }
        if let Some(u) = &body_unwind {
            unwinds.push((base + body_offset, body_code.len(), u));
        }
        if crate::profiling::enabled() {
            let sig = ty.to_string();
            let glue = [
                ("entry", base, &entry_code, &entry_unwind),
                (
                    "host_adapter",
                    base + adapter_offset,
                    &adapter_code,
                    &adapter_unwind,
                ),
                ("cont_body", base + body_offset, &body_code, &body_unwind),
            ];
            for (what, address, code, unwind) in glue {
                let name = format!("switchyard::{what} {sig}");
                crate::profiling::publish_glue(isa, &name, address, code.len(), unwind.as_ref());
            }
        }
        let unwind = UnwindRegistration::new(isa, unwinds.into_iter());
        // A compact signature for the symbol names: `[i32,i64->f32]`.
        let join = |v: &[crate::types::ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        let ty = format!("[{}->{}]", join(ty.params()), join(ty.results()));
        let debug = crate::debug::register_glue(
            vec![
                (
                    base,
                    entry_code.len(),
                    format!("switchyard!host_to_wasm{ty}"),
                ),
                (
                    base + adapter_offset,
                    adapter_code.len(),
                    format!("switchyard!wasm_to_host{ty}"),
                ),
                (
                    base + body_offset,
                    body_code.len(),
                    format!("switchyard!continuation_body{ty}"),
                ),
            ],
            unwind.as_ref().map(|u| u.bytes()),
        );
        Ok(EntryGlue {
            _debug: debug,
            _code: code,
            _unwind: unwind,
            host_entry: base,
            host_adapter: base + adapter_offset,
            cont_body: base + body_offset,
        })
    }
}
