//! The gdb helpers (`gdb-scripts/switchyard.py` and its `switchyard`
//! package, bundled into one script by `build.rs`), embedded in the
//! binary's `.debug_gdb_scripts` section so that gdb loads them with the
//! binary. gdb runs such scripts only from files under its `auto-load
//! safe-path` (see docs/gdb.md); otherwise it says so, and `source` does
//! the same.

const HEADER: &[u8] = b"\x04switchyard.py\n";
const SCRIPT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/switchyard-gdb.py"));
const LEN: usize = HEADER.len() + SCRIPT.len() + 1;

/// One entry of the section: kind 4 (Python text), its name on the first
/// line, the script, and a terminating NUL.
const fn entry() -> [u8; LEN] {
    let mut out = [0u8; LEN];
    let mut i = 0;
    while i < HEADER.len() {
        out[i] = HEADER[i];
        i += 1;
    }
    let mut j = 0;
    while j < SCRIPT.len() {
        out[i + j] = SCRIPT[j];
        j += 1;
    }
    out
}

#[used]
#[unsafe(link_section = ".debug_gdb_scripts")]
static GDB_SCRIPT: [u8; LEN] = entry();
