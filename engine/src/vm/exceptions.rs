//! Throwing Wasm exceptions: exception objects, and the unwinder that finds
//! a handler by walking frame pointers and consulting the exception tables
//! Cranelift emitted for `try_call`s.
//!
//! The walk covers one stack at a time. At the bottom of a continuation
//! stack the continuation dies and control goes to its resumer with an
//! "exception" payload; the resumer's `resume` rethrows there, in the
//! resumer's own handler scope. At the host entry the exception is
//! uncaught and the call fails.

use std::arch::global_asm;

use super::code_lookup::{self, CallSiteHandler};
use super::entry;
use super::layout::VMStoreContext;
use super::stack_switching::continuation::{
    self, ContinuationRecord, MAX_PAYLOAD, payload, state, switchyard_continuation_start,
};

/// A thrown exception: its tag and its values.
#[repr(C)]
#[derive(Debug)]
pub struct ExceptionObject {
    /// The `VMTag` it was thrown with.
    pub tag: usize,
    /// Number of words the values take (a v128 takes two).
    pub len: u64,
    /// The values, one word each, two for a v128.
    pub values: [u64; MAX_PAYLOAD],
}

/// Offset of [`ExceptionObject::values`].
pub const EXN_VALUES: i32 = std::mem::offset_of!(ExceptionObject, values) as i32;

/// Exception objects of one store. Without a garbage collector they live
/// as long as the store.
#[derive(Default)]
pub struct ExceptionArena {
    // Boxed: exception references point at the objects.
    #[allow(clippy::vec_box)]
    objects: Vec<Box<ExceptionObject>>,
}

impl ExceptionArena {
    fn alloc(&mut self, tag: usize, values: &[u64]) -> *mut ExceptionObject {
        let mut obj = Box::new(ExceptionObject {
            tag,
            len: values.len() as u64,
            values: [0; MAX_PAYLOAD],
        });
        obj.values[..values.len()].copy_from_slice(values);
        let ptr: *mut ExceptionObject = &mut *obj;
        self.objects.push(obj);
        ptr
    }
}

global_asm!(
    ".text",
    ".globl switchyard_land",
    ".type switchyard_land,@function",
    "switchyard_land:",
    // rdi = landing pc, rsi = sp, rdx = fp, rcx = payload, r8 = the
    // callee-saved registers to land with (`SavedRegisters`).
    "mov rbx, [r8]",
    "mov r12, [r8 + 8]",
    "mov r13, [r8 + 16]",
    "mov r14, [r8 + 24]",
    "mov r15, [r8 + 32]",
    "mov rsp, rsi",
    "mov rbp, rdx",
    "mov rax, rcx",
    "jmp rdi",
    ".size switchyard_land, . - switchyard_land",
    "",
    // Entry points of the throwing libcalls: they record the callee-saved
    // registers as the Wasm caller left them (its exception context may live
    // in one) and a frame record, then call the Rust side, which never
    // returns. They overwrite those registers with a poison value first: a
    // landing that did not restore them would then fail in every build, not
    // only where the optimized Rust side happens to leave something harmful
    // in them (release builds once crashed that way while debug builds,
    // and so every test, passed).
    ".globl switchyard_throw",
    ".type switchyard_throw,@function",
    "switchyard_throw:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 48",
    "mov [rsp], rbx",
    "mov [rsp + 8], r12",
    "mov [rsp + 16], r13",
    "mov [rsp + 24], r14",
    "mov [rsp + 32], r15",
    "mov r8, rsp",
    "mov r9, rbp",
    "mov rbx, {poison}",
    "mov r12, rbx",
    "mov r13, rbx",
    "mov r14, rbx",
    "mov r15, rbx",
    "call {throw_impl}",
    "ud2",
    ".size switchyard_throw, . - switchyard_throw",
    "",
    ".globl switchyard_throw_ref",
    ".type switchyard_throw_ref,@function",
    "switchyard_throw_ref:",
    "push rbp",
    "mov rbp, rsp",
    "sub rsp, 48",
    "mov [rsp], rbx",
    "mov [rsp + 8], r12",
    "mov [rsp + 16], r13",
    "mov [rsp + 24], r14",
    "mov [rsp + 32], r15",
    "mov rdx, rsp",
    "mov rcx, rbp",
    "mov rbx, {poison}",
    "mov r12, rbx",
    "mov r13, rbx",
    "mov r14, rbx",
    "mov r15, rbx",
    "call {throw_ref_impl}",
    "ud2",
    ".size switchyard_throw_ref, . - switchyard_throw_ref",
    "",
    ".globl switchyard_jump_to_context",
    ".type switchyard_jump_to_context,@function",
    "switchyard_jump_to_context:",
    // rdi = *const ControlContext, rsi = payload.
    "mov rsp, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov rax, [rdi + 16]",
    "mov rdi, rsi",
    "jmp rax",
    ".size switchyard_jump_to_context, . - switchyard_jump_to_context",
    throw_impl = sym throw_impl,
    throw_ref_impl = sym throw_ref_impl,
    poison = const POISON,
);

/// What the throw stubs leave in the callee-saved registers on the way to
/// a landing (not a valid pointer, and unlike any small integer).
const POISON: u64 = 0x5ca1_ab1e_dead_0001;

unsafe extern "sysv64" {
    /// `throw`: `(vmctx, tag, values, n)`; never returns.
    pub fn switchyard_throw(vmctx: *mut u8, tag: usize, values: *const u64, n: u64);
    /// `throw_ref`: `(vmctx, exn)`; never returns.
    pub fn switchyard_throw_ref(vmctx: *mut u8, exn: usize);
    fn switchyard_land(
        pc: usize,
        sp: usize,
        fp: usize,
        payload: usize,
        regs: *const SavedRegisters,
    ) -> !;
    fn switchyard_jump_to_context(ctx: *const continuation::ControlContext, payload: usize) -> !;
}

unsafe fn store_ctx<'a>(vmctx: *mut u8) -> &'a mut VMStoreContext {
    // SAFETY: slot 0 of a live VMContext is its store context.
    unsafe { &mut **(vmctx as *mut *mut VMStoreContext) }
}

/// A new exception object (for `resume_throw`, which raises it elsewhere).
pub(crate) unsafe extern "sysv64" fn new_exception(
    vmctx: *mut u8,
    tag: usize,
    values: *const u64,
    n: u64,
) -> u64 {
    // SAFETY: called from generated code with a buffer of `n` words.
    unsafe {
        let ctx = store_ctx(vmctx);
        let values = std::slice::from_raw_parts(values, n as usize);
        (*ctx.exceptions).alloc(tag, values) as u64
    }
}

/// The callee-saved registers a Wasm frame had when it called a throwing
/// libcall: rbx, r12, r13, r14, r15.
///
/// Every landing restores them. A throwing libcall is a `try_call` with the
/// System V convention, so Cranelift keeps values in these registers across
/// its exceptional edge too: a handler in the throwing frame must see them
/// as they were, not as the Rust unwinder left them (an optimized build
/// reuses them, and the Wasm frame then wrote through a stale pointer).
/// Deeper handlers sit behind `try_call`s of Wasm-convention (`tail`)
/// functions, whose exceptional edge clobbers every register in
/// Cranelift's view, so the thrower's values do no harm there.
type SavedRegisters = [usize; 5];

unsafe extern "sysv64" fn throw_impl(
    vmctx: *mut u8,
    tag: usize,
    values: *const u64,
    n: u64,
    regs: *const SavedRegisters,
    fp: usize,
) -> ! {
    // SAFETY: called by `switchyard_throw` on behalf of generated code,
    // with a buffer of `n` words.
    unsafe {
        let ctx = store_ctx(vmctx);
        let values = std::slice::from_raw_parts(values, n as usize);
        let exn = (*ctx.exceptions).alloc(tag, values);
        unwind(ctx, exn as usize, fp, &*regs)
    }
}

unsafe extern "sysv64" fn throw_ref_impl(
    vmctx: *mut u8,
    exn: usize,
    regs: *const SavedRegisters,
    fp: usize,
) -> ! {
    // SAFETY: called by `switchyard_throw_ref` with a live exception.
    unsafe { unwind(store_ctx(vmctx), exn, fp, &*regs) }
}

fn register(regs: &SavedRegisters, encoding: u8) -> usize {
    match encoding {
        3 => regs[0],
        12 => regs[1],
        13 => regs[2],
        14 => regs[3],
        15 => regs[4],
        _ => 0,
    }
}

/// Walks from the frame whose frame pointer is `fp` (a libcall called by
/// Wasm) and transfers control to the first matching handler.
unsafe fn unwind(ctx: &mut VMStoreContext, exn: usize, fp: usize, regs: &SavedRegisters) -> ! {
    // SAFETY: `exn` is a live exception object of this store.
    let tag = unsafe { (*(exn as *const ExceptionObject)).tag };
    let trampoline = switchyard_continuation_start as *const () as usize;
    // SAFETY: every frame below the libcall up to the bottom of this stack
    // is a Wasm frame (frame pointers kept) or a trampoline; the walk stops
    // at the first return address outside generated code.
    unsafe {
        let mut fp = fp;
        let mut ret = *((fp + 8) as *const usize);
        fp = *(fp as *const usize);
        let mut first = true;
        let is_trampoline = |ret: usize| ret > trampoline && ret < trampoline + 64;
        let mut frames = 0;
        loop {
            frames += 1;
            if is_trampoline(ret) || entry::is_entry_return(ret) || ret == 0 || frames > 1_000_000 {
                break;
            }
            // Frames of entry glue and of the host have no handlers.
            if let Some(info) = code_lookup::lookup(ret.wrapping_sub(1))
                && let Some(site) = info.call_site(ret)
            {
                let sp = fp - site.frame_offset as usize;
                let mut vmctx = 0usize;
                for h in &site.handlers {
                    match *h {
                        CallSiteHandler::ContextAtSp(off) => {
                            vmctx = *((sp + off as usize) as *const usize)
                        }
                        CallSiteHandler::ContextInRegister(r) => {
                            vmctx = if first { register(regs, r) } else { 0 };
                        }
                        CallSiteHandler::Tag(index, landing) => {
                            let offsets = &info.tag_slots;
                            let slot = offsets.get(index as usize).copied().unwrap_or(0);
                            if vmctx != 0 && slot != 0 {
                                let candidate = *((vmctx + slot as usize) as *const usize);
                                if candidate == tag {
                                    switchyard_land(
                                        info.start + landing as usize,
                                        sp,
                                        fp,
                                        exn,
                                        regs,
                                    );
                                }
                            }
                        }
                        CallSiteHandler::Default(landing) => {
                            switchyard_land(info.start + landing as usize, sp, fp, exn, regs);
                        }
                    }
                }
            }
            ret = *((fp + 8) as *const usize);
            fp = *(fp as *const usize);
            first = false;
        }
        // The bottom of this stack.
        if is_trampoline(ret) && ctx.current_cont != 0 {
            // A continuation dies of the exception: its resumer rethrows.
            let record = ctx.current_cont as *mut ContinuationRecord;
            (*record).args[0] = exn as u64;
            let parent = (*record).parent;
            crate::vm::stack_switching::store_continuations::release(ctx, record, state::TRAPPED);
            ctx.current_cont = (*record).parent_record;
            switchyard_jump_to_context(&parent, record as usize | payload::EXCEPTION as usize);
        }
        // The host entry: the exception is uncaught.
        ctx.uncaught_exception = exn;
        entry::unwind_to_entry(ctx.entry_jmpbuf);
    }
}
