//! The in-process sampler: a `SIGPROF` timer aimed at the thread that
//! runs Wasm, whose handler (`handler.rs`) records the interrupted frame-
//! pointer chain, across continuation stacks, into a buffer allocated
//! before sampling starts; and the reading of that buffer after the run.

mod handler;

use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use handler::on_sigprof;
use switchyard_registry_layout::CREATION_FRAMES;

/// At most this many continuations in a chain (deeper chains are cut).
pub const MAX_CHAIN: usize = 64;

/// Words before a sample's frames.
pub(crate) const SAMPLE_HEADER_WORDS: usize = 4;
/// Flag: the walk ended at a frame pointer outside every known stack
/// while still on a continuation stack, so it never reached the host.
pub(crate) const FLAG_CUT: u64 = 1;
/// Flag: the sample ends with the `creation` return addresses of the
/// innermost running continuation's record (`CREATION_FRAMES` words),
/// written when that continuation differs from the one of the last sample
/// that carried them, so that a continuation's creation site is known
/// even after its record has been reused.
pub(crate) const FLAG_CREATION: u64 = 2;

/// Sampling settings.
#[derive(Debug, Clone, Copy)]
pub struct SamplerOptions {
    /// Samples per second (wall-clock time of the sampled thread).
    pub hz: u32,
    /// Size of the sample buffer, in bytes.
    pub buffer_bytes: usize,
    /// Frames kept per sample (deeper stacks are cut, and counted).
    pub max_depth: usize,
}

impl Default for SamplerOptions {
    fn default() -> SamplerOptions {
        SamplerOptions {
            hz: 1000,
            buffer_bytes: 64 << 20,
            max_depth: 1024,
        }
    }
}

/// What the handler shares with the thread that owns the sampler.
pub(super) struct State {
    /// The sample buffer; only the handler writes, below `len`.
    pub(super) buffer: *mut u64,
    pub(super) capacity: usize,
    pub(super) len: AtomicUsize,
    pub(super) registry: u64,
    /// The sampled thread and its stack.
    pub(super) tid: i32,
    pub(super) stack: (u64, u64),
    pub(super) max_depth: usize,
    pub(super) taken: AtomicU64,
    pub(super) dropped_full: AtomicU64,
    pub(super) dropped_busy: AtomicU64,
    pub(super) other_thread: AtomicU64,
    pub(super) cut_depth: AtomicU64,
    /// Time spent in the handler for the samples stored.
    pub(super) handler_ns: AtomicU64,
    /// The id of the continuation whose creation site a sample carried
    /// last ([`FLAG_CREATION`]); 0: none yet.
    pub(super) last_creation: AtomicU64,
}

pub(super) static STATE: AtomicPtr<State> = AtomicPtr::new(std::ptr::null_mut());

/// A running sampler; [`Sampler::stop`] ends it.
pub struct Sampler {
    state: Box<State>,
    timer: libc::timer_t,
    buffer: Vec<u64>,
    options: SamplerOptions,
    started_ns: u64,
}

/// What a sampling run collected, not yet symbolized.
pub struct RawSamples {
    pub(crate) words: Vec<u64>,
    /// Samples stored.
    pub taken: u64,
    /// Samples lost because the buffer was full.
    pub dropped_full: u64,
    /// Samples lost because the registry was being changed.
    pub dropped_busy: u64,
    /// Timer signals that arrived on another thread (ignored).
    pub other_thread: u64,
    /// Samples whose stack was deeper than `max_depth` (cut).
    pub cut_depth: u64,
    /// Time spent in the signal handler for the stored samples, in
    /// nanoseconds (the sampler's own cost, signal delivery aside).
    pub handler_ns: u64,
    /// The settings used.
    pub options: SamplerOptions,
    /// Wall time the sampler ran, in nanoseconds.
    pub duration_ns: u64,
}

/// `CLOCK_MONOTONIC` in nanoseconds (async-signal-safe).
pub(crate) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Bounds of the calling thread's stack.
fn own_stack() -> Result<(u64, u64), String> {
    // SAFETY: pthread_getattr_np fills `attr`, which is destroyed after
    // use; the out-pointers are valid.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return Err("cannot find the thread's stack".into());
        }
        let mut addr = std::ptr::null_mut();
        let mut size = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 {
            return Err("cannot find the thread's stack".into());
        }
        Ok((addr as u64, addr as u64 + size as u64))
    }
}

impl Sampler {
    /// Starts sampling the calling thread, which runs Wasm with the
    /// registry at `registry`. One sampler at a time per process.
    pub fn start(registry: u64, options: SamplerOptions) -> Result<Sampler, String> {
        if options.hz == 0 || options.hz > 100_000 {
            return Err(format!(
                "--hz must be between 1 and 100000, not {}",
                options.hz
            ));
        }
        // The handler runs on the alternate signal stack: samples taken
        // before the engine first runs must find one large enough.
        switchyard_engine::vm::ensure_alt_stack();
        let capacity = options.buffer_bytes / 8;
        let mut buffer = vec![0u64; capacity];
        let state = Box::new(State {
            buffer: buffer.as_mut_ptr(),
            capacity,
            len: AtomicUsize::new(0),
            registry,
            // SAFETY: gettid has no preconditions.
            tid: unsafe { libc::gettid() },
            stack: own_stack()?,
            max_depth: options.max_depth.max(1),
            taken: AtomicU64::new(0),
            dropped_full: AtomicU64::new(0),
            dropped_busy: AtomicU64::new(0),
            other_thread: AtomicU64::new(0),
            cut_depth: AtomicU64::new(0),
            handler_ns: AtomicU64::new(0),
            last_creation: AtomicU64::new(0),
        });
        let ptr = &*state as *const State as *mut State;
        if STATE
            .compare_exchange(
                std::ptr::null_mut(),
                ptr,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err("a sampler is already running in this process".into());
        }
        // SAFETY: installs a handler that only reads through STATE (set
        // above) and memory it checks; SA_ONSTACK runs it on the engine's
        // alternate signal stack when the thread has one, so that a
        // sample taken near the end of a continuation stack cannot
        // overflow it.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigprof as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(libc::SIGPROF, &action, std::ptr::null_mut()) != 0 {
                STATE.store(std::ptr::null_mut(), Ordering::Release);
                return Err("cannot install the SIGPROF handler".into());
            }
        }
        // A POSIX timer on CLOCK_MONOTONIC aimed at this thread: high
        // resolution (ITIMER_PROF and CPU-time timers advance with the
        // scheduler tick, 250 Hz on many kernels).
        let timer = match arm_timer(state.tid, options.hz) {
            Ok(t) => t,
            Err(e) => {
                STATE.store(std::ptr::null_mut(), Ordering::Release);
                return Err(e);
            }
        };
        Ok(Sampler {
            state,
            timer,
            buffer,
            options,
            started_ns: monotonic_ns(),
        })
    }

    /// Stops the timer and returns what was collected.
    pub fn stop(mut self) -> RawSamples {
        // SAFETY: deletes the timer made in `start`, so no further signal
        // is sent. The handler stays installed (with no state it returns
        // at once), so a signal still pending cannot take the default
        // action, which would end the process.
        unsafe { libc::timer_delete(self.timer) };
        STATE.store(std::ptr::null_mut(), Ordering::SeqCst);
        let len = self.state.len.load(Ordering::Acquire);
        self.buffer.truncate(len);
        let s = &self.state;
        RawSamples {
            words: std::mem::take(&mut self.buffer),
            taken: s.taken.load(Ordering::Relaxed),
            dropped_full: s.dropped_full.load(Ordering::Relaxed),
            dropped_busy: s.dropped_busy.load(Ordering::Relaxed),
            other_thread: s.other_thread.load(Ordering::Relaxed),
            cut_depth: s.cut_depth.load(Ordering::Relaxed),
            handler_ns: s.handler_ns.load(Ordering::Relaxed),
            options: self.options,
            duration_ns: monotonic_ns() - self.started_ns,
        }
    }
}

/// Creates and starts a timer that sends SIGPROF to thread `tid` `hz`
/// times a second.
fn arm_timer(tid: i32, hz: u32) -> Result<libc::timer_t, String> {
    // SAFETY: a zeroed sigevent is valid; the fields set make it target
    // one thread with SIGPROF; `timer` receives the new timer's id.
    unsafe {
        let mut event: libc::sigevent = std::mem::zeroed();
        event.sigev_notify = libc::SIGEV_THREAD_ID;
        event.sigev_signo = libc::SIGPROF;
        event.sigev_notify_thread_id = tid;
        let mut timer: libc::timer_t = std::mem::zeroed();
        if libc::timer_create(libc::CLOCK_MONOTONIC, &mut event, &mut timer) != 0 {
            return Err(format!(
                "cannot create the profiling timer: {}",
                std::io::Error::last_os_error()
            ));
        }
        let period = 1_000_000_000 / u64::from(hz);
        let interval = libc::timespec {
            tv_sec: (period / 1_000_000_000) as libc::time_t,
            tv_nsec: (period % 1_000_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: interval,
            it_value: interval,
        };
        if libc::timer_settime(timer, 0, &spec, std::ptr::null_mut()) != 0 {
            let e = std::io::Error::last_os_error();
            libc::timer_delete(timer);
            return Err(format!("cannot start the profiling timer: {e}"));
        }
        Ok(timer)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        // Stopped or not, the handler must no longer see this state.
        let ptr = &*self.state as *const State as *mut State;
        let _ = STATE.compare_exchange(
            ptr,
            std::ptr::null_mut(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }
}

/// One stored sample, as the handler wrote it.
pub(crate) struct RawSample<'a> {
    pub time_ns: u64,
    /// Times the innermost running continuation was resumed, plus times
    /// it was switched to or from.
    pub switches: u64,
    pub flags: u64,
    /// The interrupted pc, then return addresses, innermost first.
    pub frames: &'a [u64],
    /// `(id, entry code address)` of each running continuation,
    /// innermost first.
    pub chain: Vec<(u64, u64)>,
    /// The creation return addresses of the innermost one (its record's
    /// `creation`), when this sample carries them ([`FLAG_CREATION`]).
    pub creation: Option<&'a [u64]>,
}

impl RawSamples {
    /// The samples in the order they were taken.
    pub(crate) fn iter(&self) -> impl Iterator<Item = RawSample<'_>> {
        let w = &self.words;
        let mut at = 0;
        std::iter::from_fn(move || {
            if at + SAMPLE_HEADER_WORDS > w.len() {
                return None;
            }
            let n = (w[at] & 0xffff_ffff) as usize;
            let links = (w[at] >> 32) as usize;
            let frames_at = at + SAMPLE_HEADER_WORDS;
            let chain_at = frames_at + n;
            let chain_end = chain_at + 2 * links;
            let flags = w[at + 3];
            let end = if flags & FLAG_CREATION != 0 {
                chain_end + CREATION_FRAMES
            } else {
                chain_end
            };
            if end > w.len() {
                return None;
            }
            let sample = RawSample {
                time_ns: w[at + 1],
                switches: w[at + 2],
                flags,
                frames: &w[frames_at..chain_at],
                chain: w[chain_at..chain_end]
                    .chunks(2)
                    .map(|c| (c[0], c[1]))
                    .collect(),
                creation: (flags & FLAG_CREATION != 0).then(|| &w[chain_end..end]),
            };
            at = end;
            Some(sample)
        })
    }
}
