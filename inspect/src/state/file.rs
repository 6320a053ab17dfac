//! Snapshot files: what `switchyard run --snapshot-on-trap FILE` writes and
//! `switchyard inspect --snapshot FILE` opens. One JSON document, described
//! in docs/inspector.md.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{EventLine, Picture, SourceKind, State};

/// The `format` field of every snapshot.
pub const FORMAT: &str = "switchyard-inspector-snapshot";
/// The version this build writes and reads.
pub const VERSION: u32 = 2;

/// A snapshot file's contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`].
    pub version: u32,
    /// The program's file name.
    pub program: String,
    /// The files of the program's modules (absolute when they could be
    /// resolved).
    #[serde(default)]
    pub source_files: Vec<String>,
    /// Why it was written ("wasm trap: ...").
    pub reason: String,
    /// Every stack at the trap, with the trap's chain.
    pub picture: Picture,
    /// The last switch events before it, oldest first.
    pub events: Vec<EventLine>,
    /// Events seen in all.
    pub total_events: u64,
}

impl SnapshotFile {
    /// Writes it to `path`.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text + "\n")
            .map_err(|e| anyhow::anyhow!("{}: cannot write the snapshot: {e}", path.display()))
    }

    /// Reads and checks the snapshot at `path`.
    pub fn read(path: &Path) -> anyhow::Result<SnapshotFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), io_reason(&e)))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{}: not a snapshot (malformed JSON: {e})", path.display())
        })?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            anyhow::bail!(
                "{}: not a snapshot (no \"format\": \"{FORMAT}\")",
                path.display()
            );
        }
        let version = value.get("version").and_then(|v| v.as_u64());
        if version != Some(u64::from(VERSION)) {
            anyhow::bail!(
                "{}: snapshot version {} is not supported (expected {VERSION})",
                path.display(),
                version.map_or("?".into(), |v| v.to_string())
            );
        }
        serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("{}: malformed snapshot: {e}", path.display()))
    }

    /// The inspector state it describes.
    pub fn into_state(self, path: &Path) -> State {
        let mut state = State::new(SourceKind::Snapshot, self.program);
        state.source_files = self.source_files.into_iter().map(Into::into).collect();
        state.picture = self.picture;
        for e in self.events {
            state.push_event(e);
        }
        state.total_events = state.total_events.max(self.total_events);
        state.output = format!("snapshot {}: {}\n", path.display(), self.reason);
        state
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        _ => e.to_string(),
    }
}
