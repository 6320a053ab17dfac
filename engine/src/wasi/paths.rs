//! Calls that name a path relative to a directory descriptor, the
//! listing of a directory, and the preopened directories' names.
//!
//! Every path is resolved by cap-std beneath its directory: a path that
//! would leave it (`..` past the top, an absolute path, a symbolic link
//! whose target lies outside, a directory renamed away during the
//! lookup) fails with `EPERM`, and no host file outside is ever opened,
//! created, listed, changed or removed. This module never looks at a
//! path's text itself.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
    SystemTimeSpec,
};
use cap_std::fs::{FileTypeExt, Metadata, MetadataExt, OpenOptions};
use rustix::fs::DirEntryExt;

use super::abi::{
    Fail, Filestat, bytes, errno, fail, fdflags, filetype, fstflags, lookupflags, oflags, region,
    rights, store, store_u32, timestamp,
};
use super::table::{Descriptor, Dir};
use super::{Call, State};

/// The path of `len` bytes at `ptr`, as the host takes it (any bytes but
/// NUL; cap-std refuses a NUL).
fn path_at(mem: &[u8], ptr: u32, len: u32) -> Result<PathBuf, Fail> {
    Ok(Path::new(OsStr::from_bytes(bytes(mem, ptr, len)?)).to_path_buf())
}

/// Whether `lookupflags` ask to follow a final symbolic link.
fn follows(flags: u32) -> bool {
    flags & lookupflags::SYMLINK_FOLLOW != 0
}

pub fn fd_prestat_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, buf) = (c.u32(0)?, c.u32(1)?);
    // Anything but a preopened directory answers EBADF, which is where
    // wasi-libc stops looking for preopens.
    let Ok(Descriptor::Dir(Dir {
        preopen: Some(name),
        ..
    })) = s.table.get(fd)
    else {
        return fail(errno::BADF);
    };
    let len = u32::try_from(name.len()).map_err(|_| Fail::Errno(errno::NAMETOOLONG))?;
    // prestat: { tag: u8 @0 (0: a directory), pr_name_len: u32 @4 }
    let mut prestat = [0u8; 8];
    prestat[4..8].copy_from_slice(&len.to_le_bytes());
    store(c.mem()?, buf, &prestat)
}

pub fn fd_prestat_dir_name(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, buf, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let Ok(Descriptor::Dir(Dir {
        preopen: Some(name),
        ..
    })) = s.table.get(fd)
    else {
        return fail(errno::BADF);
    };
    if (len as usize) < name.len() {
        return fail(errno::NAMETOOLONG);
    }
    store(c.mem()?, buf, name.as_bytes())
}

pub fn path_open(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (dirfd, lookup, path, path_len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let (open, base, _inheriting) = (c.u16(4)?, c.u64(5)?, c.u64(6)?);
    let (flags, fd_out) = (c.u16(7)?, c.u32(8)?);
    let mem = c.mem()?;
    let path = path_at(mem, path, path_len)?;
    region(mem.len(), fd_out, 4)?;
    let dir = &s.table.dir(dirfd)?.dir;

    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let write = base
        & (rights::FD_WRITE
            | rights::FD_DATASYNC
            | rights::FD_ALLOCATE
            | rights::FD_FILESTAT_SET_SIZE)
        != 0;
    let mut options = OpenOptions::new();
    options.maybe_dir(true);
    if open & oflags::DIRECTORY != 0 && open & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
        return fail(errno::INVAL);
    }
    // Creating or truncating needs a writable descriptor on the host.
    if open & oflags::CREAT != 0 {
        options.write(true);
        if open & oflags::EXCL != 0 {
            options.create_new(true);
        } else {
            options.create(true);
        }
    }
    if open & oflags::TRUNC != 0 {
        options.write(true).truncate(true);
    }
    if write {
        options.write(true);
    }
    // Without any access asked for (a descriptor only to stat through),
    // read access is what the host can open everything with.
    if read || !write {
        options.read(true);
    }
    if flags & fdflags::APPEND != 0 {
        options.append(true);
    }
    options.dsync(flags & fdflags::DSYNC != 0);
    options.rsync(flags & fdflags::RSYNC != 0);
    options.sync(flags & fdflags::SYNC != 0);
    options.follow(if follows(lookup) {
        FollowSymlinks::Yes
    } else {
        FollowSymlinks::No
    });

    let file = dir.open_with(&path, &options)?;
    let d = if file.metadata()?.is_dir() {
        Descriptor::Dir(Dir {
            dir: cap_std::fs::Dir::from_std_file(file.into_std()),
            preopen: None,
        })
    } else if open & oflags::DIRECTORY != 0 {
        return fail(errno::NOTDIR);
    } else {
        if flags & fdflags::NONBLOCK != 0 {
            let host = rustix::fs::fcntl_getfl(&file)?;
            rustix::fs::fcntl_setfl(&file, host | rustix::fs::OFlags::NONBLOCK)?;
        }
        Descriptor::File(file)
    };
    let fd = s.table.insert(d)?;
    store_u32(mem, fd_out, fd)
}

pub fn path_create_directory(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, path, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let path = path_at(c.mem()?, path, len)?;
    Ok(s.table.dir(fd)?.dir.create_dir(path)?)
}

pub fn path_remove_directory(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, path, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let path = path_at(c.mem()?, path, len)?;
    Ok(s.table.dir(fd)?.dir.remove_dir(path)?)
}

pub fn path_unlink_file(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, path, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let path = path_at(c.mem()?, path, len)?;
    Ok(s.table.dir(fd)?.dir.remove_file(path)?)
}

pub fn path_rename(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, old, old_len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let (new_fd, new, new_len) = (c.u32(3)?, c.u32(4)?, c.u32(5)?);
    let mem = c.mem()?;
    let (old, new) = (path_at(mem, old, old_len)?, path_at(mem, new, new_len)?);
    let from = &s.table.dir(fd)?.dir;
    let to = &s.table.dir(new_fd)?.dir;
    Ok(from.rename(old, to, new)?)
}

pub fn path_link(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, lookup, old, old_len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let (new_fd, new, new_len) = (c.u32(4)?, c.u32(5)?, c.u32(6)?);
    let mem = c.mem()?;
    let (old, new) = (path_at(mem, old, old_len)?, path_at(mem, new, new_len)?);
    if follows(lookup) {
        // Linking what a symbolic link points to would need its target
        // resolved beneath the directory first; Wasmtime refuses it too.
        return fail(errno::INVAL);
    }
    let from = &s.table.dir(fd)?.dir;
    let to = &s.table.dir(new_fd)?.dir;
    Ok(from.hard_link(old, to, new)?)
}

pub fn path_symlink(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (target, target_len, fd) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let (link, link_len) = (c.u32(3)?, c.u32(4)?);
    let mem = c.mem()?;
    let (target, link) = (
        path_at(mem, target, target_len)?,
        path_at(mem, link, link_len)?,
    );
    // cap-std refuses an absolute target: it could never be followed
    // inside the sandbox anyway.
    Ok(s.table.dir(fd)?.dir.symlink(target, link)?)
}

pub fn path_readlink(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, path, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?);
    let (buf, buf_len, used) = (c.u32(3)?, c.u32(4)?, c.u32(5)?);
    let mem = c.mem()?;
    let path = path_at(mem, path, len)?;
    region(mem.len(), buf, u64::from(buf_len))?;
    region(mem.len(), used, 4)?;
    let target = s.table.dir(fd)?.dir.read_link(path)?;
    let target = target.as_os_str().as_bytes();
    // As readlink(2): the target, cut to the buffer, without a NUL.
    let n = target.len().min(buf_len as usize);
    store(mem, buf, &target[..n])?;
    store_u32(mem, used, n as u32)
}

pub fn path_filestat_get(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, lookup, path, len, buf) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?, c.u32(4)?);
    let mem = c.mem()?;
    let path = path_at(mem, path, len)?;
    let dir = &s.table.dir(fd)?.dir;
    let meta = if follows(lookup) {
        dir.metadata(path)?
    } else {
        dir.symlink_metadata(path)?
    };
    store(mem, buf, &filestat(&meta).encode())
}

pub fn path_filestat_set_times(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, lookup, path, len) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u32(3)?);
    let (atim, mtim, flags) = (c.u64(4)?, c.u64(5)?, c.u16(6)?);
    let path = path_at(c.mem()?, path, len)?;
    let atime = time_spec(atim, flags, fstflags::ATIM, fstflags::ATIM_NOW)?;
    let mtime = time_spec(mtim, flags, fstflags::MTIM, fstflags::MTIM_NOW)?;
    let dir = &s.table.dir(fd)?.dir;
    if follows(lookup) {
        Ok(dir.set_times(path, atime, mtime)?)
    } else {
        Ok(dir.set_symlink_times(path, atime, mtime)?)
    }
}

/// One time of `path_filestat_set_times` as cap-std takes it.
fn time_spec(ns: u64, flags: u16, set: u16, now: u16) -> Result<Option<SystemTimeSpec>, Fail> {
    match (flags & set != 0, flags & now != 0) {
        (true, true) => fail(errno::INVAL),
        (false, true) => Ok(Some(SystemTimeSpec::SymbolicNow)),
        (false, false) => Ok(None),
        (true, false) => Ok(Some(SystemTimeSpec::Absolute(
            cap_std::time::SystemTime::from_std(UNIX_EPOCH + Duration::from_nanos(ns)),
        ))),
    }
}

/// A `filestat` of cap-std's metadata.
fn filestat(meta: &Metadata) -> Filestat {
    Filestat {
        dev: meta.dev(),
        ino: meta.ino(),
        filetype: filetype_of(meta.file_type()),
        nlink: meta.nlink(),
        size: meta.size(),
        atim: timestamp(meta.atime(), meta.atime_nsec()),
        mtim: timestamp(meta.mtime(), meta.mtime_nsec()),
        ctim: timestamp(meta.ctime(), meta.ctime_nsec()),
    }
}

/// The WASI `filetype` of cap-std's file type.
fn filetype_of(ty: cap_std::fs::FileType) -> u8 {
    if ty.is_dir() {
        filetype::DIRECTORY
    } else if ty.is_file() {
        filetype::REGULAR_FILE
    } else if ty.is_symlink() {
        filetype::SYMBOLIC_LINK
    } else if ty.is_char_device() {
        filetype::CHARACTER_DEVICE
    } else if ty.is_block_device() {
        filetype::BLOCK_DEVICE
    } else if ty.is_socket() {
        filetype::SOCKET_STREAM
    } else {
        filetype::UNKNOWN
    }
}

/// Size of a `dirent` header: `{ d_next: u64 @0, d_ino: u64 @8,
/// d_namlen: u32 @16, d_type: u8 @20 }`, followed by the name.
const DIRENT_SIZE: usize = 24;

pub fn fd_readdir(c: &mut Call<'_>, s: &mut State) -> Result<(), Fail> {
    let (fd, buf, buf_len, cookie, used) = (c.u32(0)?, c.u32(1)?, c.u32(2)?, c.u64(3)?, c.u32(4)?);
    let mem = c.mem()?;
    let out = region(mem.len(), buf, u64::from(buf_len))?;
    region(mem.len(), used, 4)?;
    let dir = match s.table.get(fd)? {
        Descriptor::Dir(d) => &d.dir,
        _ => return fail(errno::NOTDIR),
    };
    // The cookie of an entry is its position in this listing, so a
    // listing resumed after changes to the directory may skip or repeat
    // an entry, as readdir(3) may. "." and ".." come first, as the host's
    // own listing would give them (cap-std leaves them out).
    let here = dir.dir_metadata()?.ino();
    let mut entries = vec![
        (b".".to_vec(), filetype::DIRECTORY, here),
        (b"..".to_vec(), filetype::DIRECTORY, here),
    ];
    for entry in dir.entries()? {
        let entry = entry?;
        let ty = entry.file_type().map_or(filetype::UNKNOWN, filetype_of);
        entries.push((entry.file_name().as_bytes().to_vec(), ty, entry.ino()));
    }
    let mut listing = Vec::new();
    for (i, (name, ty, ino)) in entries
        .iter()
        .enumerate()
        .skip(cookie.min(usize::MAX as u64) as usize)
    {
        if listing.len() >= out.len() {
            break;
        }
        let mut header = [0u8; DIRENT_SIZE];
        header[0..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
        header[8..16].copy_from_slice(&ino.to_le_bytes());
        header[16..20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        header[20] = *ty;
        listing.extend_from_slice(&header);
        listing.extend_from_slice(name);
    }
    // A full buffer tells the guest to ask again from the last cookie it
    // saw whole; the entry cut here comes again then.
    listing.truncate(out.len());
    mem[out.start..out.start + listing.len()].copy_from_slice(&listing);
    store_u32(mem, used, listing.len() as u32)
}
