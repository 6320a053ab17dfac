//! The part of an instance that host routines reach through its VMContext:
//! its memories and tables, its segments, and what the module declares.
//!
//! The runtime's `InstanceData` owns one and points the VMContext's
//! instance slot ([`VMCTX_INSTANCE`](super::layout::VMCTX_INSTANCE)) at it,
//! so that libcalls and switch events need nothing from the layers above.

use std::sync::Arc;

use super::memory::LinearMemory;
use super::table::Table;
use crate::module_info::ModuleInfo;

/// An instance as libcalls see it.
pub(crate) struct VMInstance {
    /// What the module declares (index spaces, segments, names).
    pub info: Arc<ModuleInfo>,
    /// The module's binary, where data segments live.
    pub bytes: Arc<[u8]>,
    /// Every memory of the instance's memory index space; they live in the
    /// store, which outlives its instances.
    pub memories: Vec<*mut LinearMemory>,
    /// Every table of the instance's table index space, likewise.
    pub tables: Vec<*mut Table>,
    /// Whether `data.drop` dropped data segment i.
    pub dropped_data: Vec<bool>,
    /// Element segments' values (empty once dropped).
    pub elements: Vec<Vec<u64>>,
}

impl VMInstance {
    /// The instance behind a VMContext.
    ///
    /// # Safety
    /// `vmctx` must be the VMContext of a live instance.
    pub unsafe fn of_vmctx(vmctx: *mut u8) -> *mut VMInstance {
        // SAFETY: the slot at VMCTX_INSTANCE holds the instance pointer for
        // the VMContext's whole life; see the function's contract.
        unsafe { *(vmctx.add(super::layout::VMCTX_INSTANCE as usize) as *const *mut VMInstance) }
    }

    /// Memory `index` of the instance.
    pub fn memory_mut(&mut self, index: u32) -> &mut LinearMemory {
        // SAFETY: memories are boxed in the store, which outlives its
        // instances; generated code is paused in the libcall using this.
        unsafe { &mut *self.memories[index as usize] }
    }

    /// Table `index` of the instance.
    pub fn table_mut(&mut self, index: u32) -> &mut Table {
        // SAFETY: as for memories.
        unsafe { &mut *self.tables[index as usize] }
    }

    /// The bytes of data segment `index` (empty once dropped).
    pub fn data_segment(&self, index: u32) -> &[u8] {
        if self.dropped_data[index as usize] {
            return &[];
        }
        let range = self.info.data[index as usize].bytes.clone();
        &self.bytes[range]
    }

    /// `data.drop`.
    pub fn drop_data(&mut self, index: u32) {
        self.dropped_data[index as usize] = true;
    }

    /// `elem.drop`.
    pub fn drop_elem(&mut self, index: u32) {
        self.elements[index as usize] = Vec::new();
    }

    /// `table.init`; `Err` when out of bounds.
    pub fn table_init(
        &mut self,
        table: u32,
        elem: u32,
        dst: u64,
        src: u64,
        len: u64,
    ) -> Result<(), ()> {
        let seg_len = self.elements[elem as usize].len() as u64;
        let size = self.table_mut(table).size();
        let (Some(src_end), Some(dst_end)) = (src.checked_add(len), dst.checked_add(len)) else {
            return Err(());
        };
        if src_end > seg_len || dst_end > size {
            return Err(());
        }
        // Both ranges lie inside vectors, so they fit in usize.
        let values = self.elements[elem as usize][src as usize..src_end as usize].to_vec();
        self.table_mut(table).elements_mut()[dst as usize..dst_end as usize]
            .copy_from_slice(&values);
        Ok(())
    }
}
