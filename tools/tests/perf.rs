//! Linux perf on JIT code with continuation stacks: `switchyard run
//! --profile=perfmap|jitdump`, the `switchyard perf` wrappers and the plain
//! perf commands the README gives, checked with the real perf (software
//! clock event, frame-pointer call graphs) and `perf inject --jit`.

mod common;

use std::process::Command;

use common::{require, switchyard, temp_dir};

/// One sample of `perf script`: the frames' symbols, innermost first
/// (offsets removed; `[unknown]` where perf had no symbol).
fn samples(script: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in script.lines() {
        if line.trim().is_empty() {
            out.extend(current.take());
        } else if line.starts_with(char::is_whitespace) {
            // "\t  addr sym+0xoff (dso)"
            let frame = line.trim();
            let frame = frame.split_once(' ').map_or("", |(_, rest)| rest);
            let frame = frame.rsplit_once(" (").map_or(frame, |(sym, _)| sym);
            let sym = match frame.rsplit_once("+0x") {
                Some((sym, off)) if off.chars().all(|c| c.is_ascii_hexdigit()) => sym,
                _ => frame,
            };
            current.get_or_insert_with(Vec::new).push(sym.to_string());
        } else {
            out.extend(current.take());
            current = Some(Vec::new());
        }
    }
    out.extend(current);
    out
}

/// Whether `frames` holds `expected` in this order (others may come
/// between), and ends in the host's `main`.
fn chain_reaches_main(frames: &[String], expected: &[&str]) -> bool {
    let mut at = 0;
    for e in expected {
        match frames[at..].iter().position(|f| f == e) {
            Some(i) => at += i + 1,
            None => return false,
        }
    }
    frames[at..].iter().any(|f| f == "main")
}

fn run_ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn perf_record_crosses_every_resume_of_deep_chain() {
    if !require(common::perf_works(), "perf cannot record cpu-clock here") {
        return;
    }
    let dir = temp_dir("perf-deep-chain");
    let wat = common::root().join("bench/wat/deep_chain.wat");
    run_ok(
        switchyard()
            .args(["perf", "record", "-o"])
            .arg(&dir)
            .args(["-F", "4000", "--", "--invoke", "run"])
            .arg(&wat)
            .args(["10", "2000000"]),
    );
    let script = run_ok(switchyard().args(["perf", "script", "-i"]).arg(&dir));
    let all = samples(&script);
    // Samples taken while Wasm ran (the innermost Wasm frame is the
    // chain's bottom `level`, at depth 0).
    let in_wasm: Vec<_> = all
        .iter()
        .filter(|s| s.iter().any(|f| f == "deep_chain!level"))
        .collect();
    assert!(
        in_wasm.len() >= 20,
        "too few samples in Wasm ({} of {}):\n{script}",
        in_wasm.len(),
        all.len()
    );
    // depth 10: run resumes level(10), which resumes level(9), ... level(0).
    let mut expected = Vec::new();
    for _ in 0..11 {
        expected.extend(["deep_chain!level", "switchyard_continuation_start"]);
    }
    expected.push("deep_chain!run");
    let full: Vec<_> = in_wasm
        .iter()
        .filter(|s| chain_reaches_main(s, &expected))
        .collect();
    assert!(
        full.len() * 2 >= in_wasm.len(),
        "only {} of {} Wasm samples have the whole chain to main; first: {:#?}",
        full.len(),
        in_wasm.len(),
        in_wasm.first()
    );
    // Names are resolved all along those chains.
    for s in &full {
        let main = s.iter().position(|f| f == "main").unwrap();
        assert!(
            !s[..main].iter().any(|f| f.contains("[unknown]")),
            "unresolved frame in {s:#?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_perf_commands_on_a_c_generator_give_chains_and_source_lines() {
    if !require(common::perf_works(), "perf cannot record cpu-clock here") {
        return;
    }
    let dir = temp_dir("perf-c-generator");
    let Some(wasm) = common::build_hot_generator(&dir) else {
        return;
    };
    // The sequence the README gives, without the wrapper.
    let data = dir.join("perf.data");
    run_ok(
        Command::new("perf")
            .arg("--buildid-dir")
            .arg(dir.join(".debug"))
            .args([
                "record",
                "-q",
                "-N",
                "-k",
                "mono",
                "-e",
                "cpu-clock",
                "-F",
                "4000",
            ])
            .args(["--call-graph", "fp", "-o"])
            .arg(&data)
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_switchyard"))
            .args(["run", "--profile=jitdump", "--preload"])
            .arg(format!("env={}", common::fiber_wat().display()))
            .arg(&wasm)
            .arg("6000")
            .env("JITDUMPDIR", &dir),
    );
    let injected = dir.join("perf.jit.data");
    run_ok(
        Command::new("perf")
            .arg("--buildid-dir")
            .arg(dir.join(".debug"))
            .args(["inject", "--jit", "-i"])
            .arg(&data)
            .arg("-o")
            .arg(&injected),
    );
    let script = run_ok(
        Command::new("perf")
            .arg("--buildid-dir")
            .arg(dir.join(".debug"))
            .arg("script")
            .arg("-i")
            .arg(&injected),
    );
    let all = samples(&script);
    let hot: Vec<_> = all
        .iter()
        .filter(|s| s.first().is_some_and(|f| f == "hot!hot_digest"))
        .collect();
    assert!(
        hot.len() >= 20,
        "too few samples in hot_digest ({} of {})",
        hot.len(),
        all.len()
    );
    let expected = [
        "hot!hot_digest",
        "hot!generator",
        "fiber!entry",
        "switchyard_continuation_start",
        "fiber!fiber_resume",
        "hot!main",
        "hot!_start",
    ];
    let full = hot
        .iter()
        .filter(|s| chain_reaches_main(s, &expected))
        .count();
    assert!(
        full * 10 >= hot.len() * 9,
        "only {full} of {} hot samples reach main through the resume: {:#?}",
        hot.len(),
        hot.first()
    );
    // Debug-info records: perf knows hot_digest's source lines.
    let report = run_ok(
        Command::new("perf")
            .arg("--buildid-dir")
            .arg(dir.join(".debug"))
            .args([
                "report",
                "--no-children",
                "--sort",
                "sym,srcline",
                "--stdio",
                "-i",
            ])
            .arg(&injected),
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains("hot!hot_digest") && l.contains("hot_generator.c:")),
        "no source line for hot_digest:\n{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dwarf_call_graphs_unwind_jit_frames_with_the_jitdump_unwinding_info() {
    if !require(common::perf_works(), "perf cannot record cpu-clock here") {
        return;
    }
    let dir = temp_dir("perf-dwarf");
    let wat = common::root().join("tests/profile/nested_hot.wat");
    // Without the unwinding-info records perf's DWARF unwinder stops at the
    // first JIT frame: only `hot` would be seen.
    run_ok(
        switchyard()
            .args(["perf", "record", "-o"])
            .arg(&dir)
            .args(["--call-graph", "dwarf", "--", "--invoke", "run"])
            .arg(&wat)
            .arg("800"),
    );
    let script = run_ok(switchyard().args(["perf", "script", "-i"]).arg(&dir));
    let hot: Vec<_> = samples(&script)
        .into_iter()
        .filter(|s| s.first().is_some_and(|f| f == "nested_hot!hot"))
        .collect();
    assert!(hot.len() >= 20, "too few samples in hot: {}", hot.len());
    let unwound = hot
        .iter()
        .filter(|s| {
            s.len() >= 4
                && s[1] == "nested_hot!inner"
                && s[2].starts_with("switchyard::cont_body")
                && s[3] == "switchyard_continuation_start"
        })
        .count();
    assert!(
        unwound * 10 >= hot.len() * 9,
        "{unwound} of {} unwound through the JIT frames; first: {:#?}",
        hot.len(),
        hot.first()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The records of a jitdump file: `(id, body)`, after checking the header.
fn jitdump_records(bytes: &[u8], pid: u32) -> Vec<(u32, &[u8])> {
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    assert_eq!(u32_at(bytes, 0), 0x4A69_5444, "magic");
    assert_eq!(u32_at(bytes, 4), 1, "version");
    let header = u32_at(bytes, 8) as usize;
    assert_eq!(header, 40);
    assert_eq!(u32_at(bytes, 12), 62, "EM_X86_64");
    assert_eq!(u32_at(bytes, 20), pid);
    let mut out = Vec::new();
    let mut at = header;
    while at < bytes.len() {
        let id = u32_at(bytes, at);
        let size = u32_at(bytes, at + 4) as usize;
        assert!(
            size >= 16 && at + size <= bytes.len(),
            "record size {size} at {at}"
        );
        out.push((id, &bytes[at + 16..at + size]));
        at += size;
    }
    out
}

#[test]
fn jitdump_records_follow_perfs_layout() {
    let dir = temp_dir("jitdump-layout");
    let Some(wasm) = common::build_hot_generator(&dir) else {
        return;
    };
    let child = switchyard()
        .args(["run", "--profile=jitdump", "--preload"])
        .arg(format!("env={}", common::fiber_wat().display()))
        .arg(&wasm)
        .arg("10")
        .env("JITDUMPDIR", &dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    assert!(child.wait_with_output().unwrap().status.success());
    let bytes = std::fs::read(dir.join(format!("jit-{pid}.dump"))).unwrap();
    let records = jitdump_records(&bytes, pid);
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let mut loads = Vec::new();
    let mut pending_debug = None;
    let mut pending_unwind = None;
    for (id, body) in &records {
        match id {
            0 => {
                // pid, tid, vma, code_addr, code_size, code_index, name, code
                let (addr, size, index) = (u64_at(body, 16), u64_at(body, 24), u64_at(body, 32));
                let name_end = body[40..].iter().position(|&b| b == 0).unwrap() + 40;
                let name = std::str::from_utf8(&body[40..name_end])
                    .unwrap()
                    .to_string();
                assert_eq!(
                    body.len() - name_end - 1,
                    size as usize,
                    "{name}: code bytes"
                );
                assert_eq!(index, loads.len() as u64, "code_index counts up");
                if let Some(debug_addr) = pending_debug.take() {
                    assert_eq!(debug_addr, addr, "debug info of {name}");
                }
                loads.push((name, addr, pending_unwind.take(), size));
            }
            2 => {
                let addr = u64_at(body, 0);
                let entries = u64_at(body, 8);
                assert!(entries > 0);
                let first_file_at = 16 + 16;
                let file_end = body[first_file_at..].iter().position(|&b| b == 0).unwrap();
                let file =
                    std::str::from_utf8(&body[first_file_at..first_file_at + file_end]).unwrap();
                assert!(file.ends_with(".c") || file.ends_with(".h"), "{file}");
                pending_debug = Some(addr);
            }
            4 => {
                let (total, hdr, mapped) = (u64_at(body, 0), u64_at(body, 8), u64_at(body, 16));
                // perf maps the unwinding data after the code: all of it.
                assert!(
                    hdr == 20 && total > hdr && mapped == total,
                    "{total} {hdr} {mapped}"
                );
                // .eh_frame_hdr version 1 after the .eh_frame
                assert_eq!(body[24 + (total - hdr) as usize], 1);
                pending_unwind = Some(mapped);
            }
            other => panic!("unexpected record {other}"),
        }
    }
    let names: Vec<&str> = loads.iter().map(|l| l.0.as_str()).collect();
    for want in [
        "hot!hot_digest",
        "hot!generator",
        "hot!main",
        "fiber!fiber_resume",
    ] {
        assert!(names.contains(&want), "{want} not loaded: {names:?}");
    }
    assert!(
        loads.iter().all(|l| l.2.is_some()),
        "every function has unwinding info"
    );
    // perf maps each function's code and then its unwinding data; a later
    // mapping over that data would make perf read another function's file
    // for it, so none may start inside it.
    let mut spans: Vec<(u64, u64, &str)> = loads
        .iter()
        .map(|(name, addr, mapped, size)| {
            (
                *addr,
                addr + size.next_multiple_of(8) + mapped.unwrap_or(0),
                name.as_str(),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(
            w[0].1 <= w[1].0,
            "perf's mapping of {} ({:#x}..{:#x}) runs into {} at {:#x}",
            w[0].2,
            w[0].0,
            w[0].1,
            w[1].2,
            w[1].0
        );
    }
    // hot_digest comes from C with -g: it has source lines.
    let has_lines = records.windows(3).any(|w| {
        w[0].0 == 2 && w[2].0 == 0 && String::from_utf8_lossy(w[2].1).contains("hot!hot_digest")
    });
    assert!(has_lines, "no debug info for hot_digest");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn perf_map_names_every_function_and_glue() {
    let wat = common::root().join("bench/wat/deep_chain.wat");
    let child = switchyard()
        .args(["run", "--profile=perfmap", "--invoke", "run"])
        .arg(&wat)
        .args(["3", "10"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let path = format!("/tmp/perf-{pid}.map");
    let map = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    let mut names = Vec::new();
    for line in map.lines() {
        let mut parts = line.splitn(3, ' ');
        let start = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
        let size = u64::from_str_radix(parts.next().unwrap(), 16).unwrap();
        assert!(start > 0 && size > 0, "{line}");
        names.push(parts.next().unwrap().to_string());
    }
    for name in ["deep_chain!level", "deep_chain!run"] {
        assert!(names.iter().any(|n| n == name), "{name} missing:\n{map}");
    }
    assert!(
        names.iter().any(|n| n.starts_with("switchyard::cont_body")),
        "{map}"
    );
}

#[test]
fn perf_output_errors_are_one_line() {
    // An unwritable jitdump directory.
    let wat = common::root().join("bench/wat/deep_chain.wat");
    let o = switchyard()
        .args(["run", "--profile=jitdump", "--invoke", "run"])
        .arg(&wat)
        .args(["1", "1"])
        .env("JITDUMPDIR", "/nonexistent/dir")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.starts_with("error: cannot write the jitdump file: /nonexistent/dir/jit-"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");

    // Viewing a recording that was never made.
    let o = switchyard()
        .args(["perf", "report", "-i", "/nonexistent/rec"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("switchyard perf record"), "{err}");

    // Recording without a program.
    let o = switchyard()
        .args(["perf", "record", "-o", "/tmp", "--"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(err.starts_with("error: "), "{err}");

    // A program that `switchyard run` would refuse is refused before perf
    // records anything.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("perf-refused");
    let _ = std::fs::remove_dir_all(&dir);
    for (program, says) in [
        (
            &["/nonexistent/module.wasm"][..],
            "/nonexistent/module.wasm: ",
        ),
        (&["--no-such-flag", "x.wat"][..], "the program after `--`: "),
    ] {
        let o = switchyard()
            .args(["perf", "record", "-o"])
            .arg(&dir)
            .arg("--")
            .args(program)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.starts_with(&format!("error: {says}")), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!dir.join("perf.data").exists());
    }
}
