//! Cases: what a target generates from a seed, and what running it found.
//! A case is its target and seed; the same pair always makes the same
//! module and the same arguments.

use std::fmt;

use crate::engines::{self, Verdict};
use crate::features::{FUEL, MAX_MEMORY_PAGES};
use crate::{mutate, switching};

/// What is generated and how it is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// wasm-smith modules, run in both engines and compared.
    Smith,
    /// Generated stack-switching programs, run in both engines (native and
    /// libcall switching in turn) and compared.
    Switching,
    /// Valid modules mutated: rejected or accepted, never a crash or hang;
    /// accepted only if Wasmtime accepts them too.
    Malformed,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::Smith, Target::Switching, Target::Malformed];

    /// The name used on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Target::Smith => "smith",
            Target::Switching => "switching",
            Target::Malformed => "malformed",
        }
    }

    /// The target called `name`.
    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Mixed into the seed so that targets do not share random streams.
    fn salt(self) -> u64 {
        match self {
            Target::Smith => 0x5317,
            Target::Switching => 0xc0_17,
            Target::Malformed => 0xbad,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A generated module.
pub struct Case {
    /// The module's bytes.
    pub bytes: Vec<u8>,
    /// Its source text, when the generator wrote text.
    pub text: Option<String>,
}

/// What running a case found.
pub enum Outcome {
    /// Both engines agreed, or the malformed module was handled.
    Passed,
    /// Not comparable (a resource limit, an unsupported feature); says why.
    Inconclusive(String),
    /// A finding; says what.
    Finding(String),
}

/// Makes the case `target`/`seed`. An error is a generator that could not
/// make a module from its random bytes (wasm-smith may run out of them);
/// invalid text from our own generator is a bug and says so.
pub fn generate(target: Target, seed: u64) -> Result<Case, String> {
    let mut rng = fastrand::Rng::with_seed(seed ^ target.salt().rotate_left(32));
    match target {
        Target::Smith => smith(&mut rng),
        Target::Switching => switching_program(&mut rng),
        Target::Malformed => {
            let base = if rng.bool() {
                smith(&mut rng)?
            } else {
                switching_program(&mut rng)?
            };
            Ok(Case {
                bytes: mutate::mutate(&base.bytes, &mut rng),
                text: None,
            })
        }
    }
}

fn smith(rng: &mut fastrand::Rng) -> Result<Case, String> {
    let data: Vec<u8> = (0..rng.usize(1024..16384)).map(|_| rng.u8(..)).collect();
    let mut u = arbitrary::Unstructured::new(&data);
    let config = crate::features::smith_config(rng);
    let mut module =
        wasm_smith::Module::new(config, &mut u).map_err(|e| format!("wasm-smith: {e}"))?;
    module
        .ensure_termination(FUEL)
        .map_err(|e| format!("wasm-smith: {e}"))?;
    Ok(Case {
        bytes: module.to_bytes(),
        text: None,
    })
}

fn switching_program(rng: &mut fastrand::Rng) -> Result<Case, String> {
    let text = switching::generate(rng);
    match wat::parse_str(&text) {
        Ok(bytes) => Ok(Case {
            bytes,
            text: Some(text),
        }),
        Err(e) => Err(format!(
            "BUG: the switching generator wrote invalid text: {e}"
        )),
    }
}

/// The engines a worker runs cases in, made once.
pub struct Engines {
    native: switchyard_engine::Engine,
    libcall: switchyard_engine::Engine,
    wasmtime: wasmtime::Engine,
}

impl Engines {
    /// Switchyard in both switching modes, with memories capped like
    /// Wasmtime's, and Wasmtime.
    pub fn new() -> anyhow::Result<Engines> {
        let config = |switching| switchyard_engine::Config {
            switching,
            max_memory_pages: MAX_MEMORY_PAGES,
            ..switchyard_engine::Config::default()
        };
        Ok(Engines {
            native: switchyard_engine::Engine::new(&config(
                switchyard_engine::SwitchingMode::Native,
            ))?,
            libcall: switchyard_engine::Engine::new(&config(
                switchyard_engine::SwitchingMode::Libcall,
            ))?,
            wasmtime: engines::wasmtime_engine(),
        })
    }
}

/// Runs a differential case in both engines: Switchyard's observation,
/// then Wasmtime's.
pub fn observe(
    engines: &Engines,
    target: Target,
    seed: u64,
    case: &Case,
) -> (engines::Observation, engines::Observation) {
    let ours = if target == Target::Switching && seed % 2 == 1 {
        &engines.libcall
    } else {
        &engines.native
    };
    let args = fastrand::Rng::with_seed(seed);
    let a = engines::run_switchyard(ours, &case.bytes, args.clone());
    let b = engines::run_wasmtime(&engines.wasmtime, &case.bytes, args);
    (a, b)
}

/// Runs the case `target`/`seed`.
pub fn run(engines: &Engines, target: Target, seed: u64) -> Outcome {
    let case = match generate(target, seed) {
        Ok(c) => c,
        Err(e) if e.starts_with("BUG") => return Outcome::Finding(e),
        Err(e) => return Outcome::Inconclusive(e),
    };
    match target {
        Target::Smith | Target::Switching => {
            let (a, b) = observe(engines, target, seed, &case);
            match engines::compare(&a, &b) {
                Verdict::Same => Outcome::Passed,
                Verdict::Inconclusive(why) => Outcome::Inconclusive(why),
                Verdict::Differ(what) => Outcome::Finding(what),
            }
        }
        Target::Malformed => malformed(engines, &case.bytes),
    }
}

/// A mutated module must be rejected or compile (and instantiate, when it
/// has no start function that could run forever); Switchyard must not
/// accept what Wasmtime's validator rejects.
fn malformed(engines: &Engines, bytes: &[u8]) -> Outcome {
    let ours = switchyard_engine::Module::new(&engines.native, bytes);
    let theirs = wasmtime::Module::validate(&engines.wasmtime, bytes);
    match (&ours, &theirs) {
        (Ok(_), Err(e)) => {
            return Outcome::Finding(format!(
                "switchyard accepted a module wasmtime rejects: {e:#}"
            ));
        }
        (Err(_), _) => return Outcome::Passed,
        (Ok(_), Ok(())) => {}
    }
    let module = ours.expect("accepted");
    let has_start = wasmparser::Parser::new(0)
        .parse_all(bytes)
        .any(|p| matches!(p, Ok(wasmparser::Payload::StartSection { .. })));
    if !has_start {
        let mut store = switchyard_engine::Store::new(&engines.native, ());
        let _ = switchyard_engine::Linker::new(&engines.native).instantiate(&mut store, &module);
    }
    Outcome::Passed
}
