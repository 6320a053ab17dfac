//! The machinery under every continuation: control contexts, the record at
//! the top of each continuation stack, the entry trampoline that is the
//! bottom frame of every continuation stack, and a host-side stack switch.
//!
//! See docs/stack-switching.md for how the switches use the two contexts.

use std::arch::global_asm;

// The record and the context it holds are the registry's layout (the
// `switchyard-registry-layout` crate), which debuggers and profilers read.
pub use switchyard_registry_layout::{
    CREATION_FRAMES, ContinuationRecord, ControlContext, MAX_PAYLOAD, RECORD_MAGIC, state,
};

/// Signature of the function the trampoline calls on a fresh stack: it
/// receives the continuation's record and runs the continuation's body.
pub type ContinuationBody = unsafe extern "sysv64" fn(record: *mut ContinuationRecord);

/// Offset of [`ContinuationRecord::parent`].
pub const RECORD_PARENT: usize = std::mem::offset_of!(ContinuationRecord, parent);
/// Offset of [`ContinuationRecord::own`].
pub const RECORD_OWN: usize = std::mem::offset_of!(ContinuationRecord, own);

/// Offsets of the record's fields, for generated code.
pub mod offsets {
    use super::ContinuationRecord as R;
    use std::mem::offset_of;
    /// [`R::state`].
    pub const STATE: i32 = offset_of!(R, state) as i32;
    /// [`R::parent_record`].
    pub const PARENT_RECORD: i32 = offset_of!(R, parent_record) as i32;
    /// [`R::entry_func`].
    pub const ENTRY_FUNC: i32 = offset_of!(R, entry_func) as i32;
    /// [`R::last_tag`].
    pub const LAST_TAG: i32 = offset_of!(R, last_tag) as i32;
    /// [`R::resumes`].
    pub const RESUMES: i32 = offset_of!(R, resumes) as i32;
    /// [`R::switches`].
    pub const SWITCHES: i32 = offset_of!(R, switches) as i32;
    /// [`R::parent`].
    pub const PARENT: i32 = offset_of!(R, parent) as i32;
    /// [`R::own`].
    pub const OWN: i32 = offset_of!(R, own) as i32;
    /// [`R::generation`].
    pub const GENERATION: i32 = offset_of!(R, generation) as i32;
    /// [`R::last_ancestor`].
    pub const LAST_ANCESTOR: i32 = offset_of!(R, last_ancestor) as i32;
    /// [`R::handlers`].
    pub const HANDLERS: i32 = offset_of!(R, handlers) as i32;
    /// [`R::handlers_len`].
    pub const HANDLERS_LEN: i32 = offset_of!(R, handlers_len) as i32;
    /// [`R::stack_limit`].
    pub const STACK_LIMIT: i32 = offset_of!(R, stack_limit) as i32;
    /// [`R::bound`].
    pub const BOUND: i32 = offset_of!(R, bound) as i32;
    /// [`R::args`].
    pub const ARGS: i32 = offset_of!(R, args) as i32;
    /// [`R::next_free`].
    pub const NEXT_FREE: i32 = offset_of!(R, next_free) as i32;
    /// [`R::last_switch`].
    pub const LAST_SWITCH: i32 = offset_of!(R, last_switch) as i32;
    /// [`R::caught_pc`].
    pub const CAUGHT_PC: i32 = offset_of!(R, caught_pc) as i32;
    /// [`R::caught_by`].
    pub const CAUGHT_BY: i32 = offset_of!(R, caught_by) as i32;
    /// Offset of the `pc` word in a control context.
    pub const CTX_PC: i32 = offset_of!(super::ControlContext, pc) as i32;
}

/// The word a switch hands to the resumer: the record involved, with what
/// happened in its low bits (records are 64-byte aligned).
pub mod payload {
    /// The record's function returned; the results are in its `args`.
    pub const RETURNED: u64 = 1;
    /// The record suspended; the tag's values are in its `args`.
    pub const SUSPENDED: u64 = 2;
    /// The record died of an exception, whose object is in `args[0]`.
    pub const EXCEPTION: u64 = 3;
    /// Mask of the kind bits.
    pub const KIND_MASK: u64 = 15;
    /// With `SUSPENDED`: the handler's clause is not the first; its index
    /// is in the store context's `suspend_clause`. A suspension to a first
    /// clause, the common case, stores nothing there.
    pub const CLAUSE_IN_CONTEXT: u64 = 16;
    /// Mask of the bits that are not the record's address.
    pub const FLAGS_MASK: u64 = 63;
    /// The other way, native switching only: the word a `resume` hands to
    /// the suspended site it switches to is that site's own record, or,
    /// with this bit, an exception object (8-byte aligned) to raise there
    /// (`resume_throw`). A `switch` hands this bit alone: the site then
    /// reads its record from the store context.
    pub const THROW: u64 = 1;
}

/// A continuation reference as Wasm holds it, in 64 bits: the record's
/// address divided by 64 (records are 64-byte aligned) in the low 41 bits,
/// the low 23 bits of the continuation's generation above. 0 is null.
///
/// Generations make references one-shot: consuming one bumps the record's
/// generation. A stack is retired rather than reused once its generation
/// reaches 2^23, so a reference can never match a later continuation. A
/// stale reference to the same continuation matches again only after
/// exactly a multiple of 2^23 further resumes of it.
pub mod contref {
    /// Bits of the reference that hold the record's address / 64.
    pub const ADDRESS_BITS: u32 = 41;
    /// Mask of those bits.
    pub const ADDRESS_MASK: u64 = (1 << ADDRESS_BITS) - 1;
    /// Generations kept in a reference.
    pub const GENERATION_LIMIT: u64 = 1 << (64 - ADDRESS_BITS);
    /// Mask of the generation bits (before shifting).
    pub const GENERATION_MASK: u64 = GENERATION_LIMIT - 1;

    /// Encodes a reference.
    pub fn encode(record: usize, generation: u64) -> u64 {
        ((record as u64) >> 6) | ((generation & GENERATION_MASK) << ADDRESS_BITS)
    }

    /// The record a reference names.
    pub fn record(r: u64) -> usize {
        ((r & ADDRESS_MASK) << 6) as usize
    }
}

/// What a switch records for tools (libcall mode; native mode emits the
/// same in `compile/stack_switching/wait.rs`): the coarse clock in
/// `last_switch` of the continuation that stops (suspends or switches
/// away). Starting one is not stamped: tools show how long a suspended
/// continuation has waited, nothing for a running one.
pub fn stamp_switch(record: &mut ContinuationRecord) {
    record.last_switch = crate::vm::registry::clock_now();
}

/// `record` suspends (or switches away) to the resume that runs
/// `handler`: stamps the clock and keeps that resume's site and stack.
pub fn note_caught(record: &mut ContinuationRecord, handler: &ContinuationRecord) {
    stamp_switch(record);
    record.caught_pc = handler.parent.pc;
    record.caught_by = handler.parent_record;
}

/// How many cache-line offsets records are spread over.
const RECORD_COLORS: usize = 32;

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
    "call [rdi + {body}]",
    "lea rdi, [rbp - {parent_fp}]",
    "mov dword ptr [rdi + {state}], {returned}",
    // Back to the resumer: load its context; the payload says "returned"
    // and which record holds the results.
    "or rdi, {payload_returned}",
    "mov rsp, [rbp - 8]",
    "mov rax, [rbp + 8]",
    "mov rbp, [rbp]",
    "jmp rax",
    ".cfi_endproc",
    ".globl switchyard_continuation_end",
    "switchyard_continuation_end:",
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
    body = const std::mem::offset_of!(ContinuationRecord, body),
    state = const std::mem::offset_of!(ContinuationRecord, state),
    returned = const state::RETURNED,
    payload_returned = const payload::RETURNED,
);

unsafe extern "sysv64" {
    /// The bottom frame of every continuation stack.
    pub fn switchyard_continuation_start();

    /// The end of the trampoline's code.
    static switchyard_continuation_end: u8;

    /// Saves the current state in `store`, continues from `load`, and
    /// returns the payload of whoever switches back.
    pub fn switchyard_host_stack_switch(
        store: *mut ControlContext,
        load: *const ControlContext,
        payload: usize,
    ) -> usize;
}

/// The code range of the entry trampoline.
pub fn trampoline_range() -> (usize, usize) {
    (
        switchyard_continuation_start as *const () as usize,
        &raw const switchyard_continuation_end as usize,
    )
}

/// Where the record of a stack whose top is `top` lives. Records of
/// different stacks sit at different cache-line offsets (`color`): at the
/// same page offset, a chain of records would all compete for one set of
/// the L1 cache, and handler search walks such chains.
pub fn record_at(top: usize, color: usize) -> *mut ContinuationRecord {
    let size = std::mem::size_of::<ContinuationRecord>().next_multiple_of(64);
    (top - size - 64 * (color % RECORD_COLORS)) as *mut ContinuationRecord
}

/// Prepares a fresh continuation on a stack `low..top`: writes its record
/// just below the top and returns it.
///
/// # Safety
/// `low..top` must be a writable stack, `top` 16-byte aligned, large enough
/// for the record and the body's frames, and not in use by anything else.
pub unsafe fn init_record(
    low: usize,
    top: usize,
    body: usize,
    store: usize,
    stack_limit: usize,
    color: usize,
) -> *mut ContinuationRecord {
    let record = record_at(top, color);
    let parent_fp = record as usize + RECORD_PARENT + 8;
    // The trampoline's first instruction runs with rsp 16-byte aligned
    // (it `call`s, making the body's frame ABI-aligned).
    let initial_sp = (record as usize - 16) & !15;
    // SAFETY: the caller guarantees the memory is ours and writable.
    unsafe {
        record.write(ContinuationRecord {
            magic: RECORD_MAGIC,
            state: state::FRESH,
            id: 0,
            stack_low: low,
            stack_high: top,
            parent_record: 0,
            entry_func: 0,
            last_tag: 0,
            resumes: 0,
            switches: 0,
            parent: ControlContext::default(),
            own: ControlContext {
                sp: initial_sp,
                fp: parent_fp,
                pc: switchyard_continuation_start as *const () as usize,
            },
            body,
            store,
            generation: 0,
            last_ancestor: record as usize,
            handlers: 0,
            handlers_len: 0,
            stack_limit,
            bound: 0,
            args: [0; MAX_PAYLOAD],
            created_by: 0,
            created_at: 0,
            last_switch: 0,
            caught_pc: 0,
            caught_by: 0,
            creation: [0; CREATION_FRAMES],
            next_free: 0,
        });
    }
    record
}

/// Makes a used record fresh again for a new continuation (the stack and
/// generation stay).
///
/// # Safety
/// `record` must be a record made by [`init_record`] whose continuation is
/// finished.
pub unsafe fn reset_record(record: *mut ContinuationRecord, body: usize) {
    // SAFETY: see the function's contract.
    unsafe {
        let r = &mut *record;
        r.state = state::FRESH;
        r.parent_record = 0;
        r.entry_func = 0;
        r.last_tag = 0;
        r.resumes = 0;
        r.switches = 0;
        r.parent = ControlContext::default();
        r.own = ControlContext {
            sp: (record as usize - 16) & !15,
            fp: record as usize + RECORD_PARENT + 8,
            pc: switchyard_continuation_start as *const () as usize,
        };
        r.body = body;
        r.last_ancestor = record as usize;
        r.handlers = 0;
        r.handlers_len = 0;
        r.bound = 0;
        r.next_free = 0;
        r.caught_pc = 0;
        r.caught_by = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::stack_switching::stack::ContinuationStack;

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
        let stack = ContinuationStack::map_usable(64 * 1024).unwrap();
        // SAFETY: a fresh stack nothing else uses.
        let record = unsafe {
            init_record(
                stack.bottom(),
                stack.top(),
                body as *const () as usize,
                0,
                0,
                3,
            )
        };
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
            if unsafe { (*record).state } == state::RETURNED {
                break;
            }
            received.push(payload);
            send = payload + 1;
        }
        assert_eq!(received, [10, 20]);
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
        // SAFETY: `args[0]` points at the resumer's Vec.
        unsafe { *((*record).args[0] as *mut Vec<usize>) = ips };
    }

    #[test]
    fn a_dwarf_unwinder_crosses_the_trampoline_into_the_resumer() {
        let stack = ContinuationStack::map_usable(64 * 1024).unwrap();
        let mut inside: Vec<usize> = Vec::new();
        // SAFETY: a fresh stack; `inside` outlives the continuation.
        let record = unsafe {
            init_record(
                stack.bottom(),
                stack.top(),
                body_backtrace as *const () as usize,
                0,
                0,
                5,
            )
        };
        // SAFETY: as in the test above.
        unsafe {
            (*record).args[0] = &mut inside as *mut Vec<usize> as u64;
            let own = (*record).own;
            switchyard_host_stack_switch(&mut (*record).parent, &own, 0);
            assert_eq!((*record).state, state::RETURNED);
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
    }
}
