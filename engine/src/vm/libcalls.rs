//! Host routines that generated code calls for operations too large to
//! inline (bulk memory, table management). Those of stack switching are in
//! `stack_switching/`.
//!
//! Every libcall takes the calling instance's VMContext first and uses the
//! System V convention. Those that can fail return nonzero instead of
//! trapping themselves, so the trap is raised by generated code at a pc
//! that names the Wasm function. Addresses, indices and lengths are 64-bit
//! whatever the memory's or table's address type: generated code
//! zero-extends the operands of 32-bit memories and tables.

use super::instance::VMInstance;

/// The instance behind a VMContext.
///
/// # Safety
/// `vmctx` must be the VMContext of a live instance, and no other reference
/// to that instance's `VMInstance` may be active (generated code is
/// running, paused in this libcall).
unsafe fn instance<'a>(vmctx: *mut u8) -> &'a mut VMInstance {
    // SAFETY: see the function's contract.
    unsafe { &mut *VMInstance::of_vmctx(vmctx) }
}

/// `start..start + len` if it lies within `size` (the length of a slice,
/// so the range fits in `usize`).
fn range(start: u64, len: u64, size: u64) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size).then_some(start as usize..end as usize)
}

/// `memory.grow`: the old size in pages, or -1 (all ones; generated code
/// truncates it for a 32-bit memory).
pub unsafe extern "sysv64" fn memory_grow(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    inst.memory_mut(mem).grow(delta).unwrap_or(u64::MAX)
}

/// `memory.fill`.
pub unsafe extern "sysv64" fn memory_fill(
    vmctx: *mut u8,
    mem: u32,
    dst: u64,
    val: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let data = inst.memory_mut(mem).data_mut();
    match range(dst, len, data.len() as u64) {
        Some(r) => {
            data[r].fill(val as u8);
            0
        }
        None => 1,
    }
}

/// `memory.copy`, between the same or two memories.
pub unsafe extern "sysv64" fn memory_copy(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let src_len = inst.memory_mut(src_mem).data().len() as u64;
    let dst_len = inst.memory_mut(dst_mem).data().len() as u64;
    let (Some(s), Some(d)) = (range(src, len, src_len), range(dst, len, dst_len)) else {
        return 1;
    };
    if dst_mem == src_mem {
        inst.memory_mut(dst_mem).data_mut().copy_within(s, d.start);
    } else {
        let src_ptr = inst.memory_mut(src_mem).data().as_ptr();
        let dst_ptr = inst.memory_mut(dst_mem).data_mut().as_mut_ptr();
        // SAFETY: both ranges were checked against their memories, which
        // are distinct mappings.
        unsafe {
            std::ptr::copy_nonoverlapping(src_ptr.add(s.start), dst_ptr.add(d.start), d.len())
        };
    }
    0
}

/// `memory.init`.
pub unsafe extern "sysv64" fn memory_init(
    vmctx: *mut u8,
    mem: u32,
    data_index: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let segment = inst.data_segment(data_index);
    let Some(s) = range(src, len, segment.len() as u64) else {
        return 1;
    };
    let segment = segment[s].as_ptr();
    let data = inst.memory_mut(mem).data_mut();
    let Some(d) = range(dst, len, data.len() as u64) else {
        return 1;
    };
    // SAFETY: the segment lives in the module's bytes, disjoint from
    // linear memory; both ranges were checked.
    unsafe { std::ptr::copy_nonoverlapping(segment, data[d].as_mut_ptr(), len as usize) };
    0
}

/// `data.drop`.
pub unsafe extern "sysv64" fn data_drop(vmctx: *mut u8, data_index: u32) {
    // SAFETY: called from generated code of a live instance.
    unsafe { instance(vmctx) }.drop_data(data_index);
}

/// `table.grow`: the old size, or -1 (all ones, truncated by generated
/// code for a 32-bit table).
pub unsafe extern "sysv64" fn table_grow(vmctx: *mut u8, table: u32, init: u64, delta: u64) -> u64 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    inst.table_mut(table).grow(delta, init).unwrap_or(u64::MAX)
}

/// `table.fill`.
pub unsafe extern "sysv64" fn table_fill(
    vmctx: *mut u8,
    table: u32,
    dst: u64,
    val: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let elements = inst.table_mut(table).elements_mut();
    match range(dst, len, elements.len() as u64) {
        Some(r) => {
            elements[r].fill(val);
            0
        }
        None => 1,
    }
}

/// `table.copy`.
pub unsafe extern "sysv64" fn table_copy(
    vmctx: *mut u8,
    dst_table: u32,
    src_table: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    let src_len = inst.table_mut(src_table).size();
    let dst_len = inst.table_mut(dst_table).size();
    let (Some(s), Some(d)) = (range(src, len, src_len), range(dst, len, dst_len)) else {
        return 1;
    };
    if src_table == dst_table {
        inst.table_mut(dst_table)
            .elements_mut()
            .copy_within(s, d.start);
    } else {
        let values = inst.table_mut(src_table).elements()[s].to_vec();
        inst.table_mut(dst_table).elements_mut()[d].copy_from_slice(&values);
    }
    0
}

/// `table.init`.
pub unsafe extern "sysv64" fn table_init(
    vmctx: *mut u8,
    table: u32,
    elem_index: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    // SAFETY: called from generated code of a live instance.
    let inst = unsafe { instance(vmctx) };
    inst.table_init(table, elem_index, dst, src, len).is_err() as u32
}

/// `elem.drop`.
pub unsafe extern "sysv64" fn elem_drop(vmctx: *mut u8, elem_index: u32) {
    // SAFETY: called from generated code of a live instance.
    unsafe { instance(vmctx) }.drop_elem(elem_index);
}
