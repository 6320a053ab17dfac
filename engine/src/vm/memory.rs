//! Linear memory. A 32-bit memory is a fixed reservation with a guard
//! region, so generated code needs no bounds checks; a 64-bit memory is
//! bounds-checked by generated code against its current length, with a
//! small guard after its largest size.

use std::ptr;

use super::layout::VMMemory;
use crate::types::{AddrType, MemoryType};

/// Wasm page size.
pub const PAGE_SIZE: u64 = 65536;

/// Reserved address space per 32-bit memory: 4 GiB of addressable memory
/// plus a 4 GiB guard, so that any 32-bit index plus any 32-bit static
/// offset plus the access size lands inside the reservation.
const RESERVATION_32: usize = (8 << 30) + PAGE_SIZE as usize;

/// Guard after the largest size of a 64-bit memory. Generated code checks
/// that the first byte of an access is in bounds; the rest of an access
/// (at most 16 bytes) that crosses the end faults in this guard.
const GUARD_64: usize = PAGE_SIZE as usize;

/// The most pages a 64-bit memory can have (1 TiB), whatever its type
/// allows (2^48 pages): its whole size is reserved up front so that its
/// base never moves, and `memory.grow` beyond this returns -1.
pub const MAX_MEMORY64_PAGES: u64 = 1 << 24;

/// The most pages a memory of type `ty` may grow to: its declared
/// maximum, capped by `cap` (the engine's setting) and by what a
/// reservation holds.
pub fn max_pages(ty: &MemoryType, cap: u64) -> u64 {
    let limit = match ty.addr {
        AddrType::I32 => 65536,
        AddrType::I64 => MAX_MEMORY64_PAGES,
    };
    ty.limits.max.unwrap_or(u64::MAX).min(cap).min(limit)
}

/// A linear memory and its mapping.
pub struct LinearMemory {
    vm: Box<VMMemory>,
    max_pages: u64,
    reservation: usize,
}

// SAFETY: the mapping is owned by this value; access is serialized by the
// store that owns it.
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    /// Reserves a memory with addresses of type `addr`, of `min` pages,
    /// that may grow to `max` pages ([`max_pages`]).
    pub fn new(min: u64, max: u64, addr: AddrType) -> std::io::Result<LinearMemory> {
        let (max_pages, reservation) = match addr {
            AddrType::I32 => (max.min(65536), RESERVATION_32),
            AddrType::I64 => {
                let max = max.min(MAX_MEMORY64_PAGES);
                (max, (max * PAGE_SIZE) as usize + GUARD_64)
            }
        };
        // SAFETY: an anonymous private PROT_NONE reservation.
        let base = unsafe {
            libc::mmap(
                ptr::null_mut(),
                reservation,
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
        unsafe { libc::madvise(base, reservation, libc::MADV_DONTDUMP) };
        let mut memory = LinearMemory {
            vm: Box::new(VMMemory {
                base: base.cast(),
                length: 0,
            }),
            max_pages,
            reservation,
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
        // `new <= max_pages`, which the reservation holds.
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

    /// Start of the reservation: fixed for the memory's life (`grow` maps
    /// more of the reservation, it never moves it).
    pub fn base(&self) -> *mut u8 {
        self.vm.base
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
        unsafe { libc::munmap(self.vm.base.cast(), self.reservation) };
    }
}
