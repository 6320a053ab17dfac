//! Descriptors 0, 1 and 2: the host's standard streams, or readers and
//! writers the embedder gave instead.
//!
//! Output is flushed after every write, so guest output and the host's
//! own messages appear in the order they were made. The guest's C
//! library buffers its own output, so this costs one system call per
//! buffer of output, not one per `printf`.

use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::BorrowedFd;

use super::abi::{filetype, rights};

/// What a standard descriptor is connected to.
pub enum Stream {
    /// The host's standard input.
    HostStdin,
    /// The host's standard output.
    HostStdout,
    /// The host's standard error.
    HostStderr,
    /// A reader given by `WasiCtx::set_stdin`.
    Reader(Box<dyn Read + Send>),
    /// A writer given by `WasiCtx::set_stdout` or `WasiCtx::set_stderr`.
    Writer(Box<dyn Write + Send>),
}

impl Stream {
    pub fn is_input(&self) -> bool {
        matches!(self, Stream::HostStdin | Stream::Reader(_))
    }

    /// The host descriptor behind a host stream, for `poll_oneoff`; a
    /// reader or writer from the embedder has none and is always ready.
    pub fn host_fd(&self) -> Option<BorrowedFd<'static>> {
        // The process's standard streams stay open as long as it runs.
        match self {
            Stream::HostStdin => Some(rustix::stdio::stdin()),
            Stream::HostStdout => Some(rustix::stdio::stdout()),
            Stream::HostStderr => Some(rustix::stdio::stderr()),
            Stream::Reader(_) | Stream::Writer(_) => None,
        }
    }

    /// A character device if the host stream is a terminal, unknown
    /// otherwise (a pipe, a file, or a host-provided reader or writer).
    /// Along with the missing seek and tell rights, this makes wasi-libc's
    /// `isatty` agree with the host's.
    pub fn filetype(&self) -> u8 {
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

    pub fn rights(&self) -> u64 {
        if self.is_input() {
            rights::FD_READ | rights::POLL_FD_READWRITE
        } else {
            rights::FD_WRITE | rights::POLL_FD_READWRITE
        }
    }

    /// Writes every buffer and flushes.
    pub fn write_all<'b>(&mut self, bufs: impl Iterator<Item = &'b [u8]>) -> io::Result<()> {
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
            Stream::HostStdin | Stream::Reader(_) => Err(io::Error::from_raw_os_error(libc::EBADF)),
        }
    }

    /// Reads once (as one `read` system call would) into `buf`.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self {
                Stream::HostStdin => io::stdin().lock().read(buf),
                Stream::Reader(r) => r.read(buf),
                Stream::HostStdout | Stream::HostStderr | Stream::Writer(_) => {
                    Err(io::Error::from_raw_os_error(libc::EBADF))
                }
            };
            match result {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
    }

    /// Flushes an output stream, ignoring errors (used on exit).
    pub fn flush(&mut self) {
        let _ = match self {
            Stream::HostStdout => io::stdout().flush(),
            Stream::HostStderr => io::stderr().flush(),
            Stream::Writer(w) => w.flush(),
            Stream::HostStdin | Stream::Reader(_) => Ok(()),
        };
    }
}
