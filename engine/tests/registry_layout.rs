//! docs/registry.md is the contract for out-of-process readers: every
//! offset and size in its tables must match the Rust definitions.

use std::collections::HashMap;
use std::mem::{offset_of, size_of};

use switchyard_engine::vm::layout::VMStoreContext;
use switchyard_engine::vm::registry::*;
use switchyard_engine::vm::stack_switching::continuation::ContinuationRecord;

/// `section -> (declared size, field -> (offset, size))` from the document.
type Tables = HashMap<String, (Option<usize>, HashMap<String, (usize, usize)>)>;

fn parse(doc: &str) -> Tables {
    let mut tables = Tables::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            let name = title.split_whitespace().next().unwrap().to_string();
            let size = title
                .split('(')
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
                .and_then(|s| s.parse().ok());
            tables.insert(name.clone(), (size, HashMap::new()));
            current = Some(name);
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 {
            continue;
        }
        let (Ok(offset), Ok(size)) = (cells[1].parse::<usize>(), cells[2].parse::<usize>()) else {
            continue;
        };
        if let Some(name) = &current {
            tables
                .get_mut(name)
                .unwrap()
                .1
                .insert(cells[3].to_string(), (offset, size));
        }
    }
    tables
}

macro_rules! check {
    ($tables:expr, $section:literal, $ty:ty, [$($field:ident : $size:expr),* $(,)?]) => {{
        let (declared, fields) = &$tables[$section];
        if let Some(declared) = declared {
            assert_eq!(*declared, size_of::<$ty>(), "size of {}", $section);
        }
        let mut checked = 0;
        $(
            let (offset, size) = fields
                .get(stringify!($field))
                .unwrap_or_else(|| panic!("{}.{} missing from the document", $section, stringify!($field)));
            assert_eq!(*offset, offset_of!($ty, $field), "{}.{} offset", $section, stringify!($field));
            assert_eq!(*size, $size, "{}.{} size", $section, stringify!($field));
            checked += 1;
        )*
        assert_eq!(checked, fields.len(), "{}: the document lists fields the test does not check", $section);
    }};
}

#[test]
fn the_document_matches_the_code() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/registry.md"))
        .unwrap();
    let t = parse(&doc);
    check!(t, "RegistryHeader", RegistryHeader, [
        magic: 4, version: 4, header_size: 4, record_size: 4, store_size: 4,
        code_entry_size: 4, generation: 8, stores: 8, code: 8, trampoline_start: 8,
        trampoline_end: 8, entry_start: 8, entry_end: 8,
    ]);
    check!(t, "StoreDescriptor", StoreDescriptor, [
        next: 8, context: 8, records: 8, record_count: 8, host_entry: 8,
    ]);
    check!(t, "VMStoreContext", VMStoreContext, [
        stack_limit: 8, last_exit_fp: 8, last_exit_pc: 8, current_cont: 8, cont_live: 8,
    ]);
    check!(t, "ContinuationRecord", ContinuationRecord, [
        magic: 4, state: 4, id: 8, stack_low: 8, stack_high: 8, parent_record: 8,
        entry_func: 8, last_tag: 8, resumes: 8, switches: 8, parent: 24, own: 24,
        generation: 8, last_ancestor: 8, handlers: 8, stack_limit: 8, args: 256,
    ]);
    check!(t, "CodeEntry", CodeEntry, [
        next: 8, code_start: 8, code_end: 8, name: 8, name_len: 8, functions: 8,
        function_count: 8, module_bytes: 8, module_len: 8, source_map: 8, source_map_len: 8,
        eh_frame: 8, eh_frame_len: 8,
    ]);
    check!(t, "FunctionEntry", FunctionEntry, [start: 8, end: 8, index: 4, name_len: 4, name: 8]);
}

#[test]
fn the_exported_header_describes_itself() {
    with_registry(|h| {
        assert_eq!(&h.magic.to_le_bytes(), b"SYWR");
        assert_eq!(h.version, 1);
        assert_eq!(h.record_size as usize, size_of::<ContinuationRecord>());
        assert_eq!(h.header_size as usize, size_of::<RegistryHeader>());
    });
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
        while !entry.is_null() {
            // SAFETY: the registry holds live entries while its lock is held.
            let e = unsafe { &*entry };
            let name = unsafe { std::slice::from_raw_parts(e.name, e.name_len as usize) };
            if name == b"reg_probe" {
                let f = unsafe { &*e.functions };
                let fname = unsafe { std::slice::from_raw_parts(f.name, f.name_len as usize) };
                has_module = e.function_count == 1 && fname == b"only_here";
            }
            entry = e.next;
        }
        let mut has_store = false;
        let mut s = h.stores;
        while !s.is_null() {
            has_store = true;
            // SAFETY: as above, the list holds live descriptors.
            s = unsafe { (*s).next };
        }
        (has_module, has_store)
    });
    assert!(has_module && has_store);
    drop(store);
    drop(module);
}
