//! Generated code's CFI: one FDE per function (Cranelift's, corrected at
//! the prologue's stack check), published to the in-process unwinder
//! (libgcc's `__register_frame`), so that `_Unwind_Backtrace`, and with it
//! the `backtrace` crate and Rust panics, can walk through JIT frames; the
//! same section goes to gdb and the registry, Cranelift's FDEs to perf.

use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::isa::unwind::UnwindInfo;
use gimli::write::{
    Address, CallFrameInstruction, EhFrame, EndianVec, FrameDescriptionEntry, FrameTable,
};

/// One function's CFI as Cranelift describes it, with what Cranelift gets
/// wrong.
pub(crate) struct FunctionCfi {
    /// Cranelift's unwind information.
    pub info: UnwindInfo,
    /// Offsets of the `ud2` that the prologue's stack-limit check jumps to.
    /// The check runs after `push rbp; mov rbp, rsp` but before the
    /// callee-saved registers are stored, while the `ud2` sits in the trap
    /// islands at the end of the function, where Cranelift's CFI says they
    /// are stored: a debugger stopped at a stack overflow would rebuild the
    /// callers' registers from slots not yet written.
    pub stack_checks: Vec<u32>,
}

/// The callee-saved registers of System V x86-64 other than rbp (DWARF
/// numbers: rbx, r12-r15), which the frame setup does not touch.
const CALLEE_SAVED_BESIDES_RBP: [u16; 5] = [3, 12, 13, 14, 15];

/// The length of `ud2`.
const UD2_LEN: u32 = 2;

impl FunctionCfi {
    /// Cranelift's CFI alone (code without a stack-limit check).
    pub fn new(info: UnwindInfo) -> FunctionCfi {
        FunctionCfi {
            info,
            stack_checks: Vec::new(),
        }
    }

    /// The FDE of the function at `address`, as Cranelift writes it: right
    /// everywhere but at the stack-limit check's `ud2`. `None` for unwind
    /// information other than System V.
    ///
    /// perf gets this one: with the rows of [`FunctionCfi::fde`] added, the
    /// DWARF call graphs of `perf report` stop at such functions in about
    /// one run in three (all samples of the run; also with the rules written
    /// out instead of remembered; the cause inside perf's unwinder is not
    /// pinned down), and a profile never samples the `ud2`, which only runs
    /// to trap.
    pub fn prologue_fde(&self, address: Address) -> Option<FrameDescriptionEntry> {
        let UnwindInfo::SystemV(info) = &self.info else {
            return None;
        };
        Some(info.to_fde(address))
    }

    /// The FDE of the function at `address`, right at every instruction;
    /// `None` for unwind information other than System V.
    pub fn fde(&self, address: Address) -> Option<FrameDescriptionEntry> {
        let mut fde = self.prologue_fde(address)?;
        // The islands come after every instruction Cranelift describes (its
        // CFI is all in the prologue), so these rows keep offsets in order.
        for &at in &self.stack_checks {
            fde.add_instruction(at, CallFrameInstruction::RememberState);
            for reg in CALLEE_SAVED_BESIDES_RBP {
                fde.add_instruction(at, CallFrameInstruction::SameValue(gimli::Register(reg)));
            }
            fde.add_instruction(at + UD2_LEN, CallFrameInstruction::RestoreState);
        }
        Some(fde)
    }
}

unsafe extern "C" {
    fn __register_frame(eh_frame: *const u8);
    fn __deregister_frame(eh_frame: *const u8);
}

/// An `.eh_frame` section registered with libgcc for as long as it lives.
pub(crate) struct UnwindRegistration {
    eh_frame: Box<[u8]>,
}

impl UnwindRegistration {
    /// Builds and registers `.eh_frame` for functions given as
    /// `(address, size, unwind info)`.
    pub fn new<'a>(
        isa: &dyn TargetIsa,
        functions: impl Iterator<Item = (usize, usize, &'a FunctionCfi)>,
    ) -> Option<UnwindRegistration> {
        let mut table = FrameTable::default();
        let cie = table.add_cie(isa.create_systemv_cie()?);
        let mut any = false;
        for (address, _size, cfi) in functions {
            if let Some(fde) = cfi.fde(Address::Constant(address as u64)) {
                table.add_fde(cie, fde);
                any = true;
            }
        }
        if !any {
            return None;
        }
        let mut eh_frame = EhFrame(EndianVec::new(gimli::RunTimeEndian::Little));
        table.write_eh_frame(&mut eh_frame).ok()?;
        let mut bytes = eh_frame.0.into_vec();
        // libgcc walks the section until a zero-length entry.
        bytes.extend_from_slice(&[0; 4]);
        let eh_frame = bytes.into_boxed_slice();
        // SAFETY: the section is well formed (written by gimli, terminated)
        // and stays alive and unmoved until `drop` deregisters it.
        unsafe { __register_frame(eh_frame.as_ptr()) };
        Some(UnwindRegistration { eh_frame })
    }

    /// The raw section, for the registry and writers of debug objects.
    pub fn bytes(&self) -> &[u8] {
        &self.eh_frame
    }
}

impl Drop for UnwindRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `new` with this same pointer.
        unsafe { __deregister_frame(self.eh_frame.as_ptr()) };
    }
}
