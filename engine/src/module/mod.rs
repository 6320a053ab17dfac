//! Modules: bytes validated, parsed and compiled, ready to instantiate.

use std::path::Path;
use std::sync::Arc;

use wasmparser::{Validator, WasmFeatures};

use crate::compile::{self, CompiledModule};
use crate::engine::Engine;
use crate::error::Error;
use crate::module_info::{ExportIndex, ModuleInfo};
use crate::types::{ExternType, FuncType};
use switchyard_frames::display_name;

/// The proposals Switchyard accepts on top of WebAssembly 2.0 (memory64
/// covers 64-bit memories and 64-bit tables).
pub fn supported_features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::FUNCTION_REFERENCES
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::GC_TYPES
        | WasmFeatures::GC
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::STACK_SWITCHING
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::MEMORY64
}

pub(crate) struct ModuleInner {
    // Dropped first: the registry entry in it points into `bytes`.
    pub compiled: CompiledModule,
    pub engine: Engine,
    pub bytes: Arc<[u8]>,
    pub info: Arc<ModuleInfo>,
    pub name: String,
}

/// A compiled module.
#[derive(Clone)]
pub struct Module(pub(crate) Arc<ModuleInner>);

impl Module {
    /// Whether this module's code came from the compilation cache
    /// ([`Config::cache_dir`](crate::Config::cache_dir)) instead of being
    /// compiled.
    pub fn from_cache(&self) -> bool {
        self.0.compiled.from_cache
    }

    /// Compiles a module from binary or text.
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module, Error> {
        Module::with_name(engine, bytes.as_ref(), None)
    }

    /// Reads and compiles a `.wasm` or `.wat` file.
    pub fn from_file(engine: &Engine, path: impl AsRef<Path>) -> Result<Module, Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        Module::with_name(engine, &bytes, name)
    }

    fn with_name(engine: &Engine, bytes: &[u8], name: Option<String>) -> Result<Module, Error> {
        let bytes = if bytes.starts_with(b"\0asm") {
            bytes.to_vec()
        } else {
            wat::parse_bytes(bytes)
                .map_err(|e| Error::Text(one_line_text_error(&e)))?
                .into_owned()
        };
        let mut validator = Validator::new_with_features(supported_features());
        if let Err(e) = validator.validate_all(&bytes) {
            let mut message = e.message().to_string();
            if message.contains("support is not enabled")
                || message.contains("proposal not enabled")
            {
                message = format!("unsupported feature: {message}");
            }
            return Err(Error::Invalid {
                message,
                offset: e.offset(),
            });
        }
        // Shared with the instances (data segments) and pointed into by the
        // registry's code map, so it never moves from here on.
        let bytes: Arc<[u8]> = bytes.into();
        let info = {
            let mut interner = engine.0.interner.write().unwrap_or_else(|e| e.into_inner());
            ModuleInfo::parse(&bytes, &mut interner)?
        };
        // The name section's name is escaped already; a file name is not.
        let name = info
            .name
            .clone()
            .or_else(|| name.map(|n| display_name(&n).into_owned()))
            .unwrap_or_else(|| "<module>".to_string());
        // Switches and exceptions carry their values in fixed-size buffers
        // of words (a v128 takes two).
        {
            use crate::types::words_of;
            use crate::vm::stack_switching::continuation::MAX_PAYLOAD;
            let too_many = |f: &FuncType| {
                words_of(f.params()) > MAX_PAYLOAD || words_of(f.results()) > MAX_PAYLOAD
            };
            for (index, &id) in info.types.iter().enumerate() {
                let is_cont = matches!(
                    engine
                        .0
                        .interner
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(id),
                    crate::types::CompositeType::Cont(_)
                );
                if is_cont && too_many(&engine.func_type(id)) {
                    return Err(Error::Compile(format!(
                        "unsupported feature: continuation type {index} carries more than \
                         {MAX_PAYLOAD} words of values"
                    )));
                }
            }
            for (index, &ty) in info.tags.iter().enumerate() {
                if too_many(&engine.func_type(info.types[ty as usize])) {
                    return Err(Error::Compile(format!(
                        "unsupported feature: tag {index} carries more than {MAX_PAYLOAD} words \
                         of values"
                    )));
                }
            }
        }
        // Continuations start in a per-signature body adapter whose address
        // generated code embeds, so compile those first.
        let mut cont_bodies = std::collections::HashMap::new();
        for (index, &id) in info.types.iter().enumerate() {
            let cont_of = {
                let interner = engine.0.interner.read().unwrap_or_else(|e| e.into_inner());
                match interner.get(id) {
                    crate::types::CompositeType::Cont(f) => Some(*f),
                    crate::types::CompositeType::Func(_) => None,
                }
            };
            if let Some(f) = cont_of {
                cont_bodies.insert(index as u32, engine.entry_glue(f)?.cont_body);
            }
        }
        let compiled = {
            let interner = engine.0.interner.read().unwrap_or_else(|e| e.into_inner());
            compile::compile_module(
                &*engine.0.isa,
                &interner,
                &info,
                &bytes,
                &name,
                &cont_bodies,
                engine.config(),
            )?
        };
        Ok(Module(Arc::new(ModuleInner {
            engine: engine.clone(),
            bytes,
            info: Arc::new(info),
            compiled,
            name,
        })))
    }

    /// The module's display name (name section, else file name), with
    /// control characters escaped ([`display_name`]).
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The module's imports: module name, field name, expected type.
    pub fn imports(&self) -> impl Iterator<Item = (&str, &str, &ExternType)> {
        self.0
            .info
            .imports
            .iter()
            .map(|i| (i.module.as_str(), i.name.as_str(), &i.ty))
    }

    /// The module's exports: name and type.
    pub fn exports(&self) -> impl Iterator<Item = (&str, ExternType)> + '_ {
        self.0
            .info
            .exports
            .iter()
            .map(|(name, index)| (name.as_str(), self.export_type(*index)))
    }

    fn export_type(&self, index: ExportIndex) -> ExternType {
        let info = &self.0.info;
        match index {
            ExportIndex::Func(f) => ExternType::Func(info.funcs[f as usize].type_id),
            ExportIndex::Table(t) => ExternType::Table(info.tables[t as usize].ty),
            ExportIndex::Memory(m) => ExternType::Memory(info.memories[m as usize]),
            ExportIndex::Global(g) => ExternType::Global(info.globals[g as usize].ty),
            ExportIndex::Tag(t) => ExternType::Tag(info.types[info.tags[t as usize] as usize]),
        }
    }

    /// The signature of an exported function.
    pub fn export_func_type(&self, name: &str) -> Option<FuncType> {
        match self.0.info.export_map.get(name)? {
            ExportIndex::Func(f) => Some(
                self.0
                    .engine
                    .func_type(self.0.info.funcs[*f as usize].type_id),
            ),
            _ => None,
        }
    }

    /// The engine that compiled this module.
    pub fn engine(&self) -> &Engine {
        &self.0.engine
    }

    /// Parsed module information.
    pub fn info(&self) -> &ModuleInfo {
        &self.0.info
    }

    /// The module's binary.
    pub fn bytes(&self) -> &[u8] {
        &self.0.bytes
    }
}

/// `wat` renders errors with a source snippet over several lines; tools
/// want one line: "text format error at 3:7: expected `(`".
fn one_line_text_error(e: &wat::Error) -> String {
    let text = e.to_string();
    let mut lines = text.lines();
    let message = lines.next().unwrap_or("malformed text").trim();
    let location = lines
        .find_map(|l| l.trim().strip_prefix("--> "))
        .and_then(|l| {
            let mut parts = l.rsplitn(3, ':');
            let col = parts.next()?;
            let line = parts.next()?;
            Some(format!("{line}:{col}"))
        });
    match location {
        Some(at) => format!("text format error at {at}: {message}"),
        None => format!("text format error: {message}"),
    }
}
