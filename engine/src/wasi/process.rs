//! The program's surroundings: arguments, environment, clocks, random
//! bytes, and leaving (`proc_exit`, `proc_raise`).

use std::io;

use super::abi::{Fail, clockid, errno, fail, region, store_u32, store_u64};
use super::{Call, State};

pub fn args_sizes_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (count, size) = (c.u32(0)?, c.u32(1)?);
    store_sizes(c.mem()?, count, size, &s.args)
}

pub fn args_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (table, buf) = (c.u32(0)?, c.u32(1)?);
    store_strings(c.mem()?, table, buf, &s.args)
}

pub fn environ_sizes_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (count, size) = (c.u32(0)?, c.u32(1)?);
    store_sizes(c.mem()?, count, size, &s.env)
}

pub fn environ_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (table, buf) = (c.u32(0)?, c.u32(1)?);
    store_strings(c.mem()?, table, buf, &s.env)
}

/// Stores the number of `strings` at `count` and their total size with
/// NULs at `size`; `EOVERFLOW` if either does not fit in 32 bits.
fn store_sizes(mem: &mut [u8], count: u32, size: u32, strings: &[Vec<u8>]) -> Result<(), Fail> {
    region(mem.len(), count, 4)?;
    region(mem.len(), size, 4)?;
    let total: usize = strings.iter().map(Vec::len).sum();
    match (u32::try_from(strings.len()), u32::try_from(total)) {
        (Ok(n), Ok(total)) => {
            store_u32(mem, count, n)?;
            store_u32(mem, size, total)
        }
        _ => fail(errno::OVERFLOW),
    }
}

/// Copies NUL-terminated `strings` one after another to `buf` and their
/// addresses to the pointer array at `table`.
fn store_strings(mem: &mut [u8], table: u32, buf: u32, strings: &[Vec<u8>]) -> Result<(), Fail> {
    let total: usize = strings.iter().map(Vec::len).sum();
    let pointers = region(mem.len(), table, strings.len() as u64 * 4)?;
    let bytes = region(mem.len(), buf, total as u64)?;
    let mut offset = 0;
    for (i, s) in strings.iter().enumerate() {
        // Inside the memory, which is at most 4 GiB, so it fits.
        let address = (bytes.start + offset) as u32;
        let slot = pointers.start + 4 * i;
        mem[slot..slot + 4].copy_from_slice(&address.to_le_bytes());
        mem[bytes.start + offset..][..s.len()].copy_from_slice(s);
        offset += s.len();
    }
    Ok(())
}

/// The host clock behind a WASI clock; `EINVAL` for an unknown one.
fn host_clock(id: u32) -> Result<libc::clockid_t, Fail> {
    match id {
        clockid::REALTIME => Ok(libc::CLOCK_REALTIME),
        clockid::MONOTONIC => Ok(libc::CLOCK_MONOTONIC),
        clockid::PROCESS_CPUTIME_ID => Ok(libc::CLOCK_PROCESS_CPUTIME_ID),
        clockid::THREAD_CPUTIME_ID => Ok(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => fail(errno::INVAL),
    }
}

/// A `timespec` in nanoseconds; `EOVERFLOW` if it is negative or too big.
fn nanoseconds(ts: libc::timespec) -> Result<u64, Fail> {
    u64::try_from(ts.tv_sec)
        .ok()
        .and_then(|s| s.checked_mul(1_000_000_000))
        .zip(u64::try_from(ts.tv_nsec).ok())
        .and_then(|(s, ns)| s.checked_add(ns))
        .ok_or(Fail::Errno(errno::OVERFLOW))
}

/// Reads WASI clock `id` with `read` (`clock_gettime` or `clock_getres`).
fn read_clock(
    id: u32,
    read: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
) -> Result<u64, Fail> {
    let clock = host_clock(id)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `read` is one of libc's clock queries, given a valid clock id
    // and a valid, writable `timespec`.
    if unsafe { read(clock, &mut ts) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    nanoseconds(ts)
}

/// The current time of WASI clock `id`, in nanoseconds.
pub fn clock_now(id: u32) -> Result<u64, Fail> {
    read_clock(id, libc::clock_gettime)
}

pub fn clock_time_get(c: &mut Call<'_>, _s: &mut State) -> Result<(), Fail> {
    // The precision (parameter 1) is only a hint.
    let (id, _precision, out) = (c.u32(0)?, c.u64(1)?, c.u32(2)?);
    let mem = c.mem()?;
    region(mem.len(), out, 8)?;
    store_u64(mem, out, clock_now(id)?)
}

pub fn clock_res_get(c: &mut Call<'_>, _s: &mut State) -> Result<(), Fail> {
    let (id, out) = (c.u32(0)?, c.u32(1)?);
    let mem = c.mem()?;
    region(mem.len(), out, 8)?;
    store_u64(mem, out, read_clock(id, libc::clock_getres)?)
}

pub fn random_get(c: &mut Call<'_>, _s: &mut State) -> Result<(), Fail> {
    let (buf, len) = (c.u32(0)?, c.u32(1)?);
    let mem = c.mem()?;
    let range = region(mem.len(), buf, u64::from(len))?;
    fill_random(&mut mem[range])?;
    Ok(())
}

/// Fills `buf` from the kernel's random number generator.
fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is valid for writes of `rest.len()` bytes.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        done += n as usize;
    }
    Ok(())
}

/// `proc_exit`'s part that needs the state: flushing the streams. The
/// exit itself is [`Error::Exit`], made by the caller.
pub fn proc_exit(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    c.u32(0)?;
    s.flush_all();
    Ok(())
}

pub fn proc_raise(c: &mut Call<'_>, _s: &mut State) -> Result<(), Fail> {
    c.u32(0)?;
    // As in Wasmtime: a preview 1 program has no handlers that a signal
    // could run, and the host's default actions are not the guest's to
    // take, so raising one is not supported.
    fail(errno::NOTSUP)
}
