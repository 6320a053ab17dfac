//! The C program's variables, types and scopes for gdb: the module's own
//! DWARF (`.debug_info`, addresses in Wasm code offsets, locations in Wasm
//! locals and linear memory) rewritten as native DWARF in the module's JIT
//! object.
//!
//! - Addresses: a Wasm range becomes the native code Cranelift generated
//!   for its instructions (the source map), often several ranges.
//! - Locations: Wasm locals and the VM context live where Cranelift's
//!   value labels say (a register or a frame slot, per code range); a
//!   location that needs a value no range covers has no entry there, so gdb
//!   says `<optimized out>`. Linear-memory addresses get the memory base
//!   added, read through the VM context.
//! - Pointers: a C pointer is a 4-byte memory offset. A variable or
//!   parameter of pointer type is given as a native pointer (memory base +
//!   offset, 0 stays 0), so `print *p` and `p->x` work; a pointer stored in
//!   memory (a struct field, an array element) is shown as the offset, a
//!   4-byte unsigned integer named `wasm_ptr32`, which gdb cannot follow.
//! - Functions: a subprogram with code takes the name of its ELF symbol
//!   (`module!function`), so frames are named as for modules without
//!   DWARF; its return type is kept when gdb would find the value where
//!   the generated code puts it (scalars), so `finish` shows it.

use std::collections::HashMap;

use gimli::write::{
    Address, AttributeValue, DwarfUnit, Expression, Location, LocationList, Range, RangeList,
    UnitEntryId,
};
use gimli::{EndianSlice, LittleEndian};

use super::{LabelRange, PARAM_LABEL, Place, VMCTX_LABEL, VmLayout, sleb, uleb};
use crate::vm::layout::{VMGLOBAL_VALUE, VMMEMORY_BASE};

type Reader<'a> = EndianSlice<'a, LittleEndian>;

/// What the translation needs besides the code layout.
pub(crate) struct Input<'a> {
    /// The module, for its DWARF sections.
    pub module_bytes: &'a [u8],
    /// Value-label ranges of each function, in the order of the image's
    /// functions.
    pub labels: &'a [Vec<LabelRange>],
    /// Where the VM context points to memory and globals.
    pub vm: &'a VmLayout,
}

/// The native code: `(address, length, name)` of each function and the
/// `(address, module offset)` source map, both sorted by address.
pub(super) struct Code<'a> {
    /// `(address, length, name)` of each function.
    pub functions: &'a [(u64, u64, String)],
    /// `(address, module offset)` of each run of code.
    pub source_map: &'a [(u64, u32)],
}

/// Adds the module's DWARF entries under `root` of `dwarf`; returns, per
/// function, whether a subprogram now describes it.
pub(super) fn add(
    dwarf: &mut DwarfUnit,
    root: UnitEntryId,
    input: &Input<'_>,
    code: &Code<'_>,
) -> Option<Vec<bool>> {
    let (custom, code_start) = super::lines::custom_sections(input.module_bytes)?;
    let load = |id: gimli::SectionId| -> Result<Reader<'_>, gimli::Error> {
        Ok(EndianSlice::new(
            custom.get(id.name()).copied().unwrap_or(&[]),
            LittleEndian,
        ))
    };
    let wasm = gimli::Dwarf::load(load).ok()?;
    let map = CodeMap::new(code, input.labels, code_start);
    let mut t = Translator {
        wasm: &wasm,
        map: &map,
        vm: input.vm,
        out: dwarf,
        ids: HashMap::new(),
        native_pointers: HashMap::new(),
        described: vec![false; code.functions.len()],
    };
    let mut headers = wasm.units();
    let mut units = Vec::new();
    while let Ok(Some(header)) = headers.next() {
        if let Ok(unit) = wasm.unit(header) {
            units.push(unit);
        }
    }
    // All entries first, so that references across units resolve.
    let mut dies = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        t.create(unit, i, root, &mut dies);
    }
    for die in &dies {
        t.fill(&units[die.unit], die);
    }
    Some(t.described)
}

/// How a Wasm function's DWARF finds its frame.
#[derive(Clone, Copy)]
enum FrameBase {
    /// The value of Wasm local `K` (clang's frame pointer local).
    Local(u32),
    /// The value of Wasm global `G` (`__stack_pointer`, in leaf functions).
    Global(u32),
}

/// A Wasm DWARF entry copied into the native unit.
struct Die<'a> {
    entry: gimli::DebuggingInformationEntry<Reader<'a>>,
    /// Its unit's index.
    unit: usize,
    id: UnitEntryId,
    /// The native function of the enclosing subprogram.
    function: Option<usize>,
    frame_base: Option<FrameBase>,
}

/// Native code by Wasm offset, and where labelled values live.
struct CodeMap<'a> {
    code: &'a Code<'a>,
    /// The code section's module offset (Wasm DWARF addresses are
    /// relative to it).
    code_start: u64,
    /// Per function: its source-map entries.
    entries: Vec<std::ops::Range<usize>>,
    /// Per function: the lowest module offset of its code.
    first_offset: Vec<Option<u32>>,
    /// Per function and label: `(start, end, place)`, native addresses.
    labels: Vec<HashMap<u32, Vec<PlacedRange>>>,
}

impl<'a> CodeMap<'a> {
    fn new(code: &'a Code<'a>, labels: &[Vec<LabelRange>], code_start: u64) -> Self {
        let mut entries = Vec::new();
        let mut first_offset = Vec::new();
        let mut by_label = Vec::new();
        for (f, &(start, len, _)) in code.functions.iter().enumerate() {
            let from = code.source_map.partition_point(|m| m.0 < start);
            let to = code.source_map.partition_point(|m| m.0 < start + len);
            first_offset.push(code.source_map[from..to].iter().map(|m| m.1).min());
            entries.push(from..to);
            let mut map: HashMap<u32, Vec<PlacedRange>> = HashMap::new();
            for r in labels.get(f).map_or(&[][..], |l| l.as_slice()) {
                map.entry(r.label).or_default().push((
                    start + u64::from(r.start),
                    start + u64::from(r.end),
                    r.place,
                ));
            }
            by_label.push(map);
        }
        CodeMap {
            code,
            code_start,
            entries,
            first_offset,
            labels: by_label,
        }
    }

    /// The function whose Wasm code starts in `[low, high)` (DWARF
    /// addresses).
    fn function(&self, low: u64, high: u64) -> Option<usize> {
        let (low, high) = (low + self.code_start, high + self.code_start);
        self.first_offset
            .iter()
            .position(|o| o.is_some_and(|o| (low..high).contains(&u64::from(o))))
    }

    /// The native ranges of function `f` whose code comes from Wasm
    /// `[low, high)` (DWARF addresses), merged and sorted.
    fn native_ranges(&self, f: usize, low: u64, high: u64) -> Vec<(u64, u64)> {
        let (low, high) = (low + self.code_start, high + self.code_start);
        let (start, len, _) = self.code.functions[f];
        let entries = &self.code.source_map[self.entries[f].clone()];
        let mut out: Vec<(u64, u64)> = Vec::new();
        for (i, &(address, offset)) in entries.iter().enumerate() {
            if !(low..high).contains(&u64::from(offset)) {
                continue;
            }
            let end = entries.get(i + 1).map_or(start + len, |e| e.0);
            match out.last_mut() {
                Some(last) if last.1 == address => last.1 = end,
                _ => out.push((address, end)),
            }
        }
        out
    }

    /// The whole of function `f`.
    fn function_range(&self, f: usize) -> (u64, u64) {
        let (start, len, _) = self.code.functions[f];
        (start, start + len)
    }

    /// Splits `ranges` of function `f` where one of `labels` changes
    /// place, keeping the parts where all of them have one: `(start, end,
    /// place of each label)`.
    fn split(&self, f: usize, ranges: &[(u64, u64)], labels: &[u32]) -> Vec<Part> {
        let mut out: Vec<Part> = Vec::new();
        let none = Vec::new();
        let of = |l: &u32| self.labels[f].get(l).unwrap_or(&none);
        for &(start, end) in ranges {
            let mut cuts = vec![start, end];
            for l in labels {
                for &(s, e, _) in of(l) {
                    cuts.extend([s, e].into_iter().filter(|&c| c > start && c < end));
                }
            }
            cuts.sort_unstable();
            cuts.dedup();
            for w in cuts.windows(2) {
                let places: Option<Vec<Place>> = labels
                    .iter()
                    .map(|l| {
                        of(l)
                            .iter()
                            .find(|r| r.0 <= w[0] && w[0] < r.1)
                            .map(|r| r.2)
                    })
                    .collect();
                let Some(places) = places else { continue };
                match out.last_mut() {
                    Some(last) if last.1 == w[0] && last.2 == places => last.1 = w[1],
                    _ => out.push((w[0], w[1], places)),
                }
            }
        }
        out
    }
}

/// A native range `[start, end)` where a label is at a place.
type PlacedRange = (u64, u64, Place);

/// A native range and the place of each label needed there.
type Part = (u64, u64, Vec<Place>);

/// One operation of a Wasm DWARF expression, as far as the translation
/// needs to know it.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    /// `DW_OP_WASM_location 0 K`: Wasm local K.
    Local(u32),
    /// `DW_OP_WASM_location 1/3 G`: Wasm global G.
    Global(u32),
    /// `DW_OP_fbreg N`.
    FrameBase(i64),
    /// `DW_OP_addr A`: a linear memory address.
    Address(u64),
    /// `DW_OP_stack_value`.
    StackValue,
    /// `DW_OP_piece N`.
    Piece(u64),
    /// Any operation that means the same natively (constants, arithmetic).
    Plain(Vec<u8>),
}

/// Parses a Wasm DWARF expression; `None` if it uses an operation the
/// translation does not handle (its variable is then shown as optimized
/// out rather than wrongly).
fn parse(bytes: &[u8], address_size: u8) -> Option<Vec<Op>> {
    let mut ops = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let at = pos;
        let op = bytes[pos];
        pos += 1;
        let fixed = |n: usize, pos: &mut usize| -> Option<()> {
            bytes.get(*pos..*pos + n)?;
            *pos += n;
            Some(())
        };
        match op {
            0x03 => {
                let n = usize::from(address_size);
                let raw = bytes.get(pos..pos + n)?;
                let mut a = [0u8; 8];
                a[..n].copy_from_slice(raw);
                pos += n;
                ops.push(Op::Address(u64::from_le_bytes(a)));
                continue;
            }
            0x91 => {
                ops.push(Op::FrameBase(sleb(bytes, &mut pos)?));
                continue;
            }
            0x93 => {
                ops.push(Op::Piece(uleb(bytes, &mut pos)?));
                continue;
            }
            0x9f => {
                ops.push(Op::StackValue);
                continue;
            }
            0xed => {
                let kind = *bytes.get(pos)?;
                pos += 1;
                let index = if kind == 3 {
                    let raw = bytes.get(pos..pos + 4)?;
                    pos += 4;
                    u32::from_le_bytes(raw.try_into().ok()?)
                } else {
                    u32::try_from(uleb(bytes, &mut pos)?).ok()?
                };
                ops.push(match kind {
                    0 => Op::Local(index),
                    1 | 3 => Op::Global(index),
                    // The operand stack: not labelled.
                    _ => return None,
                });
                continue;
            }
            0x08 | 0x09 | 0x15 => fixed(1, &mut pos)?,
            0x0a | 0x0b => fixed(2, &mut pos)?,
            0x0c | 0x0d => fixed(4, &mut pos)?,
            0x0e | 0x0f => fixed(8, &mut pos)?,
            0x10 | 0x23 => {
                uleb(bytes, &mut pos)?;
            }
            0x11 => {
                sleb(bytes, &mut pos)?;
            }
            0x12..=0x14 | 0x16 | 0x17 | 0x19..=0x22 | 0x24..=0x27 | 0x29..=0x2e | 0x30..=0x4f => {}
            // Dereferences of linear memory, branches, registers and the
            // rest: not translated.
            _ => return None,
        }
        ops.push(Op::Plain(bytes[at..pos].to_vec()));
    }
    Some(ops)
}

/// The labels whose places an expression needs.
fn needed(ops: &[Op], frame_base: Option<FrameBase>) -> Option<Vec<u32>> {
    let mut labels = Vec::new();
    let mut add = |l: u32| {
        if !labels.contains(&l) {
            labels.push(l);
        }
    };
    // The memory base, for memory locations and pointers.
    add(VMCTX_LABEL);
    for op in ops {
        match op {
            Op::Local(k) => add(*k),
            Op::FrameBase(_) => match frame_base? {
                FrameBase::Local(k) => add(k),
                FrameBase::Global(_) => {}
            },
            _ => {}
        }
    }
    Some(labels)
}

/// Native DWARF expression bytes.
struct Emit<'a> {
    bytes: Vec<u8>,
    vm: &'a VmLayout,
    labels: &'a [u32],
    places: &'a [Place],
}

impl Emit<'_> {
    fn uleb(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.bytes.push(b);
                return;
            }
            self.bytes.push(b | 0x80);
        }
    }

    fn sleb(&mut self, mut v: i64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
            self.bytes.push(if done { b } else { b | 0x80 });
            if done {
                return;
            }
        }
    }

    fn place(&self, label: u32) -> Place {
        let i = self.labels.iter().position(|&l| l == label);
        self.places[i.expect("needed labels have places")]
    }

    /// Pushes the value of a labelled value.
    fn value(&mut self, label: u32) {
        match self.place(label) {
            Place::Register(r) if r < 32 => {
                self.bytes.push(0x70 + r as u8); // DW_OP_bregN
                self.sleb(0);
            }
            Place::Register(r) => {
                self.bytes.push(0x92); // DW_OP_bregx
                self.uleb(u64::from(r));
                self.sleb(0);
            }
            Place::Frame(offset) => {
                self.bytes.push(0x9c); // DW_OP_call_frame_cfa
                self.bytes.push(0x11); // DW_OP_consts
                self.sleb(offset);
                self.bytes.push(0x22); // DW_OP_plus
                self.bytes.push(0x06); // DW_OP_deref
            }
        }
    }

    /// Pushes `*(*(vmctx + slot) + field)`, or its address without `deref`.
    fn through_vmctx(&mut self, slot: u32, field: i32, deref: bool) {
        self.value(VMCTX_LABEL);
        self.bytes.push(0x23); // DW_OP_plus_uconst
        self.uleb(u64::from(slot));
        self.bytes.push(0x06);
        if field != 0 {
            self.bytes.push(0x23);
            self.uleb(field as u64);
        }
        if deref {
            self.bytes.push(0x06);
        }
    }

    fn global(&mut self, g: u32, deref: bool) -> Option<()> {
        let slot = *self.vm.globals.get(g as usize)?;
        self.through_vmctx(slot, VMGLOBAL_VALUE, deref);
        Some(())
    }

    fn memory_base(&mut self) -> Option<()> {
        self.through_vmctx(self.vm.memory?, VMMEMORY_BASE, true);
        Some(())
    }

    /// Keeps the low 32 bits (a Wasm address or pointer).
    fn mask(&mut self) {
        self.bytes.extend([0x0c, 0xff, 0xff, 0xff, 0xff, 0x1a]); // const4u; and
    }

    /// Turns the memory offset on the stack into a native address.
    fn offset_to_address(&mut self) -> Option<()> {
        self.mask();
        self.memory_base()?;
        self.bytes.push(0x22);
        Some(())
    }

    /// Turns the pointer on the stack into a native pointer: 0 stays 0.
    fn pointer_to_native(&mut self) -> Option<()> {
        self.mask();
        let mut add = Emit {
            bytes: Vec::new(),
            vm: self.vm,
            labels: self.labels,
            places: self.places,
        };
        add.memory_base()?;
        add.bytes.push(0x22);
        self.bytes.push(0x12); // DW_OP_dup
        self.bytes.push(0x28); // DW_OP_bra: nonzero, to the addition
        self.bytes.extend(3i16.to_le_bytes());
        self.bytes.push(0x2f); // DW_OP_skip: zero, past it
        self.bytes
            .extend(i16::try_from(add.bytes.len()).ok()?.to_le_bytes());
        self.bytes.extend(add.bytes);
        Some(())
    }

    /// Pushes the result of `ops` (no pieces) in Wasm terms; says whether
    /// it ended with `DW_OP_stack_value` (else it is a memory offset).
    fn body(&mut self, ops: &[Op], frame_base: Option<FrameBase>) -> Option<bool> {
        let mut is_value = false;
        for op in ops {
            if is_value {
                return None;
            }
            match op {
                Op::Local(k) => self.value(*k),
                Op::Global(g) => self.global(*g, true)?,
                Op::FrameBase(n) => {
                    match frame_base? {
                        FrameBase::Local(k) => self.value(k),
                        FrameBase::Global(g) => self.global(g, true)?,
                    }
                    self.bytes.push(0x11);
                    self.sleb(*n);
                    self.bytes.push(0x22);
                }
                Op::Address(a) => {
                    self.bytes.push(0x10); // DW_OP_constu
                    self.uleb(*a);
                }
                Op::StackValue => is_value = true,
                Op::Plain(bytes) => self.bytes.extend(bytes),
                Op::Piece(_) => return None,
            }
        }
        Some(is_value)
    }

    /// One piece's location.
    fn location(&mut self, ops: &[Op], frame_base: Option<FrameBase>) -> Option<()> {
        match ops {
            [] => {}
            [Op::Local(k)] => match self.place(*k) {
                Place::Register(r) if r < 32 => self.bytes.push(0x50 + r as u8),
                Place::Register(r) => {
                    self.bytes.push(0x90); // DW_OP_regx
                    self.uleb(u64::from(r));
                }
                Place::Frame(offset) => {
                    self.bytes.push(0x9c);
                    self.bytes.push(0x11);
                    self.sleb(offset);
                    self.bytes.push(0x22);
                }
            },
            [Op::Global(g)] => self.global(*g, false)?,
            _ => {
                if self.body(ops, frame_base)? {
                    self.bytes.push(0x9f);
                } else {
                    self.offset_to_address()?;
                }
            }
        }
        Some(())
    }

    /// A pointer variable's value as a native pointer.
    fn pointer(&mut self, ops: &[Op], frame_base: Option<FrameBase>) -> Option<()> {
        match ops {
            [Op::Local(k)] => self.value(*k),
            [Op::Global(g)] => self.global(*g, true)?,
            _ => {
                if !self.body(ops, frame_base)? {
                    self.offset_to_address()?;
                    self.bytes.extend([0x94, 4]); // DW_OP_deref_size 4
                }
            }
        }
        self.pointer_to_native()?;
        self.bytes.push(0x9f);
        Some(())
    }
}

/// Translates a Wasm location expression for the places in one part.
fn translate(
    ops: &[Op],
    frame_base: Option<FrameBase>,
    pointer: bool,
    vm: &VmLayout,
    labels: &[u32],
    places: &[Place],
) -> Option<Vec<u8>> {
    let mut emit = Emit {
        bytes: Vec::new(),
        vm,
        labels,
        places,
    };
    if pointer {
        if ops.iter().any(|op| matches!(op, Op::Piece(_))) {
            return None;
        }
        emit.pointer(ops, frame_base)?;
        return Some(emit.bytes);
    }
    let mut rest = ops;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|op| matches!(op, Op::Piece(_)))
            .unwrap_or(rest.len());
        emit.location(&rest[..end], frame_base)?;
        if let Some(Op::Piece(n)) = rest.get(end) {
            emit.bytes.push(0x93);
            emit.uleb(*n);
            rest = &rest[end + 1..];
        } else {
            rest = &[];
        }
    }
    Some(emit.bytes)
}

/// An entry whose children are being read: its depth, native entry
/// (`None` for a skipped subtree), function and frame base.
type OpenParent = (isize, Option<UnitEntryId>, Option<usize>, Option<FrameBase>);

/// A location's Wasm expression over native ranges of one function.
type Piece = (usize, Vec<(u64, u64)>, Vec<Op>);

struct Translator<'a, 'w> {
    wasm: &'a gimli::Dwarf<Reader<'a>>,
    map: &'a CodeMap<'a>,
    vm: &'a VmLayout,
    out: &'w mut DwarfUnit,
    /// Wasm entries (by section offset) to native entries.
    ids: HashMap<usize, UnitEntryId>,
    /// A native pointer type for each Wasm pointer type (by section offset).
    native_pointers: HashMap<usize, UnitEntryId>,
    described: Vec<bool>,
}

fn section_offset(unit: &gimli::Unit<Reader<'_>>, offset: gimli::UnitOffset) -> usize {
    offset.to_unit_section_offset(&unit.header).0
}

/// Entries that describe nothing gdb needs and carry addresses the
/// translation does not map (call sites), or that are the unit itself.
fn skipped(tag: gimli::DwTag) -> bool {
    matches!(
        tag,
        gimli::DW_TAG_call_site
            | gimli::DW_TAG_GNU_call_site
            | gimli::DW_TAG_call_site_parameter
            | gimli::DW_TAG_GNU_call_site_parameter
    )
}

impl<'a> Translator<'a, '_> {
    /// Creates the native entries of `unit` (all but the unit entry), in
    /// order, under `root`.
    fn create(
        &mut self,
        unit: &gimli::Unit<Reader<'a>>,
        unit_index: usize,
        root: UnitEntryId,
        dies: &mut Vec<Die<'a>>,
    ) {
        let mut cursor = unit.entries();
        // (depth, native id, function, frame base) of open parents;
        // `None` id for a skipped subtree.
        let mut parents: Vec<OpenParent> = Vec::new();
        while let Ok(Some(entry)) = cursor.next_dfs() {
            let depth = entry.depth();
            while parents.last().is_some_and(|p| p.0 >= depth) {
                parents.pop();
            }
            if entry.tag() == gimli::DW_TAG_compile_unit {
                parents.push((depth, Some(root), None, None));
                continue;
            }
            let Some(&(_, parent, mut function, mut frame_base)) = parents.last() else {
                continue;
            };
            let Some(parent) = parent.filter(|_| !skipped(entry.tag())) else {
                parents.push((depth, None, None, None));
                continue;
            };
            if entry.tag() == gimli::DW_TAG_subprogram {
                function = self.subprogram_function(unit, entry);
                frame_base = frame_base_of(entry);
                if function.is_none() && has_code_attr(entry) {
                    // Code the linker dropped: nothing runs it.
                    parents.push((depth, None, None, None));
                    continue;
                }
            }
            // A Wasm pointer in memory is a 4-byte offset: natively a base
            // type (see `pointer_type`).
            let tag = match entry.tag() {
                gimli::DW_TAG_pointer_type | gimli::DW_TAG_reference_type => {
                    gimli::DW_TAG_base_type
                }
                tag => tag,
            };
            let id = self.out.unit.add(parent, tag);
            let offset = section_offset(unit, entry.offset());
            self.ids.insert(offset, id);
            if entry.tag() == gimli::DW_TAG_pointer_type {
                let native = self.out.unit.add(root, gimli::DW_TAG_pointer_type);
                self.native_pointers.insert(offset, native);
            }
            parents.push((depth, Some(id), function, frame_base));
            dies.push(Die {
                entry: entry.clone(),
                unit: unit_index,
                id,
                function,
                frame_base,
            });
        }
    }

    fn subprogram_function(
        &self,
        unit: &gimli::Unit<Reader<'a>>,
        entry: &gimli::DebuggingInformationEntry<Reader<'a>>,
    ) -> Option<usize> {
        let mut ranges = self.wasm.die_ranges(unit, entry).ok()?;
        let mut found = None;
        while let Ok(Some(r)) = ranges.next() {
            found = found.or_else(|| self.map.function(r.begin, r.end));
        }
        found
    }

    /// Sets the attributes of a created entry.
    fn fill(&mut self, unit: &gimli::Unit<Reader<'a>>, die: &Die<'a>) {
        let tag = die.entry.tag();
        let mut location = None;
        let mut type_ref = None;
        for attr in die.entry.attrs() {
            let name = attr.name();
            match name {
                gimli::DW_AT_low_pc
                | gimli::DW_AT_high_pc
                | gimli::DW_AT_ranges
                | gimli::DW_AT_entry_pc
                | gimli::DW_AT_decl_file
                | gimli::DW_AT_call_file
                | gimli::DW_AT_call_return_pc
                | gimli::DW_AT_call_pc
                | gimli::DW_AT_frame_base
                | gimli::DW_AT_sibling
                | gimli::DW_AT_GNU_all_call_sites
                | gimli::DW_AT_call_all_calls => continue,
                gimli::DW_AT_location => {
                    location = Some(attr.value());
                    continue;
                }
                gimli::DW_AT_type => type_ref = Some(attr.value()),
                _ => {}
            }
            if let Some(value) = self.value(unit, attr.value()) {
                self.out.unit.get_mut(die.id).set(name, value);
            }
        }
        match tag {
            gimli::DW_TAG_pointer_type | gimli::DW_TAG_reference_type => {
                self.pointer_type(unit, die, type_ref);
            }
            gimli::DW_TAG_subprogram => self.subprogram_code(unit, die),
            gimli::DW_TAG_lexical_block | gimli::DW_TAG_inlined_subroutine => {
                self.scope_ranges(unit, die);
            }
            gimli::DW_TAG_variable | gimli::DW_TAG_formal_parameter => {
                let pointer = type_ref.and_then(|t| self.pointer_target(unit, t));
                if let Some(target) = pointer {
                    let native = self.out.unit.get_mut(die.id);
                    native.set(gimli::DW_AT_type, AttributeValue::UnitRef(target));
                }
                if let Some(location) = location {
                    self.location(unit, die, location, pointer.is_some());
                }
            }
            _ => {}
        }
    }

    /// A Wasm pointer in memory is 4 bytes, an offset: an unsigned
    /// integer natively. Its native twin (for variables) is a real pointer
    /// to the same type.
    fn pointer_type(
        &mut self,
        unit: &gimli::Unit<Reader<'a>>,
        die: &Die<'a>,
        target: Option<gimli::AttributeValue<Reader<'a>>>,
    ) {
        let entry = self.out.unit.get_mut(die.id);
        entry.delete(gimli::DW_AT_type);
        entry.set(
            gimli::DW_AT_name,
            AttributeValue::String(b"wasm_ptr32".to_vec()),
        );
        entry.set(gimli::DW_AT_byte_size, AttributeValue::Udata(4));
        entry.set(
            gimli::DW_AT_encoding,
            AttributeValue::Encoding(gimli::DW_ATE_unsigned),
        );
        let offset = section_offset(unit, die.entry.offset());
        let Some(&native) = self.native_pointers.get(&offset) else {
            return;
        };
        if let Some(value) = target.and_then(|t| self.value(unit, t)) {
            self.out.unit.get_mut(native).set(gimli::DW_AT_type, value);
        }
    }

    /// The native pointer type for a variable of type `t`, if `t` is a
    /// pointer (through typedefs and qualifiers).
    fn pointer_target(
        &self,
        unit: &gimli::Unit<Reader<'a>>,
        t: gimli::AttributeValue<Reader<'a>>,
    ) -> Option<UnitEntryId> {
        let mut offset = match t {
            gimli::AttributeValue::UnitRef(o) => o,
            _ => return None,
        };
        for _ in 0..16 {
            let entry = unit.entry(offset).ok()?;
            match entry.tag() {
                gimli::DW_TAG_pointer_type => {
                    return self
                        .native_pointers
                        .get(&section_offset(unit, offset))
                        .copied();
                }
                gimli::DW_TAG_typedef
                | gimli::DW_TAG_const_type
                | gimli::DW_TAG_volatile_type
                | gimli::DW_TAG_restrict_type => match entry.attr_value(gimli::DW_AT_type) {
                    Some(gimli::AttributeValue::UnitRef(o)) => offset = o,
                    _ => return None,
                },
                _ => return None,
            }
        }
        None
    }

    fn subprogram_code(&mut self, unit: &gimli::Unit<Reader<'a>>, die: &Die<'a>) {
        let Some(f) = die.function else {
            // An abstract instance or a declaration: no code of its own.
            return;
        };
        self.described[f] = true;
        let (start, end) = self.map.function_range(f);
        let name = switchyard_frames::display_name(&self.map.code.functions[f].2);
        let entry = self.out.unit.get_mut(die.id);
        entry.set(
            gimli::DW_AT_name,
            AttributeValue::String(name.into_owned().into_bytes()),
        );
        entry.set(
            gimli::DW_AT_low_pc,
            AttributeValue::Address(Address::Constant(start)),
        );
        entry.set(gimli::DW_AT_high_pc, AttributeValue::Udata(end - start));
        entry.set(
            gimli::DW_AT_frame_base,
            AttributeValue::Exprloc(Expression::raw(vec![0x9c])),
        );
        entry.delete(gimli::DW_AT_abstract_origin);
        // A return value gdb would look for elsewhere than the generated
        // code puts it (aggregates, returned through memory in Wasm) is
        // not described: `finish` then prints no value rather than a
        // wrong one. Pointers come back as 4-byte offsets.
        if let Some(gimli::AttributeValue::UnitRef(t)) = die.entry.attr_value(gimli::DW_AT_type)
            && !returned_in_register(unit, t)
        {
            self.out.unit.get_mut(die.id).delete(gimli::DW_AT_type);
        }
    }

    fn scope_ranges(&mut self, unit: &gimli::Unit<Reader<'a>>, die: &Die<'a>) {
        let Some(f) = die.function else { return };
        let mut native = Vec::new();
        if let Ok(mut ranges) = self.wasm.die_ranges(unit, &die.entry) {
            while let Ok(Some(r)) = ranges.next() {
                native.extend(self.map.native_ranges(f, r.begin, r.end));
            }
        }
        native.sort_unstable();
        if native.is_empty() {
            return;
        }
        let base = Range::BaseAddress {
            address: Address::Constant(0),
        };
        let list = RangeList(
            std::iter::once(base)
                .chain(native.into_iter().map(|(s, e)| Range::StartLength {
                    begin: Address::Constant(s),
                    length: e - s,
                }))
                .collect(),
        );
        let id = self.out.unit.ranges.add(list);
        self.out
            .unit
            .get_mut(die.id)
            .set(gimli::DW_AT_ranges, AttributeValue::RangeListRef(id));
    }

    /// Translates a variable's location into a native location list.
    fn location(
        &mut self,
        unit: &gimli::Unit<Reader<'a>>,
        die: &Die<'a>,
        value: gimli::AttributeValue<Reader<'a>>,
        pointer: bool,
    ) {
        let address_size = unit.encoding().address_size;
        // (function, native ranges, expression)
        let mut pieces: Vec<Piece> = Vec::new();
        match value {
            gimli::AttributeValue::Exprloc(expr) => {
                let Some(ops) = parse(expr.0.slice(), address_size) else {
                    return;
                };
                match die.function {
                    Some(f) => {
                        pieces.push((f, vec![self.map.function_range(f)], ops));
                    }
                    // A global: valid in every function (the memory base
                    // comes from the frame's VM context).
                    None => {
                        for f in 0..self.map.code.functions.len() {
                            pieces.push((f, vec![self.map.function_range(f)], ops.clone()));
                        }
                    }
                }
            }
            other => {
                let (Some(f), Ok(Some(mut list))) =
                    (die.function, self.wasm.attr_locations(unit, other))
                else {
                    return;
                };
                while let Ok(Some(entry)) = list.next() {
                    let Some(ops) = parse(entry.data.0.slice(), address_size) else {
                        continue;
                    };
                    let ranges = self
                        .map
                        .native_ranges(f, entry.range.begin, entry.range.end);
                    pieces.push((f, ranges, ops));
                }
            }
        }
        // Addresses in the lists are absolute, not from the unit's base.
        let mut locations = vec![Location::BaseAddress {
            address: Address::Constant(0),
        }];
        let parameter = die.entry.tag() == gimli::DW_TAG_formal_parameter;
        for (f, ranges, ops) in &pieces {
            let Some(mut labels) = needed(ops, die.frame_base) else {
                continue;
            };
            let checks = if parameter {
                Self::entry_value_checks(ops)
            } else {
                Vec::new()
            };
            labels.extend(checks.iter().map(|&(_, entry)| entry));
            let at = |labels: &[u32], places: &[Place], l: u32| {
                labels.iter().position(|&x| x == l).map(|i| places[i])
            };
            for (start, end, places) in self.map.split(*f, ranges, &labels) {
                if checks
                    .iter()
                    .any(|&(k, entry)| at(&labels, &places, k) != at(&labels, &places, entry))
                {
                    continue;
                }
                if let Some(bytes) =
                    translate(ops, die.frame_base, pointer, self.vm, &labels, &places)
                {
                    locations.push(Location::StartLength {
                        begin: Address::Constant(start),
                        length: end - start,
                        data: Expression::raw(bytes),
                    });
                }
            }
        }
        if locations.len() == 1 {
            return;
        }
        let id = self.out.unit.locations.add(LocationList(locations));
        self.out
            .unit
            .get_mut(die.id)
            .set(gimli::DW_AT_location, AttributeValue::LocationListRef(id));
    }

    /// clang's locations of a parameter in its own Wasm local are not
    /// always true at -O2: register coloring gives that local to another
    /// variable later while the location (whole-function, or a list entry
    /// to the function's end) still names it, and the local's later
    /// values would be shown as the parameter's. A parameter's location
    /// in local `k` therefore holds only where the local is where the
    /// parameter's entry value is (its own label, `PARAM_LABEL + k`, held
    /// only while that value lives): one place holds one value, so the
    /// local still holds the entry value there. Elsewhere the parameter is
    /// `<optimized out>`, never another variable's value (nor a value the
    /// program gave the parameter later: a loss, not an error).
    fn entry_value_checks(ops: &[Op]) -> Vec<(u32, u32)> {
        ops.iter()
            .filter_map(|op| match op {
                Op::Local(k) => Some((*k, PARAM_LABEL + *k)),
                _ => None,
            })
            .collect()
    }

    /// An attribute value that means the same natively, or `None`.
    fn value(
        &self,
        unit: &gimli::Unit<Reader<'a>>,
        value: gimli::AttributeValue<Reader<'a>>,
    ) -> Option<AttributeValue> {
        use gimli::AttributeValue as R;
        Some(match value {
            R::UnitRef(o) => AttributeValue::UnitRef(*self.ids.get(&section_offset(unit, o))?),
            R::DebugInfoRef(o) => AttributeValue::UnitRef(*self.ids.get(&o.0)?),
            R::String(_)
            | R::DebugStrRef(_)
            | R::DebugStrOffsetsIndex(_)
            | R::DebugLineStrRef(_) => {
                AttributeValue::String(self.wasm.attr_string(unit, value).ok()?.slice().to_vec())
            }
            R::Data1(v) => AttributeValue::Data1(v),
            R::Data2(v) => AttributeValue::Data2(v),
            R::Data4(v) => AttributeValue::Data4(v),
            R::Data8(v) => AttributeValue::Data8(v),
            R::Sdata(v) => AttributeValue::Sdata(v),
            R::Udata(v) => AttributeValue::Udata(v),
            R::Flag(v) => AttributeValue::Flag(v),
            R::Block(b) => AttributeValue::Block(b.slice().to_vec()),
            R::Encoding(v) => AttributeValue::Encoding(v),
            R::DecimalSign(v) => AttributeValue::DecimalSign(v),
            R::Endianity(v) => AttributeValue::Endianity(v),
            R::Accessibility(v) => AttributeValue::Accessibility(v),
            R::Visibility(v) => AttributeValue::Visibility(v),
            R::Virtuality(v) => AttributeValue::Virtuality(v),
            R::Language(v) => AttributeValue::Language(v),
            R::AddressClass(v) => AttributeValue::AddressClass(v),
            R::IdentifierCase(v) => AttributeValue::IdentifierCase(v),
            R::CallingConvention(v) => AttributeValue::CallingConvention(v),
            R::Inline(v) => AttributeValue::Inline(v),
            R::Ordering(v) => AttributeValue::Ordering(v),
            // Constant expressions (member offsets): plain operations only.
            R::Exprloc(e) => {
                let ops = parse(e.0.slice(), unit.encoding().address_size)?;
                let mut bytes = Vec::new();
                for op in ops {
                    match op {
                        Op::Plain(b) => bytes.extend(b),
                        _ => return None,
                    }
                }
                AttributeValue::Exprloc(Expression::raw(bytes))
            }
            _ => return None,
        })
    }
}

/// Whether gdb finds a function's return value of type `t` where the
/// generated code returns it (`rax`, `xmm0`): scalars, not aggregates.
fn returned_in_register(unit: &gimli::Unit<Reader<'_>>, mut t: gimli::UnitOffset) -> bool {
    for _ in 0..16 {
        let Ok(entry) = unit.entry(t) else {
            return false;
        };
        match entry.tag() {
            gimli::DW_TAG_base_type | gimli::DW_TAG_enumeration_type => return true,
            // Shown as `wasm_ptr32`, a 4-byte integer in `eax`.
            gimli::DW_TAG_pointer_type => return true,
            gimli::DW_TAG_typedef | gimli::DW_TAG_const_type | gimli::DW_TAG_volatile_type => {
                match entry.attr_value(gimli::DW_AT_type) {
                    Some(gimli::AttributeValue::UnitRef(o)) => t = o,
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// Whether an entry names code (it is dead if no function matches).
fn has_code_attr(entry: &gimli::DebuggingInformationEntry<Reader<'_>>) -> bool {
    entry.attr(gimli::DW_AT_low_pc).is_some() || entry.attr(gimli::DW_AT_ranges).is_some()
}

/// The frame base of a subprogram: `DW_OP_WASM_location` of a local or
/// global.
fn frame_base_of(entry: &gimli::DebuggingInformationEntry<Reader<'_>>) -> Option<FrameBase> {
    let Some(gimli::AttributeValue::Exprloc(expr)) = entry.attr_value(gimli::DW_AT_frame_base)
    else {
        return None;
    };
    match parse(expr.0.slice(), 4)?.as_slice() {
        [Op::Local(k)] | [Op::Local(k), Op::StackValue] => Some(FrameBase::Local(*k)),
        [Op::Global(g)] | [Op::Global(g), Op::StackValue] => Some(FrameBase::Global(*g)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wasm_expressions_parse_into_the_operations_that_need_translating() {
        // DW_OP_fbreg -12
        assert_eq!(parse(&[0x91, 0x74], 4), Some(vec![Op::FrameBase(-12)]));
        // DW_OP_WASM_location 0 3; DW_OP_stack_value
        assert_eq!(
            parse(&[0xed, 0x00, 0x03, 0x9f], 4),
            Some(vec![Op::Local(3), Op::StackValue])
        );
        // DW_OP_WASM_location 3 (fixed u32) 0: the __stack_pointer global
        assert_eq!(
            parse(&[0xed, 0x03, 0, 0, 0, 0], 4),
            Some(vec![Op::Global(0)])
        );
        // DW_OP_addr 0x400
        assert_eq!(
            parse(&[0x03, 0x00, 0x04, 0, 0], 4),
            Some(vec![Op::Address(0x400)])
        );
        // A dereference of linear memory is not translated.
        assert_eq!(parse(&[0x91, 0x08, 0x06], 4), None);
    }

    #[test]
    fn a_pointer_in_a_local_becomes_a_native_pointer_and_null_stays_null() {
        let vm = VmLayout {
            memory: Some(0x40),
            globals: Vec::new(),
        };
        let labels = [VMCTX_LABEL, 3];
        let places = [Place::Register(14), Place::Register(3)];
        let ops = [Op::Local(3), Op::StackValue];
        let bytes = translate(&ops, None, true, &vm, &labels, &places).unwrap();
        let base = [0x7e, 0x00, 0x23, 0x40, 0x06, 0x06, 0x22];
        let expected: Vec<u8> = [
            // local 3 from rbx, low 32 bits
            &[0x73, 0x00][..],
            &[0x0c, 0xff, 0xff, 0xff, 0xff, 0x1a],
            // dup; bra +3 (nonzero: add the base); skip over the addition
            &[0x12, 0x28, 3, 0, 0x2f, base.len() as u8, 0],
            &base,
            &[0x9f],
        ]
        .concat();
        assert_eq!(bytes, expected);
    }

    #[test]
    fn a_frame_based_variable_reads_linear_memory() {
        let vm = VmLayout {
            memory: Some(0x40),
            globals: vec![0x80],
        };
        let labels = [VMCTX_LABEL, 2];
        let places = [Place::Register(14), Place::Frame(-24)];
        let bytes = translate(
            &[Op::FrameBase(12)],
            Some(FrameBase::Local(2)),
            false,
            &vm,
            &labels,
            &places,
        )
        .unwrap();
        let expected: Vec<u8> = [
            // local 2 from its frame slot, plus 12
            &[0x9c, 0x11, 0x68, 0x22, 0x06, 0x11, 0x0c, 0x22][..],
            // low 32 bits
            &[0x0c, 0xff, 0xff, 0xff, 0xff, 0x1a],
            // plus the memory base: *(*(vmctx + 0x40) + 0)
            &[0x7e, 0x00, 0x23, 0x40, 0x06, 0x06, 0x22],
        ]
        .concat();
        assert_eq!(bytes, expected);
    }
}
