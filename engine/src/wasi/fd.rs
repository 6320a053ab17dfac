//! Calls on an open descriptor of any kind: reading, writing, seeking,
//! syncing, status and flags, closing and renumbering.
//!
//! Files, directories and sockets are host descriptors, so these calls
//! are the host's system calls on them (`readv`, `pwritev`, `lseek`,
//! `fstat`, ...), with the host's answer translated to WASI's `errno`.
//! The standard streams go through [`Stream`](super::stdio::Stream).

use std::io::IoSlice;
use std::num::NonZeroU64;
use std::ops::Range;
use std::os::fd::BorrowedFd;

use rustix::fs::{OFlags, SeekFrom, Timespec, Timestamps};

use super::abi::{
    FDSTAT_SIZE, Fail, Filestat, errno, fail, fdflags, first_nonempty, fstflags, iovec_ranges,
    region, store, store_u32, store_u64, timestamp,
};
use super::table::{Descriptor, filetype_of_mode};
use super::{Call, State};

/// Runs a host call again while a signal interrupts it.
pub fn retry<R>(mut f: impl FnMut() -> rustix::io::Result<R>) -> Result<R, Fail> {
    loop {
        match f() {
            Err(rustix::io::Errno::INTR) => continue,
            other => return Ok(other?),
        }
    }
}

pub fn fd_read(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count, nread) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    read(c, s, fd, iovs, count, None, nread)
}

pub fn fd_pread(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count, offset, nread) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u64(3)?, c.u32(4)?);
    read(c, s, fd, iovs, count, Some(offset), nread)
}

/// `fd_read` and `fd_pread`: checks every pointer, reads once into the
/// first non-empty buffer and stores the count at `nread`.
fn read(
    c: &mut Call<'_>,
    s: &mut State,
    fd: u32,
    iovs: u32,
    count: u32,
    offset: Option<u64>,
    nread: u32,
) -> Result<(), Fail> {
    let d = s.table.get_mut(fd)?;
    let mem = c.mem()?;
    region(mem.len(), nread, 4)?;
    let n = match first_nonempty(mem, iovs, count)? {
        Some(buf) => read_into(d, &mut mem[buf], offset)?,
        None => 0,
    };
    // At most one buffer's length, which fits in 32 bits.
    store_u32(mem, nread, n as u32)
}

/// One read from descriptor `d`, at `offset` if there is one.
pub fn read_into(d: &mut Descriptor, buf: &mut [u8], offset: Option<u64>) -> Result<usize, Fail> {
    if let Descriptor::Stdio(stream) = d {
        if offset.is_some() {
            return fail(errno::SPIPE);
        }
        if !stream.is_input() {
            return fail(errno::BADF);
        }
        return Ok(stream.read(buf)?);
    }
    let fd = d.own_fd()?;
    match offset {
        Some(at) => retry(|| rustix::io::pread(fd, &mut *buf, at)),
        None => retry(|| rustix::io::read(fd, &mut *buf)),
    }
}

pub fn fd_write(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count, nwritten) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    write(c, s, fd, iovs, count, None, nwritten)
}

pub fn fd_pwrite(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let (offset, nwritten) = (c.u64(3)?, c.u32(4)?);
    write(c, s, fd, iovs, count, Some(offset), nwritten)
}

/// `fd_write` and `fd_pwrite`: checks every pointer, then writes the
/// buffers and stores the count at `nwritten`.
fn write(
    c: &mut Call<'_>,
    s: &mut State,
    fd: u32,
    iovs: u32,
    count: u32,
    offset: Option<u64>,
    nwritten: u32,
) -> Result<(), Fail> {
    let d = s.table.get_mut(fd)?;
    let mem = c.mem()?;
    region(mem.len(), nwritten, 4)?;
    let bufs = iovec_ranges(mem, iovs, count)?;
    let n = write_from(d, mem, &bufs, offset)?;
    // `iovec_ranges` checked that the total fits in 32 bits.
    store_u32(mem, nwritten, n as u32)
}

/// One write of `bufs` (ranges of `mem`) to descriptor `d`; the standard
/// streams write them all.
pub fn write_from(
    d: &mut Descriptor,
    mem: &[u8],
    bufs: &[Range<usize>],
    offset: Option<u64>,
) -> Result<usize, Fail> {
    let total = bufs.iter().map(|r| r.len()).sum();
    if let Descriptor::Stdio(stream) = d {
        if offset.is_some() {
            return fail(errno::SPIPE);
        }
        if stream.is_input() {
            return fail(errno::BADF);
        }
        stream.write_all(bufs.iter().map(|r| &mem[r.clone()]))?;
        return Ok(total);
    }
    let slices: Vec<IoSlice<'_>> = bufs.iter().map(|r| IoSlice::new(&mem[r.clone()])).collect();
    let fd = d.own_fd()?;
    match (&*d, offset) {
        (Descriptor::Socket(_), None) => super::sockets::send(fd, &slices),
        (_, Some(at)) => retry(|| rustix::io::pwritev(fd, &slices, at)),
        (_, None) => retry(|| rustix::io::writev(fd, &slices)),
    }
}

pub fn fd_seek(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, offset, whence, out) = (c.u32(0)?, c.u64(1)? as i64, c.u32(2)?, c.u32(3)?);
    let d = s.table.get(fd)?;
    let pos = match whence {
        0 => SeekFrom::Start(u64::try_from(offset).map_err(|_| Fail::Errno(errno::INVAL))?),
        1 => SeekFrom::Current(offset),
        2 => SeekFrom::End(offset),
        _ => return fail(errno::INVAL),
    };
    let at = seek(d, pos)?;
    store_u64(c.mem()?, out, at)
}

pub fn fd_tell(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, out) = (c.u32(0)?, c.u32(1)?);
    let at = seek(s.table.get(fd)?, SeekFrom::Current(0))?;
    store_u64(c.mem()?, out, at)
}

fn seek(d: &Descriptor, pos: SeekFrom) -> Result<u64, Fail> {
    match d {
        // The standard streams are streams, whatever the host's are.
        Descriptor::Stdio(_) => fail(errno::SPIPE),
        Descriptor::Dir(_) => fail(errno::BADF),
        other => Ok(rustix::fs::seek(other.own_fd()?, pos)?),
    }
}

pub fn fd_sync(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    sync(s.table.get_mut(c.u32(0)?)?, |fd| rustix::fs::fsync(fd))
}

pub fn fd_datasync(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    sync(s.table.get_mut(c.u32(0)?)?, |fd| rustix::fs::fdatasync(fd))
}

fn sync(d: &mut Descriptor, how: fn(BorrowedFd<'_>) -> rustix::io::Result<()>) -> Result<(), Fail> {
    match d {
        Descriptor::Stdio(stream) => {
            stream.flush();
            Ok(())
        }
        other => {
            let fd = other.own_fd()?;
            retry(|| how(fd))
        }
    }
}

pub fn fd_advise(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, offset, len, advice) = (c.u32(0)?, c.u64(1)?, c.u64(2)?, c.u32(3)?);
    use rustix::fs::Advice;
    let advice = match advice {
        0 => Advice::Normal,
        1 => Advice::Sequential,
        2 => Advice::Random,
        3 => Advice::WillNeed,
        4 => Advice::DontNeed,
        5 => Advice::NoReuse,
        _ => return fail(errno::INVAL),
    };
    let fd = s.table.get(fd)?.own_fd()?;
    Ok(rustix::fs::fadvise(
        fd,
        offset,
        NonZeroU64::new(len),
        advice,
    )?)
}

pub fn fd_allocate(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, offset, len) = (c.u32(0)?, c.u64(1)?, c.u64(2)?);
    let fd = s.table.get(fd)?.own_fd()?;
    if offset
        .checked_add(len)
        .is_none_or(|end| end > i64::MAX as u64)
    {
        return fail(errno::FBIG);
    }
    retry(|| rustix::fs::fallocate(fd, rustix::fs::FallocateFlags::empty(), offset, len))
}

pub fn fd_close(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    // Dropping the descriptor closes its host descriptor; the host's own
    // standard streams stay open.
    drop(s.table.remove(c.u32(0)?)?);
    Ok(())
}

pub fn fd_renumber(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    s.table.renumber(c.u32(0)?, c.u32(1)?)
}

pub fn fd_fdstat_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, buf) = (c.u32(0)?, c.u32(1)?);
    let d = s.table.get(fd)?;
    let (base, inheriting) = d.rights()?;
    let mut stat = [0u8; FDSTAT_SIZE];
    stat[0] = d.filetype()?;
    stat[2..4].copy_from_slice(&d.fdflags()?.to_le_bytes());
    stat[8..16].copy_from_slice(&base.to_le_bytes());
    stat[16..24].copy_from_slice(&inheriting.to_le_bytes());
    store(c.mem()?, buf, &stat)
}

pub fn fd_fdstat_set_flags(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, flags) = (c.u32(0)?, c.u16(1)?);
    let d = s.table.get(fd)?;
    if flags & (fdflags::DSYNC | fdflags::RSYNC | fdflags::SYNC) != 0 {
        // Linux cannot change these on an open descriptor.
        return fail(errno::NOTSUP);
    }
    let fd = d.own_fd()?;
    let mut host = rustix::fs::fcntl_getfl(fd)? & !(OFlags::APPEND | OFlags::NONBLOCK);
    if flags & fdflags::APPEND != 0 {
        host |= OFlags::APPEND;
    }
    if flags & fdflags::NONBLOCK != 0 {
        host |= OFlags::NONBLOCK;
    }
    Ok(rustix::fs::fcntl_setfl(fd, host)?)
}

pub fn fd_fdstat_set_rights(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    s.table.get(c.u32(0)?)?;
    // Rights are not kept (see `Descriptor::rights`), as in Wasmtime.
    fail(errno::NOTSUP)
}

pub fn fd_filestat_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, buf) = (c.u32(0)?, c.u32(1)?);
    let d = s.table.get(fd)?;
    let stat = match d {
        Descriptor::Stdio(stream) => Filestat {
            dev: 0,
            ino: 0,
            filetype: stream.filetype(),
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
        other => {
            let st = rustix::fs::fstat(other.own_fd()?)?;
            Filestat {
                dev: st.st_dev,
                ino: st.st_ino,
                filetype: filetype_of_mode(st.st_mode),
                nlink: st.st_nlink,
                size: st.st_size as u64,
                atim: timestamp(st.st_atime, st.st_atime_nsec as i64),
                mtim: timestamp(st.st_mtime, st.st_mtime_nsec as i64),
                ctim: timestamp(st.st_ctime, st.st_ctime_nsec as i64),
            }
        }
    };
    store(c.mem()?, buf, &stat.encode())
}

pub fn fd_filestat_set_size(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, size) = (c.u32(0)?, c.u64(1)?);
    let fd = s.table.get(fd)?.own_fd()?;
    retry(|| rustix::fs::ftruncate(fd, size))
}

pub fn fd_filestat_set_times(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, atim, mtim, flags) = (c.u32(0)?, c.u64(1)?, c.u64(2)?, c.u16(3)?);
    let fd = s.table.get(fd)?.own_fd()?;
    let times = Timestamps {
        last_access: timespec(atim, flags, fstflags::ATIM, fstflags::ATIM_NOW)?,
        last_modification: timespec(mtim, flags, fstflags::MTIM, fstflags::MTIM_NOW)?,
    };
    Ok(rustix::fs::futimens(fd, &times)?)
}

/// One time of a `*_set_times` call as `futimens` takes it: the given
/// time, now, or left alone. Both `set` and `now` is `EINVAL`.
fn timespec(ns: u64, flags: u16, set: u16, now: u16) -> Result<Timespec, Fail> {
    let nsec = match (flags & set != 0, flags & now != 0) {
        (true, true) => return fail(errno::INVAL),
        (false, true) => rustix::fs::UTIME_NOW,
        (false, false) => rustix::fs::UTIME_OMIT,
        (true, false) => {
            return Ok(Timespec {
                tv_sec: (ns / 1_000_000_000) as i64,
                tv_nsec: (ns % 1_000_000_000) as _,
            });
        }
    };
    Ok(Timespec {
        tv_sec: 0,
        tv_nsec: nsec,
    })
}
