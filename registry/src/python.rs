//! The layout as a Python module, for the gdb helpers, which cannot read
//! Rust. The committed `gdb-scripts/switchyard/layout.py` is this output;
//! a test in this crate fails when the two differ.

use core::fmt::{self, Write};

use crate::{
    CREATION_FRAMES, LAYOUTS, MAX_PAYLOAD, RECORD_MAGIC, REGISTRY_MAGIC, REGISTRY_SYMBOL,
    REGISTRY_VERSION, offsets, state, trap,
};

/// The command that regenerates the committed Python file.
pub const REGENERATE: &str = "cargo run -p switchyard-registry-layout --example python_layout > gdb-scripts/switchyard/layout.py";

/// Writes the layout as a Python module: magic numbers (`MAGIC_REGISTRY`,
/// `MAGIC_RECORD`), `VERSION`, state values and names, trap names
/// (`TRAP_NAMES`), and for every structure `PREFIX_SIZE` and
/// `PREFIX_FIELD` (its offset), the prefix being the structure's module in
/// [`offsets`] in capitals.
pub fn write_python_layout(out: &mut impl Write) -> fmt::Result {
    writeln!(
        out,
        "# Generated from the switchyard-registry-layout crate: do not edit."
    )?;
    writeln!(out, "# Regenerate with:")?;
    writeln!(out, "#   {REGENERATE}")?;
    writeln!(
        out,
        "\"\"\"The layout of the registry of live stacks, version {REGISTRY_VERSION} (docs/registry.md).\"\"\""
    )?;
    writeln!(out)?;
    writeln!(out, "SYMBOL = \"{REGISTRY_SYMBOL}\"")?;
    // `RECORD_MAGIC` is the offset of the record's magic field here.
    writeln!(out, "MAGIC_REGISTRY = {REGISTRY_MAGIC:#x}  # \"SYWR\"")?;
    writeln!(out, "MAGIC_RECORD = {RECORD_MAGIC:#x}  # \"SYWC\"")?;
    writeln!(out, "VERSION = {REGISTRY_VERSION}")?;
    writeln!(out, "MAX_PAYLOAD = {MAX_PAYLOAD}")?;
    writeln!(out, "CREATION_FRAMES = {CREATION_FRAMES}")?;
    writeln!(out)?;
    for (value, name) in state::NAMES {
        write!(out, "STATE_")?;
        upper(out, name)?;
        writeln!(out, " = {value}")?;
    }
    write!(out, "STATE_NAMES = {{")?;
    for (i, (value, name)) in state::NAMES.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(out, "{sep}{value}: \"{name}\"")?;
    }
    writeln!(out, "}}")?;
    write!(out, "TRAP_NAMES = {{")?;
    for (i, (value, name)) in trap::NAMES.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(out, "{sep}{value}: \"{name}\"")?;
    }
    writeln!(out, "}}")?;
    for layout in LAYOUTS {
        writeln!(out)?;
        writeln!(out, "# {} ({} bytes)", layout.name, layout.size)?;
        upper(out, layout.module)?;
        writeln!(out, "_SIZE = {}", layout.size)?;
        for field in layout.fields {
            upper(out, layout.module)?;
            writeln!(
                out,
                "_{} = {}  # {} bytes",
                field.constant, field.offset, field.size
            )?;
        }
    }
    writeln!(out)?;
    writeln!(
        out,
        "# A running continuation's trampoline frame pointer, minus its record."
    )?;
    writeln!(out, "TRAMPOLINE_FP = {}", offsets::TRAMPOLINE_FP)?;
    writeln!(
        out,
        "# The smallest code entry a reader accepts (code_entry_size says more)."
    )?;
    writeln!(
        out,
        "CODE_ENTRY_MIN_SIZE = {}",
        offsets::CODE_ENTRY_MIN_SIZE
    )?;
    writeln!(out, "# One address of a store's records array.")?;
    writeln!(
        out,
        "RECORD_POINTER_SIZE = {}",
        offsets::RECORD_POINTER_SIZE
    )?;
    writeln!(
        out,
        "# One (code offset, module offset) pair of a source map."
    )?;
    writeln!(
        out,
        "SOURCE_MAP_PAIR_SIZE = {}",
        offsets::SOURCE_MAP_PAIR_SIZE
    )?;
    writeln!(out, "# One (code offset, trap code) pair of a trap table.")?;
    writeln!(out, "TRAP_PAIR_SIZE = {}", offsets::TRAP_PAIR_SIZE)?;
    writeln!(out, "# One element of a table (a FuncRef's address, or 0).")?;
    writeln!(out, "TABLE_ELEMENT_SIZE = {}", offsets::TABLE_ELEMENT_SIZE)
}

fn upper(out: &mut impl Write, name: &str) -> fmt::Result {
    name.chars()
        .try_for_each(|c| out.write_char(c.to_ascii_uppercase()))
}
