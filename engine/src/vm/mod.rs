//! The runtime structures generated code works on, and the machinery
//! around them: code memory, linear memory, tables, host entry and traps.

pub mod backtrace;
pub mod code_lookup;
pub mod code_memory;
pub mod entry;
pub mod events;
pub mod exceptions;
pub(crate) mod instance;
pub mod layout;
pub(crate) mod libcalls;
pub mod memory;
pub mod registry;
pub mod signals;
pub mod stack_switching;
pub mod table;
