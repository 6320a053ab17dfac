//! Sockets: accepting connections on a preopened listener, and receiving,
//! sending and shutting down on them.
//!
//! Preview 1 has no call that creates, binds or connects a socket: a
//! program gets its listeners from the embedder (`--tcplisten`) and its
//! connections from `sock_accept`. `fd_read`, `fd_write` and
//! `poll_oneoff` work on connections too.

use std::io::IoSlice;
use std::os::fd::{AsFd, BorrowedFd};

use rustix::net::{RecvFlags, SendAncillaryBuffer, SendFlags, Shutdown};

use super::abi::{
    Fail, errno, fail, fdflags, first_nonempty, iovec_ranges, region, store, store_u32,
};
use super::fd::retry;
use super::table::Descriptor;
use super::{Call, State};

/// `riflags` bits of `sock_recv`.
const RECV_PEEK: u16 = 1 << 0;
const RECV_WAITALL: u16 = 1 << 1;

/// `sdflags` bits of `sock_shutdown`.
const SHUT_RD: u16 = 1 << 0;
const SHUT_WR: u16 = 1 << 1;

/// The connection `fd`: `EBADF` if it is not open, `ENOTSOCK` if it is
/// not a connection.
fn connection(s: &State, fd: u32) -> Result<BorrowedFd<'_>, Fail> {
    match s.table.get(fd)? {
        Descriptor::Socket(stream) => Ok(stream.as_fd()),
        // A listener is a socket, but not a connected one.
        Descriptor::Listener(_) => fail(errno::NOTCONN),
        _ => fail(errno::NOTSOCK),
    }
}

pub fn sock_accept(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, flags, out) = (c.u32(0)?, c.u16(1)?, c.u32(2)?);
    let mem = c.mem()?;
    region(mem.len(), out, 4)?;
    if flags & !fdflags::NONBLOCK != 0 {
        return fail(errno::INVAL);
    }
    let listener = match s.table.get(fd)? {
        Descriptor::Listener(l) => l,
        Descriptor::Socket(_) => return fail(errno::INVAL),
        _ => return fail(errno::NOTSOCK),
    };
    let stream = loop {
        match listener.accept() {
            Ok((stream, _peer)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    };
    // An accepted socket does not inherit the listener's mode on Linux;
    // the guest says which it wants.
    stream.set_nonblocking(flags & fdflags::NONBLOCK != 0)?;
    let fd = s.table.insert(Descriptor::Socket(stream))?;
    store_u32(mem, out, fd)
}

pub fn sock_recv(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count, ri_flags) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u16(3)?);
    let (ro_len, ro_flags) = (c.u32(4)?, c.u32(5)?);
    let mem = c.mem()?;
    region(mem.len(), ro_len, 4)?;
    region(mem.len(), ro_flags, 2)?;
    let target = first_nonempty(mem, iovs, count)?;
    if ri_flags & !(RECV_PEEK | RECV_WAITALL) != 0 {
        return fail(errno::INVAL);
    }
    let mut flags = RecvFlags::empty();
    if ri_flags & RECV_PEEK != 0 {
        flags |= RecvFlags::PEEK;
    }
    if ri_flags & RECV_WAITALL != 0 {
        flags |= RecvFlags::WAITALL;
    }
    let fd = connection(s, fd)?;
    let n = match target {
        Some(buf) => retry(|| rustix::net::recv(fd, &mut mem[buf.clone()], flags))?.0,
        None => 0,
    };
    store_u32(mem, ro_len, n as u32)?;
    // roflags: RECV_DATA_TRUNCATED never happens on a stream.
    store(mem, ro_flags, &0u16.to_le_bytes())
}

pub fn sock_send(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, iovs, count, si_flags, so_len) =
        (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u16(3)?, c.u32(4)?);
    let mem = c.mem()?;
    region(mem.len(), so_len, 4)?;
    let bufs = iovec_ranges(mem, iovs, count)?;
    if si_flags != 0 {
        // No `siflags` are defined.
        return fail(errno::INVAL);
    }
    let fd = connection(s, fd)?;
    let slices: Vec<IoSlice<'_>> = bufs.iter().map(|r| IoSlice::new(&mem[r.clone()])).collect();
    let n = send(fd, &slices)?;
    store_u32(mem, so_len, n as u32)
}

/// Sends on a connection. `MSG_NOSIGNAL`: a peer that went away is an
/// `EPIPE` for the guest, never a `SIGPIPE` for the host.
pub fn send(fd: BorrowedFd<'_>, bufs: &[IoSlice<'_>]) -> Result<usize, Fail> {
    retry(|| {
        rustix::net::sendmsg(
            fd,
            bufs,
            &mut SendAncillaryBuffer::default(),
            SendFlags::NOSIGNAL,
        )
    })
}

pub fn sock_shutdown(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, how) = (c.u32(0)?, c.u16(1)?);
    let how = match how {
        SHUT_RD => Shutdown::Read,
        SHUT_WR => Shutdown::Write,
        h if h == SHUT_RD | SHUT_WR => Shutdown::Both,
        _ => return fail(errno::INVAL),
    };
    Ok(rustix::net::shutdown(connection(s, fd)?, how)?)
}
