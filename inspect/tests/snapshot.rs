//! Snapshot files: written and read back whole; anything else is refused
//! with a one-line reason.

use std::path::PathBuf;

use switchyard_frames::{Boundary, Frame, WasmFrame};
use switchyard_inspect::state::file::{FORMAT, SnapshotFile, VERSION};
use switchyard_inspect::state::{Cont, EventLine, Picture, TrapView};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("inspect-snapshot-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A Wasm frame of `module!function`.
fn frame(name: &str) -> Frame {
    let (module, function) = name.split_once('!').unwrap();
    Frame::Wasm(WasmFrame {
        module: module.into(),
        function: function.into(),
        index: None,
        offset: None,
        pc: 0,
        locations: Vec::new(),
    })
}

fn boundary(id: u64, entry: &str, resumed_here: bool) -> Frame {
    Frame::Boundary(Boundary {
        continuation: id,
        entry: entry.into(),
        handlers: None,
        resumed_here,
        name: None,
    })
}

fn sample() -> SnapshotFile {
    SnapshotFile {
        format: FORMAT.into(),
        version: VERSION,
        program: "p.wat".into(),
        source_files: vec!["/src/p.wat".into()],
        reason: "wasm trap: unreachable".into(),
        picture: Picture {
            conts: vec![Cont {
                id: 1,
                state: "suspended".into(),
                entry: "p!gen".into(),
                resumes: 3,
                switches: 0,
                stack_used: 900,
                stack_size: 4096,
                parent: None,
                tag: Some("$yield".into()),
                frames: vec![frame("p!gen"), boundary(1, "p!gen", false)],
                name: None,
                created: None,
            }],
            trap: Some(TrapView {
                message: "wasm trap: unreachable".into(),
                frames: vec![Frame::HostEntry],
            }),
        },
        events: vec![EventLine {
            seq: 1,
            kind: "suspend".into(),
            cont: 1,
            other: 0,
            entry: "p!gen".into(),
            tag: Some("$yield".into()),
        }],
        total_events: 1,
    }
}

#[test]
fn a_snapshot_reads_back_as_written() {
    let d = dir("roundtrip");
    let path = d.join("s.json");
    sample().write(&path).unwrap();
    assert_eq!(SnapshotFile::read(&path).unwrap(), sample());
    let state = SnapshotFile::read(&path).unwrap().into_state(&path);
    assert_eq!(state.picture, sample().picture);
    assert_eq!(state.events.len(), 1);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn malformed_snapshots_are_refused_with_one_line() {
    let d = dir("bad");
    let cases: &[(&str, &str)] = &[
        ("{ not json", "not a snapshot (malformed JSON"),
        (
            "{\"format\": \"something-else\"}",
            "not a snapshot (no \"format\"",
        ),
        (
            &format!("{{\"format\": \"{FORMAT}\", \"version\": 99}}"),
            "snapshot version 99 is not supported",
        ),
        (
            &format!("{{\"format\": \"{FORMAT}\", \"version\": {VERSION}, \"program\": 3}}"),
            "malformed snapshot",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let path = d.join(format!("{i}.json"));
        std::fs::write(&path, text).unwrap();
        let e = format!("{:#}", SnapshotFile::read(&path).unwrap_err());
        assert!(e.contains(expected), "{text}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
    let e = SnapshotFile::read(&d.join("missing.json")).unwrap_err();
    assert!(e.to_string().ends_with("missing.json: no such file"), "{e}");
    std::fs::remove_dir_all(d).unwrap();
}
