//! Each function's CFI: Cranelift's, corrected at the prologue's stack
//! check. Compiling makes it; the in-process unwinder, gdb, the registry
//! (through `compile::unwind_info`) and perf (through `profiling`) read it.

use cranelift_codegen::isa::unwind::UnwindInfo;
use gimli::write::{Address, CallFrameInstruction, FrameDescriptionEntry};

/// One function's CFI as Cranelift describes it, with what Cranelift gets
/// wrong.
#[derive(serde::Serialize, serde::Deserialize)]
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
