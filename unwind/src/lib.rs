//! Logical backtraces across WebAssembly continuation stacks.
//!
//! What it does not do: it does not evaluate DWARF CFA expressions (the
//! continuation trampoline's CFI uses them), so it crosses trampolines
//! itself, from the registry's records. It reads everything through
//! [`Memory`] and the layout documented in docs/registry.md, never through
//! the engine's Rust types, so the same code serves this process, another
//! process and a core file.

pub mod core;
pub mod dwarf;
pub mod elf;
pub mod memory;
pub mod ptrace;
pub mod registry;
pub mod report;
pub mod walk;

pub use memory::{Memory, ProcessMemory, ReadError, SliceMemory};
pub use registry::{Snapshot, StackRecord, State, StoreInfo};
pub use walk::{Limits, Start, Step, walk, walk_suspended};
