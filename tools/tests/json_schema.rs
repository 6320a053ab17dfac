//! Every JSON output validates against docs/schema/switchyard.schema.json:
//! the trap report (with and without --backtrace-all), `bt --format json`
//! of a live process, an inspector snapshot, a trace, and the wast report;
//! and the schema rejects what it must (so the validator is really on).

mod common;

use common::{repo_file, switchyard, temp_file};

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The schema's definition `name` as a schema of its own.
fn validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_file("docs/schema/switchyard.schema.json")).unwrap();
    let mut schema: Value = serde_json::from_str(&text).unwrap();
    assert!(schema["$defs"].get(name).is_some(), "no definition {name}");
    schema["$ref"] = Value::String(format!("#/$defs/{name}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"))
}

fn assert_valid(name: &str, doc: &Value) {
    let v = validator(name);
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} does not validate:\n{}\n{doc:#}",
        errors.join("\n")
    );
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn trap_reports_validate_with_and_without_the_other_continuations() {
    let wat = repo_file("tests/inspect/trap_chain.wat");
    let o = switchyard()
        .args(["run", "--format", "json"])
        .arg(&wat)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(134));
    let doc = parse(&String::from_utf8_lossy(&o.stderr));
    assert_valid("trap_report", &doc);
    assert!(doc.get("continuations").is_none(), "{doc}");

    let o = switchyard()
        .args(["run", "--format", "json", "--backtrace-all"])
        .arg(&wat)
        .output()
        .unwrap();
    let doc = parse(&String::from_utf8_lossy(&o.stderr));
    assert_valid("trap_report", &doc);
    // The generator parked on $yield, with its frames.
    let conts = doc["continuations"].as_array().expect("continuations");
    assert_eq!(conts.len(), 1, "{doc:#}");
    assert_eq!(conts[0]["id"], 1);
    assert_eq!(conts[0]["state"], "suspended");
    assert_eq!(conts[0]["entry"], "trap_chain!gen");
    assert_eq!(conts[0]["frames"][0]["function"], "gen", "{doc:#}");
    assert!(conts[0]["frames"][0]["offset"].is_u64(), "{doc:#}");

    // With --trace-creation: the chain's and the others' creation stacks.
    let o = switchyard()
        .args([
            "run",
            "--format",
            "json",
            "--backtrace-all",
            "--trace-creation",
        ])
        .args(["--invoke", "crash"])
        .arg(repo_file("tests/creation/nested.wat"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(134));
    let doc = parse(&String::from_utf8_lossy(&o.stderr));
    assert_valid("trap_report", &doc);
    assert_eq!(doc["creation_stacks"][0]["continuation"], 2, "{doc:#}");
    assert!(
        doc["continuations"][0]["creation_stack"].is_array(),
        "{doc:#}"
    );
}

#[test]
fn bt_json_of_a_live_process_validates_and_has_offsets() {
    let mut child = switchyard()
        .args(["run", &repo_file("tests/bt/blocked.wat")])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let doc = loop {
        let o = switchyard()
            .args(["bt", "--format", "json", "--pid", &pid])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        if o.status.success() && text.contains("read_stdin") {
            break parse(&text);
        }
        assert!(Instant::now() < deadline, "bt never saw the blocked call");
        std::thread::sleep(Duration::from_millis(100));
    };
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    assert!(child.wait().unwrap().success());
    assert_valid("bt_report", &doc);
    assert_eq!(doc["format"], "switchyard-bt");
    // Offsets in the module, as the text form prints them.
    let frames = doc["threads"][0]["frames"].as_array().unwrap();
    let wasm: Vec<&Value> = frames.iter().filter(|f| f["kind"] == "wasm").collect();
    assert!(wasm.len() >= 6, "{doc:#}");
    assert!(wasm.iter().all(|f| f["offset"].is_u64()), "{doc:#}");
    assert_eq!(doc["continuations"].as_array().unwrap().len(), 2);
}

#[test]
fn a_snapshot_validates() {
    let out = temp_file("schema", "snapshot.json");
    let o = switchyard()
        .args(["run", "--snapshot-on-trap"])
        .arg(&out)
        .arg(repo_file("tests/inspect/trap_chain.wat"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(134));
    let doc = parse(&std::fs::read_to_string(&out).unwrap());
    assert_valid("snapshot", &doc);
}

#[test]
fn traces_validate() {
    for (file, args, status) in [
        ("bench/wat/yield_loop.wat", vec!["--invoke", "run"], 0),
        ("tests/inspect/trap_chain.wat", vec![], 134),
    ] {
        let out = temp_file("schema", "trace.json");
        let mut c = switchyard();
        c.args(["trace", "-o"])
            .arg(&out)
            .args(&args)
            .arg(repo_file(file));
        if !args.is_empty() {
            c.arg("5");
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(status), "{o:?}");
        let doc = parse(&std::fs::read_to_string(&out).unwrap());
        assert_valid("trace", &doc);
        assert_valid("trace_metadata", &doc["metadata"]);
    }
}

#[test]
fn wast_reports_validate() {
    let failing = temp_file("schema", "failing.wast");
    std::fs::write(
        &failing,
        "(module (func (export \"f\") (result i32) (i32.const 1)))\n\
         (assert_return (invoke \"f\") (i32.const 2))\n\
         (assert_return (invoke \"f\") (i32.const 1))\n",
    )
    .unwrap();
    for file in [PathBuf::from(repo_file("tests/wast/calls.wast")), failing] {
        let o = switchyard()
            .args(["wast", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        let doc = parse(&String::from_utf8_lossy(&o.stdout));
        assert_valid("wast_report", &doc);
    }
}

#[test]
fn the_schema_rejects_what_it_must() {
    let frame = serde_json::json!({"kind": "wasm", "module": "m", "function": "f",
        "index": 0, "offset": 4, "pc": 1, "locations": []});
    assert!(validator("frame").is_valid(&frame));
    let mut unknown = frame.clone();
    unknown["kind"] = "wasn't".into();
    assert!(!validator("frame").is_valid(&unknown));
    let mut missing = frame.clone();
    missing.as_object_mut().unwrap().remove("pc");
    assert!(!validator("frame").is_valid(&missing));
    // Room for what later registries record: a continuation may carry a
    // name, a creation site and what it waits for.
    let cont = serde_json::json!({"id": 3, "state": "suspended", "entry": "m!tramp",
        "resumes": 1, "switches": 0, "stack": [1, 2], "frames": [frame],
        "name": "m!worker", "creation_site": "main at app.c:25 in #0",
        "waiting": {"tag": "$yield", "suspended_ns": 10, "runs": 1}});
    assert!(validator("continuation").is_valid(&cont));
    let mut bad_state = cont.clone();
    bad_state["state"] = "sleeping".into();
    assert!(!validator("continuation").is_valid(&bad_state));
}
