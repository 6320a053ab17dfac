//! Logical backtraces across WebAssembly continuation stacks.
//!
//! Each stack segment is unwound with `framehop` from call frame
//! information: the generated code's `.eh_frame` (found through the
//! registry) and, for host frames, the `.eh_frame` of the mapped files.
//! What it does not do: it does not evaluate DWARF CFA expressions (the
//! continuation trampoline's CFI uses them), so it crosses trampolines
//! itself, from the registry's records. It reads everything through
//! [`Memory`] and the layout documented in docs/registry.md, never through
//! the engine's Rust types, so the same code serves this process, another
//! process and a core file.

#![warn(missing_docs)]

pub mod cfi;
pub mod core;
pub mod dwarf;
pub mod elf;
pub mod fresh;
pub mod groups;
pub mod memory;
pub mod naming;
pub mod ptrace;
pub mod registry;
pub mod report;
pub mod snapshot_memory;
pub mod symbols;
pub mod walk;

pub use cfi::CfiUnwinder;
pub use memory::{Memory, PageCachedMemory, ProcessMemory, ReadError, SliceMemory};
pub use registry::{Snapshot, StackRecord, State, StoreInfo};
pub use snapshot_memory::SnapshotMemory;
pub use symbols::{HostSymbol, HostSymbols};
pub use walk::{
    Limits, Start, Step, walk, walk_from, walk_suspended, walk_suspended_with, walk_with,
};
