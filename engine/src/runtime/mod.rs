//! The host API: stores, instances, functions, values and the linker.

pub mod externals;
pub mod func;
pub mod instance;
pub mod linker;
pub mod store;
pub mod values;

pub use externals::{Extern, Global, Memory, Table, Tag};
pub use func::{Func, TypedFunc, WasmParams, WasmResults, WasmTy};
pub use instance::Instance;
pub use linker::Linker;
pub use store::{AsStoreMut, Caller, Store};
pub use values::{ExternRef, OpaqueRef, Val};
