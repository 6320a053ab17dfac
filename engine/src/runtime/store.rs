//! Stores: everything that instances create lives in one store, addressed
//! by small handles.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::instance::InstanceData;
use super::values::Val;
use crate::engine::Engine;
use crate::error::Error;
use crate::types::{FuncType, GlobalType, TypeId};
use crate::vm::layout::{VMFuncRef, VMGlobal, VMHostContext, VMStoreContext, VMTag};
use crate::vm::memory::LinearMemory;
use crate::vm::registry::{self, StoreDescriptor};
use crate::vm::stack_switching::StoreContinuations;
use crate::vm::table::Table as VmTable;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// A host function's body.
pub type HostFn<T> =
    Arc<dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync>;

pub(crate) struct HostFunc<T> {
    pub f: HostFn<T>,
    pub ty: FuncType,
}

/// Where a store function comes from.
pub(crate) enum FuncKind {
    /// A function defined by a Wasm instance.
    Wasm,
    /// Host function `index` of the store's list.
    Host { index: usize },
}

pub(crate) struct FuncEntry {
    pub funcref: *const VMFuncRef,
    /// Copies of the funcref's `code` and `vmctx` (which never change), for
    /// the VM contexts of instances that import the function.
    pub code: usize,
    pub vmctx: usize,
    pub type_id: TypeId,
    pub kind: FuncKind,
}

pub(crate) struct GlobalEntry {
    /// Where the value lives: in `_owned` for a global the host created,
    /// else inline in the VM context of the instance that defines it
    /// (instances live as long as their store).
    storage: *mut VMGlobal,
    _owned: Option<Box<VMGlobal>>,
    pub ty: GlobalType,
}

impl GlobalEntry {
    /// The storage generated code reads and writes.
    pub fn storage(&self) -> *mut VMGlobal {
        self.storage
    }

    pub fn value(&self) -> u128 {
        // SAFETY: `storage` is `owned`, or an instance's inline global,
        // which lives as long as the store that owns this entry; the store
        // is not running Wasm code while the host holds it.
        unsafe { (*self.storage).value }
    }

    pub fn set_value(&mut self, value: u128) {
        // SAFETY: as in `value`.
        unsafe { (*self.storage).value = value }
    }
}

/// The part of a store that does not depend on its data type.
#[doc(hidden)]
// Entities are boxed so that the pointers generated code holds to them stay
// valid when the vectors grow.
#[allow(clippy::vec_box)]
pub struct StoreCore {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) vm: Box<VMStoreContext>,
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) funcs: Vec<FuncEntry>,
    pub(crate) funcref_index: HashMap<usize, u32>,
    pub(crate) memories: Vec<Box<MemoryEntry>>,
    pub(crate) tables: Vec<Box<TableEntry>>,
    pub(crate) globals: Vec<GlobalEntry>,
    pub(crate) tags: Vec<Box<VMTag>>,
    pub(crate) externrefs: Vec<Box<dyn Any + Send + Sync>>,
    pub(crate) host_ctxs: Vec<Box<VMHostContext>>,
    pub(crate) host_funcrefs: Vec<Box<VMFuncRef>>,
    /// The error a host function failed with, carried across the unwind.
    pub(crate) pending_error: Option<Error>,
    /// Continuation stacks and ids.
    pub(crate) conts: Box<StoreContinuations>,
    /// Exception objects thrown in this store.
    pub(crate) exceptions: Box<crate::vm::exceptions::ExceptionArena>,
    /// This store's entry in the registry of live stacks.
    pub(crate) registry: Box<StoreDescriptor>,
}

pub(crate) struct MemoryEntry {
    pub memory: LinearMemory,
    pub ty: crate::types::MemoryType,
}

pub(crate) struct TableEntry {
    pub table: VmTable,
    pub ty: crate::types::TableType,
}

// SAFETY: the raw pointers point into data owned by the store (or by
// modules it keeps alive); a store is used by one thread at a time.
unsafe impl Send for StoreCore {}

/// A store's contents; only reachable through [`AsStoreMut`].
#[doc(hidden)]
pub struct StoreInner<T> {
    pub(crate) core: StoreCore,
    pub(crate) host_funcs: Vec<HostFunc<T>>,
    pub(crate) data: T,
}

/// A store: instances, memories, tables, globals and host data `T`.
pub struct Store<T> {
    pub(crate) inner: Box<StoreInner<T>>,
}

impl<T: 'static> Store<T> {
    /// An empty store.
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        let mut inner = Box::new(StoreInner {
            core: StoreCore {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                vm: Box::new(VMStoreContext {
                    stack_limit: 0,
                    last_exit_fp: 0,
                    last_exit_pc: 0,
                    store: std::ptr::null_mut(),
                    entry_jmpbuf: std::ptr::null_mut(),
                    current_cont: 0,
                    cont_free: 0,
                    cont_live: 0,
                    conts: std::ptr::null_mut(),
                    suspend_clause: 0,
                    unhandled_tag: 0,
                    exceptions: std::ptr::null_mut(),
                    uncaught_exception: 0,
                    handler_cache: Default::default(),
                }),
                exceptions: Box::default(),
                registry: Box::<StoreDescriptor>::default(),
                conts: Box::new(StoreContinuations::new(
                    engine.config().cont_stack_size,
                    engine.config().max_live_continuations,
                    engine.config().trace_creation,
                )),
                instances: Vec::new(),
                funcs: Vec::new(),
                funcref_index: HashMap::new(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                tags: Vec::new(),
                externrefs: Vec::new(),
                host_ctxs: Vec::new(),
                host_funcrefs: Vec::new(),
                pending_error: None,
            },
            host_funcs: Vec::new(),
            data,
        });
        let ptr = &mut *inner as *mut StoreInner<T> as *mut u8;
        inner.core.vm.store = ptr;
        inner.core.vm.conts = &mut *inner.core.conts;
        inner.core.vm.exceptions = &mut *inner.core.exceptions;
        inner.core.registry.context = &*inner.core.vm as *const VMStoreContext as usize;
        let descriptor: *mut StoreDescriptor = &mut *inner.core.registry;
        inner.core.conts.set_descriptor(descriptor);
        registry::add_store(descriptor);
        Store { inner }
    }

    /// The host data.
    pub fn data(&self) -> &T {
        &self.inner.data
    }

    /// The host data, writable.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.inner.data
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.core.engine
    }

    /// The whole logical stack that created continuation `id`, innermost
    /// first, across the resumes that ran it (Wasm frames named by module
    /// and function, boundaries, the host entry; source locations are left
    /// to readers of the module's DWARF). At most 64 return addresses; a
    /// cut stack ends with a [`Frame::Truncated`](switchyard_frames::Frame).
    /// `None` unless [`Config::trace_creation`](crate::Config) is on, or
    /// when that continuation's stack has been reused since.
    pub fn creation_stack(&self, id: u64) -> Option<Vec<switchyard_frames::Frame>> {
        let raw = self.inner.core.conts.creation_stack(id)?;
        Some(super::func::symbolize(&self.inner.core, raw, true))
    }
}

/// Access to a store from the host API: a [`Store`] or a [`Caller`].
pub trait AsStoreMut {
    /// The store's data type.
    type Data: 'static;
    #[doc(hidden)]
    fn inner_mut(&mut self) -> &mut StoreInner<Self::Data>;
    #[doc(hidden)]
    fn inner(&self) -> &StoreInner<Self::Data>;
}

impl<T: 'static> AsStoreMut for Store<T> {
    type Data = T;
    fn inner_mut(&mut self) -> &mut StoreInner<T> {
        &mut self.inner
    }
    fn inner(&self) -> &StoreInner<T> {
        &self.inner
    }
}

impl<S: AsStoreMut> AsStoreMut for &mut S {
    type Data = S::Data;
    fn inner_mut(&mut self) -> &mut StoreInner<S::Data> {
        (**self).inner_mut()
    }
    fn inner(&self) -> &StoreInner<S::Data> {
        (**self).inner()
    }
}

/// The context a host function runs in: the store, and the instance whose
/// code called it.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut StoreInner<T>,
    /// VMContext of the calling Wasm instance, or 0 when the host called.
    pub(crate) caller_vmctx: usize,
}

impl<T: 'static> Caller<'_, T> {
    /// The host data.
    pub fn data(&self) -> &T {
        &self.store.data
    }

    /// The host data, writable.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.store.data
    }

    /// The logical backtrace of the Wasm code that called this host
    /// function, innermost first, across continuations down to the host
    /// entry (empty when the host called it directly).
    pub fn backtrace(&self) -> Vec<switchyard_frames::Frame> {
        if self.caller_vmctx == 0 {
            return Vec::new();
        }
        let ctx: &VMStoreContext = &self.store.core.vm;
        let here = 0u8;
        // SAFETY: we run on the thread executing this store's Wasm code,
        // which is paused in this host call; the exit context was recorded
        // by the host adapter that called us.
        unsafe {
            crate::vm::backtrace::capture(
                ctx,
                ctx.last_exit_pc,
                ctx.last_exit_fp,
                &here as *const u8 as usize,
            );
        }
        super::func::symbolize(&self.store.core, &crate::vm::backtrace::take(), true)
    }

    /// An export of the calling instance (e.g. its `memory`).
    pub fn get_export(&mut self, name: &str) -> Option<super::Extern> {
        if self.caller_vmctx == 0 {
            return None;
        }
        let index = self
            .store
            .core
            .instances
            .iter()
            .position(|i| i.vmctx_addr() == self.caller_vmctx)?;
        super::Instance {
            store: self.store.core.id,
            index: index as u32,
        }
        .get_export_core(&mut self.store.core, name)
    }
}

impl<T: 'static> AsStoreMut for Caller<'_, T> {
    type Data = T;
    fn inner_mut(&mut self) -> &mut StoreInner<T> {
        self.store
    }
    fn inner(&self) -> &StoreInner<T> {
        self.store
    }
}

impl Drop for StoreCore {
    fn drop(&mut self) {
        registry::remove_store(&mut *self.registry);
    }
}

impl StoreCore {
    /// A name for the tag at `ptr`: the export name an instance gave it,
    /// else `tag N` of the module defining it.
    pub(crate) fn describe_tag(&self, ptr: usize) -> Option<String> {
        if ptr == 0 {
            return None;
        }
        let id = self
            .tags
            .iter()
            .position(|t| &**t as *const VMTag as usize == ptr)? as u32;
        let mut fallback = None;
        for inst in &self.instances {
            let Some(index) = inst.tag_ids.iter().position(|t| *t == id) else {
                continue;
            };
            let info = inst.module.info();
            for (name, export) in &info.exports {
                if *export == crate::module_info::ExportIndex::Tag(index as u32) {
                    return Some(format!("${name}"));
                }
            }
            if index as u32 >= info.num_imported_tags && fallback.is_none() {
                fallback = Some(match info.tag_names.get(&(index as u32)) {
                    Some(name) => format!("${name}"),
                    None => format!("tag {index} of {}", inst.module.name()),
                });
            }
        }
        fallback
    }

    /// Registers a function entry; returns its store index.
    pub(crate) fn push_func(&mut self, entry: FuncEntry) -> u32 {
        let index = self.funcs.len() as u32;
        self.funcref_index.insert(entry.funcref as usize, index);
        self.funcs.push(entry);
        index
    }

    /// Creates a global.
    pub(crate) fn push_global(&mut self, ty: GlobalType, raw: u128) -> u32 {
        let mut owned = Box::new(VMGlobal { value: raw });
        self.globals.push(GlobalEntry {
            storage: &mut *owned,
            _owned: Some(owned),
            ty,
        });
        self.globals.len() as u32 - 1
    }

    /// Registers a global whose storage is inline in an instance's VM
    /// context.
    pub(crate) fn push_instance_global(&mut self, ty: GlobalType, storage: *mut VMGlobal) -> u32 {
        self.globals.push(GlobalEntry {
            storage,
            _owned: None,
            ty,
        });
        self.globals.len() as u32 - 1
    }

    pub(crate) fn check(&self, store_id: u64) {
        assert_eq!(
            self.id, store_id,
            "a handle was used with a store it does not belong to"
        );
    }
}

impl<T: 'static> StoreInner<T> {
    /// Creates a host function in this store.
    pub(crate) fn push_host_func(&mut self, ty: &FuncType, f: HostFn<T>) -> Result<u32, Error> {
        let engine = self.core.engine.clone();
        let type_id = engine.register_func_type(ty);
        let glue = engine.entry_glue(type_id)?;
        let index = self.host_funcs.len();
        self.host_funcs.push(HostFunc { f, ty: ty.clone() });
        let ctx = Box::new(VMHostContext {
            dispatch: super::func::host_dispatch::<T> as *const () as usize,
            store: &mut *self.core.vm,
            index,
        });
        let funcref = Box::new(VMFuncRef {
            code: glue.host_adapter,
            type_id: type_id as u64,
            vmctx: &*ctx as *const VMHostContext as usize,
        });
        let ptr = &*funcref as *const VMFuncRef;
        let (code, vmctx) = (funcref.code, funcref.vmctx);
        self.core.host_ctxs.push(ctx);
        self.core.host_funcrefs.push(funcref);
        Ok(self.core.push_func(FuncEntry {
            funcref: ptr,
            code,
            vmctx,
            type_id,
            kind: FuncKind::Host { index },
        }))
    }
}
