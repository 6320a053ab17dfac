//! WASI preview 1 (`wasi_snapshot_preview1`) for command programs.
//!
//! This is the part of WASI that C programs built by clang for
//! `wasm32-wasi` use when they do not touch files: arguments, environment
//! variables, the three standard streams, clocks, random bytes,
//! `sched_yield` and `proc_exit`.
//!
//! - There is no file system. Nothing is preopened, so `fd_prestat_get`
//!   answers `EBADF` for every descriptor and wasi-libc sees no
//!   directories.
//! - Descriptors 0, 1 and 2 are the host's standard input, output and
//!   error unless [`WasiCtx::set_stdin`] and friends replace them. They do
//!   not seek. `fd_close` closes them for the guest only; the host's
//!   streams stay open.
//! - Output is flushed after every `fd_write`, so guest output and the
//!   host's own messages appear in the order they were made. The guest's
//!   C library buffers its own output, so this costs one system call per
//!   buffer of output, not one per `printf`.
//! - A function outside this subset is not defined at all. A module that
//!   imports one fails at instantiation with the linker's
//!   "unknown import" error instead of failing later.
//!
//! Every guest pointer and length is checked against the linear memory
//! the calling instance exports as `memory`. A buffer that reaches outside
//! it makes the call return `EFAULT` before anything else happens. A
//! function that needs memory, called from an instance that exports none,
//! fails with [`Error::Host`], which stops execution.
//!
//! ```
//! use switchyard_engine::wasi::{self, WasiCtx};
//! use switchyard_engine::{Engine, Error, Linker, Module, Store};
//!
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module
//!     (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
//!     (memory (export "memory") 1)
//!     (func (export "_start") (call $exit (i32.const 3))))"#).unwrap();
//! let ctx = WasiCtx::new(vec!["prog".into()], vec![("HOME".into(), "/".into())]);
//! let mut store = Store::new(&engine, ctx);
//! let mut linker = Linker::new(&engine);
//! wasi::add_to_linker(&mut linker, |ctx| ctx);
//! let instance = linker.instantiate(&mut store, &module).unwrap();
//! let start = instance.get_func(&mut store, "_start").unwrap();
//! match start.call(&mut store, &[], &mut []) {
//!     Err(Error::Exit(status)) => assert_eq!(status, 3),
//!     other => panic!("expected an exit, got {other:?}"),
//! }
//! ```

use std::io::{self, IsTerminal, Read, Write};
use std::ops::Range;

use crate::error::Error;
use crate::runtime::{Caller, Extern, Linker, Memory, Val};
use crate::types::{FuncType, ValType};

/// The import module every function here is defined under.
const MODULE: &str = "wasi_snapshot_preview1";

/// `errno` values of WASI preview 1 (`__WASI_ERRNO_*` in wasi-libc's
/// `wasi/api.h`), the ones this module returns.
mod errno {
    pub const SUCCESS: u16 = 0;
    pub const ACCES: u16 = 2;
    pub const AGAIN: u16 = 6;
    pub const BADF: u16 = 8;
    pub const DQUOT: u16 = 19;
    pub const FAULT: u16 = 21;
    pub const FBIG: u16 = 22;
    pub const INTR: u16 = 27;
    pub const INVAL: u16 = 28;
    pub const IO: u16 = 29;
    pub const NOMEM: u16 = 48;
    pub const NOSPC: u16 = 51;
    pub const NOSYS: u16 = 52;
    pub const OVERFLOW: u16 = 61;
    pub const PERM: u16 = 63;
    pub const PIPE: u16 = 64;
    pub const SPIPE: u16 = 70;
}

/// `filetype` values.
mod filetype {
    pub const UNKNOWN: u8 = 0;
    pub const CHARACTER_DEVICE: u8 = 2;
}

/// `rights` bits.
mod rights {
    pub const FD_READ: u64 = 1 << 1;
    pub const FD_WRITE: u64 = 1 << 6;
    pub const POLL_FD_READWRITE: u64 = 1 << 27;
}

/// `clockid` values.
mod clockid {
    pub const REALTIME: u32 = 0;
    pub const MONOTONIC: u32 = 1;
    pub const PROCESS_CPUTIME_ID: u32 = 2;
    pub const THREAD_CPUTIME_ID: u32 = 3;
}

/// Size of `fdstat`: `{ fs_filetype: u8 @0, fs_flags: u16 @2,
/// fs_rights_base: u64 @8, fs_rights_inheriting: u64 @16 }`.
const FDSTAT_SIZE: usize = 24;

/// Size of one `ciovec`/`iovec`: `{ buf: u32 @0, buf_len: u32 @4 }`.
const IOVEC_SIZE: u64 = 8;

/// The state of a WASI program: its arguments, its environment and its
/// standard streams.
///
/// Keep one in the store's data and tell [`add_to_linker`] how to reach
/// it.
pub struct WasiCtx {
    /// Arguments, each with its terminating NUL.
    args: Vec<Vec<u8>>,
    /// Environment entries as `KEY=VALUE`, each with its terminating NUL.
    env: Vec<Vec<u8>>,
    /// Descriptors 0, 1 and 2; `None` once the guest closed one.
    stdio: [Option<Stream>; 3],
}

/// What a standard descriptor is connected to.
enum Stream {
    /// The host's standard input.
    HostStdin,
    /// The host's standard output.
    HostStdout,
    /// The host's standard error.
    HostStderr,
    /// A reader given by [`WasiCtx::set_stdin`].
    Reader(Box<dyn Read + Send>),
    /// A writer given by [`WasiCtx::set_stdout`] or [`WasiCtx::set_stderr`].
    Writer(Box<dyn Write + Send>),
}

impl WasiCtx {
    /// A context with these arguments and environment variables, and the
    /// host's standard streams as descriptors 0, 1 and 2.
    ///
    /// `args` is the whole argument vector, so its first element is the
    /// program name. Strings are passed as they are: a NUL inside one ends
    /// it early as far as C is concerned, and keys should not contain `=`.
    pub fn new(args: Vec<String>, env: Vec<(String, String)>) -> WasiCtx {
        let args = args
            .into_iter()
            .map(|a| {
                let mut bytes = a.into_bytes();
                bytes.push(0);
                bytes
            })
            .collect();
        let env = env
            .into_iter()
            .map(|(k, v)| {
                let mut bytes = Vec::with_capacity(k.len() + v.len() + 2);
                bytes.extend_from_slice(k.as_bytes());
                bytes.push(b'=');
                bytes.extend_from_slice(v.as_bytes());
                bytes.push(0);
                bytes
            })
            .collect();
        WasiCtx {
            args,
            env,
            stdio: [
                Some(Stream::HostStdin),
                Some(Stream::HostStdout),
                Some(Stream::HostStderr),
            ],
        }
    }

    /// Makes descriptor 0 read from `input` instead of the host's
    /// standard input (and reopens it if the guest closed it).
    pub fn set_stdin(&mut self, input: impl Read + Send + 'static) {
        self.stdio[0] = Some(Stream::Reader(Box::new(input)));
    }

    /// Makes descriptor 1 write to `output` instead of the host's standard
    /// output (and reopens it if the guest closed it). `output` is flushed
    /// after every `fd_write`.
    pub fn set_stdout(&mut self, output: impl Write + Send + 'static) {
        self.stdio[1] = Some(Stream::Writer(Box::new(output)));
    }

    /// Makes descriptor 2 write to `output` instead of the host's standard
    /// error (and reopens it if the guest closed it). `output` is flushed
    /// after every `fd_write`.
    pub fn set_stderr(&mut self, output: impl Write + Send + 'static) {
        self.stdio[2] = Some(Stream::Writer(Box::new(output)));
    }

    /// Takes descriptor `fd` out of the table for the length of a call, if
    /// it is open and `usable` accepts it; `EBADF` otherwise.
    fn take_stream(&mut self, fd: u32, usable: fn(&Stream) -> bool) -> Result<Stream, Fail> {
        let slot = self
            .stdio
            .get_mut(fd as usize)
            .ok_or(Fail::Errno(errno::BADF))?;
        match slot.take() {
            Some(stream) if usable(&stream) => Ok(stream),
            other => {
                *slot = other;
                Err(Fail::Errno(errno::BADF))
            }
        }
    }

    /// Puts back a descriptor [`WasiCtx::take_stream`] took.
    fn put_stream(&mut self, fd: u32, stream: Stream) {
        if let Some(slot) = self.stdio.get_mut(fd as usize) {
            *slot = Some(stream);
        }
    }

    /// The open descriptor `fd`; `EBADF` if there is none.
    fn stream(&self, fd: u32) -> Result<&Stream, Fail> {
        self.stdio
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Fail::Errno(errno::BADF))
    }

    /// Flushes every output stream, ignoring errors (used on exit).
    fn flush_all(&mut self) {
        for stream in self.stdio.iter_mut().flatten() {
            let _ = match stream {
                Stream::HostStdout => io::stdout().flush(),
                Stream::HostStderr => io::stderr().flush(),
                Stream::Writer(w) => w.flush(),
                Stream::HostStdin | Stream::Reader(_) => Ok(()),
            };
        }
    }
}

impl Stream {
    fn is_input(&self) -> bool {
        matches!(self, Stream::HostStdin | Stream::Reader(_))
    }

    fn is_output(&self) -> bool {
        !self.is_input()
    }

    /// A character device if the host stream is a terminal, unknown
    /// otherwise (a pipe, a file, or a host-provided reader or writer).
    /// Along with the missing seek and tell rights, this makes wasi-libc's
    /// `isatty` agree with the host's.
    fn filetype(&self) -> u8 {
        let terminal = match self {
            Stream::HostStdin => io::stdin().is_terminal(),
            Stream::HostStdout => io::stdout().is_terminal(),
            Stream::HostStderr => io::stderr().is_terminal(),
            Stream::Reader(_) | Stream::Writer(_) => false,
        };
        if terminal {
            filetype::CHARACTER_DEVICE
        } else {
            filetype::UNKNOWN
        }
    }

    fn rights(&self) -> u64 {
        if self.is_input() {
            rights::FD_READ | rights::POLL_FD_READWRITE
        } else {
            rights::FD_WRITE | rights::POLL_FD_READWRITE
        }
    }

    /// Writes every buffer and flushes.
    fn write_all<'b>(&mut self, bufs: impl Iterator<Item = &'b [u8]>) -> io::Result<()> {
        fn to<'b>(w: &mut dyn Write, bufs: impl Iterator<Item = &'b [u8]>) -> io::Result<()> {
            for buf in bufs {
                w.write_all(buf)?;
            }
            w.flush()
        }
        match self {
            Stream::HostStdout => to(&mut io::stdout().lock(), bufs),
            Stream::HostStderr => to(&mut io::stderr().lock(), bufs),
            Stream::Writer(w) => to(w, bufs),
            Stream::HostStdin | Stream::Reader(_) => Err(io::ErrorKind::Unsupported.into()),
        }
    }

    /// Reads once (as one `read` system call would) into `buf`.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self {
                Stream::HostStdin => io::stdin().lock().read(buf),
                Stream::Reader(r) => r.read(buf),
                Stream::HostStdout | Stream::HostStderr | Stream::Writer(_) => {
                    Err(io::ErrorKind::Unsupported.into())
                }
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }
}

/// Defines every supported `wasi_snapshot_preview1` function in `linker`.
///
/// `get` finds the [`WasiCtx`] in the store's data. The functions are
/// `args_get`, `args_sizes_get`, `environ_get`, `environ_sizes_get`,
/// `fd_write`, `fd_read`, `fd_close`, `fd_seek`, `fd_fdstat_get`,
/// `fd_prestat_get`, `fd_prestat_dir_name`, `proc_exit`,
/// `clock_time_get`, `clock_res_get`, `random_get` and `sched_yield`;
/// other WASI imports stay undefined.
///
/// `proc_exit(status)` fails the call with [`Error::Exit`]`(status)`,
/// which unwinds the guest back to whoever called into it.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut WasiCtx) {
    use ValType::{I32, I64};
    define(linker, get, "args_get", &[I32, I32], args_get);
    define(linker, get, "args_sizes_get", &[I32, I32], args_sizes_get);
    define(linker, get, "environ_get", &[I32, I32], environ_get);
    define(
        linker,
        get,
        "environ_sizes_get",
        &[I32, I32],
        environ_sizes_get,
    );
    define(linker, get, "fd_write", &[I32, I32, I32, I32], fd_write);
    define(linker, get, "fd_read", &[I32, I32, I32, I32], fd_read);
    define(linker, get, "fd_close", &[I32], fd_close);
    define(linker, get, "fd_seek", &[I32, I64, I32, I32], fd_seek);
    define(linker, get, "fd_fdstat_get", &[I32, I32], fd_fdstat_get);
    define(linker, get, "fd_prestat_get", &[I32, I32], fd_prestat_get);
    define(
        linker,
        get,
        "fd_prestat_dir_name",
        &[I32, I32, I32],
        fd_prestat_dir_name,
    );
    define(
        linker,
        get,
        "clock_time_get",
        &[I32, I64, I32],
        clock_time_get,
    );
    define(linker, get, "clock_res_get", &[I32, I32], clock_res_get);
    define(linker, get, "random_get", &[I32, I32], random_get);
    define(linker, get, "sched_yield", &[], sched_yield);
    linker.func_new(
        MODULE,
        "proc_exit",
        FuncType::new([I32], []),
        move |caller, params, _results| {
            let mut call = Call {
                caller,
                params,
                name: "proc_exit",
                get,
            };
            let status = call.u32(0)?;
            call.ctx().flush_all();
            // The WASI status is unsigned; `Error::Exit` keeps its bits.
            Err(Error::Exit(status as i32))
        },
    );
}

/// Why a WASI function did not succeed.
enum Fail {
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

/// The WASI `errno` closest to a host I/O error.
fn errno_of(e: &io::Error) -> u16 {
    match e.raw_os_error() {
        Some(libc::EPIPE) => errno::PIPE,
        Some(libc::EAGAIN) => errno::AGAIN,
        Some(libc::EBADF) => errno::BADF,
        Some(libc::EINTR) => errno::INTR,
        Some(libc::EINVAL) => errno::INVAL,
        Some(libc::ENOSPC) => errno::NOSPC,
        Some(libc::EDQUOT) => errno::DQUOT,
        Some(libc::EFBIG) => errno::FBIG,
        Some(libc::EACCES) => errno::ACCES,
        Some(libc::EPERM) => errno::PERM,
        Some(libc::ENOMEM) => errno::NOMEM,
        Some(libc::ENOSYS) => errno::NOSYS,
        _ => match e.kind() {
            io::ErrorKind::BrokenPipe => errno::PIPE,
            io::ErrorKind::WouldBlock => errno::AGAIN,
            io::ErrorKind::Interrupted => errno::INTR,
            io::ErrorKind::Unsupported => errno::BADF,
            _ => errno::IO,
        },
    }
}

/// One call of a WASI function.
struct Call<'a, 'p, T> {
    caller: Caller<'a, T>,
    params: &'p [Val],
    name: &'static str,
    get: fn(&mut T) -> &mut WasiCtx,
}

impl<T: 'static> Call<'_, '_, T> {
    fn ctx(&mut self) -> &mut WasiCtx {
        (self.get)(self.caller.data_mut())
    }

    /// Parameter `i`, an `i32`, as the unsigned number WASI means.
    fn u32(&self, i: usize) -> Result<u32, Error> {
        match self.params.get(i) {
            Some(Val::I32(v)) => Ok(*v as u32),
            _ => Err(self.bad_params()),
        }
    }

    /// Parameter `i`, an `i64`, as the unsigned number WASI means.
    fn u64(&self, i: usize) -> Result<u64, Error> {
        match self.params.get(i) {
            Some(Val::I64(v)) => Ok(*v as u64),
            _ => Err(self.bad_params()),
        }
    }

    fn bad_params(&self) -> Error {
        Error::Host(format!(
            "WASI function `{}` was called with parameters of the wrong types",
            self.name
        ))
    }

    /// The memory the calling instance exports as `memory`.
    fn memory(&mut self) -> Result<Memory, Error> {
        match self.caller.get_export("memory") {
            Some(Extern::Memory(m)) => Ok(m),
            Some(_) => Err(Error::Host(format!(
                "WASI function `{}` needs the calling module's linear memory, \
                 but its export `memory` is not a memory",
                self.name
            ))),
            None => Err(Error::Host(format!(
                "WASI function `{}` needs the calling module's linear memory, \
                 but the module does not export a memory named `memory`",
                self.name
            ))),
        }
    }

    /// The calling instance's memory, writable.
    fn mem(&mut self) -> Result<&mut [u8], Error> {
        let memory = self.memory()?;
        Ok(memory.data_mut(&mut self.caller))
    }
}

/// The body of a WASI function that returns an `errno`.
type Body<T> = for<'a, 'p, 'c> fn(&'c mut Call<'a, 'p, T>) -> Result<(), Fail>;

/// Defines `name` with `params` and an `errno` result.
fn define<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut WasiCtx,
    name: &'static str,
    params: &[ValType],
    body: Body<T>,
) {
    let ty = FuncType::new(params.iter().copied(), [ValType::I32]);
    linker.func_new(MODULE, name, ty, move |caller, params, results| {
        let mut call = Call {
            caller,
            params,
            name,
            get,
        };
        let code = match body(&mut call) {
            Ok(()) => errno::SUCCESS,
            Err(Fail::Errno(code)) => code,
            Err(Fail::Host(e)) => return Err(e),
        };
        if let Some(result) = results.first_mut() {
            *result = Val::I32(i32::from(code));
        }
        Ok(())
    });
}

// Guest memory access. Pointers and lengths are unsigned 32-bit numbers;
// everything is checked in 64-bit arithmetic, so nothing wraps.

/// The bytes `ptr..ptr + len` of a memory `mem_len` bytes long; `EFAULT`
/// if they are not all inside it.
fn region(mem_len: usize, ptr: u32, len: u64) -> Result<Range<usize>, Fail> {
    let start = u64::from(ptr);
    match start.checked_add(len) {
        Some(end) if end <= mem_len as u64 => Ok(start as usize..end as usize),
        _ => Err(Fail::Errno(errno::FAULT)),
    }
}

/// Writes `bytes` at `ptr`; `EFAULT` if they do not fit.
fn store(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> Result<(), Fail> {
    let range = region(mem.len(), ptr, bytes.len() as u64)?;
    mem[range].copy_from_slice(bytes);
    Ok(())
}

fn store_u32(mem: &mut [u8], ptr: u32, value: u32) -> Result<(), Fail> {
    store(mem, ptr, &value.to_le_bytes())
}

fn store_u64(mem: &mut [u8], ptr: u32, value: u64) -> Result<(), Fail> {
    store(mem, ptr, &value.to_le_bytes())
}

/// The buffers of the `count` iovecs at `iovs`, each checked against the
/// memory. The array itself is checked before anything is returned.
fn iovecs(
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

// Arguments and environment.

fn args_sizes_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (count, size) = (c.u32(0)?, c.u32(1)?);
    let (n, bytes) = table_sizes(&c.ctx().args)?;
    let mem = c.mem()?;
    region(mem.len(), count, 4)?;
    region(mem.len(), size, 4)?;
    store_u32(mem, count, n)?;
    store_u32(mem, size, bytes)
}

fn args_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (table, buf) = (c.u32(0)?, c.u32(1)?);
    let strings = c.ctx().args.clone();
    store_strings(c.mem()?, table, buf, &strings)
}

fn environ_sizes_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (count, size) = (c.u32(0)?, c.u32(1)?);
    let (n, bytes) = table_sizes(&c.ctx().env)?;
    let mem = c.mem()?;
    region(mem.len(), count, 4)?;
    region(mem.len(), size, 4)?;
    store_u32(mem, count, n)?;
    store_u32(mem, size, bytes)
}

fn environ_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (table, buf) = (c.u32(0)?, c.u32(1)?);
    let strings = c.ctx().env.clone();
    store_strings(c.mem()?, table, buf, &strings)
}

/// The number of strings and their total size with NULs; `EOVERFLOW` if
/// either does not fit in 32 bits.
fn table_sizes(strings: &[Vec<u8>]) -> Result<(u32, u32), Fail> {
    let total: usize = strings.iter().map(Vec::len).sum();
    match (u32::try_from(strings.len()), u32::try_from(total)) {
        (Ok(n), Ok(total)) => Ok((n, total)),
        _ => Err(Fail::Errno(errno::OVERFLOW)),
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

// Descriptors.

fn fd_write<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (fd, iovs, count, nwritten) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let memory = c.memory()?;
    let mut stream = c.ctx().take_stream(fd, Stream::is_output)?;
    let outcome = write_iovecs(memory.data(&c.caller), iovs, count, nwritten, &mut stream);
    c.ctx().put_stream(fd, stream);
    let written = outcome?;
    store_u32(memory.data_mut(&mut c.caller), nwritten, written)
}

/// Checks every pointer, then writes the iovecs' buffers to `stream`;
/// returns the number of bytes written.
fn write_iovecs(
    mem: &[u8],
    iovs: u32,
    count: u32,
    nwritten: u32,
    stream: &mut Stream,
) -> Result<u32, Fail> {
    region(mem.len(), nwritten, 4)?;
    let mut total = 0u64;
    for buf in iovecs(mem, iovs, count)? {
        total += buf?.len() as u64;
    }
    // Overlapping buffers can add up to more than a `size` can hold.
    let total = u32::try_from(total).map_err(|_| Fail::Errno(errno::INVAL))?;
    // Every buffer was checked above, so none of these is an error.
    let bufs = iovecs(mem, iovs, count)?.flatten().map(|r| &mem[r]);
    stream.write_all(bufs)?;
    Ok(total)
}

fn fd_read<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (fd, iovs, count, nread) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let memory = c.memory()?;
    let mut stream = c.ctx().take_stream(fd, Stream::is_input)?;
    let outcome = read_iovecs(
        memory.data_mut(&mut c.caller),
        iovs,
        count,
        nread,
        &mut stream,
    );
    c.ctx().put_stream(fd, stream);
    outcome
}

/// Checks every pointer, then reads once into the first non-empty buffer,
/// as a `readv` that comes back short would; stores the count at `nread`.
fn read_iovecs(
    mem: &mut [u8],
    iovs: u32,
    count: u32,
    nread: u32,
    stream: &mut Stream,
) -> Result<(), Fail> {
    region(mem.len(), nread, 4)?;
    let mut target = None;
    for buf in iovecs(mem, iovs, count)? {
        let buf = buf?;
        if target.is_none() && !buf.is_empty() {
            target = Some(buf);
        }
    }
    let n = match target {
        // Reading once never blocks for more input after some has come,
        // which reading each buffer in turn could.
        Some(buf) => stream.read(&mut mem[buf])?,
        None => 0,
    };
    // At most one buffer's length, which fits in 32 bits.
    store_u32(mem, nread, n as u32)
}

fn fd_close<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let fd = c.u32(0)?;
    // Dropping a stream closes it for the guest; the host's own standard
    // streams stay open.
    drop(c.ctx().take_stream(fd, |_| true)?);
    Ok(())
}

fn fd_seek<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let fd = c.u32(0)?;
    c.ctx().stream(fd)?;
    // Every open descriptor is a stream.
    Err(Fail::Errno(errno::SPIPE))
}

fn fd_fdstat_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (fd, buf) = (c.u32(0)?, c.u32(1)?);
    let stream = c.ctx().stream(fd)?;
    let mut stat = [0u8; FDSTAT_SIZE];
    stat[0] = stream.filetype();
    // fs_flags (bytes 2..4) stay 0: no append, no nonblock, no sync.
    stat[8..16].copy_from_slice(&stream.rights().to_le_bytes());
    // fs_rights_inheriting (bytes 16..24) stay 0: nothing can be opened.
    store(c.mem()?, buf, &stat)
}

fn fd_prestat_get<T: 'static>(_c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    // No preopened directories: wasi-libc stops scanning at the first
    // EBADF.
    Err(Fail::Errno(errno::BADF))
}

fn fd_prestat_dir_name<T: 'static>(_c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    Err(Fail::Errno(errno::BADF))
}

// Clocks, randomness and scheduling.

/// The host clock behind a WASI clock; `EINVAL` for an unknown one.
fn host_clock(id: u32) -> Result<libc::clockid_t, Fail> {
    match id {
        clockid::REALTIME => Ok(libc::CLOCK_REALTIME),
        clockid::MONOTONIC => Ok(libc::CLOCK_MONOTONIC),
        clockid::PROCESS_CPUTIME_ID => Ok(libc::CLOCK_PROCESS_CPUTIME_ID),
        clockid::THREAD_CPUTIME_ID => Ok(libc::CLOCK_THREAD_CPUTIME_ID),
        _ => Err(Fail::Errno(errno::INVAL)),
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

fn clock_time_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    // The precision (parameter 1) is only a hint.
    let (id, _precision, out) = (c.u32(0)?, c.u64(1)?, c.u32(2)?);
    store_clock_reading(c, id, out, libc::clock_gettime)
}

fn clock_res_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    let (id, out) = (c.u32(0)?, c.u32(1)?);
    store_clock_reading(c, id, out, libc::clock_getres)
}

/// Reads WASI clock `id` with `read` (`clock_gettime` or `clock_getres`)
/// and stores the nanoseconds at `out`.
fn store_clock_reading<T: 'static>(
    c: &mut Call<'_, '_, T>,
    id: u32,
    out: u32,
    read: unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int,
) -> Result<(), Fail> {
    let clock = host_clock(id)?;
    let mem = c.mem()?;
    region(mem.len(), out, 8)?;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `read` is one of libc's clock queries, given a valid clock id
    // and a valid, writable `timespec`.
    if unsafe { read(clock, &mut ts) } != 0 {
        return Err(io::Error::last_os_error().into());
    }
    store_u64(mem, out, nanoseconds(ts)?)
}

fn random_get<T: 'static>(c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
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

fn sched_yield<T: 'static>(_c: &mut Call<'_, '_, T>) -> Result<(), Fail> {
    std::thread::yield_now();
    Ok(())
}
