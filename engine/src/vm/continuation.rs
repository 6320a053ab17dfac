//! The machinery under every continuation: control contexts, the record at
//! the top of each continuation stack, the entry trampoline that is the
//! bottom frame of every continuation stack, and a host-side stack switch.
//!
//! See docs/stack-switching.md for how the switches use the two contexts.

use std::arch::global_asm;

/// The state `stack_switch` saves and restores, in Cranelift's layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControlContext {
    /// Stack pointer.
    pub sp: usize,
    /// Frame pointer.
    pub fp: usize,
    /// Where execution continues.
    pub pc: usize,
}

/// Signature of the function the trampoline calls on a fresh stack: it
/// receives the continuation's record and runs the continuation's body.
pub type ContinuationBody = unsafe extern "sysv64" fn(record: *mut ContinuationRecord);

/// The record at the top of every continuation stack.
#[repr(C)]
#[derive(Debug)]
pub struct ContinuationRecord {
    /// The body the trampoline calls (a per-signature adapter for Wasm).
    pub body: usize,
    /// Argument for the body (the Wasm function reference for adapters).
    pub body_arg: usize,
    /// While the continuation runs: its resumer's state. While it is
    /// suspended: cleared (`pc == 0`), so unwinders stop at its bottom.
    /// The trampoline's frame pointer points at `parent.fp`, which makes
    /// `[parent.fp, parent.pc]` its frame record.
    pub parent: ControlContext,
    /// The continuation's own state while suspended (for a fresh one: the
    /// trampoline on an empty stack).
    pub own: ControlContext,
    /// Set by the trampoline when the body returned.
    pub returned: usize,
}

/// Offset of [`ContinuationRecord::parent`].
pub const RECORD_PARENT: usize = std::mem::offset_of!(ContinuationRecord, parent);
/// Offset of [`ContinuationRecord::own`].
pub const RECORD_OWN: usize = std::mem::offset_of!(ContinuationRecord, own);

// The trampoline runs with rbp = &record.parent.fp, set up by the context a
// fresh continuation starts from. Its CFI says, with expressions that read
// that record, that its caller is the resumer: CFA = parent.sp, return
// address = parent.pc, caller's rbp = parent.fp. The CIE is a signal frame
// (`S`), which stops gdb from rejecting a parent stack that lies below the
// child. When the continuation is suspended, parent.pc is 0 and every
// unwinder stops here.
global_asm!(
    ".text",
    ".globl switchyard_continuation_start",
    ".type switchyard_continuation_start,@function",
    ".p2align 4",
    "switchyard_continuation_start:",
    ".cfi_startproc simple",
    ".cfi_signal_frame",
    // CFA = *(rbp - 8): DW_CFA_def_cfa_expression, length 3,
    // DW_OP_breg6 (rbp) -8, DW_OP_deref.
    ".cfi_escape 0x0f, 0x03, 0x76, 0x78, 0x06",
    // Return address (reg 16) saved at rbp + 8: DW_CFA_expression 16,
    // length 2, DW_OP_breg6 8.
    ".cfi_escape 0x10, 0x10, 0x02, 0x76, 0x08",
    // rbp (reg 6) saved at rbp + 0: DW_CFA_expression 6, length 2,
    // DW_OP_breg6 0.
    ".cfi_escape 0x10, 0x06, 0x02, 0x76, 0x00",
    // The record starts `RECORD_PARENT + 8` bytes below rbp.
    "lea rdi, [rbp - {parent_fp}]",
    "call [rdi]",
    "lea rdi, [rbp - {parent_fp}]",
    "mov qword ptr [rdi + {returned}], 1",
    // Back to the resumer: load its context, payload 0 in rdi.
    "xor edi, edi",
    "mov rsp, [rbp - 8]",
    "mov rax, [rbp + 8]",
    "mov rbp, [rbp]",
    "jmp rax",
    ".cfi_endproc",
    ".size switchyard_continuation_start, . - switchyard_continuation_start",
    "",
    // Host-side `stack_switch`: the same exchange as Cranelift's, but
    // callable from Rust, so it saves the System V callee-saved registers
    // on the old stack first and restores them when switched back to.
    ".globl switchyard_host_stack_switch",
    ".type switchyard_host_stack_switch,@function",
    ".p2align 4",
    "switchyard_host_stack_switch:",
    ".cfi_startproc",
    "push rbp",
    ".cfi_def_cfa_offset 16",
    ".cfi_offset rbp, -16",
    "mov rbp, rsp",
    ".cfi_def_cfa_register rbp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    // rdi = store context, rsi = load context, rdx = payload.
    "mov r8, [rsi]",
    "mov r9, [rsi + 8]",
    "mov r10, [rsi + 16]",
    "mov [rdi], rsp",
    "mov [rdi + 8], rbp",
    "lea rax, [rip + 2f]",
    "mov [rdi + 16], rax",
    "mov rdi, rdx",
    "mov rsp, r8",
    "mov rbp, r9",
    "jmp r10",
    "2:",
    // Switched back to: the payload arrives in rdi.
    "mov rax, rdi",
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
    ".size switchyard_host_stack_switch, . - switchyard_host_stack_switch",
    parent_fp = const RECORD_PARENT + 8,
    returned = const std::mem::offset_of!(ContinuationRecord, returned),
);

unsafe extern "sysv64" {
    /// The bottom frame of every continuation stack.
    pub fn switchyard_continuation_start();

    /// Saves the current state in `store`, continues from `load`, and
    /// returns the payload of whoever switches back.
    pub fn switchyard_host_stack_switch(
        store: *mut ControlContext,
        load: *const ControlContext,
        payload: usize,
    ) -> usize;
}

/// Prepares a fresh continuation on a stack whose top is `top`: writes its
/// record just below the top and returns it.
///
/// # Safety
/// `top` must be the 16-byte aligned end of a writable stack large enough
/// for the record and the body's frames, not in use by anything else.
pub unsafe fn init_record(
    top: usize,
    body: ContinuationBody,
    body_arg: usize,
) -> *mut ContinuationRecord {
    let size = std::mem::size_of::<ContinuationRecord>().next_multiple_of(16);
    let record = (top - size) as *mut ContinuationRecord;
    let parent_fp = record as usize + RECORD_PARENT + 8;
    // The trampoline's first instruction runs with rsp 16-byte aligned
    // (it `call`s, making the body's frame ABI-aligned).
    let initial_sp = (record as usize - 16) & !15;
    // SAFETY: the caller guarantees the memory is ours and writable.
    unsafe {
        record.write(ContinuationRecord {
            body: body as usize,
            body_arg,
            parent: ControlContext::default(),
            own: ControlContext {
                sp: initial_sp,
                fp: parent_fp,
                pc: switchyard_continuation_start as *const () as usize,
            },
            returned: 0,
        });
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::stack::StackPool;

    /// A body that suspends twice with payloads 10 and 20, then returns.
    unsafe extern "sysv64" fn body(record: *mut ContinuationRecord) {
        // SAFETY: the record is ours for the continuation's whole life.
        unsafe {
            let record = &mut *record;
            for payload in [10, 20] {
                let parent = record.parent;
                record.parent.pc = 0;
                let resumed = switchyard_host_stack_switch(&mut record.own, &parent, payload);
                assert_eq!(resumed, payload + 1);
            }
        }
    }

    #[test]
    fn a_continuation_suspends_and_returns_through_the_trampoline() {
        let mut pool = StackPool::new(64 * 1024, 1);
        let stack = pool.allocate().unwrap();
        // SAFETY: a fresh stack from the pool.
        let record = unsafe { init_record(stack.top(), body, 0) };
        let mut received = Vec::new();
        let mut send = 0;
        loop {
            // SAFETY: resume: our state goes to the record's parent
            // context, the continuation's own state is loaded.
            let payload = unsafe {
                let own = (*record).own;
                switchyard_host_stack_switch(&mut (*record).parent, &own, send)
            };
            // SAFETY: the continuation is suspended or finished.
            if unsafe { (*record).returned } != 0 {
                break;
            }
            received.push(payload);
            send = payload + 1;
        }
        assert_eq!(received, [10, 20]);
        pool.release(stack);
    }

    #[repr(C)]
    struct UnwindContext {
        _private: [u8; 0],
    }
    unsafe extern "C" {
        fn _Unwind_Backtrace(
            trace: extern "C" fn(*mut UnwindContext, *mut std::ffi::c_void) -> i32,
            arg: *mut std::ffi::c_void,
        ) -> i32;
        fn _Unwind_GetIP(ctx: *mut UnwindContext) -> usize;
    }

    extern "C" fn collect(ctx: *mut UnwindContext, arg: *mut std::ffi::c_void) -> i32 {
        // SAFETY: `arg` is the Vec passed by `dwarf_backtrace`.
        let ips = unsafe { &mut *(arg as *mut Vec<usize>) };
        // SAFETY: libgcc passes a live context.
        ips.push(unsafe { _Unwind_GetIP(ctx) });
        if ips.len() > 200 { 5 } else { 0 }
    }

    /// Return addresses of the current thread's stack, by libgcc's DWARF
    /// unwinder.
    fn dwarf_backtrace() -> Vec<usize> {
        let mut ips: Vec<usize> = Vec::new();
        // SAFETY: the callback only appends to `ips`.
        unsafe {
            _Unwind_Backtrace(
                collect,
                &mut ips as *mut Vec<usize> as *mut std::ffi::c_void,
            )
        };
        ips
    }

    unsafe extern "sysv64" fn body_backtrace(record: *mut ContinuationRecord) {
        let ips = dwarf_backtrace();
        // SAFETY: `body_arg` points at the resumer's Vec.
        unsafe { *((*record).body_arg as *mut Vec<usize>) = ips };
    }

    #[test]
    fn a_dwarf_unwinder_crosses_the_trampoline_into_the_resumer() {
        let mut pool = StackPool::new(64 * 1024, 1);
        let stack = pool.allocate().unwrap();
        let mut inside: Vec<usize> = Vec::new();
        // SAFETY: a fresh stack; `inside` outlives the continuation.
        let record = unsafe {
            init_record(
                stack.top(),
                body_backtrace,
                &mut inside as *mut Vec<usize> as usize,
            )
        };
        // SAFETY: as in the test above.
        unsafe {
            let own = (*record).own;
            switchyard_host_stack_switch(&mut (*record).parent, &own, 0);
            assert_eq!((*record).returned, 1);
        }
        let outside = dwarf_backtrace();
        // The walk from inside the continuation reaches the resumer's
        // frames: its tail is the resumer's own backtrace (minus the frame
        // that took it, whose return addresses differ).
        let start = switchyard_continuation_start as *const () as usize;
        assert!(
            inside.iter().any(|&ip| ip > start && ip < start + 64),
            "{inside:x?}"
        );
        let common = outside.len() - 2;
        assert!(
            inside.len() > common,
            "inside {} frames, outside {}",
            inside.len(),
            outside.len()
        );
        assert_eq!(
            inside[inside.len() - common..],
            outside[outside.len() - common..]
        );
        pool.release(stack);
    }
}
