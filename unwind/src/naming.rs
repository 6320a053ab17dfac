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
}

impl ModuleCode {
    /// Reads the code and name sections of a module binary (wasmparser's
    /// section reader); `None` when they cannot be parsed.
    pub fn new(bytes: Vec<u8>) -> Option<ModuleCode> {
        let mut bodies = Vec::new();
        let mut tag_names = HashMap::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            match payload.ok()? {
                wasmparser::Payload::CodeSectionEntry(body) => {
                    let range = body.range();
                    bodies.push((range.start, range.end));
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

    #[test]
    fn an_indirect_call_followed_by_work_does_not_forward() {
        // call_indirect 0 0; i32.load; end
        let m = module(&[0x11, 0, 0, 0x28, 2, 0, 0x0b]);
        assert!(!m.is_forwarding_call(BODY));
    }
}
