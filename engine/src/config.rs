//! The engine's settings. They live below the compiler, which reads them,
//! and the engine, which owns them.

/// How `resume`, `suspend` and `switch` change stacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SwitchingMode {
    /// One `stack_switch` in generated code per switch.
    #[default]
    Native,
    /// A call into the host that switches stacks there.
    Libcall,
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// How continuations switch stacks.
    pub switching: SwitchingMode,
    /// Size of each continuation stack in bytes.
    pub cont_stack_size: usize,
    /// Upper bound on the number of live continuations in one store.
    pub max_live_continuations: usize,
    /// Stack space Wasm may use on the host's stack, in bytes.
    pub max_wasm_stack: usize,
    /// Upper bound on any linear memory, in 64 KiB pages.
    pub max_memory_pages: u64,
    /// Cranelift optimization level: "none", "speed" or "speed_and_size".
    pub opt_level: String,
    /// Report every switch to the watcher of [`crate::vm::events`]: in
    /// native mode generated code then calls an event routine at each
    /// switch point; libcall mode reports from its routines.
    pub report_switch_events: bool,
    /// What to write for Linux perf about generated code (per process).
    pub perf: crate::profiling::PerfOutput,
    /// Keep the whole logical stack (across resumes, at most 64 frames) at
    /// every `cont.new`, beside the registry's short creation site, for
    /// [`Store::creation_stack`](crate::Store::creation_stack).
    pub trace_creation: bool,
    /// Where compiled modules are kept between runs (`compile/cache.rs`);
    /// `None` compiles every time. The command-line tools use
    /// [`crate::default_cache_dir`].
    pub cache_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            switching: SwitchingMode::Native,
            cont_stack_size: 256 * 1024,
            max_live_continuations: 100_000,
            max_wasm_stack: 1024 * 1024,
            max_memory_pages: 65536,
            opt_level: "speed".to_string(),
            report_switch_events: false,
            perf: crate::profiling::PerfOutput::None,
            trace_creation: false,
            cache_dir: None,
        }
    }
}
