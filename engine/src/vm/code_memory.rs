//! Executable memory: written while writable, then mapped read+execute,
//! never both at once.

use std::ptr;

/// One mapping of generated code.
pub struct CodeMemory {
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is immutable once published, and owned by this value.
unsafe impl Send for CodeMemory {}
// SAFETY: as above; only reads happen through shared references.
unsafe impl Sync for CodeMemory {}

impl CodeMemory {
    /// Maps `code`, lets `patch` fix it up in place (relocations), then
    /// makes it executable.
    pub fn new(code: &[u8], patch: impl FnOnce(&mut [u8], usize)) -> std::io::Result<CodeMemory> {
        let page = 4096;
        let len = code.len().max(1).div_ceil(page) * page;
        // SAFETY: an anonymous private mapping has no preconditions.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let base = base as *mut u8;
        // SAFETY: the mapping is `len >= code.len()` writable bytes we own.
        let bytes = unsafe { std::slice::from_raw_parts_mut(base, len) };
        bytes[..code.len()].copy_from_slice(code);
        patch(&mut bytes[..code.len()], base as usize);
        // SAFETY: `base..base+len` is our mapping.
        if unsafe { libc::mprotect(base.cast(), len, libc::PROT_READ | libc::PROT_EXEC) } != 0 {
            let err = std::io::Error::last_os_error();
            // SAFETY: unmapping our own mapping.
            unsafe { libc::munmap(base.cast(), len) };
            return Err(err);
        }
        Ok(CodeMemory { base, len })
    }

    /// Start address.
    pub fn base(&self) -> usize {
        self.base as usize
    }
}

impl Drop for CodeMemory {
    fn drop(&mut self) {
        // SAFETY: our own mapping; nothing runs in it any more (the owner
        // outlives every instance using it).
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}
