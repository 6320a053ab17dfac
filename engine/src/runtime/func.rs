//! Functions: calling Wasm from the host, and the host from Wasm.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::store::{AsStoreMut, Caller, FuncKind, HostFn, StoreCore, StoreInner};
use super::values::{Val, read_words, write_words};
use crate::error::{Error, Trap, TrapCode};
use crate::types::{FuncType, words_of};
use crate::vm::code_lookup;
use crate::vm::entry::{self, JmpBuf};
use crate::vm::layout::{VMHostContext, VMStoreContext};
use crate::vm::signals;

/// A function in a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Func {
    /// A host function of type `ty`.
    pub fn new<T: 'static>(
        mut store: impl AsStoreMut<Data = T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> Result<Func, Error> {
        let inner = store.inner_mut();
        let f: HostFn<T> = std::sync::Arc::new(f);
        let index = inner.push_host_func(&ty, f)?;
        Ok(Func {
            store: inner.core.id,
            index,
        })
    }

    /// The function's signature.
    pub fn ty(&self, store: &impl AsStoreMut) -> FuncType {
        let core = &store.inner().core;
        core.check(self.store);
        core.engine
            .func_type(core.funcs[self.index as usize].type_id)
    }

    /// Calls the function; `results` must have the signature's length.
    pub fn call<S: AsStoreMut>(
        &self,
        mut store: S,
        params: &[Val],
        results: &mut [Val],
    ) -> Result<(), Error> {
        let inner = store.inner_mut();
        inner.core.check(self.store);
        let ty = inner
            .core
            .engine
            .func_type(inner.core.funcs[self.index as usize].type_id);
        if params.len() != ty.params().len() {
            return Err(Error::Usage(format!(
                "expected {} arguments, got {}",
                ty.params().len(),
                params.len()
            )));
        }
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if !p.matches(&inner.core, t) {
                return Err(Error::Usage(format!(
                    "argument {i} has the wrong type: expected {t}"
                )));
            }
        }
        if results.len() != ty.results().len() {
            return Err(Error::Usage(format!(
                "expected room for {} results, got {}",
                ty.results().len(),
                results.len()
            )));
        }
        let entry = &inner.core.funcs[self.index as usize];
        if let FuncKind::Host { index } = entry.kind {
            let f = inner.host_funcs[index].f.clone();
            return f(
                Caller {
                    store: inner,
                    caller_vmctx: 0,
                },
                params,
                results,
            );
        }
        let words = words_of(ty.params()).max(words_of(ty.results()));
        let mut raw = vec![0u64; words];
        write_words(&inner.core, params, ty.params(), &mut raw);
        let type_id = entry.type_id;
        let funcref = entry.funcref;
        let host_entry = inner.core.engine.entry_glue(type_id)?.host_entry;
        // SAFETY: `funcref` belongs to this store's live instance and
        // `raw` has room for the signature; the host entry matches it.
        unsafe {
            let f = &*funcref;
            invoke(
                &mut inner.core,
                host_entry,
                f.vmctx,
                f.code,
                raw.as_mut_ptr(),
            )?;
        }
        for (slot, v) in results
            .iter_mut()
            .zip(read_words(&inner.core, &raw, ty.results()))
        {
            *slot = v;
        }
        Ok(())
    }

    /// A typed view of the function.
    pub fn typed<P: WasmParams, R: WasmResults>(
        &self,
        store: &impl AsStoreMut,
    ) -> Result<TypedFunc<P, R>, Error> {
        let ty = self.ty(store);
        if !P::matches(ty.params()) || !R::matches(ty.results()) {
            return Err(Error::Usage(format!(
                "function has type {ty}, not the one asked for"
            )));
        }
        Ok(TypedFunc {
            func: *self,
            _marker: std::marker::PhantomData,
        })
    }
}

/// Runs generated code through a host entry, turning a trap or a
/// failing host function below it into an error.
///
/// # Safety
/// `host_entry`, `vmctx` and `code` must form a valid call of a function
/// of this store, and `values` must have room for its parameters and
/// results.
pub(crate) unsafe fn invoke(
    core: &mut StoreCore,
    host_entry: usize,
    vmctx: usize,
    code: usize,
    values: *mut u64,
) -> Result<(), Error> {
    signals::init();
    let vm: *mut VMStoreContext = &mut *core.vm;
    let mut jmpbuf = JmpBuf::default();
    // SAFETY: `vm` points to the store's boxed context, alive for the call.
    let (previous_jmpbuf, previous_limit, previous_cont) =
        unsafe { ((*vm).entry_jmpbuf, (*vm).stack_limit, (*vm).current_cont) };
    let previous_current = signals::set_current(vm);
    // SAFETY: as above.
    unsafe {
        if previous_jmpbuf.is_null() {
            // Outermost entry: Wasm may use `max_wasm_stack` below here.
            let here = &jmpbuf as *const JmpBuf as usize;
            (*vm).stack_limit = here.saturating_sub(core.engine.config().max_wasm_stack);
        }
        (*vm).entry_jmpbuf = &mut jmpbuf;
    }
    // SAFETY: the caller's contract; the JmpBuf is published above.
    let ok = unsafe { entry::enter_wasm(&mut jmpbuf, host_entry, vmctx, code, values) };
    // SAFETY: as above.
    unsafe {
        (*vm).entry_jmpbuf = previous_jmpbuf;
        (*vm).stack_limit = previous_limit;
    }
    signals::set_current(previous_current);
    if ok {
        return Ok(());
    }
    // Continuations that were running below this entry are cut short.
    // SAFETY: as above.
    crate::vm::stack_switching::StoreContinuations::abandon_chain(
        unsafe { &mut *vm },
        previous_cont,
    );
    if let Some(e) = core.pending_error.take() {
        return Err(e);
    }
    if std::mem::take(&mut core.vm.uncaught_exception) != 0 {
        return Err(Error::Exception);
    }
    let record = signals::take_last_trap();
    let code = TrapCode::from_byte(record.code).unwrap_or(TrapCode::Unreachable);
    let mut trap = Trap::new(code);
    if code == TrapCode::UnhandledTag {
        let tag = std::mem::take(&mut core.vm.unhandled_tag);
        trap.detail = core.describe_tag(tag);
    }
    trap.pc = Some(record.pc);
    trap.fp = Some(record.fp);
    if let Some(info) = code_lookup::lookup(record.pc)
        && let Some(f) = info.function_at(record.pc)
    {
        let _ = f;
        if let Some(name) = info.function_name_at(record.pc) {
            trap.function = Some(format!("{}!{}", info.module_name, name));
        }
    }
    trap.backtrace = symbolize(core, &crate::vm::backtrace::take(), false);
    Err(Error::Trap(trap))
}

/// Names the frames of a raw backtrace (module, function, offset; source
/// locations are left to readers of the module's DWARF).
pub(crate) fn symbolize(
    core: &StoreCore,
    raw: &[crate::vm::backtrace::RawFrame],
    first_is_return: bool,
) -> Vec<switchyard_frames::Frame> {
    use crate::vm::backtrace::RawFrame as R;
    use std::collections::HashMap;
    use std::sync::Arc;
    use switchyard_frames::{Boundary, Frame as F, HostFrame, WasmFrame};
    // Most frames are in the module of the previous one, and a chain repeats
    // its tags and entries: remember what was looked up.
    let mut last: Option<Arc<code_lookup::CodeInfo>> = None;
    /// Module, function, function index, module offset.
    type Named = (Arc<str>, Arc<str>, u32, Option<u32>);
    // The same return addresses come back across the stacks of one
    // backtrace (the fibers of a program run the same functions): the last
    // few are kept, each named once.
    const RECENT: usize = 16;
    let mut recent: Vec<(usize, Named)> = Vec::with_capacity(RECENT);
    let mut name_of = |pc: usize| -> Option<Named> {
        if let Some((_, named)) = recent.iter().find(|(at, _)| *at == pc) {
            return Some(named.clone());
        }
        // Borrowed, not cloned: an `Arc` clone is an atomic add and its drop
        // an atomic subtract, which cost more than the rest of a frame here.
        if !last.as_ref().is_some_and(|i| i.start <= pc && pc < i.end) {
            last = Some(code_lookup::lookup(pc)?);
        }
        let info = last.as_ref()?;
        let index = info.function_at(pc)?;
        let name = info.function_name_at(pc)?.clone();
        let named = (info.module_name.clone(), name, index, info.wasm_offset(pc));
        if recent.len() == RECENT {
            recent.remove(0);
        }
        recent.push((pc, named.clone()));
        Some(named)
    };
    let mut tags: HashMap<usize, Arc<str>> = HashMap::new();
    let mut entries: HashMap<usize, Arc<str>> = HashMap::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, frame) in raw.iter().enumerate() {
        out.push(match *frame {
            R::Pc(pc) => {
                // Return addresses point after the call; the faulting pc
                // (the first) is exact.
                let at = if i == 0 && !first_is_return {
                    pc
                } else {
                    pc.wrapping_sub(1)
                };
                match name_of(at) {
                    Some((module, function, index, offset)) => F::Wasm(WasmFrame {
                        module,
                        function,
                        index: Some(index),
                        offset,
                        pc: pc as u64,
                        locations: Vec::new(),
                    }),
                    None => F::Host(HostFrame {
                        pc: pc as u64,
                        symbol: None,
                    }),
                }
            }
            R::Resumed {
                id,
                entry_func,
                handlers,
                handlers_len,
            } => {
                let entry = match entries.get(&entry_func) {
                    Some(e) => e.clone(),
                    None => {
                        // SAFETY: the record's entry is a VMFuncRef of this
                        // store.
                        let code = if entry_func == 0 {
                            0
                        } else {
                            unsafe { (*(entry_func as *const crate::vm::layout::VMFuncRef)).code }
                        };
                        let e: Arc<str> = match name_of(code) {
                            Some((module, function, ..)) => format!("{module}!{function}").into(),
                            None => "<host function>".into(),
                        };
                        entries.insert(entry_func, e.clone());
                        e
                    }
                };
                let handlers = handlers
                    .iter()
                    .take(handlers_len.min(4) as usize)
                    .map(|&tag| {
                        tags.entry(tag)
                            .or_insert_with(|| {
                                let name = core
                                    .describe_tag(tag & !1)
                                    .unwrap_or_else(|| "<tag>".into());
                                if tag & 1 == 1 {
                                    format!("{name} (switch)").into()
                                } else {
                                    name.into()
                                }
                            })
                            .clone()
                    })
                    .collect();
                F::Boundary(Boundary {
                    continuation: id,
                    entry,
                    handlers: Some(handlers),
                    resumed_here: true,
                    name: None,
                })
            }
            R::HostEntry => F::HostEntry,
            R::Truncated(reason) => F::Truncated {
                reason: reason.to_string(),
            },
            R::Skipped(n) => F::Skipped { frames: n },
        });
    }
    out
}

/// Called by host adapters: runs host function `ctx.index` of its store.
///
/// # Safety
/// Only generated host adapters call this, with their own `VMHostContext`
/// and a buffer of the signature's size.
pub(crate) unsafe extern "sysv64" fn host_dispatch<T: 'static>(
    ctx: *mut VMHostContext,
    caller_vmctx: usize,
    values: *mut u64,
) {
    // SAFETY: see the function's contract.
    let failed = unsafe { run_host::<T>(ctx, caller_vmctx, values) };
    if failed {
        // SAFETY: everything `run_host` owned is dropped; the jmpbuf is the
        // innermost entry's, which is below us on this stack.
        unsafe {
            let jmpbuf = (*(*ctx).store).entry_jmpbuf;
            entry::unwind_to_entry(jmpbuf);
        }
    }
}

/// Runs the host function; returns true if it failed, with the error left
/// in the store.
unsafe fn run_host<T: 'static>(
    ctx: *mut VMHostContext,
    caller_vmctx: usize,
    values: *mut u64,
) -> bool {
    // SAFETY: the host context points at its store's context, whose
    // `store` field is the `StoreInner<T>` it belongs to.
    let store = unsafe { &mut *((*(*ctx).store).store as *mut StoreInner<T>) };
    // SAFETY: as above.
    let index = unsafe { (*ctx).index };
    let (f, ty) = {
        let h = &store.host_funcs[index];
        (h.f.clone(), h.ty.clone())
    };
    let n = words_of(ty.params()).max(words_of(ty.results()));
    // SAFETY: the adapter's buffer has `n` words.
    let raw = unsafe { std::slice::from_raw_parts_mut(values, n) };
    let params = read_words(&store.core, raw, ty.params());
    let mut results: Vec<Val> = ty.results().iter().map(Val::default_for).collect();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        f(
            Caller {
                store: &mut *store,
                caller_vmctx,
            },
            &params,
            &mut results,
        )
    }));
    match outcome {
        Ok(Ok(())) => {
            for (i, (r, t)) in results.iter().zip(ty.results()).enumerate() {
                if !r.matches(&store.core, t) {
                    return fail(
                        store,
                        Error::Host(format!(
                            "host function returned a wrong type for result {i}"
                        )),
                    );
                }
            }
            write_words(&store.core, &results, ty.results(), raw);
            false
        }
        Ok(Err(e)) => fail(store, e),
        Err(_) => fail(store, Error::Host("host function panicked".into())),
    }
}

fn fail<T>(store: &mut StoreInner<T>, e: Error) -> bool {
    store.core.pending_error = Some(e);
    true
}

/// A function with a statically known signature.
pub struct TypedFunc<P, R> {
    func: Func,
    _marker: std::marker::PhantomData<fn(P) -> R>,
}

impl<P: WasmParams, R: WasmResults> TypedFunc<P, R> {
    /// Calls the function.
    pub fn call(&self, store: impl AsStoreMut, params: P) -> Result<R, Error> {
        let params = params.into_vals();
        let mut results = vec![Val::I32(0); R::len()];
        self.func.call(store, &params, &mut results)?;
        Ok(R::from_vals(&results))
    }

    /// The untyped function.
    pub fn func(&self) -> Func {
        self.func
    }
}

/// A Rust type that is one Wasm value.
pub trait WasmTy: Sized {
    /// Its Wasm type.
    fn val_type() -> crate::types::ValType;
    /// To a `Val`.
    fn to_val(self) -> Val;
    /// From a `Val` of the right type.
    fn from_val(v: &Val) -> Self;
}

macro_rules! wasm_ty {
    ($t:ty, $vt:ident, $v:ident, $to:expr, $from:expr) => {
        impl WasmTy for $t {
            fn val_type() -> crate::types::ValType {
                crate::types::ValType::$vt
            }
            fn to_val(self) -> Val {
                let f: fn($t) -> Val = $to;
                f(self)
            }
            fn from_val(v: &Val) -> Self {
                match v {
                    Val::$v(x) => {
                        let f: fn(_) -> $t = $from;
                        f(*x)
                    }
                    _ => unreachable!("checked by TypedFunc"),
                }
            }
        }
    };
}
wasm_ty!(i32, I32, I32, Val::I32, |x| x);
wasm_ty!(u32, I32, I32, |x| Val::I32(x as i32), |x: i32| x as u32);
wasm_ty!(i64, I64, I64, Val::I64, |x| x);
wasm_ty!(u64, I64, I64, |x| Val::I64(x as i64), |x: i64| x as u64);
wasm_ty!(f32, F32, F32, |x| Val::F32(x.to_bits()), f32::from_bits);
wasm_ty!(f64, F64, F64, |x| Val::F64(x.to_bits()), f64::from_bits);
wasm_ty!(u128, V128, V128, Val::V128, |x| x);

/// Parameters of a typed function.
pub trait WasmParams {
    /// Whether the types match.
    fn matches(tys: &[crate::types::ValType]) -> bool;
    /// As values.
    fn into_vals(self) -> Vec<Val>;
}

/// Results of a typed function.
pub trait WasmResults: Sized {
    /// Whether the types match.
    fn matches(tys: &[crate::types::ValType]) -> bool;
    /// Number of results.
    fn len() -> usize;
    /// From values.
    fn from_vals(v: &[Val]) -> Self;
}

impl<A: WasmTy> WasmParams for A {
    fn matches(tys: &[crate::types::ValType]) -> bool {
        tys == [A::val_type()]
    }
    fn into_vals(self) -> Vec<Val> {
        vec![self.to_val()]
    }
}

impl<A: WasmTy> WasmResults for A {
    fn matches(tys: &[crate::types::ValType]) -> bool {
        tys == [A::val_type()]
    }
    fn len() -> usize {
        1
    }
    fn from_vals(v: &[Val]) -> Self {
        A::from_val(&v[0])
    }
}

macro_rules! tuples {
    ($($n:tt $t:ident),*) => {
        impl<$($t: WasmTy),*> WasmParams for ($($t,)*) {
            fn matches(tys: &[crate::types::ValType]) -> bool {
                tys == [$($t::val_type()),*]
            }
            fn into_vals(self) -> Vec<Val> {
                vec![$(self.$n.to_val()),*]
            }
        }
        impl<$($t: WasmTy),*> WasmResults for ($($t,)*) {
            fn matches(tys: &[crate::types::ValType]) -> bool {
                tys == [$($t::val_type()),*]
            }
            fn len() -> usize {
                <[&str]>::len(&[$(stringify!($t)),*])
            }
            #[allow(unused_variables, clippy::unused_unit)]
            fn from_vals(v: &[Val]) -> Self {
                ($($t::from_val(&v[$n]),)*)
            }
        }
    };
}
tuples!();
tuples!(0 A);
tuples!(0 A, 1 B);
tuples!(0 A, 1 B, 2 C);
tuples!(0 A, 1 B, 2 C, 3 D);
tuples!(0 A, 1 B, 2 C, 3 D, 4 E);
tuples!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
