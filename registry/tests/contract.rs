//! The layout's two other spellings, docs/registry.md for humans and the
//! gdb helpers' generated `layout.py`, against the Rust definition.

use std::collections::{BTreeMap, BTreeSet};

use switchyard_registry_layout::{LAYOUTS, REGENERATE, write_python_layout};

fn repo(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A section of the document: the size its title declares and its rows
/// `field -> (offset, size)`.
#[derive(Default)]
struct Section {
    size: Option<usize>,
    fields: Vec<(String, usize, usize)>,
}

/// `## Name (N bytes)` sections and their `| offset | size | field |` rows.
fn sections(doc: &str) -> BTreeMap<String, Section> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            let name = title.split_whitespace().next().unwrap_or("").to_string();
            let size = title
                .split_once('(')
                .and_then(|(_, rest)| rest.strip_suffix(" bytes)"))
                .and_then(|n| n.parse().ok());
            out.insert(
                name.clone(),
                Section {
                    size,
                    fields: Vec::new(),
                },
            );
            current = Some(name);
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 5 {
            continue;
        }
        let (Ok(offset), Ok(size)) = (cells[1].parse(), cells[2].parse()) else {
            continue;
        };
        if let Some(section) = current.as_ref().and_then(|c| out.get_mut(c)) {
            section.fields.push((cells[3].to_string(), offset, size));
        }
    }
    out
}

#[test]
fn the_document_states_the_layout_of_the_code() {
    let doc = sections(&repo("docs/registry.md"));
    for layout in LAYOUTS {
        let section = doc
            .get(layout.name)
            .unwrap_or_else(|| panic!("docs/registry.md has no section `## {}`", layout.name));
        assert_eq!(
            section.size,
            Some(layout.size),
            "docs/registry.md: the title of {} must say ({} bytes)",
            layout.name,
            layout.size
        );
        let expected: Vec<(String, usize, usize)> = layout
            .fields
            .iter()
            .map(|f| (f.name.to_string(), f.offset, f.size))
            .collect();
        assert_eq!(
            section.fields, expected,
            "docs/registry.md: the rows of {} (field, offset, size) differ from registry/src/lib.rs",
            layout.name
        );
    }
    let documented: BTreeSet<&str> = doc
        .iter()
        .filter(|(_, s)| !s.fields.is_empty())
        .map(|(name, _)| name.as_str())
        .collect();
    let defined: BTreeSet<&str> = LAYOUTS.iter().map(|l| l.name).collect();
    assert_eq!(documented, defined, "structures documented vs defined");
}

#[test]
fn the_gdb_helpers_layout_is_generated_from_the_code() {
    let mut generated = String::new();
    write_python_layout(&mut generated).unwrap();
    let committed = repo("gdb-scripts/switchyard/layout.py");
    assert!(
        committed == generated,
        "gdb-scripts/switchyard/layout.py is not what the registry crate generates; regenerate it with\n  {REGENERATE}"
    );
}

#[test]
fn every_python_name_is_assigned_once() {
    let mut generated = String::new();
    write_python_layout(&mut generated).unwrap();
    let mut seen = BTreeSet::new();
    for line in generated.lines() {
        if let Some((name, _)) = line.split_once(" = ")
            && !name.starts_with('#')
        {
            assert!(seen.insert(name.to_string()), "{name} is assigned twice");
        }
    }
    assert!(seen.contains("RECORD_STATE") && seen.contains("MAGIC_RECORD"));
}

#[test]
fn the_document_lists_the_trap_codes() {
    let doc = repo("docs/registry.md");
    let table = doc
        .split("### Trap codes")
        .nth(1)
        .expect("docs/registry.md has a `### Trap codes` section");
    let rows: Vec<(u32, String)> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Some((cells[1].parse().ok()?, cells[2].to_string()))
        })
        .collect();
    let expected: Vec<(u32, String)> = switchyard_registry_layout::trap::NAMES
        .iter()
        .map(|&(code, name)| (code, name.to_string()))
        .collect();
    assert_eq!(
        rows, expected,
        "docs/registry.md: the trap codes differ from registry/src/lib.rs"
    );
}
