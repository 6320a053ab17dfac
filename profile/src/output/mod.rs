//! The output formats of a [`Profile`].

mod firefox;
mod folded;
mod pprof;
mod text;

use std::io::{self, Write};
use std::path::Path;

use crate::Profile;

pub use firefox::firefox_json;
pub use folded::{flame_graph_svg, folded};
pub use pprof::pprof;
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
    /// pprof's gzipped protobuf (`go tool pprof`, Pyroscope, Parca,
    /// Grafana), samples labelled by continuation.
    Pprof,
}

impl Format {
    /// The format an output file's extension asks for: `.svg`, `.json`,
    /// `.folded`, `.txt`, `.pb.gz` or `.pb`.
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".pb.gz") || name.ends_with(".pb") {
            return Some(Format::Pprof);
        }
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
        Format::Pprof => pprof(profile, out),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Frame, Running, Sample};
    use switchyard_frames::{Boundary, HostFrame, WasmFrame};

    fn wasm(module: &str, function: &str) -> Frame {
        Frame::Wasm(WasmFrame {
            module: Arc::from(module),
            function: Arc::from(function),
            index: None,
            offset: None,
            pc: 0,
            locations: Vec::new(),
        })
    }

    fn profile() -> Profile {
        let stack = vec![
            Frame::Host(HostFrame {
                pc: 0,
                symbol: None,
            }),
            wasm("m", "run"),
            Frame::Boundary(Boundary {
                continuation: 7,
                entry: Arc::from("m!gen"),
                handlers: None,
                resumed_here: true,
                name: None,
            }),
            wasm("m", "gen;odd"),
        ];
        let sample = |time_ns, stack: Vec<Frame>, running| Sample {
            time_ns,
            stack,
            running,
            switches: 3,
            incomplete: false,
            line: None,
        };
        let generator = Some(Running {
            id: 7,
            entry: Arc::from("m!gen"),
            created_at: Some(Arc::from("main at m.c:3")),
        });
        Profile {
            samples: vec![
                sample(0, stack.clone(), generator.clone()),
                sample(1_000_000, stack.clone(), generator),
                sample(2_000_000, stack[..2].to_vec(), None),
            ],
            hz: 1000,
            duration_ns: 3_000_000,
            dropped_full: 0,
            dropped_busy: 0,
            cut_depth: 0,
            buffer_bytes: 1 << 20,
            outside_wasm: 0,
            switch_times: None,
        }
    }

    #[test]
    fn formats_follow_extensions() {
        assert_eq!(Format::from_path(Path::new("a.svg")), Some(Format::Svg));
        assert_eq!(
            Format::from_path(Path::new("a.json")),
            Some(Format::Firefox)
        );
        assert_eq!(
            Format::from_path(Path::new("a.folded")),
            Some(Format::Folded)
        );
        assert_eq!(Format::from_path(Path::new("a.txt")), Some(Format::Text));
        assert_eq!(
            Format::from_path(Path::new("out.pb.gz")),
            Some(Format::Pprof)
        );
        assert_eq!(Format::from_path(Path::new("a")), None);
    }

    #[test]
    fn folded_counts_stacks_and_escapes_separators() {
        assert_eq!(
            folded(&profile()),
            "[host];m!run 1\n[host];m!run;[continuation m!gen];m!gen,odd 2\n"
        );
    }

    #[test]
    fn summary_has_self_total_and_continuations() {
        let text = summary(&profile());
        assert!(text.contains(" 66.7%   66.7%  m!gen;odd"), "{text}");
        assert!(text.contains(" 33.3%  100.0%  m!run"), "{text}");
        assert!(
            text.contains("        2   66.7%        #7         3  m!gen"),
            "{text}"
        );
        assert!(
            text.contains("        1   33.3%         -         -  (host stack"),
            "{text}"
        );
    }
}
