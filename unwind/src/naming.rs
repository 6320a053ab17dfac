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
    /// Reads the code and name sections of a module binary; `None` when
    /// they cannot be parsed.
    pub fn new(bytes: Vec<u8>) -> Option<ModuleCode> {
        if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
            return None;
        }
        let mut bodies = Vec::new();
        let mut tag_names = HashMap::new();
        let mut at = 8;
        while at < bytes.len() {
            let id = bytes[at];
            let (size, n) = leb_u32(&bytes, at + 1)?;
            let start = at + 1 + n;
            let end = start.checked_add(size as usize)?;
            if end > bytes.len() {
                return None;
            }
            match id {
                10 => bodies = code_bodies(&bytes[..end], start)?,
                0 => {
                    let (name_len, n) = leb_u32(&bytes, start)?;
                    let name_at = start + n;
                    let content = name_at + name_len as usize;
                    if bytes.get(name_at..content) == Some(b"name") {
                        tag_names = tag_names_of(&bytes[..end], content).unwrap_or_default();
                    }
                }
                _ => {}
            }
            at = end;
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

fn code_bodies(b: &[u8], start: usize) -> Option<Vec<(usize, usize)>> {
    let (count, n) = leb_u32(b, start)?;
    let mut at = start + n;
    let mut bodies = Vec::with_capacity(count.min(1 << 20) as usize);
    for _ in 0..count {
        let (size, n) = leb_u32(b, at)?;
        let body = at + n;
        let end = body.checked_add(size as usize)?;
        if end > b.len() {
            return None;
        }
        bodies.push((body, end));
        at = end;
    }
    Some(bodies)
}

/// The tag names subsection (11) of a name section whose content (after
/// the section's own name) starts at `at`.
fn tag_names_of(b: &[u8], mut at: usize) -> Option<HashMap<u32, String>> {
    let mut names = HashMap::new();
    while at < b.len() {
        let id = b[at];
        let (size, n) = leb_u32(b, at + 1)?;
        let start = at + 1 + n;
        let end = start.checked_add(size as usize)?;
        if id == 11 {
            let (count, n) = leb_u32(b, start)?;
            let mut p = start + n;
            for _ in 0..count.min(1 << 20) {
                let (index, n) = leb_u32(b, p)?;
                p += n;
                let (len, n) = leb_u32(b, p)?;
                p += n;
                let name = b.get(p..p + len as usize)?;
                p += len as usize;
                names.insert(index, String::from_utf8_lossy(name).into_owned());
            }
        }
        at = end;
    }
    Some(names)
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

    fn module(wat_body: &[u8]) -> ModuleCode {
        // A module with one code section holding one body.
        let mut body = vec![0u8]; // no locals
        body.extend_from_slice(wat_body);
        let mut section = vec![1u8, body.len() as u8];
        section.extend_from_slice(&body);
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        bytes.push(10);
        bytes.push(section.len() as u8);
        bytes.extend_from_slice(&section);
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
        // The body starts after 8 (header) + 2 (section id, size) + 2
        // (count, body size) + 1 (locals) bytes.
        let call = 13 + 4;
        assert!(m.is_forwarding_call(call as u32));
        assert!(!m.is_forwarding_call(13));
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
        // Offset 17 of module `lib` and offset 5 of `app` are forwarding
        // calls (see the test above): lib!entry -> app!thread_entry ->
        // app!worker -> app!helper.
        let lib = Arc::new(module(&[
            0x20, 0, 0x20, 1, 0x11, 0, 0, 0x21, 2, 0x41, 16, 0x6a, 0x24, 0, 0x20, 2, 0x0b,
        ]));
        let code = |m: &str| (m == "lib").then(|| lib.clone());
        let mut frames = vec![
            wasm("app", "helper", 3),
            wasm("app", "worker", 17),
            wasm("lib", "thread_entry", 17),
            wasm("lib", "entry", 17),
            boundary("lib!entry"),
            wasm("app", "main", 17),
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
        assert!(!m.is_forwarding_call(13));
    }
}
