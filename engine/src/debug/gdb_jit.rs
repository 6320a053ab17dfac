//! gdb's JIT interface: a process-wide descriptor that lists in-memory
//! object files, and an empty function gdb puts a breakpoint on to hear
//! about every change to the list. The names and the layout are gdb's
//! (documented in gdb's manual, "JIT Compilation Interface"), not ours.

use std::ptr;
use std::sync::Mutex;

/// One object file in gdb's list.
#[repr(C)]
struct JitCodeEntry {
    next_entry: *mut JitCodeEntry,
    prev_entry: *mut JitCodeEntry,
    symfile_addr: *const u8,
    symfile_size: u64,
}

/// What the debugger reads: the list and the change being announced.
#[repr(C)]
pub struct JitDescriptor {
    version: u32,
    action_flag: u32,
    relevant_entry: *mut JitCodeEntry,
    first_entry: *mut JitCodeEntry,
}

const JIT_NOACTION: u32 = 0;
const JIT_REGISTER_FN: u32 = 1;
const JIT_UNREGISTER_FN: u32 = 2;

/// The descriptor gdb looks up by name. Only `LOCK`'s holder writes it.
#[unsafe(no_mangle)]
#[used]
pub static mut __jit_debug_descriptor: JitDescriptor = JitDescriptor {
    version: 1,
    action_flag: JIT_NOACTION,
    relevant_entry: ptr::null_mut(),
    first_entry: ptr::null_mut(),
};

/// gdb stops here (its own breakpoint) and reads the descriptor.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn __jit_debug_register_code() {
    // SAFETY: an empty asm block has no effect; it only keeps the compiler
    // from treating the call as removable.
    unsafe { std::arch::asm!("", options(nostack, preserves_flags)) };
}

/// Serializes changes to the descriptor (modules load on any thread).
static LOCK: Mutex<()> = Mutex::new(());

/// An object file announced to gdb; withdrawn when dropped.
pub(crate) struct Registered {
    entry: *mut JitCodeEntry,
    /// The object file; gdb reads it from our memory, so it must outlive
    /// the registration.
    _image: Box<[u8]>,
}

// SAFETY: the entry is only touched under `LOCK`.
unsafe impl Send for Registered {}
// SAFETY: as above; `Registered` has no methods that read through `&self`.
unsafe impl Sync for Registered {}

impl Registered {
    /// Links `image` (an ELF object) into gdb's list and tells gdb.
    pub fn new(image: Box<[u8]>) -> Registered {
        let entry = Box::into_raw(Box::new(JitCodeEntry {
            next_entry: ptr::null_mut(),
            prev_entry: ptr::null_mut(),
            symfile_addr: image.as_ptr(),
            symfile_size: image.len() as u64,
        }));
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: the descriptor and every linked entry are only written
        // under `LOCK`, which we hold; `entry` is a fresh allocation.
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            (*entry).next_entry = (*d).first_entry;
            if !(*d).first_entry.is_null() {
                (*(*d).first_entry).prev_entry = entry;
            }
            (*d).first_entry = entry;
            (*d).relevant_entry = entry;
            (*d).action_flag = JIT_REGISTER_FN;
            __jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
            (*d).relevant_entry = ptr::null_mut();
        }
        Registered {
            entry,
            _image: image,
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `self.entry` is linked (by `new`) and only this guard
        // unlinks it, under `LOCK`; after gdb has been told, it is freed.
        unsafe {
            let d = &raw mut __jit_debug_descriptor;
            let e = self.entry;
            if (*e).prev_entry.is_null() {
                (*d).first_entry = (*e).next_entry;
            } else {
                (*(*e).prev_entry).next_entry = (*e).next_entry;
            }
            if !(*e).next_entry.is_null() {
                (*(*e).next_entry).prev_entry = (*e).prev_entry;
            }
            (*d).relevant_entry = e;
            (*d).action_flag = JIT_UNREGISTER_FN;
            __jit_debug_register_code();
            (*d).action_flag = JIT_NOACTION;
            (*d).relevant_entry = ptr::null_mut();
            drop(Box::from_raw(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The object files in gdb's list, as gdb walks it.
    fn listed() -> Vec<*const u8> {
        let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        // SAFETY: entries are only linked and unlinked under `LOCK`.
        unsafe {
            let d = &raw const __jit_debug_descriptor;
            let mut e = (*d).first_entry;
            while !e.is_null() {
                out.push((*e).symfile_addr);
                let next = (*e).next_entry;
                if !next.is_null() {
                    assert_eq!((*next).prev_entry, e, "broken back link");
                }
                e = next;
            }
        }
        out
    }

    #[test]
    fn registrations_are_linked_until_dropped() {
        let a = Registered::new(vec![1u8; 16].into_boxed_slice());
        let b = Registered::new(vec![2u8; 16].into_boxed_slice());
        let c = Registered::new(vec![3u8; 16].into_boxed_slice());
        let (pa, pb, pc) = (a._image.as_ptr(), b._image.as_ptr(), c._image.as_ptr());
        let list = listed();
        assert!([pa, pb, pc].iter().all(|p| list.contains(p)));
        // Unlink from the middle, then the ends.
        drop(b);
        let list = listed();
        assert!(list.contains(&pa) && list.contains(&pc) && !list.contains(&pb));
        drop(c);
        drop(a);
        let list = listed();
        assert!(![pa, pb, pc].iter().any(|p| list.contains(p)));
        // A plain read of a field only written under `LOCK`.
        let d = &raw const __jit_debug_descriptor;
        // SAFETY: as above.
        let action = unsafe { (*d).action_flag };
        assert_eq!(action, JIT_NOACTION);
    }
}
