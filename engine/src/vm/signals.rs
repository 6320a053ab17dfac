//! Turning faults in generated code into Wasm traps.
//!
//! Handlers for SIGSEGV, SIGBUS, SIGILL and SIGFPE run on an alternate
//! stack. A fault at a pc that has a trap record, while this thread is
//! inside Wasm, is recorded and execution resumes at the innermost host
//! entry's landing pad; anything else goes to the handler that was there
//! before us (or the default action).

use std::cell::Cell;
use std::sync::{Once, OnceLock};

use super::code_lookup;
use super::entry;
use super::layout::VMStoreContext;

/// The trap a signal handler recorded: code byte, pc, fp.
#[derive(Clone, Copy, Debug, Default)]
pub struct TrapRecord {
    /// Trap code byte (see `TrapCode::from_byte`).
    pub code: u8,
    /// Faulting pc.
    pub pc: usize,
    /// Frame pointer at the fault.
    pub fp: usize,
}

thread_local! {
    /// The store context of the Wasm code running on this thread.
    static CURRENT: Cell<*mut VMStoreContext> = const { Cell::new(std::ptr::null_mut()) };
    /// The last trap the signal handler caught on this thread.
    static LAST_TRAP: Cell<TrapRecord> = const { Cell::new(TrapRecord { code: 0, pc: 0, fp: 0 }) };
    static ALT_STACK: Cell<bool> = const { Cell::new(false) };
}

const SIGNALS: [libc::c_int; 4] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE];
/// The dispositions our handlers replaced, to forward signals that are not
/// ours.
static PREVIOUS: OnceLock<[libc::sigaction; 4]> = OnceLock::new();
static INSTALL: Once = Once::new();

/// Installs the handlers (once per process) and an alternate signal stack
/// (once per thread).
pub fn init() {
    INSTALL.call_once(|| {
        // SAFETY: an all-zero sigaction is a valid value of the C struct.
        let mut previous: [libc::sigaction; 4] = unsafe { std::mem::zeroed() };
        // Record the old dispositions before any of ours can run.
        for (i, sig) in SIGNALS.iter().enumerate() {
            // SAFETY: querying a disposition into our own buffer.
            unsafe { libc::sigaction(*sig, std::ptr::null(), &mut previous[i]) };
        }
        let _ = PREVIOUS.set(previous);
        for sig in SIGNALS {
            // SAFETY: a zeroed sigaction with our handler, flags and an empty
            // mask is a valid disposition.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
        }
    });
    if !ALT_STACK.get() {
        ensure_alt_stack();
        ALT_STACK.set(true);
    }
}

/// Gives the calling thread an alternate signal stack of at least
/// `SIZE` bytes, unless it has one. Signal handlers that run before the
/// engine's first call on this thread (a sampler's) need it too: the one
/// the Rust runtime gives the main thread is a few pages.
pub fn ensure_alt_stack() {
    const SIZE: usize = 256 * 1024;
    // SAFETY: querying the current alternate stack.
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(std::ptr::null(), &mut old);
        if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= SIZE {
            return;
        }
        // The stack lives as long as the thread; it is leaked on purpose
        // because a signal may arrive at any time until then.
        let stack = libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if stack == libc::MAP_FAILED {
            return;
        }
        let new = libc::stack_t {
            ss_sp: stack,
            ss_flags: 0,
            ss_size: SIZE,
        };
        libc::sigaltstack(&new, std::ptr::null_mut());
    }
}

/// Makes `ctx` the running store context of this thread; returns the
/// previous one, to be restored with [`set_current`] on the way out.
pub fn set_current(ctx: *mut VMStoreContext) -> *mut VMStoreContext {
    CURRENT.replace(ctx)
}

/// Takes the trap the handler recorded on this thread.
pub fn take_last_trap() -> TrapRecord {
    LAST_TRAP.take()
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let uc = unsafe { &mut *(context as *mut libc::ucontext_t) };
    let gregs = &mut uc.uc_mcontext.gregs;
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let fp = gregs[libc::REG_RBP as usize] as usize;
    let ctx = CURRENT.get();
    // A signal another process or thread sent (`kill -SEGV`) is not a fault
    // of the instruction at pc, even when that pc has a trap record.
    if !ctx.is_null() && !sent_by_someone(info) {
        // SAFETY: CURRENT is only set while its store context is alive.
        let jmpbuf = unsafe { (*ctx).entry_jmpbuf };
        if !jmpbuf.is_null()
            && let Some(code) = code_lookup::lookup(pc).and_then(|c| c.trap_at(pc))
        {
            LAST_TRAP.set(TrapRecord { code, pc, fp });
            let sp = gregs[libc::REG_RSP as usize] as usize;
            // SAFETY: we are on the trapping thread, `ctx` is its store.
            unsafe { super::backtrace::capture(ctx, pc, fp, sp) };
            // SAFETY: the JmpBuf belongs to the innermost entry, still on
            // this thread's stack.
            let (rsp, rbp) = unsafe { ((*jmpbuf).rsp, (*jmpbuf).rbp) };
            gregs[libc::REG_RSP as usize] = rsp as i64;
            gregs[libc::REG_RBP as usize] = rbp as i64;
            gregs[libc::REG_RAX as usize] = 1;
            gregs[libc::REG_RIP as usize] = entry::trap_landing() as i64;
            return;
        }
    }
    forward(sig, info, context);
}

/// Hands a signal that is not ours to whoever had it before.
fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(i) = SIGNALS.iter().position(|s| *s == sig) else {
        return;
    };
    let Some(previous) = PREVIOUS.get().map(|p| &p[i]) else {
        return;
    };
    let action = previous.sa_sigaction;
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        let sent = sent_by_someone(info);
        if sent && action == libc::SIG_IGN {
            // Before us this signal was ignored when sent; it still is.
            return;
        }
        // Restore the default. A fault then happens again on return and the
        // process dies of it (with a core dump at the faulting pc where
        // enabled); a sent signal does not recur, so it is raised again.
        // SAFETY: resetting a signal disposition and raising a signal are
        // async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            if sent {
                libc::raise(sig);
            }
        }
    } else {
        if previous.sa_flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with this signature.
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                unsafe { std::mem::transmute(action) };
            f(sig, info, context);
        } else {
            // SAFETY: the previous handler was installed with this signature.
            let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(action) };
            f(sig);
        }
        // A handler that cannot handle a fault restores the default action
        // and returns, counting on the fault to happen again (Rust's own
        // stack-overflow handler does so). A sent signal does not happen
        // again: raise it once more under that default.
        if sent_by_someone(info) && default_action(sig) {
            // SAFETY: raising a signal is async-signal-safe.
            unsafe { libc::raise(sig) };
        }
    }
}

/// Whether `sig`'s disposition is now the default action.
fn default_action(sig: libc::c_int) -> bool {
    // SAFETY: an all-zero sigaction is a valid value of the C struct, and
    // querying a disposition into it is async-signal-safe.
    unsafe {
        let mut now: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut now) == 0 && now.sa_sigaction == libc::SIG_DFL
    }
}

/// Whether the signal was sent (`kill`, `tgkill`, `sigqueue`: `si_code` of
/// zero or below) rather than raised by the kernel for a fault.
fn sent_by_someone(info: *const libc::siginfo_t) -> bool {
    // SAFETY: the kernel passes a valid siginfo to SA_SIGINFO handlers.
    !info.is_null() && unsafe { (*info).si_code } <= 0
}
