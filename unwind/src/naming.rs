//! A continuation's name: what it runs, not how it was started.
//!
//! A fiber library starts every continuation in one function (fiber.wat's
//! `$entry`), which calls the fiber's body through `call_indirect`; often
//! the program adds a wrapper of its own (green.c's `thread_entry`). Named
//! by its entry function, every fiber would be `fiber!entry`. So a
//! continuation is named by the first function of its stack, counted from
//! the bottom, that is not a forwarding wrapper: a frame whose call is an
//! indirect call (`call_indirect`, `call_ref`) after which the function
//! only moves values to its return (locals, globals, constants, adds, the
//! shadow stack's restore). The instruction a frame is in is read from the
//! module's bytes at the frame's offset, so the rule needs no debug info
//! and works at every optimization level clang produces.
//!
//! [`name_continuations`] is the one place this is computed; every view
//! (trap reports, `bt`, the inspector, snapshots) calls it on its frames.
//!
//! A fresh continuation has no frames yet. When its entry function's body
//! is such a forwarding call whose callee comes from a parameter that
//! `cont.bind` bound, [`ModuleCode::bound_callee`] says which bound word
//! holds the callee; `crate::fresh` reads it from the registry.

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_frames::{Frame, WasmFrame};

/// What the naming rule and the wait description read from a module's
/// bytes: the ranges of its function bodies, its tag names, and the bytes.
pub struct ModuleCode {
    bytes: Vec<u8>,
    /// Byte ranges of the function bodies (after their size), sorted.
    bodies: Vec<(usize, usize)>,
    /// Tag names from the name section (subsection 11).
    tag_names: HashMap<u32, String>,
    /// Number of imported functions (the first function indices).
    imported_funcs: u32,
    /// The type index of every function, imported ones first.
    func_types: Vec<u32>,
    /// The payload words of each parameter of every type (a v128 takes
    /// two), `None` for types that are not function types.
    type_params: Vec<Option<Vec<usize>>>,
    /// Whether each table (imported ones first) is a 64-bit table.
    table64: Vec<bool>,
}

/// Where a fresh continuation's callee is: the forwarding call of its
/// entry function takes it from parameter words that `cont.bind` may have
/// bound ([`ModuleCode::bound_callee`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundCallee {
    /// The payload word of the parameter (from the first parameter on,
    /// a v128 taking two words).
    pub word: usize,
    /// How the call uses it.
    pub via: Callee,
}

/// How a forwarding call finds its callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callee {
    /// `call_indirect`: an index into this table of the caller's instance.
    Table {
        /// The table's index in the module.
        table: u32,
        /// A 64-bit table (else the index is the word's low 32 bits).
        table64: bool,
    },
    /// `call_ref`: a funcref.
    FuncRef,
}

impl ModuleCode {
    /// Reads the code and name sections of a module binary (wasmparser's
    /// section reader); `None` when they cannot be parsed.
    pub fn new(bytes: Vec<u8>) -> Option<ModuleCode> {
        let mut bodies = Vec::new();
        let mut tag_names = HashMap::new();
        let mut imported_funcs = 0;
        let mut func_types = Vec::new();
        let mut type_params = Vec::new();
        let mut table64 = Vec::new();
        let mut parser = wasmparser::Parser::new(0);
        parser.set_features(wasmparser::WasmFeatures::all());
        for payload in parser.parse_all(&bytes) {
            match payload.ok()? {
                wasmparser::Payload::CodeSectionEntry(body) => {
                    let range = body.range();
                    bodies.push((range.start, range.end));
                }
                wasmparser::Payload::TypeSection(types) => {
                    for group in types {
                        for ty in group.ok()?.types() {
                            type_params.push(match &ty.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => Some(
                                    f.params()
                                        .iter()
                                        .map(|p| 1 + usize::from(*p == wasmparser::ValType::V128))
                                        .collect(),
                                ),
                                _ => None,
                            });
                        }
                    }
                }
                wasmparser::Payload::ImportSection(imports) => {
                    for import in imports.into_imports() {
                        match import.ok()?.ty {
                            wasmparser::TypeRef::Func(t) | wasmparser::TypeRef::FuncExact(t) => {
                                imported_funcs += 1;
                                func_types.push(t);
                            }
                            wasmparser::TypeRef::Table(t) => table64.push(t.table64),
                            _ => {}
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(funcs) => {
                    for t in funcs {
                        func_types.push(t.ok()?);
                    }
                }
                wasmparser::Payload::TableSection(tables) => {
                    for t in tables {
                        table64.push(t.ok()?.ty.table64);
                    }
                }
                wasmparser::Payload::CustomSection(section) => {
                    if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                        // A malformed name section only loses the names.
                        tag_names = tag_names_of(names).unwrap_or_default();
                    }
                }
                _ => {}
            }
        }
        Some(ModuleCode {
            bytes,
            bodies,
            tag_names,
            imported_funcs,
            func_types,
            type_params,
            table64,
        })
    }

    /// Where the callee of function `function`'s forwarding call comes
    /// from, when it is a parameter: its body makes a forwarding call
    /// ([`is_forwarding_call`](Self::is_forwarding_call), or a tail call
    /// `return_call_indirect`/`return_call_ref`) whose callee operand is
    /// `local.get` of a parameter that the body never sets. `None` for
    /// anything else, and for imported functions.
    pub fn bound_callee(&self, function: u32) -> Option<BoundCallee> {
        use wasmparser::Operator;
        let body = function.checked_sub(self.imported_funcs)? as usize;
        let &(start, end) = self.bodies.get(body)?;
        let ty = *self.func_types.get(function as usize)?;
        let params = self.type_params.get(ty as usize)?.as_ref()?;
        let reader = wasmparser::BinaryReader::new(&self.bytes[start..end], start);
        let mut ops = wasmparser::FunctionBody::new(reader)
            .get_operators_reader()
            .ok()?;
        let mut set = Vec::new();
        let mut last_get = None;
        let mut found = None;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset().ok()?;
            let offset = u32::try_from(offset).ok()?;
            let via = match op {
                Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                    set.push(local_index);
                    None
                }
                Operator::CallIndirect { table_index, .. } if self.is_forwarding_call(offset) => {
                    Some(self.table_callee(table_index)?)
                }
                Operator::ReturnCallIndirect { table_index, .. } => {
                    Some(self.table_callee(table_index)?)
                }
                Operator::CallRef { .. } if self.is_forwarding_call(offset) => {
                    Some(Callee::FuncRef)
                }
                Operator::ReturnCallRef { .. } => Some(Callee::FuncRef),
                _ => None,
            };
            // The first forwarding call decides, whatever its operand.
            if found.is_none()
                && let Some(via) = via
            {
                found = Some(last_get.map(|param| (param, via)));
            }
            last_get = match op {
                Operator::LocalGet { local_index } => Some(local_index),
                _ => None,
            };
        }
        let (param, via) = found??;
        let param = param as usize;
        if param >= params.len() || set.contains(&(param as u32)) {
            return None;
        }
        Some(BoundCallee {
            word: params[..param].iter().sum(),
            via,
        })
    }

    fn table_callee(&self, table: u32) -> Option<Callee> {
        Some(Callee::Table {
            table,
            table64: *self.table64.get(table as usize)?,
        })
    }

    fn body_end(&self, offset: usize) -> Option<usize> {
        let i = self
            .bodies
            .partition_point(|&(start, _)| start <= offset)
            .checked_sub(1)?;
        let (_, end) = self.bodies[i];
        (offset < end).then_some(end)
    }

    /// Whether the instruction at module offset `offset` is an indirect
    /// call whose function only returns what it returns.
    pub fn is_forwarding_call(&self, offset: u32) -> bool {
        let offset = offset as usize;
        let Some(end) = self.body_end(offset) else {
            return false;
        };
        let b = &self.bytes[..end];
        let mut at = match b[offset] {
            // call_indirect type table
            0x11 => match skip_leb(b, offset + 1).and_then(|a| skip_leb(b, a)) {
                Some(a) => a,
                None => return false,
            },
            // call_ref type
            0x14 => match skip_leb(b, offset + 1) {
                Some(a) => a,
                None => return false,
            },
            _ => return false,
        };
        for _ in 0..64 {
            let Some(&op) = b.get(at) else { return false };
            at = match op {
                // end of the body, or of a block around the call; return
                0x0b if at + 1 == end => return true,
                0x0f => return true,
                0x0b | 0x1a | 0x6a | 0x6b | 0x7c | 0x7d => at + 1,
                // local.get/set/tee, global.get/set, i32.const, i64.const
                0x20..=0x24 | 0x41 | 0x42 => match skip_leb(b, at + 1) {
                    Some(a) => a,
                    None => return false,
                },
                _ => return false,
            };
        }
        false
    }

    /// What a suspended continuation waits on, from the instruction it
    /// stopped at: `$tag` of a `suspend` or `switch` (its name from the name
    /// section, else `tag N`), or `None` for anything else.
    pub fn tag_at(&self, offset: u32) -> Option<String> {
        let offset = offset as usize;
        let end = self.body_end(offset)?;
        let b = &self.bytes[..end];
        let tag_at = match b[offset] {
            0xe2 => offset + 1,               // suspend tag
            0xe5 => skip_leb(b, offset + 1)?, // switch type tag
            _ => return None,
        };
        let (tag, _) = leb_u32(b, tag_at)?;
        Some(match self.tag_names.get(&tag) {
            Some(name) => format!("${name}"),
            None => format!("tag {tag}"),
        })
    }
}

fn leb_u32(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let mut value: u64 = 0;
    for i in 0..5 {
        let byte = *b.get(at + i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((u32::try_from(value).ok()?, i + 1));
        }
    }
    None
}

/// Skips a LEB128 number of up to 10 bytes (signed or not).
fn skip_leb(b: &[u8], at: usize) -> Option<usize> {
    for i in 0..10 {
        if *b.get(at + i)? & 0x80 == 0 {
            return Some(at + i + 1);
        }
    }
    None
}

/// The tag names subsection (11) of a name section.
fn tag_names_of(names: wasmparser::NameSectionReader) -> Option<HashMap<u32, String>> {
    let mut tags = HashMap::new();
    for name in names {
        if let wasmparser::Name::Tag(map) = name.ok()? {
            for naming in map {
                let naming = naming.ok()?;
                tags.insert(naming.index, naming.name.to_string());
            }
        }
    }
    Some(tags)
}

/// The frame that names a continuation, given the frames of its stack
/// segment (innermost first, the entry function last): the first Wasm
/// frame from the bottom whose call is not a forwarding call, or the
/// innermost one.
pub fn body_frame<'a>(
    segment: &'a [Frame],
    is_forwarding: &dyn Fn(&WasmFrame) -> bool,
) -> Option<&'a WasmFrame> {
    let wasm: Vec<&WasmFrame> = segment.iter().filter_map(Frame::as_wasm).collect();
    let (innermost, below) = wasm.split_first()?;
    below
        .iter()
        .rev()
        .find(|w| !is_forwarding(w))
        .copied()
        .or(Some(innermost))
}

/// Names every boundary of `frames` (innermost first) by the frames of its
/// segment, reading instructions through `code` (the module's code by
/// module name; `None`: no names from that module).
pub fn name_continuations(frames: &mut [Frame], code: &dyn Fn(&str) -> Option<Arc<ModuleCode>>) {
    let is_forwarding = |w: &WasmFrame| {
        w.offset
            .zip(code(&w.module))
            .is_some_and(|(o, c)| c.is_forwarding_call(o))
    };
    let mut segment_start = 0;
    for i in 0..frames.len() {
        if !matches!(frames[i], Frame::Boundary(_)) {
            continue;
        }
        let name =
            body_frame(&frames[segment_start..i], &is_forwarding).map(WasmFrame::qualified_name);
        if let Frame::Boundary(b) = &mut frames[i] {
            b.name = name.filter(|n| **n != *b.entry).map(Arc::from);
        }
        segment_start = i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module offset of the first instruction of [`module`]'s body:
    /// 8 (header) + 6 (type section) + 4 (function section) + 2 (code
    /// section id, size) + 2 (count, body size) + 1 (locals).
    const BODY: u32 = 23;

    /// A module with one function of type `[] -> []` whose body's
    /// instructions are `instructions` (from module offset [`BODY`]).
    fn module(instructions: &[u8]) -> ModuleCode {
        let mut body = vec![0u8]; // no locals
        body.extend_from_slice(instructions);
        let mut code = vec![1u8, body.len() as u8];
        code.extend_from_slice(&body);
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        bytes.extend_from_slice(&[3, 2, 1, 0]);
        bytes.push(10);
        bytes.push(code.len() as u8);
        bytes.extend_from_slice(&code);
        ModuleCode::new(bytes).expect("parses")
    }

    #[test]
    fn an_indirect_call_in_tail_position_forwards() {
        // local.get 0; local.get 1; call_indirect 0 0; local.set 2;
        // global.set 0 (after i32.const 16, i32.add); local.get 2; end
        let code = [
            0x20, 0, 0x20, 1, 0x11, 0, 0, 0x21, 2, 0x41, 16, 0x6a, 0x24, 0, 0x20, 2, 0x0b,
        ];
        let m = module(&code);
        assert!(m.is_forwarding_call(BODY + 4));
        assert!(!m.is_forwarding_call(BODY));
    }

    fn wasm(module: &str, function: &str, offset: u32) -> Frame {
        Frame::Wasm(WasmFrame {
            module: Arc::from(module),
            function: Arc::from(function),
            index: None,
            offset: Some(offset),
            pc: 0,
            locations: Vec::new(),
        })
    }

    fn boundary(entry: &str) -> Frame {
        Frame::Boundary(switchyard_frames::Boundary {
            continuation: 1,
            entry: Arc::from(entry),
            handlers: None,
            resumed_here: true,
            name: None,
        })
    }

    #[test]
    fn a_boundary_is_named_by_the_first_frame_above_the_forwarding_ones() {
        // Offset BODY + 4 of module `lib` is a forwarding call (see the
        // test above): lib!entry -> lib!thread_entry -> app!worker ->
        // app!helper.
        let lib = Arc::new(module(&[
            0x20, 0, 0x20, 1, 0x11, 0, 0, 0x21, 2, 0x41, 16, 0x6a, 0x24, 0, 0x20, 2, 0x0b,
        ]));
        let code = |m: &str| (m == "lib").then(|| lib.clone());
        let mut frames = vec![
            wasm("app", "helper", 3),
            wasm("app", "worker", BODY + 4),
            wasm("lib", "thread_entry", BODY + 4),
            wasm("lib", "entry", BODY + 4),
            boundary("lib!entry"),
            wasm("app", "main", BODY + 4),
            boundary("app!main"),
        ];
        name_continuations(&mut frames, &code);
        // `app` has no code here, so its frames never forward.
        let names: Vec<Option<&str>> = frames
            .iter()
            .filter_map(Frame::as_boundary)
            .map(|b| b.name.as_deref())
            .collect();
        assert_eq!(names, [Some("app!worker"), None]);
    }

    fn wat_code(path: &str) -> ModuleCode {
        let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
        ModuleCode::new(wat::parse_file(&path).expect("parses")).expect("reads")
    }

    #[test]
    fn a_forwarding_entry_names_the_parameter_of_its_callee() {
        // tests/fresh/entries.wat: $target_index, $target_ref, $by_index,
        // $by_ref, $plain, then `park`.
        let m = wat_code("tests/fresh/entries.wat");
        let table = Callee::Table {
            table: 0,
            table64: false,
        };
        let at = |word, via| Some(BoundCallee { word, via });
        assert_eq!(m.bound_callee(2), at(0, table));
        assert_eq!(m.bound_callee(3), at(0, Callee::FuncRef));
        assert_eq!(m.bound_callee(4), None);
        assert_eq!(m.bound_callee(0), None);
        assert_eq!(m.bound_callee(99), None);
        // fiber.wat's $entry (function 1, after $arrive): `fn` is its
        // first parameter, the index into $funcs (table 0).
        let fiber = wat_code("tests/programs/fibers/fiber.wat");
        assert_eq!(fiber.bound_callee(1), at(0, table));
    }

    #[test]
    fn a_callee_parameter_the_body_sets_is_not_the_bound_one() {
        let bytes = wat::parse_str(
            r#"(module
                 (type $ft (func (param i32)))
                 (table 1 funcref)
                 (func (param v128 i32 i32)
                   (local.set 2 (i32.const 0))
                   (call_indirect (type $ft) (local.get 1) (local.get 2)))
                 (func (param v128 i32 i32)
                   (call_indirect (type $ft) (local.get 1) (local.get 2))))"#,
        )
        .expect("parses");
        let m = ModuleCode::new(bytes).expect("reads");
        assert_eq!(m.bound_callee(0), None);
        // After a v128 (two words) and an i32: word 3.
        assert_eq!(
            m.bound_callee(1),
            Some(BoundCallee {
                word: 3,
                via: Callee::Table {
                    table: 0,
                    table64: false
                }
            })
        );
    }

    #[test]
    fn an_indirect_call_followed_by_work_does_not_forward() {
        // call_indirect 0 0; i32.load; end
        let m = module(&[0x11, 0, 0, 0x28, 2, 0, 0x0b]);
        assert!(!m.is_forwarding_call(BODY));
    }
}
