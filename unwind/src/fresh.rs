//! What a fresh continuation will run.
//!
//! A continuation that was created and never resumed has no frames, so
//! the naming rule of [`crate::naming`] has nothing to look at. But a fiber
//! library's entry function (fiber.wat's `$entry`) is a forwarding call
//! whose callee is one of its parameters, and `cont.bind` has already
//! stored that parameter in the continuation's record (`args`, the first
//! `bound` words). So the callee is read, at report time, from the
//! registry: the bound word, then for `call_indirect` the element of the
//! entry instance's table at that index (the table's address from the
//! module's `vmctx_tables`, docs/registry.md), for `call_ref` the funcref
//! itself. Nothing is added to `cont.new` or `cont.bind`.
//!
//! Every read is through [`Memory`] and checked: an unpublished table, an
//! index past the table's end, a null element or an unreadable address
//! leaves the continuation named by its entry.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use switchyard_registry_layout::offsets::{TABLE_ELEMENT_SIZE, funcref, table};

use crate::memory::Memory;
use crate::naming::{BoundCallee, Callee, ModuleCode};
use crate::registry::{Snapshot, StackRecord, State};

/// Resolves fresh continuations' callees, remembering each entry
/// function's analysis and each resolved callee, so that thousands of
/// fresh fibers cost one resolution per distinct (entry, callee) pair.
#[derive(Default)]
pub struct FreshCallees {
    /// [`ModuleCode::bound_callee`] by entry code address.
    analysis: RefCell<HashMap<u64, Option<BoundCallee>>>,
    /// The callee's code address by (entry funcref, bound word).
    resolved: RefCell<HashMap<(u64, u64), Option<u64>>>,
}

impl FreshCallees {
    /// The code address of the function fresh continuation `r` will run
    /// through its entry's forwarding call, read from `memory`; `code`
    /// gives a module's code by name. `None` when `r` is not fresh or its
    /// entry does not forward a bound parameter.
    pub fn body_code(
        &self,
        memory: &dyn Memory,
        snapshot: &Snapshot,
        r: &StackRecord,
        code: &dyn Fn(&str) -> Option<Arc<ModuleCode>>,
    ) -> Option<u64> {
        if r.state != State::Fresh || r.entry_func == 0 {
            return None;
        }
        let module = snapshot.module_at(r.entry_code)?;
        let callee = *self
            .analysis
            .borrow_mut()
            .entry(r.entry_code)
            .or_insert_with(|| {
                let function = module.function_at(r.entry_code)?;
                code(&module.name)?.bound_callee(function.index)
            });
        let callee = callee?;
        let word = *r.bound.get(callee.word)?;
        *self
            .resolved
            .borrow_mut()
            .entry((r.entry_func, word))
            .or_insert_with(|| {
                let funcref = match callee.via {
                    Callee::FuncRef => word,
                    Callee::Table { table, table64 } => {
                        let index = if table64 { word } else { word & 0xffff_ffff };
                        let vmctx = memory.read_u64(r.entry_func + funcref::VMCTX as u64).ok()?;
                        element(memory, vmctx, module.vmctx_tables, table, index)?
                    }
                };
                if funcref == 0 {
                    return None;
                }
                memory.read_u64(funcref + funcref::CODE as u64).ok()
            })
    }
}

/// Element `index` of table `table` of the instance whose context is at
/// `vmctx`, its module's tables starting at `vmctx_tables` in it.
fn element(
    memory: &dyn Memory,
    vmctx: u64,
    vmctx_tables: u64,
    table_index: u32,
    index: u64,
) -> Option<u64> {
    if vmctx == 0 || vmctx_tables == 0 {
        return None;
    }
    let slot = vmctx
        .checked_add(vmctx_tables)?
        .checked_add(8 * u64::from(table_index))?;
    let t = memory.read_u64(slot).ok()?;
    let base = memory.read_u64(t.checked_add(table::BASE as u64)?).ok()?;
    let length = memory.read_u64(t.checked_add(table::LENGTH as u64)?).ok()?;
    if index >= length {
        return None;
    }
    let at = base.checked_add(index.checked_mul(TABLE_ELEMENT_SIZE as u64)?)?;
    memory.read_u64(at).ok()
}
