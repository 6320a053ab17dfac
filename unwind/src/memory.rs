//! Reading another address space, fallibly: the current process, another
//! process, or a core file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// The address that could not be read.
    pub address: u64,
    /// How many bytes were asked for.
    pub len: usize,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read {} bytes at {:#x}", self.len, self.address)
    }
}

impl std::error::Error for ReadError {}

/// An address space that can be read. A bad address is an error, never a
/// fault.
pub trait Memory {
    /// Fills `buf` with the bytes at `address`.
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// A little-endian `u64` at `address`.
    fn read_u64(&self, address: u64) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read(address, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// A little-endian `u32` at `address`.
    fn read_u32(&self, address: u64) -> Result<u32, ReadError> {
        let mut b = [0u8; 4];
        self.read(address, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// `len` bytes at `address`.
    fn read_vec(&self, address: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let mut v = vec![0u8; len];
        self.read(address, &mut v)?;
        Ok(v)
    }
}

/// Another process's memory (or this process's, by its own pid), read with
/// `process_vm_readv`, which fails cleanly on unmapped addresses.
#[derive(Debug, Clone, Copy)]
pub struct ProcessMemory {
    pid: i32,
}

impl ProcessMemory {
    /// The memory of process `pid`.
    pub fn new(pid: i32) -> ProcessMemory {
        ProcessMemory { pid }
    }

    /// This process's memory.
    pub fn current() -> ProcessMemory {
        // SAFETY: getpid has no preconditions.
        ProcessMemory {
            pid: unsafe { libc::getpid() },
        }
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }
}

impl Memory for ProcessMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let err = ReadError {
            address,
            len: buf.len(),
        };
        if buf.is_empty() {
            return Ok(());
        }
        let local = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let remote = libc::iovec {
            iov_base: address as *mut libc::c_void,
            iov_len: buf.len(),
        };
        // SAFETY: `local` describes our own writable buffer; the kernel
        // checks `remote` and fails instead of faulting.
        let n = unsafe { libc::process_vm_readv(self.pid, &local, 1, &remote, 1, 0) };
        if n == buf.len() as isize {
            Ok(())
        } else {
            Err(err)
        }
    }
}

/// Another memory read a page at a time, each page kept once read: many
/// small reads then cost one system call per page. Only for a target that
/// does not change while this value is used (a stopped process, a core
/// file): the pages are never read again.
pub struct PageCachedMemory<'a> {
    inner: &'a dyn Memory,
    /// Pages by address; `None` where the page could not be read.
    pages: RefCell<HashMap<u64, Option<Box<[u8]>>>>,
}

impl<'a> PageCachedMemory<'a> {
    /// Page size of the cache (the mappings' granularity on x86-64 Linux).
    pub const PAGE: u64 = 4096;
    /// Reads longer than this go to `inner` directly, uncached.
    const DIRECT: usize = 16 * Self::PAGE as usize;

    /// `inner`, read through the cache.
    pub fn new(inner: &'a dyn Memory) -> PageCachedMemory<'a> {
        PageCachedMemory {
            inner,
            pages: RefCell::default(),
        }
    }
}

impl Memory for PageCachedMemory<'_> {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let err = ReadError {
            address,
            len: buf.len(),
        };
        let end = address.checked_add(buf.len() as u64).ok_or(err.clone())?;
        if buf.len() > Self::DIRECT {
            return self.inner.read(address, buf);
        }
        let mut pages = self.pages.borrow_mut();
        let mut at = address;
        while at < end {
            let page = at & !(Self::PAGE - 1);
            let bytes = pages.entry(page).or_insert_with(|| {
                self.inner
                    .read_vec(page, Self::PAGE as usize)
                    .ok()
                    .map(Vec::into_boxed_slice)
            });
            let bytes = bytes.as_ref().ok_or(err.clone())?;
            let upto = end.min(page + Self::PAGE);
            let from = (at - address) as usize;
            let to = (upto - address) as usize;
            buf[from..to].copy_from_slice(&bytes[(at - page) as usize..(upto - page) as usize]);
            at = upto;
        }
        Ok(())
    }
}

/// A byte slice mapped at an address (for tests and snapshots).
#[derive(Debug, Clone)]
pub struct SliceMemory {
    /// Address of the first byte.
    pub base: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl Memory for SliceMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let err = ReadError {
            address,
            len: buf.len(),
        };
        let start = address.checked_sub(self.base).ok_or(err.clone())? as usize;
        let end = start.checked_add(buf.len()).ok_or(err.clone())?;
        let src = self.bytes.get(start..end).ok_or(err)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_cache_reads_across_pages_and_keeps_them() {
        let bytes: Vec<u8> = (0..3 * 4096u32).map(|i| (i % 251) as u8).collect();
        let slice = SliceMemory {
            base: 0x10000,
            bytes: bytes.clone(),
        };
        let cached = PageCachedMemory::new(&slice);
        assert_eq!(cached.read_vec(0x10ffc, 8).unwrap(), bytes[0xffc..0x1004]);
        assert_eq!(cached.read_vec(0x10000, 3 * 4096).unwrap(), bytes);
        assert_eq!(cached.pages.borrow().len(), 3);
        // Outside the slice: an error, also when only part is outside.
        assert!(cached.read_u64(0x0fffc).is_err());
        assert!(cached.read_u64(0x12ff8).is_ok());
        assert!(cached.read_u64(0x12ffc).is_err());
    }
}
