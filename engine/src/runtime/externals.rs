//! Memories, tables, globals and tags as host handles.

use super::func::Func;
use super::store::{AsStoreMut, MemoryEntry, TableEntry};
use super::values::Val;
use crate::error::Error;
use crate::types::{GlobalType, MemoryType, TableType, TypeId};
use crate::vm::layout::VMTag;
use crate::vm::memory::{self, LinearMemory};
use crate::vm::table::Table as VmTable;

/// Anything an instance can import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A global.
    Global(Global),
    /// A table.
    Table(Table),
    /// A memory.
    Memory(Memory),
    /// A tag.
    Tag(Tag),
}

/// A linear memory in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Memory {
    /// A new memory.
    pub fn new(mut store: impl AsStoreMut, ty: MemoryType) -> Result<Memory, Error> {
        let core = &mut store.inner_mut().core;
        let max = memory::max_pages(&ty, core.engine.config().max_memory_pages);
        let memory = LinearMemory::new(ty.limits.min, max, ty.addr)
            .map_err(|e| Error::Host(format!("cannot allocate memory: {e}")))?;
        core.memories.push(Box::new(MemoryEntry { memory, ty }));
        Ok(Memory {
            store: core.id,
            index: core.memories.len() as u32 - 1,
        })
    }

    fn entry<'a>(&self, store: &'a impl AsStoreMut) -> &'a MemoryEntry {
        let core = &store.inner().core;
        core.check(self.store);
        &core.memories[self.index as usize]
    }

    /// The memory's bytes.
    pub fn data<'a>(&self, store: &'a impl AsStoreMut) -> &'a [u8] {
        self.entry(store).memory.data()
    }

    /// The memory's bytes, writable.
    pub fn data_mut<'a, S: AsStoreMut>(&self, store: &'a mut S) -> &'a mut [u8] {
        let core = &mut store.inner_mut().core;
        core.check(self.store);
        core.memories[self.index as usize].memory.data_mut()
    }

    /// Size in pages.
    pub fn size(&self, store: &impl AsStoreMut) -> u64 {
        self.entry(store).memory.pages()
    }

    /// Grows by `delta` pages; returns the old size.
    pub fn grow(&self, mut store: impl AsStoreMut, delta: u64) -> Option<u64> {
        let core = &mut store.inner_mut().core;
        core.check(self.store);
        core.memories[self.index as usize].memory.grow(delta)
    }

    /// The memory's declared type.
    pub fn ty(&self, store: &impl AsStoreMut) -> MemoryType {
        self.entry(store).ty
    }
}

/// A table in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Table {
    /// A new table with every element set to `init`.
    pub fn new(mut store: impl AsStoreMut, ty: TableType, init: Val) -> Result<Table, Error> {
        let core = &mut store.inner_mut().core;
        // Table elements are references: one word.
        let raw = init.to_raw(core) as u64;
        let table = VmTable::new(ty.limits.min, ty.limits.max, raw)
            .ok_or_else(|| Error::Host("table too large".into()))?;
        core.tables.push(Box::new(TableEntry { table, ty }));
        Ok(Table {
            store: core.id,
            index: core.tables.len() as u32 - 1,
        })
    }

    /// Element `index`.
    pub fn get(&self, store: &impl AsStoreMut, index: u64) -> Option<Val> {
        let core = &store.inner().core;
        core.check(self.store);
        let entry = &core.tables[self.index as usize];
        let raw = *entry.table.elements().get(index as usize)?;
        Some(Val::from_raw(
            core,
            raw.into(),
            &crate::types::ValType::Ref(entry.ty.element),
        ))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsStoreMut, index: u64, value: Val) -> Result<(), Error> {
        let core = &mut store.inner_mut().core;
        core.check(self.store);
        let raw = value.to_raw(core) as u64;
        let slot = core.tables[self.index as usize]
            .table
            .elements_mut()
            .get_mut(index as usize)
            .ok_or_else(|| Error::Usage("table index out of bounds".into()))?;
        *slot = raw;
        Ok(())
    }

    /// Number of elements.
    pub fn size(&self, store: &impl AsStoreMut) -> u64 {
        let core = &store.inner().core;
        core.check(self.store);
        core.tables[self.index as usize].table.size()
    }

    /// The table's type.
    pub fn ty(&self, store: &impl AsStoreMut) -> TableType {
        let core = &store.inner().core;
        core.check(self.store);
        core.tables[self.index as usize].ty
    }
}

/// A global in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Global {
    /// A new global.
    pub fn new(mut store: impl AsStoreMut, ty: GlobalType, value: Val) -> Result<Global, Error> {
        let core = &mut store.inner_mut().core;
        if !value.matches(core, &ty.content) {
            return Err(Error::Usage(format!(
                "global value does not have type {}",
                ty.content
            )));
        }
        let raw = value.to_raw(core);
        let index = core.push_global(ty, raw);
        Ok(Global {
            store: core.id,
            index,
        })
    }

    /// The current value.
    pub fn get(&self, store: &impl AsStoreMut) -> Val {
        let core = &store.inner().core;
        core.check(self.store);
        let g = &core.globals[self.index as usize];
        Val::from_raw(core, g.value(), &g.ty.content)
    }

    /// Sets a mutable global.
    pub fn set(&self, mut store: impl AsStoreMut, value: Val) -> Result<(), Error> {
        let core = &mut store.inner_mut().core;
        core.check(self.store);
        let ty = core.globals[self.index as usize].ty;
        if !ty.mutable {
            return Err(Error::Usage("global is immutable".into()));
        }
        if !value.matches(core, &ty.content) {
            return Err(Error::Usage(format!(
                "global value does not have type {}",
                ty.content
            )));
        }
        let raw = value.to_raw(core);
        core.globals[self.index as usize].set_value(raw);
        Ok(())
    }

    /// The global's type.
    pub fn ty(&self, store: &impl AsStoreMut) -> GlobalType {
        let core = &store.inner().core;
        core.check(self.store);
        core.globals[self.index as usize].ty
    }
}

/// An exception or control tag in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tag {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Tag {
    /// A new tag with the signature of canonical function type `ty`.
    pub fn new(mut store: impl AsStoreMut, ty: TypeId) -> Tag {
        let core = &mut store.inner_mut().core;
        core.tags.push(Box::new(VMTag { type_id: ty as u64 }));
        Tag {
            store: core.id,
            index: core.tags.len() as u32 - 1,
        }
    }
}
