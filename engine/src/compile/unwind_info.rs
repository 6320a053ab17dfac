//! Generated code's CFI: one FDE per function (Cranelift's, corrected at
//! the prologue's stack check), published to the in-process unwinder
//! (libgcc's `__register_frame`), so that `_Unwind_Backtrace`, and with it
//! the `backtrace` crate and Rust panics, can walk through JIT frames; the
//! same section goes to gdb and the registry, Cranelift's FDEs to perf.

use cranelift_codegen::isa::TargetIsa;
use gimli::write::{Address, EhFrame, EndianVec, FrameTable};

pub(crate) use crate::debug::cfi::FunctionCfi;

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
