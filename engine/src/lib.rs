//! Switchyard's engine: a WebAssembly JIT on Cranelift.
//!
//! What it does not do: threads and the GC proposal's struct and array
//! types are rejected at validation; it runs on x86-64 Linux only.
//!
//! ```
//! use switchyard_engine::{Engine, Module, Store, Linker};
//! let engine = Engine::default();
//! let module = Module::new(&engine, r#"(module (func (export "add") (param i32 i32) (result i32)
//!     local.get 0 local.get 1 i32.add))"#).unwrap();
//! let mut store = Store::new(&engine, ());
//! let instance = Linker::new(&engine).instantiate(&mut store, &module).unwrap();
//! let add = instance.get_func(&mut store, "add").unwrap().typed::<(i32, i32), i32>(&store).unwrap();
//! assert_eq!(add.call(&mut store, (2, 3)).unwrap(), 5);
//! ```

#![warn(missing_docs)]

mod compile;
mod config;
mod debug;
mod engine;
mod error;
mod module;
mod module_info;
pub mod profiling;
mod runtime;
mod types;
pub mod vm;
pub mod wasi;

pub use compile::cache::default_dir as default_cache_dir;
pub use config::{Config, SwitchingMode};
pub use engine::Engine;
pub use error::{Error, Result, Trap, TrapCode};
pub use module::{Module, supported_features};
pub use module_info::ModuleInfo;
pub use profiling::PerfOutput;
pub use runtime::*;
pub use switchyard_frames as frames;
pub use switchyard_frames::display_name;
pub use types::{
    AddrType, CompositeType, ExternType, FuncType, GlobalType, HeapType, Limits, MemoryType,
    RefType, TableType, TypeId, ValType,
};
