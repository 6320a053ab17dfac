//! Instantiation: checking imports, building the VMContext, running
//! segment initializers and the start function.

use super::externals::{Extern, Global, Memory, Table, Tag};
use super::func::Func;
use super::store::{
    AsStoreMut, FuncEntry, FuncKind, GlobalEntry, MemoryEntry, StoreCore, TableEntry,
};
use crate::error::{Error, Trap, TrapCode};
use crate::module::Module;
use crate::module_info::{ConstExpr, ConstOp, DataMode, ElementMode, ExportIndex};
use crate::types::{AddrType, ExternType};
use crate::vm::instance::VMInstance;
use crate::vm::layout::*;
use crate::vm::memory::{self, LinearMemory};
use crate::vm::table::Table as VmTable;

/// An instance of a module in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

/// An instance's runtime state, owned by its store.
pub(crate) struct InstanceData {
    pub module: Module,
    /// The VM context, in 16-byte units so that it is 16-byte aligned
    /// (its inline globals are).
    vmctx: Box<[VmctxUnit]>,
    /// What libcalls reach through the VMContext's instance slot.
    pub vm: VMInstance,
    pub func_ids: Vec<u32>,
    pub memory_ids: Vec<u32>,
    pub table_ids: Vec<u32>,
    pub global_ids: Vec<u32>,
    pub tag_ids: Vec<u32>,
}

impl InstanceData {
    /// Address of the VMContext.
    pub fn vmctx_addr(&self) -> usize {
        self.vmctx.as_ptr() as usize
    }

    fn slot(&mut self, offset: u32) -> &mut u64 {
        let offset = offset as usize;
        &mut self.vmctx[offset / 16].0[offset % 16 / 8]
    }

    fn slot_value(&self, offset: u32) -> u64 {
        let offset = offset as usize;
        self.vmctx[offset / 16].0[offset % 16 / 8]
    }
}

/// 16 bytes of a VM context.
#[derive(Clone, Copy, Default)]
#[repr(C, align(16))]
struct VmctxUnit([u64; 2]);

fn trap(code: TrapCode) -> Error {
    Error::Trap(Trap::new(code))
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import
    /// order.
    pub fn new(
        mut store: impl AsStoreMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        let core = &mut store.inner_mut().core;
        let instance = Instance::allocate(core, module, imports)?;
        let start = instance.initialize(core)?;
        if let Some(f) = start {
            f.call(&mut store, &[], &mut [])?;
        }
        Ok(instance)
    }

    fn allocate(
        core: &mut StoreCore,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance, Error> {
        if !std::ptr::eq(&*module.engine().0, &*core.engine.0) {
            return Err(Error::Link(
                "module and store belong to different engines".into(),
            ));
        }
        let info = module.info();
        if imports.len() != info.imports.len() {
            return Err(Error::Link(format!(
                "expected {} imports, got {}",
                info.imports.len(),
                imports.len()
            )));
        }
        let offsets = VMOffsets::new(info);
        let mut data = Box::new(InstanceData {
            module: module.clone(),
            vmctx: vec![VmctxUnit::default(); offsets.size().div_ceil(16) as usize]
                .into_boxed_slice(),
            vm: VMInstance {
                info: module.0.info.clone(),
                bytes: module.0.bytes.clone(),
                memories: Vec::new(),
                tables: Vec::new(),
                dropped_data: vec![false; info.data.len()],
                elements: Vec::new(),
            },
            func_ids: Vec::new(),
            memory_ids: Vec::new(),
            table_ids: Vec::new(),
            global_ids: Vec::new(),
            tag_ids: Vec::new(),
        });
        *data.slot(VMCTX_STORE as u32) = &mut *core.vm as *mut VMStoreContext as u64;
        let data_ptr = &mut data.vm as *mut VMInstance as u64;
        *data.slot(VMCTX_INSTANCE as u32) = data_ptr;

        for (import, ext) in info.imports.iter().zip(imports) {
            let ok = match (&import.ty, ext) {
                (ExternType::Func(want), Extern::Func(f)) => {
                    core.check(f.store);
                    let entry = &core.funcs[f.index as usize];
                    let have = entry.type_id;
                    if have == *want {
                        data.func_ids.push(f.index);
                        let i = data.func_ids.len() as u32 - 1;
                        *data.slot(offsets.imported_func(i)) = entry.funcref as u64;
                        let call = offsets.import_call(i);
                        *data.slot(call + IMPORT_CALL_CODE) = entry.code as u64;
                        *data.slot(call + IMPORT_CALL_VMCTX) = entry.vmctx as u64;
                    }
                    have == *want
                }
                (ExternType::Global(want), Extern::Global(g)) => {
                    core.check(g.store);
                    let have = core.globals[g.index as usize].ty;
                    let ok = have.mutable == want.mutable
                        && if want.mutable {
                            have.content == want.content
                        } else {
                            have.content.is_subtype_of(&want.content)
                        };
                    if ok {
                        data.global_ids.push(g.index);
                        let i = data.global_ids.len() as u32 - 1;
                        *data.slot(offsets.global(i)) =
                            core.globals[g.index as usize].storage() as u64;
                    }
                    ok
                }
                (ExternType::Table(want), Extern::Table(t)) => {
                    core.check(t.store);
                    let entry = &mut core.tables[t.index as usize];
                    let have = crate::types::Limits {
                        min: entry.table.size(),
                        max: entry.ty.limits.max,
                    };
                    let ok = entry.ty.addr == want.addr
                        && entry.ty.element == want.element
                        && have.matches(&want.limits);
                    if ok {
                        data.table_ids.push(t.index);
                        data.vm.tables.push(&mut entry.table);
                        let i = data.table_ids.len() as u32 - 1;
                        *data.slot(offsets.table(i)) = entry.table.vm() as u64;
                    }
                    ok
                }
                (ExternType::Memory(want), Extern::Memory(m)) => {
                    core.check(m.store);
                    let mem = &mut core.memories[m.index as usize];
                    let have = crate::types::Limits {
                        min: mem.memory.pages(),
                        max: mem.ty.limits.max,
                    };
                    let ok = mem.ty.addr == want.addr && have.matches(&want.limits);
                    if ok {
                        data.memory_ids.push(m.index);
                        data.vm.memories.push(&mut mem.memory);
                        let i = data.memory_ids.len() as u32 - 1;
                        *data.slot(offsets.memory(i)) = mem.memory.vm() as u64;
                        *data.slot(offsets.memory_base(i)) = mem.memory.base() as u64;
                    }
                    ok
                }
                (ExternType::Tag(want), Extern::Tag(t)) => {
                    core.check(t.store);
                    let have = core.tags[t.index as usize].type_id as u32;
                    if have == *want {
                        data.tag_ids.push(t.index);
                        let i = data.tag_ids.len() as u32 - 1;
                        *data.slot(offsets.tag(i)) =
                            &*core.tags[t.index as usize] as *const VMTag as u64;
                    }
                    have == *want
                }
                _ => false,
            };
            if !ok {
                return Err(Error::Link(format!(
                    "incompatible import type for `{}::{}`: expected {}",
                    import.module,
                    import.name,
                    import.ty.kind()
                )));
            }
        }

        // Functions first: constant expressions may take their references.
        let vmctx = data.vmctx_addr();
        let compiled = &module.0.compiled;
        for f in info.num_imported_funcs..info.funcs.len() as u32 {
            let off = offsets.defined_funcref(f);
            let decl = &info.funcs[f as usize];
            let code = compiled.func_address(info, f);
            *data.slot(off + VMFUNCREF_CODE as u32) = code as u64;
            *data.slot(off + VMFUNCREF_TYPE as u32) = decl.type_id as u64;
            *data.slot(off + VMFUNCREF_VMCTX as u32) = vmctx as u64;
            let funcref = (vmctx + off as usize) as *const VMFuncRef;
            let id = core.push_func(FuncEntry {
                funcref,
                code,
                vmctx,
                type_id: decl.type_id,
                kind: FuncKind::Wasm,
            });
            data.func_ids.push(id);
        }
        for (i, g) in info
            .globals
            .iter()
            .enumerate()
            .skip(info.num_imported_globals as usize)
        {
            let value = eval_wide(
                &data,
                &core.globals,
                g.init.as_ref().expect("defined global"),
            );
            let inline = offsets.defined_global(i as u32).expect("a defined global");
            *data.slot(inline) = value as u64;
            *data.slot(inline + 8) = (value >> 64) as u64;
            let storage = (data.vmctx_addr() + inline as usize) as *mut VMGlobal;
            let id = core.push_instance_global(g.ty, storage);
            data.global_ids.push(id);
            *data.slot(offsets.global(i as u32)) = storage as u64;
        }
        let max_pages = core.engine.config().max_memory_pages;
        for (i, m) in info
            .memories
            .iter()
            .enumerate()
            .skip(info.num_imported_memories as usize)
        {
            let max = memory::max_pages(m, max_pages);
            if m.limits.min > max {
                return Err(Error::Link(format!(
                    "memory {i} needs {} pages, more than the limit of {max}",
                    m.limits.min
                )));
            }
            let memory = LinearMemory::new(m.limits.min, max, m.addr)
                .map_err(|e| Error::Link(format!("cannot allocate memory {i}: {e}")))?;
            core.memories.push(Box::new(MemoryEntry { memory, ty: *m }));
            data.memory_ids.push(core.memories.len() as u32 - 1);
            let entry = core.memories.last_mut().expect("pushed");
            data.vm.memories.push(&mut entry.memory);
            *data.slot(offsets.memory(i as u32)) = entry.memory.vm() as u64;
            *data.slot(offsets.memory_base(i as u32)) = entry.memory.base() as u64;
        }
        for (i, t) in info
            .tables
            .iter()
            .enumerate()
            .skip(info.num_imported_tables as usize)
        {
            let init = t.init.as_ref().map_or(0, |e| eval(&data, &core.globals, e));
            let table = VmTable::new(t.ty.limits.min, t.ty.limits.max, init)
                .ok_or_else(|| Error::Link(format!("table {i} is too large")))?;
            core.tables.push(Box::new(TableEntry { table, ty: t.ty }));
            data.table_ids.push(core.tables.len() as u32 - 1);
            let entry = core.tables.last_mut().expect("pushed");
            data.vm.tables.push(&mut entry.table);
            *data.slot(offsets.table(i as u32)) = entry.table.vm() as u64;
        }
        for (i, &t) in info
            .tags
            .iter()
            .enumerate()
            .skip(info.num_imported_tags as usize)
        {
            core.tags.push(Box::new(VMTag {
                type_id: info.types[t as usize] as u64,
            }));
            data.tag_ids.push(core.tags.len() as u32 - 1);
            *data.slot(offsets.tag(i as u32)) =
                &**core.tags.last().expect("pushed") as *const VMTag as u64;
        }
        let elements = info
            .elements
            .iter()
            .map(|seg| {
                seg.items
                    .iter()
                    .map(|e| eval(&data, &core.globals, e))
                    .collect()
            })
            .collect();
        data.vm.elements = elements;
        core.instances.push(data);
        Ok(Instance {
            store: core.id,
            index: core.instances.len() as u32 - 1,
        })
    }

    /// Applies active segments; returns the start function to run.
    fn initialize(&self, core: &mut StoreCore) -> Result<Option<Func>, Error> {
        let StoreCore {
            instances,
            globals,
            id,
            ..
        } = core;
        let data = &mut instances[self.index as usize];
        let module = data.module.clone();
        let info = module.info();
        for (i, seg) in info.elements.iter().enumerate() {
            match &seg.mode {
                ElementMode::Active { table, offset } => {
                    let offset = eval(data, globals, offset);
                    let offset = match info.tables[*table as usize].ty.addr {
                        AddrType::I32 => offset as u32 as u64,
                        AddrType::I64 => offset,
                    };
                    let len = data.vm.elements[i].len() as u64;
                    data.vm
                        .table_init(*table, i as u32, offset, 0, len)
                        .map_err(|_| trap(TrapCode::TableOutOfBounds))?;
                    data.vm.drop_elem(i as u32);
                }
                ElementMode::Declared => data.vm.drop_elem(i as u32),
                ElementMode::Passive => {}
            }
        }
        for (i, seg) in info.data.iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let offset = eval(data, globals, offset);
                let offset = match info.memories[*memory as usize].addr {
                    AddrType::I32 => offset as u32 as u64,
                    AddrType::I64 => offset,
                };
                let bytes = &module.bytes()[seg.bytes.clone()];
                let mem = data.vm.memory_mut(*memory).data_mut();
                let Some(range) = usize::try_from(offset)
                    .ok()
                    .and_then(|start| Some(start..start.checked_add(bytes.len())?))
                    .filter(|range| range.end <= mem.len())
                else {
                    return Err(trap(TrapCode::MemoryOutOfBounds));
                };
                mem[range].copy_from_slice(bytes);
                data.vm.drop_data(i as u32);
            }
        }
        Ok(info.start.map(|f| Func {
            store: *id,
            index: data.func_ids[f as usize],
        }))
    }

    /// An export by name.
    pub fn get_export(&self, mut store: impl AsStoreMut, name: &str) -> Option<Extern> {
        self.get_export_core(&mut store.inner_mut().core, name)
    }

    pub(crate) fn get_export_core(&self, core: &mut StoreCore, name: &str) -> Option<Extern> {
        core.check(self.store);
        let data = &core.instances[self.index as usize];
        let index = *data.module.info().export_map.get(name)?;
        let store = self.store;
        Some(match index {
            ExportIndex::Func(i) => Extern::Func(Func {
                store,
                index: data.func_ids[i as usize],
            }),
            ExportIndex::Memory(i) => Extern::Memory(Memory {
                store,
                index: data.memory_ids[i as usize],
            }),
            ExportIndex::Table(i) => Extern::Table(Table {
                store,
                index: data.table_ids[i as usize],
            }),
            ExportIndex::Global(i) => Extern::Global(Global {
                store,
                index: data.global_ids[i as usize],
            }),
            ExportIndex::Tag(i) => Extern::Tag(Tag {
                store,
                index: data.tag_ids[i as usize],
            }),
        })
    }

    /// An exported function.
    pub fn get_func(&self, store: impl AsStoreMut, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// An exported memory.
    pub fn get_memory(&self, store: impl AsStoreMut, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// An exported global.
    pub fn get_global(&self, store: impl AsStoreMut, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// All exports, in module order.
    pub fn exports(&self, mut store: impl AsStoreMut) -> Vec<(String, Extern)> {
        let core = &mut store.inner_mut().core;
        core.check(self.store);
        let names: Vec<String> = core.instances[self.index as usize]
            .module
            .info()
            .exports
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        names
            .into_iter()
            .filter_map(|n| {
                let e = self.get_export_core(core, &n)?;
                Some((n, e))
            })
            .collect()
    }

    /// The module this is an instance of.
    pub fn module(&self, store: &impl AsStoreMut) -> Module {
        store.inner().core.instances[self.index as usize]
            .module
            .clone()
    }
}

/// Evaluates a validated constant expression of a one-word type (an
/// offset, a table element) to its raw value.
fn eval(data: &InstanceData, globals: &[GlobalEntry], expr: &ConstExpr) -> u64 {
    eval_wide(data, globals, expr) as u64
}

/// Evaluates a validated constant expression to a raw value of any type,
/// a `v128` included.
fn eval_wide(data: &InstanceData, globals: &[GlobalEntry], expr: &ConstExpr) -> u128 {
    let mut stack: Vec<u128> = Vec::with_capacity(2);
    let offsets = VMOffsets::new(data.module.info());
    let info = data.module.info();
    for op in &expr.0 {
        let v = match *op {
            ConstOp::I32(v) => v as u32 as u128,
            ConstOp::I64(v) => v as u64 as u128,
            ConstOp::F32(v) => v as u128,
            ConstOp::F64(v) => v as u128,
            ConstOp::V128(v) => v,
            ConstOp::RefNull => 0,
            ConstOp::RefFunc(f) => {
                if info.is_imported_func(f) {
                    data.slot_value(offsets.imported_func(f)) as u128
                } else {
                    (data.vmctx_addr() + offsets.defined_funcref(f) as usize) as u128
                }
            }
            ConstOp::GlobalGet(g) => globals[data.global_ids[g as usize] as usize].value(),
            ConstOp::I32Add | ConstOp::I32Sub | ConstOp::I32Mul => {
                let b = stack.pop().unwrap_or(0) as u32;
                let a = stack.pop().unwrap_or(0) as u32;
                (match op {
                    ConstOp::I32Add => a.wrapping_add(b),
                    ConstOp::I32Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
            ConstOp::I64Add | ConstOp::I64Sub | ConstOp::I64Mul => {
                let b = stack.pop().unwrap_or(0) as u64;
                let a = stack.pop().unwrap_or(0) as u64;
                (match op {
                    ConstOp::I64Add => a.wrapping_add(b),
                    ConstOp::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }) as u128
            }
        };
        stack.push(v);
    }
    stack.pop().unwrap_or(0)
}
