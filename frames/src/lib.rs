//! One model of a logical backtrace: the frames of every stack a program
//! runs on, innermost first, with a marker wherever the walk crosses from a
//! continuation into the code that resumed it.
//!
//! What it does not do: it walks nothing and names nothing. The engine
//! (from a trap or a host call, in its own process) and the unwinder (from
//! the registry of another process or a core file) each produce a
//! [`Frame`] list, filling in what they know; every tool then prints it
//! with [`text`] or serializes it with serde. So a trap report, `switchyard
//! bt`, the inspector and its snapshots show one frame the same way and
//! write it in one JSON shape.
//!
//! The JSON shape is serde's rendering of [`Frame`]: an object whose `kind`
//! says which variant it is (`wasm`, `host`, `boundary`, `host_entry`,
//! `truncated`, `skipped`), with the variant's fields beside it.
//! Later additions (a continuation's name, where it was created, what it
//! waits for) are new optional fields of [`Boundary`] or [`WasmFrame`], so
//! readers of the current shape keep working.

#![warn(missing_docs)]

mod escape;
mod model;
pub mod text;

pub use escape::display_name;
pub use model::{Boundary, Frame, HostFrame, Location, WasmFrame};
