//! The pprof format (`profile.proto`, gzipped), which `go tool pprof`,
//! Pyroscope, Parca and Grafana read: every frame a function, each sample
//! labelled with the continuation it was taken in, so that a fleet's
//! continuous profiler can group by continuation.
//!
//! The messages are declared here with `prost`'s derive (the Rust
//! protobuf crate of the tokio project; no `protoc` or build script
//! needed for a schema this small) and gzipped with `flate2`, as pprof
//! files are.
//!
//! Sample types: `samples`/`count` and `wall`/`nanoseconds` (the sampler
//! runs on a monotonic-clock timer); with switch times (`--off-cpu`) a
//! third, `suspended`/`nanoseconds`, carried by one extra sample per
//! continuation whose stack is `[suspended] <- [continuation ENTRY]`, so
//! that `go tool pprof -sample_index=suspended` ranks continuations by the
//! time they waited.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use prost::Message;

use crate::switch_times::ContinuationTime;
use crate::{Profile, Running, frame_name};

#[derive(Clone, PartialEq, Message)]
struct PprofProfile {
    #[prost(message, repeated, tag = "1")]
    sample_type: Vec<ValueType>,
    #[prost(message, repeated, tag = "2")]
    sample: Vec<PprofSample>,
    #[prost(message, repeated, tag = "4")]
    location: Vec<Location>,
    #[prost(message, repeated, tag = "5")]
    function: Vec<Function>,
    #[prost(string, repeated, tag = "6")]
    string_table: Vec<String>,
    #[prost(int64, tag = "9")]
    time_nanos: i64,
    #[prost(int64, tag = "10")]
    duration_nanos: i64,
    #[prost(message, optional, tag = "11")]
    period_type: Option<ValueType>,
    #[prost(int64, tag = "12")]
    period: i64,
    #[prost(int64, repeated, tag = "13")]
    comment: Vec<i64>,
    #[prost(int64, tag = "14")]
    default_sample_type: i64,
}

#[derive(Clone, PartialEq, Message)]
struct ValueType {
    #[prost(int64, tag = "1")]
    r#type: i64,
    #[prost(int64, tag = "2")]
    unit: i64,
}

#[derive(Clone, PartialEq, Message)]
struct PprofSample {
    /// Leaf first.
    #[prost(uint64, repeated, tag = "1")]
    location_id: Vec<u64>,
    #[prost(int64, repeated, tag = "2")]
    value: Vec<i64>,
    #[prost(message, repeated, tag = "3")]
    label: Vec<Label>,
}

#[derive(Clone, PartialEq, Message)]
struct Label {
    #[prost(int64, tag = "1")]
    key: i64,
    #[prost(int64, tag = "2")]
    text: i64,
    #[prost(int64, tag = "3")]
    num: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Location {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(message, repeated, tag = "4")]
    line: Vec<Line>,
}

#[derive(Clone, PartialEq, Message)]
struct Line {
    #[prost(uint64, tag = "1")]
    function_id: u64,
}

#[derive(Clone, PartialEq, Message)]
struct Function {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(int64, tag = "2")]
    name: i64,
    #[prost(int64, tag = "3")]
    system_name: i64,
}

/// The string table and the function (one location each) per name.
#[derive(Default)]
struct Tables {
    strings: Vec<String>,
    string_ids: HashMap<String, i64>,
    functions: Vec<Function>,
    locations: Vec<Location>,
    location_ids: HashMap<String, u64>,
}

impl Tables {
    fn new() -> Tables {
        let mut t = Tables::default();
        t.string(""); // index 0 is the empty string
        t
    }

    fn string(&mut self, s: &str) -> i64 {
        if let Some(i) = self.string_ids.get(s) {
            return *i;
        }
        let i = self.strings.len() as i64;
        self.strings.push(s.to_string());
        self.string_ids.insert(s.to_string(), i);
        i
    }

    /// The location of the function named `name`.
    fn location(&mut self, name: &str) -> u64 {
        if let Some(id) = self.location_ids.get(name) {
            return *id;
        }
        let id = self.locations.len() as u64 + 1;
        let name_index = self.string(name);
        self.functions.push(Function {
            id,
            name: name_index,
            system_name: name_index,
        });
        self.locations.push(Location {
            id,
            line: vec![Line { function_id: id }],
        });
        self.location_ids.insert(name.to_string(), id);
        id
    }

    fn text_label(&mut self, key: &str, value: &str) -> Label {
        Label {
            key: self.string(key),
            text: self.string(value),
            num: 0,
        }
    }

    fn number_label(&mut self, key: &str, value: u64) -> Label {
        Label {
            key: self.string(key),
            text: 0,
            num: value as i64,
        }
    }
}

/// The labels of a sample taken in continuation `running` (`None`: on a
/// host stack): the one place that decides what a fleet's profiler can
/// group samples by. `continuation` (its id), `continuation_name` (what
/// it runs, else its entry function), `created_at` (its creation site,
/// `spawn at sched.c:41`, the text `bt` and the trap report print),
/// `created_by` (the continuation that ran its `cont.new`, `#ID ENTRY` or
/// `host`, when a switch recording saw it); host-stack samples carry
/// `continuation_name=host`.
fn continuation_labels(
    t: &mut Tables,
    running: Option<&Running>,
    origins: &HashMap<u64, String>,
) -> Vec<Label> {
    let Some(r) = running else {
        return vec![t.text_label("continuation_name", "host")];
    };
    let mut labels = vec![
        t.number_label("continuation", r.id),
        t.text_label("continuation_name", &r.entry),
    ];
    if let Some(site) = &r.created_at {
        labels.push(t.text_label("created_at", site));
    }
    if let Some(origin) = origins.get(&r.id) {
        labels.push(t.text_label("created_by", origin));
    }
    labels
}

/// Where each continuation came from, as `created_by` labels say it.
fn origins(times: &[ContinuationTime]) -> HashMap<u64, String> {
    let entries: HashMap<u64, &str> = times.iter().map(|c| (c.id, &*c.entry)).collect();
    times
        .iter()
        .filter_map(|c| {
            let by = c.created_by?;
            Some((
                c.id,
                match (by, entries.get(&by)) {
                    (0, _) => "host".to_string(),
                    (_, Some(entry)) => format!("#{by} {entry}"),
                    (_, None) => format!("#{by}"),
                },
            ))
        })
        .collect()
}

/// The profile as a gzipped pprof protobuf.
pub fn pprof(profile: &Profile, out: &mut dyn Write) -> io::Result<()> {
    let mut t = Tables::new();
    let period = 1_000_000_000 / i64::from(profile.hz.max(1));
    let times = profile.switch_times.as_ref();
    let mut sample_type = vec![
        ValueType {
            r#type: t.string("samples"),
            unit: t.string("count"),
        },
        ValueType {
            r#type: t.string("wall"),
            unit: t.string("nanoseconds"),
        },
    ];
    if times.is_some() {
        sample_type.push(ValueType {
            r#type: t.string("suspended"),
            unit: t.string("nanoseconds"),
        });
    }
    let width = sample_type.len();
    let origins = times.map_or_else(HashMap::new, |s| origins(&s.continuations));
    // Creation sites the samples found, for the suspended time below.
    let sites: HashMap<u64, Arc<str>> = profile
        .samples
        .iter()
        .filter_map(|s| {
            let r = s.running.as_ref()?;
            Some((r.id, r.created_at.clone()?))
        })
        .collect();
    let mut samples = Vec::with_capacity(profile.samples.len());
    for s in &profile.samples {
        let location_id = s
            .stack
            .iter()
            .rev()
            .map(|f| t.location(&frame_name(f)))
            .collect();
        let mut value = vec![1, period];
        value.resize(width, 0);
        let label = continuation_labels(&mut t, s.running.as_ref(), &origins);
        samples.push(PprofSample {
            location_id,
            value,
            label,
        });
    }
    if let Some(times) = times {
        for c in times.continuations.iter().filter(|c| c.suspended_ns > 0) {
            let location_id = vec![
                t.location("[suspended]"),
                t.location(&format!("[continuation {}]", c.entry)),
            ];
            let running = Running {
                id: c.id,
                entry: c.entry.clone(),
                created_at: sites.get(&c.id).cloned(),
            };
            let label = continuation_labels(&mut t, Some(&running), &origins);
            samples.push(PprofSample {
                location_id,
                value: vec![0, 0, c.suspended_ns as i64],
                label,
            });
        }
    }
    let period_type = Some(ValueType {
        r#type: t.string("wall"),
        unit: t.string("nanoseconds"),
    });
    let comment = vec![t.string("switchyard profile")];
    let time_nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
        .saturating_sub(profile.duration_ns as i64);
    let message = PprofProfile {
        sample_type,
        sample: samples,
        location: std::mem::take(&mut t.locations),
        function: std::mem::take(&mut t.functions),
        string_table: std::mem::take(&mut t.strings),
        time_nanos,
        duration_nanos: profile.duration_ns as i64,
        period_type,
        period,
        comment,
        // Without it pprof shows the last type (suspended) by default.
        default_sample_type: t.string("wall"),
    };
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(&message.encode_to_vec())?;
    gz.finish()?;
    Ok(())
}
