//! The engine's top-level modules form layers that point one way: a module
//! may use the modules below it, never one above. This test reads every
//! source file and fails on a `crate::X` path (in a `use` or inline) that
//! points up, naming the file and line.
//!
//! The order, lowest first, is defined here and nowhere else;
//! docs/architecture.md explains it.

use std::path::{Path, PathBuf};

/// The engine's top-level modules, lowest layer first. `lib` is the crate
/// root (`lib.rs`), which may use everything.
const LAYERS: &[&str] = &[
    "error",
    "types",
    "module_info",
    "vm",
    "debug",
    "profiling",
    "config",
    "compile",
    "engine",
    "module",
    "runtime",
    "wasi",
    "lib",
];

/// One `crate::X` reference that points to a higher layer.
struct Violation {
    file: PathBuf,
    line: usize,
    from: String,
    to: String,
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// The top-level module a source file belongs to.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative
        .components()
        .next()
        .expect("non-empty path")
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    first.strip_suffix(".rs").unwrap_or(&first).to_string()
}

/// The top-level modules a line of code names through `crate::`:
/// `crate::vm::layout`, and each item of `crate::{vm, module}`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `switchyard_crate::` or `$crate::` are not this crate's root.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn violations(src: &Path) -> Vec<Violation> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let from = module_of(src, &file);
        let from_rank = rank(&from).unwrap_or_else(|| {
            panic!(
                "{}: top-level module `{from}` has no layer; add it to LAYERS in {}",
                file.display(),
                file!()
            )
        });
        let text = std::fs::read_to_string(&file).expect("readable source file");
        for (i, line) in text.lines().enumerate() {
            // Comments, doc links included, are not dependencies.
            let code = line.split("//").next().unwrap_or("");
            for to in crate_paths(code) {
                // Items of the crate root (`crate::Config`) are not layers.
                let Some(to_rank) = rank(&to) else { continue };
                if to_rank > from_rank {
                    found.push(Violation {
                        file: file.strip_prefix(src).expect("under src").to_path_buf(),
                        line: i + 1,
                        from: from.clone(),
                        to,
                    });
                }
            }
        }
    }
    found
}

#[test]
fn engine_modules_only_use_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    let report: Vec<String> = found
        .iter()
        .map(|v| {
            format!(
                "src/{}:{}: `{}` uses `crate::{}`, a higher layer",
                v.file.display(),
                v.line,
                v.from,
                v.to
            )
        })
        .collect();
    assert!(
        report.is_empty(),
        "layer order (lowest first): {}\n{}",
        LAYERS.join(" < "),
        report.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).expect("readable source folder") {
        let path = entry.expect("directory entry").path();
        let module = module_of(&src, &path);
        assert!(
            rank(&module).is_some(),
            "{}: `{module}` is missing from LAYERS",
            path.display()
        );
    }
}

#[test]
fn the_checker_sees_plain_grouped_and_inline_paths() {
    assert_eq!(
        crate_paths("use crate::vm::layout::VMStoreContext;"),
        ["vm"]
    );
    assert_eq!(
        crate_paths("use crate::{module::Module, runtime};"),
        ["module", "runtime"]
    );
    assert_eq!(
        crate_paths("let x = *(p as *const crate::runtime::instance::InstanceData);"),
        ["runtime"]
    );
    assert!(crate_paths("macro_rules! m { () => { $crate::x } }").is_empty());
}
