//! The inspector's model: a [`Picture`] of every stack at one moment, the
//! log of switch events, the program's output and where the program is.
//! Views only draw this; the sources ([`live`], [`file`](mod@file), [`attach`])
//! only fill it.

pub mod attach;
pub mod file;
pub mod live;
pub mod picture;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
pub use switchyard_frames::Frame;

/// Most events kept in the log.
pub const EVENT_LOG_LEN: usize = 2000;
/// Most bytes of program output kept.
pub const OUTPUT_LEN: usize = 64 * 1024;

/// One stack: a continuation, or the host stack that entered Wasm (id 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cont {
    /// Continuation id (0: the host stack).
    pub id: u64,
    /// fresh, running, suspended, host.
    pub state: String,
    /// Entry function, `module!function`.
    pub entry: String,
    /// Times resumed.
    pub resumes: u64,
    /// Times switched to or from.
    pub switches: u64,
    /// Bytes of stack in use (0 when unknown).
    pub stack_used: u64,
    /// Bytes of stack.
    pub stack_size: u64,
    /// While running: the resumer's id (0: the host stack).
    #[serde(default)]
    pub parent: Option<u64>,
    /// The tag of its last suspension.
    #[serde(default)]
    pub tag: Option<String>,
    /// Its logical backtrace, innermost first (host and glue frames left
    /// out).
    pub frames: Vec<Frame>,
    /// What it runs, `module!function`, when that is not its entry (see
    /// `switchyard_unwind::naming`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Where it was created, `function at file:line`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

impl Cont {
    /// What it runs: its name, else its entry function.
    pub fn title(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.entry)
    }

    /// "#3" or "host".
    pub fn label(&self) -> String {
        if self.id == 0 {
            "host".into()
        } else {
            format!("#{}", self.id)
        }
    }
}

/// How the program ended, with the trap's chain if it trapped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrapView {
    /// "wasm trap: ...".
    pub message: String,
    /// The logical backtrace at the trap (host and glue frames left out).
    pub frames: Vec<Frame>,
}

/// Every stack at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Picture {
    /// The stacks: the host stack and the running chain first (outermost
    /// first), then the parked continuations by id.
    pub conts: Vec<Cont>,
    /// The trap that ended the program, if any.
    #[serde(default)]
    pub trap: Option<TrapView>,
}

impl Picture {
    /// The stack with id `id`.
    pub fn cont(&self, id: u64) -> Option<&Cont> {
        self.conts.iter().find(|c| c.id == id)
    }

    /// Parked continuations whose stacks are identical (same state, name,
    /// creation site, tag and frames), as lists of indices into `conts`,
    /// only groups of two or more, each in `conts` order.
    pub fn groups(&self) -> Vec<Vec<usize>> {
        type Key<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Vec<(String, Option<u32>)>,
        );
        let mut index: std::collections::HashMap<Key<'_>, usize> = Default::default();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, c) in self.conts.iter().enumerate() {
            if c.state != "suspended" && c.state != "fresh" {
                continue;
            }
            let frames = c
                .frames
                .iter()
                .filter_map(Frame::as_wasm)
                .map(|w| (w.qualified_name(), w.offset))
                .collect();
            let key = (
                c.state.as_str(),
                c.title(),
                c.created.as_deref(),
                c.tag.as_deref(),
                frames,
            );
            match index.get(&key) {
                Some(&g) => groups[g].push(i),
                None => {
                    index.insert(key, groups.len());
                    groups.push(vec![i]);
                }
            }
        }
        groups.retain(|g| g.len() > 1);
        groups
    }

    /// Ids of the running chain, outermost (the host) first.
    pub fn chain(&self) -> Vec<u64> {
        self.conts
            .iter()
            .filter(|c| c.state == "running" || c.state == "host")
            .map(|c| c.id)
            .collect()
    }
}

/// One switch event in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    /// 1 for the first event of the run.
    pub seq: u64,
    /// create, resume, resume_throw, suspend, switch, return, throw, trap.
    pub kind: String,
    /// The continuation it is about (0: none or the host).
    pub cont: u64,
    /// The resumer of a resume, the target of a switch, the creator of a
    /// create (0: the host).
    #[serde(default)]
    pub other: u64,
    /// The continuation's entry function.
    #[serde(default)]
    pub entry: String,
    /// The tag of a suspend or switch.
    #[serde(default)]
    pub tag: Option<String>,
}

impl EventLine {
    /// One line of text: "12 suspend #1 (m!gen) on $yield".
    pub fn describe(&self) -> String {
        let who = if self.entry.is_empty() {
            format!("#{}", self.cont)
        } else {
            format!("#{} ({})", self.cont, self.entry)
        };
        let mut s = match self.kind.as_str() {
            "resume" | "resume_throw" if self.other == 0 => {
                format!("{} {who} from host", self.kind)
            }
            "resume" | "resume_throw" => format!("{} {who} from #{}", self.kind, self.other),
            "switch" => format!("switch {who} -> #{}", self.other),
            "create" if self.other != 0 => format!("create {who} by #{}", self.other),
            "trap" => "trap".to_string(),
            other => format!("{other} {who}"),
        };
        if let Some(tag) = &self.tag {
            s.push_str(&format!(" on {tag}"));
        }
        s
    }
}

/// Which source feeds the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// The program runs in this process.
    Live,
    /// A snapshot file.
    Snapshot,
    /// Another process, read-only.
    Attached,
}

/// Where the program is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Running freely.
    Running,
    /// Stopped at an event (the picture is of that moment).
    Stopped,
    /// Finished, with how.
    Finished(String),
    /// A snapshot: nothing runs.
    Still,
}

/// Everything the views draw.
#[derive(Debug, Clone)]
pub struct State {
    /// Where the data comes from.
    pub source: SourceKind,
    /// The program (file name, pid or snapshot path).
    pub program: String,
    /// The files of the program's modules, for the source pane.
    pub source_files: Vec<std::path::PathBuf>,
    /// The stacks at the last stop.
    pub picture: Picture,
    /// Recent events, oldest first.
    pub events: VecDeque<EventLine>,
    /// Events seen in all.
    pub total_events: u64,
    /// The program's stdout and stderr, interleaved.
    pub output: String,
    /// Where the program is.
    pub progress: Progress,
    /// Break on these function names or tags.
    pub breaks: Vec<String>,
}

impl State {
    /// An empty state for `program` fed by `source`.
    pub fn new(source: SourceKind, program: String) -> State {
        State {
            source,
            program,
            source_files: Vec::new(),
            picture: Picture::default(),
            events: VecDeque::new(),
            total_events: 0,
            output: String::new(),
            progress: match source {
                SourceKind::Snapshot => Progress::Still,
                _ => Progress::Running,
            },
            breaks: Vec::new(),
        }
    }

    /// Appends an event, keeping the last [`EVENT_LOG_LEN`].
    pub fn push_event(&mut self, event: EventLine) {
        self.total_events = self.total_events.max(event.seq);
        if self.events.len() == EVENT_LOG_LEN {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }

    /// Appends program output, keeping the last [`OUTPUT_LEN`] bytes.
    pub fn push_output(&mut self, text: &str) {
        self.output.push_str(text);
        if self.output.len() > OUTPUT_LEN {
            let mut cut = self.output.len() - OUTPUT_LEN;
            while !self.output.is_char_boundary(cut) {
                cut += 1;
            }
            self.output.drain(..cut);
        }
    }
}
