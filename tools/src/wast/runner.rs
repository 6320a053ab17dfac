//! Runs the directives of one script against one store.

use std::collections::HashMap;

use switchyard_engine::{Engine, Error, Extern, Instance, Linker, Module, Store, TrapCode, Val};
use wast::token::Id;
use wast::{QuoteWat, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use super::spectest::{self, PrintTo};
use super::values::{self, ExternRefs};

/// How one directive ended.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// An assertion held.
    Passed,
    /// A directive that asserts nothing (module, register, invoke) worked.
    Done,
    /// Something went wrong; the text says what, without the location.
    Failed(String),
    /// The directive could not run because the module it needs failed
    /// earlier, at `module_line`; the text says what was attempted.
    Blocked { module_line: usize, message: String },
    /// The directive was not run, for the reason given.
    Skipped(String),
}

/// Why building a module failed.
enum BuildError {
    /// The text did not parse or encode (including `module quote`).
    Text(wast::Error),
    /// The engine rejected or could not compile the binary.
    Engine(Error),
    /// The script asks for something this runner does not do.
    Unsupported(String),
}

impl BuildError {
    fn describe(&self) -> String {
        match self {
            BuildError::Text(e) => format!("text format error: {}", e.message()),
            BuildError::Engine(e) => e.to_string(),
            BuildError::Unsupported(what) => format!("unsupported: {what}"),
        }
    }
}

/// Why running an `invoke`, `get` or module in an assertion failed.
enum ExecError {
    /// The script itself is wrong for this engine (unknown export, bad
    /// argument, unknown module): the assertion cannot be checked.
    Setup(String),
    /// The module the action needs failed at the line given.
    Blocked(usize),
    /// The module of an `assert_trap (module ...)` did not build.
    Build(BuildError),
    /// The engine reported an error while running.
    Run(Error),
}

impl ExecError {
    fn describe(&self) -> String {
        match self {
            ExecError::Setup(s) => format!("script error: {s}"),
            ExecError::Blocked(line) => {
                format!("script error: nothing to run: the module at line {line} failed")
            }
            ExecError::Build(e) => e.describe(),
            ExecError::Run(e) => e.to_string(),
        }
    }
}

/// The state one script builds up: its store, registered names and
/// instances.
pub(crate) struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    current: Option<Instance>,
    /// The line of the latest module directive when it failed, leaving no
    /// current instance; it explains the failures of the directives that
    /// follow.
    current_failed_at: Option<usize>,
    instances: HashMap<String, Instance>,
    /// Named modules that failed, with their lines.
    failed_named: HashMap<String, usize>,
    /// The line of the directive being run.
    line: usize,
    definitions: HashMap<String, Module>,
    /// Named module definitions that failed, with their lines.
    failed_definitions: HashMap<String, usize>,
    /// The latest module definition, or the line where it failed (`None`
    /// when there was none).
    last_definition: Result<Module, Option<usize>>,
    externs: ExternRefs,
}

impl Runner {
    /// A runner with a fresh store that has `spectest` defined.
    pub(crate) fn new(engine: &Engine, print_to: PrintTo) -> Result<Runner, Error> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        spectest::define(&mut linker, &mut store, print_to)?;
        Ok(Runner {
            engine: engine.clone(),
            store,
            linker,
            current: None,
            current_failed_at: None,
            instances: HashMap::new(),
            failed_named: HashMap::new(),
            line: 0,
            definitions: HashMap::new(),
            failed_definitions: HashMap::new(),
            last_definition: Err(None),
            externs: ExternRefs::default(),
        })
    }

    /// Runs one directive, which starts on `line` of the script.
    pub(crate) fn run(&mut self, directive: WastDirective<'_>, line: usize) -> Verdict {
        use WastDirective as D;
        self.line = line;
        match directive {
            D::Module(module) => self.module(module),
            D::ModuleDefinition(module) => self.module_definition(module),
            D::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module),
            D::Register { name, module, .. } => match self.instance(module) {
                Ok(instance) => {
                    self.linker.instance(&mut self.store, name, instance);
                    Verdict::Done
                }
                Err(e) => failed(format!("register \"{name}\": {}", e.describe()), &e),
            },
            D::Invoke(invoke) => {
                let what = format!("invoke \"{}\"", invoke.name);
                match self.invoke(&invoke) {
                    Ok(_) => Verdict::Done,
                    Err(e) => failed(format!("{what}: {}", e.describe()), &e),
                }
            }
            D::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            D::AssertTrap { exec, message, .. } => {
                let what = describe_exec("assert_trap", &exec);
                self.assert_trap(what, exec, message)
            }
            D::AssertExhaustion { call, message, .. } => {
                let what = format!("assert_exhaustion (invoke \"{}\")", call.name);
                let outcome = self.invoke(&call);
                expect_error(&self.store, what, outcome, message, |e| match e {
                    Error::Trap(t) => {
                        t.code == TrapCode::StackOverflow
                            || message_matches(message, t.code.message())
                            || message_matches(message, &t.to_string())
                    }
                    _ => false,
                })
            }
            D::AssertInvalid {
                mut module,
                message,
                ..
            } => match self.build(&mut module) {
                Ok(_) => Verdict::Failed(format!(
                    "assert_invalid: expected invalid module (\"{message}\"), got a valid module"
                )),
                Err(BuildError::Text(_) | BuildError::Engine(Error::Invalid { .. })) => {
                    Verdict::Passed
                }
                Err(e) => Verdict::Failed(format!(
                    "assert_invalid: expected invalid module (\"{message}\"), got {}",
                    e.describe()
                )),
            },
            D::AssertMalformed {
                mut module,
                message,
                ..
            } => match self.build(&mut module) {
                Ok(_) => Verdict::Failed(format!(
                    "assert_malformed: expected malformed module (\"{message}\"), \
                     got a valid module"
                )),
                Err(
                    BuildError::Text(_)
                    | BuildError::Engine(Error::Invalid { .. } | Error::Text(_)),
                ) => Verdict::Passed,
                Err(e) => Verdict::Failed(format!(
                    "assert_malformed: expected malformed module (\"{message}\"), got {}",
                    e.describe()
                )),
            },
            D::AssertUnlinkable {
                module, message, ..
            } => {
                let mut module = QuoteWat::Wat(module);
                let what = "assert_unlinkable";
                let module = match self.build(&mut module) {
                    Ok(m) => m,
                    Err(e) => {
                        return Verdict::Failed(format!(
                            "{what}: expected link error (\"{message}\"), got {}",
                            e.describe()
                        ));
                    }
                };
                match self.linker.instantiate(&mut self.store, &module) {
                    Err(Error::Link(_)) => Verdict::Passed,
                    Ok(_) => Verdict::Failed(format!(
                        "{what}: expected link error (\"{message}\"), got a linked instance"
                    )),
                    Err(e) => Verdict::Failed(format!(
                        "{what}: expected link error (\"{message}\"), got {e}"
                    )),
                }
            }
            D::AssertException { exec, .. } => {
                let what = describe_exec("assert_exception", &exec);
                let outcome = self.exec(exec);
                expect_error(
                    &self.store,
                    what,
                    outcome,
                    "uncaught exception",
                    |e| match e {
                        Error::Exception => true,
                        Error::Trap(t) => t.code == TrapCode::UncaughtException,
                        _ => false,
                    },
                )
            }
            D::AssertSuspension { exec, message, .. } => {
                let what = describe_exec("assert_suspension", &exec);
                let outcome = self.exec(exec);
                expect_error(
                    &self.store,
                    what,
                    outcome,
                    message,
                    |e| matches!(e, Error::Trap(t) if t.code == TrapCode::UnhandledTag),
                )
            }
            D::AssertInvalidCustom { .. } | D::AssertMalformedCustom { .. } => Verdict::Failed(
                "unsupported directive: custom-section assertions are not supported".into(),
            ),
            D::Thread(_) => Verdict::Skipped("thread: the engine has no threads".into()),
            D::Wait { .. } => Verdict::Skipped("wait: the engine has no threads".into()),
        }
    }

    fn module(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        self.instance_failed(name.as_deref(), self.line);
        let compiled = match self.build(&mut module) {
            Ok(m) => m,
            Err(e) => return Verdict::Failed(format!("module: {}", e.describe())),
        };
        match self.linker.instantiate(&mut self.store, &compiled) {
            Ok(instance) => {
                self.instance_made(name, instance);
                Verdict::Done
            }
            Err(e) => Verdict::Failed(format!("module: instantiation failed: {e}")),
        }
    }

    /// Records that the instance of a module directive (named `name`)
    /// failed at `line`. It is recorded before the module is built, so that
    /// even a panic while building cannot leave an older instance answering
    /// the directives that follow; they report `line` instead.
    fn instance_failed(&mut self, name: Option<&str>, line: usize) {
        self.current = None;
        self.current_failed_at = Some(line);
        if let Some(name) = name {
            self.instances.remove(name);
            self.failed_named.insert(name.to_string(), line);
        }
    }

    /// Records a new instance (named `name`) as the current one.
    fn instance_made(&mut self, name: Option<String>, instance: Instance) {
        self.current = Some(instance);
        self.current_failed_at = None;
        if let Some(name) = name {
            self.failed_named.remove(&name);
            self.instances.insert(name, instance);
        }
    }

    fn module_definition(&mut self, mut module: QuoteWat<'_>) -> Verdict {
        let name = module.name().map(|id| id.name().to_string());
        // Failed until built, as for `module`.
        self.last_definition = Err(Some(self.line));
        if let Some(name) = &name {
            self.definitions.remove(name);
            self.failed_definitions.insert(name.clone(), self.line);
        }
        match self.build(&mut module) {
            Ok(m) => {
                if let Some(name) = name {
                    self.failed_definitions.remove(&name);
                    self.definitions.insert(name, m.clone());
                }
                self.last_definition = Ok(m);
                Verdict::Done
            }
            Err(e) => Verdict::Failed(format!("module definition: {}", e.describe())),
        }
    }

    fn module_instance(&mut self, instance: Option<Id<'_>>, module: Option<Id<'_>>) -> Verdict {
        let definition = match module {
            Some(id) => match self.definitions.get(id.name()) {
                Some(m) => Ok(m.clone()),
                None => Err(self.failed_definitions.get(id.name()).copied()),
            },
            None => self.last_definition.clone(),
        };
        let name = instance.map(|id| id.name().to_string());
        let definition = match definition {
            Ok(m) => m,
            Err(failed_at) => {
                // The directives that use this instance fail because of the
                // definition, when there was one.
                self.instance_failed(name.as_deref(), failed_at.unwrap_or(self.line));
                let which = module.map_or("any module".to_string(), |id| format!("${}", id.name()));
                let message = format!("module instance: no definition of {which} to instantiate");
                return match failed_at {
                    Some(module_line) => Verdict::Blocked {
                        module_line,
                        message,
                    },
                    None => Verdict::Failed(message),
                };
            }
        };
        self.instance_failed(name.as_deref(), self.line);
        match self.linker.instantiate(&mut self.store, &definition) {
            Ok(instance) => {
                self.instance_made(name, instance);
                Verdict::Done
            }
            Err(e) => Verdict::Failed(format!("module instance: instantiation failed: {e}")),
        }
    }

    fn assert_return(&mut self, exec: WastExecute<'_>, expected: &[WastRet<'_>]) -> Verdict {
        let what = describe_exec("assert_return", &exec);
        let expected_text = values::show_rets(expected);
        let actual = match self.exec(exec) {
            Ok(actual) => actual,
            Err(e) => {
                return failed(
                    format!("{what}: expected {expected_text}, got {}", e.describe()),
                    &e,
                );
            }
        };
        let ok = actual.len() == expected.len()
            && expected
                .iter()
                .zip(&actual)
                .all(|(e, a)| values::matches(&self.store, e, a));
        if ok {
            Verdict::Passed
        } else {
            Verdict::Failed(format!(
                "{what}: expected {expected_text}, got {}",
                values::show_vals(&self.store, &actual)
            ))
        }
    }

    fn assert_trap(&mut self, what: String, exec: WastExecute<'_>, message: &str) -> Verdict {
        let outcome = self.exec(exec);
        expect_error(&self.store, what, outcome, message, |e| match e {
            Error::Trap(t) => {
                message_matches(message, t.code.message())
                    || message_matches(message, &t.to_string())
            }
            _ => false,
        })
    }

    /// Encodes and compiles a module.
    fn build(&mut self, module: &mut QuoteWat<'_>) -> Result<Module, BuildError> {
        if matches!(
            module,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_))
        ) {
            return Err(BuildError::Unsupported("component-model modules".into()));
        }
        let bytes = module.encode().map_err(BuildError::Text)?;
        Module::new(&self.engine, bytes).map_err(BuildError::Engine)
    }

    /// The instance called `id`, or the most recent one.
    fn instance(&self, id: Option<Id<'_>>) -> Result<Instance, ExecError> {
        match id {
            Some(id) => match self.instances.get(id.name()) {
                Some(instance) => Ok(*instance),
                None => Err(match self.failed_named.get(id.name()) {
                    Some(line) => ExecError::Blocked(*line),
                    None => ExecError::Setup(format!("no module named ${}", id.name())),
                }),
            },
            None => self.current.ok_or_else(|| match self.current_failed_at {
                Some(line) => ExecError::Blocked(line),
                None => ExecError::Setup("nothing to run: no module has been instantiated".into()),
            }),
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Val>, ExecError> {
        let instance = self.instance(invoke.module)?;
        let func = match instance.get_export(&mut self.store, invoke.name) {
            Some(Extern::Func(f)) => f,
            Some(_) => {
                return Err(ExecError::Setup(format!(
                    "export \"{}\" is not a function",
                    invoke.name
                )));
            }
            None => {
                return Err(ExecError::Setup(format!(
                    "no export named \"{}\"",
                    invoke.name
                )));
            }
        };
        let ty = func.ty(&self.store);
        let mut args = Vec::with_capacity(invoke.args.len());
        for (i, arg) in invoke.args.iter().enumerate() {
            let v = values::argument(&mut self.store, &mut self.externs, arg, ty.params().get(i))
                .map_err(ExecError::Setup)?;
            args.push(v);
        }
        let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
        func.call(&mut self.store, &args, &mut results)
            .map_err(|e| match e {
                // A wrong argument list is the script's fault, not a
                // result of running the function.
                Error::Usage(m) => ExecError::Setup(m),
                e => ExecError::Run(e),
            })?;
        Ok(results)
    }

    fn exec(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, ExecError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(wat) => {
                let module = self
                    .build(&mut QuoteWat::Wat(wat))
                    .map_err(ExecError::Build)?;
                self.linker
                    .instantiate(&mut self.store, &module)
                    .map_err(ExecError::Run)?;
                Ok(Vec::new())
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                match instance.get_export(&mut self.store, global) {
                    Some(Extern::Global(g)) => Ok(vec![g.get(&self.store)]),
                    Some(_) => Err(ExecError::Setup(format!(
                        "export \"{global}\" is not a global"
                    ))),
                    None => Err(ExecError::Setup(format!("no export named \"{global}\""))),
                }
            }
        }
    }
}

/// The verdict of an assertion that expects an error accepted by `accept`.
fn expect_error(
    store: &Store<()>,
    what: String,
    outcome: Result<Vec<Val>, ExecError>,
    message: &str,
    accept: impl Fn(&Error) -> bool,
) -> Verdict {
    match outcome {
        Err(ExecError::Run(e)) if accept(&e) => Verdict::Passed,
        Err(e) => failed(
            format!("{what}: expected \"{message}\", got {}", e.describe()),
            &e,
        ),
        Ok(vals) => {
            let got = if vals.is_empty() {
                "success".to_string()
            } else {
                format!("success with {}", values::show_vals(store, &vals))
            };
            Verdict::Failed(format!("{what}: expected \"{message}\", got {got}"))
        }
    }
}

/// The verdict on a directive whose action ended with `error`, described
/// by `message`: blocked when the module it needs had failed.
fn failed(message: String, error: &ExecError) -> Verdict {
    match error {
        ExecError::Blocked(module_line) => Verdict::Blocked {
            module_line: *module_line,
            message,
        },
        _ => Verdict::Failed(message),
    }
}

/// Names the action of an assertion, e.g. `assert_return (invoke "f")`.
fn describe_exec(kind: &str, exec: &WastExecute<'_>) -> String {
    match exec {
        WastExecute::Invoke(i) => format!("{kind} (invoke \"{}\")", i.name),
        WastExecute::Wat(_) => format!("{kind} (module)"),
        WastExecute::Get { global, .. } => format!("{kind} (get \"{global}\")"),
    }
}

/// Whether the engine's trap message `actual` satisfies the script's
/// `expected` message.
///
/// The rule: after trimming and lowercasing both, either one contains the
/// other. The first direction accepts engine messages with extra detail
/// (`unhandled tag: $t`); the second accepts the spec interpreter's longer
/// wording and details (`uninitialized element 2`, `unreachable executed`)
/// whose core is the engine's message. An empty engine message matches
/// nothing, so the rule never degenerates into "any trap passes".
pub(crate) fn message_matches(expected: &str, actual: &str) -> bool {
    let expected = expected.trim().to_lowercase();
    let actual = actual.trim().to_lowercase();
    if actual.is_empty() {
        return false;
    }
    actual.contains(&expected) || expected.contains(&actual)
}

#[cfg(test)]
mod tests {
    use super::message_matches;

    #[test]
    fn trap_messages() {
        assert!(message_matches("unreachable", "unreachable"));
        assert!(message_matches("unreachable executed", "unreachable"));
        assert!(message_matches(
            "uninitialized element 2",
            "uninitialized element"
        ));
        assert!(message_matches("unhandled tag", "unhandled tag: $e"));
        assert!(message_matches("Integer Overflow", "integer overflow"));
        assert!(!message_matches(
            "integer divide by zero",
            "integer overflow"
        ));
        assert!(!message_matches("unreachable", ""));
    }
}
