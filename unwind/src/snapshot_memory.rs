//! A copy of the parts of a stopped process that change while it runs,
//! so that the process can go on while we unwind and symbolize.
//!
//! While the process is stopped, [`stack_spans`] says which stack bytes the
//! walks will read (each parked continuation from its saved stack pointer
//! to the top of its stack, each thread from its stack pointer, each
//! resumer from where it resumed its child) and [`SnapshotMemory::copy`]
//! copies them with a few large `process_vm_readv` calls. Once the process
//! runs again, reads inside the copies are served from them; reads
//! elsewhere in a stack the copy covers fail (the live bytes there no
//! longer belong to the moment of the stop); every other read goes to the
//! live process. Those other reads are of generated code, its `.eh_frame`,
//! the module bytes and source maps: they do not change while the module
//! is loaded, so reading them late gives the same answer (or, once the
//! module is gone, a clean read error).

use std::io;
use std::ops::Range;

use crate::memory::{Memory, ProcessMemory, ReadError};
use crate::ptrace::ThreadRegisters;
use crate::registry::{Snapshot, State};

/// How much of a host stack (one not in the registry) above a stack
/// pointer is copied. A host stack's live part is its frames down to
/// `main` or the thread's start: a few pages in practice; a copy that runs
/// past the end of the stack's mapping is cut there.
pub const HOST_STACK_COPY: u64 = 1 << 20;

/// Most iovecs one `process_vm_readv` call takes (the kernel's `UIO_MAXIOV`).
const IOV_MAX: usize = 1024;

/// One stack span to copy: the bytes of `copy`, inside the stack
/// `stack`, whose other bytes must not be read live afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSpan {
    /// The bytes to copy.
    pub copy: Range<u64>,
    /// The whole region the copy belongs to (a stack's bounds, or for a
    /// host stack the copied span itself).
    pub stack: Range<u64>,
}

/// The stack bytes that the walks of `threads` and of the parked
/// continuations of `snapshot` read.
pub fn stack_spans(snapshot: &Snapshot, threads: &[ThreadRegisters]) -> Vec<StackSpan> {
    let records = || snapshot.stores.iter().flat_map(|s| &s.records);
    // Stack bounds by start, to find the stack holding an sp quickly.
    let mut bounds: Vec<Range<u64>> = records().map(|r| r.stack_low..r.stack_high).collect();
    bounds.sort_by_key(|b| b.start);
    let within = |sp: u64| {
        let i = bounds.partition_point(|b| b.start <= sp);
        bounds[..i].last().filter(|b| sp < b.end)
    };
    // From `sp` to the top of the stack holding it.
    let from = |sp: u64| match within(sp) {
        Some(b) => StackSpan {
            copy: sp..b.end,
            stack: b.clone(),
        },
        None => {
            let end = sp.saturating_add(HOST_STACK_COPY);
            StackSpan {
                copy: sp..end,
                stack: sp..end,
            }
        }
    };
    let mut spans = Vec::new();
    for t in threads {
        spans.push(from(t.rsp));
    }
    for r in records() {
        // A suspended continuation's frames lie above its saved sp.
        if r.state == State::Suspended && r.own.pc != 0 && r.own.sp != 0 {
            spans.push(from(r.own.sp));
        }
        // A running one's resumer: its frames lie above the sp it had when
        // it resumed this one.
        if r.parent.pc != 0 && r.parent.sp != 0 {
            spans.push(from(r.parent.sp));
        }
    }
    spans.retain(|s| s.copy.start < s.copy.end);
    spans
}

/// Copied stack bytes of a process, with its live memory behind them.
#[derive(Debug)]
pub struct SnapshotMemory {
    live: ProcessMemory,
    /// Copied bytes by start address, sorted, not overlapping.
    copies: Vec<(u64, Vec<u8>)>,
    /// Regions (sorted by start) where only the copies may be read.
    stacks: Vec<Range<u64>>,
}

impl SnapshotMemory {
    /// Copies `spans` of process `pid` (which should be stopped) in as
    /// few `process_vm_readv` calls as the kernel allows. A span that is
    /// partly unreadable keeps what could be read before the hole.
    pub fn copy(pid: i32, spans: &[StackSpan]) -> SnapshotMemory {
        let copies = read_ranges(pid, &merge(spans.iter().map(|s| s.copy.clone()).collect()));
        let stacks = merge(spans.iter().map(|s| s.stack.clone()).collect());
        SnapshotMemory {
            live: ProcessMemory::new(pid),
            copies,
            stacks,
        }
    }

    /// How many bytes were copied.
    pub fn copied_bytes(&self) -> usize {
        self.copies.iter().map(|(_, b)| b.len()).sum()
    }

    /// The copy holding all of `address..address+len`, if any.
    fn copied(&self, address: u64, len: usize) -> Option<&[u8]> {
        let i = self.copies.partition_point(|(s, _)| *s <= address);
        let (start, bytes) = self.copies.get(i.checked_sub(1)?)?;
        let offset = usize::try_from(address - start).ok()?;
        bytes.get(offset..offset.checked_add(len)?)
    }

    /// Whether `address..address+len` touches a copied stack.
    fn in_a_stack(&self, address: u64, len: usize) -> bool {
        let end = address.saturating_add(len as u64);
        let i = self.stacks.partition_point(|s| s.end <= address);
        self.stacks.get(i).is_some_and(|s| s.start < end)
    }
}

impl Memory for SnapshotMemory {
    fn read(&self, address: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        if let Some(bytes) = self.copied(address, buf.len()) {
            buf.copy_from_slice(bytes);
            return Ok(());
        }
        if self.in_a_stack(address, buf.len()) {
            return Err(ReadError {
                address,
                len: buf.len(),
            });
        }
        self.live.read(address, buf)
    }
}

/// Sorted, with overlapping and touching ranges joined.
fn merge(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// Reads `ranges` of process `pid`, up to [`IOV_MAX`] ranges per call. The
/// kernel stops a call at the first unreadable byte: that range keeps its
/// readable prefix and the next call starts after it.
fn read_ranges(pid: i32, ranges: &[Range<u64>]) -> Vec<(u64, Vec<u8>)> {
    let mut bufs: Vec<Vec<u8>> = ranges
        .iter()
        .map(|r| vec![0u8; (r.end - r.start) as usize])
        .collect();
    let mut done = vec![0usize; ranges.len()];
    let mut next = 0;
    while next < ranges.len() {
        let batch = next..ranges.len().min(next + IOV_MAX);
        let local: Vec<libc::iovec> = bufs[batch.clone()]
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let remote: Vec<libc::iovec> = ranges[batch.clone()]
            .iter()
            .map(|r| libc::iovec {
                iov_base: r.start as *mut libc::c_void,
                iov_len: (r.end - r.start) as usize,
            })
            .collect();
        // SAFETY: each `local` iovec describes one of our own buffers,
        // writable for its length and alive until the call returns; the
        // kernel checks the `remote` ones and stops instead of faulting.
        let n = unsafe {
            libc::process_vm_readv(
                pid,
                local.as_ptr(),
                local.len() as libc::c_ulong,
                remote.as_ptr(),
                remote.len() as libc::c_ulong,
                0,
            )
        };
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
            break;
        }
        // Hand the bytes read to the ranges in order; the range where the
        // call stopped keeps its prefix, and the next call starts after it.
        let mut left = n.max(0) as usize;
        let mut stopped_at = batch.end;
        for i in batch {
            let len = bufs[i].len();
            done[i] = left.min(len);
            left -= done[i];
            if done[i] < len {
                stopped_at = i + 1;
                break;
            }
        }
        next = stopped_at;
    }
    ranges
        .iter()
        .zip(bufs)
        .zip(done)
        .filter(|(_, n)| *n > 0)
        .map(|((r, mut b), n)| {
            b.truncate(n);
            (r.start, b)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_joins_overlaps() {
        assert_eq!(merge(vec![5..9, 1..3, 2..4, 9..10]), vec![1..4, 5..10]);
    }

    #[test]
    fn copies_serve_reads_and_stacks_refuse_the_rest() {
        let data: Vec<u8> = (0..=255).collect();
        let base = data.as_ptr() as u64;
        let spans = [StackSpan {
            copy: base + 16..base + 64,
            stack: base..base + 128,
        }];
        let memory = SnapshotMemory::copy(ProcessMemory::current().pid(), &spans);
        assert_eq!(memory.copied_bytes(), 48);
        assert_eq!(memory.read_vec(base + 16, 4).unwrap(), vec![16, 17, 18, 19]);
        assert_eq!(memory.read_vec(base + 60, 4).unwrap(), vec![60, 61, 62, 63]);
        // In the stack but not copied, or running past the copy.
        assert!(memory.read_vec(base + 8, 4).is_err());
        assert!(memory.read_vec(base + 62, 4).is_err());
        assert!(memory.read_vec(base + 100, 4).is_err());
        // Outside every stack: read live.
        assert_eq!(memory.read_vec(base + 200, 2).unwrap(), vec![200, 201]);
    }

    #[test]
    fn an_unreadable_span_keeps_its_prefix_and_later_spans_are_read() {
        // A readable page followed by an unmapped one, then another buffer.
        // SAFETY: a fresh anonymous mapping, no address hint.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                8192,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(map, libc::MAP_FAILED);
        let page = map as u64;
        // SAFETY: the second page is part of the mapping made above.
        assert_eq!(unsafe { libc::munmap((page + 4096) as *mut _, 4096) }, 0);
        let other = vec![7u8; 32];
        let o = other.as_ptr() as u64;
        let spans = [
            StackSpan {
                copy: page + 4000..page + 5000,
                stack: page..page + 8192,
            },
            StackSpan {
                copy: o..o + 32,
                stack: o..o + 32,
            },
        ];
        let memory = SnapshotMemory::copy(ProcessMemory::current().pid(), &spans);
        assert_eq!(memory.copied_bytes(), 96 + 32);
        assert_eq!(memory.read_u64(page + 4088).unwrap(), 0);
        assert!(memory.read_u64(page + 4096).is_err());
        assert_eq!(memory.read_vec(o, 32).unwrap(), other);
        // SAFETY: the first page is still ours to unmap.
        unsafe { libc::munmap(map, 4096) };
    }
}
