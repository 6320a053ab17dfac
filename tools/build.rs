//! Bundles the gdb helpers (`gdb-scripts/switchyard.py` and the
//! `switchyard` package next to it) into one Python script, which
//! `src/gdb_autoload.rs` embeds in the binary's `.debug_gdb_scripts`
//! section: gdb runs that section's scripts as text, with no files beside
//! them, so the package's modules travel inside the script.

use std::fmt::Write as _;
use std::path::Path;

fn main() {
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../gdb-scripts");
    let package = scripts.join("switchyard");
    let entry = scripts.join("switchyard.py");
    println!("cargo:rerun-if-changed={}", package.display());
    println!("cargo:rerun-if-changed={}", entry.display());

    let mut modules: Vec<(String, String, String)> = Vec::new();
    for dirent in std::fs::read_dir(&package).expect("gdb-scripts/switchyard is readable") {
        let path = dirent.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "py") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let name = if stem == "__init__" {
            "switchyard".to_string()
        } else {
            format!("switchyard.{stem}")
        };
        let file = format!("switchyard/{stem}.py");
        modules.push((name, file, read(&path)));
    }
    modules.sort();

    let mut out = String::new();
    out.push_str(BUNDLE_HEAD);
    out.push_str("_switchyard_install({\n");
    for (name, file, source) in &modules {
        writeln!(out, "    {name:?}: ({file:?}, '''{}'''),", escape(source)).unwrap();
    }
    out.push_str("})\n\n");
    out.push_str(&read(&entry));
    assert!(
        !out.contains('\0'),
        "a gdb script section cannot hold NUL bytes"
    );

    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("switchyard-gdb.py");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of a `'''`-quoted Python string holding `source` as it is.
fn escape(source: &str) -> String {
    source.replace('\\', "\\\\").replace('\'', "\\'")
}

/// An importer that serves the package's modules from the sources the
/// bundle carries; it goes first on `sys.meta_path`, replacing any older
/// bundle.
const BUNDLE_HEAD: &str = r#"# Switchyard's gdb helpers, bundled into the binary (see tools/build.rs).
import importlib.abc
import importlib.util
import sys


class _SwitchyardBundle(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    switchyard_bundle = True

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        return importlib.util.spec_from_loader(
            name, self, origin="<switchyard binary>/" + self.modules[name][0],
            is_package=(name == "switchyard"))

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        file, source = self.modules[module.__name__]
        exec(compile(source, "<switchyard binary>/" + file, "exec"), module.__dict__)


def _switchyard_install(modules):
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "switchyard_bundle", False)]
    sys.meta_path.insert(0, _SwitchyardBundle(modules))


"#;
