//! WASI preview 1 (`wasi_snapshot_preview1`), complete: arguments and
//! environment, the standard streams, files and directories through
//! preopened directories, sockets on preopened listeners, `poll_oneoff`,
//! clocks, random bytes, `sched_yield`, `proc_exit` and `proc_raise`.
//!
//! - Files: every path is resolved by [cap-std](https://docs.rs/cap-std)
//!   beneath the directory descriptor it is relative to. No path can leave
//!   its preopen: not with `..`, not when absolute, not through a
//!   symbolic link (cap-std follows links itself, one component at a time,
//!   or has the kernel do it with `openat2(RESOLVE_BENEATH)`), and not by
//!   racing a rename against the lookup. Such a path fails with `EPERM`,
//!   as it does in Wasmtime. See `paths.rs`.
//! - Descriptors 0, 1 and 2 are the host's standard streams unless
//!   [`WasiCtx::set_stdin`] and friends replace them. They do not seek.
//!   Closing one closes it for the guest only. Output to them is flushed
//!   after every `fd_write`.
//! - Sockets: [`WasiCtx::preopen_listener`] gives the guest a listening
//!   TCP socket (in non-blocking mode, as Wasmtime gives it), on which
//!   `sock_accept` makes connections that `fd_read`/`fd_write`,
//!   `sock_recv`/`sock_send`, `sock_shutdown` and `poll_oneoff` work on.
//!   `fd_fdstat_set_flags` switches any descriptor but the standard
//!   streams to non-blocking mode and back.
//! - `poll_oneoff` waits for clock deadlines (relative or absolute, on the
//!   real-time or the monotonic clock) and for descriptors to become
//!   readable or writable, with the host's `ppoll`.
//! - `proc_raise` answers `ENOTSUP`, as in Wasmtime 49: a preview 1
//!   program has no signal handlers to run.
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

mod abi;
mod fd;
mod paths;
mod poll;
mod process;
mod sockets;
mod stdio;
mod table;

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::path::Path;

use crate::error::Error;
use crate::runtime::{Caller, Extern, Linker, Val};
use crate::types::{FuncType, ValType};
use abi::{Fail, errno};
use stdio::Stream;
use table::{Descriptor, Table};

/// The import module every function here is defined under.
const MODULE: &str = "wasi_snapshot_preview1";

/// The state of a WASI program: its arguments, its environment and its
/// descriptors.
///
/// Keep one in the store's data and tell [`add_to_linker`] how to reach
/// it.
pub struct WasiCtx {
    /// Out of its box only while a WASI call runs, so that the call can
    /// hold it and the caller's memory at once.
    state: Option<Box<State>>,
}

/// What a [`WasiCtx`] holds.
struct State {
    /// Arguments, each with its terminating NUL.
    args: Vec<Vec<u8>>,
    /// Environment entries as `KEY=VALUE`, each with its terminating NUL.
    env: Vec<Vec<u8>>,
    table: Table,
}

impl State {
    /// Flushes every output stream, ignoring errors (used on exit).
    fn flush_all(&mut self) {
        for d in self.table.iter_mut() {
            if let Descriptor::Stdio(s) = d {
                s.flush();
            }
        }
    }
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
        let mut table = Table::default();
        table.insert_at(0, Descriptor::Stdio(Stream::HostStdin));
        table.insert_at(1, Descriptor::Stdio(Stream::HostStdout));
        table.insert_at(2, Descriptor::Stdio(Stream::HostStderr));
        WasiCtx {
            state: Some(Box::new(State { args, env, table })),
        }
    }

    fn state(&mut self) -> &mut State {
        // Only a WASI call takes the state out, and it puts it back
        // before returning; the embedder cannot run while one does.
        self.state
            .as_mut()
            .expect("WASI state present outside calls")
    }

    /// Makes descriptor 0 read from `input` instead of the host's
    /// standard input (and reopens it if the guest closed it).
    pub fn set_stdin(&mut self, input: impl Read + Send + 'static) {
        let table = &mut self.state().table;
        table.insert_at(0, Descriptor::Stdio(Stream::Reader(Box::new(input))));
    }

    /// Makes descriptor 1 write to `output` instead of the host's standard
    /// output (and reopens it if the guest closed it). `output` is flushed
    /// after every `fd_write`.
    pub fn set_stdout(&mut self, output: impl Write + Send + 'static) {
        let table = &mut self.state().table;
        table.insert_at(1, Descriptor::Stdio(Stream::Writer(Box::new(output))));
    }

    /// Makes descriptor 2 write to `output` instead of the host's standard
    /// error (and reopens it if the guest closed it). `output` is flushed
    /// after every `fd_write`.
    pub fn set_stderr(&mut self, output: impl Write + Send + 'static) {
        let table = &mut self.state().table;
        table.insert_at(2, Descriptor::Stdio(Stream::Writer(Box::new(output))));
    }

    /// Gives the guest the host directory `host` under the name `guest`
    /// (what `fd_prestat_dir_name` answers; wasi-libc resolves absolute
    /// and relative paths against these names). Returns its descriptor,
    /// the lowest free one.
    ///
    /// Everything beneath `host` becomes reachable, nothing outside it.
    pub fn preopen_dir(&mut self, host: impl AsRef<Path>, guest: &str) -> io::Result<u32> {
        let dir = cap_std::fs::Dir::open_ambient_dir(host, cap_std::ambient_authority())?;
        let d = Descriptor::Dir(table::Dir {
            dir,
            preopen: Some(guest.to_string()),
        });
        self.insert(d)
    }

    /// Gives the guest a listening socket; returns its descriptor, the
    /// lowest free one. The socket is put in non-blocking mode, as
    /// Wasmtime did: a server polls it, or switches it back with
    /// `fd_fdstat_set_flags`.
    pub fn preopen_listener(&mut self, listener: TcpListener) -> io::Result<u32> {
        listener.set_nonblocking(true)?;
        self.insert(Descriptor::Listener(listener))
    }

    fn insert(&mut self, d: Descriptor) -> io::Result<u32> {
        self.state()
            .table
            .insert(d)
            .map_err(|_| io::Error::other("no free descriptor"))
    }
}

/// The body of a WASI function that returns an `errno`.
type Body = fn(&mut Call<'_>, &mut State) -> Result<(), Fail>;

/// Defines every `wasi_snapshot_preview1` function in `linker`.
///
/// `get` finds the [`WasiCtx`] in the store's data. `proc_exit(status)`
/// fails the call with [`Error::Exit`]`(status)`, which unwinds the guest
/// back to whoever called into it.
pub fn add_to_linker<T: 'static>(linker: &mut Linker<T>, get: fn(&mut T) -> &mut WasiCtx) {
    use ValType::{I32, I64};
    let functions: &[(&'static str, &[ValType], Body)] = &[
        ("args_get", &[I32, I32], process::args_get),
        ("args_sizes_get", &[I32, I32], process::args_sizes_get),
        ("environ_get", &[I32, I32], process::environ_get),
        ("environ_sizes_get", &[I32, I32], process::environ_sizes_get),
        ("clock_res_get", &[I32, I32], process::clock_res_get),
        ("clock_time_get", &[I32, I64, I32], process::clock_time_get),
        ("random_get", &[I32, I32], process::random_get),
        ("proc_raise", &[I32], process::proc_raise),
        ("sched_yield", &[], poll::sched_yield),
        ("poll_oneoff", &[I32, I32, I32, I32], poll::poll_oneoff),
        ("fd_advise", &[I32, I64, I64, I32], fd::fd_advise),
        ("fd_allocate", &[I32, I64, I64], fd::fd_allocate),
        ("fd_close", &[I32], fd::fd_close),
        ("fd_datasync", &[I32], fd::fd_datasync),
        ("fd_fdstat_get", &[I32, I32], fd::fd_fdstat_get),
        ("fd_fdstat_set_flags", &[I32, I32], fd::fd_fdstat_set_flags),
        (
            "fd_fdstat_set_rights",
            &[I32, I64, I64],
            fd::fd_fdstat_set_rights,
        ),
        ("fd_filestat_get", &[I32, I32], fd::fd_filestat_get),
        (
            "fd_filestat_set_size",
            &[I32, I64],
            fd::fd_filestat_set_size,
        ),
        (
            "fd_filestat_set_times",
            &[I32, I64, I64, I32],
            fd::fd_filestat_set_times,
        ),
        ("fd_pread", &[I32, I32, I32, I64, I32], fd::fd_pread),
        ("fd_pwrite", &[I32, I32, I32, I64, I32], fd::fd_pwrite),
        ("fd_read", &[I32, I32, I32, I32], fd::fd_read),
        ("fd_renumber", &[I32, I32], fd::fd_renumber),
        ("fd_seek", &[I32, I64, I32, I32], fd::fd_seek),
        ("fd_sync", &[I32], fd::fd_sync),
        ("fd_tell", &[I32, I32], fd::fd_tell),
        ("fd_write", &[I32, I32, I32, I32], fd::fd_write),
        ("fd_prestat_get", &[I32, I32], paths::fd_prestat_get),
        (
            "fd_prestat_dir_name",
            &[I32, I32, I32],
            paths::fd_prestat_dir_name,
        ),
        ("fd_readdir", &[I32, I32, I32, I64, I32], paths::fd_readdir),
        (
            "path_create_directory",
            &[I32, I32, I32],
            paths::path_create_directory,
        ),
        (
            "path_filestat_get",
            &[I32, I32, I32, I32, I32],
            paths::path_filestat_get,
        ),
        (
            "path_filestat_set_times",
            &[I32, I32, I32, I32, I64, I64, I32],
            paths::path_filestat_set_times,
        ),
        (
            "path_link",
            &[I32, I32, I32, I32, I32, I32, I32],
            paths::path_link,
        ),
        (
            "path_open",
            &[I32, I32, I32, I32, I32, I64, I64, I32, I32],
            paths::path_open,
        ),
        (
            "path_readlink",
            &[I32, I32, I32, I32, I32, I32],
            paths::path_readlink,
        ),
        (
            "path_remove_directory",
            &[I32, I32, I32],
            paths::path_remove_directory,
        ),
        (
            "path_rename",
            &[I32, I32, I32, I32, I32, I32],
            paths::path_rename,
        ),
        (
            "path_symlink",
            &[I32, I32, I32, I32, I32],
            paths::path_symlink,
        ),
        (
            "path_unlink_file",
            &[I32, I32, I32],
            paths::path_unlink_file,
        ),
        ("sock_accept", &[I32, I32, I32], sockets::sock_accept),
        (
            "sock_recv",
            &[I32, I32, I32, I32, I32, I32],
            sockets::sock_recv,
        ),
        ("sock_send", &[I32, I32, I32, I32, I32], sockets::sock_send),
        ("sock_shutdown", &[I32, I32], sockets::sock_shutdown),
    ];
    for &(name, params, body) in functions {
        let ty = FuncType::new(params.iter().copied(), [ValType::I32]);
        linker.func_new(MODULE, name, ty, move |mut caller, params, results| {
            let code = match run(&mut caller, get, name, params, body) {
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
    linker.func_new(
        MODULE,
        "proc_exit",
        FuncType::new([I32], []),
        move |mut caller, params, _results| {
            let status = match run(&mut caller, get, "proc_exit", params, process::proc_exit) {
                Err(Fail::Host(e)) => return Err(e),
                _ => Call::param_u32(params, 0, "proc_exit")?,
            };
            // The WASI status is unsigned; `Error::Exit` keeps its bits.
            Err(Error::Exit(status as i32))
        },
    );
}

/// Runs `body` with the WASI state and the caller's memory.
fn run<T: 'static>(
    caller: &mut Caller<'_, T>,
    get: fn(&mut T) -> &mut WasiCtx,
    name: &'static str,
    params: &[Val],
    body: Body,
) -> Result<(), Fail> {
    let memory = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        Some(_) => Err("its export `memory` is not a memory"),
        None => Err("the module does not export a memory named `memory`"),
    };
    let Some(mut state) = get(caller.data_mut()).state.take() else {
        return Err(Fail::Host(Error::Host(format!(
            "WASI function `{name}` was called while another WASI call was running"
        ))));
    };
    let outcome = {
        let mut call = Call {
            params,
            memory: memory.map(|m| m.data_mut(caller)),
            name,
        };
        body(&mut call, &mut state)
    };
    get(caller.data_mut()).state = Some(state);
    outcome
}

/// One call of a WASI function: its parameters and the caller's memory.
struct Call<'c> {
    params: &'c [Val],
    /// The caller's memory, or why there is none.
    memory: Result<&'c mut [u8], &'static str>,
    name: &'static str,
}

impl Call<'_> {
    fn param_u32(params: &[Val], i: usize, name: &str) -> Result<u32, Error> {
        match params.get(i) {
            Some(Val::I32(v)) => Ok(*v as u32),
            _ => Err(bad_params(name)),
        }
    }

    /// Parameter `i`, an `i32`, as the unsigned number WASI means.
    fn u32(&self, i: usize) -> Result<u32, Fail> {
        Ok(Call::param_u32(self.params, i, self.name)?)
    }

    /// Parameter `i`, an `i32` that WASI declares narrower (flags, an
    /// enum); `EINVAL` if it does not fit.
    fn u16(&self, i: usize) -> Result<u16, Fail> {
        u16::try_from(self.u32(i)?).map_err(|_| Fail::Errno(errno::INVAL))
    }

    /// Parameter `i`, an `i64`, as the unsigned number WASI means.
    fn u64(&self, i: usize) -> Result<u64, Fail> {
        match self.params.get(i) {
            Some(Val::I64(v)) => Ok(*v as u64),
            _ => Err(Fail::Host(bad_params(self.name))),
        }
    }

    /// The memory the calling instance exports as `memory`.
    fn mem(&mut self) -> Result<&mut [u8], Fail> {
        match &mut self.memory {
            Ok(m) => Ok(m),
            Err(why) => Err(Fail::Host(Error::Host(format!(
                "WASI function `{}` needs the calling module's linear memory, but {why}",
                self.name
            )))),
        }
    }
}

fn bad_params(name: &str) -> Error {
    Error::Host(format!(
        "WASI function `{name}` was called with parameters of the wrong types"
    ))
}
