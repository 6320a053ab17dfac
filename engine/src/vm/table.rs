//! Tables: growable vectors of raw references.

use super::layout::VMTable;

/// Upper bound on table size, so that a hostile `table.grow` cannot
/// exhaust host memory.
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// A table and the structure generated code reads.
pub struct Table {
    vm: Box<VMTable>,
    elements: Vec<u64>,
    max: u64,
}

// SAFETY: `vm.base` points into `elements`, owned by this value.
unsafe impl Send for Table {}

impl Table {
    /// A table of `min` elements set to `init`.
    pub fn new(min: u64, max: Option<u64>, init: u64) -> Option<Table> {
        let max = max.unwrap_or(u32::MAX as u64).min(MAX_TABLE_ELEMENTS);
        if min > max {
            return None;
        }
        let elements = vec![init; min as usize];
        let mut table = Table {
            vm: Box::new(VMTable {
                base: std::ptr::null_mut(),
                length: 0,
            }),
            elements,
            max,
        };
        table.sync();
        Some(table)
    }

    fn sync(&mut self) {
        self.vm.base = self.elements.as_mut_ptr();
        self.vm.length = self.elements.len() as u64;
    }

    /// Grows by `delta` elements set to `init`; returns the old size.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.elements.len() as u64;
        let new = old.checked_add(delta)?;
        if new > self.max {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.sync();
        Some(old)
    }

    /// The elements.
    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    /// The elements, writable.
    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// Current size.
    pub fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The structure generated code reads.
    pub fn vm(&self) -> *mut VMTable {
        &*self.vm as *const VMTable as *mut VMTable
    }
}
