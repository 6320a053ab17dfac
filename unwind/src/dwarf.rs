//! Source locations of Wasm code from the module's own DWARF (what clang
//! emits with `-g`): module byte offset → file, line, column, with inlined
//! frames.
//!
//! Wasm DWARF addresses are offsets from the start of the code section's
//! contents; this module finds that start and the `.debug_*` custom sections
//! with a small, bounds-checked section scanner.

use std::collections::HashMap;
use std::rc::Rc;

use gimli::{EndianRcSlice, LittleEndian};

type Reader = EndianRcSlice<LittleEndian>;

/// One source position; inlined callees come first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    /// The function at this position (DWARF name), if known.
    pub function: Option<String>,
    /// Source file.
    pub file: Option<String>,
    /// Line.
    pub line: Option<u32>,
    /// Column.
    pub column: Option<u32>,
}

/// The DWARF of one module.
pub struct WasmDwarf {
    context: addr2line::Context<Reader>,
    code_start: u64,
}

fn leb(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut result = 0u64;
    let mut shift = 0;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        if shift >= 64 {
            return None;
        }
        result |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(result);
        }
        shift += 7;
    }
}

/// The custom sections by name and the code section's content offset.
fn sections(bytes: &[u8]) -> Option<(HashMap<String, &[u8]>, u64)> {
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
            custom.insert(name.to_string(), &body[p + len..]);
        } else if id == 10 {
            code_start = Some(pos as u64);
        }
        pos = end;
    }
    Some((custom, code_start?))
}

impl WasmDwarf {
    /// Reads the DWARF of a module; `None` when it has none (or it is
    /// unusable).
    pub fn new(module_bytes: &[u8]) -> Option<WasmDwarf> {
        let (custom, code_start) = sections(module_bytes)?;
        if !custom.contains_key(".debug_info") {
            return None;
        }
        let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
            let data: &[u8] = custom.get(id.name()).copied().unwrap_or(&[]);
            Ok(EndianRcSlice::new(Rc::from(data), LittleEndian))
        };
        let dwarf = gimli::Dwarf::load(load).ok()?;
        let context = addr2line::Context::from_dwarf(dwarf).ok()?;
        Some(WasmDwarf {
            context,
            code_start,
        })
    }

    /// The source positions of the instruction at `module_offset` (a byte
    /// offset in the module), innermost inlined function first.
    pub fn locate(&self, module_offset: u64) -> Vec<SourceLocation> {
        let Some(address) = module_offset.checked_sub(self.code_start) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let Ok(mut frames) = self.context.find_frames(address).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(frame)) = frames.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|f| f.demangle().ok().map(|n| n.into_owned()));
            let (file, line, column) = match &frame.location {
                Some(l) => (l.file.map(str::to_string), l.line, l.column),
                None => (None, None, None),
            };
            out.push(SourceLocation {
                function,
                file,
                line,
                column,
            });
            if out.len() > 64 {
                break;
            }
        }
        out
    }
}
