//! WASI preview 1: each function called from Wasm, with results read back
//! from linear memory and output captured through `WasiCtx::set_stdout`.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use switchyard_engine::wasi::{self, WasiCtx};
use switchyard_engine::{Engine, Error, Instance, Linker, Module, Store, Val};

const ESUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ESPIPE: i32 = 70;

/// Imports every supported function and exports a wrapper for each, so
/// that the tests call them from Wasm code (which is what gives them the
/// caller's memory).
const WRAPPERS: &str = r#"(module
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_get" (func $fd_fdstat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_get" (func $fd_prestat_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_prestat_dir_name" (func $fd_prestat_dir_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_res_get" (func $clock_res_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sched_yield" (func $sched_yield (result i32)))
  (memory (export "memory") 1)
  (global $after_exit (export "after_exit") (mut i32) (i32.const 0))
  (func (export "args_get") (param i32 i32) (result i32)
    (call $args_get (local.get 0) (local.get 1)))
  (func (export "args_sizes_get") (param i32 i32) (result i32)
    (call $args_sizes_get (local.get 0) (local.get 1)))
  (func (export "environ_get") (param i32 i32) (result i32)
    (call $environ_get (local.get 0) (local.get 1)))
  (func (export "environ_sizes_get") (param i32 i32) (result i32)
    (call $environ_sizes_get (local.get 0) (local.get 1)))
  (func (export "fd_write") (param i32 i32 i32 i32) (result i32)
    (call $fd_write (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fd_read") (param i32 i32 i32 i32) (result i32)
    (call $fd_read (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fd_close") (param i32) (result i32)
    (call $fd_close (local.get 0)))
  (func (export "fd_seek") (param i32 i64 i32 i32) (result i32)
    (call $fd_seek (local.get 0) (local.get 1) (local.get 2) (local.get 3)))
  (func (export "fd_fdstat_get") (param i32 i32) (result i32)
    (call $fd_fdstat_get (local.get 0) (local.get 1)))
  (func (export "fd_prestat_get") (param i32 i32) (result i32)
    (call $fd_prestat_get (local.get 0) (local.get 1)))
  (func (export "fd_prestat_dir_name") (param i32 i32 i32) (result i32)
    (call $fd_prestat_dir_name (local.get 0) (local.get 1) (local.get 2)))
  (func (export "proc_exit") (param i32)
    (call $proc_exit (local.get 0))
    (global.set $after_exit (i32.const 1)))
  (func (export "clock_time_get") (param i32 i64 i32) (result i32)
    (call $clock_time_get (local.get 0) (local.get 1) (local.get 2)))
  (func (export "clock_res_get") (param i32 i32) (result i32)
    (call $clock_res_get (local.get 0) (local.get 1)))
  (func (export "random_get") (param i32 i32) (result i32)
    (call $random_get (local.get 0) (local.get 1)))
  (func (export "sched_yield") (result i32)
    (call $sched_yield))
)"#;

/// Bytes in the test module's memory (one page).
const MEM: u32 = 65536;

/// An output that tests can read back.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn contents(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An input that hands out at most `chunk` bytes per read.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

struct Guest {
    store: Store<WasiCtx>,
    instance: Instance,
}

impl Guest {
    fn new(ctx: WasiCtx) -> Guest {
        Guest::with_module(WRAPPERS, ctx).unwrap()
    }

    fn with_module(wat: &str, ctx: WasiCtx) -> Result<Guest, Error> {
        let engine = Engine::default();
        let module = Module::new(&engine, wat)?;
        let mut store = Store::new(&engine, ctx);
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker, |ctx| ctx);
        let instance = linker.instantiate(&mut store, &module)?;
        Ok(Guest { store, instance })
    }

    /// Calls export `name` with i32 arguments; returns its results.
    fn try_call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>, Error> {
        let f = self.instance.get_func(&mut self.store, name).unwrap();
        let mut results = vec![Val::I32(0); f.ty(&self.store).results().len()];
        f.call(&mut self.store, args, &mut results)?;
        Ok(results)
    }

    /// Calls a wrapper with i32 arguments; returns its errno.
    fn call(&mut self, name: &str, args: &[u32]) -> i32 {
        let args: Vec<Val> = args.iter().map(|&a| Val::I32(a as i32)).collect();
        self.call_vals(name, &args)
    }

    fn call_vals(&mut self, name: &str, args: &[Val]) -> i32 {
        let results = self.try_call(name, args).unwrap();
        results[0].i32().unwrap()
    }

    fn mem(&mut self) -> &mut [u8] {
        let memory = self.instance.get_memory(&mut self.store, "memory").unwrap();
        memory.data_mut(&mut self.store)
    }

    fn u32_at(&mut self, addr: u32) -> u32 {
        let a = addr as usize;
        u32::from_le_bytes(self.mem()[a..a + 4].try_into().unwrap())
    }

    fn u64_at(&mut self, addr: u32) -> u64 {
        let a = addr as usize;
        u64::from_le_bytes(self.mem()[a..a + 8].try_into().unwrap())
    }

    fn put(&mut self, addr: u32, bytes: &[u8]) {
        let a = addr as usize;
        self.mem()[a..a + bytes.len()].copy_from_slice(bytes);
    }

    /// Writes iovecs `(buf, len)` at `addr`.
    fn put_iovecs(&mut self, addr: u32, iovecs: &[(u32, u32)]) {
        for (i, (buf, len)) in iovecs.iter().enumerate() {
            let at = addr + 8 * i as u32;
            self.put(at, &buf.to_le_bytes());
            self.put(at + 4, &len.to_le_bytes());
        }
    }

    /// The NUL-terminated string at `addr`.
    fn c_str(&mut self, addr: u32) -> String {
        let mem = self.mem();
        let start = addr as usize;
        let len = mem[start..].iter().position(|&b| b == 0).unwrap();
        String::from_utf8(mem[start..start + len].to_vec()).unwrap()
    }
}

fn ctx() -> WasiCtx {
    WasiCtx::new(
        vec!["prog".into(), "hello world".into(), "".into(), "ü".into()],
        vec![
            ("HOME".into(), "/home/x".into()),
            ("EMPTY".into(), "".into()),
        ],
    )
}

#[test]
fn args_round_trip() {
    let mut g = Guest::new(ctx());
    assert_eq!(g.call("args_sizes_get", &[0, 4]), ESUCCESS);
    assert_eq!(g.u32_at(0), 4);
    // "prog\0" + "hello world\0" + "\0" + "ü\0" (two bytes of UTF-8)
    assert_eq!(g.u32_at(4), 5 + 12 + 1 + 3);
    assert_eq!(g.call("args_get", &[100, 200]), ESUCCESS);
    let pointers: Vec<u32> = (0..4).map(|i| g.u32_at(100 + 4 * i)).collect();
    assert_eq!(pointers, [200, 205, 217, 218]);
    let args: Vec<String> = pointers.iter().map(|&p| g.c_str(p)).collect();
    assert_eq!(args, ["prog", "hello world", "", "ü"]);
    // Nothing written past the end of the buffer.
    assert_eq!(g.mem()[221], 0);
    assert_eq!(g.mem()[220], 0);
    assert_eq!(g.mem()[219], 0xbc);
}

#[test]
fn environ_round_trip() {
    let mut g = Guest::new(ctx());
    assert_eq!(g.call("environ_sizes_get", &[8, 12]), ESUCCESS);
    assert_eq!(g.u32_at(8), 2);
    assert_eq!(g.u32_at(12), 13 + 7);
    assert_eq!(g.call("environ_get", &[1000, 2000]), ESUCCESS);
    let first = g.u32_at(1000);
    let second = g.u32_at(1004);
    assert_eq!((first, second), (2000, 2013));
    assert_eq!(g.c_str(first), "HOME=/home/x");
    assert_eq!(g.c_str(second), "EMPTY=");
}

#[test]
fn empty_args_and_environ() {
    let mut g = Guest::new(WasiCtx::new(vec![], vec![]));
    g.put(0, &[0xff; 8]);
    assert_eq!(g.call("args_sizes_get", &[0, 4]), ESUCCESS);
    assert_eq!((g.u32_at(0), g.u32_at(4)), (0, 0));
    assert_eq!(g.call("environ_sizes_get", &[0, 4]), ESUCCESS);
    assert_eq!((g.u32_at(0), g.u32_at(4)), (0, 0));
    // Zero-sized buffers at the very end of memory are fine.
    assert_eq!(g.call("args_get", &[MEM, MEM]), ESUCCESS);
    assert_eq!(g.call("environ_get", &[MEM, MEM]), ESUCCESS);
}

#[test]
fn bad_pointers_give_efault() {
    let mut g = Guest::new(ctx());
    // Results that would straddle or pass the end of memory.
    assert_eq!(g.call("args_sizes_get", &[MEM - 2, 0]), EFAULT);
    assert_eq!(g.call("args_sizes_get", &[0, MEM]), EFAULT);
    assert_eq!(g.call("environ_sizes_get", &[u32::MAX, 0]), EFAULT);
    // The pointer array (16 bytes) or the string buffer (21 bytes) does
    // not fit.
    assert_eq!(g.call("args_get", &[MEM - 12, 0]), EFAULT);
    assert_eq!(g.call("args_get", &[0, MEM - 20]), EFAULT);
    assert_eq!(g.call("environ_get", &[0, u32::MAX - 3]), EFAULT);
    let args = [Val::I32(1), Val::I64(0), Val::I32((MEM - 7) as i32)];
    assert_eq!(g.call_vals("clock_time_get", &args), EFAULT);
    assert_eq!(g.call("clock_res_get", &[1, MEM - 4]), EFAULT);
    assert_eq!(g.call("fd_fdstat_get", &[1, MEM - 23]), EFAULT);
    // A buffer whose end wraps around 32 bits.
    assert_eq!(g.call("random_get", &[16, u32::MAX]), EFAULT);
    assert_eq!(g.call("random_get", &[MEM - 1, 2]), EFAULT);
    // Nothing was written by any of them.
    assert!(g.mem().iter().all(|&b| b == 0));
}

#[test]
fn fd_write_gathers_iovecs() {
    let out = Capture::default();
    let err = Capture::default();
    let mut ctx = ctx();
    ctx.set_stdout(out.clone());
    ctx.set_stderr(err.clone());
    let mut g = Guest::new(ctx);
    g.put(100, b"Hello, ");
    g.put(200, b"world!\n");
    g.put_iovecs(16, &[(100, 7), (300, 0), (200, 7)]);
    assert_eq!(g.call("fd_write", &[1, 16, 3, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 14);
    assert_eq!(out.contents(), b"Hello, world!\n");
    assert_eq!(g.call("fd_write", &[2, 16, 1, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 7);
    assert_eq!(err.contents(), b"Hello, ");
    // No iovecs at all.
    assert_eq!(g.call("fd_write", &[1, 16, 0, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 0);
    assert_eq!(out.contents(), b"Hello, world!\n");
}

#[test]
fn fd_write_checks_everything_before_writing() {
    let out = Capture::default();
    let mut ctx = ctx();
    ctx.set_stdout(out.clone());
    let mut g = Guest::new(ctx);
    g.put(100, b"abc");
    // The second buffer runs past the end of memory.
    g.put_iovecs(16, &[(100, 3), (MEM - 2, 3)]);
    assert_eq!(g.call("fd_write", &[1, 16, 2, 8]), EFAULT);
    // The iovec array runs past the end.
    assert_eq!(g.call("fd_write", &[1, MEM - 8, 2, 8]), EFAULT);
    // So many iovecs that their size overflows 32 bits.
    assert_eq!(g.call("fd_write", &[1, 16, 0x2000_0001, 8]), EFAULT);
    // The result pointer is bad.
    g.put_iovecs(16, &[(100, 3)]);
    assert_eq!(g.call("fd_write", &[1, 16, 1, MEM - 3]), EFAULT);
    assert!(out.contents().is_empty());
    // Overlapping buffers are each written.
    g.put_iovecs(0x8000, &[(0, MEM), (0, MEM)]);
    assert_eq!(g.call("fd_write", &[1, 0x8000, 2, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 2 * MEM);
    assert_eq!(out.contents().len(), 2 * MEM as usize);
}

#[test]
fn fd_write_total_over_4_gib_is_einval() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
        (memory (export "memory") 10)
        (func (export "fd_write") (param i32 i32 i32 i32) (result i32)
          (call $w (local.get 0) (local.get 1) (local.get 2) (local.get 3))))"#;
    let out = Capture::default();
    let mut ctx = ctx();
    ctx.set_stdout(out.clone());
    let mut g = Guest::with_module(wat, ctx).unwrap();
    // 65537 iovecs each covering 64 KiB overlap to 4 GiB + 64 KiB.
    let count = 65537;
    let iovecs: Vec<(u32, u32)> = (0..count).map(|_| (0, MEM)).collect();
    g.put_iovecs(MEM, &iovecs);
    assert_eq!(g.call("fd_write", &[1, MEM, count, 8]), EINVAL);
    assert!(out.contents().is_empty());
}

#[test]
fn fd_write_and_read_on_wrong_fds() {
    let out = Capture::default();
    let mut ctx = ctx();
    ctx.set_stdout(out.clone());
    ctx.set_stdin(io::empty());
    let mut g = Guest::new(ctx);
    g.put(100, b"abc");
    g.put_iovecs(16, &[(100, 3)]);
    for fd in [0, 3, 4, 1000, u32::MAX] {
        assert_eq!(g.call("fd_write", &[fd, 16, 1, 8]), EBADF, "fd_write {fd}");
    }
    for fd in [1, 2, 3, u32::MAX] {
        assert_eq!(g.call("fd_read", &[fd, 16, 1, 8]), EBADF, "fd_read {fd}");
    }
    assert!(out.contents().is_empty());
}

#[test]
fn fd_read_reads_once_into_first_nonempty_buffer() {
    let mut ctx = ctx();
    ctx.set_stdin(Chunked {
        data: b"first line\nsecond".to_vec(),
        pos: 0,
        chunk: 11,
    });
    let mut g = Guest::new(ctx);
    // Like wasi-libc's getchar: an empty buffer, then the FILE's buffer.
    g.put_iovecs(16, &[(100, 0), (200, 64)]);
    assert_eq!(g.call("fd_read", &[0, 16, 2, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 11);
    assert_eq!(&g.mem()[200..211], b"first line\n");
    // A short buffer first: only it is filled.
    g.put_iovecs(16, &[(300, 3), (400, 64)]);
    assert_eq!(g.call("fd_read", &[0, 16, 2, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 3);
    assert_eq!(&g.mem()[300..303], b"sec");
    assert_eq!(g.mem()[400], 0);
    g.put_iovecs(16, &[(300, 64)]);
    assert_eq!(g.call("fd_read", &[0, 16, 1, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 3);
    assert_eq!(&g.mem()[300..303], b"ond");
    // End of file.
    g.put(8, &[0xff; 4]);
    assert_eq!(g.call("fd_read", &[0, 16, 1, 8]), ESUCCESS);
    assert_eq!(g.u32_at(8), 0);
    // Bad buffers.
    g.put_iovecs(16, &[(300, 64), (MEM - 1, 2)]);
    assert_eq!(g.call("fd_read", &[0, 16, 2, 8]), EFAULT);
    g.put_iovecs(16, &[(300, 64)]);
    assert_eq!(g.call("fd_read", &[0, 16, 1, MEM]), EFAULT);
}

#[test]
fn fd_close_closes_for_the_guest() {
    let out = Capture::default();
    let mut ctx = ctx();
    ctx.set_stdout(out.clone());
    let mut g = Guest::new(ctx);
    g.put(100, b"x");
    g.put_iovecs(16, &[(100, 1)]);
    assert_eq!(g.call("fd_write", &[1, 16, 1, 8]), ESUCCESS);
    assert_eq!(g.call("fd_close", &[1]), ESUCCESS);
    assert_eq!(g.call("fd_close", &[1]), EBADF);
    assert_eq!(g.call("fd_write", &[1, 16, 1, 8]), EBADF);
    assert_eq!(g.call("fd_fdstat_get", &[1, 32]), EBADF);
    assert_eq!(g.call("fd_close", &[3]), EBADF);
    assert_eq!(out.contents(), b"x");
    // The host can reconnect it.
    g.store.data_mut().set_stdout(out.clone());
    assert_eq!(g.call("fd_write", &[1, 16, 1, 8]), ESUCCESS);
    assert_eq!(out.contents(), b"xx");
}

#[test]
fn fd_seek_on_stdio_is_espipe() {
    let mut g = Guest::new(ctx());
    for fd in [0, 1, 2] {
        let args = [Val::I32(fd), Val::I64(0), Val::I32(1), Val::I32(8)];
        assert_eq!(g.call_vals("fd_seek", &args), ESPIPE);
    }
    let args = [Val::I32(3), Val::I64(0), Val::I32(0), Val::I32(8)];
    assert_eq!(g.call_vals("fd_seek", &args), EBADF);
}

#[test]
fn fd_fdstat_get_layout() {
    let mut ctx = ctx();
    ctx.set_stdin(io::empty());
    ctx.set_stdout(Capture::default());
    let mut g = Guest::new(ctx);
    const FD_READ: u64 = 1 << 1;
    const FD_SEEK: u64 = 1 << 2;
    const FD_TELL: u64 = 1 << 5;
    const FD_WRITE: u64 = 1 << 6;
    g.put(0, &[0xaa; 64]);
    assert_eq!(g.call("fd_fdstat_get", &[0, 8]), ESUCCESS);
    // Bytes 0..8 and 32.. are untouched.
    assert_eq!(&g.mem()[0..8], &[0xaa; 8]);
    assert_eq!(&g.mem()[32..64], &[0xaa; 32]);
    // A reader given by the host is not a terminal: filetype unknown.
    assert_eq!(g.mem()[8], 0);
    // Padding and fs_flags are zeroed.
    assert_eq!(&g.mem()[9..16], &[0; 7]);
    let base = g.u64_at(16);
    assert_ne!(base & FD_READ, 0);
    assert_eq!(base & (FD_WRITE | FD_SEEK | FD_TELL), 0);
    assert_eq!(g.u64_at(24), 0);
    assert_eq!(g.call("fd_fdstat_get", &[1, 8]), ESUCCESS);
    let base = g.u64_at(16);
    assert_ne!(base & FD_WRITE, 0);
    assert_eq!(base & (FD_READ | FD_SEEK | FD_TELL), 0);
    // The host's stderr: a character device exactly when it is a terminal.
    assert_eq!(g.call("fd_fdstat_get", &[2, 8]), ESUCCESS);
    let tty = std::io::IsTerminal::is_terminal(&io::stderr());
    assert_eq!(g.mem()[8], if tty { 2 } else { 0 });
    assert_eq!(g.call("fd_fdstat_get", &[3, 8]), EBADF);
}

#[test]
fn no_preopens() {
    let mut g = Guest::new(ctx());
    for fd in [0, 1, 2, 3, 4] {
        assert_eq!(g.call("fd_prestat_get", &[fd, 8]), EBADF);
        assert_eq!(g.call("fd_prestat_dir_name", &[fd, 16, 8]), EBADF);
    }
}

#[test]
fn proc_exit_unwinds_with_status() {
    for status in [0, 1, 42, 255] {
        let mut g = Guest::new(ctx());
        match g.try_call("proc_exit", &[Val::I32(status)]) {
            Err(Error::Exit(s)) => assert_eq!(s, status),
            other => panic!("expected exit {status}, got {other:?}"),
        }
        // The code after the call did not run.
        let after = g.instance.get_global(&mut g.store, "after_exit").unwrap();
        assert_eq!(after.get(&g.store).i32(), Some(0));
        // The store is still usable.
        assert_eq!(g.call("sched_yield", &[]), ESUCCESS);
    }
}

#[test]
fn clocks() {
    let mut g = Guest::new(ctx());
    // Monotonic time never goes back.
    let mut last = 0;
    for _ in 0..100 {
        let args = [Val::I32(1), Val::I64(1), Val::I32(8)];
        assert_eq!(g.call_vals("clock_time_get", &args), ESUCCESS);
        let now = g.u64_at(8);
        assert!(now >= last, "monotonic clock went from {last} to {now}");
        last = now;
    }
    std::thread::sleep(std::time::Duration::from_millis(5));
    let args = [Val::I32(1), Val::I64(0), Val::I32(8)];
    assert_eq!(g.call_vals("clock_time_get", &args), ESUCCESS);
    assert!(g.u64_at(8) >= last + 5_000_000);
    // Real time agrees with the host's.
    let args = [Val::I32(0), Val::I64(1000), Val::I32(8)];
    assert_eq!(g.call_vals("clock_time_get", &args), ESUCCESS);
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(host.abs_diff(g.u64_at(8)) < 10_000_000_000);
    // CPU-time clocks work too.
    for id in [2, 3] {
        let args = [Val::I32(id), Val::I64(0), Val::I32(8)];
        assert_eq!(g.call_vals("clock_time_get", &args), ESUCCESS);
        assert!(g.u64_at(8) > 0);
    }
    for id in 0..4 {
        g.put(16, &[0; 8]);
        assert_eq!(g.call("clock_res_get", &[id, 16]), ESUCCESS);
        let res = g.u64_at(16);
        assert!(res > 0 && res <= 1_000_000_000, "resolution {res}");
    }
    // Unknown clocks.
    let args = [Val::I32(4), Val::I64(0), Val::I32(8)];
    assert_eq!(g.call_vals("clock_time_get", &args), EINVAL);
    assert_eq!(g.call("clock_res_get", &[u32::MAX, 8]), EINVAL);
}

#[test]
fn random_get_fills_bytes() {
    let mut g = Guest::new(ctx());
    assert_eq!(g.call("random_get", &[128, 64]), ESUCCESS);
    // 512 random bits are all zero with negligible probability.
    assert!(g.mem()[128..192].iter().any(|&b| b != 0));
    assert!(g.mem()[..128].iter().all(|&b| b == 0));
    assert!(g.mem()[192..].iter().all(|&b| b == 0));
    // Zero bytes, and the whole memory.
    assert_eq!(g.call("random_get", &[MEM, 0]), ESUCCESS);
    assert_eq!(g.call("random_get", &[0, MEM]), ESUCCESS);
    let zeros = g.mem().iter().filter(|&&b| b == 0).count();
    assert!(zeros < 1024, "{zeros} zero bytes in 64 KiB of random data");
}

#[test]
fn sched_yield_succeeds() {
    let mut g = Guest::new(ctx());
    assert_eq!(g.call("sched_yield", &[]), ESUCCESS);
}

#[test]
fn unsupported_imports_stay_undefined() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "sock_open"
            (func (param i32 i32 i32) (result i32))))"#;
    let err = Guest::with_module(wat, ctx()).err().unwrap();
    assert_eq!(
        err.to_string(),
        "unknown import: `wasi_snapshot_preview1::sock_open` has not been defined"
    );
}

#[test]
fn wrong_signature_fails_to_link() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32) (result i32))))"#;
    let err = Guest::with_module(wat, ctx()).err().unwrap();
    assert!(matches!(err, Error::Link(_)), "{err}");
}

#[test]
fn module_without_memory_gets_a_clear_error() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "args_sizes_get" (func $f (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
        (func (export "sizes") (result i32) (call $f (i32.const 0) (i32.const 4)))
        (func (export "close") (result i32) (call $close (i32.const 1))))"#;
    let mut g = Guest::with_module(wat, ctx()).unwrap();
    let err = g.try_call("sizes", &[]).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, Error::Host(_)), "{message}");
    assert!(
        message.contains("args_sizes_get") && message.contains("`memory`"),
        "{message}"
    );
    // Functions that need no memory still work.
    assert_eq!(g.try_call("close", &[]).unwrap()[0].i32(), Some(ESUCCESS));
}

#[test]
fn memory_export_that_is_not_a_memory() {
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $f (param i32 i32) (result i32)))
        (memory 1)
        (global (export "memory") i32 (i32.const 0))
        (func (export "run") (result i32) (call $f (i32.const 0) (i32.const 4))))"#;
    let mut g = Guest::with_module(wat, ctx()).unwrap();
    let err = g.try_call("run", &[]).unwrap_err();
    assert!(err.to_string().contains("not a memory"), "{err}");
}

#[test]
fn calls_from_the_host_have_no_memory() {
    // An imported function re-exported and called directly by the host
    // has no calling instance, so no memory to work on.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "random_get" (func $f (param i32 i32) (result i32)))
        (memory (export "memory") 1)
        (export "random_get" (func $f)))"#;
    let mut g = Guest::with_module(wat, ctx()).unwrap();
    let err = g
        .try_call("random_get", &[Val::I32(0), Val::I32(4)])
        .unwrap_err();
    assert!(matches!(err, Error::Host(_)), "{err}");
}

#[test]
fn guest_program_end_to_end() {
    // What a C `main` compiles to, by hand: read the arguments, write
    // them to stdout one per line, then exit with argc.
    let wat = r#"(module
        (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 64) "\n")
        (func $strlen (param $p i32) (result i32) (local $n i32)
          (block $done (loop $next
            (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (br $next)))
          (local.get $n))
        (func (export "_start") (local $i i32) (local $argc i32) (local $p i32)
          (drop (call $sizes (i32.const 0) (i32.const 4)))
          (local.set $argc (i32.load (i32.const 0)))
          (drop (call $args (i32.const 1024) (i32.const 4096)))
          (block $done (loop $next
            (br_if $done (i32.ge_u (local.get $i) (local.get $argc)))
            (local.set $p (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
            ;; iovecs at 16: the argument, then "\n"
            (i32.store (i32.const 16) (local.get $p))
            (i32.store (i32.const 20) (call $strlen (local.get $p)))
            (i32.store (i32.const 24) (i32.const 64))
            (i32.store (i32.const 28) (i32.const 1))
            (drop (call $write (i32.const 1) (i32.const 16) (i32.const 2) (i32.const 8)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
          (call $exit (local.get $argc))
          unreachable))"#;
    let out = Capture::default();
    let mut ctx = WasiCtx::new(vec!["echo".into(), "a b".into(), "c".into()], vec![]);
    ctx.set_stdout(out.clone());
    let mut g = Guest::with_module(wat, ctx).unwrap();
    match g.try_call("_start", &[]) {
        Err(Error::Exit(3)) => {}
        other => panic!("expected exit 3, got {other:?}"),
    }
    assert_eq!(out.contents(), b"echo\na b\nc\n");
}

/// A module that imports `functions` (name, wasm parameter types) and
/// exports a wrapper of the same name for each.
fn wrappers_of(functions: &[(&str, &str)]) -> String {
    let mut wat = String::from("(module\n");
    for (name, params) in functions {
        wat += &format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {params}) (result i32)))\n"
        );
    }
    wat += "(memory (export \"memory\") 1)\n";
    for (name, params) in functions {
        let gets: String = (0..params.split_whitespace().count())
            .map(|i| format!("(local.get {i})"))
            .collect();
        wat += &format!(
            "(func (export \"{name}\") (param {params}) (result i32) (call ${name} {gets}))\n"
        );
    }
    wat + ")"
}

const ENOTSOCK: i32 = 57;
const EAGAIN: i32 = 6;
const EPERM: i32 = 63;
const EEXIST: i32 = 20;
const ENOTDIR: i32 = 54;

/// Writes a subscription at `at`: `(userdata, tag, fd-or-clock-id,
/// timeout, flags)`.
fn put_subscription(
    g: &mut Guest,
    at: u32,
    userdata: u64,
    tag: u8,
    id: u32,
    timeout: u64,
    flags: u16,
) {
    let mut sub = [0u8; 48];
    sub[0..8].copy_from_slice(&userdata.to_le_bytes());
    sub[8] = tag;
    sub[16..20].copy_from_slice(&id.to_le_bytes());
    sub[24..32].copy_from_slice(&timeout.to_le_bytes());
    sub[40..42].copy_from_slice(&flags.to_le_bytes());
    g.put(at, &sub);
}

/// The events `poll_oneoff` wrote at `at`: `(userdata, error, type,
/// nbytes, flags)`.
fn events(g: &mut Guest, at: u32, n: u32) -> Vec<(u64, u16, u8, u64, u16)> {
    (0..n)
        .map(|i| {
            let e = at + 32 * i;
            let m = g.mem();
            let e = e as usize;
            (
                u64::from_le_bytes(m[e..e + 8].try_into().unwrap()),
                u16::from_le_bytes(m[e + 8..e + 10].try_into().unwrap()),
                m[e + 10],
                u64::from_le_bytes(m[e + 16..e + 24].try_into().unwrap()),
                u16::from_le_bytes(m[e + 24..e + 26].try_into().unwrap()),
            )
        })
        .collect()
}

fn poll(g: &mut Guest, subs: u32, out: u32, n: u32) -> Vec<(u64, u16, u8, u64, u16)> {
    assert_eq!(g.call("poll_oneoff", &[subs, out, n, 8]), ESUCCESS);
    let count = g.u32_at(8);
    events(g, out, count)
}

const SOCKET_CALLS: &[(&str, &str)] = &[
    ("sock_accept", "i32 i32 i32"),
    ("sock_recv", "i32 i32 i32 i32 i32 i32"),
    ("sock_send", "i32 i32 i32 i32 i32"),
    ("sock_shutdown", "i32 i32"),
    ("poll_oneoff", "i32 i32 i32 i32"),
    ("fd_fdstat_get", "i32 i32"),
    ("fd_fdstat_set_flags", "i32 i32"),
    ("fd_read", "i32 i32 i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_close", "i32"),
];

#[test]
fn sockets_accept_receive_send_and_shut_down() {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut ctx = ctx();
    assert_eq!(ctx.preopen_listener(listener).unwrap(), 3);
    let mut g = Guest::with_module(&wrappers_of(SOCKET_CALLS), ctx).unwrap();

    // A listener is no preopened directory: wasi-libc stops looking there.
    assert_eq!(g.call("fd_prestat_get", &[3, 16]), EBADF);
    // Non-blocking, as Wasmtime preopens it: nothing to accept yet.
    assert_eq!(g.call("sock_accept", &[3, 0, 16]), EAGAIN);
    assert_eq!(g.call("fd_fdstat_get", &[3, 64]), ESUCCESS);
    assert_eq!(g.mem()[64], 6, "a socket stream");
    assert_eq!(g.mem()[66] & 4, 4, "non-blocking");

    let mut client = TcpStream::connect(addr).unwrap();
    // The listener becomes readable.
    put_subscription(&mut g, 1024, 7, 1, 3, 0, 0);
    assert_eq!(poll(&mut g, 1024, 2048, 1), vec![(7, 0, 1, 0, 0)]);
    assert_eq!(g.call("sock_accept", &[3, 0, 16]), ESUCCESS);
    let conn = g.u32_at(16);
    assert_eq!(conn, 4);

    // Nothing to read: a 10 ms clock fires first.
    put_subscription(&mut g, 1024, 1, 1, conn, 0, 0);
    put_subscription(&mut g, 1072, 2, 0, 1, 10_000_000, 0);
    let before = std::time::Instant::now();
    assert_eq!(poll(&mut g, 1024, 2048, 2), vec![(2, 0, 0, 0, 0)]);
    assert!(before.elapsed() >= std::time::Duration::from_millis(10));

    client.write_all(b"ping").unwrap();
    let ready = poll(&mut g, 1024, 2048, 1);
    assert_eq!(ready, vec![(1, 0, 1, 4, 0)], "four bytes readable");
    // Peek, then receive, into two iovecs (only the first is filled).
    g.put_iovecs(32, &[(512, 3), (600, 16)]);
    assert_eq!(g.call("sock_recv", &[conn, 32, 2, 1, 48, 52]), ESUCCESS);
    assert_eq!((g.u32_at(48), &g.mem()[512..515]), (3, &b"pin"[..]));
    assert_eq!(g.call("sock_recv", &[conn, 32, 2, 0, 48, 52]), ESUCCESS);
    assert_eq!(g.u32_at(48), 3);
    assert_eq!(g.call("sock_recv", &[conn, 32, 2, 0, 48, 52]), ESUCCESS);
    assert_eq!((g.u32_at(48), g.mem()[512]), (1, b'g'));

    g.put(700, b"pong");
    g.put_iovecs(40, &[(700, 2), (702, 2)]);
    assert_eq!(g.call("sock_send", &[conn, 40, 2, 0, 48]), ESUCCESS);
    assert_eq!(g.u32_at(48), 4);
    let mut got = [0u8; 4];
    client.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"pong");
    // fd_write works on a connection too.
    assert_eq!(g.call("fd_write", &[conn, 40, 1, 48]), ESUCCESS);
    client.read_exact(&mut got[..2]).unwrap();
    assert_eq!(&got[..2], b"po");

    // Blocking by default; switched to non-blocking, an empty socket
    // says EAGAIN.
    assert_eq!(g.call("fd_fdstat_get", &[conn, 64]), ESUCCESS);
    assert_eq!(g.mem()[66] & 4, 0);
    assert_eq!(g.call("fd_fdstat_set_flags", &[conn, 4]), ESUCCESS);
    assert_eq!(g.call("sock_recv", &[conn, 32, 1, 0, 48, 52]), EAGAIN);
    assert_eq!(g.call("fd_read", &[conn, 32, 1, 48]), EAGAIN);

    // Shutting down the writing side: the client reads end of file.
    assert_eq!(g.call("sock_shutdown", &[conn, 2]), ESUCCESS);
    assert_eq!(client.read(&mut got).unwrap(), 0);
    // The client hangs up: readable (end of file) or hung up.
    drop(client);
    let ready = poll(&mut g, 1024, 2048, 1);
    assert_eq!(ready.len(), 1);
    assert_eq!(g.call("sock_recv", &[conn, 32, 1, 0, 48, 52]), ESUCCESS);
    assert_eq!(g.u32_at(48), 0);

    // Socket calls on what is not a connection.
    assert_eq!(g.call("sock_recv", &[1, 32, 1, 0, 48, 52]), ENOTSOCK);
    assert_eq!(g.call("sock_send", &[3, 40, 1, 0, 48]), 53, "ENOTCONN");
    assert_eq!(g.call("sock_accept", &[conn, 0, 16]), EINVAL);
    assert_eq!(g.call("sock_shutdown", &[conn, 9]), EINVAL);
    assert_eq!(g.call("fd_close", &[conn]), ESUCCESS);
    assert_eq!(g.call("sock_recv", &[conn, 32, 1, 0, 48, 52]), EBADF);
}

#[test]
fn poll_oneoff_clocks_and_errors() {
    let mut g = Guest::with_module(&wrappers_of(SOCKET_CALLS), ctx()).unwrap();
    // No subscriptions would wait forever.
    assert_eq!(g.call("poll_oneoff", &[1024, 2048, 0, 8]), EINVAL);
    // An absolute monotonic deadline in the past fires at once; a bad
    // descriptor is an event with EBADF; a relative hour does not fire.
    put_subscription(&mut g, 1024, 10, 0, 1, 1, 1);
    put_subscription(&mut g, 1072, 11, 1, 99, 0, 0);
    put_subscription(&mut g, 1120, 12, 0, 1, 3_600_000_000_000, 0);
    let ready = poll(&mut g, 1024, 2048, 3);
    assert_eq!(ready, vec![(10, 0, 0, 0, 0), (11, EBADF as u16, 1, 0, 0)]);
    // A stream the embedder gave is always ready.
    put_subscription(&mut g, 1024, 13, 2, 1, 0, 0);
    let mut ctx = ctx();
    ctx.set_stdout(Capture::default());
    let mut g2 = Guest::with_module(&wrappers_of(SOCKET_CALLS), ctx).unwrap();
    put_subscription(&mut g2, 1024, 13, 2, 1, 0, 0);
    assert_eq!(poll(&mut g2, 1024, 2048, 1), vec![(13, 0, 2, 0, 0)]);
    // An unknown subscription tag; the event array outside memory.
    put_subscription(&mut g, 1024, 14, 9, 0, 0, 0);
    assert_eq!(g.call("poll_oneoff", &[1024, 2048, 1, 8]), EINVAL);
    assert_eq!(g.call("poll_oneoff", &[1024, MEM - 16, 1, 8]), EFAULT);
}

#[test]
fn proc_raise_is_not_supported_as_in_wasmtime() {
    let mut g = Guest::with_module(&wrappers_of(&[("proc_raise", "i32")]), ctx()).unwrap();
    assert_eq!(g.call("proc_raise", &[15]), 58, "ENOTSUP");
}

const FILE_CALLS: &[(&str, &str)] = &[
    ("path_open", "i32 i32 i32 i32 i32 i64 i64 i32 i32"),
    ("fd_allocate", "i32 i64 i64"),
    ("fd_filestat_get", "i32 i32"),
    ("fd_renumber", "i32 i32"),
    ("fd_tell", "i32 i32"),
    ("fd_write", "i32 i32 i32 i32"),
    ("fd_prestat_get", "i32 i32"),
    ("fd_prestat_dir_name", "i32 i32 i32"),
    ("fd_readdir", "i32 i32 i32 i64 i32"),
    ("path_create_directory", "i32 i32 i32"),
];

#[test]
fn files_in_a_preopened_directory() {
    let dir = std::env::temp_dir().join(format!("swy-wasi-engine-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut ctx = ctx();
    assert_eq!(ctx.preopen_dir(&dir, "/sandbox").unwrap(), 3);
    let mut g = Guest::with_module(&wrappers_of(FILE_CALLS), ctx).unwrap();
    assert_eq!(g.call("fd_prestat_get", &[3, 16]), ESUCCESS);
    assert_eq!((g.mem()[16], g.u32_at(20)), (0, 8));
    assert_eq!(
        g.call("fd_prestat_dir_name", &[3, 32, 7]),
        37,
        "ENAMETOOLONG"
    );
    assert_eq!(g.call("fd_prestat_dir_name", &[3, 32, 8]), ESUCCESS);
    assert_eq!(&g.mem()[32..40], b"/sandbox");
    assert_eq!(g.call("fd_prestat_get", &[4, 16]), EBADF);

    // path_open(3, 0, "f", CREAT|EXCL, write rights, 0, 0, &fd)
    g.put(100, b"f");
    let open = |g: &mut Guest, path_len: u32, oflags: u32| {
        g.call_vals(
            "path_open",
            &[
                Val::I32(3),
                Val::I32(0),
                Val::I32(100),
                Val::I32(path_len as i32),
                Val::I32(oflags as i32),
                Val::I64(1 << 6 | 1 << 8),
                Val::I64(0),
                Val::I32(0),
                Val::I32(16),
            ],
        )
    };
    assert_eq!(open(&mut g, 1, 1 | 4), ESUCCESS);
    let fd = g.u32_at(16);
    assert_eq!(fd, 4);
    assert_eq!(open(&mut g, 1, 1 | 4), EEXIST);
    let allocate = [Val::I32(fd as i32), Val::I64(0), Val::I64(1000)];
    assert_eq!(g.call_vals("fd_allocate", &allocate), ESUCCESS);
    assert_eq!(g.call("fd_filestat_get", &[fd, 200]), ESUCCESS);
    assert_eq!(
        (g.mem()[216], g.u64_at(232)),
        (4, 1000),
        "a 1000-byte regular file"
    );
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().len(), 1000);
    // Renumbered over another open descriptor; the old number is closed.
    g.put(100, b"g");
    assert_eq!(open(&mut g, 1, 1), ESUCCESS);
    let other = g.u32_at(16);
    assert_eq!(g.call("fd_renumber", &[fd, other]), ESUCCESS);
    assert_eq!(g.call("fd_tell", &[fd, 24]), EBADF);
    assert_eq!(g.call("fd_tell", &[other, 24]), ESUCCESS);
    assert_eq!(g.call("fd_renumber", &[other, 99]), EBADF);
    // Escapes and misuse.
    g.put(100, b"../x");
    assert_eq!(open(&mut g, 4, 1), EPERM);
    assert!(!dir.parent().unwrap().join("x").exists());
    g.put(100, b"/etc");
    assert_eq!(g.call("path_create_directory", &[3, 100, 4]), EPERM);
    g.put(100, b"f/y");
    assert_eq!(open(&mut g, 3, 1), ENOTDIR);
    assert_eq!(g.call("path_create_directory", &[other, 100, 1]), ENOTDIR);
    // A listing: ".", "..", "f", "g" (in the host's order after the dots).
    let readdir = [
        Val::I32(3),
        Val::I32(300),
        Val::I32(1000),
        Val::I64(0),
        Val::I32(24),
    ];
    assert_eq!(g.call_vals("fd_readdir", &readdir), ESUCCESS);
    let used = g.u32_at(24);
    let mut names = Vec::new();
    let mut at = 300;
    while at < 300 + used {
        let len = g.u32_at(at + 16);
        names.push(
            String::from_utf8(g.mem()[(at + 24) as usize..][..len as usize].to_vec()).unwrap(),
        );
        at += 24 + len;
    }
    assert_eq!(&names[..2], [".", ".."]);
    names.sort();
    assert_eq!(names, [".", "..", "f", "g"]);
    // Resuming after the third entry gives the fourth only; a small
    // buffer is filled to the brim, which says there is more.
    let resume = [
        Val::I32(3),
        Val::I32(300),
        Val::I32(1000),
        Val::I64(3),
        Val::I32(24),
    ];
    assert_eq!(g.call_vals("fd_readdir", &resume), ESUCCESS);
    assert_eq!(g.u32_at(24), 25);
    let small = [
        Val::I32(3),
        Val::I32(300),
        Val::I32(30),
        Val::I64(0),
        Val::I32(24),
    ];
    assert_eq!(g.call_vals("fd_readdir", &small), ESUCCESS);
    assert_eq!(g.u32_at(24), 30);
    let _ = std::fs::remove_dir_all(&dir);
}
