//! Continuation stacks: one mapping each, a guard page below. A store keeps
//! every stack it mapped and reuses it through the free list of records
//! (`store_continuations.rs`), so that creating and finishing a
//! continuation allocates nothing in steady state.
//!
//! ```text
//!   low                                                          high
//!   [ guard page | usable stack, grows down ...  | header (record) ]
//!                ^ base + GUARD                    ^ top - HEADER   ^ top
//! ```

use std::ptr;

/// Size of the guard page below each stack.
pub const GUARD_SIZE: usize = 4096;

/// Stack space kept free below the Wasm stack limit, for host code (libcalls,
/// host functions) called from a continuation.
pub const HOST_RESERVE: usize = 64 * 1024;

/// Why a stack could not be had.
#[derive(Debug, PartialEq, Eq)]
pub enum StackError {
    /// The system refused the mapping.
    OutOfMemory,
}

/// One continuation stack.
#[derive(Debug)]
pub struct ContinuationStack {
    mapping: *mut u8,
    len: usize,
}

// SAFETY: the mapping is owned by this value.
unsafe impl Send for ContinuationStack {}

impl ContinuationStack {
    fn map(len: usize) -> Result<ContinuationStack, StackError> {
        // SAFETY: an anonymous private mapping has no preconditions.
        let mapping = unsafe {
            libc::mmap(
                ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if mapping == libc::MAP_FAILED {
            return Err(StackError::OutOfMemory);
        }
        // SAFETY: the first page of our own mapping.
        if unsafe { libc::mprotect(mapping, GUARD_SIZE, libc::PROT_NONE) } != 0 {
            // SAFETY: unmapping our own mapping.
            unsafe { libc::munmap(mapping, len) };
            return Err(StackError::OutOfMemory);
        }
        Ok(ContinuationStack {
            mapping: mapping.cast(),
            len,
        })
    }

    /// A stack with at least `usable` bytes above its guard page (rounded
    /// up to pages, and at least twice the host reserve).
    pub fn map_usable(usable: usize) -> Result<ContinuationStack, StackError> {
        let usable = usable.max(HOST_RESERVE * 2).div_ceil(4096) * 4096;
        ContinuationStack::map(usable + GUARD_SIZE)
    }

    /// One past the highest byte.
    pub fn top(&self) -> usize {
        self.mapping as usize + self.len
    }

    /// Lowest usable byte (above the guard page).
    pub fn bottom(&self) -> usize {
        self.mapping as usize + GUARD_SIZE
    }

    /// The stack limit for Wasm code running on this stack.
    pub fn wasm_limit(&self) -> usize {
        self.bottom() + HOST_RESERVE
    }
}

impl Drop for ContinuationStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping; its owner drops it only when nothing runs on it.
        unsafe { libc::munmap(self.mapping.cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_has_its_guard_page_below_and_the_host_reserve_above_it() {
        let stack = ContinuationStack::map_usable(64 * 1024).unwrap();
        assert_eq!(stack.bottom() % 4096, 0);
        assert!(stack.top() - stack.bottom() >= 2 * HOST_RESERVE);
        assert_eq!(stack.wasm_limit(), stack.bottom() + HOST_RESERVE);
        // SAFETY: the usable part of our own stack is writable.
        unsafe { (stack.bottom() as *mut u8).write(1) };
    }
}
