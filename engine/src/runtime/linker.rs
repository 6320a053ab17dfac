//! The linker: names for host functions and instances, resolved when a
//! module is instantiated.

use std::collections::HashMap;
use std::sync::Arc;

use super::externals::Extern;
use super::func::Func;
use super::instance::Instance;
use super::store::{AsStoreMut, Caller, HostFn};
use super::values::Val;
use crate::engine::Engine;
use crate::error::Error;
use crate::module::Module;
use crate::types::FuncType;

enum Definition<T> {
    Extern(Extern),
    /// A host function not yet created in a store.
    HostFunc(FuncType, HostFn<T>),
}

/// Resolves imports by `(module, name)`.
pub struct Linker<T> {
    engine: Engine,
    defs: HashMap<(String, String), Definition<T>>,
    /// Module names whose missing fields fall back to a trapping stub.
    _engine_check: (),
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Linker<T> {
        Linker {
            engine: engine.clone(),
            defs: HashMap::new(),
            _engine_check: (),
        }
    }

    /// Defines a host function.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> &mut Self {
        self.defs.insert(
            (module.into(), name.into()),
            Definition::HostFunc(ty, Arc::new(f)),
        );
        self
    }

    /// Defines an item.
    pub fn define(&mut self, module: &str, name: &str, item: Extern) -> &mut Self {
        self.defs
            .insert((module.into(), name.into()), Definition::Extern(item));
        self
    }

    /// Defines every export of `instance` under `module`.
    pub fn instance(
        &mut self,
        store: impl AsStoreMut<Data = T>,
        module: &str,
        instance: Instance,
    ) -> &mut Self {
        for (name, ext) in instance.exports(store) {
            self.define(module, &name, ext);
        }
        self
    }

    /// Whether `(module, name)` is defined.
    pub fn is_defined(&self, module: &str, name: &str) -> bool {
        self.defs
            .contains_key(&(module.to_string(), name.to_string()))
    }

    /// Resolves the imports of `module` and instantiates it.
    pub fn instantiate(
        &self,
        mut store: impl AsStoreMut<Data = T>,
        module: &Module,
    ) -> Result<Instance, Error> {
        if !std::ptr::eq(&*module.engine().0, &*self.engine.0) {
            return Err(Error::Link(
                "module and linker belong to different engines".into(),
            ));
        }
        let mut imports = Vec::new();
        for (m, n, _) in module.imports() {
            let ext = match self.defs.get(&(m.to_string(), n.to_string())) {
                Some(Definition::Extern(e)) => *e,
                Some(Definition::HostFunc(ty, f)) => {
                    let f = f.clone();
                    Extern::Func(Func::new(&mut store, ty.clone(), move |c, p, r| {
                        f(c, p, r)
                    })?)
                }
                None => {
                    return Err(Error::Link(format!(
                        "unknown import: `{m}::{n}` has not been defined"
                    )));
                }
            };
            imports.push(ext);
        }
        Instance::new(store, module, &imports)
    }
}
