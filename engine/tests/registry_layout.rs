//! The engine's registry, as the layout (the `switchyard-registry-layout` crate)
//! says: the exported header describes itself, and stores and modules
//! appear in it. The layout's agreement with docs/registry.md is checked
//! in that crate.

use std::mem::size_of;

use switchyard_engine::vm::registry::*;
use switchyard_engine::vm::stack_switching::continuation::ContinuationRecord;

#[test]
fn the_exported_header_describes_itself() {
    with_registry(|h| {
        assert_eq!(&h.magic.to_le_bytes(), b"SYWR");
        assert_eq!(h.magic, REGISTRY_MAGIC);
        assert_eq!(h.version, REGISTRY_VERSION);
        assert_eq!(h.record_size as usize, size_of::<ContinuationRecord>());
        assert_eq!(h.header_size as usize, size_of::<RegistryHeader>());
        assert_eq!(h.store_size as usize, size_of::<StoreDescriptor>());
        assert_eq!(h.code_entry_size as usize, size_of::<CodeEntry>());
    });
}

/// `len` bytes at `ptr`, an address the registry holds.
///
/// # Safety
/// The registry's lock must be held and `ptr..ptr + len` live.
unsafe fn bytes<'a>(ptr: usize, len: usize) -> &'a [u8] {
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(ptr as *const u8, len) }
}

#[test]
fn stores_and_modules_appear_in_the_registry() {
    use switchyard_engine::*;
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $reg_probe (func $only_here (export "f")))"#,
    )
    .unwrap();
    let store = Store::new(&engine, ());
    let (has_module, has_store) = with_registry(|h| {
        let mut has_module = false;
        let mut entry = h.code;
        while entry != 0 {
            // SAFETY: the registry holds live entries while its lock is held.
            let e = unsafe { &*(entry as *const CodeEntry) };
            let name = unsafe { bytes(e.name, e.name_len as usize) };
            if name == b"reg_probe" {
                // SAFETY: as above; the module has one function.
                let f = unsafe { &*(e.functions as *const FunctionEntry) };
                let fname = unsafe { bytes(f.name, f.name_len as usize) };
                has_module = e.function_count == 1 && fname == b"only_here";
            }
            entry = e.next;
        }
        let mut has_store = false;
        let mut s = h.stores;
        while s != 0 {
            has_store = true;
            // SAFETY: as above, the list holds live descriptors.
            s = unsafe { (*(s as *const StoreDescriptor)).next };
        }
        (has_module, has_store)
    });
    assert!(has_module && has_store);
    drop(store);
    drop(module);
}
