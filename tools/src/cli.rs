//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run, test and debug WebAssembly programs that switch stacks.
#[derive(Parser, Debug)]
#[command(name = "switchyard", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a WebAssembly module (`_start` with WASI, or `--invoke NAME`).
    Run(RunArgs),
    /// Run a module like `run` and write a timeline of its switch events
    /// for Perfetto (Chrome trace event JSON): one track per continuation.
    Trace(TraceArgs),
    /// Run WebAssembly specification test scripts.
    Wast(WastArgs),
    /// Print the logical backtraces of a running Switchyard process (stopped
    /// briefly) or of a core file: every thread and every live continuation.
    Bt(BtArgs),
    /// Watch and step a program's continuations in a terminal UI: run FILE
    /// under it, open a snapshot written by `run --snapshot-on-trap`, or
    /// watch another Switchyard process read-only.
    Inspect(InspectArgs),
    /// Record with Linux perf (call graphs across continuations, JIT code
    /// named through a jitdump) and view the result.
    Perf(PerfArgs),
    /// Run a module under the built-in sampling profiler, whose stacks cross
    /// continuation boundaries, and write a profile.
    Profile(ProfileArgs),
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The module to run (.wasm or .wat).
    #[arg(required_unless_present_any = ["snapshot", "pid"], conflicts_with_all = ["snapshot", "pid"])]
    pub file: Option<PathBuf>,
    /// Arguments passed to the program (WASI argv[1..]), or to the invoked
    /// function.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Call this export instead of `_start`.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Instantiate another module first and make its exports importable
    /// under NAME.
    #[arg(long, value_name = "NAME=FILE")]
    pub preload: Vec<String>,
    /// Pass an environment variable (NAME=VALUE) to the program.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Open a snapshot file (post-mortem).
    #[arg(long, value_name = "FILE", conflicts_with = "pid")]
    pub snapshot: Option<PathBuf>,
    /// Watch another Switchyard process, read-only.
    #[arg(long, value_name = "PID")]
    pub pid: Option<i32>,
    /// Size of each continuation stack, in bytes (suffixes k, m allowed).
    #[arg(long, value_parser = parse_size, default_value = "256k")]
    pub cont_stack_size: usize,
    /// How resume/suspend/switch change stacks (both report switch events).
    #[arg(long, value_enum, default_value_t = Switching::Native)]
    pub switching: Switching,
}

/// Engine settings shared by the commands that run code.
#[derive(Args, Debug, Clone)]
pub struct EngineArgs {
    /// How resume/suspend/switch change stacks.
    #[arg(long, value_enum, default_value_t = Switching::Native)]
    pub switching: Switching,
    /// Size of each continuation stack, in bytes (suffixes k, m allowed).
    #[arg(long, value_parser = parse_size, default_value = "256k")]
    pub cont_stack_size: usize,
    /// Upper bound on linear memory size, in 64 KiB pages.
    #[arg(long, default_value_t = 65536)]
    pub max_memory_pages: u64,
    /// Compile the module even if the compilation cache has it, and do not
    /// keep the result. The cache lives in `$SWITCHYARD_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/switchyard`, else `~/.cache/switchyard`.
    #[arg(long)]
    pub no_cache: bool,
    /// Make the engine report switch events (set by commands that record
    /// them, not a flag).
    #[arg(skip)]
    pub switch_events: bool,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switching {
    /// One `stack_switch` in generated code per switch.
    Native,
    /// Every switch is a call into the host.
    Libcall,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BacktraceMode {
    /// No backtrace.
    Off,
    /// Wasm frames and continuation boundaries.
    Wasm,
    /// Also glue and host frames.
    Full,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// `switchyard run`'s options. They take Wasmtime's spellings where
/// Wasmtime has the same thing (`--dir`, `--env`, `--invoke`, `--preload`,
/// `--argv0`, `--tcplisten`, `-W`, `-S`, `--profile`), so that a script
/// can say `switchyard run` where it said `wasmtime run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The module (.wasm or .wat), then the arguments passed to the program
    /// (WASI argv[1..]) or to the invoked function. As with `wasmtime run`,
    /// everything after the module goes to the program, `--` included;
    /// options come before the module.
    #[arg(value_name = "WASM", trailing_var_arg = true, required = true, num_args = 1..)]
    pub module_and_args: Vec<String>,
    /// Call this export instead of `_start`, with typed arguments, and print
    /// its results.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Instantiate another module first and make its exports importable
    /// under NAME.
    #[arg(long, value_name = "NAME=FILE")]
    pub preload: Vec<String>,
    /// What to print of the logical backtrace when the program traps.
    #[arg(long, value_enum, default_value_t = BacktraceMode::Wasm)]
    pub backtrace: BacktraceMode,
    /// On a trap, also print every other live continuation with its stack
    /// (always done for an unhandled suspension).
    #[arg(long)]
    pub backtrace_all: bool,
    /// At exit and on a trap, list the continuations never finished, by
    /// creation site.
    #[arg(long)]
    pub leaks: bool,
    /// At exit and on a trap, list the continuations suspended for this
    /// many milliseconds or longer (implies --leaks).
    #[arg(long, value_name = "MS")]
    pub warn_suspended_ms: Option<u64>,
    /// Keep the whole logical stack (across resumes, at most 64 frames) at
    /// every `cont.new`, and show it in the trap report, --backtrace-all
    /// and --leaks.
    #[arg(long)]
    pub trace_creation: bool,
    /// Format of the trap report on stderr.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Pass an environment variable (NAME=VALUE) to the program.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// On a trap, write a snapshot for `switchyard inspect --snapshot`
    /// (every stack, the trap's chain, the last switch events).
    #[arg(long, value_name = "FILE")]
    pub snapshot_on_trap: Option<PathBuf>,
    /// Record every switch event and `cont.new` with a timestamp (a flight
    /// recorder keeping the last --trace-events) and write them to OUT as
    /// a timeline for Perfetto (Chrome trace event JSON), also on a trap.
    #[arg(long, value_name = "OUT")]
    pub trace: Option<PathBuf>,
    /// Events the flight recorder keeps (the newest; rounded up to a power
    /// of two; 56 bytes each, allocated before the run).
    #[arg(long, value_name = "N", default_value_t = 1 << 17, value_parser = parse_events)]
    pub trace_events: usize,
    /// Describe generated code for Linux perf: `perfmap` writes
    /// /tmp/perf-PID.map, `jitdump` writes jit-PID.dump (in $JITDUMPDIR,
    /// else the current directory) for `perf inject --jit`.
    #[arg(long, value_enum, value_name = "KIND")]
    pub profile: Option<PerfProfile>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub wasi: WasiArgs,
}

impl RunArgs {
    /// The module to run.
    pub fn file(&self) -> PathBuf {
        PathBuf::from(self.module_and_args.first().map_or("", String::as_str))
    }

    /// The program's arguments (after argv[0]), or the invoked function's.
    pub fn args(&self) -> &[String] {
        self.module_and_args.get(1..).unwrap_or(&[])
    }
}

/// What the program may reach beyond its memory, in Wasmtime's spellings.
#[derive(Args, Debug)]
pub struct TraceArgs {
    /// Where to write the trace.
    #[arg(
        short,
        long,
        value_name = "OUT",
        default_value = "switchyard-trace.json"
    )]
    pub output: PathBuf,
    #[command(flatten)]
    pub run: RunArgs,
}

fn parse_events(s: &str) -> Result<usize, String> {
    match parse_size(s)? {
        n if (16..=1 << 30).contains(&n) => Ok(n),
        _ => Err(format!("`{s}`: give between 16 and 1g events")),
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct WasiArgs {
    /// Give the program the host directory HOST_DIR, under the name
    /// GUEST_DIR (default: HOST_DIR as written). Nothing outside it is
    /// reachable through it.
    #[arg(long = "dir", value_name = "HOST_DIR[::GUEST_DIR]")]
    pub dirs: Vec<String>,
    /// Give the program a TCP socket listening on ADDR (host:port), as
    /// descriptor 3, 4, ... before the directories; the program's
    /// environment gets LISTEN_FDS with their number. Also `-S
    /// tcplisten=ADDR`.
    #[arg(long, value_name = "ADDR")]
    pub tcplisten: Vec<String>,
    /// The program's argv[0] (default: the module's file name).
    #[arg(long, value_name = "ARGV0")]
    pub argv0: Option<String>,
    /// Wasmtime's WebAssembly options that apply here: `max-memory-size=N`
    /// (bytes), `max-wasm-stack=N` (bytes), and the proposals switchyard
    /// implements (`stack-switching`, `exceptions`, `gc`, `tail-call`,
    /// `function-references`, `multi-memory`, `extended-const`, ...),
    /// which are always on. Others are refused by name.
    #[arg(short = 'W', long = "wasm", value_name = "KEY[=VAL[,..]]")]
    pub wasm: Vec<String>,
    /// Wasmtime's WASI options that apply here: `cli`, `inherit-env`,
    /// `inherit-stdin`, `inherit-stdout`, `inherit-stderr`,
    /// `tcplisten=ADDR`, `preview2` (either value: preview 1 is always
    /// implemented natively). Others are refused by name.
    #[arg(short = 'S', long = "wasi", value_name = "KEY[=VAL[,..]]")]
    pub wasi: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerfProfile {
    /// /tmp/perf-PID.map (symbols only).
    Perfmap,
    /// A jitdump file (symbols, code, source lines, unwinding information).
    Jitdump,
}

impl PerfProfile {
    /// The engine setting for this choice.
    pub fn output(self) -> switchyard_engine::PerfOutput {
        match self {
            PerfProfile::Perfmap => switchyard_engine::PerfOutput::PerfMap,
            PerfProfile::Jitdump => switchyard_engine::PerfOutput::JitDump,
        }
    }
}

#[derive(Args, Debug)]
pub struct BtArgs {
    /// A running process.
    #[arg(long, value_name = "PID", conflicts_with = "core")]
    pub pid: Option<i32>,
    /// A core file.
    #[arg(long, value_name = "FILE")]
    pub core: Option<PathBuf>,
    /// The executable of the core file (default: the path the core names).
    #[arg(long, value_name = "BINARY", requires = "core")]
    pub exe: Option<PathBuf>,
    /// Also glue and host frames.
    #[arg(long)]
    pub full: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// List every continuation on its own instead of grouping those whose
    /// stacks are identical.
    #[arg(long)]
    pub no_group: bool,
    /// Also list the continuations never finished, by creation site.
    #[arg(long)]
    pub leaks: bool,
    /// Also list the continuations suspended for this many milliseconds
    /// or longer.
    #[arg(long, value_name = "MS")]
    pub warn_suspended_ms: Option<u64>,
}

#[derive(Args, Debug)]
pub struct WastArgs {
    /// Script files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let (digits, scale) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1024),
        Some((i, 'm' | 'M')) => (&s[..i], 1024 * 1024),
        _ => (s, 1),
    };
    let n: usize = digits.parse().map_err(|_| format!("`{s}` is not a size"))?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too large"))
}

impl EngineArgs {
    /// The engine configuration these flags ask for.
    pub fn config(&self) -> switchyard_engine::Config {
        switchyard_engine::Config {
            switching: match self.switching {
                Switching::Native => switchyard_engine::SwitchingMode::Native,
                Switching::Libcall => switchyard_engine::SwitchingMode::Libcall,
            },
            cont_stack_size: self.cont_stack_size,
            max_memory_pages: self.max_memory_pages,
            report_switch_events: self.switch_events,
            cache_dir: if self.no_cache {
                None
            } else {
                switchyard_engine::default_cache_dir()
            },
            ..Default::default()
        }
    }
}

#[derive(Args, Debug)]
pub struct PerfArgs {
    #[command(subcommand)]
    pub command: PerfCommand,
}

#[derive(Subcommand, Debug)]
pub enum PerfCommand {
    /// `perf record -k mono --call-graph fp -e cpu-clock [PERF OPTIONS]` on
    /// `switchyard run --profile=jitdump ARGS...`, then `perf inject --jit`.
    Record(PerfRecordArgs),
    /// `perf report` on the recorded, injected data.
    Report(PerfViewArgs),
    /// `perf script` on the recorded, injected data.
    Script(PerfViewArgs),
}

#[derive(Args, Debug)]
pub struct PerfRecordArgs {
    /// Directory for perf.data, the jitdump, the generated ELF files and
    /// perf.jit.data.
    #[arg(short, long, value_name = "DIR", default_value = "switchyard-perf")]
    pub output: PathBuf,
    /// Options for `perf record` (e.g. `-F 999`; `-e` and `--call-graph`
    /// replace the defaults), then `--`, then what `switchyard run` takes
    /// (FILE, ARGS, --invoke, --preload, ...).
    #[arg(
        allow_hyphen_values = true,
        trailing_var_arg = true,
        value_name = "[PERF OPTIONS] -- RUN ARGS"
    )]
    pub rest: Vec<String>,
}

impl PerfRecordArgs {
    /// The perf options and the `switchyard run` arguments, split at the
    /// first `--`.
    pub fn split(&self) -> (&[String], &[String]) {
        match self.rest.iter().position(|a| a == "--") {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (&[], &self.rest[..]),
        }
    }
}

#[derive(Args, Debug)]
pub struct PerfViewArgs {
    /// The directory given to `switchyard perf record -o`.
    #[arg(short, long, value_name = "DIR", default_value = "switchyard-perf")]
    pub input: PathBuf,
    /// Options passed to perf.
    #[arg(
        allow_hyphen_values = true,
        trailing_var_arg = true,
        value_name = "PERF OPTIONS"
    )]
    pub perf_options: Vec<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileFormat {
    /// Folded stacks (`root;...;leaf COUNT`).
    Folded,
    /// A flame graph.
    Svg,
    /// A Firefox Profiler profile (JSON).
    Firefox,
    /// Top functions and time per continuation.
    Text,
    /// pprof (gzipped protobuf; `go tool pprof`, Pyroscope, Parca,
    /// Grafana), samples labelled by continuation.
    Pprof,
}

#[derive(Args, Debug)]
pub struct ProfileArgs {
    /// The module (.wasm or .wat).
    pub file: PathBuf,
    /// Arguments passed to the program (WASI argv[1..]), or to the invoked
    /// function.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// Samples per second (wall-clock time of the thread running Wasm).
    #[arg(long, default_value_t = 1000)]
    pub hz: u32,
    /// Write the profile here; the extension chooses the format (.svg,
    /// .json for the Firefox Profiler, .folded, .txt, .pb.gz for pprof)
    /// unless --format does.
    /// Without it, the text summary goes to stderr.
    #[arg(short, long, value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<ProfileFormat>,
    /// Size of the sample buffer, allocated before the run (suffixes k, m).
    #[arg(long, value_parser = parse_size, default_value = "64m")]
    pub buffer_size: usize,
    /// Frames kept per sample.
    #[arg(long, default_value_t = 1024)]
    pub max_depth: usize,
    /// Also measure how long each continuation waits suspended (off-CPU
    /// time) next to how long it runs, from timestamped switch events
    /// (the flight recorder; each switch then calls the event routine,
    /// which slows switch-heavy programs down, at most 2x on yield_loop).
    #[arg(long)]
    pub off_cpu: bool,
    /// Switch events kept for --off-cpu (the newest; times cover these).
    #[arg(long, value_name = "N", default_value_t = 1 << 20, value_parser = parse_events)]
    pub off_cpu_events: usize,
    /// Call this export instead of `_start`, with typed arguments.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Instantiate another module first and make its exports importable
    /// under NAME.
    #[arg(long, value_name = "NAME=FILE")]
    pub preload: Vec<String>,
    /// Pass an environment variable (NAME=VALUE) to the program.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub wasi: WasiArgs,
}
