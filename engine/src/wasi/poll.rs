//! `poll_oneoff` and `sched_yield`.
//!
//! `poll_oneoff` turns its subscriptions into one host `ppoll`: each
//! descriptor subscription becomes a `pollfd`, the nearest clock
//! deadline its timeout. It returns one event per subscription that is
//! ready, in the order of the subscriptions, as soon as at least one is.

use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};

use super::abi::{Fail, clockid, errno, fail, load, region, store_u32};
use super::process::clock_now;
use super::table::Descriptor;
use super::{Call, State};

/// Size of a `subscription`: `{ userdata: u64 @0, tag: u8 @8, then at
/// @16 either clock { id: u32 @16, timeout: u64 @24, precision: u64
/// @32, flags: u16 @40 } or fd_readwrite { fd: u32 @16 } }`.
const SUBSCRIPTION_SIZE: u64 = 48;

/// Size of an `event`: `{ userdata: u64 @0, error: u16 @8, type: u8 @10,
/// fd_readwrite { nbytes: u64 @16, flags: u16 @24 } }`.
const EVENT_SIZE: usize = 32;

/// `eventtype` values (the subscription tag).
const CLOCK: u8 = 0;
const FD_READ: u8 = 1;
const FD_WRITE: u8 = 2;

/// `subclockflags`: the timeout is an absolute time of its clock.
const ABSTIME: u16 = 1 << 0;

/// `eventrwflags`: the peer hung up.
const HANGUP: u16 = 1 << 0;

/// One event as the guest receives it.
#[derive(Clone, Copy)]
struct Event {
    userdata: u64,
    error: u16,
    kind: u8,
    nbytes: u64,
    flags: u16,
}

impl Event {
    fn encode(&self) -> [u8; EVENT_SIZE] {
        let mut out = [0u8; EVENT_SIZE];
        out[0..8].copy_from_slice(&self.userdata.to_le_bytes());
        out[8..10].copy_from_slice(&self.error.to_le_bytes());
        out[10] = self.kind;
        out[16..24].copy_from_slice(&self.nbytes.to_le_bytes());
        out[24..26].copy_from_slice(&self.flags.to_le_bytes());
        out
    }
}

/// What a subscription waits for.
enum Wait {
    /// A deadline on the host's monotonic clock.
    Until(Instant),
    /// Descriptor readiness; the index of its `pollfd`.
    Fd { poll: usize, fd: u32 },
    /// Nothing: the event is known already (an error, or a stream the
    /// embedder gave, which never blocks).
    Ready(Event),
}

pub fn poll_oneoff(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (subs, events, count, nevents) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let mem = c.mem()?;
    let input = region(mem.len(), subs, u64::from(count) * SUBSCRIPTION_SIZE)?;
    let output = region(mem.len(), events, u64::from(count) * EVENT_SIZE as u64)?;
    region(mem.len(), nevents, 4)?;
    if count == 0 {
        // It would wait forever.
        return fail(errno::INVAL);
    }

    let start = Instant::now();
    let mut waits = Vec::with_capacity(count as usize);
    let mut host_fds: Vec<(BorrowedFd<'_>, PollFlags)> = Vec::new();
    for i in 0..count as usize {
        let at = (input.start + i * SUBSCRIPTION_SIZE as usize) as u32;
        let userdata = u64::from_le_bytes(load(mem, at)?);
        let [tag] = load(mem, at + 8)?;
        let ready = |error: u16, kind: u8| {
            Wait::Ready(Event {
                userdata,
                error,
                kind,
                nbytes: 0,
                flags: 0,
            })
        };
        let wait = match tag {
            CLOCK => {
                let id = u32::from_le_bytes(load(mem, at + 16)?);
                let timeout = u64::from_le_bytes(load(mem, at + 24)?);
                let flags = u16::from_le_bytes(load(mem, at + 40)?);
                match clock_wait(id, timeout, flags, start) {
                    Ok(deadline) => Wait::Until(deadline),
                    Err(code) => ready(code, CLOCK),
                }
            }
            FD_READ | FD_WRITE => {
                let fd = u32::from_le_bytes(load(mem, at + 16)?);
                match s.table.get(fd) {
                    Err(_) => ready(errno::BADF, tag),
                    Ok(d) => match d.host_fd() {
                        None => ready(errno::SUCCESS, tag),
                        Some(host) => {
                            let interest = if tag == FD_READ {
                                PollFlags::IN
                            } else {
                                PollFlags::OUT
                            };
                            host_fds.push((host, interest));
                            Wait::Fd {
                                poll: host_fds.len() - 1,
                                fd,
                            }
                        }
                    },
                }
            }
            _ => return fail(errno::INVAL),
        };
        waits.push((userdata, tag, wait));
    }

    let mut pollfds: Vec<PollFd<'_>> = host_fds
        .iter()
        .map(|&(fd, flags)| PollFd::from_borrowed_fd(fd, flags))
        .collect();
    let any_ready = waits.iter().any(|w| matches!(w.2, Wait::Ready(_)));
    let mut out = Vec::new();
    loop {
        let now = Instant::now();
        let nearest = waits
            .iter()
            .filter_map(|w| match w.2 {
                Wait::Until(t) => Some(t.saturating_duration_since(now)),
                _ => None,
            })
            .min();
        let timeout = if any_ready {
            Some(Duration::ZERO)
        } else {
            nearest
        };
        let timeout = timeout.map(|d| Timespec {
            tv_sec: d.as_secs() as i64,
            tv_nsec: i64::from(d.subsec_nanos()),
        });
        match rustix::event::poll(&mut pollfds, timeout.as_ref()) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let now = Instant::now();
        for (userdata, kind, wait) in &waits {
            let event = match wait {
                Wait::Ready(e) => Some(*e),
                Wait::Until(t) => (now >= *t).then_some(Event {
                    userdata: *userdata,
                    error: 0,
                    kind: CLOCK,
                    nbytes: 0,
                    flags: 0,
                }),
                Wait::Fd { poll, fd } => fd_event(
                    pollfds[*poll].revents(),
                    *userdata,
                    *kind,
                    s.table.get(*fd)?,
                ),
            };
            out.extend(event);
        }
        if !out.is_empty() {
            break;
        }
    }

    for (i, event) in out.iter().enumerate() {
        mem[output.start + i * EVENT_SIZE..][..EVENT_SIZE].copy_from_slice(&event.encode());
    }
    store_u32(mem, nevents, out.len() as u32)
}

/// The monotonic deadline of a clock subscription, or the `errno` of its
/// event.
fn clock_wait(id: u32, timeout: u64, flags: u16, start: Instant) -> Result<Instant, u16> {
    let wait = if flags & ABSTIME != 0 {
        let now = match id {
            clockid::REALTIME | clockid::MONOTONIC => clock_now(id).map_err(|_| errno::INVAL)?,
            _ => return Err(errno::NOTSUP),
        };
        timeout.saturating_sub(now)
    } else {
        match id {
            clockid::REALTIME | clockid::MONOTONIC => timeout,
            clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => return Err(errno::NOTSUP),
            _ => return Err(errno::INVAL),
        }
    };
    // A deadline past what an `Instant` holds is as good as never.
    Ok(start
        .checked_add(Duration::from_nanos(wait))
        .unwrap_or_else(|| start + Duration::from_secs(u32::MAX as u64)))
}

/// The event of a descriptor subscription after the poll, if it is ready.
fn fd_event(revents: PollFlags, userdata: u64, kind: u8, d: &Descriptor) -> Option<Event> {
    if revents.is_empty() {
        return None;
    }
    let mut event = Event {
        userdata,
        error: 0,
        kind,
        nbytes: 0,
        flags: 0,
    };
    if revents.contains(PollFlags::NVAL) {
        event.error = errno::BADF;
    } else if revents.contains(PollFlags::ERR) {
        event.error = errno::IO;
    } else if revents.contains(PollFlags::HUP) {
        event.flags = HANGUP;
    } else if kind == FD_READ {
        event.nbytes = readable_bytes(d);
    }
    Some(event)
}

/// How many bytes a read would return now, as far as the host says (0
/// where it does not).
fn readable_bytes(d: &Descriptor) -> u64 {
    match d {
        Descriptor::File(f) => {
            let size = rustix::fs::fstat(f).map_or(0, |st| st.st_size as u64);
            let at = rustix::fs::tell(f).unwrap_or(size);
            size.saturating_sub(at)
        }
        other => other
            .host_fd()
            .and_then(|fd| rustix::io::ioctl_fionread(fd).ok())
            .unwrap_or(0),
    }
}

pub fn sched_yield(_c: &mut Call<'_>, _s: &mut State) -> Result<(), Fail> {
    std::thread::yield_now();
    Ok(())
}
