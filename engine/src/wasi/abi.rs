//! The preview 1 ABI as this module needs it: `errno` values, flag bits,
//! the layouts of the structures passed through linear memory, and
//! checked access to that memory.
//!
//! Numbers and layouts are those of `wasi_snapshot_preview1.witx`
//! (`__WASI_*` in wasi-libc's `wasi/api.h`). Guest pointers and lengths
//! are unsigned 32-bit numbers; every region is checked in 64-bit
//! arithmetic, so nothing wraps.

use std::io;
use std::ops::Range;

use crate::error::Error;

/// `errno` values.
pub mod errno {
    pub const SUCCESS: u16 = 0;
    pub const TOOBIG: u16 = 1;
    pub const ACCES: u16 = 2;
    pub const ADDRINUSE: u16 = 3;
    pub const ADDRNOTAVAIL: u16 = 4;
    pub const AFNOSUPPORT: u16 = 5;
    pub const AGAIN: u16 = 6;
    pub const ALREADY: u16 = 7;
    pub const BADF: u16 = 8;
    pub const BADMSG: u16 = 9;
    pub const BUSY: u16 = 10;
    pub const CANCELED: u16 = 11;
    pub const CHILD: u16 = 12;
    pub const CONNABORTED: u16 = 13;
    pub const CONNREFUSED: u16 = 14;
    pub const CONNRESET: u16 = 15;
    pub const DEADLK: u16 = 16;
    pub const DESTADDRREQ: u16 = 17;
    pub const DOM: u16 = 18;
    pub const DQUOT: u16 = 19;
    pub const EXIST: u16 = 20;
    pub const FAULT: u16 = 21;
    pub const FBIG: u16 = 22;
    pub const HOSTUNREACH: u16 = 23;
    pub const IDRM: u16 = 24;
    pub const ILSEQ: u16 = 25;
    pub const INPROGRESS: u16 = 26;
    pub const INTR: u16 = 27;
    pub const INVAL: u16 = 28;
    pub const IO: u16 = 29;
    pub const ISCONN: u16 = 30;
    pub const ISDIR: u16 = 31;
    pub const LOOP: u16 = 32;
    pub const MFILE: u16 = 33;
    pub const MLINK: u16 = 34;
    pub const MSGSIZE: u16 = 35;
    pub const MULTIHOP: u16 = 36;
    pub const NAMETOOLONG: u16 = 37;
    pub const NETDOWN: u16 = 38;
    pub const NETRESET: u16 = 39;
    pub const NETUNREACH: u16 = 40;
    pub const NFILE: u16 = 41;
    pub const NOBUFS: u16 = 42;
    pub const NODEV: u16 = 43;
    pub const NOENT: u16 = 44;
    pub const NOEXEC: u16 = 45;
    pub const NOLCK: u16 = 46;
    pub const NOLINK: u16 = 47;
    pub const NOMEM: u16 = 48;
    pub const NOMSG: u16 = 49;
    pub const NOPROTOOPT: u16 = 50;
    pub const NOSPC: u16 = 51;
    pub const NOSYS: u16 = 52;
    pub const NOTCONN: u16 = 53;
    pub const NOTDIR: u16 = 54;
    pub const NOTEMPTY: u16 = 55;
    pub const NOTRECOVERABLE: u16 = 56;
    pub const NOTSOCK: u16 = 57;
    pub const NOTSUP: u16 = 58;
    pub const NOTTY: u16 = 59;
    pub const NXIO: u16 = 60;
    pub const OVERFLOW: u16 = 61;
    pub const OWNERDEAD: u16 = 62;
    pub const PERM: u16 = 63;
    pub const PIPE: u16 = 64;
    pub const PROTO: u16 = 65;
    pub const PROTONOSUPPORT: u16 = 66;
    pub const PROTOTYPE: u16 = 67;
    pub const RANGE: u16 = 68;
    pub const ROFS: u16 = 69;
    pub const SPIPE: u16 = 70;
    pub const SRCH: u16 = 71;
    pub const STALE: u16 = 72;
    pub const TIMEDOUT: u16 = 73;
    pub const TXTBSY: u16 = 74;
    pub const XDEV: u16 = 75;
}

/// `filetype` values.
pub mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const BLOCK_DEVICE: u8 = 1;
    pub const CHARACTER_DEVICE: u8 = 2;
    pub const DIRECTORY: u8 = 3;
    pub const REGULAR_FILE: u8 = 4;
    pub const SOCKET_STREAM: u8 = 6;
    pub const SYMBOLIC_LINK: u8 = 7;
}

/// `rights` bits.
pub mod rights {
    pub const FD_DATASYNC: u64 = 1 << 0;
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_SEEK: u64 = 1 << 2;
    pub const FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
    pub const FD_SYNC: u64 = 1 << 4;
    pub const FD_TELL: u64 = 1 << 5;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const FD_ADVISE: u64 = 1 << 7;
    pub const FD_ALLOCATE: u64 = 1 << 8;
    pub const PATH_CREATE_DIRECTORY: u64 = 1 << 9;
    pub const PATH_CREATE_FILE: u64 = 1 << 10;
    pub const PATH_LINK_SOURCE: u64 = 1 << 11;
    pub const PATH_LINK_TARGET: u64 = 1 << 12;
    pub const PATH_OPEN: u64 = 1 << 13;
    pub const FD_READDIR: u64 = 1 << 14;
    pub const PATH_READLINK: u64 = 1 << 15;
    pub const PATH_RENAME_SOURCE: u64 = 1 << 16;
    pub const PATH_RENAME_TARGET: u64 = 1 << 17;
    pub const PATH_FILESTAT_GET: u64 = 1 << 18;
    pub const PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
    pub const PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
    pub const FD_FILESTAT_GET: u64 = 1 << 21;
    pub const FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
    pub const FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
    pub const PATH_SYMLINK: u64 = 1 << 24;
    pub const PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
    pub const PATH_UNLINK_FILE: u64 = 1 << 26;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
    pub const SOCK_SHUTDOWN: u64 = 1 << 28;
    pub const SOCK_ACCEPT: u64 = 1 << 29;

    /// What an open regular file can do (less read or write by its
    /// access mode).
    pub const FILE: u64 = FD_DATASYNC
        | FD_READ
        | FD_SEEK
        | FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_TELL
        | FD_WRITE
        | FD_ADVISE
        | FD_ALLOCATE
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_SIZE
        | FD_FILESTAT_SET_TIMES
        | POLL_FD_READWRITE;

    /// What an open directory can do.
    pub const DIRECTORY: u64 = FD_FDSTAT_SET_FLAGS
        | FD_SYNC
        | FD_ADVISE
        | PATH_CREATE_DIRECTORY
        | PATH_CREATE_FILE
        | PATH_LINK_SOURCE
        | PATH_LINK_TARGET
        | PATH_OPEN
        | FD_READDIR
        | PATH_READLINK
        | PATH_RENAME_SOURCE
        | PATH_RENAME_TARGET
        | PATH_FILESTAT_GET
        | PATH_FILESTAT_SET_SIZE
        | PATH_FILESTAT_SET_TIMES
        | FD_FILESTAT_GET
        | FD_FILESTAT_SET_TIMES
        | PATH_SYMLINK
        | PATH_REMOVE_DIRECTORY
        | PATH_UNLINK_FILE;

    /// What a connected socket can do.
    pub const SOCKET: u64 = FD_READ
        | FD_WRITE
        | FD_FDSTAT_SET_FLAGS
        | FD_FILESTAT_GET
        | POLL_FD_READWRITE
        | SOCK_SHUTDOWN;

    /// What a listening socket can do.
    pub const LISTENER: u64 =
        FD_READ | FD_FDSTAT_SET_FLAGS | FD_FILESTAT_GET | POLL_FD_READWRITE | SOCK_ACCEPT;
}

/// `fdflags` bits.
pub mod fdflags {
    pub const APPEND: u16 = 1 << 0;
    pub const DSYNC: u16 = 1 << 1;
    pub const NONBLOCK: u16 = 1 << 2;
    pub const RSYNC: u16 = 1 << 3;
    pub const SYNC: u16 = 1 << 4;
}

/// `oflags` bits of `path_open`.
pub mod oflags {
    pub const CREAT: u16 = 1 << 0;
    pub const DIRECTORY: u16 = 1 << 1;
    pub const EXCL: u16 = 1 << 2;
    pub const TRUNC: u16 = 1 << 3;
}

/// `lookupflags` bits.
pub mod lookupflags {
    pub const SYMLINK_FOLLOW: u32 = 1 << 0;
}

/// `fstflags` bits of the `*_set_times` functions.
pub mod fstflags {
    pub const ATIM: u16 = 1 << 0;
    pub const ATIM_NOW: u16 = 1 << 1;
    pub const MTIM: u16 = 1 << 2;
    pub const MTIM_NOW: u16 = 1 << 3;
}

/// `clockid` values.
pub mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// Size of `fdstat`: `{ fs_filetype: u8 @0, fs_flags: u16 @2,
/// fs_rights_base: u64 @8, fs_rights_inheriting: u64 @16 }`.
pub const FDSTAT_SIZE: usize = 24;

/// Size of `filestat`: `{ dev: u64 @0, ino: u64 @8, filetype: u8 @16,
/// nlink: u64 @24, size: u64 @32, atim: u64 @40, mtim: u64 @48,
/// ctim: u64 @56 }`.
pub const FILESTAT_SIZE: usize = 64;

/// Size of one `ciovec`/`iovec`: `{ buf: u32 @0, buf_len: u32 @4 }`.
const IOVEC_SIZE: u64 = 8;

/// Why a WASI function did not succeed.
pub enum Fail {
    /// The guest gets this `errno`.
    Errno(u16),
    /// Execution stops with this error.
    Host(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        Fail::Host(e)
    }
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        Fail::Errno(errno_of(&e))
    }
}

impl From<rustix::io::Errno> for Fail {
    fn from(e: rustix::io::Errno) -> Fail {
        Fail::Errno(errno_of_raw(e.raw_os_error()).unwrap_or(errno::IO))
    }
}

/// The WASI `errno` closest to a host I/O error.
///
/// cap-std reports a path that would leave its directory (through `..`,
/// an absolute path or a symbolic link) as a permission error without an
/// OS error number; that becomes `EPERM`, as in Wasmtime.
pub fn errno_of(e: &io::Error) -> u16 {
    if let Some(code) = e.raw_os_error().and_then(errno_of_raw) {
        return code;
    }
    match e.kind() {
        io::ErrorKind::PermissionDenied => errno::PERM,
        io::ErrorKind::NotFound => errno::NOENT,
        io::ErrorKind::AlreadyExists => errno::EXIST,
        io::ErrorKind::BrokenPipe => errno::PIPE,
        io::ErrorKind::WouldBlock => errno::AGAIN,
        io::ErrorKind::Interrupted => errno::INTR,
        io::ErrorKind::InvalidInput => errno::INVAL,
        io::ErrorKind::NotADirectory => errno::NOTDIR,
        io::ErrorKind::IsADirectory => errno::ISDIR,
        io::ErrorKind::DirectoryNotEmpty => errno::NOTEMPTY,
        io::ErrorKind::Unsupported => errno::NOTSUP,
        _ => errno::IO,
    }
}

/// The WASI `errno` of a Linux `errno`, if it has one.
fn errno_of_raw(code: i32) -> Option<u16> {
    use errno::*;
    Some(match code {
        libc::E2BIG => TOOBIG,
        libc::EACCES => ACCES,
        libc::EADDRINUSE => ADDRINUSE,
        libc::EADDRNOTAVAIL => ADDRNOTAVAIL,
        libc::EAFNOSUPPORT => AFNOSUPPORT,
        libc::EAGAIN => AGAIN,
        libc::EALREADY => ALREADY,
        libc::EBADF => BADF,
        libc::EBADMSG => BADMSG,
        libc::EBUSY => BUSY,
        libc::ECANCELED => CANCELED,
        libc::ECHILD => CHILD,
        libc::ECONNABORTED => CONNABORTED,
        libc::ECONNREFUSED => CONNREFUSED,
        libc::ECONNRESET => CONNRESET,
        libc::EDEADLK => DEADLK,
        libc::EDESTADDRREQ => DESTADDRREQ,
        libc::EDOM => DOM,
        libc::EDQUOT => DQUOT,
        libc::EEXIST => EXIST,
        libc::EFAULT => FAULT,
        libc::EFBIG => FBIG,
        libc::EHOSTUNREACH => HOSTUNREACH,
        libc::EIDRM => IDRM,
        libc::EILSEQ => ILSEQ,
        libc::EINPROGRESS => INPROGRESS,
        libc::EINTR => INTR,
        libc::EINVAL => INVAL,
        libc::EIO => IO,
        libc::EISCONN => ISCONN,
        libc::EISDIR => ISDIR,
        libc::ELOOP => LOOP,
        libc::EMFILE => MFILE,
        libc::EMLINK => MLINK,
        libc::EMSGSIZE => MSGSIZE,
        libc::EMULTIHOP => MULTIHOP,
        libc::ENAMETOOLONG => NAMETOOLONG,
        libc::ENETDOWN => NETDOWN,
        libc::ENETRESET => NETRESET,
        libc::ENETUNREACH => NETUNREACH,
        libc::ENFILE => NFILE,
        libc::ENOBUFS => NOBUFS,
        libc::ENODEV => NODEV,
        libc::ENOENT => NOENT,
        libc::ENOEXEC => NOEXEC,
        libc::ENOLCK => NOLCK,
        libc::ENOLINK => NOLINK,
        libc::ENOMEM => NOMEM,
        libc::ENOMSG => NOMSG,
        libc::ENOPROTOOPT => NOPROTOOPT,
        libc::ENOSPC => NOSPC,
        libc::ENOSYS => NOSYS,
        libc::ENOTCONN => NOTCONN,
        libc::ENOTDIR => NOTDIR,
        libc::ENOTEMPTY => NOTEMPTY,
        libc::ENOTRECOVERABLE => NOTRECOVERABLE,
        libc::ENOTSOCK => NOTSOCK,
        libc::EOPNOTSUPP => NOTSUP,
        libc::ENOTTY => NOTTY,
        libc::ENXIO => NXIO,
        libc::EOVERFLOW => OVERFLOW,
        libc::EOWNERDEAD => OWNERDEAD,
        libc::EPERM => PERM,
        libc::EPIPE => PIPE,
        libc::EPROTO => PROTO,
        libc::EPROTONOSUPPORT => PROTONOSUPPORT,
        libc::EPROTOTYPE => PROTOTYPE,
        libc::ERANGE => RANGE,
        libc::EROFS => ROFS,
        libc::ESPIPE => SPIPE,
        libc::ESRCH => SRCH,
        libc::ESTALE => STALE,
        libc::ETIMEDOUT => TIMEDOUT,
        libc::ETXTBSY => TXTBSY,
        libc::EXDEV => XDEV,
        _ => return None,
    })
}

/// Shorthand for failing with an `errno`.
pub fn fail<T>(code: u16) -> Result<T, Fail> {
    Err(Fail::Errno(code))
}

/// The bytes `ptr..ptr + len` of a memory `mem_len` bytes long; `EFAULT`
/// if they are not all inside it.
pub fn region(mem_len: usize, ptr: u32, len: u64) -> Result<Range<usize>, Fail> {
    let start = u64::from(ptr);
    match start.checked_add(len) {
        Some(end) if end <= mem_len as u64 => Ok(start as usize..end as usize),
        _ => fail(errno::FAULT),
    }
}

/// The `len` bytes at `ptr`.
pub fn bytes(mem: &[u8], ptr: u32, len: u32) -> Result<&[u8], Fail> {
    Ok(&mem[region(mem.len(), ptr, u64::from(len))?])
}

/// Writes `bytes` at `ptr`; `EFAULT` if they do not fit.
pub fn store(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<(), Fail> {
    let range = region(mem.len(), ptr, bytes.len() as u64)?;
    mem[range].copy_from_slice(bytes);
    Ok(())
}

pub fn store_u32(mem: &mut [u8], ptr: u32, value: u32) -> Result<(), Fail> {
    store(mem, ptr, &value.to_le_bytes())
}

pub fn store_u64(mem: &mut [u8], ptr: u32, value: u64) -> Result<(), Fail> {
    store(mem, ptr, &value.to_le_bytes())
}

/// Reads `N` bytes at `ptr`.
pub fn load<const N: usize>(mem: &[u8], ptr: u32) -> Result<[u8; N], Fail> {
    let range = region(mem.len(), ptr, N as u64)?;
    let mut out = [0; N];
    out.copy_from_slice(&mem[range]);
    Ok(out)
}

/// The buffers of the `count` iovecs at `iovs`, each checked against the
/// memory. The array itself is checked before anything is returned.
pub fn iovecs(
    mem: &[u8],
    iovs: u32,
    count: u32,
) -> Result<impl Iterator<Item = Result<Range<usize>, Fail>> + '_, Fail> {
    let table = region(mem.len(), iovs, u64::from(count) * IOVEC_SIZE)?;
    Ok(mem[table].chunks_exact(8).map(|iovec| {
        let buf = u32::from_le_bytes([iovec[0], iovec[1], iovec[2], iovec[3]]);
        let len = u32::from_le_bytes([iovec[4], iovec[5], iovec[6], iovec[7]]);
        region(mem.len(), buf, u64::from(len))
    }))
}

/// Every iovec buffer checked, as ranges of the memory; `EINVAL` if their
/// lengths add up to more than a `size` can hold (overlapping buffers
/// can).
pub fn iovec_ranges(mem: &[u8], iovs: u32, count: u32) -> Result<Vec<Range<usize>>, Fail> {
    let ranges = iovecs(mem, iovs, count)?.collect::<Result<Vec<_>, _>>()?;
    let total: u64 = ranges.iter().map(|r| r.len() as u64).sum();
    if total > u64::from(u32::MAX) {
        return fail(errno::INVAL);
    }
    Ok(ranges)
}

/// The first non-empty buffer of the iovecs, after checking them all: a
/// read fills only it, as a `readv` that comes back short would. Reading
/// once never blocks for more input after some has come, which filling
/// each buffer in turn could, and buffers may overlap, so they cannot all
/// be borrowed at once.
pub fn first_nonempty(mem: &[u8], iovs: u32, count: u32) -> Result<Option<Range<usize>>, Fail> {
    let mut target = None;
    for buf in iovecs(mem, iovs, count)? {
        let buf = buf?;
        if target.is_none() && !buf.is_empty() {
            target = Some(buf);
        }
    }
    Ok(target)
}

/// A `filestat` in its guest layout.
pub struct Filestat {
    pub dev: u64,
    pub ino: u64,
    pub filetype: u8,
    pub nlink: u64,
    pub size: u64,
    pub atim: u64,
    pub mtim: u64,
    pub ctim: u64,
}

impl Filestat {
    /// The 64 bytes the guest sees.
    pub fn encode(&self) -> [u8; FILESTAT_SIZE] {
        let mut out = [0u8; FILESTAT_SIZE];
        out[0..8].copy_from_slice(&self.dev.to_le_bytes());
        out[8..16].copy_from_slice(&self.ino.to_le_bytes());
        out[16] = self.filetype;
        out[24..32].copy_from_slice(&self.nlink.to_le_bytes());
        out[32..40].copy_from_slice(&self.size.to_le_bytes());
        out[40..48].copy_from_slice(&self.atim.to_le_bytes());
        out[48..56].copy_from_slice(&self.mtim.to_le_bytes());
        out[56..64].copy_from_slice(&self.ctim.to_le_bytes());
        out
    }
}

/// Seconds and nanoseconds since the epoch as WASI's nanoseconds (0 for
/// times before the epoch, which WASI cannot express).
pub fn timestamp(seconds: i64, nanoseconds: i64) -> u64 {
    u64::try_from(seconds)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .and_then(|s| s.checked_add(u64::try_from(nanoseconds).ok()?))
        .unwrap_or(0)
}
