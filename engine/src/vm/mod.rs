//! The runtime structures generated code works on, and the machinery
//! around them: code memory, linear memory, tables, host entry and traps,
//! the stacks that continuations run on, and the registry of live stacks.
//!
//! This is the engine's lowest layer but for `error`, `types` and
//! `module_info`: it imports nothing from the compiler or the host API
//! (`tests/layers.rs` checks it).
//!
//! Public, for the other crates and the engine's tests: the registry
//! (`registry`), switch events (`events`), the record layout of
//! continuations (`stack_switching::continuation`), the store context
//! (`layout`) and the pc lookup (`code_lookup`). The rest is the engine's
//! own.

pub(crate) mod backtrace;
pub mod code_lookup;
pub(crate) mod code_memory;
pub(crate) mod entry;
pub mod events;
pub(crate) mod exceptions;
pub(crate) mod instance;
pub mod layout;
pub(crate) mod libcalls;
pub(crate) mod memory;
pub mod registry;
pub(crate) mod signals;
pub use signals::ensure_alt_stack;
pub mod stack_switching;
pub(crate) mod table;
