//! `switchyard profile`: the in-process sampler's stacks cross continuation
//! boundaries and say which continuation was running; the four output
//! formats (SVG and Firefox JSON parsed back); a full buffer, a program
//! that ends before the first sample and an unwritable output path give
//! clear messages.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;

use common::{root, switchyard, temp_dir};

fn nested_hot() -> std::path::PathBuf {
    root().join("tests/profile/nested_hot.wat")
}

fn profile(args: &[&str], file: &Path, rest: &[&str]) -> Output {
    switchyard()
        .arg("profile")
        .args(args)
        .arg(file)
        .args(rest)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Folded stacks as (frames root first, count).
fn parse_folded(text: &str) -> Vec<(Vec<String>, u64)> {
    text.lines()
        .map(|l| {
            let (stack, n) = l.rsplit_once(' ').expect("STACK COUNT");
            (
                stack.split(';').map(str::to_string).collect(),
                n.parse().expect("a count"),
            )
        })
        .collect()
}

const HOT_CHAIN: &[&str] = &[
    "[host]",
    "nested_hot!run",
    "[continuation nested_hot!outer]",
    "nested_hot!outer",
    "[continuation nested_hot!inner]",
    "nested_hot!inner",
    "nested_hot!hot",
];

#[test]
fn hot_function_in_a_nested_continuation_gets_the_samples_with_full_stacks() {
    let dir = temp_dir("profile-nested");
    let out = dir.join("p.folded");
    let o = profile(
        &[
            "--hz",
            "2000",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &nested_hot(),
        &["1500"],
    );
    let stderr = ok(&o);
    assert!(stderr.contains("samples written to"), "{stderr}");
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let total: u64 = stacks.iter().map(|s| s.1).sum();
    let hot: u64 = stacks
        .iter()
        .filter(|(s, _)| s.last().is_some_and(|f| f == "nested_hot!hot"))
        .map(|s| s.1)
        .sum();
    assert!(total >= 100, "too few samples: {total}");
    assert!(hot * 10 >= total * 8, "hot has {hot} of {total} samples");
    // Every sample in hot has the whole chain, through both resumes.
    for (stack, _) in stacks
        .iter()
        .filter(|(s, _)| s.last().unwrap() == "nested_hot!hot")
    {
        assert_eq!(stack, HOT_CHAIN, "partial stack");
    }

    // The text summary attributes the time to the inner continuation.
    let o = profile(&["--invoke", "run"], &nested_hot(), &["1500"]);
    let text = ok(&o);
    let hot_line = text
        .lines()
        .find(|l| l.ends_with("nested_hot!hot"))
        .unwrap_or_else(|| panic!("{text}"));
    let self_percent: f64 = hot_line.split('%').next().unwrap().trim().parse().unwrap();
    assert!(self_percent >= 80.0, "{text}");
    let per_cont = text
        .split("time per continuation (")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let inner = per_cont
        .lines()
        .find(|l| l.ends_with("nested_hot!inner"))
        .unwrap_or_else(|| panic!("{text}"));
    let cols: Vec<&str> = inner.split_whitespace().collect();
    let percent: f64 = cols[1].trim_end_matches('%').parse().unwrap();
    assert!(percent >= 80.0, "{text}");
    assert!(cols[2].starts_with('#'), "continuation id: {inner}");
    let switches: u64 = cols[3].parse().unwrap();
    assert!(switches > 100, "switch count: {inner}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn deep_chain_folded_stacks_hold_every_stack_of_the_chain() {
    let dir = temp_dir("profile-deep-chain");
    let out = dir.join("p.folded");
    let wat = root().join("bench/wat/deep_chain.wat");
    let o = profile(
        &[
            "--hz",
            "2000",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &wat,
        &["10", "4000000"],
    );
    ok(&o);
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let in_bottom: Vec<_> = stacks
        .iter()
        .filter(|(s, _)| s.iter().filter(|f| *f == "deep_chain!level").count() == 11)
        .collect();
    let n: u64 = in_bottom.iter().map(|s| s.1).sum();
    assert!(
        n >= 20,
        "few samples at the bottom of the chain: {stacks:?}"
    );
    for (stack, _) in &in_bottom {
        assert_eq!(stack[0], "[host]");
        assert_eq!(stack[1], "deep_chain!run");
        let boundaries = stack
            .iter()
            .filter(|f| *f == "[continuation deep_chain!level]")
            .count();
        assert_eq!(boundaries, 11, "{stack:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn host_code_called_from_wasm_is_named() {
    // Every `cont.new` calls into the runtime: that host code is named
    // from the executable's symbols, above the Wasm frame that called it.
    let dir = temp_dir("profile-host-frames");
    let out = dir.join("p.folded");
    let wat = root().join("bench/wat/create_complete.wat");
    let o = profile(
        &[
            "--hz",
            "2000",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &wat,
        &["1000000"],
    );
    ok(&o);
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let named_host = stacks.iter().any(|(s, _)| {
        s.windows(2)
            .any(|w| w[0] == "create_complete!run" && w[1].starts_with("switchyard_engine::"))
    });
    assert!(
        named_host,
        "no named host frame above a Wasm frame: {stacks:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn svg_and_firefox_outputs_parse_back() {
    let dir = temp_dir("profile-formats");
    let svg = dir.join("p.svg");
    ok(&profile(
        &["-o", svg.to_str().unwrap(), "--invoke", "run"],
        &nested_hot(),
        &["600"],
    ));
    let text = std::fs::read_to_string(&svg).unwrap();
    let mut reader = quick_xml::Reader::from_str(&text);
    let mut titles = Vec::new();
    let mut in_title = false;
    let mut elements = 0;
    loop {
        match reader.read_event().expect("well-formed SVG") {
            quick_xml::events::Event::Start(e) => {
                elements += 1;
                in_title = e.name().as_ref() == b"title";
            }
            quick_xml::events::Event::Text(t) if in_title => {
                titles.push(String::from_utf8_lossy(&t.into_inner()).into_owned());
            }
            quick_xml::events::Event::End(_) => in_title = false,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert!(elements > 10, "{elements} elements");
    for name in [
        "nested_hot!hot",
        "[continuation nested_hot!inner]",
        "nested_hot!run",
    ] {
        assert!(
            titles
                .iter()
                .any(|t| t.starts_with(name) && t.contains("samples")),
            "no frame {name} in {titles:?}"
        );
    }

    let json = dir.join("p.json");
    let stderr = ok(&profile(
        &["-o", json.to_str().unwrap(), "--invoke", "run"],
        &nested_hot(),
        &["600"],
    ));
    let written: usize = stderr
        .split_whitespace()
        .next_back()
        .and(stderr.split(" samples written").next())
        .and_then(|s| s.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stderr}"));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["meta"]["product"], "switchyard");
    let thread = &v["threads"][0];
    let strings: Vec<&str> = thread["stringArray"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(strings.contains(&"nested_hot!hot"), "{strings:?}");
    assert!(
        strings
            .iter()
            .any(|s| s.starts_with("[continuation nested_hot!inner] #")),
        "{strings:?}"
    );
    let samples = &thread["samples"];
    let stacks = samples["stack"].as_array().unwrap();
    assert_eq!(stacks.len(), written);
    let stack_count = thread["stackTable"]["length"].as_u64().unwrap();
    assert!(stacks.iter().all(|s| s.as_u64().unwrap() < stack_count));
    // The deepest stack of a hot sample has the seven frames of the chain.
    let prefix = thread["stackTable"]["prefix"].as_array().unwrap();
    let depth = |mut i: u64| {
        let mut d = 1;
        while let Some(p) = prefix[i as usize].as_u64() {
            i = p;
            d += 1;
        }
        d
    };
    let deepest = stacks.iter().map(|s| depth(s.as_u64().unwrap())).max();
    assert_eq!(deepest, Some(HOT_CHAIN.len()));

    // Folded by --format, whatever the extension; text to a file.
    let folded = dir.join("p.out");
    ok(&profile(
        &[
            "--format",
            "folded",
            "-o",
            folded.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &nested_hot(),
        &["300"],
    ));
    assert!(!parse_folded(&std::fs::read_to_string(&folded).unwrap()).is_empty());
    let txt = dir.join("p.txt");
    ok(&profile(
        &["-o", txt.to_str().unwrap(), "--invoke", "run"],
        &nested_hot(),
        &["300"],
    ));
    assert!(
        std::fs::read_to_string(&txt)
            .unwrap()
            .contains("top functions:")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A frame-pointer walk from a function stopped at its first instruction,
/// just after its `push rbp`, or at its `ret` would skip its caller: most
/// of `tiny`'s instructions are such, so without the handler's repair
/// about half of its samples would lack `caller` (measured: 262 of 263).
#[test]
fn samples_in_a_prologue_or_epilogue_keep_the_caller() {
    let dir = temp_dir("profile-tiny-leaf");
    let out = dir.join("p.folded");
    let o = profile(
        &[
            "--hz",
            "5000",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &root().join("tests/profile/tiny_leaf.wat"),
        &["30000000"],
    );
    ok(&o);
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let in_tiny: Vec<_> = stacks
        .iter()
        .filter(|(s, _)| s.last().unwrap() == "tiny_leaf!tiny")
        .collect();
    let samples: u64 = in_tiny.iter().map(|s| s.1).sum();
    assert!(samples >= 20, "too few samples in tiny: {stacks:?}");
    for (stack, _) in in_tiny {
        assert_eq!(
            stack,
            &[
                "[host]",
                "tiny_leaf!run",
                "[continuation tiny_leaf!caller]",
                "tiny_leaf!caller",
                "tiny_leaf!tiny"
            ],
            "{stacks:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn c_generator_time_goes_to_its_hot_function_on_the_fiber() {
    let dir = temp_dir("profile-c-generator");
    let Some(wasm) = common::build_hot_generator(&dir) else {
        return;
    };
    let out = dir.join("p.folded");
    let preload = format!("env={}", common::fiber_wat().display());
    let o = profile(
        &["-o", out.to_str().unwrap(), "--preload", &preload],
        &wasm,
        &["4000"],
    );
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("4000 values"));
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let total: u64 = stacks.iter().map(|s| s.1).sum();
    let mut leaf: HashMap<&str, u64> = HashMap::new();
    for (s, n) in &stacks {
        *leaf.entry(s.last().unwrap()).or_default() += n;
    }
    let hot = leaf.get("hot!hot_digest").copied().unwrap_or(0);
    assert!(hot * 10 >= total * 8, "{leaf:?}");
    let chain = [
        "[host]",
        "hot!_start",
        "hot!main",
        "fiber!fiber_resume",
        // Named by what it runs, not by the library's entry.
        "[continuation hot!generator]",
        "fiber!entry",
        "hot!generator",
        "hot!hot_digest",
    ];
    for (stack, _) in stacks
        .iter()
        .filter(|(s, _)| s.last().unwrap() == "hot!hot_digest")
    {
        let mut at = 0;
        for want in chain {
            at += stack[at..]
                .iter()
                .position(|f| f == want)
                .unwrap_or_else(|| panic!("{want} missing in {stack:?}"))
                + 1;
        }
    }
    // Source lines from the module's DWARF: hot_digest's loop body
    // (lines 30-34 of hot_generator.c) has most of the samples.
    let txt = dir.join("p.txt");
    ok(&profile(
        &["-o", txt.to_str().unwrap(), "--preload", &preload],
        &wasm,
        &["4000"],
    ));
    let text = std::fs::read_to_string(&txt).unwrap();
    let lines = text
        .split("top source lines")
        .nth(1)
        .unwrap_or_else(|| panic!("{text}"));
    let in_loop: f64 = lines
        .lines()
        .filter(|l| (30..=34).any(|n| l.ends_with(&format!("hot_generator.c:{n}"))))
        .map(|l| {
            l.split('%')
                .next()
                .unwrap()
                .split_whitespace()
                .last()
                .unwrap()
        })
        .map(|p| p.parse::<f64>().unwrap())
        .sum();
    assert!(in_loop >= 50.0, "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_full_sample_buffer_keeps_what_fits_and_says_so() {
    let dir = temp_dir("profile-buffer");
    let out = dir.join("p.folded");
    let o = profile(
        &[
            "--hz",
            "2000",
            "--buffer-size",
            "16k",
            "--max-depth",
            "64",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &nested_hot(),
        &["1000"],
    );
    let stderr = ok(&o);
    assert!(
        stderr.contains("warning: the sample buffer (16 KiB) filled up:")
            && stderr.contains("use --buffer-size"),
        "{stderr}"
    );
    // "... filled up: N samples kept, M dropped; ..."
    let counts = stderr.split("filled up: ").nth(1).unwrap();
    let numbers: Vec<u64> = counts
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches([',', ';']).parse().ok())
        .collect();
    let (kept, dropped) = (numbers[0], numbers[1]);
    assert!(kept > 0 && dropped > 0, "{stderr}");
    // 16 KiB holds at most a few hundred small samples.
    assert!(kept < 400, "{stderr}");
    let written: u64 = parse_folded(&std::fs::read_to_string(&out).unwrap())
        .iter()
        .map(|s| s.1)
        .sum();
    assert!(written > 0 && written <= kept, "{written} of {kept}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_program_that_ends_before_the_first_sample_writes_no_profile() {
    let dir = temp_dir("profile-early-exit");
    let wat = dir.join("exit.wat");
    std::fs::write(
        &wat,
        r#"(module
             (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
             (memory (export "memory") 1)
             (func (export "_start") (call $exit (i32.const 3))))"#,
    )
    .unwrap();
    let out = dir.join("p.svg");
    let o = profile(&["--hz", "10", "-o", out.to_str().unwrap()], &wat, &[]);
    assert_eq!(o.status.code(), Some(3), "the program's own status");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with("warning: no samples in Wasm: the run took ")
            && stderr.contains("no profile written"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!out.exists(), "an empty profile was left behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_output_paths_and_flags_fail_before_the_run() {
    let o = profile(
        &["-o", "/nonexistent/dir/p.svg", "--invoke", "run"],
        &nested_hot(),
        &["100"],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.trim(),
        "error: cannot write /nonexistent/dir/p.svg: No such file or directory (os error 2)"
    );
    assert!(o.stdout.is_empty(), "the program ran");

    let o = profile(
        &["-o", "/tmp/p.unknown", "--invoke", "run"],
        &nested_hot(),
        &["1"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.starts_with("error: cannot tell the format of /tmp/p.unknown"),
        "{stderr}"
    );

    let o = profile(&["--hz", "0", "--invoke", "run"], &nested_hot(), &["1"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(
        stderr.trim(),
        "error: --hz must be between 1 and 100000, not 0"
    );

    let o = profile(&[], Path::new("/nonexistent.wasm"), &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert_eq!(stderr.trim(), "error: /nonexistent.wasm: no such file");
}

#[test]
fn a_program_that_traps_still_gets_its_profile() {
    let dir = temp_dir("profile-trap");
    let wat = dir.join("spin.wat");
    std::fs::write(
        &wat,
        r#"(module
             (type $ft (func))
             (type $ct (cont $ft))
             (func $spin_then_trap
               (local $i i32)
               (loop $l
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 300000000))))
               (drop (i32.div_u (i32.const 1) (i32.const 0))))
             (elem declare func $spin_then_trap)
             (func (export "_start")
               (resume $ct (cont.new $ct (ref.func $spin_then_trap)))))"#,
    )
    .unwrap();
    let out = dir.join("p.folded");
    let o = profile(&["--hz", "2000", "-o", out.to_str().unwrap()], &wat, &[]);
    assert_eq!(o.status.code(), Some(134), "the trap's exit status");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("wasm trap: integer divide by zero"),
        "{stderr}"
    );
    assert!(stderr.contains("samples written to"), "{stderr}");
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    assert!(
        stacks.iter().any(|(s, _)| s
            == &[
                "[host]",
                "spin!_start",
                "[continuation spin!spin_then_trap]",
                "spin!spin_then_trap"
            ]),
        "{stacks:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn libcall_switching_keeps_the_chain_with_the_host_switch_frames_between() {
    let dir = temp_dir("profile-libcall");
    let out = dir.join("p.folded");
    let o = profile(
        &[
            "--switching",
            "libcall",
            "--hz",
            "2000",
            "-o",
            out.to_str().unwrap(),
            "--invoke",
            "run",
        ],
        &nested_hot(),
        &["1000"],
    );
    ok(&o);
    let stacks = parse_folded(&std::fs::read_to_string(&out).unwrap());
    let total: u64 = stacks.iter().map(|s| s.1).sum();
    let hot: Vec<_> = stacks
        .iter()
        .filter(|(s, _)| s.last().unwrap() == "nested_hot!hot")
        .collect();
    let n: u64 = hot.iter().map(|s| s.1).sum();
    assert!(n * 10 >= total * 8, "{stacks:?}");
    for (stack, _) in hot {
        // The host's switch routine sits under each boundary here, named.
        assert!(
            stack.iter().any(|f| f.starts_with("switchyard_engine::")),
            "{stack:?}"
        );
        let wasm_and_boundaries: Vec<&str> = stack
            .iter()
            .map(String::as_str)
            // Wasm frames and boundaries are `module!function`.
            .filter(|f| f.contains('!'))
            .collect();
        assert_eq!(wasm_and_boundaries, &HOT_CHAIN[1..], "{stack:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
