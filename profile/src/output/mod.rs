//! The output formats of a [`Profile`].

mod firefox;
mod folded;
mod text;

use std::io::{self, Write};
use std::path::Path;

use crate::Profile;

pub use firefox::firefox_json;
pub use folded::{flame_graph_svg, folded};
pub use text::summary;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One line per distinct stack, `root;...;leaf COUNT` (flamegraph.pl,
    /// inferno, speedscope read it).
    Folded,
    /// A flame graph (inferno).
    Svg,
    /// A Firefox Profiler profile (JSON, open at profiler.firefox.com).
    Firefox,
    /// Top functions and time per continuation.
    Text,
}

impl Format {
    /// The format an output file's extension asks for: `.svg`, `.json`,
    /// `.folded`, `.txt`.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "svg" => Some(Format::Svg),
            "json" => Some(Format::Firefox),
            "folded" => Some(Format::Folded),
            "txt" => Some(Format::Text),
            _ => None,
        }
    }
}

/// Writes `profile` in `format`.
pub fn write(profile: &Profile, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Folded => out.write_all(folded(profile).as_bytes()),
        Format::Svg => flame_graph_svg(profile, out),
        Format::Firefox => out.write_all(firefox_json(profile).as_bytes()),
        Format::Text => out.write_all(summary(profile).as_bytes()),
    }
}
