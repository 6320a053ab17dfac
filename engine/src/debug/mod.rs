//! Debug information for gdb: each compiled module is described by an
//! in-memory ELF object (symbols named `module!function` and by plain name, the code's CFI,
//! line tables) registered through gdb's JIT interface for as long as the
//! module's code lives.
//!
//! Line tables map native code to the module's own source lines when it
//! carries DWARF, else to a WAT listing of the module written to a file
//! (under the temporary directory, in `switchyard-wat/<hash>/<name>.wat`),
//! so that `list`, `break FILE:LINE` and stepping work on Wasm text.
//!
//! Symbols, CFI and the lines of a module's own DWARF cost little, so they
//! are always registered: `gdb -p` on a running process names and unwinds
//! its Wasm frames. A WAT listing costs a file per module, and the C
//! program's variables (its DWARF `.debug_info` translated, `variables`)
//! cost about as much time again as compiling, so both are made only when
//! a debugger traces the process as the module is compiled (or with
//! `SWITCHYARD_GDB=1`); `SWITCHYARD_GDB=0` registers nothing.

pub(crate) mod cfi;
mod elf;
mod gdb_jit;
pub(crate) mod lines;
pub(crate) mod places;
mod variables;

use std::sync::OnceLock;

use crate::vm::code_lookup::CodeInfo;

/// The Cranelift value label of the VM context parameter; Wasm local `i`
/// is labelled `i` (wasmparser allows far fewer locals than this).
pub(crate) const VMCTX_LABEL: u32 = 0xffff_fff0;

/// Parameter `i`'s value on entry is also labelled `PARAM_LABEL + i`, a
/// label never given to another value: see `variables`.
pub(crate) const PARAM_LABEL: u32 = 0x4000_0000;

/// Where a labelled value (a Wasm local, the VM context) lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In this DWARF register.
    Register(u16),
    /// In the stack slot at this offset from the frame's CFA.
    Frame(i64),
}

/// One value-label range of a function: `label` is at `place` from code
/// offset `start` to `end` (relative to the function).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelRange {
    /// [`VMCTX_LABEL`] or a Wasm local index.
    pub label: u32,
    /// First code offset, relative to the function.
    pub start: u32,
    /// Code offset after the range.
    pub end: u32,
    /// Where the value is.
    pub place: Place,
}

/// Where the VM context points to what variables need: the memory base
/// and the globals (for `__stack_pointer` frame bases).
pub(crate) struct VmLayout {
    /// VM context offset of the `*mut VMMemory` of memory 0, if any.
    pub memory: Option<u32>,
    /// VM context offset of each global's `*mut VMGlobal`.
    pub globals: Vec<u32>,
}

/// Whether functions of this module should collect value labels for its
/// DWARF variables: it has some, and a debugger traces the process (or
/// `SWITCHYARD_GDB=1`). Translating them costs about as much again as
/// compiling the module (docs/gdb.md), too much to pay without a debugger.
pub(crate) fn wants_variables(module_bytes: &[u8]) -> bool {
    detail() == Detail::Full && lines::has_debug_info(module_bytes)
}

/// A module's object file, known to gdb until dropped.
pub(crate) struct DebugRegistration {
    _gdb: gdb_jit::Registered,
}

/// How much of each module is described to debuggers in this process.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Nothing (`SWITCHYARD_GDB=0`).
    Off,
    /// Symbols, CFI and the module's own DWARF lines.
    Symbols,
    /// Also a WAT listing for modules without DWARF, and variables.
    Full,
}

fn detail() -> Detail {
    static DETAIL: OnceLock<Detail> = OnceLock::new();
    *DETAIL.get_or_init(|| match std::env::var("SWITCHYARD_GDB").as_deref() {
        Ok("1") => Detail::Full,
        Ok("0") => Detail::Off,
        _ if traced() => Detail::Full,
        _ => Detail::Symbols,
    })
}

/// Whether another process (a debugger) traces this one.
fn traced() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|l| l.strip_prefix("TracerPid:"))
            .is_some_and(|pid| pid.trim() != "0")
    })
}

/// Describes a compiled module to gdb (unless `SWITCHYARD_GDB=0`).
/// `eh_frame` is the code's registered `.eh_frame` section.
/// `labels` holds each function's value-label ranges (empty unless
/// [`wants_variables`]).
pub(crate) fn register(
    code: &CodeInfo,
    module_bytes: &[u8],
    eh_frame: Option<&[u8]>,
    labels: &[Vec<LabelRange>],
    vm: &VmLayout,
) -> Option<DebugRegistration> {
    let lines = match detail() {
        Detail::Off => return None,
        Detail::Symbols => lines::SourceLines::from_dwarf(module_bytes),
        Detail::Full => lines::SourceLines::for_module(
            module_bytes,
            &code.module_name,
            &std::env::temp_dir().join("switchyard-wat"),
        ),
    };
    let base = code.start as u64;
    let image = elf::ModuleImage {
        code: (base, (code.end - code.start) as u64),
        functions: code
            .functions
            .iter()
            .zip(&code.function_names)
            .map(|(&(start, end, _), name)| {
                (
                    base + u64::from(start),
                    u64::from(end - start),
                    format!("{}!{}", code.module_name, name),
                )
            })
            .collect(),
        aliases: code
            .functions
            .iter()
            .zip(&code.function_names)
            .map(|(&(start, _, _), name)| (base + u64::from(start), name.to_string()))
            .collect(),
        eh_frame: eh_frame.map(|b| (b.as_ptr() as u64, b)),
        source_map: code
            .source_map
            .iter()
            .map(|&[at, offset]| (base + u64::from(at), offset))
            .collect(),
        lines: lines.as_ref(),
        unit_name: &code.module_name,
        variables: labels
            .iter()
            .any(|l| !l.is_empty())
            .then_some(variables::Input {
                module_bytes,
                labels,
                vm,
            }),
    };
    let object = elf::write(&image)?;
    Some(DebugRegistration {
        _gdb: gdb_jit::Registered::new(object.into_boxed_slice()),
    })
}

/// Describes glue code that has no Wasm source (entry glue) to gdb:
/// `functions` are `(address, length, name)`, sorted by address.
pub(crate) fn register_glue(
    functions: Vec<(usize, usize, String)>,
    eh_frame: Option<&[u8]>,
) -> Option<DebugRegistration> {
    if detail() == Detail::Off {
        return None;
    }
    let start = functions.first()?.0;
    let end = functions.iter().map(|f| f.0 + f.1).max()?;
    let image = elf::ModuleImage {
        code: (start as u64, (end - start) as u64),
        functions: functions
            .into_iter()
            .map(|(a, l, n)| (a as u64, l as u64, n))
            .collect(),
        aliases: Vec::new(),
        eh_frame: eh_frame.map(|b| (b.as_ptr() as u64, b)),
        source_map: Vec::new(),
        lines: None,
        unit_name: "switchyard-glue",
        variables: None,
    };
    let object = elf::write(&image)?;
    Some(DebugRegistration {
        _gdb: gdb_jit::Registered::new(object.into_boxed_slice()),
    })
}

/// Reads the unsigned LEB128 number at `*pos` of `bytes` and moves `*pos`
/// past it (gimli's reader; `None` when it is cut short or overflows).
fn uleb(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut reader = gimli::EndianSlice::new(bytes.get(*pos..)?, gimli::LittleEndian);
    let before = reader.len();
    let value = gimli::leb128::read::unsigned(&mut reader).ok()?;
    *pos += before - reader.len();
    Some(value)
}

/// Reads the signed LEB128 number at `*pos` of `bytes`, as [`uleb`].
fn sleb(bytes: &[u8], pos: &mut usize) -> Option<i64> {
    let mut reader = gimli::EndianSlice::new(bytes.get(*pos..)?, gimli::LittleEndian);
    let before = reader.len();
    let value = gimli::leb128::read::signed(&mut reader).ok()?;
    *pos += before - reader.len();
    Some(value)
}
