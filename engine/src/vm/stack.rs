//! Continuation stacks: one mapping each, a guard page below, reused
//! through a pool so that creating and finishing a continuation allocates
//! nothing in steady state.
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
    /// The configured number of live stacks is reached.
    TooMany,
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
        // SAFETY: our own mapping; the pool only drops stacks nothing runs on.
        unsafe { libc::munmap(self.mapping.cast(), self.len) };
    }
}

/// A pool of equally sized stacks with a bound on how many are live.
pub struct StackPool {
    stack_size: usize,
    free: Vec<ContinuationStack>,
    live: usize,
    max_live: usize,
    max_free: usize,
}

impl StackPool {
    /// A pool of stacks of `stack_size` usable bytes (rounded up to pages),
    /// at most `max_live` of them in use at once.
    pub fn new(stack_size: usize, max_live: usize) -> StackPool {
        let usable = stack_size.max(HOST_RESERVE * 2).div_ceil(4096) * 4096;
        StackPool {
            stack_size: usable + GUARD_SIZE,
            free: Vec::new(),
            live: 0,
            max_live,
            max_free: 64,
        }
    }

    /// A stack, reused if one is free.
    pub fn allocate(&mut self) -> Result<ContinuationStack, StackError> {
        if self.live >= self.max_live {
            return Err(StackError::TooMany);
        }
        let stack = match self.free.pop() {
            Some(s) => s,
            None => ContinuationStack::map(self.stack_size)?,
        };
        self.live += 1;
        Ok(stack)
    }

    /// Gives a stack back.
    pub fn release(&mut self, stack: ContinuationStack) {
        self.live -= 1;
        if self.free.len() < self.max_free {
            self.free.push(stack);
        }
    }

    /// Stacks in use.
    pub fn live(&self) -> usize {
        self.live
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_reused_and_bounded() {
        let mut pool = StackPool::new(64 * 1024, 2);
        let a = pool.allocate().unwrap();
        let top = a.top();
        let b = pool.allocate().unwrap();
        assert_eq!(pool.allocate().unwrap_err(), StackError::TooMany);
        pool.release(a);
        let c = pool.allocate().unwrap();
        assert_eq!(c.top(), top, "the released stack is handed out again");
        assert!(c.wasm_limit() > c.bottom() && c.wasm_limit() < c.top());
        pool.release(b);
        pool.release(c);
        assert_eq!(pool.live(), 0);
    }
}
