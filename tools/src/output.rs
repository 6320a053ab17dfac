//! Terminal styling (colour on a terminal, never with `NO_COLOR`) and JSON
//! string escaping.
//!
//! Styled text is escaped ([`display_name`]): it carries names a module
//! chose, and a name must not be able to move the cursor, retitle the
//! terminal or reorder the line it is printed in.

use std::io::IsTerminal;

use switchyard_engine::display_name;

/// ANSI styling, on or off.
pub struct Style {
    enabled: bool,
}

impl Style {
    /// Colour when stdout is a terminal and `NO_COLOR` is not set.
    pub fn for_stdout() -> Style {
        Style {
            enabled: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// Colour when stderr is a terminal and `NO_COLOR` is not set.
    pub fn for_stderr() -> Style {
        Style {
            enabled: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    /// An error.
    pub fn error(&self, text: &str) -> String {
        self.paint("1;31", text)
    }

    fn paint(&self, code: &str, text: &str) -> String {
        let text = display_name(text);
        if self.enabled {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.into_owned()
        }
    }

    /// A section heading.
    pub fn heading(&self, text: &str) -> String {
        self.paint("1", text)
    }

    /// A function name.
    pub fn function(&self, text: &str) -> String {
        self.paint("1;32", text)
    }

    /// A continuation boundary.
    pub fn boundary(&self, text: &str) -> String {
        self.paint("36", text)
    }
}

impl switchyard_frames::text::Highlight for Style {
    fn function(&self, text: &str) -> String {
        Style::function(self, text)
    }

    fn boundary(&self, text: &str) -> String {
        Style::boundary(self, text)
    }
}

/// `s` as a JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // U+2028 and U+2029 are escaped too, for readers that take
            // JSON as JavaScript.
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
