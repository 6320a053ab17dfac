//! C test programs built for wasm32-wasi by clang (with wasi-libc).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::require;

/// The flags a program on the fiber library needs besides the optimization
/// level: DWARF, and the function table imported so that the preloaded
/// `fiber.wat` shares it.
pub const FIBER_FLAGS: &[&str] = &["-g", "-Wl,--import-table"];

/// Builds `src` into `out` with `clang --target=wasm32-wasi FLAGS` (the
/// compiler named by `WASI_CC` if set). `None` when it cannot: a failure
/// under CI (with clang's first error line), a skip that says why
/// elsewhere.
pub fn build(src: &Path, out: &Path, flags: &[&str]) -> Option<PathBuf> {
    let cc = std::env::var("WASI_CC").unwrap_or_else(|_| "clang".into());
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let result = Command::new(&cc)
        .arg("--target=wasm32-wasi")
        .args(flags)
        .arg("-o")
        .arg(out)
        .arg(src)
        .output();
    let why = match result {
        Ok(o) if o.status.success() => return Some(out.to_path_buf()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            let first = err.lines().find(|l| l.contains("error")).unwrap_or("");
            format!(
                "{cc} could not build {} for wasm32-wasi (a WASI sysroot is needed): {first}",
                src.display()
            )
        }
        Err(e) => format!("{cc} for wasm32-wasi cannot be run: {e}"),
    };
    require(false, &why);
    None
}
