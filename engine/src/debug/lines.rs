//! Source lines for Wasm byte offsets: from the module's own DWARF when it
//! has some (C compiled with `-g`), else from a WAT listing of the module
//! written to a file, so that gdb can `list` and step through Wasm text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gimli::{EndianSlice, LittleEndian};

/// Where each Wasm instruction of a module comes from.
pub(crate) struct SourceLines {
    /// Source files, full paths.
    pub files: Vec<PathBuf>,
    /// `(module byte offset, file index and line)` sorted by offset; each
    /// entry holds until the next one. `None` marks code with no line.
    points: Vec<(u64, Option<(usize, u64)>)>,
    /// The DWARF language of the sources.
    pub language: gimli::DwLang,
    /// For a listing: `(module byte offset, line)` of each `(func` line,
    /// keyed by the offset of the first line after it that has one.
    headers: Vec<(u64, u64)>,
}

impl SourceLines {
    /// The file and line of the instruction at module byte offset `offset`.
    pub fn at(&self, offset: u32) -> Option<(usize, u64)> {
        let i = self
            .points
            .partition_point(|p| p.0 <= u64::from(offset))
            .checked_sub(1)?;
        self.points[i].1
    }

    /// The line that declares the function whose first instruction is at
    /// `offset`, for listings (DWARF sources have none to offer).
    pub fn function_header(&self, offset: u32) -> Option<(usize, u64)> {
        let i = self
            .headers
            .partition_point(|h| h.0 <= u64::from(offset))
            .checked_sub(1)?;
        Some((0, self.headers[i].1))
    }

    /// Lines from the module's own DWARF, `None` without line information.
    pub fn from_dwarf(bytes: &[u8]) -> Option<Self> {
        from_dwarf(bytes)
    }

    /// The file (full path, as the DWARF names it) and line of the
    /// instruction at module byte offset `offset`.
    pub fn file_and_line(&self, offset: u32) -> Option<(&Path, u64)> {
        let (file, line) = self.at(offset)?;
        Some((self.files.get(file)?.as_path(), line))
    }

    /// Lines for `bytes`: its DWARF, else a WAT listing written under
    /// `listing_dir` and named after `module_name`.
    pub fn for_module(bytes: &[u8], module_name: &str, listing_dir: &Path) -> Option<Self> {
        from_dwarf(bytes).or_else(|| from_listing(bytes, module_name, listing_dir))
    }
}

/// The custom sections by name and the module offset of the code
/// section's contents (Wasm DWARF addresses are relative to it).
pub(super) fn custom_sections(bytes: &[u8]) -> Option<(HashMap<&str, &[u8]>, u64)> {
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

/// Whether the module has a `.debug_info` section.
pub(super) fn has_debug_info(bytes: &[u8]) -> bool {
    custom_sections(bytes).is_some_and(|(custom, _)| custom.contains_key(".debug_info"))
}

fn from_dwarf(bytes: &[u8]) -> Option<SourceLines> {
    let (custom, code_start) = custom_sections(bytes)?;
    custom.get(".debug_line")?;
    let load = |id: gimli::SectionId| -> Result<EndianSlice<'_, LittleEndian>, gimli::Error> {
        Ok(EndianSlice::new(
            custom.get(id.name()).copied().unwrap_or(&[]),
            LittleEndian,
        ))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    let mut files: Vec<PathBuf> = Vec::new();
    let mut file_ids: HashMap<PathBuf, usize> = HashMap::new();
    let mut points = Vec::new();
    let mut language = gimli::DW_LANG_C11;
    let mut units = dwarf.units();
    while let Ok(Some(header)) = units.next() {
        let Ok(unit) = dwarf.unit(header) else {
            continue;
        };
        let mut entries = unit.entries();
        if let Ok(Some(root)) = entries.next_dfs()
            && let Some(gimli::AttributeValue::Language(l)) = root.attr_value(gimli::DW_AT_language)
        {
            language = l;
        }
        let comp_dir = unit
            .comp_dir
            .map(|d| PathBuf::from(d.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let Some(program) = unit.line_program.clone() else {
            continue;
        };
        let mut rows = program.rows();
        // Rows name files by index into their header; resolve each once.
        let mut resolved: HashMap<u64, usize> = HashMap::new();
        while let Ok(Some((header, row))) = rows.next_row() {
            let address = row.address().wrapping_add(code_start);
            if row.end_sequence() {
                points.push((address, None));
                continue;
            }
            let Some(line) = row.line() else {
                points.push((address, None));
                continue;
            };
            let index = match resolved.get(&row.file_index()) {
                Some(&i) => i,
                None => {
                    let Some(path) = file_path(&dwarf, &unit, header, row.file_index(), &comp_dir)
                    else {
                        continue;
                    };
                    let i = *file_ids.entry(path.clone()).or_insert_with(|| {
                        files.push(path);
                        files.len() - 1
                    });
                    resolved.insert(row.file_index(), i);
                    i
                }
            };
            points.push((address, Some((index, line.get()))));
        }
    }
    if points.is_empty() {
        return None;
    }
    // Where a sequence ends at the address another starts, the start wins.
    points.sort_by_key(|p| (p.0, p.1.is_some()));
    Some(SourceLines {
        files,
        points,
        language,
        headers: Vec::new(),
    })
}

fn file_path(
    dwarf: &gimli::Dwarf<EndianSlice<'_, LittleEndian>>,
    unit: &gimli::Unit<EndianSlice<'_, LittleEndian>>,
    header: &gimli::LineProgramHeader<EndianSlice<'_, LittleEndian>>,
    index: u64,
    comp_dir: &Path,
) -> Option<PathBuf> {
    let file = header.file(index)?;
    let name = dwarf.attr_string(unit, file.path_name()).ok()?;
    let mut path = comp_dir.to_path_buf();
    if let Some(dir) = file.directory(header)
        && let Ok(dir) = dwarf.attr_string(unit, dir)
    {
        path.push(dir.to_string_lossy().as_ref());
    }
    path.push(name.to_string_lossy().as_ref());
    Some(path)
}

/// A stable 64-bit FNV-1a hash, so that a module's listing keeps its path
/// across runs (breakpoints set by file and line stay valid).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The listing's file name: the module's name without a `.wasm`/`.wat`
/// suffix, made safe for a path, plus `.wat`.
fn listing_name(module_name: &str) -> String {
    let stem = module_name
        .strip_suffix(".wasm")
        .or_else(|| module_name.strip_suffix(".wat"))
        .unwrap_or(module_name);
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    format!("{}.wat", if safe.is_empty() { "module" } else { safe })
}

fn from_listing(bytes: &[u8], module_name: &str, listing_dir: &Path) -> Option<SourceLines> {
    let mut text = String::new();
    let mut points = Vec::new();
    let mut listing = String::new();
    let mut headers = Vec::new();
    let mut pending_header = None;
    let mut config = wasmprinter::Config::new();
    config.name_unnamed(false);
    for (number, (offset, line)) in config.offsets_and_lines(bytes, &mut text).ok()?.enumerate() {
        if line.trim_start().starts_with("(func") {
            pending_header = Some(number as u64 + 1);
        }
        if let Some(offset) = offset {
            points.push((offset as u64, Some((0, number as u64 + 1))));
            if let Some(header) = pending_header.take() {
                headers.push((offset as u64, header));
            }
        }
        listing.push_str(line.strip_suffix('\n').unwrap_or(line));
        listing.push('\n');
    }
    // One directory per module content: the file name stays the module's.
    let dir = listing_dir.join(format!("{:016x}", fnv1a(bytes)));
    let path = dir.join(listing_name(module_name));
    if std::fs::read(&path).ok().as_deref() != Some(listing.as_bytes()) {
        std::fs::create_dir_all(&dir).ok()?;
        // Written aside then renamed, so that a concurrent reader (another
        // process loading the same module) never sees half a file.
        let partial = dir.join(format!(
            ".{}.{}",
            listing_name(module_name),
            std::process::id()
        ));
        std::fs::write(&partial, &listing).ok()?;
        std::fs::rename(&partial, &path).ok()?;
    }
    points.sort_by_key(|p| p.0);
    Some(SourceLines {
        files: vec![path],
        points,
        language: gimli::DW_LANG_Mips_Assembler,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wat_listing_maps_instructions_to_their_lines() {
        let wasm = wat::parse_str(
            "(module $m (func $f (result i32)\n i32.const 1\n i32.const 2\n i32.add))",
        )
        .unwrap();
        let dir =
            std::env::temp_dir().join(format!("switchyard-lines-test-{}", std::process::id()));
        let lines = SourceLines::for_module(&wasm, "m.wasm", &dir).unwrap();
        let text = std::fs::read_to_string(&lines.files[0]).unwrap();
        assert!(lines.files[0].ends_with("m.wat"));
        // Find the module offset of `i32.add` (0x6a) and check its line.
        let code = wasm.iter().rposition(|&b| b == 0x6a).unwrap() as u32;
        let (file, line) = lines.at(code).unwrap();
        assert_eq!(file, 0);
        let shown = text.lines().nth(line as usize - 1).unwrap();
        assert!(shown.trim() == "i32.add", "line {line} is {shown:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
