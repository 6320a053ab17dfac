//! The descriptor table: what each guest file descriptor is.
//!
//! Descriptors are allocated lowest-free-first, as POSIX does. Every
//! kind except the standard streams owns a host descriptor, so reads,
//! writes, seeks and polls go to the host through it; what a directory
//! descriptor can name is limited by cap-std (see `paths.rs`).

use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};

use super::abi::{Fail, errno, fail, fdflags, filetype, rights};
use super::stdio::Stream;

/// One open descriptor.
pub enum Descriptor {
    /// Descriptors 0, 1 and 2.
    Stdio(Stream),
    /// A file opened by `path_open`.
    File(cap_std::fs::File),
    /// A directory: preopened, or opened by `path_open`.
    Dir(Dir),
    /// A preopened listening socket (`--tcplisten`).
    Listener(TcpListener),
    /// A connection accepted by `sock_accept`.
    Socket(TcpStream),
}

/// An open directory, through which paths are resolved.
pub struct Dir {
    pub dir: cap_std::fs::Dir,
    /// The name the guest sees for a preopened directory.
    pub preopen: Option<String>,
}

impl Descriptor {
    /// The host descriptor, for every kind but the embedder's own readers
    /// and writers.
    pub fn host_fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Descriptor::Stdio(s) => s.host_fd(),
            Descriptor::File(f) => Some(f.as_fd()),
            Descriptor::Dir(d) => Some(d.dir.as_fd()),
            Descriptor::Listener(l) => Some(l.as_fd()),
            Descriptor::Socket(s) => Some(s.as_fd()),
        }
    }

    /// The host descriptor of anything but a standard stream; `EBADF` for
    /// those (they are the host's, so the guest may not change them).
    pub fn own_fd(&self) -> Result<BorrowedFd<'_>, Fail> {
        match self {
            Descriptor::Stdio(_) => fail(errno::BADF),
            other => other.host_fd().ok_or(Fail::Errno(errno::BADF)),
        }
    }

    /// `fs_filetype` of `fdstat`.
    pub fn filetype(&self) -> Result<u8, Fail> {
        Ok(match self {
            Descriptor::Stdio(s) => s.filetype(),
            Descriptor::Dir(_) => filetype::DIRECTORY,
            Descriptor::Listener(_) | Descriptor::Socket(_) => filetype::SOCKET_STREAM,
            Descriptor::File(f) => {
                let stat = rustix::fs::fstat(f)?;
                filetype_of_mode(stat.st_mode)
            }
        })
    }

    /// `fs_flags` of `fdstat`: the host descriptor's status flags.
    pub fn fdflags(&self) -> Result<u16, Fail> {
        let Some(fd) = self
            .host_fd()
            .filter(|_| !matches!(self, Descriptor::Stdio(_)))
        else {
            return Ok(0);
        };
        let flags = rustix::fs::fcntl_getfl(fd)?;
        let mut out = 0;
        for (host, wasi) in [
            (rustix::fs::OFlags::APPEND, fdflags::APPEND),
            (rustix::fs::OFlags::NONBLOCK, fdflags::NONBLOCK),
            (rustix::fs::OFlags::DSYNC, fdflags::DSYNC),
            (rustix::fs::OFlags::RSYNC, fdflags::RSYNC),
        ] {
            if flags.contains(host) {
                out |= wasi;
            }
        }
        // O_SYNC includes O_DSYNC's bit.
        if flags.contains(rustix::fs::OFlags::SYNC) {
            out |= fdflags::SYNC;
        }
        Ok(out)
    }

    /// `fs_rights_base` and `fs_rights_inheriting` of `fdstat`. Rights are
    /// reported, not enforced (the host descriptor's own access mode
    /// is): wasi-libc derives `O_RDONLY`/`O_WRONLY` from them.
    pub fn rights(&self) -> Result<(u64, u64), Fail> {
        Ok(match self {
            Descriptor::Stdio(s) => (s.rights(), 0),
            Descriptor::Dir(_) => (rights::DIRECTORY, rights::DIRECTORY | rights::FILE),
            Descriptor::Listener(_) => (rights::LISTENER, 0),
            Descriptor::Socket(_) => (rights::SOCKET, 0),
            Descriptor::File(f) => {
                let mode = rustix::fs::fcntl_getfl(f)? & rustix::fs::OFlags::RWMODE;
                let strip = if mode == rustix::fs::OFlags::RDONLY {
                    rights::FD_WRITE | rights::FD_ALLOCATE | rights::FD_FILESTAT_SET_SIZE
                } else if mode == rustix::fs::OFlags::WRONLY {
                    rights::FD_READ
                } else {
                    0
                };
                (rights::FILE & !strip, 0)
            }
        })
    }
}

/// A WASI `filetype` of a host `st_mode`.
pub fn filetype_of_mode(mode: u32) -> u8 {
    match mode & libc::S_IFMT {
        libc::S_IFREG => filetype::REGULAR_FILE,
        libc::S_IFDIR => filetype::DIRECTORY,
        libc::S_IFLNK => filetype::SYMBOLIC_LINK,
        libc::S_IFCHR => filetype::CHARACTER_DEVICE,
        libc::S_IFBLK => filetype::BLOCK_DEVICE,
        libc::S_IFSOCK => filetype::SOCKET_STREAM,
        _ => filetype::UNKNOWN,
    }
}

/// Open descriptors by number.
#[derive(Default)]
pub struct Table {
    slots: Vec<Option<Descriptor>>,
}

impl Table {
    /// Descriptor `fd`; `EBADF` if it is not open.
    pub fn get(&self, fd: u32) -> Result<&Descriptor, Fail> {
        self.slots
            .get(fd as usize)
            .and_then(Option::as_ref)
            .ok_or(Fail::Errno(errno::BADF))
    }

    /// Descriptor `fd`, writable; `EBADF` if it is not open.
    pub fn get_mut(&mut self, fd: u32) -> Result<&mut Descriptor, Fail> {
        self.slots
            .get_mut(fd as usize)
            .and_then(Option::as_mut)
            .ok_or(Fail::Errno(errno::BADF))
    }

    /// The directory `fd`: `EBADF` if it is not open, `ENOTDIR` if it is
    /// something else.
    pub fn dir(&self, fd: u32) -> Result<&Dir, Fail> {
        match self.get(fd)? {
            Descriptor::Dir(d) => Ok(d),
            _ => fail(errno::NOTDIR),
        }
    }

    /// Puts `d` in the lowest free slot and returns its number.
    pub fn insert(&mut self, d: Descriptor) -> Result<u32, Fail> {
        let fd = match self.slots.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let number = u32::try_from(fd).map_err(|_| Fail::Errno(errno::NFILE))?;
        self.slots[fd] = Some(d);
        Ok(number)
    }

    /// Puts `d` at `fd`, which must be free (used while building the
    /// context).
    pub fn insert_at(&mut self, fd: u32, d: Descriptor) {
        let fd = fd as usize;
        if self.slots.len() <= fd {
            self.slots.resize_with(fd + 1, || None);
        }
        self.slots[fd] = Some(d);
    }

    /// Takes descriptor `fd` out of the table (closing it once dropped).
    pub fn remove(&mut self, fd: u32) -> Result<Descriptor, Fail> {
        let d = self
            .slots
            .get_mut(fd as usize)
            .and_then(Option::take)
            .ok_or(Fail::Errno(errno::BADF))?;
        while matches!(self.slots.last(), Some(None)) {
            self.slots.pop();
        }
        Ok(d)
    }

    /// Moves descriptor `from` to number `to`, closing what `to` was. Both
    /// must be open.
    pub fn renumber(&mut self, from: u32, to: u32) -> Result<(), Fail> {
        self.get(from)?;
        self.get(to)?;
        if from != to {
            let d = self.remove(from)?;
            self.insert_at(to, d);
        }
        Ok(())
    }

    /// Every open descriptor.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Descriptor> {
        self.slots.iter_mut().flatten()
    }
}
