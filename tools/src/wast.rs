//! `switchyard wast`: runs WebAssembly specification test scripts.
//!
//! Each script gets a fresh store with the standard `spectest` module; the
//! directives run in order. Failures are reported as
//! `FILE:LINE:COL: what failed: expected X, got Y`, followed by a final
//! `N passed, N failed` line (`, N skipped` when directives were skipped).
//! `passed` counts assertions that held; `failed` counts assertions that
//! did not plus any other directive (module, register, invoke, unsupported
//! directive) that went wrong. A directive whose module failed earlier
//! says so and names that module's line, so that one cause is seen as one.
//!
//! How assertions are judged:
//! - `assert_return`: integers and floats compare bit for bit, except the
//!   `nan:canonical` / `nan:arithmetic` patterns; `(ref.func)` with or
//!   without an index accepts any non-null function reference.
//! - `assert_trap`, `assert_exhaustion`: the error must be a trap whose
//!   message matches the expected text, where "matches" means one contains
//!   the other (see [`runner::message_matches`]); exhaustion also accepts
//!   any stack-overflow trap.
//! - `assert_invalid` and `assert_malformed`: any rejection of the module
//!   (text that does not parse, a binary that does not decode or validate)
//!   passes; the messages are not compared, because the engine's validator
//!   words them differently from the spec interpreter.
//! - `assert_unlinkable`: instantiation must fail with a link error.
//! - `assert_uninstantiable` (older scripts) is `assert_trap` on a module.
//! - `assert_exception`: an uncaught exception reaches the host.
//! - `assert_suspension`: an unhandled-tag trap.
//! - `thread` and `wait` are skipped (the engine has no threads), with the
//!   reason in the report.
//! - `v128` arguments and results are compared lane by lane in the shape the
//!   script writes (`i8x16` ... `f64x2`, NaN patterns per float lane).
//! - Custom-section assertions, components and GC references are reported
//!   as unsupported failures.

mod runner;
mod spectest;
mod values;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use switchyard_engine::{Engine, display_name};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{Wast, WastDirective};

use crate::cli::{Format, WastArgs};
use crate::output::json_string;
use runner::{Runner, Verdict};
use spectest::PrintTo;

/// One failed directive.
struct Failure {
    file: String,
    line: usize,
    column: usize,
    kind: &'static str,
    message: String,
    /// The line of the failed module this directive needed, if that is
    /// why it failed.
    module_line: Option<usize>,
}

/// A directive that was not run.
struct Skip {
    file: String,
    line: usize,
    column: usize,
    reason: String,
}

/// A script that could not be run at all.
struct ScriptError {
    file: String,
    /// Line and column, when the error is in the script's text.
    position: Option<(usize, usize)>,
    message: String,
}

#[derive(Default)]
struct Report {
    passed: usize,
    failures: Vec<Failure>,
    errors: Vec<ScriptError>,
    skips: Vec<Skip>,
    /// Assertion directives met (held, failed or blocked).
    assertions: usize,
    scripts_run: usize,
}

/// Runs the scripts in `args.files` and reports on them.
///
/// Exit status: 0 when every assertion held, 1 when any directive failed,
/// 2 when a script could not be read or parsed.
pub fn main(args: WastArgs) -> anyhow::Result<ExitCode> {
    // Scripts' modules are small and mostly run once: caching them would
    // only fill the cache.
    let config = switchyard_engine::Config {
        cache_dir: None,
        ..args.engine.config()
    };
    let engine = Engine::new(&config).context("cannot create the engine")?;
    let json = args.format == Format::Json;
    let print_to = if json {
        PrintTo::Stderr
    } else {
        PrintTo::Stdout
    };
    let mut report = Report::default();
    let hook = PanicCapture::install();
    for path in &args.files {
        run_file(&engine, path, print_to, &mut report, !json);
    }
    drop(hook);

    if json {
        // Escaped by its JSON strings; its line breaks are its own.
        let _ = writeln!(std::io::stdout().lock(), "{}", to_json(&report));
    } else if report.scripts_run > 0 {
        let skipped = match report.skips.len() {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        print_line(&format!(
            "{} passed, {} failed{skipped}",
            report.passed,
            report.failures.len()
        ));
    }
    Ok(if !report.errors.is_empty() {
        ExitCode::from(2)
    } else if !report.failures.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs one script, adding its outcome to `report`; with `stream`, failures
/// and errors are printed as they happen.
fn run_file(engine: &Engine, path: &Path, print_to: PrintTo, report: &mut Report, stream: bool) {
    let file = path.display().to_string();
    let script_error = |report: &mut Report, position, message: String| {
        if stream {
            match position {
                Some((line, column)) => eprintln!(
                    "error: {}",
                    display_name(&format!("{file}:{line}:{column}: {message}"))
                ),
                None => eprintln!("error: {}", display_name(&format!("{file}: {message}"))),
            }
        }
        report.errors.push(ScriptError {
            file: file.clone(),
            position,
            message,
        });
    };

    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return script_error(report, None, format!("cannot read the script: {e}")),
    };
    let (text, uninstantiable) = rewrite_uninstantiable(text);
    // Spec scripts deliberately contain bidirectional-override characters
    // (names.wast); they are data here, not a way to hide code.
    let mut lexer = Lexer::new(&text);
    lexer.allow_confusing_unicode(true);
    let buffer = match ParseBuffer::new_with_lexer(lexer) {
        Ok(b) => b,
        Err(e) => {
            let position = line_col(&text, e.span().offset());
            return script_error(report, Some(position), e.message());
        }
    };
    let script = match parser::parse::<Wast>(&buffer) {
        Ok(s) => s,
        Err(e) => {
            let position = line_col(&text, e.span().offset());
            return script_error(report, Some(position), e.message());
        }
    };
    let mut runner = match Runner::new(engine, print_to) {
        Ok(r) => r,
        Err(e) => return script_error(report, None, format!("cannot set up `spectest`: {e}")),
    };
    report.scripts_run += 1;

    for directive in script.directives {
        let offset = directive.span().offset();
        let kind = if uninstantiable.contains(&offset) {
            "assert_uninstantiable"
        } else {
            kind_of(&directive)
        };
        if kind.starts_with("assert_") {
            report.assertions += 1;
        }
        let (line, column) = line_col(&text, offset);
        // A panic the engine caught itself must not be blamed on this one.
        PanicCapture::take();
        let verdict = match catch_unwind(AssertUnwindSafe(|| runner.run(directive, line))) {
            Ok(v) => v,
            Err(payload) => Verdict::Failed(format!(
                "{kind}: panicked: {}",
                PanicCapture::take().unwrap_or_else(|| panic_text(&*payload))
            )),
        };
        let (mut message, module_line) = match verdict {
            Verdict::Passed => {
                report.passed += 1;
                continue;
            }
            Verdict::Done => continue,
            Verdict::Skipped(reason) => {
                if stream {
                    print_line(&format!("{file}:{line}:{column}: skipped: {reason}"));
                }
                report.skips.push(Skip {
                    file: file.clone(),
                    line,
                    column,
                    reason,
                });
                continue;
            }
            Verdict::Failed(message) => (message, None),
            Verdict::Blocked {
                module_line,
                message,
            } => (message, Some(module_line)),
        };
        if kind == "assert_uninstantiable"
            && let Some(rest) = message.strip_prefix("assert_trap")
        {
            message = format!("{kind}{rest}");
        }
        if stream {
            print_line(&format!("{file}:{line}:{column}: {message}"));
        }
        report.failures.push(Failure {
            file: file.clone(),
            line,
            column,
            kind,
            message,
            module_line,
        });
    }
}

/// Prints a line on stdout, escaped: scripts name exports with any
/// characters (`names.wast`), and a report line must stay one line that
/// cannot drive the terminal. A reader that went away (`| head`) is not an
/// error worth a panic; the exit status still tells the outcome.
fn print_line(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", display_name(line));
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let (line, col) = wast::token::Span::from_offset(offset).linecol_in(text);
    (line + 1, col + 1)
}

/// Older scripts write `(assert_uninstantiable MODULE MSG)`, which the
/// `wast` crate no longer parses; it means `assert_trap` on a module.
/// The keyword is replaced by `assert_trap` padded with spaces so that
/// every offset, and so every reported position, stays the same. Returns
/// the offsets of the rewritten keywords.
fn rewrite_uninstantiable(text: String) -> (String, HashSet<usize>) {
    const OLD: &str = "assert_uninstantiable";
    const NEW: &str = "assert_trap          ";
    const _: () = assert!(OLD.len() == NEW.len());
    let mut offsets = HashSet::new();
    if !text.contains(OLD) {
        return (text, offsets);
    }
    let mut out = text.clone();
    let mut from = 0;
    while let Some(i) = text[from..].find(OLD).map(|i| i + from) {
        from = i + OLD.len();
        let opens_directive = text[..i].trim_end().ends_with('(');
        let ends_word = text[from..]
            .chars()
            .next()
            .is_none_or(|c| c.is_whitespace() || c == '(');
        if opens_directive && ends_word {
            out.replace_range(i..from, NEW);
            offsets.insert(i);
        }
    }
    (out, offsets)
}

/// The script keyword of a directive, for reports.
fn kind_of(directive: &WastDirective<'_>) -> &'static str {
    use WastDirective as D;
    match directive {
        D::Module(_) => "module",
        D::ModuleDefinition(_) => "module definition",
        D::ModuleInstance { .. } => "module instance",
        D::Register { .. } => "register",
        D::Invoke(_) => "invoke",
        D::AssertReturn { .. } => "assert_return",
        D::AssertTrap { .. } => "assert_trap",
        D::AssertExhaustion { .. } => "assert_exhaustion",
        D::AssertInvalid { .. } => "assert_invalid",
        D::AssertMalformed { .. } => "assert_malformed",
        D::AssertUnlinkable { .. } => "assert_unlinkable",
        D::AssertException { .. } => "assert_exception",
        D::AssertSuspension { .. } => "assert_suspension",
        D::AssertInvalidCustom { .. } => "assert_invalid_custom",
        D::AssertMalformedCustom { .. } => "assert_malformed_custom",
        D::Thread(_) => "thread",
        D::Wait { .. } => "wait",
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

type PanicHook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send>;

/// While alive, panics are recorded (message and location) for the report
/// instead of being printed, since each one becomes a directive failure.
struct PanicCapture {
    previous: Option<PanicHook>,
}

impl PanicCapture {
    fn install() -> PanicCapture {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            let text = match info.location() {
                Some(at) => format!(
                    "{} at {}:{}",
                    panic_text(info.payload()),
                    at.file(),
                    at.line()
                ),
                None => panic_text(info.payload()),
            };
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(text));
        }));
        PanicCapture {
            previous: Some(previous),
        }
    }

    fn take() -> Option<String> {
        LAST_PANIC.with(|p| p.borrow_mut().take())
    }
}

impl Drop for PanicCapture {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            std::panic::set_hook(previous);
        }
    }
}

/// The report as one JSON document.
fn to_json(report: &Report) -> String {
    let mut out = String::from("{\n  \"failures\": [");
    for (i, f) in report.failures.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{sep}\n    {{\"file\": {}, \"line\": {}, \"column\": {}, \"kind\": {}, \"message\": {}",
            json_string(&f.file),
            f.line,
            f.column,
            json_string(f.kind),
            json_string(&f.message)
        );
        if let Some(line) = f.module_line {
            let _ = write!(out, ", \"module_line\": {line}");
        }
        out.push('}');
    }
    if !report.failures.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str("],\n  \"errors\": [");
    for (i, e) in report.errors.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let (line, column) = match e.position {
            Some((l, c)) => (l.to_string(), c.to_string()),
            None => ("null".to_string(), "null".to_string()),
        };
        let _ = write!(
            out,
            "{sep}\n    {{\"file\": {}, \"line\": {line}, \"column\": {column}, \"message\": {}}}",
            json_string(&e.file),
            json_string(&e.message)
        );
    }
    if !report.errors.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str("],\n  \"skipped\": [");
    for (i, s) in report.skips.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{sep}\n    {{\"file\": {}, \"line\": {}, \"column\": {}, \"reason\": {}}}",
            json_string(&s.file),
            s.line,
            s.column,
            json_string(&s.reason)
        );
    }
    if !report.skips.is_empty() {
        out.push_str("\n  ");
    }
    let _ = write!(
        out,
        "],\n  \"totals\": {{\"passed\": {}, \"failed\": {}, \"errors\": {}, \
         \"skipped\": {}, \"assertions\": {}}}\n}}",
        report.passed,
        report.failures.len(),
        report.errors.len(),
        report.skips.len(),
        report.assertions
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping() {
        assert_eq!(json_string("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
        assert_eq!(json_string("ü"), "\"ü\"");
    }

    #[test]
    fn uninstantiable_keeps_offsets() {
        let text = "(assert_uninstantiable (module) \"x\")\n;; assert_uninstantiable\n".to_string();
        let (out, offsets) = rewrite_uninstantiable(text.clone());
        assert_eq!(out.len(), text.len());
        assert!(out.starts_with("(assert_trap           (module)"));
        assert!(out.ends_with(";; assert_uninstantiable\n"));
        assert_eq!(offsets.into_iter().collect::<Vec<_>>(), vec![1]);
    }
}
