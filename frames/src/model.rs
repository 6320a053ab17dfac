//! The frame types.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One entry of a logical backtrace, innermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Frame {
    /// A frame of a Wasm function.
    Wasm(WasmFrame),
    /// Glue code (adapters, trampolines) or host code.
    Host(HostFrame),
    /// The frames above ran on a continuation's stack; below is the
    /// `resume` that runs it, or nothing (the bottom of a parked stack).
    Boundary(Boundary),
    /// Below are the host frames that entered Wasm.
    HostEntry,
    /// The walk ended early (a corrupt or unreadable frame, a full buffer).
    Truncated {
        /// Why.
        reason: String,
    },
    /// This many frames were walked but not kept.
    Skipped {
        /// How many.
        frames: usize,
    },
}

impl Frame {
    /// The Wasm frame, if this is one.
    pub fn as_wasm(&self) -> Option<&WasmFrame> {
        match self {
            Frame::Wasm(w) => Some(w),
            _ => None,
        }
    }

    /// The boundary, if this is one.
    pub fn as_boundary(&self) -> Option<&Boundary> {
        match self {
            Frame::Boundary(b) => Some(b),
            _ => None,
        }
    }
}

/// A frame of a Wasm function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasmFrame {
    /// Module name.
    pub module: Arc<str>,
    /// Function name (name section, export name or `wasm-function[N]`).
    pub function: Arc<str>,
    /// Function index in its module, when the producer knows it (the
    /// profiler's code log does not).
    pub index: Option<u32>,
    /// Byte offset of the instruction in the module, when the code map
    /// has it.
    pub offset: Option<u32>,
    /// The native program counter: exact in the innermost frame of a
    /// stack, a return address in the others.
    pub pc: u64,
    /// Source positions from the module's DWARF, innermost inlined
    /// function first; empty without DWARF or when not looked up.
    #[serde(default)]
    pub locations: Vec<Location>,
}

impl WasmFrame {
    /// `module!function`.
    pub fn qualified_name(&self) -> String {
        format!("{}!{}", self.module, self.function)
    }
}

/// One source position of a Wasm frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// Source file, as the DWARF names it.
    pub file: String,
    /// Line, when known.
    pub line: Option<u32>,
    /// Column, when known.
    pub column: Option<u32>,
    /// The function at this position as the DWARF names it (for all but
    /// the last location of a frame: a function inlined into the next).
    #[serde(default)]
    pub function: Option<String>,
}

impl fmt::Display for Location {
    /// `file:line:column`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

/// Host or glue code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFrame {
    /// The native program counter (a return address but in the innermost
    /// frame).
    pub pc: u64,
    /// `name+offset (file)` from the host binaries' symbols, when looked
    /// up.
    pub symbol: Option<String>,
}

/// Where a walk crosses from a continuation's stack into its resumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Boundary {
    /// The continuation's id.
    pub continuation: u64,
    /// Its entry function, as `module!function`.
    pub entry: Arc<str>,
    /// Tags of the resume's handler clauses (`$name`, with ` (switch)` for
    /// switch clauses); `None` when the producer cannot know them (readers
    /// outside the process).
    pub handlers: Option<Vec<Arc<str>>>,
    /// Whether a resumer follows (false at the bottom of a parked stack).
    pub resumed_here: bool,
    /// What the continuation runs, as `module!function`, when it differs
    /// from `entry`: the first function above the entry that is not a
    /// forwarding wrapper (a fiber library's trampoline calls the fiber's
    /// body through `call_indirect`). `None` when it is the entry or
    /// nobody named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Arc<str>>,
}

impl Boundary {
    /// `continuation #3 (module!entry)`, or with a name
    /// `continuation #3 app!worker (entry lib!entry)`.
    pub fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!(
                "continuation #{} {name} (entry {})",
                self.continuation, self.entry
            ),
            None => format!("continuation #{} ({})", self.continuation, self.entry),
        }
    }
}
