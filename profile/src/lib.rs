//! A sampling profiler for Switchyard programs whose stacks cross
//! continuation boundaries.
//!
//! What it does not do: it samples only the thread that starts it (the one
//! that runs Wasm), on a `CLOCK_MONOTONIC` timer (so a thread blocked in
//! a host call is sampled where it blocks); it names host code called from
//! Wasm from the symbol tables of the executable and its libraries, and
//! shows the host frames below the outermost Wasm frame as one `[host]`
//! frame (for everything else, use perf: `switchyard perf`).
//!
//! How: [`Sampler`] arms a `SIGPROF` timer whose handler walks frame
//! pointers, bounded by the stacks the registry of live stacks announces,
//! into a preallocated buffer; after the run, [`Profile::symbolize`] names
//! the addresses from the engine's code log
//! (`switchyard_engine::profiling::keep_code_log`), and [`output`] writes
//! folded stacks, a flame graph SVG, a Firefox Profiler profile, a pprof
//! profile or a text summary. With a recording of the switch events
//! ([`SwitchTimes`]) it also says how long each continuation waited
//! suspended (off-CPU time), next to the time it ran.

#![warn(missing_docs)]

mod model;
pub mod output;
mod sampler;
mod switch_times;

pub use model::{Frame, Profile, Running, Sample, Symbols, frame_name};
pub use sampler::{MAX_CHAIN, RawSamples, Sampler, SamplerOptions};
pub use switch_times::{ContinuationTime, EntryTime, SwitchTimes};
