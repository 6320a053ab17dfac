//! Source lines from a module's own DWARF (clang `-g`), as a sorted table
//! of rows: enough for jitdump's debug-info records, which carry one file
//! and line per native address range (no columns, no inlining).
//!
//! Wasm DWARF addresses are offsets from the start of the code section's
//! contents.

use std::collections::HashMap;

use gimli::{EndianSlice, LittleEndian};

type Reader<'a> = EndianSlice<'a, LittleEndian>;

/// Rows of every line program of a module, sorted by address.
pub(crate) struct LineTable {
    /// `(module byte offset, file index, line)`.
    rows: Vec<(u64, u32, u32)>,
    files: Vec<String>,
}

fn leb(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(result);
        }
    }
    None
}

/// The `.debug_*` custom sections and the code section's content offset.
fn sections(bytes: &[u8]) -> Option<(HashMap<&str, &[u8]>, u64)> {
    if bytes.get(0..4)? != b"\0asm" {
        return None;
    }
    let mut pos = 8;
    let mut custom = HashMap::new();
    let mut code_start = None;
    while pos < bytes.len() {
        let id = bytes[pos];
        pos += 1;
        let size = leb(bytes, &mut pos)? as usize;
        let end = pos.checked_add(size)?;
        let body = bytes.get(pos..end)?;
        if id == 0 {
            let mut p = 0;
            let len = leb(body, &mut p)? as usize;
            let name = std::str::from_utf8(body.get(p..p.checked_add(len)?)?).ok()?;
            if name.starts_with(".debug_") {
                custom.insert(name, &body[p + len..]);
            }
        } else if id == 10 {
            code_start = Some(pos as u64);
        }
        pos = end;
    }
    Some((custom, code_start?))
}

impl LineTable {
    /// The line table of a module, `None` without DWARF line information.
    pub fn new(module: &[u8]) -> Option<LineTable> {
        let (custom, code_start) = sections(module)?;
        if !custom.contains_key(".debug_line") {
            return None;
        }
        let dwarf = gimli::Dwarf::load(|id| -> Result<Reader<'_>, gimli::Error> {
            Ok(EndianSlice::new(
                custom.get(id.name()).copied().unwrap_or(&[]),
                LittleEndian,
            ))
        })
        .ok()?;
        let mut table = LineTable {
            rows: Vec::new(),
            files: Vec::new(),
        };
        let mut file_ids: HashMap<String, u32> = HashMap::new();
        let mut units = dwarf.units();
        while let Ok(Some(header)) = units.next() {
            let Ok(unit) = dwarf.unit(header) else {
                continue;
            };
            let Some(program) = unit.line_program.clone() else {
                continue;
            };
            let mut rows = program.rows();
            while let Ok(Some((header, row))) = rows.next_row() {
                if row.end_sequence() {
                    continue;
                }
                let Some(line) = row.line() else { continue };
                let Some(file) = row.file(header) else {
                    continue;
                };
                let mut path = String::new();
                if let Some(dir) = file.directory(header)
                    && let Ok(dir) = dwarf.attr_string(&unit, dir)
                {
                    path.push_str(&dir.to_string_lossy());
                }
                if let Ok(name) = dwarf.attr_string(&unit, file.path_name()) {
                    let name = name.to_string_lossy();
                    if name.starts_with('/') || path.is_empty() {
                        path = name.into_owned();
                    } else {
                        path = format!("{path}/{name}");
                    }
                }
                let next = file_ids.len() as u32;
                let id = *file_ids.entry(path.clone()).or_insert_with(|| {
                    table.files.push(path);
                    next
                });
                table.rows.push((
                    code_start + row.address(),
                    id,
                    line.get().min(u64::from(u32::MAX)) as u32,
                ));
            }
        }
        table.rows.sort_by_key(|r| r.0);
        (!table.rows.is_empty()).then_some(table)
    }

    /// File and line of the instruction at `module_offset`.
    pub fn locate(&self, module_offset: u64) -> Option<(&str, u32)> {
        let i = self
            .rows
            .partition_point(|r| r.0 <= module_offset)
            .checked_sub(1)?;
        let (_, file, line) = self.rows[i];
        Some((&self.files[file as usize], line))
    }
}
