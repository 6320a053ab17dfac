//! Linear memory: a fixed reservation with a guard region, so generated
//! code needs no bounds checks.

use std::ptr;

use super::layout::VMMemory;

/// Wasm page size.
pub const PAGE_SIZE: u64 = 65536;

/// Reserved address space per memory: 4 GiB of addressable memory plus a
/// 4 GiB guard, so that any 32-bit index plus any 32-bit static offset
/// plus the access size lands inside the reservation.
const RESERVATION: usize = (8 << 30) + PAGE_SIZE as usize;

/// A linear memory and its mapping.
pub struct LinearMemory {
    vm: Box<VMMemory>,
    max_pages: u64,
}

// SAFETY: the mapping is owned by this value; access is serialized by the
// store that owns it.
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    /// Reserves a memory of `min` pages that may grow to `max` pages.
    pub fn new(min: u64, max: u64) -> std::io::Result<LinearMemory> {
        // SAFETY: an anonymous private PROT_NONE reservation.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        // Core dumps leave out the unused part of the reservation (gcore
        // would otherwise write gigabytes of zeros); `grow` puts pages back.
        // SAFETY: advice on our own fresh mapping.
        unsafe { libc::madvise(base, RESERVATION, libc::MADV_DONTDUMP) };
        let mut memory = LinearMemory {
            vm: Box::new(VMMemory {
                base: base.cast(),
                length: 0,
            }),
            max_pages: max.min(65536),
        };
        if memory.grow(min).is_none() {
            return Err(std::io::Error::other("cannot allocate the initial memory"));
        }
        Ok(memory)
    }

    /// Grows by `delta` pages; returns the old size in pages, or `None` if
    /// the maximum would be exceeded or the system refuses.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages();
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        let start = self.vm.length as usize;
        let len = (delta * PAGE_SIZE) as usize;
        // SAFETY: `start..start+len` lies inside our reservation because
        // `new <= 65536` pages.
        let ok = unsafe {
            libc::mprotect(
                self.vm.base.add(start).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        } == 0;
        if !ok {
            return None;
        }
        // SAFETY: advice on the pages just made accessible.
        unsafe { libc::madvise(self.vm.base.add(start).cast(), len, libc::MADV_DODUMP) };
        self.vm.length = new * PAGE_SIZE;
        Some(old)
    }

    /// Current size in pages.
    pub fn pages(&self) -> u64 {
        self.vm.length / PAGE_SIZE
    }

    /// The structure generated code reads.
    pub fn vm(&self) -> *mut VMMemory {
        &*self.vm as *const VMMemory as *mut VMMemory
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `length` bytes from `base` are mapped read-write.
        unsafe { std::slice::from_raw_parts(self.vm.base, self.vm.length as usize) }
    }

    /// The accessible bytes, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.vm.base, self.vm.length as usize) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // SAFETY: our own reservation; no instance uses it any more.
        unsafe { libc::munmap(self.vm.base.cast(), RESERVATION) };
    }
}
