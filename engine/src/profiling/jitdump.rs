//! The jitdump format of Linux perf (`tools/perf/Documentation/
//! jitdump-specification.txt`): a header, then records, each with a 16-byte
//! prefix `{id, total_size, timestamp}`. `perf inject --jit` reads the file
//! (found through an executable mapping of it that `perf record` saw), turns
//! each code load into a small ELF file (`jitted-PID-N.so`) and points the
//! samples at it.
//!
//! Records written here, in the order perf expects them (debug info and
//! unwinding info describe the code load that follows them):
//! - `JIT_CODE_DEBUG_INFO` (2): native address → source file and line;
//! - `JIT_CODE_UNWINDING_INFO` (4): an `.eh_frame` and `.eh_frame_hdr` for
//!   the function, laid out for the ELF file perf generates;
//! - `JIT_CODE_LOAD` (0): name, address and the code bytes.
//!
//! Timestamps are `CLOCK_MONOTONIC`, which is what `perf record -k mono`
//! uses, so that perf can order code loads among samples.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::debug::cfi::FunctionCfi;
use cranelift_codegen::isa::TargetIsa;
use gimli::write::{Address, EhFrame, EndianVec, FrameTable};

const MAGIC: u32 = 0x4A69_5444;
const VERSION: u32 = 1;
const HEADER_SIZE: u32 = 40;
const EM_X86_64: u32 = 62;

const JIT_CODE_LOAD: u32 = 0;
const JIT_CODE_DEBUG_INFO: u32 = 2;
const JIT_CODE_UNWINDING_INFO: u32 = 4;

/// File offset (and address) of `.text` in the ELF files `perf inject`
/// writes: the ELF header and one program header, rounded up to 16. perf
/// maps that offset at the code's address, so the `.eh_frame` written for
/// a function must place the function there. (perf releases before the
/// program-header fix used 64; 6.1 as shipped by Debian uses 128.)
pub(crate) const PERF_ELF_TEXT_OFFSET: u64 = 128;

/// One source position of a debug-info record.
pub(crate) struct LineEntry {
    /// Native address from which the position holds.
    pub address: u64,
    /// Source line (1-based).
    pub line: u32,
    /// Source file.
    pub file: String,
}

/// An open jitdump file, mapped executable so that perf notices it.
pub(crate) struct JitDump {
    file: io::BufWriter<File>,
    path: PathBuf,
    marker: *mut libc::c_void,
    marker_len: usize,
    next_index: u64,
}

// SAFETY: `marker` is only an address kept to unmap on drop; nothing reads
// through it.
unsafe impl Send for JitDump {}

/// `CLOCK_MONOTONIC` in nanoseconds.
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn thread_id() -> u32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as u32 }
}

impl JitDump {
    /// Creates `DIR/jit-PID.dump` (the name `perf inject` looks for) and
    /// maps it.
    pub fn create(dir: &Path) -> io::Result<JitDump> {
        let pid = std::process::id();
        let path = dir.join(format!("jit-{pid}.dump"));
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(with_path)?;
        // perf record logs executable mappings only: mapping the file with
        // PROT_EXEC is how the file's name gets into perf.data.
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        use std::os::fd::AsRawFd;
        // SAFETY: a fresh private mapping of an open file; nothing else
        // owns that address range.
        let marker = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if marker == libc::MAP_FAILED {
            return Err(with_path(io::Error::last_os_error()));
        }
        let mut dump = JitDump {
            file: io::BufWriter::new(file),
            path: path.clone(),
            marker,
            marker_len: page,
            next_index: 0,
        };
        let mut header = Vec::with_capacity(HEADER_SIZE as usize);
        for v in [MAGIC, VERSION, HEADER_SIZE, EM_X86_64, 0, pid] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&monotonic_ns().to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes()); // flags
        dump.file.write_all(&header).map_err(with_path)?;
        dump.file.flush()?;
        Ok(dump)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn record(&mut self, id: u32, body: &[u8]) -> io::Result<()> {
        let mut prefix = [0u8; 16];
        let total = 16 + body.len();
        let pad = total.next_multiple_of(8) - total;
        prefix[0..4].copy_from_slice(&id.to_le_bytes());
        prefix[4..8].copy_from_slice(&((total + pad) as u32).to_le_bytes());
        prefix[8..16].copy_from_slice(&monotonic_ns().to_le_bytes());
        self.file.write_all(&prefix)?;
        self.file.write_all(body)?;
        self.file.write_all(&[0u8; 8][..pad])
    }

    /// Writes the source lines of the function loaded next.
    pub fn debug_info(&mut self, code_addr: u64, lines: &[LineEntry]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut body = Vec::new();
        body.extend_from_slice(&code_addr.to_le_bytes());
        body.extend_from_slice(&(lines.len() as u64).to_le_bytes());
        for l in lines {
            body.extend_from_slice(&l.address.to_le_bytes());
            body.extend_from_slice(&l.line.to_le_bytes());
            body.extend_from_slice(&0u32.to_le_bytes()); // discriminator
            body.extend_from_slice(l.file.as_bytes());
            body.push(0);
        }
        self.record(JIT_CODE_DEBUG_INFO, &body)
    }

    /// Writes the unwinding information of the function loaded next
    /// (`code_size` bytes, described by `info`).
    pub fn unwinding_info(
        &mut self,
        isa: &dyn TargetIsa,
        code_size: usize,
        info: &FunctionCfi,
    ) -> io::Result<()> {
        let Some((eh_frame, hdr)) = eh_frame_for_perf(isa, code_size, info) else {
            return Ok(());
        };
        let mut body = Vec::new();
        let total = (eh_frame.len() + hdr.len()) as u64;
        body.extend_from_slice(&total.to_le_bytes());
        body.extend_from_slice(&(hdr.len() as u64).to_le_bytes());
        // mapped_size: perf's mapping of the function then covers the code
        // and, after it, the addresses where its ELF file holds this data.
        // perf's libunwind reads the `.eh_frame_hdr` table through that
        // mapping; with the code alone covered, it read the next
        // function's file there instead and unwound only by luck.
        // `compile::layout_module` leaves that room free after each
        // function, so that no later mapping cuts it off.
        body.extend_from_slice(&total.to_le_bytes());
        body.extend_from_slice(&eh_frame);
        body.extend_from_slice(&hdr);
        self.record(JIT_CODE_UNWINDING_INFO, &body)
    }

    /// Writes a code load record for `code` at `address`.
    pub fn code_load(&mut self, name: &str, address: usize, code: &[u8]) -> io::Result<()> {
        let mut body = Vec::with_capacity(40 + name.len() + 1 + code.len());
        body.extend_from_slice(&std::process::id().to_le_bytes());
        body.extend_from_slice(&thread_id().to_le_bytes());
        body.extend_from_slice(&(address as u64).to_le_bytes()); // vma
        body.extend_from_slice(&(address as u64).to_le_bytes()); // code_addr
        body.extend_from_slice(&(code.len() as u64).to_le_bytes());
        body.extend_from_slice(&self.next_index.to_le_bytes());
        self.next_index += 1;
        body.extend_from_slice(name.as_bytes());
        body.push(0);
        body.extend_from_slice(code);
        // perf finds the code as the last `code_size` bytes of the record,
        // so no padding may follow it.
        let mut prefix = [0u8; 16];
        prefix[0..4].copy_from_slice(&JIT_CODE_LOAD.to_le_bytes());
        prefix[4..8].copy_from_slice(&((16 + body.len()) as u32).to_le_bytes());
        prefix[8..16].copy_from_slice(&monotonic_ns().to_le_bytes());
        self.file.write_all(&prefix)?;
        self.file.write_all(&body)
    }

    /// Makes what was written visible to a reader.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for JitDump {
    fn drop(&mut self) {
        let _ = self.file.flush();
        // SAFETY: mapped in `create` with this address and length.
        unsafe { libc::munmap(self.marker, self.marker_len) };
    }
}

/// An `.eh_frame` (one CIE, one FDE, terminated) and its `.eh_frame_hdr`
/// for one function, placed as in perf's generated ELF file: code at
/// [`PERF_ELF_TEXT_OFFSET`], `.eh_frame` at the next multiple of 8 after
/// the code, `.eh_frame_hdr` right after `.eh_frame`. All pointers are
/// relative (`pcrel`, `datarel`), so the sections hold at any load address.
/// How many bytes after a function of `code_size` bytes perf's mapping of
/// it covers when its unwinding information is written (`None`: none is).
pub(crate) fn mapped_after_code(
    isa: &dyn TargetIsa,
    code_size: usize,
    cfi: &FunctionCfi,
) -> Option<usize> {
    let (eh_frame, hdr) = eh_frame_for_perf(isa, code_size, cfi)?;
    Some(code_size.next_multiple_of(8) - code_size + eh_frame.len() + hdr.len())
}

fn eh_frame_for_perf(
    isa: &dyn TargetIsa,
    code_size: usize,
    cfi: &FunctionCfi,
) -> Option<(Vec<u8>, Vec<u8>)> {
    let text = PERF_ELF_TEXT_OFFSET;
    let eh_frame_at = (text + code_size as u64).next_multiple_of(8);
    let mut cie = isa.create_systemv_cie()?;
    cie.fde_address_encoding = gimli::DW_EH_PE_pcrel | gimli::DW_EH_PE_sdata4;
    let mut table = FrameTable::default();
    let cie = table.add_cie(cie);
    // With pcrel encoding gimli subtracts the field's offset in the section;
    // an address relative to the section's start makes the result the
    // distance from the field to the code.
    let start = text.wrapping_sub(eh_frame_at);
    table.add_fde(cie, cfi.prologue_fde(Address::Constant(start))?);
    let mut eh_frame = EhFrame(EndianVec::new(gimli::RunTimeEndian::Little));
    table.write_eh_frame(&mut eh_frame).ok()?;
    let mut eh_frame = eh_frame.0.into_vec();
    let cie_len = u32::from_le_bytes(eh_frame.get(0..4)?.try_into().ok()?) as u64;
    let fde_offset = 4 + cie_len;
    eh_frame.extend_from_slice(&[0; 4]);

    let hdr_at = eh_frame_at + eh_frame.len() as u64;
    let rel = |to: u64, from: u64| (to.wrapping_sub(from) as i64 as i32).to_le_bytes();
    let mut hdr = vec![
        1,
        (gimli::DW_EH_PE_pcrel | gimli::DW_EH_PE_sdata4).0,
        gimli::DW_EH_PE_udata4.0,
        (gimli::DW_EH_PE_datarel | gimli::DW_EH_PE_sdata4).0,
    ];
    hdr.extend_from_slice(&rel(eh_frame_at, hdr_at + 4));
    hdr.extend_from_slice(&1u32.to_le_bytes());
    hdr.extend_from_slice(&rel(text, hdr_at));
    hdr.extend_from_slice(&rel(eh_frame_at + fde_offset, hdr_at));
    Some((eh_frame, hdr))
}
