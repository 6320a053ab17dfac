//! Entering Wasm from the host, and leaving it abruptly on a trap.
//!
//! `switchyard_enter_wasm` saves the host's stack and frame pointers in a
//! [`JmpBuf`] and calls a per-signature host entry (`compile/entry_glue.rs`).
//! A trap anywhere below it (a signal in generated code, or a libcall that
//! fails) resumes execution at `switchyard_trap_landing` with those
//! pointers restored, as if the call had returned 1. Only generated code and libcall frames that
//! own nothing lie between, so skipping them leaks nothing.

use std::arch::global_asm;

/// Where a host entry can be resumed after a trap.
#[repr(C)]
#[derive(Debug, Default)]
pub struct JmpBuf {
    /// Stack pointer inside `switchyard_enter_wasm` after its prologue.
    pub rsp: usize,
    /// Frame pointer of `switchyard_enter_wasm`.
    pub rbp: usize,
}

// The CFI makes gdb, perf and libgcc unwind through the entry into the host
// frames that called it; callee-saved registers are restored from the
// pushes, which is why the landing pad only needs rsp and rbp.
global_asm!(
    ".text",
    ".globl switchyard_enter_wasm",
    ".type switchyard_enter_wasm,@function",
    ".p2align 4",
    "switchyard_enter_wasm:",
    ".globl switchyard_enter_wasm_start",
    "switchyard_enter_wasm_start:",
    ".cfi_startproc",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "push rbx",
    ".cfi_offset rbx, -24",
    "push r12",
    ".cfi_offset r12, -32",
    "push r13",
    ".cfi_offset r13, -40",
    "push r14",
    ".cfi_offset r14, -48",
    "push r15",
    ".cfi_offset r15, -56",
    "sub rsp, 8",
    "mov [rdi], rsp",
    "mov [rdi + 8], rbp",
    "mov rax, rsi",
    "mov rdi, rdx",
    "mov rsi, rcx",
    "mov rdx, r8",
    "call rax",
    "xor eax, eax",
    ".globl switchyard_trap_landing",
    "switchyard_trap_landing:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    ".cfi_def_cfa rsp, 8",
    "ret",
    ".cfi_endproc",
    ".size switchyard_enter_wasm, . - switchyard_enter_wasm",
    "",
    ".globl switchyard_unwind_to_entry",
    ".type switchyard_unwind_to_entry,@function",
    ".p2align 4",
    "switchyard_unwind_to_entry:",
    ".cfi_startproc",
    "mov rsp, [rdi]",
    "mov rbp, [rdi + 8]",
    "mov eax, 1",
    "jmp switchyard_trap_landing",
    ".cfi_endproc",
    ".size switchyard_unwind_to_entry, . - switchyard_unwind_to_entry",
);

unsafe extern "sysv64" {
    /// Calls `host_entry(vmctx, code, values)`; returns 0 when it returns,
    /// 1 when a trap unwound to this entry.
    fn switchyard_enter_wasm(
        jmpbuf: *mut JmpBuf,
        host_entry: usize,
        vmctx: usize,
        code: usize,
        values: *mut u64,
    ) -> u32;

    /// Resumes the entry whose `JmpBuf` is given, returning 1 there.
    fn switchyard_unwind_to_entry(jmpbuf: *const JmpBuf) -> !;

    /// The instruction at which a trapped entry resumes.
    static switchyard_trap_landing: u8;

    /// Start of the entry routine.
    static switchyard_enter_wasm_start: u8;
}

/// Calls generated code through a host entry. Returns `false` if it
/// trapped.
///
/// # Safety
/// `host_entry` must be the host entry for the signature of `code`,
/// `values` must hold room for its parameters and results, and `jmpbuf` must
/// be published (in the store context) as the innermost entry while it runs.
pub unsafe fn enter_wasm(
    jmpbuf: *mut JmpBuf,
    host_entry: usize,
    vmctx: usize,
    code: usize,
    values: *mut u64,
) -> bool {
    // SAFETY: the caller guarantees the arguments; the assembly preserves
    // every callee-saved register on both the return and the trap path.
    unsafe { switchyard_enter_wasm(jmpbuf, host_entry, vmctx, code, values) == 0 }
}

/// Unwinds to the entry described by `jmpbuf`.
///
/// # Safety
/// `jmpbuf` must belong to an entry that is still on this thread's stack,
/// and the frames between here and there must own nothing that needs to be
/// dropped.
pub unsafe fn unwind_to_entry(jmpbuf: *const JmpBuf) -> ! {
    // SAFETY: see the function's contract.
    unsafe { switchyard_unwind_to_entry(jmpbuf) }
}

/// Whether `ret` is the return address of the call out of the host entry
/// routine (the bottom of the Wasm frames of an entry).
pub fn is_entry_return(ret: usize) -> bool {
    let start = &raw const switchyard_enter_wasm_start as usize;
    ret > start && ret <= trap_landing()
}

/// The code range whose return addresses mark the host entry (from the
/// start of the entry routine to its landing pad, inclusive).
pub fn entry_range() -> (usize, usize) {
    (
        &raw const switchyard_enter_wasm_start as usize,
        trap_landing() + 1,
    )
}

/// Address of the landing pad, for the signal handler.
pub fn trap_landing() -> usize {
    &raw const switchyard_trap_landing as usize
}
