//! Names a module gives itself (name section, exports, DWARF file names)
//! made safe to show.
//!
//! A Wasm name is any UTF-8 string: it may hold NUL bytes, newlines,
//! terminal escape sequences or bidirectional overrides. Every name the
//! engine hands on (to gdb's symbol table, perf maps, the registry of live
//! stacks, trap reports) goes through [`display_name`] once, when the
//! module is read, so that no reader has to distrust it again: a symbol
//! table cannot hold a NUL, a perf map line ends at a newline, and a
//! terminal obeys escape sequences. It lives with the frame model because
//! the one printer also escapes what the unwinder reads from a module's
//! DWARF (file names) and from host symbol tables.

use std::borrow::Cow;

/// `raw` with every character that could change how text around it is
/// read written as a Rust-style escape (`\u{0}`, `\u{1b}`, `\u{202e}`):
/// control characters (C0, DEL, C1) and the invisible formatting
/// characters that reorder or split lines (bidirectional controls, line
/// and paragraph separators). Other text, backslashes included, is kept,
/// so a name that needs no escape is borrowed as it is, and escaping an
/// escaped name changes nothing.
pub fn display_name(raw: &str) -> Cow<'_, str> {
    if !raw.chars().any(needs_escape) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len() + 8);
    for c in raw.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' // left-to-right and right-to-left marks
                | '\u{2028}' | '\u{2029}' // line and paragraph separators
                | '\u{202a}'..='\u{202e}' // embeddings and overrides
                | '\u{2066}'..='\u{2069}' // isolates
        )
}

#[cfg(test)]
mod tests {
    use super::display_name;

    #[test]
    fn clean_names_are_borrowed() {
        for name in ["fac", "mod!f", "a b\\c", "über", "wasm-function[3]", ""] {
            assert!(matches!(display_name(name), std::borrow::Cow::Borrowed(n) if n == name));
        }
    }

    #[test]
    fn control_and_reordering_characters_are_escaped() {
        assert_eq!(display_name("a\0b"), "a\\u{0}b");
        assert_eq!(display_name("\x1b[31mred\n"), "\\u{1b}[31mred\\u{a}");
        assert_eq!(display_name("x\u{7f}\u{85}"), "x\\u{7f}\\u{85}");
        assert_eq!(display_name("ab\u{202e}cd"), "ab\\u{202e}cd");
        assert_eq!(display_name("\u{2028}"), "\\u{2028}");
        let once = display_name("t\0\x07");
        assert_eq!(display_name(&once), once);
        assert!(!once.bytes().any(|b| b < 0x20));
    }
}
