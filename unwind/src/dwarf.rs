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

/// The custom sections by name and the code section's content offset
/// (Wasm DWARF addresses are relative to it).
fn sections(bytes: &[u8]) -> Option<(HashMap<&str, &[u8]>, u64)> {
    let mut custom = HashMap::new();
    let mut code_start = None;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            wasmparser::Payload::CustomSection(section) => {
                custom.insert(section.name(), section.data());
            }
            wasmparser::Payload::CodeSectionStart { range, .. } => {
                code_start = Some(range.start as u64);
            }
            _ => {}
        }
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
