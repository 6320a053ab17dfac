//! The runtime side of stack switching: what generated code switches
//! between, and the host code around it.
//!
//! - `continuation.rs`: the control context, the record at the top of
//!   every continuation stack (its layout is what the registry publishes),
//!   the entry trampoline that is the bottom frame of every continuation
//!   stack with its hand-written CFI, and the host-side stack switch;
//! - `stack.rs`: continuation stacks (mmap, guard page) and their pool;
//! - `store_continuations.rs`: one store's continuations: creating them,
//!   ids, the live limit, the free list, ending them after a trap;
//! - `routines.rs`: `cont.new` and handler search, called from generated
//!   code in both modes;
//! - `libcall.rs`: `resume`, `suspend` and `switch` done by the host, for
//!   `SwitchingMode::Libcall`.
//!
//! The translation of the instructions is in `compile::stack_switching`;
//! docs/stack-switching.md describes the protocol both sides follow.

pub mod continuation;
pub(crate) mod libcall;
pub(crate) mod routines;
pub(crate) mod stack;
pub(crate) mod store_continuations;

pub(crate) use store_continuations::StoreContinuations;
