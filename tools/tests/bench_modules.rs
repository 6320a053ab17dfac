//! The shared micro-benchmarks (bench/wat) give their documented results,
//! with native and libcall switching.

use std::process::Command;

fn run(mode: &str, file: &str, args: &[&str]) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/wat/");
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["run", "--switching", mode, "--invoke", "run"])
        .arg(format!("{path}{file}"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn benchmarks_give_their_documented_results() {
    for mode in ["native", "libcall"] {
        // Sum of all yielded values: n*(n-1)/2.
        assert_eq!(run(mode, "yield_loop.wat", &["100000"]), "4999950000");
        // 0 once n switches have happened.
        assert_eq!(run(mode, "switch_pingpong.wat", &["100001"]), "0");
        // n pings through a chain of depth d.
        assert_eq!(run(mode, "deep_chain.wat", &["10", "10000"]), "10000");
        // n*(n+1)/2.
        assert_eq!(run(mode, "create_complete.wat", &["100000"]), "5000050000");
    }
}
