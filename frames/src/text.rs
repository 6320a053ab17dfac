//! The text form of a logical backtrace, the one every command prints:
//!
//! ```text
//!     0:     0x4e - bt!divide
//!                  at trap.c:29:9
//!     1:     0x59 - bt!level
//!        -- continuation #4 (bt!level) was resumed here, handlers $yield
//!     2:     0x67 - bt!level
//! ```
//!
//! Frames are numbered innermost first; the hexadecimal number is the
//! instruction's byte offset in its module. A recursion shows as one frame
//! and a count.

use std::fmt::Write;

use crate::{Boundary, Frame, display_name};

/// Colours for the parts of a backtrace; the default methods leave the
/// text plain.
pub trait Highlight {
    /// A function name.
    fn function(&self, text: &str) -> String {
        text.to_string()
    }

    /// A continuation boundary.
    fn boundary(&self, text: &str) -> String {
        text.to_string()
    }
}

/// No colour.
pub struct Plain;

impl Highlight for Plain {}

/// What to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also glue and host frames, and the line where the host entered
    /// Wasm.
    pub full: bool,
}

/// Appends the lines of `frames` to `out`.
pub fn write(out: &mut String, frames: &[Frame], options: Options, style: &dyn Highlight) {
    let mut n = 0;
    let mut i = 0;
    while i < frames.len() {
        let frame = &frames[i];
        i += 1;
        match frame {
            Frame::Wasm(w) => {
                let at = w
                    .offset
                    .map_or_else(|| "       ?".to_string(), |o| format!("{o:#8x}"));
                let name = style.function(&w.qualified_name());
                let _ = writeln!(out, "  {n:>3}: {at} - {name}");
                n += 1;
                let last = w.locations.len().saturating_sub(1);
                for (k, l) in w.locations.iter().enumerate() {
                    // Inlined callees are named; the outermost is the frame.
                    let inlined = match (&l.function, k < last) {
                        (Some(f), true) => format!(" (inlined {f})"),
                        _ => String::new(),
                    };
                    // File names come from the module's DWARF, which the module wrote.
                    let at = display_name(&format!("{l}{inlined}")).into_owned();
                    let _ = writeln!(out, "                 at {at}");
                }
                let mut repeats = 0;
                while i < frames.len() && frames[i] == *frame {
                    repeats += 1;
                    i += 1;
                }
                if repeats > 0 {
                    let _ = writeln!(out, "       ... the frame above {repeats} more times");
                    n += repeats;
                }
            }
            Frame::Skipped { frames } => {
                let _ = writeln!(out, "       ... {frames} more frames");
                n += frames;
            }
            Frame::Host(h) if options.full => {
                let name = display_name(h.symbol.as_deref().unwrap_or("<host or glue code>"));
                let _ = writeln!(out, "  {n:>3}: {:#x} - {name}", h.pc);
                n += 1;
            }
            Frame::Host(_) => {}
            Frame::Boundary(b) => {
                let _ = writeln!(out, "       -- {}", boundary_line(b, style));
            }
            Frame::HostEntry => {
                if options.full {
                    let _ = writeln!(out, "       -- entered from the host");
                }
            }
            Frame::Truncated { reason } => {
                let _ = writeln!(out, "       -- walk ended: {reason}");
            }
        }
    }
}

/// `continuation #4 (bt!level) was resumed here, handlers $yield`, or
/// `bottom of continuation #4 (bt!level)`.
fn boundary_line(b: &Boundary, style: &dyn Highlight) -> String {
    let what = style.boundary(&b.describe());
    if !b.resumed_here {
        return format!("bottom of {what}");
    }
    match &b.handlers {
        None => format!("{what} was resumed here"),
        Some(h) if h.is_empty() => format!("{what} was resumed here, no handlers"),
        Some(h) => format!("{what} was resumed here, handlers {}", h.join(", ")),
    }
}

/// The lines of `frames` as a string.
pub fn to_string(frames: &[Frame], options: Options, style: &dyn Highlight) -> String {
    let mut out = String::new();
    write(&mut out, frames, options, style);
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{HostFrame, Location, WasmFrame};

    fn wasm(function: &str, offset: Option<u32>, pc: u64) -> Frame {
        Frame::Wasm(WasmFrame {
            module: Arc::from("bt"),
            function: Arc::from(function),
            index: Some(0),
            offset,
            pc,
            locations: Vec::new(),
        })
    }

    fn boundary(id: u64, handlers: Option<&[&str]>, resumed_here: bool) -> Frame {
        Frame::Boundary(Boundary {
            continuation: id,
            entry: Arc::from("bt!level"),
            handlers: handlers.map(|h| h.iter().map(|&t| Arc::from(t)).collect()),
            resumed_here,
            name: None,
        })
    }

    #[test]
    fn frames_boundaries_and_recursion_print_as_documented() {
        let mut inner = wasm("divide", Some(0x4e), 10);
        if let Frame::Wasm(w) = &mut inner {
            w.locations = vec![
                Location {
                    file: "m.c".into(),
                    line: Some(3),
                    column: None,
                    function: Some("helper".into()),
                },
                Location {
                    file: "m.c".into(),
                    line: Some(9),
                    column: Some(2),
                    function: Some("divide".into()),
                },
            ];
        }
        let frames = [
            inner,
            Frame::Host(HostFrame {
                pc: 0x1234,
                symbol: None,
            }),
            wasm("level", Some(0x59), 20),
            wasm("level", Some(0x59), 20),
            wasm("level", Some(0x59), 20),
            boundary(4, Some(&["$yield"]), true),
            wasm("level", None, 30),
            boundary(3, Some(&[]), true),
            boundary(2, None, true),
            boundary(1, None, false),
            Frame::Skipped { frames: 7 },
            Frame::HostEntry,
            Frame::Truncated {
                reason: "a frame pointer left its stack".into(),
            },
        ];
        let text = to_string(&frames, Options::default(), &Plain);
        assert_eq!(
            text,
            "    0:     0x4e - bt!divide
                 at m.c:3 (inlined helper)
                 at m.c:9:2
    1:     0x59 - bt!level
       ... the frame above 2 more times
       -- continuation #4 (bt!level) was resumed here, handlers $yield
    4:        ? - bt!level
       -- continuation #3 (bt!level) was resumed here, no handlers
       -- continuation #2 (bt!level) was resumed here
       -- bottom of continuation #1 (bt!level)
       ... 7 more frames
       -- walk ended: a frame pointer left its stack
"
        );
        let full = to_string(&frames[..2], Options { full: true }, &Plain);
        assert!(
            full.ends_with("    1: 0x1234 - <host or glue code>\n"),
            "{full}"
        );
        let entry = to_string(&[Frame::HostEntry], Options { full: true }, &Plain);
        assert_eq!(entry, "       -- entered from the host\n");
    }

    #[test]
    fn the_json_shape_is_tagged_by_kind_and_reads_back() {
        let frames = vec![
            wasm("divide", Some(78), 10),
            boundary(4, Some(&["$yield"]), true),
            Frame::Host(HostFrame {
                pc: 5,
                symbol: Some("main+0x4 (app)".into()),
            }),
            Frame::HostEntry,
            Frame::Skipped { frames: 2 },
        ];
        let json = serde_json::to_string(&frames).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"[{"kind":"wasm","module":"bt","function":"divide","index":0,"offset":78,"pc":10,"locations":[]},"#,
                r#"{"kind":"boundary","continuation":4,"entry":"bt!level","handlers":["$yield"],"resumed_here":true},"#,
                r#"{"kind":"host","pc":5,"symbol":"main+0x4 (app)"},"#,
                r#"{"kind":"host_entry"},{"kind":"skipped","frames":2}]"#
            )
        );
        let back: Vec<Frame> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, frames);
    }
}
