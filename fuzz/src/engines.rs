//! One module, run the same way in Switchyard and in Wasmtime, observed in
//! the same terms: instantiation, then every exported function called once
//! (in export order) with the same arguments, then the final state of every
//! exported memory, global and table.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};

use crate::features::{MAX_MEMORY_PAGES, MAX_TABLE_ELEMENTS};

/// A value as both engines can show it. NaNs are one value (their bits are
/// not specified); references are only null or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An i32.
    I32(i32),
    /// An i64.
    I64(i64),
    /// An f32's bits (not a NaN).
    F32(u32),
    /// An f64's bits (not a NaN).
    F64(u64),
    /// A v128's bits (generated float lanes are canonical NaNs, so bits
    /// compare).
    V128(u128),
    /// Any NaN.
    Nan,
    /// A null reference of any type.
    Null,
    /// A non-null reference of any type.
    Ref,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::I32(v) => write!(f, "i32:{v}"),
            Value::I64(v) => write!(f, "i64:{v}"),
            Value::F32(b) => write!(f, "f32:{}", f32::from_bits(*b)),
            Value::F64(b) => write!(f, "f64:{}", f64::from_bits(*b)),
            Value::V128(b) => write!(f, "v128:{b:#034x}"),
            Value::Nan => write!(f, "nan"),
            Value::Null => write!(f, "null"),
            Value::Ref => write!(f, "ref"),
        }
    }
}

fn f32_value(bits: u32) -> Value {
    if f32::from_bits(bits).is_nan() {
        Value::Nan
    } else {
        Value::F32(bits)
    }
}

fn f64_value(bits: u64) -> Value {
    if f64::from_bits(bits).is_nan() {
        Value::Nan
    } else {
        Value::F64(bits)
    }
}

/// How something that was run ended abnormally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A trap, by kind.
    Trap(TrapKind),
    /// An exception reached the host.
    Exception,
    /// A resource limit of one engine (stack depth, live continuations):
    /// the engines may differ there without either being wrong.
    Limit(String),
    /// The module did not compile or link; the text says why.
    Rejected(String),
    /// Anything else, with the engine's message.
    Other(String),
}

/// Trap kinds both engines name; where they name one condition
/// differently, the kinds are merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// `unreachable` (also: fuel of the generated module ran out).
    Unreachable,
    /// Integer division by zero.
    DivideByZero,
    /// Integer overflow.
    IntegerOverflow,
    /// Float to integer of a NaN.
    BadConversion,
    /// Memory access out of bounds.
    MemoryOutOfBounds,
    /// Table access out of bounds (Wasmtime also uses it for
    /// `call_indirect` past the end).
    TableOutOfBounds,
    /// `call_indirect` through a null entry.
    IndirectCallToNull,
    /// `call_indirect` to a function of another type.
    BadSignature,
    /// Any null reference used (function, continuation, exception).
    NullReference,
    /// A continuation resumed twice.
    ContinuationConsumed,
    /// A suspension without a handler.
    UnhandledTag,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Trap(k) => write!(f, "trap {k:?}"),
            Failure::Exception => write!(f, "uncaught exception"),
            Failure::Limit(what) => write!(f, "limit: {what}"),
            Failure::Rejected(why) => write!(f, "rejected: {why}"),
            Failure::Other(what) => write!(f, "error: {what}"),
        }
    }
}

/// What one engine did with a module.
#[derive(Clone, Debug, Default)]
pub struct Observation {
    /// Instantiation (compile, link, start function).
    pub instantiated: Option<Failure>,
    /// One entry per called export: its name and results or failure.
    pub calls: Vec<(String, Result<Vec<Value>, Failure>)>,
    /// Exported memories (size in pages, hash of contents), globals
    /// (value) and tables (size), by export name, in export order.
    pub state: Vec<(String, String)>,
}

/// The arguments of a call: drawn from `rng` by parameter type; `None`
/// when a parameter cannot be made from the host (a non-nullable
/// reference).
#[derive(Clone, Copy, Debug)]
pub enum Param {
    /// i32.
    I32,
    /// i64.
    I64,
    /// f32.
    F32,
    /// f64.
    F64,
    /// v128.
    V128,
    /// A nullable reference: null is passed.
    NullableRef,
    /// A non-nullable reference (or anything else): the export is skipped.
    Unmakeable,
}

/// An argument, drawn once and given to both engines.
#[derive(Clone, Copy, Debug)]
pub enum Arg {
    /// i32.
    I32(i32),
    /// i64.
    I64(i64),
    /// f32 bits.
    F32(u32),
    /// f64 bits.
    F64(u64),
    /// v128 bits.
    V128(u128),
    /// A null reference of the parameter's type.
    Null,
}

/// Draws the arguments for `params`; `None` if one cannot be made.
pub fn draw_args(params: &[Param], rng: &mut fastrand::Rng) -> Option<Vec<Arg>> {
    params
        .iter()
        .map(|p| {
            Some(match p {
                Param::I32 => Arg::I32(interesting_u64(rng) as i32),
                Param::I64 => Arg::I64(interesting_u64(rng) as i64),
                Param::F32 => Arg::F32(match rng.u8(..4) {
                    0 => (interesting_u64(rng) as f32).to_bits(),
                    _ => rng.u32(..),
                }),
                Param::F64 => Arg::F64(match rng.u8(..4) {
                    0 => (interesting_u64(rng) as f64).to_bits(),
                    _ => rng.u64(..),
                }),
                Param::V128 => Arg::V128(match rng.u8(..4) {
                    0 => u128::from(interesting_u64(rng)) * 0x1_0000_0001,
                    _ => rng.u128(..),
                }),
                Param::NullableRef => Arg::Null,
                Param::Unmakeable => return None,
            })
        })
        .collect()
}

/// Small numbers, edges and random bits.
fn interesting_u64(rng: &mut fastrand::Rng) -> u64 {
    match rng.u8(..6) {
        0 => rng.u64(..8),
        1 => [
            0,
            1,
            u64::MAX,
            i32::MIN as u64,
            i32::MAX as u64,
            i64::MIN as u64,
        ][rng.usize(..6)],
        2 => (rng.u64(..8)).wrapping_neg(),
        _ => rng.u64(..),
    }
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Runs `bytes` in Switchyard. `rng` draws the arguments (the same stream
/// must be given to [`run_wasmtime`]).
pub fn run_switchyard(
    engine: &switchyard_engine::Engine,
    bytes: &[u8],
    mut rng: fastrand::Rng,
) -> Observation {
    use switchyard_engine::{Error, Extern, Linker, Module, Store, TrapCode, Val, ValType};
    let mut obs = Observation::default();
    let failure = |e: Error| match e {
        Error::Trap(t) => match t.code {
            TrapCode::Unreachable => Failure::Trap(TrapKind::Unreachable),
            TrapCode::IntegerDivideByZero => Failure::Trap(TrapKind::DivideByZero),
            TrapCode::IntegerOverflow => Failure::Trap(TrapKind::IntegerOverflow),
            TrapCode::BadConversionToInteger => Failure::Trap(TrapKind::BadConversion),
            TrapCode::MemoryOutOfBounds => Failure::Trap(TrapKind::MemoryOutOfBounds),
            TrapCode::TableOutOfBounds | TrapCode::UndefinedElement => {
                Failure::Trap(TrapKind::TableOutOfBounds)
            }
            TrapCode::UninitializedElement => Failure::Trap(TrapKind::IndirectCallToNull),
            TrapCode::IndirectCallTypeMismatch => Failure::Trap(TrapKind::BadSignature),
            TrapCode::NullFuncRef
            | TrapCode::NullReference
            | TrapCode::NullContinuation
            | TrapCode::NullExceptionReference => Failure::Trap(TrapKind::NullReference),
            TrapCode::ContinuationAlreadyConsumed => Failure::Trap(TrapKind::ContinuationConsumed),
            TrapCode::UnhandledTag => Failure::Trap(TrapKind::UnhandledTag),
            TrapCode::UncaughtException => Failure::Exception,
            TrapCode::StackOverflow | TrapCode::ContinuationLimit => {
                Failure::Limit(t.code.message().to_string())
            }
        },
        Error::Exception => Failure::Exception,
        Error::Invalid { .. } | Error::Compile(_) | Error::Text(_) | Error::Link(_) => {
            Failure::Rejected(e.to_string())
        }
        other => Failure::Other(other.to_string()),
    };
    let module = match Module::new(engine, bytes) {
        Ok(m) => m,
        Err(e) => {
            obs.instantiated = Some(failure(e));
            return obs;
        }
    };
    let mut store = Store::new(engine, ());
    let instance = match Linker::new(engine).instantiate(&mut store, &module) {
        Ok(i) => i,
        Err(e) => {
            obs.instantiated = Some(failure(e));
            return obs;
        }
    };
    let exports = instance.exports(&mut store);
    for (name, export) in &exports {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        let params: Vec<Param> = ty
            .params()
            .iter()
            .map(|p| match p {
                ValType::I32 => Param::I32,
                ValType::I64 => Param::I64,
                ValType::F32 => Param::F32,
                ValType::F64 => Param::F64,
                ValType::Ref(r) if r.nullable => Param::NullableRef,
                ValType::Ref(_) => Param::Unmakeable,
                ValType::V128 => Param::V128,
            })
            .collect();
        let Some(args) = draw_args(&params, &mut rng) else {
            continue;
        };
        let args: Vec<Val> = args
            .iter()
            .zip(ty.params())
            .map(|(a, p)| match a {
                Arg::I32(v) => Val::I32(*v),
                Arg::I64(v) => Val::I64(*v),
                Arg::F32(v) => Val::F32(*v),
                Arg::F64(v) => Val::F64(*v),
                Arg::V128(v) => Val::V128(*v),
                Arg::Null => Val::default_for(p),
            })
            .collect();
        let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Ok(results.iter().map(switchyard_value).collect()),
            Err(e) => Err(failure(e)),
        };
        obs.calls.push((name.clone(), outcome));
    }
    for (name, export) in &exports {
        let shown = match export {
            Extern::Memory(m) => memory_state(m.data(&store)),
            Extern::Global(g) => format!("global {}", switchyard_value(&g.get(&store))),
            Extern::Table(t) => format!("table {} elements", t.size(&store)),
            _ => continue,
        };
        obs.state.push((name.clone(), shown));
    }
    obs
}

/// A Wasmtime engine configured like Switchyard: the same proposals, the
/// same memory and table limits.
pub fn wasmtime_engine() -> wasmtime::Engine {
    let mut config = wasmtime::Config::new();
    config
        .wasm_stack_switching(true)
        .wasm_function_references(true)
        .wasm_exceptions(true)
        .wasm_gc(true)
        .wasm_tail_call(true)
        .wasm_multi_memory(true)
        .wasm_extended_const(true)
        .wasm_memory64(true);
    wasmtime::Engine::new(&config).expect("a Wasmtime engine")
}

/// Runs `bytes` in Wasmtime; see [`run_switchyard`].
pub fn run_wasmtime(
    engine: &wasmtime::Engine,
    bytes: &[u8],
    mut rng: fastrand::Rng,
) -> Observation {
    use wasmtime::{
        Extern, Instance, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, Val, ValType,
    };
    let mut obs = Observation::default();
    let failure = |store: &mut Store<StoreLimits>, e: wasmtime::Error| {
        if e.is::<wasmtime::ThrownException>() {
            let _ = store.take_pending_exception();
            return Failure::Exception;
        }
        match e.downcast_ref::<Trap>() {
            Some(trap) => match trap {
                Trap::UnreachableCodeReached => Failure::Trap(TrapKind::Unreachable),
                Trap::IntegerDivisionByZero => Failure::Trap(TrapKind::DivideByZero),
                Trap::IntegerOverflow => Failure::Trap(TrapKind::IntegerOverflow),
                Trap::BadConversionToInteger => Failure::Trap(TrapKind::BadConversion),
                Trap::MemoryOutOfBounds => Failure::Trap(TrapKind::MemoryOutOfBounds),
                Trap::TableOutOfBounds => Failure::Trap(TrapKind::TableOutOfBounds),
                Trap::IndirectCallToNull => Failure::Trap(TrapKind::IndirectCallToNull),
                Trap::BadSignature => Failure::Trap(TrapKind::BadSignature),
                Trap::NullReference => Failure::Trap(TrapKind::NullReference),
                Trap::ContinuationAlreadyConsumed => Failure::Trap(TrapKind::ContinuationConsumed),
                Trap::UnhandledTag => Failure::Trap(TrapKind::UnhandledTag),
                Trap::StackOverflow | Trap::AllocationTooLarge => Failure::Limit(trap.to_string()),
                other => Failure::Other(format!("trap {other}")),
            },
            None => Failure::Other(format!("{e:#}")),
        }
    };
    let mut store = Store::new(
        engine,
        StoreLimitsBuilder::new()
            .memory_size((MAX_MEMORY_PAGES * 65536) as usize)
            .table_elements(MAX_TABLE_ELEMENTS)
            .build(),
    );
    store.limiter(|limits| limits);
    let module = match Module::new(engine, bytes) {
        Ok(m) => m,
        Err(e) => {
            obs.instantiated = Some(Failure::Rejected(format!("{e:#}")));
            return obs;
        }
    };
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(e) => {
            let f = failure(&mut store, e);
            // A link error is a rejection, as Switchyard's is.
            obs.instantiated = Some(match f {
                Failure::Other(why) => Failure::Rejected(why),
                f => f,
            });
            return obs;
        }
    };
    let exports: Vec<(String, Extern)> = instance
        .exports(&mut store)
        .map(|e| (e.name().to_string(), e.into_extern()))
        .collect();
    for (name, export) in &exports {
        let Extern::Func(func) = export else { continue };
        let ty = func.ty(&store);
        let param_types: Vec<ValType> = ty.params().collect();
        let params: Vec<Param> = param_types
            .iter()
            .map(|p| match p {
                ValType::I32 => Param::I32,
                ValType::I64 => Param::I64,
                ValType::F32 => Param::F32,
                ValType::F64 => Param::F64,
                ValType::V128 => Param::V128,
                ValType::Ref(r) if r.is_nullable() => Param::NullableRef,
                _ => Param::Unmakeable,
            })
            .collect();
        let Some(args) = draw_args(&params, &mut rng) else {
            continue;
        };
        let args: Vec<Val> = args
            .iter()
            .zip(&param_types)
            .map(|(a, p)| match a {
                Arg::I32(v) => Val::I32(*v),
                Arg::I64(v) => Val::I64(*v),
                Arg::F32(v) => Val::F32(*v),
                Arg::F64(v) => Val::F64(*v),
                Arg::V128(v) => Val::V128((*v).into()),
                Arg::Null => Val::default_for_ty(p).expect("nullable"),
            })
            .collect();
        let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
        let outcome = match func.call(&mut store, &args, &mut results) {
            Ok(()) => Ok(results.iter().map(wasmtime_value).collect()),
            Err(e) => Err(failure(&mut store, e)),
        };
        obs.calls.push((name.clone(), outcome));
    }
    for (name, export) in &exports {
        let shown = match export {
            Extern::Memory(m) => memory_state(m.data(&store)),
            Extern::Global(g) => format!("global {}", wasmtime_value(&g.get(&mut store))),
            Extern::Table(t) => format!("table {} elements", t.size(&store)),
            _ => continue,
        };
        obs.state.push((name.clone(), shown));
    }
    obs
}

/// A Switchyard value as the comparison sees it.
fn switchyard_value(v: &switchyard_engine::Val) -> Value {
    use switchyard_engine::Val;
    match v {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(b) => f32_value(*b),
        Val::F64(b) => f64_value(*b),
        Val::V128(b) => Value::V128(*b),
        other if other.is_null() => Value::Null,
        _ => Value::Ref,
    }
}

/// A memory's final state as both engines report it: size and a hash.
fn memory_state(data: &[u8]) -> String {
    format!(
        "memory {} pages #{:x}",
        data.len() / 65536,
        hash_bytes(data)
    )
}

fn wasmtime_value(v: &wasmtime::Val) -> Value {
    use wasmtime::Val;
    match v {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(b) => f32_value(*b),
        Val::F64(b) => f64_value(*b),
        Val::FuncRef(r) => null_or_ref(r.is_none()),
        Val::ExternRef(r) => null_or_ref(r.is_none()),
        Val::AnyRef(r) => null_or_ref(r.is_none()),
        Val::ExnRef(r) => null_or_ref(r.is_none()),
        Val::ContRef(r) => null_or_ref(r.is_none()),
        Val::V128(b) => Value::V128(b.as_u128()),
    }
}

fn null_or_ref(null: bool) -> Value {
    if null { Value::Null } else { Value::Ref }
}

/// How two observations compare.
pub enum Verdict {
    /// Same behaviour.
    Same,
    /// They differ where one engine hit a resource limit, or Switchyard
    /// rejected a feature it does not support: not a finding.
    Inconclusive(String),
    /// They differ: a finding, described.
    Differ(String),
}

/// Compares Switchyard's observation with Wasmtime's.
pub fn compare(ours: &Observation, theirs: &Observation) -> Verdict {
    let limited = |f: &Failure| matches!(f, Failure::Limit(_));
    match (&ours.instantiated, &theirs.instantiated) {
        (None, None) => {}
        (Some(Failure::Rejected(a)), Some(Failure::Rejected(_))) => {
            return Verdict::Inconclusive(format!("both rejected the module: {a}"));
        }
        (Some(Failure::Rejected(a)), _) if a.contains("unsupported feature") => {
            return Verdict::Inconclusive(format!("switchyard: {a}"));
        }
        (Some(a), Some(b)) if a == b => return Verdict::Same,
        (Some(a), Some(b)) if limited(a) || limited(b) => {
            return Verdict::Inconclusive(format!("instantiation: {a} / {b}"));
        }
        (a, b) => {
            let show = |f: &Option<Failure>| f.as_ref().map_or("ok".to_string(), |f| f.to_string());
            return Verdict::Differ(format!(
                "instantiation: switchyard {}, wasmtime {}",
                show(a),
                show(b)
            ));
        }
    }
    for (i, ((name, a), (other, b))) in ours.calls.iter().zip(&theirs.calls).enumerate() {
        if name != other {
            return Verdict::Differ(format!(
                "export {i} is {name:?} in switchyard, {other:?} in wasmtime"
            ));
        }
        if a == b {
            continue;
        }
        let show = |r: &Result<Vec<Value>, Failure>| match r {
            Ok(v) => format!(
                "[{}]",
                v.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(f) => f.to_string(),
        };
        if matches!(a, Err(f) if limited(f)) || matches!(b, Err(f) if limited(f)) {
            return Verdict::Inconclusive(format!(
                "call {name:?}: switchyard {}, wasmtime {}",
                show(a),
                show(b)
            ));
        }
        return Verdict::Differ(format!(
            "call {name:?}: switchyard {}, wasmtime {}",
            show(a),
            show(b)
        ));
    }
    if ours.calls.len() != theirs.calls.len() {
        return Verdict::Differ(format!(
            "{} calls in switchyard, {} in wasmtime",
            ours.calls.len(),
            theirs.calls.len()
        ));
    }
    for ((name, a), (_, b)) in ours.state.iter().zip(&theirs.state) {
        if a != b {
            return Verdict::Differ(format!(
                "final state of {name:?}: switchyard {a}, wasmtime {b}"
            ));
        }
    }
    if ours.state.len() != theirs.state.len() {
        return Verdict::Differ("a different set of exports".into());
    }
    Verdict::Same
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(calls: Vec<Result<Vec<Value>, Failure>>, state: &[&str]) -> Observation {
        Observation {
            instantiated: None,
            calls: calls
                .into_iter()
                .enumerate()
                .map(|(i, c)| (format!("f{i}"), c))
                .collect(),
            state: state
                .iter()
                .map(|s| ("g".to_string(), s.to_string()))
                .collect(),
        }
    }

    #[test]
    fn comparisons() {
        let same = obs(vec![Ok(vec![Value::I32(1)])], &["global i32:1"]);
        assert!(matches!(compare(&same, &same.clone()), Verdict::Same));

        let other_result = obs(vec![Ok(vec![Value::I32(2)])], &["global i32:1"]);
        assert!(matches!(compare(&same, &other_result), Verdict::Differ(d) if d.contains("i32:2")));

        let trap = obs(
            vec![Err(Failure::Trap(TrapKind::Unreachable))],
            &["global i32:1"],
        );
        let other_trap = obs(
            vec![Err(Failure::Trap(TrapKind::DivideByZero))],
            &["global i32:1"],
        );
        assert!(matches!(compare(&trap, &other_trap), Verdict::Differ(_)));

        let other_state = obs(vec![Ok(vec![Value::I32(1)])], &["global i32:7"]);
        assert!(
            matches!(compare(&same, &other_state), Verdict::Differ(d) if d.contains("final state"))
        );

        let limit = obs(
            vec![Err(Failure::Limit("call stack exhausted".into()))],
            &[],
        );
        assert!(matches!(compare(&limit, &same), Verdict::Inconclusive(_)));

        let rejected = Observation {
            instantiated: Some(Failure::Rejected("invalid module".into())),
            ..Observation::default()
        };
        assert!(matches!(compare(&rejected, &same), Verdict::Differ(_)));
    }
}
