//! Real processes: stopping a running Switchyard program with ptrace and
//! letting it go, reading core files of one (from gdb and from the kernel),
//! and refusing garbage.
//!
//! The readers are the `switchyard-unwind` crate's; the tests live with the
//! `switchyard` binary so that they run the one cargo built for this test
//! run (a test that ran `cargo build -p switchyard` itself resolved other
//! features than `cargo test --workspace` and rebuilt half the tree, four
//! minutes of a fresh CI run).
//!
//! Tests that cannot run here (no ptrace permission, no gdb) print why and
//! pass, unless the environment variable `CI` is set: then they fail.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use switchyard_unwind::core::{CoreError, CoreFile};
use switchyard_unwind::elf::{self, ElfError, FileMapping};
use switchyard_unwind::ptrace::{PtraceError, StoppedProcess, ThreadRegisters};
use switchyard_unwind::{Memory, ProcessMemory};

/// Prints "ready" from inside a continuation, then (still inside it) blocks
/// reading stdin, and echoes what it read.
const ECHO_WAT: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (type $ft (func))
  (type $ct (cont $ft))
  (memory (export "memory") 1)
  (data (i32.const 64) "ready\n")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $echo
    (call $write (i32.const 64) (i32.const 6))
    (i32.store (i32.const 16) (i32.const 128))
    (i32.store (i32.const 20) (i32.const 64))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (call $write (i32.const 128) (i32.load (i32.const 24))))
  (elem declare func $echo)
  (func (export "_start")
    (resume $ct (cont.new $ct (ref.func $echo)))))
"#;

// Layout of the registry (docs/registry.md).
const HEADER_MIN_SIZE: usize = 48;
const HEADER_STORES: u64 = 32;
const STORE_CONTEXT: u64 = 8;
const CONTEXT_CURRENT_CONT: u64 = 40;
const RECORD_STATE: u64 = 4;
const RECORD_STACK_LOW: u64 = 16;
const RECORD_STACK_HIGH: u64 = 24;
const STATE_RUNNING: u32 = 1;

// ---------------------------------------------------------------------------
// Harness

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// `Some(value)`, or `None` after printing why the test cannot run (a
/// failure under CI).
fn need<T>(r: Result<T, String>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(reason) if in_ci() => panic!("cannot run this test (CI is set): {reason}"),
        Err(reason) => {
            // Straight to stderr: libtest would hide eprintln!'s output.
            let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
            None
        }
    }
}

/// The `switchyard` binary cargo built for this test run.
fn switchyard_bin() -> Result<PathBuf, String> {
    Ok(PathBuf::from(env!("CARGO_BIN_EXE_switchyard")))
}

/// A program in `$PATH`.
fn in_path(name: &str) -> Result<PathBuf, String> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} is not installed"))
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "switchyard-unwind-{what}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process whose stdin we hold and whose stdout lines arrive on a
/// channel; killed if still running when dropped.
struct Guest {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    _dir: TempDir,
}

impl Guest {
    /// Starts `command` (whose stdin and stdout become pipes) and waits for
    /// it to print `ready`.
    fn start(mut command: Command, dir: TempDir) -> Guest {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning the child");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut guest = Guest {
            child,
            stdin,
            lines,
            _dir: dir,
        };
        guest.expect_line("ready", Duration::from_secs(60));
        guest
    }

    /// Runs `switchyard run` on [`ECHO_WAT`], with `setup` applied to the
    /// command (its current directory is a fresh temporary directory).
    fn switchyard(bin: &Path, setup: impl FnOnce(&mut Command)) -> Guest {
        let dir = TempDir::new("guest");
        let wat = dir.path().join("echo.wat");
        std::fs::write(&wat, ECHO_WAT).unwrap();
        let mut command = Command::new(bin);
        command.arg("run").arg(&wat).current_dir(dir.path());
        setup(&mut command);
        Guest::start(command, dir)
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Waits for a line ending with `want` (skipping others; libtest may
    /// have started the line).
    fn expect_line(&mut self, want: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.trim_end().ends_with(want) => return,
                Ok(_) => {}
                Err(e) => {
                    let status = self.child.try_wait();
                    panic!("no `{want}` line from the child ({e}; child status {status:?})");
                }
            }
        }
    }

    /// Writes `input`, closes stdin, and waits (bounded) for the child to
    /// exit; returns its status and the rest of its output.
    fn finish(mut self, input: &str) -> (ExitStatus, Vec<String>) {
        let mut stdin = self.stdin.take().unwrap();
        stdin
            .write_all(input.as_bytes())
            .expect("writing to the child");
        drop(stdin);
        let deadline = Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "the child did not finish after its input"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut out = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            out.push(line);
        }
        (status, out)
    }
}

impl Drop for Guest {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One line of `/proc/PID/maps`, anonymous mappings included.
#[derive(Debug)]
struct Map {
    start: u64,
    end: u64,
    perms: String,
    name: String,
}

fn maps(pid: i32) -> Vec<Map> {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (s, e) = f[0].split_once('-').unwrap();
            Map {
                start: u64::from_str_radix(s, 16).unwrap(),
                end: u64::from_str_radix(e, 16).unwrap(),
                perms: f[1].to_owned(),
                name: f.get(5..).map(|n| n.join(" ")).unwrap_or_default(),
            }
        })
        .collect()
}

fn map_of(maps: &[Map], addr: u64) -> Option<&Map> {
    maps.iter().find(|m| m.start <= addr && addr < m.end)
}

/// The threads of process `pid`.
fn tasks(pid: i32) -> BTreeSet<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect()
}

/// A thread's state letter, from `/proc/PID/task/TID/stat`.
fn thread_state(pid: i32, tid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the state follows
    // the last ')'.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Waits until no thread of `pid` is in a tracing stop.
fn wait_until_running(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let traced: Vec<i32> = tasks(pid)
            .into_iter()
            .filter(|&t| thread_state(pid, t) == Some('t'))
            .collect();
        if traced.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "threads {traced:?} still stopped after detaching"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stops `pid`, or says why the test cannot run.
fn stop(pid: i32) -> Option<StoppedProcess> {
    match StoppedProcess::stop(pid) {
        Ok(s) => Some(s),
        Err(e @ (PtraceError::PermissionDenied { .. } | PtraceError::AlreadyTraced { .. })) => {
            need(Err(format!("ptrace is not available: {e}")))
        }
        Err(e) => panic!("stopping {pid}: {e}"),
    }
}

/// Registers that make sense in the light of the process's mappings.
fn check_registers(t: &ThreadRegisters, maps: &[Map]) {
    assert_eq!((t.rip, t.rsp, t.rbp), (t.gprs.rip, t.gprs.rsp, t.gprs.rbp));
    let stack = map_of(maps, t.rsp)
        .unwrap_or_else(|| panic!("thread {}: rsp {:#x} is not mapped", t.tid, t.rsp));
    assert!(
        stack.perms.starts_with("rw"),
        "thread {}: rsp in {stack:?}",
        t.tid
    );
    let code = map_of(maps, t.rip)
        .unwrap_or_else(|| panic!("thread {}: rip {:#x} is not mapped", t.tid, t.rip));
    assert!(
        code.perms.contains('x'),
        "thread {}: rip in {code:?}",
        t.tid
    );
    assert_eq!(
        t.rsp % 8,
        0,
        "thread {}: misaligned rsp {:#x}",
        t.tid,
        t.rsp
    );
}

/// What the registry says about the running continuation.
#[derive(Debug, PartialEq, Eq)]
struct RegistryView {
    header: Vec<u8>,
    record: u64,
    state: u32,
    stack: (u64, u64),
}

/// Reads the header, then the running continuation of the first store.
fn read_registry(mem: &dyn Memory, addr: u64) -> RegistryView {
    let header = mem
        .read_vec(addr, HEADER_MIN_SIZE)
        .expect("reading the registry header");
    assert_eq!(&header[0..4], b"SYWR", "registry magic");
    assert_eq!(
        u32::from_le_bytes(header[4..8].try_into().unwrap()),
        switchyard_unwind::registry::VERSION,
        "registry version"
    );
    let size = u32::from_le_bytes(header[8..12].try_into().unwrap()) as usize;
    assert!(
        (HEADER_MIN_SIZE..4096).contains(&size),
        "header_size {size}"
    );
    let mut header = mem
        .read_vec(addr, size)
        .expect("reading the whole registry header");
    // The coarse clock moves on while the process lives: not a difference
    // between a live read and a core of the same process.
    let clock = switchyard_registry_layout::offsets::header::CLOCK;
    header[clock..clock + 8].fill(0);
    let store = mem.read_u64(addr + HEADER_STORES).unwrap();
    assert_ne!(store, 0, "no store registered");
    let context = mem.read_u64(store + STORE_CONTEXT).unwrap();
    let record = mem.read_u64(context + CONTEXT_CURRENT_CONT).unwrap();
    assert_ne!(record, 0, "no continuation running");
    assert_eq!(
        &mem.read_vec(record, 4).unwrap()[..],
        b"SYWC",
        "record magic"
    );
    RegistryView {
        header,
        record,
        state: mem.read_u32(record + RECORD_STATE).unwrap(),
        stack: (
            mem.read_u64(record + RECORD_STACK_LOW).unwrap(),
            mem.read_u64(record + RECORD_STACK_HIGH).unwrap(),
        ),
    }
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---------------------------------------------------------------------------
// ptrace

/// A Switchyard program blocked in `fd_read` inside a continuation: stop
/// it, read its registers, stack and registry, let it go, and see it finish
/// its work.
#[test]
fn stop_a_switchyard_process_and_let_it_go() {
    let Some(bin) = need(switchyard_bin()) else {
        return;
    };
    let guest = Guest::switchyard(&bin, |_| {});
    let pid = guest.pid();
    let Some(stopped) = stop(pid) else { return };

    // Every thread is stopped, and we have each one's registers, the main
    // thread first.
    let threads = stopped.threads();
    assert_eq!(stopped.pid(), pid);
    assert_eq!(threads[0].tid, pid);
    assert_eq!(
        threads.iter().map(|t| t.tid).collect::<BTreeSet<_>>(),
        tasks(pid)
    );
    for t in threads {
        assert_eq!(
            thread_state(pid, t.tid),
            Some('t'),
            "thread {} not stopped",
            t.tid
        );
    }
    let maps = maps(pid);
    for t in threads {
        check_registers(t, &maps);
    }

    // Its memory: the stack at rsp, and the registry.
    let mem = stopped.memory();
    let main = threads[0];
    let words = mem
        .read_vec(main.rsp, 256)
        .expect("reading the stack at rsp");
    assert_eq!(words.len(), 256);
    let bias = elf::load_bias(pid, &bin).unwrap();
    let addr = elf::registry_address(&bin, bias).unwrap();
    let via_proc_exe = PathBuf::from(format!("/proc/{pid}/exe"));
    assert_eq!(elf::load_bias(pid, &via_proc_exe).unwrap(), bias);
    let view = read_registry(&mem, addr);
    assert_eq!(view.state, STATE_RUNNING);
    // The main thread runs host code (WASI fd_read) called from the
    // running continuation: its stack pointer is on the process's stack or
    // on that continuation's stack.
    let on_main_stack = map_of(&maps, main.rsp).is_some_and(|m| m.name == "[stack]");
    let on_cont_stack = (view.stack.0..view.stack.1).contains(&main.rsp);
    assert!(
        on_main_stack || on_cont_stack,
        "rsp {:#x} on neither the main stack nor the continuation's {:x?}",
        main.rsp,
        view.stack
    );
    eprintln!(
        "main thread rsp {:#x} is on the {} stack",
        main.rsp,
        if on_cont_stack {
            "continuation's"
        } else {
            "process's"
        }
    );

    drop(stopped);
    wait_until_running(pid);
    let (status, out) = guest.finish("hello\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, ["hello"]);
}

/// The walks `bt --pid` makes from a copy of the stacks taken while the
/// process was stopped, after letting it go, are the walks made from the
/// live memory while it was stopped, host frames included.
#[test]
fn walks_from_the_stacks_copied_while_stopped_match_the_live_ones() {
    use switchyard_unwind::report::{report_parked, report_threads};
    use switchyard_unwind::snapshot_memory::{SnapshotMemory, stack_spans};
    use switchyard_unwind::{CfiUnwinder, Limits, PageCachedMemory, Snapshot};

    let Some(bin) = need(switchyard_bin()) else {
        return;
    };
    let guest = Guest::switchyard(&bin, |_| {});
    let pid = guest.pid();
    let bias = elf::load_bias(pid, &bin).unwrap();
    let addr = elf::registry_address(&bin, bias).unwrap();
    let mappings = elf::process_mappings(pid).unwrap();
    let limits = Limits {
        max_frames: 1000,
        host_frames: true,
    };
    let Some(stopped) = stop(pid) else { return };
    let live = stopped.memory();
    let snapshot = Snapshot::read(&PageCachedMemory::new(&live), addr).unwrap();
    let threads = stopped.threads().to_vec();
    let spans = stack_spans(&snapshot, &threads);
    let copy = SnapshotMemory::copy(pid, &spans);
    let walks = |memory: &dyn Memory| {
        let mut cfi = CfiUnwinder::for_generated_code(memory, &snapshot);
        cfi.add_host_files(&mappings);
        let threads: Vec<_> = report_threads(memory, &snapshot, &cfi, &threads, limits)
            .into_iter()
            .map(|t| (t.tid, t.state, t.steps))
            .collect();
        let parked: Vec<_> = report_parked(memory, &snapshot, &cfi, limits)
            .into_iter()
            .map(|(r, steps)| (r.id, steps))
            .collect();
        (threads, parked)
    };
    let from_live = walks(&live);
    drop(stopped);
    wait_until_running(pid);
    let from_copy = walks(&copy);
    assert_eq!(from_copy, from_live);
    // The main thread's walk crosses from its continuation to the host.
    let main = &from_copy.0[0].2;
    assert!(main.len() > 3, "{main:?}");
    assert!(
        copy.copied_bytes() > 0 && copy.copied_bytes() <= spans.len() << 20,
        "{} bytes copied for {} spans",
        copy.copied_bytes(),
        spans.len()
    );
    let (status, out) = guest.finish("hello\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, ["hello"]);
}

/// A multi-threaded child (this test binary, running `helper_child`).
fn helper() -> Guest {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "helper_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SWITCHYARD_UNWIND_HELPER", "1");
    Guest::start(command, TempDir::new("helper"))
}

/// Not a test: the child of [`stop_every_thread`] and
/// [`stopping_with_a_short_timeout_leaves_no_trace`]. It starts sleeping
/// threads, says `ready`, and exits when its stdin closes.
#[test]
#[ignore = "run as a child process by other tests"]
fn helper_child() {
    if std::env::var_os("SWITCHYARD_UNWIND_HELPER").is_none() {
        return;
    }
    for _ in 0..3 {
        std::thread::spawn(|| {
            loop {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut rest).unwrap();
    println!("bye {}", rest.trim());
    std::io::stdout().flush().unwrap();
    std::process::exit(0);
}

#[test]
fn stop_every_thread() {
    let guest = helper();
    let pid = guest.pid();
    for round in 0..3 {
        let Some(stopped) = stop(pid) else { return };
        let tids: BTreeSet<i32> = stopped.threads().iter().map(|t| t.tid).collect();
        // libtest's main thread, the test's thread, three sleepers.
        assert!(tids.len() >= 5, "round {round}: {tids:?}");
        assert_eq!(tids, tasks(pid), "round {round}");
        let maps = maps(pid);
        for t in stopped.threads() {
            assert_eq!(thread_state(pid, t.tid), Some('t'));
            check_registers(t, &maps);
            stopped.memory().read_u64(t.rsp).unwrap();
        }
        drop(stopped);
        wait_until_running(pid);
    }
    let (status, out) = guest.finish("x");
    assert!(status.success(), "{status}");
    assert!(out.iter().any(|l| l.ends_with("bye x")), "{out:?}");
}

/// A timeout too short to see every thread stop is an error, and still
/// lets every thread go.
#[test]
fn stopping_with_a_short_timeout_leaves_no_trace() {
    let guest = helper();
    let pid = guest.pid();
    for _ in 0..10 {
        match StoppedProcess::stop_with_timeout(pid, Duration::ZERO) {
            Ok(s) => drop(s),
            Err(PtraceError::Timeout { pid: p, .. }) => assert_eq!(p, pid),
            Err(e @ PtraceError::PermissionDenied { .. }) => {
                need::<()>(Err(format!("ptrace is not available: {e}")));
                return;
            }
            Err(e) => panic!("{e}"),
        }
        wait_until_running(pid);
    }
    let (status, out) = guest.finish("y");
    assert!(status.success(), "{status}");
    assert!(out.iter().any(|l| l.ends_with("bye y")), "{out:?}");
}

/// A process killed while stopped: letting it go does not hang or fail,
/// and its parent still gets its exit status.
#[test]
fn killed_while_stopped() {
    let mut guest = helper();
    let pid = guest.pid();
    let Some(stopped) = stop(pid) else { return };
    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while thread_state(pid, pid).is_some_and(|s| s != 'Z') {
        assert!(
            Instant::now() < deadline,
            "SIGKILL did not kill a stopped process"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(stopped);
    use std::os::unix::process::ExitStatusExt;
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = guest.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the killed process cannot be reaped"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
}

#[test]
fn ptrace_refusals_are_errors() {
    // A pid that is not in use: a child that has exited and been reaped.
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id() as i32;
    gone.wait().unwrap();
    if !Path::new(&format!("/proc/{gone_pid}")).exists() {
        let e = StoppedProcess::stop(gone_pid).unwrap_err();
        assert_eq!(e.to_string(), format!("no process with pid {gone_pid}"));
        let e = elf::load_bias(gone_pid, Path::new("/proc/self/exe")).unwrap_err();
        assert_eq!(e.to_string(), format!("no process with pid {gone_pid}"));
    }

    // A zombie: exited, not yet reaped.
    let mut zombie = Command::new("true").spawn().unwrap();
    let zpid = zombie.id() as i32;
    let deadline = Instant::now() + Duration::from_secs(10);
    while thread_state(zpid, zpid) != Some('Z') {
        assert!(Instant::now() < deadline, "`true` did not exit");
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = StoppedProcess::stop(zpid).unwrap_err();
    assert!(
        matches!(e, PtraceError::Exited { pid } if pid == zpid),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("process {zpid} exited while being stopped")
    );
    assert!(
        zombie.wait().unwrap().success(),
        "its status is still its parent's"
    );

    // A thread id is not a process id.
    let (tx, rx) = channel();
    let t = std::thread::spawn(move || {
        // SAFETY: gettid has no preconditions.
        tx.send(unsafe { libc::gettid() }).unwrap();
    });
    let tid = rx.recv().unwrap();
    let e = StoppedProcess::stop(tid);
    t.join().unwrap();
    if let Err(e) = e {
        // (The thread may have exited already: then there is no process.)
        let me = std::process::id() as i32;
        assert!(
            matches!(e, PtraceError::NotAProcess { tgid, .. } if tgid == me)
                || matches!(e, PtraceError::NoProcess { .. }),
            "{e:?}"
        );
    } else {
        panic!("stopped one of our own threads");
    }

    let e = StoppedProcess::stop(std::process::id() as i32).unwrap_err();
    assert!(matches!(e, PtraceError::OwnProcess), "{e:?}");
}

// ---------------------------------------------------------------------------
// Core files

/// Dumps `pid` with gdb's `gcore`, into `dir`.
///
/// Each Wasm linear memory is an 8 GiB `PROT_NONE` reservation, which gdb
/// 13 dumps as 8 GiB of zeros; the kernel leaves it out of its cores.
/// Before dumping, gdb marks such reservations `MADV_DONTDUMP` in the
/// child (by calling `madvise` there), which `gcore` honors.
fn gcore(pid: i32, dir: &Path) -> Result<PathBuf, String> {
    let gdb = in_path("gdb")?;
    let core = dir.join(format!("core.{pid}"));
    let mut command = Command::new(gdb);
    command.args(["-batch", "-nx", "-p", &pid.to_string()]);
    for m in maps(pid) {
        if m.perms == "---p" && m.name.is_empty() && m.end - m.start >= 1 << 30 {
            command.arg("-ex").arg(format!(
                "call (int)madvise((void*){:#x}, {}, 16)",
                m.start,
                m.end - m.start
            ));
        }
    }
    command.arg("-ex").arg(format!("gcore {}", core.display()));
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running gdb: {e}"))?;
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if log.contains("ptrace: Operation not permitted") {
        return Err(format!("gdb may not attach: {}", log.trim()));
    }
    if !core.is_file() {
        panic!("gdb wrote no core file ({}):\n{log}", out.status);
    }
    Ok(core)
}

#[test]
fn core_file_from_gcore() {
    let Some(bin) = need(switchyard_bin()) else {
        return;
    };
    let guest = Guest::switchyard(&bin, |_| {});
    let pid = guest.pid();
    let live_addr = elf::registry_address(&bin, elf::load_bias(pid, &bin).unwrap()).unwrap();
    let live = read_registry(&ProcessMemory::new(pid), live_addr);
    let live_tasks = tasks(pid);

    let dir = TempDir::new("gcore");
    let Some(path) = need(gcore(pid, dir.path())) else {
        return;
    };
    let core = CoreFile::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(core.path(), path);
    assert_eq!(core.pid(), Some(pid));

    // The executable and its mappings.
    let exe = core.executable().expect("no executable in the core");
    assert_eq!(canonical(&exe), canonical(&bin));
    assert!(
        core.mappings()
            .iter()
            .any(|m| m.path == exe && m.file_offset == 0)
    );
    assert!(core.mappings().windows(2).all(|w| w[0].start <= w[1].start));

    // The registry, found through the executable's symbol table and the
    // core's mappings, says what the live process said.
    let addr = core.registry_address(&exe).unwrap();
    assert_eq!(addr, live_addr);
    assert_eq!(read_registry(&core, addr), live);

    // Threads: the same ones, each with a readable stack.
    let tids: BTreeSet<i32> = core.threads().iter().map(|t| t.tid).collect();
    assert_eq!(tids, live_tasks);
    for t in core.threads() {
        assert_eq!((t.rip, t.rsp, t.rbp), (t.gprs.rip, t.gprs.rsp, t.gprs.rbp));
        core.read_vec(t.rsp, 64)
            .unwrap_or_else(|e| panic!("thread {}: stack: {e}", t.tid));
        assert_eq!(t.signal, 0);
    }
    // Nothing at address 0; a read running off the end of memory fails.
    assert!(core.read_u64(0).is_err());
    assert!(core.read_vec(u64::MAX - 3, 8).is_err());

    let (status, out) = guest.finish("after the core\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, ["after the core"]);
}

/// The kernel's own core of a Switchyard process killed by SIGQUIT.
#[test]
fn core_file_from_the_kernel() {
    let Some(bin) = need(switchyard_bin()) else {
        return;
    };
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    let pattern = pattern.trim();
    if pattern.starts_with('|') || pattern.contains('/') {
        need::<()>(Err(format!(
            "the kernel does not write cores into the process's directory (core_pattern `{pattern}`)"
        )));
        return;
    }
    let mut guest = Guest::switchyard(&bin, |_| {});
    let pid = guest.pid();
    let limit = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `limit` is a valid rlimit; the old value is not asked for.
    if unsafe { libc::prlimit(pid, libc::RLIMIT_CORE, &limit, std::ptr::null_mut()) } != 0 {
        let e = std::io::Error::last_os_error();
        need::<()>(Err(format!("cannot allow the child core files: {e}")));
        return;
    }
    let live_addr = elf::registry_address(&bin, elf::load_bias(pid, &bin).unwrap()).unwrap();
    let live = read_registry(&ProcessMemory::new(pid), live_addr);
    let dir = guest._dir.path().to_owned();

    // SAFETY: kill has no memory-safety preconditions.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGQUIT) }, 0);
    let status = guest.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGQUIT), "{status:?}");
    if !status.core_dumped() {
        need::<()>(Err(
            "the kernel wrote no core file (see core_pattern, ulimit)".into(),
        ));
        return;
    }
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("core"))
        .expect("a core file in the child's directory");
    let core = CoreFile::open(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(core.pid(), Some(pid));
    // The thread that took the signal comes first, and says so.
    assert_eq!(core.threads()[0].signal, libc::SIGQUIT);
    assert_eq!(core.process_name(), Some("switchyard"));
    assert!(
        core.command_line().unwrap().contains(" run /"),
        "{:?}",
        core.command_line()
    );
    let exe = core.executable().unwrap();
    assert_eq!(canonical(&exe), canonical(&bin));
    let addr = core.registry_address(&exe).unwrap();
    assert_eq!(addr, live_addr);
    assert_eq!(read_registry(&core, addr), live);
    for t in core.threads() {
        core.read_vec(t.rsp, 64)
            .unwrap_or_else(|e| panic!("thread {}: stack: {e}", t.tid));
    }
    // The kernel leaves out the executable's unwritten code pages: they
    // read as zeros, not as errors.
    let text = core
        .mappings()
        .iter()
        .find(|m| m.path == exe && m.file_offset > 0)
        .unwrap();
    core.read_vec(text.start, 16).unwrap();
}

// ---------------------------------------------------------------------------
// Made-up core files and garbage

/// A core file assembled by hand: notes, then segments.
struct FakeCore {
    notes: Vec<(u32, Vec<u8>)>,
    /// (address, bytes in the file, size in memory)
    segments: Vec<(u64, Vec<u8>, u64)>,
}

impl FakeCore {
    fn bytes(&self) -> Vec<u8> {
        let mut notes = Vec::new();
        for (ty, desc) in &self.notes {
            notes.extend_from_slice(&5u32.to_le_bytes());
            notes.extend_from_slice(&(desc.len() as u32).to_le_bytes());
            notes.extend_from_slice(&ty.to_le_bytes());
            notes.extend_from_slice(b"CORE\0\0\0\0");
            notes.extend_from_slice(desc);
            notes.resize(notes.len().next_multiple_of(4), 0);
        }
        let phnum = 1 + self.segments.len();
        let mut offset = (64 + 56 * phnum) as u64;
        let mut out = vec![0u8; 64];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // 64-bit
        out[5] = 1; // little-endian
        out[6] = 1; // version
        out[16..18].copy_from_slice(&4u16.to_le_bytes()); // ET_CORE
        out[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        let mut phdr = |ty: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
            let mut p = [0u8; 56];
            p[0..4].copy_from_slice(&ty.to_le_bytes());
            p[4..8].copy_from_slice(&6u32.to_le_bytes());
            p[8..16].copy_from_slice(&off.to_le_bytes());
            p[16..24].copy_from_slice(&vaddr.to_le_bytes());
            p[32..40].copy_from_slice(&filesz.to_le_bytes());
            p[40..48].copy_from_slice(&memsz.to_le_bytes());
            out.extend_from_slice(&p);
        };
        phdr(4, offset, 0, notes.len() as u64, 0);
        offset += notes.len() as u64;
        for (vaddr, data, memsz) in &self.segments {
            phdr(1, offset, *vaddr, data.len() as u64, *memsz);
            offset += data.len() as u64;
        }
        out.extend_from_slice(&notes);
        for (_, data, _) in &self.segments {
            out.extend_from_slice(data);
        }
        out
    }
}

const EXE_START: u64 = 0x5555_0000_0000;

/// A plausible core: one thread, a process, an auxiliary vector, two
/// mapped files (the first one `exe`), and three segments.
fn fake_core(exe: &Path) -> FakeCore {
    let mut prstatus = vec![0u8; 336];
    prstatus[12..14].copy_from_slice(&11u16.to_le_bytes()); // SIGSEGV
    prstatus[32..36].copy_from_slice(&4242u32.to_le_bytes());
    for i in 0..27u64 {
        let at = 112 + 8 * i as usize;
        prstatus[at..at + 8].copy_from_slice(&(0x1000 * (i + 1)).to_le_bytes());
    }
    let mut prpsinfo = vec![0u8; 136];
    prpsinfo[24..28].copy_from_slice(&4242u32.to_le_bytes());
    prpsinfo[40..46].copy_from_slice(b"myprog");
    prpsinfo[56..69].copy_from_slice(b"myprog --flag");
    let mut auxv = Vec::new();
    for (k, v) in [(6u64, 4096u64), (9, EXE_START + 0x1234), (0, 0)] {
        auxv.extend_from_slice(&k.to_le_bytes());
        auxv.extend_from_slice(&v.to_le_bytes());
    }
    let files = [
        (EXE_START, EXE_START + 0x2000, 0u64, exe.to_str().unwrap()),
        (0x7f00_0000_0000, 0x7f00_0000_1000, 3, "/lib/libc.so.6"),
    ];
    let mut nt_file = Vec::new();
    nt_file.extend_from_slice(&(files.len() as u64).to_le_bytes());
    nt_file.extend_from_slice(&4096u64.to_le_bytes());
    for (s, e, page, _) in files {
        for v in [s, e, page] {
            nt_file.extend_from_slice(&v.to_le_bytes());
        }
    }
    for (.., name) in files {
        nt_file.extend_from_slice(name.as_bytes());
        nt_file.push(0);
    }
    FakeCore {
        notes: vec![
            (3, prpsinfo),
            (1, prstatus),
            (6, auxv),
            (0x4649_4c45, nt_file),
        ],
        segments: vec![
            // 16 bytes in the file, then zeros up to 0x1000.
            (0x10000, b"0123456789abcdef".to_vec(), 0x1000),
            // Adjacent: a read may cross from one to the other.
            (0x11000, b"ZYXW".to_vec(), 4),
            (0x20000, vec![0xaa; 64], 64),
        ],
    }
}

fn write_file(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn made_up_core_file() {
    let dir = TempDir::new("fake");
    let exe = canonical(&std::env::current_exe().unwrap());
    let path = write_file(&dir, "core", &fake_core(&exe).bytes());
    let core = CoreFile::open(&path).unwrap_or_else(|e| panic!("{e}"));

    let [t] = core.threads() else {
        panic!("{:?}", core.threads())
    };
    assert_eq!(t.tid, 4242);
    assert_eq!(t.signal, 11);
    assert_eq!(t.gprs.r15, 0x1000);
    assert_eq!(t.rbp, 0x5000);
    assert_eq!(t.rip, 0x11000);
    assert_eq!(t.rsp, 0x14000);
    assert_eq!(t.gprs.gs, 0x1b000);
    assert_eq!(core.pid(), Some(4242));
    assert_eq!(core.process_name(), Some("myprog"));
    assert_eq!(core.command_line(), Some("myprog --flag"));
    assert_eq!(core.auxv(6), Some(4096));
    assert_eq!(core.executable().as_deref(), Some(exe.as_path()));
    assert_eq!(
        core.mappings(),
        [
            FileMapping {
                start: EXE_START,
                end: EXE_START + 0x2000,
                file_offset: 0,
                path: exe.clone()
            },
            FileMapping {
                start: 0x7f00_0000_0000,
                end: 0x7f00_0000_1000,
                file_offset: 3 * 4096,
                path: "/lib/libc.so.6".into(),
            },
        ]
    );

    // Memory: file bytes, then zeros up to the segment's size in memory,
    // across adjacent segments; nothing elsewhere.
    assert_eq!(core.read_vec(0x10000, 4).unwrap(), b"0123");
    assert_eq!(core.read_vec(0x1000e, 4).unwrap(), b"ef\0\0");
    assert_eq!(core.read_vec(0x10ffe, 4).unwrap(), b"\0\0ZY");
    assert_eq!(
        core.read_u32(0x11000).unwrap(),
        u32::from_le_bytes(*b"ZYXW")
    );
    assert!(core.read_vec(0x11002, 4).is_err(), "runs past the end");
    assert!(core.read_vec(0xffff, 2).is_err(), "starts before");
    assert!(core.read_u64(0x30000).is_err());
    assert_eq!(core.read_vec(0x20000, 64).unwrap(), [0xaa; 64]);
    let e = core.read_vec(0x2003c, 8).unwrap_err();
    assert_eq!((e.address, e.len), (0x2003c, 8));
    assert!(core.read(0x20000, &mut []).is_ok());

    // The executable (this test binary, mapped at EXE_START from offset 0).
    let first_vaddr = first_load_vaddr(&exe);
    let bias = core.load_bias(&exe).unwrap();
    assert_eq!(bias, EXE_START.wrapping_sub(first_vaddr));
    let e = core.registry_address(&exe).unwrap_err().to_string();
    assert!(
        e.ends_with(
            "the executable has no switchyard_registry symbol: is it a Switchyard program?"
        ),
        "{e}"
    );
    // Found by file name when the path differs (a core examined on another
    // machine).
    let copy = dir.path().join(exe.file_name().unwrap());
    std::fs::copy(&exe, &copy).unwrap();
    assert_eq!(core.load_bias(&copy).unwrap(), bias);
    let other = dir.path().join("other");
    std::fs::copy(&exe, &other).unwrap();
    let e = core.load_bias(&other).unwrap_err();
    assert!(matches!(e, ElfError::NotMapped { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("{} is not mapped in the core file", other.display())
    );
}

/// A core whose memory holds another build ID than the executable's is
/// not that executable's core.
#[test]
fn build_ids_must_agree() {
    use object::Object;
    let exe = canonical(&std::env::current_exe().unwrap());
    let bytes = std::fs::read(&exe).unwrap();
    let file = object::read::elf::ElfFile64::<object::Endianness>::parse(&*bytes).unwrap();
    if file.build_id().unwrap().is_none() {
        need::<()>(Err("this test binary has no build ID".into()));
        return;
    }
    // The build ID note sits in the first page, with the ELF headers,
    // which cores keep.
    let first_page = &bytes[..4096];
    let dir = TempDir::new("build-id");
    let mut fake = fake_core(&exe);
    let base = EXE_START.wrapping_add(first_load_vaddr(&exe));
    fake.segments.push((base, first_page.to_vec(), 4096));
    let good = write_file(&dir, "good", &fake.bytes());
    let core = CoreFile::open(&good).unwrap();
    assert_eq!(core.load_bias(&exe).unwrap(), base - first_load_vaddr(&exe));

    fake.segments.last_mut().unwrap().1 = vec![0x5a; 4096];
    let bad = write_file(&dir, "bad", &fake.bytes());
    let e = CoreFile::open(&bad).unwrap().load_bias(&exe).unwrap_err();
    assert!(matches!(e, ElfError::Mismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("was it rebuilt since?"), "{e}");

    // A page the core left out reads as zeros: no verdict either way.
    fake.segments.last_mut().unwrap().1 = Vec::new();
    let left_out = write_file(&dir, "left-out", &fake.bytes());
    CoreFile::open(&left_out).unwrap().load_bias(&exe).unwrap();
}

/// An executable replaced on disk while its process runs is not taken for
/// the one that runs; `/proc/PID/exe` still is.
#[test]
fn a_replaced_executable_is_detected() {
    let Some(bin) = need(switchyard_bin()) else {
        return;
    };
    let dir = TempDir::new("replaced");
    let copy = dir.path().join("switchyard");
    std::fs::copy(&bin, &copy).unwrap();
    let guest = Guest::switchyard(&copy, |_| {});
    let pid = guest.pid();
    let bias = elf::load_bias(pid, &copy).unwrap();
    // Rebuilt: another file at the same path.
    let newer = dir.path().join("newer");
    std::fs::copy(std::env::current_exe().unwrap(), &newer).unwrap();
    std::fs::rename(&newer, &copy).unwrap();
    let e = elf::load_bias(pid, &copy).unwrap_err();
    assert!(matches!(e, ElfError::Mismatch { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{} is not the executable that runs in process {pid}: was it rebuilt since? \
             (for a live process, /proc/PID/exe names the one that runs)",
            copy.display()
        )
    );
    let proc_exe = PathBuf::from(format!("/proc/{pid}/exe"));
    assert_eq!(elf::load_bias(pid, &proc_exe).unwrap(), bias);
    let addr = elf::registry_address(&proc_exe, bias).unwrap();
    read_registry(&ProcessMemory::new(pid), addr);
    let (status, out) = guest.finish("done\n");
    assert!(status.success(), "{status}");
    assert_eq!(out, ["done"]);
}

/// The link-time address of the first `PT_LOAD` segment.
fn first_load_vaddr(exe: &Path) -> u64 {
    use object::read::elf::{FileHeader, ProgramHeader};
    let data = std::fs::read(exe).unwrap();
    let header = object::elf::FileHeader64::<object::Endianness>::parse(&*data).unwrap();
    let endian = header.endian().unwrap();
    header
        .program_headers(endian, &*data)
        .unwrap()
        .iter()
        .find(|p| p.p_type(endian) == object::elf::PT_LOAD && p.p_offset(endian) == 0)
        .unwrap()
        .p_vaddr(endian)
}

#[test]
fn garbage_is_not_a_core_file() {
    let dir = TempDir::new("garbage");
    let msg = |p: &Path| CoreFile::open(p).map(|_| ()).unwrap_err().to_string();

    let missing = dir.path().join("missing");
    assert_eq!(
        msg(&missing),
        format!("{}: no such file", missing.display())
    );
    assert!(msg(dir.path()).starts_with(&format!("{}: ", dir.path().display())));
    let empty = write_file(&dir, "empty", b"");
    assert_eq!(
        msg(&empty),
        format!("{}: not a core file (not an ELF file)", empty.display())
    );
    let text = write_file(&dir, "text", b"hello, world\n");
    assert_eq!(
        msg(&text),
        format!("{}: not a core file (not an ELF file)", text.display())
    );
    let magic = write_file(&dir, "magic", b"\x7fELF");
    assert!(matches!(
        CoreFile::open(&magic),
        Err(CoreError::Truncated { .. })
    ));
    let mut elf32 = fake_core(Path::new("/x")).bytes();
    elf32[4] = 1;
    let elf32 = write_file(&dir, "elf32", &elf32);
    assert!(matches!(
        CoreFile::open(&elf32),
        Err(CoreError::Unsupported { .. })
    ));
    let mut arm = fake_core(Path::new("/x")).bytes();
    arm[18] = 183;
    let arm = write_file(&dir, "arm", &arm);
    assert!(msg(&arm).ends_with("unsupported core file: not an x86-64 core file"));
    // An executable is ELF but not a core.
    let exe = std::env::current_exe().unwrap();
    let e = CoreFile::open(&exe).unwrap_err();
    assert!(matches!(e, CoreError::NotCore { .. }), "{e:?}");
    assert!(e.to_string().contains(": not a core file (it is "), "{e}");

    // Every proper prefix of a good core is refused.
    let good = fake_core(Path::new("/bin/x")).bytes();
    let cut = dir.path().join("cut");
    for len in 0..good.len() {
        std::fs::write(&cut, &good[..len]).unwrap();
        match CoreFile::open(&cut) {
            Err(CoreError::Truncated { .. } | CoreError::NotElf { .. }) => {}
            Err(e) => panic!("prefix of {len} bytes: {e}"),
            Ok(_) => panic!("prefix of {len} bytes accepted"),
        }
    }

    // Corrupted cores: refused or read, never a panic. Only the headers and
    // notes matter; the segments' bytes are data.
    let headers = good.len() - (16 + 4 + 64);
    let mutant = dir.path().join("mutant");
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % headers as u64) as usize;
            bytes[at] = match next() % 4 {
                0 => 0,
                1 => 0xff,
                2 => bytes[at] ^ (1 << (next() % 8)),
                _ => next() as u8,
            };
        }
        std::fs::write(&mutant, &bytes).unwrap();
        match CoreFile::open(&mutant) {
            Ok(core) => {
                ok += 1;
                for t in core.threads() {
                    let _ = core.read_vec(t.rsp, 16);
                }
                let _ = core.read_vec(0x10000, 0x1100);
                let _ = core.executable();
            }
            Err(e) => {
                refused += 1;
                let s = e.to_string();
                assert!(
                    !s.contains('\n') && s.starts_with(mutant.to_str().unwrap()),
                    "{s}"
                );
            }
        }
    }
    assert!(ok > 0 && refused > 0, "{ok} read, {refused} refused");
}

#[test]
fn symbols_of_garbage_are_errors() {
    let dir = TempDir::new("elf");
    let missing = dir.path().join("missing");
    let e = elf::symbol_address(&missing, elf::REGISTRY_SYMBOL).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: no such file", missing.display())
    );
    let text = write_file(&dir, "text", b"#!/bin/sh\necho hi\n");
    let e = elf::symbol_address(&text, elf::REGISTRY_SYMBOL).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("{}: not an ELF file", text.display())
    );
    let core = write_file(&dir, "core", &fake_core(Path::new("/x")).bytes()[..100]);
    let e = elf::symbol_address(&core, elf::REGISTRY_SYMBOL).unwrap_err();
    assert!(matches!(e, ElfError::Malformed { .. }), "{e:?}");
    let exe = std::env::current_exe().unwrap();
    let e = elf::symbol_address(&exe, elf::REGISTRY_SYMBOL).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}: the executable has no switchyard_registry symbol: is it a Switchyard program?",
            exe.display()
        )
    );
    // A symbol this binary does have.
    assert!(elf::symbol_address(&exe, "main").unwrap() != 0);
}
