//! Stopping a live process with ptrace to read its threads' registers, and
//! letting it go again unharmed.
//!
//! [`StoppedProcess::stop`] attaches to every thread with `PTRACE_SEIZE`
//! and stops it with `PTRACE_INTERRUPT` (neither sends a signal, so the
//! process cannot tell, except that system calls in progress are restarted);
//! dropping the [`StoppedProcess`] detaches, handing back any signal that
//! arrived meanwhile. Registers are x86-64 `user_regs_struct`s, the same
//! layout a core file's `NT_PRSTATUS` notes hold, so [`ThreadRegisters`]
//! serves both.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::memory::ProcessMemory;

/// The general registers of an x86-64 thread, in the order of the kernel's
/// `user_regs_struct` (and of a core file's `NT_PRSTATUS` note).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct GeneralRegisters {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The system call number while in a system call, else `u64::MAX`.
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

impl GeneralRegisters {
    /// Number of 8-byte words in a `user_regs_struct`.
    pub const WORDS: usize = 27;

    /// From the words of a `user_regs_struct`, in the kernel's order.
    pub fn from_words(w: &[u64; Self::WORDS]) -> GeneralRegisters {
        GeneralRegisters {
            r15: w[0],
            r14: w[1],
            r13: w[2],
            r12: w[3],
            rbp: w[4],
            rbx: w[5],
            r11: w[6],
            r10: w[7],
            r9: w[8],
            r8: w[9],
            rax: w[10],
            rcx: w[11],
            rdx: w[12],
            rsi: w[13],
            rdi: w[14],
            orig_rax: w[15],
            rip: w[16],
            cs: w[17],
            eflags: w[18],
            rsp: w[19],
            ss: w[20],
            fs_base: w[21],
            gs_base: w[22],
            ds: w[23],
            es: w[24],
            fs: w[25],
            gs: w[26],
        }
    }

    /// The register with DWARF number `reg` (x86-64 psABI numbering: 0 rax,
    /// 1 rdx, 2 rcx, 3 rbx, 4 rsi, 5 rdi, 6 rbp, 7 rsp, 8–15 r8–r15, 16 the
    /// return address, here rip), or `None` for other registers.
    pub fn dwarf(&self, reg: u16) -> Option<u64> {
        Some(match reg {
            0 => self.rax,
            1 => self.rdx,
            2 => self.rcx,
            3 => self.rbx,
            4 => self.rsi,
            5 => self.rdi,
            6 => self.rbp,
            7 => self.rsp,
            8 => self.r8,
            9 => self.r9,
            10 => self.r10,
            11 => self.r11,
            12 => self.r12,
            13 => self.r13,
            14 => self.r14,
            15 => self.r15,
            16 => self.rip,
            _ => return None,
        })
    }
}

/// One thread's registers, from a stopped process or a core file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadRegisters {
    /// The thread id (the process id for the main thread).
    pub tid: i32,
    /// Instruction pointer.
    pub rip: u64,
    /// Stack pointer.
    pub rsp: u64,
    /// Frame pointer.
    pub rbp: u64,
    /// From a core file: the signal the thread was taking when the core
    /// was written (the crashing thread's fatal signal), 0 if none. From a
    /// stopped process: a signal that arrived while stopping it (it is
    /// delivered on detach), usually 0.
    pub signal: i32,
    /// All general registers.
    pub gprs: GeneralRegisters,
}

impl ThreadRegisters {
    /// A thread's registers from its general registers.
    pub fn new(tid: i32, signal: i32, gprs: GeneralRegisters) -> ThreadRegisters {
        ThreadRegisters {
            tid,
            rip: gprs.rip,
            rsp: gprs.rsp,
            rbp: gprs.rbp,
            signal,
            gprs,
        }
    }
}

/// Why a process could not be stopped.
#[derive(Debug)]
pub enum PtraceError {
    /// No such process.
    NoProcess {
        /// The pid asked for.
        pid: i32,
    },
    /// The pid names a thread, not a process.
    NotAProcess {
        /// The pid asked for.
        pid: i32,
        /// The process it belongs to.
        tgid: i32,
    },
    /// The caller asked to stop its own process.
    OwnProcess,
    /// ptrace was refused.
    PermissionDenied {
        /// The process.
        pid: i32,
        /// `/proc/sys/kernel/yama/ptrace_scope`, if present.
        ptrace_scope: Option<String>,
    },
    /// Another tracer (a debugger) is attached.
    AlreadyTraced {
        /// The process.
        pid: i32,
        /// The tracer's pid.
        tracer: i32,
    },
    /// The process exited while being stopped.
    Exited {
        /// The process.
        pid: i32,
    },
    /// A thread did not stop in time (it may be in uninterruptible sleep).
    Timeout {
        /// The process.
        pid: i32,
        /// The thread that did not stop.
        tid: i32,
        /// How long we waited.
        waited: Duration,
    },
    /// Another system error.
    Os {
        /// The process.
        pid: i32,
        /// What was being done.
        doing: &'static str,
        /// The error.
        error: io::Error,
    },
}

impl fmt::Display for PtraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PtraceError::NoProcess { pid } => write!(f, "no process with pid {pid}"),
            PtraceError::NotAProcess { pid, tgid } => {
                write!(f, "{pid} is a thread of process {tgid}, not a process")
            }
            PtraceError::OwnProcess => write!(f, "a process cannot stop itself with ptrace"),
            PtraceError::PermissionDenied { pid, ptrace_scope } => {
                write!(f, "not permitted to ptrace process {pid}")?;
                match ptrace_scope.as_deref() {
                    Some("0") | None => {
                        write!(
                            f,
                            " (it must run as the same user, or we need CAP_SYS_PTRACE)"
                        )
                    }
                    Some(s) => write!(
                        f,
                        " (/proc/sys/kernel/yama/ptrace_scope is {s}: run as root, or set it to 0)"
                    ),
                }
            }
            PtraceError::AlreadyTraced { pid, tracer } => {
                write!(
                    f,
                    "process {pid} is already traced by process {tracer} (a debugger?)"
                )
            }
            PtraceError::Exited { pid } => write!(f, "process {pid} exited while being stopped"),
            PtraceError::Timeout { pid, tid, waited } => write!(
                f,
                "thread {tid} of process {pid} did not stop within {:.1}s (uninterruptible sleep?)",
                waited.as_secs_f64()
            ),
            PtraceError::Os { pid, doing, error } => {
                write!(f, "process {pid}: {doing}: {error}")
            }
        }
    }
}

impl std::error::Error for PtraceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PtraceError::Os { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// A thread we attached to.
#[derive(Debug)]
struct Tracee {
    tid: i32,
    /// A signal that stopped the thread before our interrupt did; given
    /// back on detach.
    pending_signal: i32,
    /// Whether it is in a ptrace-stop (only then can it be detached).
    stopped: bool,
}

/// A process all of whose threads are stopped under ptrace; dropping it
/// detaches and the process continues.
///
/// ptrace ties a tracee to the tracing *thread*: a `StoppedProcess` must be
/// used and dropped on the thread that created it, so it is neither `Send`
/// nor `Sync`.
#[derive(Debug)]
pub struct StoppedProcess {
    pid: i32,
    tracees: Vec<Tracee>,
    threads: Vec<ThreadRegisters>,
    _not_send: PhantomData<*const ()>,
}

/// How long [`StoppedProcess::stop`] waits for each round of threads.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

impl StoppedProcess {
    /// Stops every thread of process `pid` and reads their registers,
    /// waiting at most [`DEFAULT_STOP_TIMEOUT`].
    pub fn stop(pid: i32) -> Result<StoppedProcess, PtraceError> {
        StoppedProcess::stop_with_timeout(pid, DEFAULT_STOP_TIMEOUT)
    }

    /// Stops every thread of process `pid`, waiting at most `timeout` for
    /// them to stop. On failure every thread already stopped is let go.
    pub fn stop_with_timeout(pid: i32, timeout: Duration) -> Result<StoppedProcess, PtraceError> {
        if pid <= 0 {
            return Err(PtraceError::NoProcess { pid });
        }
        // SAFETY: getpid has no preconditions.
        if pid == unsafe { libc::getpid() } {
            return Err(PtraceError::OwnProcess);
        }
        let status = ProcStatus::read(pid, pid).ok_or(PtraceError::NoProcess { pid })?;
        if status.tgid != pid {
            return Err(PtraceError::NotAProcess {
                pid,
                tgid: status.tgid,
            });
        }
        if status.is_dead() && list_threads(pid).is_ok_and(|t| t.len() <= 1) {
            return Err(PtraceError::Exited { pid });
        }
        let mut process = StoppedProcess {
            pid,
            tracees: Vec::new(),
            threads: Vec::new(),
            _not_send: PhantomData,
        };
        // Threads may be created until every thread is stopped: attach
        // until a listing of the threads shows no new one. Dropping
        // `process` on an error detaches what was attached.
        let deadline = Instant::now() + timeout;
        let mut seen = HashSet::new();
        loop {
            let tids = list_threads(pid).map_err(|e| process.gone_or(e))?;
            let new: Vec<i32> = tids.into_iter().filter(|t| seen.insert(*t)).collect();
            if new.is_empty() {
                break;
            }
            let first = process.tracees.len();
            for tid in new {
                process.seize(tid)?;
            }
            for i in first..process.tracees.len() {
                process.wait_for_stop(i, deadline, timeout)?;
            }
            process.tracees.retain(|t| t.stopped);
        }
        if process.tracees.is_empty() {
            return Err(PtraceError::Exited { pid });
        }
        process.tracees.sort_by_key(|t| (t.tid != pid, t.tid));
        for i in 0..process.tracees.len() {
            let t = &process.tracees[i];
            match get_regs(t.tid) {
                Ok(gprs) => {
                    let regs = ThreadRegisters::new(t.tid, t.pending_signal, gprs);
                    process.threads.push(regs);
                }
                // Killed meanwhile (only SIGKILL can do that).
                Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
                Err(error) => {
                    return Err(PtraceError::Os {
                        pid,
                        doing: "reading registers",
                        error,
                    });
                }
            }
        }
        if process.threads.is_empty() {
            return Err(PtraceError::Exited { pid });
        }
        Ok(process)
    }

    /// The process id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// The registers of every thread, the main thread first.
    pub fn threads(&self) -> &[ThreadRegisters] {
        &self.threads
    }

    /// The process's memory (readable as long as the process lives; it
    /// does not change while this value exists).
    pub fn memory(&self) -> ProcessMemory {
        ProcessMemory::new(self.pid)
    }

    /// Lets the process continue (the same as dropping this value).
    pub fn resume(self) {}

    /// The error for a failed listing of threads: the process is gone, or
    /// the listing failed.
    fn gone_or(&self, error: io::Error) -> PtraceError {
        if error.kind() == io::ErrorKind::NotFound {
            if self.tracees.is_empty() {
                PtraceError::NoProcess { pid: self.pid }
            } else {
                PtraceError::Exited { pid: self.pid }
            }
        } else {
            PtraceError::Os {
                pid: self.pid,
                doing: "listing threads",
                error,
            }
        }
    }

    /// Attaches to thread `tid` and asks it to stop.
    fn seize(&mut self, tid: i32) -> Result<(), PtraceError> {
        let pid = self.pid;
        // SAFETY: PTRACE_SEIZE takes no pointers (addr and data are 0: no
        // options).
        let r = unsafe { libc::ptrace(libc::PTRACE_SEIZE, tid, 0usize, 0usize) };
        if r == -1 {
            let error = io::Error::last_os_error();
            return match error.raw_os_error() {
                // The thread exited before we got to it.
                Some(libc::ESRCH) => Ok(()),
                Some(libc::EPERM) => match ProcStatus::read(pid, tid) {
                    // Gone, or a zombie (the main thread after it exited
                    // while other threads run): nothing to stop.
                    None => Ok(()),
                    Some(s) if s.is_dead() => Ok(()),
                    Some(s) if s.tracer != 0 => Err(PtraceError::AlreadyTraced {
                        pid,
                        tracer: s.tracer,
                    }),
                    Some(_) => Err(PtraceError::PermissionDenied {
                        pid,
                        ptrace_scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                            .ok()
                            .map(|s| s.trim().to_owned()),
                    }),
                },
                _ => Err(PtraceError::Os {
                    pid,
                    doing: "attaching",
                    error,
                }),
            };
        }
        self.tracees.push(Tracee {
            tid,
            pending_signal: 0,
            stopped: false,
        });
        // SAFETY: PTRACE_INTERRUPT takes no pointers.
        let r = unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, tid, 0usize, 0usize) };
        if r == -1 {
            let error = io::Error::last_os_error();
            // ESRCH: it exited; waiting will tell.
            if error.raw_os_error() != Some(libc::ESRCH) {
                return Err(PtraceError::Os {
                    pid,
                    doing: "stopping a thread",
                    error,
                });
            }
        }
        Ok(())
    }

    /// Waits until tracee `i` stops (or exits), polling so that a thread
    /// that never stops cannot hang us.
    fn wait_for_stop(
        &mut self,
        i: usize,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<(), PtraceError> {
        let tid = self.tracees[i].tid;
        let mut pause = Duration::from_micros(50);
        loop {
            match wait_nohang(tid) {
                Ok(Some(status)) if libc::WIFSTOPPED(status) => {
                    let t = &mut self.tracees[i];
                    t.stopped = true;
                    // A signal-delivery-stop (no ptrace event) comes before
                    // our interrupt: the signal must be handed back. Our own
                    // interrupt, or a group-stop, is PTRACE_EVENT_STOP.
                    if status >> 16 == 0 {
                        t.pending_signal = libc::WSTOPSIG(status);
                    }
                    return Ok(());
                }
                // Exited or killed: nothing to detach.
                Ok(Some(_)) => return Ok(()),
                Ok(None) => {}
                Err(e) if e.raw_os_error() == Some(libc::ECHILD) => return Ok(()),
                Err(error) => {
                    return Err(PtraceError::Os {
                        pid: self.pid,
                        doing: "waiting",
                        error,
                    });
                }
            }
            if Instant::now() >= deadline {
                return Err(PtraceError::Timeout {
                    pid: self.pid,
                    tid,
                    waited: timeout,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }
}

impl Drop for StoppedProcess {
    fn drop(&mut self) {
        for t in &mut self.tracees {
            if !t.stopped {
                // Attached but never seen stopped (a timeout): it must stop
                // before it can be detached. Give it a moment; if it still
                // has not, the kernel detaches it when this thread exits.
                let deadline = Instant::now() + Duration::from_millis(200);
                while !t.stopped && Instant::now() < deadline {
                    match wait_nohang(t.tid) {
                        Ok(Some(s)) if libc::WIFSTOPPED(s) => {
                            t.stopped = true;
                            if s >> 16 == 0 {
                                t.pending_signal = libc::WSTOPSIG(s);
                            }
                        }
                        Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                        _ => break,
                    }
                }
                if !t.stopped {
                    continue;
                }
            }
            let signal = t.pending_signal as usize;
            // SAFETY: PTRACE_DETACH takes no pointers; data is the signal
            // to deliver on resumption.
            let r = unsafe { libc::ptrace(libc::PTRACE_DETACH, t.tid, 0usize, signal) };
            if r == -1 {
                // Killed while stopped (only SIGKILL does that): as its
                // tracer we must collect its exit, or the process can
                // never be reaped. Except the exit of the main thread of
                // our own child, which is ours to collect later, as usual.
                // SAFETY: getpid has no preconditions.
                let me = unsafe { libc::getpid() };
                if t.tid != self.pid || parent_of(self.pid) != Some(me) {
                    reap(t.tid);
                }
            }
        }
    }
}

/// Collects the exit of a traced thread that is dying, waiting a little
/// for it to finish dying.
fn reap(tid: i32) {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        match wait_nohang(tid) {
            Ok(Some(s)) if libc::WIFEXITED(s) || libc::WIFSIGNALED(s) => return,
            Err(_) => return,
            Ok(_) if Instant::now() >= deadline => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
}

/// `waitpid(tid, WNOHANG | __WALL)`: `Some(status)` when it changed state.
fn wait_nohang(tid: i32) -> io::Result<Option<i32>> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid place for the kernel to write.
        let r = unsafe { libc::waitpid(tid, &mut status, libc::WNOHANG | libc::__WALL) };
        match r {
            0 => return Ok(None),
            -1 => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            _ => return Ok(Some(status)),
        }
    }
}

/// `PTRACE_GETREGS` of a stopped tracee.
fn get_regs(tid: i32) -> io::Result<GeneralRegisters> {
    // SAFETY: user_regs_struct is plain integers; all-zero is valid.
    let mut r: libc::user_regs_struct = unsafe { std::mem::zeroed() };
    // SAFETY: `r` is a user_regs_struct the kernel fills in.
    let rc = unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGS,
            tid,
            0usize,
            &mut r as *mut libc::user_regs_struct,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(GeneralRegisters::from_words(&[
        r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx, r.rdx,
        r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss, r.fs_base, r.gs_base, r.ds,
        r.es, r.fs, r.gs,
    ]))
}

/// The parent process of thread `tid`, from `/proc/TID/status`.
fn parent_of(tid: i32) -> Option<i32> {
    let text = std::fs::read_to_string(format!("/proc/{tid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("PPid:"))
        .and_then(|v| v.trim().parse().ok())
}

/// The thread ids of process `pid`.
fn list_threads(pid: i32) -> io::Result<Vec<i32>> {
    let mut tids = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        if let Some(tid) = entry?.file_name().to_str().and_then(|s| s.parse().ok()) {
            tids.push(tid);
        }
    }
    Ok(tids)
}

/// What `/proc/PID/task/TID/status` says about a thread.
struct ProcStatus {
    tgid: i32,
    tracer: i32,
    /// The state letter (`R`, `S`, `D`, `T`, `t`, `Z`, `X`...).
    state: char,
}

impl ProcStatus {
    fn read(pid: i32, tid: i32) -> Option<ProcStatus> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/status")).ok()?;
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        Some(ProcStatus {
            tgid: field("Tgid:")?.parse().ok()?,
            tracer: field("TracerPid:")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            state: field("State:")
                .and_then(|v| v.chars().next())
                .unwrap_or('?'),
        })
    }

    /// A zombie, or dying.
    fn is_dead(&self) -> bool {
        matches!(self.state, 'Z' | 'X')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwarf_numbers() {
        let words: [u64; GeneralRegisters::WORDS] = std::array::from_fn(|i| i as u64 + 100);
        let g = GeneralRegisters::from_words(&words);
        assert_eq!(g.r15, 100);
        assert_eq!(g.gs, 126);
        assert_eq!(g.dwarf(6), Some(g.rbp));
        assert_eq!(g.dwarf(7), Some(g.rsp));
        assert_eq!(g.dwarf(16), Some(g.rip));
        assert_eq!(g.dwarf(0), Some(g.rax));
        assert_eq!(g.dwarf(1), Some(g.rdx));
        assert_eq!(g.dwarf(17), None);
        let t = ThreadRegisters::new(7, 0, g);
        assert_eq!((t.rip, t.rsp, t.rbp), (g.rip, g.rsp, g.rbp));
    }

    #[test]
    fn refusals() {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        assert!(matches!(
            StoppedProcess::stop(me),
            Err(PtraceError::OwnProcess)
        ));
        let e = StoppedProcess::stop(i32::MAX).unwrap_err().to_string();
        assert_eq!(e, format!("no process with pid {}", i32::MAX));
        assert!(matches!(
            StoppedProcess::stop(0),
            Err(PtraceError::NoProcess { pid: 0 })
        ));
        assert!(matches!(
            StoppedProcess::stop(-5),
            Err(PtraceError::NoProcess { pid: -5 })
        ));
    }
}
