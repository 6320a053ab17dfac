//! `switchyard run --trace-creation`: the whole logical stack at each
//! `cont.new`, across the resumes that ran the creating continuation, in
//! the trap report, `--backtrace-all` and `--leaks`; nothing of it without
//! the flag; and its bound of 64 frames. The program is
//! tests/creation/nested.wat.

mod common;

use common::{root, switchyard};
use serde_json::Value;

fn nested() -> String {
    root()
        .join("tests/creation/nested.wat")
        .display()
        .to_string()
}

/// `switchyard run FLAGS nested.wat`: stdout, stderr, exit status.
fn run(flags: &[&str], args: &[&str]) -> (String, String, Option<i32>) {
    let o = switchyard()
        .arg("run")
        .args(flags)
        .arg(nested())
        .args(args)
        .output()
        .unwrap();
    common::outcome(o)
}

/// Asserts that `needles` occur in `text` in this order, each on a line
/// after the previous one's.
fn assert_in_order(text: &str, needles: &[&str]) {
    let mut rest = text;
    for n in needles {
        match rest.find(n) {
            Some(i) => rest = &rest[i + n.len()..],
            None => {
                panic!("`{n}` missing or out of order (after {needles:?}'s earlier ones):\n{text}")
            }
        }
    }
}

/// The line of `text` containing `start` and the lines after it that are
/// indented more (the block under a heading).
fn block<'a>(text: &'a str, start: &str) -> Vec<&'a str> {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut lines = text.lines().skip_while(|l| !l.contains(start));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no `{start}` in:\n{text}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| indent(l) > indent(first)))
        .collect()
}

#[test]
fn leaks_show_a_creation_stack_that_crosses_the_resume() {
    let (_, err, code) = run(&["--invoke", "leak", "--leaks", "--trace-creation"], &[]);
    assert_eq!(code, Some(0), "{err}");
    // #2 was created by `make_inner` inside continuation #1, which
    // `run_outer` resumed from `leak` on the host stack: frames of both
    // stacks, innermost first, with the boundary between them.
    let inner = block(&err, "created by nest!outer_body in #1 (1 fresh): #2").join("\n");
    assert_in_order(
        &inner,
        &[
            "created at (--trace-creation):",
            "0:     0x61 - nest!make_inner",
            "1:     0x6c - nest!outer_body",
            "-- continuation #1 (nest!outer_body) was resumed here, handlers $yield",
            "2:     0x7f - nest!run_outer",
            "3:     0x8b - nest!leak",
        ],
    );
    // #1 was created on the host stack: no boundary.
    let outer = block(&err, "created by nest!leak in #0 (1 suspended): #1").join("\n");
    assert_in_order(&outer, &["nest!spawn_outer", "nest!run_outer", "nest!leak"]);
    assert!(!outer.contains("-- continuation"), "{outer}");

    // Without the flag: the same report, nothing more.
    let (_, plain, code) = run(&["--invoke", "leak", "--leaks"], &[]);
    assert_eq!(code, Some(0), "{plain}");
    assert_eq!(
        plain,
        "switchyard: 2 continuations never finished, by creation site:\n  \
         1 created by nest!leak in #0 (1 suspended): #1\n  \
         1 created by nest!outer_body in #1 (1 fresh): #2\n"
    );
    let without_stacks: String = err
        .lines()
        .filter(|l| !l.starts_with("    "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(without_stacks, plain);
}

#[test]
fn the_trap_report_shows_where_the_chain_and_the_others_were_created() {
    let (_, err, code) = run(
        &["--invoke", "crash", "--backtrace-all", "--trace-creation"],
        &[],
    );
    assert_eq!(code, Some(134), "{err}");
    // The trapping continuation #2, resumed by `crash`, was created inside
    // #1, which `run_outer` (called by `crash`) resumed.
    assert_in_order(
        &err,
        &[
            "wasm backtrace:",
            "nest!inner_body",
            "-- continuation #2 (nest!inner_body) was resumed here",
            "nest!crash",
            "creation stacks (--trace-creation):",
            "continuation #2 (nest!inner_body) created at:",
            "0:     0x61 - nest!make_inner",
            "1:     0x6c - nest!outer_body",
            "-- continuation #1 (nest!outer_body) was resumed here, handlers $yield",
            "2:     0x7f - nest!run_outer",
            "3:     0x90 - nest!crash",
            "other live continuations:",
            "#1 nest!outer_body suspended on $yield",
            "-- bottom of continuation #1",
            "created at (--trace-creation):",
            "0:     0x75 - nest!spawn_outer",
            "1:     0x7d - nest!run_outer",
            "2:     0x90 - nest!crash",
        ],
    );
    let (_, plain, code) = run(&["--invoke", "crash", "--backtrace-all"], &[]);
    assert_eq!(code, Some(134), "{plain}");
    assert!(!plain.contains("creation stacks"), "{plain}");
    assert!(!plain.contains("created at"), "{plain}");
    assert!(plain.contains("other live continuations:"), "{plain}");
}

/// The Wasm functions of a JSON frame list, `-- #N` for boundaries.
fn functions(frames: &Value) -> Vec<String> {
    frames
        .as_array()
        .unwrap_or_else(|| panic!("not frames: {frames}"))
        .iter()
        .filter_map(|f| match f["kind"].as_str()? {
            "wasm" => Some(f["function"].as_str()?.to_string()),
            "boundary" => Some(format!("-- #{}", f["continuation"])),
            _ => None,
        })
        .collect()
}

#[test]
fn the_trap_report_json_carries_creation_stacks() {
    let (_, err, code) = run(
        &[
            "--invoke",
            "crash",
            "--backtrace-all",
            "--trace-creation",
            "--format",
            "json",
        ],
        &[],
    );
    assert_eq!(code, Some(134), "{err}");
    let doc: Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("{e}: {err}"));
    let chain = doc["creation_stacks"].as_array().expect("creation_stacks");
    assert_eq!(chain.len(), 1, "{doc:#}");
    assert_eq!(chain[0]["continuation"], 2);
    assert_eq!(
        functions(&chain[0]["frames"]),
        ["make_inner", "outer_body", "-- #1", "run_outer", "crash"]
    );
    let others = doc["continuations"].as_array().expect("continuations");
    assert_eq!(others.len(), 1, "{doc:#}");
    assert_eq!(
        functions(&others[0]["creation_stack"]),
        ["spawn_outer", "run_outer", "crash"]
    );

    let (_, err, _) = run(
        &["--invoke", "crash", "--backtrace-all", "--format", "json"],
        &[],
    );
    let doc: Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("{e}: {err}"));
    assert!(doc.get("creation_stacks").is_none(), "{doc}");
    assert!(
        doc["continuations"][0].get("creation_stack").is_none(),
        "{doc}"
    );
}

/// The creation stack of the one continuation `deep DEPTH` leaves, from
/// the trap report's JSON.
fn deep_creation_stack(depth: u32) -> Vec<Value> {
    let (_, err, code) = run(
        &[
            "--invoke",
            "deep",
            "--backtrace-all",
            "--trace-creation",
            "--format",
            "json",
        ],
        &[&depth.to_string()],
    );
    assert_eq!(code, Some(134), "{err}");
    let doc: Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("{e}: {err}"));
    doc["continuations"][0]["creation_stack"]
        .as_array()
        .unwrap_or_else(|| panic!("no creation stack: {doc:#}"))
        .clone()
}

#[test]
fn a_deep_creation_stack_is_cut_at_64_frames_and_says_so() {
    let stack = deep_creation_stack(200);
    let addresses = stack
        .iter()
        .filter(|f| matches!(f["kind"].as_str(), Some("wasm" | "host")))
        .count();
    assert_eq!(addresses, 64, "{stack:#?}");
    let last = stack.last().unwrap();
    assert_eq!(last["kind"], "truncated", "{last}");
    assert!(
        last["reason"]
            .as_str()
            .unwrap()
            .contains("cut at 64 frames"),
        "{last}"
    );
    // All kept frames are the innermost ones: `down`, none of `deep`.
    assert!(
        stack
            .iter()
            .filter(|f| f["kind"] == "wasm")
            .all(|f| f["function"] == "down"),
        "{stack:#?}"
    );

    // A stack within the bound is kept whole, down to the host entry.
    let stack = deep_creation_stack(10);
    let names = functions(&Value::Array(stack.clone()));
    assert_eq!(names.len(), 12, "{names:?}");
    assert!(names[..11].iter().all(|n| n == "down"), "{names:?}");
    assert_eq!(names[11], "deep");
    assert_eq!(stack.last().unwrap()["kind"], "host_entry", "{stack:#?}");

    // The text form says it too.
    let (_, err, _) = run(
        &["--invoke", "deep", "--leaks", "--trace-creation"],
        &["200"],
    );
    assert_in_order(
        &err,
        &[
            "created at (--trace-creation):",
            "nest!down",
            "... the frame above 62 more times",
            "-- walk ended: cut at 64 frames (--trace-creation's bound)",
        ],
    );
}

#[test]
fn the_creation_stack_crosses_resumes_in_libcall_mode_too() {
    let (_, err, code) = run(
        &[
            "--switching",
            "libcall",
            "--invoke",
            "leak",
            "--leaks",
            "--trace-creation",
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{err}");
    let inner = block(&err, "created by nest!outer_body in #1 (1 fresh): #2").join("\n");
    assert_in_order(
        &inner,
        &[
            "nest!make_inner",
            "nest!outer_body",
            "-- continuation #1 (nest!outer_body) was resumed here",
            "nest!run_outer",
            "nest!leak",
        ],
    );
}
