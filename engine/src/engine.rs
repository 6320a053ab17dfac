//! The engine: the compiler for the host, the engine's settings, the
//! canonical type interner and the per-signature glue shared by every
//! module and store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

use crate::compile::entry_glue::EntryGlue;
use crate::config::Config;
use crate::error::Error;
use crate::types::{CompositeType, FuncType, TypeId, TypeInterner};

pub(crate) struct EngineInner {
    pub isa: OwnedTargetIsa,
    pub config: Config,
    pub interner: RwLock<TypeInterner>,
    entry_glue: Mutex<HashMap<TypeId, Arc<EntryGlue>>>,
}

/// Compiles modules; shared by the stores that run them.
#[derive(Clone)]
pub struct Engine(pub(crate) Arc<EngineInner>);

impl Engine {
    /// An engine with `config`.
    pub fn new(config: &Config) -> Result<Engine, Error> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| Error::Compile(format!("setting {k}={v}: {e}")))
        };
        set(&mut flags, "opt_level", &config.opt_level)?;
        set(&mut flags, "preserve_frame_pointers", "true")?;
        set(&mut flags, "unwind_info", "true")?;
        set(&mut flags, "stack_switch_model", "basic")?;
        set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
        set(
            &mut flags,
            "enable_verifier",
            if cfg!(debug_assertions) {
                "true"
            } else {
                "false"
            },
        )?;
        crate::profiling::enable(config.perf)?;
        let isa_builder = cranelift_native::builder()
            .map_err(|e| Error::Compile(format!("unsupported host: {e}")))?;
        let isa = isa_builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| Error::Compile(format!("unsupported host: {e}")))?;
        Ok(Engine(Arc::new(EngineInner {
            isa,
            config: config.clone(),
            interner: RwLock::new(TypeInterner::default()),
            entry_glue: Mutex::new(HashMap::new()),
        })))
    }

    /// The engine's settings.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// Gives a host-made function type its canonical id.
    pub fn register_func_type(&self, ty: &FuncType) -> TypeId {
        self.0
            .interner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .register_func(ty)
    }

    /// The function type of canonical id `id` (the wrapped function type for
    /// a continuation type).
    pub fn func_type(&self, id: TypeId) -> FuncType {
        let interner = self.0.interner.read().unwrap_or_else(|e| e.into_inner());
        let mut id = id;
        loop {
            match interner.get(id) {
                CompositeType::Func(f) => return f.clone(),
                CompositeType::Cont(f) => id = *f,
            }
        }
    }

    /// The glue code for signature `id`, compiled on first use.
    pub(crate) fn entry_glue(&self, id: TypeId) -> Result<Arc<EntryGlue>, Error> {
        let mut cache = self.0.entry_glue.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = cache.get(&id) {
            return Ok(t.clone());
        }
        let ty = self.func_type(id);
        let t = Arc::new(EntryGlue::new(&*self.0.isa, &ty)?);
        cache.insert(id, t.clone());
        Ok(t)
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new(&Config::default()).expect("the host supports the default configuration")
    }
}
