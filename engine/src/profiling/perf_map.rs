//! `/tmp/perf-PID.map`: one line per code range, `START SIZE NAME` in hex,
//! the format perf reads for JIT symbols when no jitdump was injected.

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

/// An open perf map of this process.
pub(crate) struct PerfMap {
    file: io::BufWriter<File>,
}

impl PerfMap {
    /// Where perf looks for the map of process `pid`.
    pub fn path(pid: u32) -> PathBuf {
        PathBuf::from(format!("/tmp/perf-{pid}.map"))
    }

    /// Creates (truncates) this process's map.
    pub fn create() -> io::Result<PerfMap> {
        let path = PerfMap::path(std::process::id());
        let file = File::create(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        Ok(PerfMap {
            file: io::BufWriter::new(file),
        })
    }

    /// Adds one symbol.
    pub fn add(&mut self, start: usize, size: usize, name: &str) -> io::Result<()> {
        // A newline in a name would start a bogus entry.
        let name = name.replace(['\n', '\r'], " ");
        writeln!(self.file, "{start:x} {size:x} {name}")
    }

    /// Makes what was added visible to a reader.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}
