//! The in-memory ELF object that describes one module's code to gdb:
//! symbols (`module!function` and the plain name), the code's `.eh_frame`, and DWARF line
//! tables. Everything is at its run-time address (an `ET_EXEC` image with
//! no program headers), so gdb relocates nothing; `.text` has no bytes in
//! the file because gdb reads code from the process.

use gimli::write::{
    Address, AttributeValue, DwarfUnit, EndianVec, LineProgram, LineString, Sections,
};
use object::elf;
use object::write::elf::{FileHeader, SectionHeader, Sym, Writer};

use super::lines::SourceLines;
use switchyard_frames::display_name;

/// What the object describes.
pub(crate) struct ModuleImage<'a> {
    /// Address and length of the module's code.
    pub code: (u64, u64),
    /// `(address, length, name)` of each function, sorted by address.
    /// Names are escaped again here ([`display_name`]): a string table
    /// cannot hold a NUL, and gdb prints symbols to a terminal.
    pub functions: Vec<(u64, u64, String)>,
    /// More names for the same functions: `(address, name)` (a Wasm
    /// function's plain name, next to its `module!function`). They are
    /// written with size 0: of several symbols at one address, gdb names
    /// the address by a sized one, whatever their names' order.
    pub aliases: Vec<(u64, String)>,
    /// The code's `.eh_frame` and the address it lives at in the process.
    pub eh_frame: Option<(u64, &'a [u8])>,
    /// `(code address, module byte offset)` pairs, sorted by address.
    pub source_map: Vec<(u64, u32)>,
    /// Source lines, if any could be found or written.
    pub lines: Option<&'a SourceLines>,
    /// Name of the compilation unit (from the module's name).
    pub unit_name: &'a str,
    /// The module's DWARF variables and what translating them needs.
    pub variables: Option<super::variables::Input<'a>>,
}

/// DWARF sections, by ELF section name.
fn dwarf_sections(image: &ModuleImage<'_>) -> Option<Vec<(&'static str, Vec<u8>)>> {
    let lines = image.lines?;
    let encoding = gimli::Encoding {
        format: gimli::Format::Dwarf32,
        version: 4,
        address_size: 8,
    };
    let first = lines.files.first()?;
    let dir_of = |p: &std::path::Path| {
        p.parent()
            .map(|d| d.to_string_lossy().into_owned())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "/".into())
    };
    let name_of = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "?".into())
    };
    let mut program = LineProgram::new(
        encoding,
        gimli::LineEncoding::default(),
        LineString::String(dir_of(first).into_bytes()),
        None,
        LineString::String(name_of(first).into_bytes()),
        None,
    );
    let file_ids: Vec<_> = lines
        .files
        .iter()
        .map(|p| {
            let dir = program.add_directory(LineString::String(dir_of(p).into_bytes()));
            program.add_file(LineString::String(name_of(p).into_bytes()), dir, None)
        })
        .collect();

    let (code_start, code_len) = image.code;
    for &(start, len, _) in &image.functions {
        // One sequence per function, so that code with no line (glue the
        // linker made) does not inherit the line before it.
        let from = image.source_map.partition_point(|m| m.0 < start);
        let to = image.source_map.partition_point(|m| m.0 < start + len);
        let entries = &image.source_map[from..to];
        let mut rows = function_rows(entries, |offset| lines.at(offset));
        if rows.iter().all(|r| r.1.is_none()) {
            continue;
        }
        // In a listing, the function's entry (its prologue) belongs to its
        // `(func` line, so that stepping into it stops at its first
        // instruction's line after the prologue, as with compiled sources.
        // Otherwise the first row covers the prologue.
        let header = entries.first().and_then(|m| lines.function_header(m.1));
        match header {
            Some(h) => rows.insert(0, (start, Some(h), true)),
            None => rows[0].0 = start,
        }
        program.begin_sequence(Some(Address::Constant(start)));
        for (address, here, is_statement) in rows {
            let row = program.row();
            row.address_offset = address - start;
            // Line 0: code that belongs to no source line.
            row.file = file_ids[here.map_or(0, |h| h.0)];
            row.line = here.map_or(0, |h| h.1);
            row.is_statement = is_statement;
            program.generate_row();
        }
        program.end_sequence(len);
    }

    let mut dwarf = DwarfUnit::new(encoding);
    dwarf.unit.line_program = program;
    let root = dwarf.unit.root();
    // Not the bare module name: gdb takes a unit's name for a file name in
    // expressions, so a unit named `fiber` would make `ptype struct fiber`
    // a syntax error.
    let name = dwarf
        .strings
        .add(format!("{} (wasm module)", display_name(image.unit_name)).into_bytes());
    let comp_dir = dwarf.strings.add(dir_of(first).into_bytes());
    let producer = dwarf.strings.add("switchyard");
    let cu = dwarf.unit.get_mut(root);
    cu.set(gimli::DW_AT_name, AttributeValue::StringRef(name));
    cu.set(gimli::DW_AT_comp_dir, AttributeValue::StringRef(comp_dir));
    cu.set(gimli::DW_AT_producer, AttributeValue::StringRef(producer));
    cu.set(
        gimli::DW_AT_language,
        AttributeValue::Language(lines.language),
    );
    cu.set(
        gimli::DW_AT_low_pc,
        AttributeValue::Address(Address::Constant(code_start)),
    );
    cu.set(gimli::DW_AT_high_pc, AttributeValue::Udata(code_len));
    let code = super::variables::Code {
        functions: &image.functions,
        source_map: &image.source_map,
    };
    let described = image
        .variables
        .as_ref()
        .and_then(|input| super::variables::add(&mut dwarf, root, input, &code))
        .unwrap_or_default();
    for (i, (start, len, fname)) in image.functions.iter().enumerate() {
        if described.get(i) == Some(&true) {
            continue;
        }
        let id = dwarf.unit.add(root, gimli::DW_TAG_subprogram);
        let name = dwarf.strings.add(display_name(fname).as_bytes());
        let sub = dwarf.unit.get_mut(id);
        sub.set(gimli::DW_AT_name, AttributeValue::StringRef(name));
        sub.set(gimli::DW_AT_external, AttributeValue::Flag(true));
        sub.set(
            gimli::DW_AT_low_pc,
            AttributeValue::Address(Address::Constant(*start)),
        );
        sub.set(gimli::DW_AT_high_pc, AttributeValue::Udata(*len));
        // Generated code always keeps a frame pointer.
        sub.set(
            gimli::DW_AT_frame_base,
            AttributeValue::Exprloc(gimli::write::Expression::raw(vec![
                gimli::DW_OP_reg6.0, // rbp
            ])),
        );
    }
    let mut sections = Sections::new(EndianVec::new(gimli::LittleEndian));
    dwarf.write(&mut sections).ok()?;
    let mut out = Vec::new();
    sections
        .for_each(|id, data| {
            if !data.slice().is_empty() {
                out.push((id.name(), data.slice().to_vec()));
            }
            Ok::<(), gimli::write::Error>(())
        })
        .ok()?;
    Some(out)
}

/// Writes the object file.
pub(crate) fn write(image: &ModuleImage<'_>) -> Option<Vec<u8>> {
    let debug = dwarf_sections(image).unwrap_or_default();
    let symbols: Vec<(u64, u64, &str)> = image
        .functions
        .iter()
        .map(|(address, len, name)| (*address, *len, name.as_str()))
        .chain(
            image
                .aliases
                .iter()
                .map(|(address, name)| (*address, 0, name.as_str())),
        )
        .collect();
    let symbol_names: Vec<_> = symbols
        .iter()
        .map(|(_, _, name)| display_name(name))
        .collect();
    let mut buffer = Vec::new();
    let mut w = Writer::new(object::Endianness::Little, true, &mut buffer);

    w.reserve_file_header();
    w.reserve_null_section_index();
    let text_name = w.add_section_name(b".text");
    let text = w.reserve_section_index();
    let eh = image.eh_frame.map(|(address, bytes)| {
        let name = w.add_section_name(b".eh_frame");
        let index = w.reserve_section_index();
        let offset = w.reserve(bytes.len(), 8);
        (name, index, offset, address, bytes)
    });
    let debug: Vec<_> = debug
        .iter()
        .map(|(name, data)| {
            let n = w.add_section_name(name.as_bytes());
            let _ = w.reserve_section_index();
            let offset = w.reserve(data.len(), 1);
            (n, offset, data)
        })
        .collect();
    let names: Vec<_> = symbol_names
        .iter()
        .map(|name| w.add_string(name.as_bytes()))
        .collect();
    w.reserve_null_symbol_index();
    for _ in &names {
        w.reserve_symbol_index(Some(text));
    }
    w.reserve_symtab_section_index();
    w.reserve_symtab();
    w.reserve_strtab_section_index();
    w.reserve_strtab();
    w.reserve_shstrtab_section_index();
    w.reserve_shstrtab();
    w.reserve_section_headers();

    w.write_file_header(&FileHeader {
        os_abi: elf::ELFOSABI_NONE,
        abi_version: 0,
        e_type: elf::ET_EXEC,
        e_machine: elf::EM_X86_64,
        e_entry: 0,
        e_flags: 0,
    })
    .ok()?;
    if let Some((_, _, offset, _, bytes)) = eh {
        w.write_align(8);
        debug_assert_eq!(w.len(), offset);
        w.write(bytes);
    }
    for (_, offset, data) in &debug {
        debug_assert_eq!(w.len(), *offset);
        w.write(data);
    }
    w.write_null_symbol();
    for (&(address, len, _), name) in symbols.iter().zip(&names) {
        w.write_symbol(&Sym {
            name: Some(*name),
            section: Some(text),
            st_info: (elf::STB_GLOBAL << 4) | elf::STT_FUNC,
            st_other: elf::STV_DEFAULT,
            st_shndx: 0,
            st_value: address,
            st_size: len,
        });
    }
    w.write_strtab();
    w.write_shstrtab();

    w.write_null_section_header();
    w.write_section_header(&SectionHeader {
        name: Some(text_name),
        sh_type: elf::SHT_NOBITS,
        sh_flags: u64::from(elf::SHF_ALLOC | elf::SHF_EXECINSTR),
        sh_addr: image.code.0,
        sh_offset: 0,
        sh_size: image.code.1,
        sh_link: 0,
        sh_info: 0,
        sh_addralign: 16,
        sh_entsize: 0,
    });
    if let Some((name, _, offset, address, bytes)) = eh {
        w.write_section_header(&SectionHeader {
            name: Some(name),
            sh_type: elf::SHT_PROGBITS,
            sh_flags: u64::from(elf::SHF_ALLOC),
            sh_addr: address,
            sh_offset: offset as u64,
            sh_size: bytes.len() as u64,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 8,
            sh_entsize: 0,
        });
    }
    for (name, offset, data) in &debug {
        w.write_section_header(&SectionHeader {
            name: Some(*name),
            sh_type: elf::SHT_PROGBITS,
            sh_flags: 0,
            sh_addr: 0,
            sh_offset: *offset as u64,
            sh_size: data.len() as u64,
            sh_link: 0,
            sh_info: 0,
            sh_addralign: 1,
            sh_entsize: 0,
        });
    }
    w.write_symtab_section_header(1);
    w.write_strtab_section_header();
    w.write_shstrtab_section_header();
    debug_assert_eq!(w.reserved_len(), w.len());
    Some(buffer)
}

/// A file index and line, or none (code of no source line).
type SourceLine = Option<(usize, u64)>;

/// A line table row: address, line, whether it is a statement.
type Row = (u64, SourceLine, bool);

/// The line rows of one function from its `(code address, module offset)`
/// entries: `(address, file and line, is a statement)`, one per run of
/// code with the same line.
///
/// Optimized code moves parts of a Wasm instruction ahead of others (a
/// call's target is loaded before the previous line's call). Such a run is
/// followed only by code of earlier Wasm instructions and then by the next
/// run of its line, which holds the same instructions: it is not a
/// statement, so that gdb (and the stepping helpers) stop where the line's
/// own code starts rather than at the hoisted part. (A later run of a line
/// after code of later instructions is a cold path, not a hoisted part.)
fn function_rows(
    entries: &[(u64, u32)],
    line_of: impl Fn(u32) -> Option<(usize, u64)>,
) -> Vec<Row> {
    // (first address, line, module offsets of the code in the run)
    let mut runs: Vec<(u64, SourceLine, Vec<u32>)> = Vec::new();
    for &(address, offset) in entries {
        let here = line_of(offset);
        match runs.last_mut() {
            Some(run) if run.1 == here => run.2.push(offset),
            _ => runs.push((address, here, vec![offset])),
        }
    }
    let mut rows = Vec::with_capacity(runs.len());
    for (i, (address, here, offsets)) in runs.iter().enumerate() {
        let first = offsets.iter().copied().min().unwrap_or(0);
        let hoisted = here.is_some()
            && runs[i + 1..]
                .iter()
                .position(|later| later.1 == *here)
                .is_some_and(|j| {
                    let between = &runs[i + 1..i + 1 + j];
                    let next = &runs[i + 1 + j];
                    between.iter().all(|r| r.2.iter().all(|&o| o < first))
                        && offsets.iter().all(|o| next.2.contains(o))
                });
        rows.push((*address, *here, here.is_some() && !hoisted));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::function_rows;

    #[test]
    fn hoisted_parts_of_a_line_are_not_statements() {
        // Line 27 at offsets 10..12, line 28 at 20; the load for line 28's
        // call (offset 20) was hoisted between line 27's two parts.
        let entries = [(0, 10), (4, 11), (8, 20), (12, 12), (16, 20), (20, 30)];
        let line = |o: u32| {
            Some((
                0,
                if o < 20 {
                    27
                } else if o < 30 {
                    28
                } else {
                    29
                },
            ))
        };
        let rows = function_rows(&entries, line);
        assert_eq!(
            rows,
            vec![
                (0, Some((0, 27)), true),
                (8, Some((0, 28)), false),
                (12, Some((0, 27)), true),
                (16, Some((0, 28)), true),
                (20, Some((0, 29)), true),
            ]
        );
    }

    #[test]
    fn a_cold_path_of_a_line_does_not_hide_its_main_path() {
        // Line 37 (offset 40), then line 42 (offset 50), then a slow path
        // of line 37 placed at the end of the function.
        let entries = [(0, 40), (8, 50), (16, 40)];
        let line = |o: u32| Some((0, if o < 50 { 37 } else { 42 }));
        let rows = function_rows(&entries, line);
        assert!(rows.iter().all(|r| r.2), "{rows:?}");
    }
}

#[cfg(test)]
mod image_tests {
    use super::*;
    use object::{Object, ObjectSection, ObjectSymbol};

    #[test]
    fn the_image_places_symbols_and_sections_at_run_time_addresses() {
        let eh_frame = [0u8; 24];
        let image = ModuleImage {
            code: (0x10_0000, 0x80),
            functions: vec![
                (0x10_0000, 0x30, "m!first".to_string()),
                (0x10_0040, 0x40, "m!second".to_string()),
            ],
            aliases: vec![(0x10_0040, "second".to_string())],
            eh_frame: Some((0x20_0000, &eh_frame)),
            source_map: Vec::new(),
            lines: None,
            unit_name: "m",
            variables: None,
        };
        let bytes = write(&image).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        let symbols: Vec<_> = file
            .symbols()
            .map(|s| (s.name().unwrap().to_string(), s.address(), s.size()))
            .collect();
        assert_eq!(
            symbols,
            [
                ("m!first".to_string(), 0x10_0000, 0x30),
                ("m!second".to_string(), 0x10_0040, 0x40),
                // The plain name, unsized, so that gdb prefers the other.
                ("second".to_string(), 0x10_0040, 0)
            ]
        );
        let text = file.section_by_name(".text").unwrap();
        assert_eq!((text.address(), text.size()), (0x10_0000, 0x80));
        let eh = file.section_by_name(".eh_frame").unwrap();
        assert_eq!(eh.address(), 0x20_0000);
        assert_eq!(eh.data().unwrap(), &eh_frame);
        // No lines, no DWARF.
        assert!(file.section_by_name(".debug_line").is_none());
    }
}
