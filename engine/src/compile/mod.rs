//! Compiling a validated module to native code: translate each function to
//! Cranelift IR, compile, lay the functions out in one code mapping, patch
//! calls between them, and publish trap tables and unwind information.

pub mod cache;
pub(crate) mod entry_glue;
pub(crate) mod env;
mod exceptions;
pub(crate) mod late;
mod simd;
mod stack_switching;
mod translate;
pub(crate) mod unwind_info;

use std::sync::Arc;

use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{
    Context, ExceptionContextLoc, FinalizedMachExceptionHandler, FinalizedRelocTarget,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::error::Error;
use crate::module_info::ModuleInfo;
use crate::types::TypeInterner;
use crate::vm::code_lookup::{self, CallSite, CallSiteHandler, CodeInfo};
use crate::vm::code_memory::CodeMemory;
use crate::vm::layout::VMOffsets;
use env::{ModuleEnv, from_clif_trap, wasm_signature};

/// What a relocation refers to.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
enum RelocTarget {
    /// A function of the module (a function index).
    Func(u32),
    Late(late::LateConst),
}

/// One function's compiled code before placement (what the cache keeps).
#[derive(serde::Serialize, serde::Deserialize)]
struct CompiledFunction {
    code: Vec<u8>,
    /// `(offset in function, kind, target, addend)`.
    relocs: Vec<(u32, Reloc, RelocTarget, i64)>,
    traps: Vec<(u32, u8)>,
    /// `try_call` sites, offsets relative to the function.
    call_sites: Vec<CallSite>,
    /// `(code offset, module offset)` relative to the function.
    source_map: Vec<(u32, u32)>,
    unwind: Option<unwind_info::FunctionCfi>,
    /// Where Wasm locals live, for debuggers (empty unless asked for;
    /// modules that ask are not cached).
    #[serde(skip)]
    value_labels: Vec<crate::debug::LabelRange>,
}

/// A module's code, mapped executable and registered.
pub(crate) struct CompiledModule {
    /// gdb's description of the code; withdrawn before the code goes.
    _debug: Option<crate::debug::DebugRegistration>,
    /// The registry's code map entry; dropped before what it names.
    _registry: crate::vm::registry::CodeRegistration,
    code: CodeMemory,
    /// Code offset of each defined function.
    func_offsets: Vec<u32>,
    /// Registered `.eh_frame` for the module's functions.
    _unwind: Option<unwind_info::UnwindRegistration>,
    info: Arc<CodeInfo>,
    /// Whether the functions came from the compilation cache.
    pub from_cache: bool,
}

impl CompiledModule {
    /// Address of defined function `func_index` (a function index).
    pub fn func_address(&self, info: &ModuleInfo, func_index: u32) -> usize {
        let defined = func_index - info.num_imported_funcs;
        self.code.base() + self.func_offsets[defined as usize] as usize
    }
}

impl Drop for CompiledModule {
    fn drop(&mut self) {
        code_lookup::withdraw(self.info.end);
    }
}

/// Compiles every function of a module.
pub(crate) fn compile_module(
    isa: &dyn TargetIsa,
    interner: &TypeInterner,
    info: &ModuleInfo,
    bytes: &[u8],
    display_name: &str,
    cont_bodies: &std::collections::HashMap<u32, usize>,
    config: &crate::config::Config,
) -> Result<CompiledModule, Error> {
    let offsets = VMOffsets::new(info);
    let env = ModuleEnv {
        frontend: isa.frontend_config(),
        info,
        offsets: &offsets,
        interner,
        libcall_switching: config.switching == crate::config::SwitchingMode::Libcall,
        switch_events: config.report_switch_events,
        missing_simd_features: simd::missing_host_features(isa),
    };
    let labels = crate::debug::wants_variables(bytes);
    // Modules read under a debugger keep where each local lives, which the
    // cache does not hold.
    let cache = config
        .cache_dir
        .as_deref()
        .filter(|_| !labels)
        .and_then(|dir| Some((dir, cache::key(isa, &codegen_settings(config), bytes)?)));
    // A developer asking for the generated code (SWITCHYARD_DISASM) gets it
    // printed by compiling.
    let cached = cache
        .filter(|_| std::env::var_os("SWITCHYARD_DISASM").is_none())
        .and_then(|(dir, key)| cache::load(dir, &key))
        .filter(|f| f.len() == info.bodies.len());
    let from_cache = cached.is_some();
    let functions = match cached {
        Some(functions) => functions,
        None => {
            let functions = compile_functions(isa, &env, bytes, labels)?;
            if let Some((dir, key)) = cache {
                cache::store(dir, &key, &functions);
            }
            functions
        }
    };
    let mut module = layout_module(
        isa,
        info,
        &offsets,
        bytes,
        display_name,
        cont_bodies,
        functions,
    )?;
    module.from_cache = from_cache;
    Ok(module)
}

/// Compiles every function, on as many threads as there are cores.
fn compile_functions(
    isa: &dyn TargetIsa,
    env: &ModuleEnv<'_>,
    bytes: &[u8],
    labels: bool,
) -> Result<Vec<CompiledFunction>, Error> {
    let info = env.info;
    let n = info.bodies.len();
    let threads = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(n.max(1));
    // Largest bodies first, each thread taking the next one when it is
    // free: with fixed halves, one thread could get most of libc's big
    // functions and the other finish early.
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(info.bodies[i as usize].len()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = |out: &mut Vec<(u32, Result<CompiledFunction, Error>)>| {
        let mut contexts = Contexts::default();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&i) = order.get(k) else { break };
            out.push((
                i,
                compile_function(isa, env, bytes, i, labels, &mut contexts),
            ));
        }
    };
    let mut done: Vec<(u32, Result<CompiledFunction, Error>)> = Vec::with_capacity(n);
    if threads <= 1 || n < 16 {
        work(&mut done);
    } else {
        std::thread::scope(|scope| {
            let helpers: Vec<_> = (1..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        work(&mut out);
                        out
                    })
                })
                .collect();
            work(&mut done);
            for h in helpers {
                match h.join() {
                    Ok(out) => done.extend(out),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
    }
    done.sort_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// The engine settings that code generation reads, as the cache key
/// takes them: all of them but where output and the cache go.
fn codegen_settings(config: &crate::config::Config) -> String {
    let mut c = config.clone();
    c.cache_dir = None;
    c.perf = Default::default();
    c.trace_creation = false;
    format!("{c:?}")
}

fn layout_module(
    isa: &dyn TargetIsa,
    info: &ModuleInfo,
    offsets: &VMOffsets,
    bytes: &[u8],
    display_name: &str,
    cont_bodies: &std::collections::HashMap<u32, usize>,
    functions: Vec<CompiledFunction>,
) -> Result<CompiledModule, Error> {
    // Lay out the functions, 16-byte aligned, with room for perf's view
    // of their unwinding data when a jitdump is written.
    let mut image = Vec::new();
    let mut func_offsets = Vec::with_capacity(functions.len());
    for f in &functions {
        while image.len() % 16 != 0 {
            image.push(0xcc);
        }
        func_offsets.push(image.len() as u32);
        image.extend_from_slice(&f.code);
        let room = crate::profiling::room_after_function(isa, f.code.len(), f.unwind.as_ref());
        image.extend(std::iter::repeat_n(0xcc, room));
    }
    // Every relocation's target, checked before the code is written (a
    // cached module's relocations come from a file): a function's offset
    // in the image (added to the code base) or a late constant's value.
    let mut targets = Vec::new();
    for f in &functions {
        for &(offset, kind, target, _) in &f.relocs {
            let width = if kind == Reloc::Abs8 { 8 } else { 4 };
            if (offset as usize + width) > f.code.len() {
                return Err(Error::Compile("a relocation outside its function".into()));
            }
            targets.push(match target {
                RelocTarget::Func(index) => index
                    .checked_sub(info.num_imported_funcs)
                    .and_then(|d| func_offsets.get(d as usize))
                    .map(|&o| (o as i64, true))
                    .ok_or_else(|| Error::Compile("a call to no function of the module".into()))?,
                RelocTarget::Late(c) if kind == Reloc::Abs8 => c
                    .value(info, cont_bodies)
                    .map(|v| (v as i64, false))
                    .ok_or_else(|| Error::Compile(format!("no value for {c:?}")))?,
                RelocTarget::Late(_) => {
                    return Err(Error::Compile(
                        "a late constant in a relative relocation".into(),
                    ));
                }
            });
        }
    }
    let code = CodeMemory::new(&image, |bytes, base| {
        let mut targets = targets.iter();
        for (f, &start) in functions.iter().zip(&func_offsets) {
            for &(offset, kind, _, addend) in &f.relocs {
                let at = (start + offset) as usize;
                let &(target, from_code_base) = targets.next().expect("one target per relocation");
                let value = match kind {
                    Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
                        (target + addend - at as i64) as i32 as u32 as u64
                    }
                    Reloc::Abs8 if from_code_base => (base as i64 + target + addend) as u64,
                    Reloc::Abs8 => (target + addend) as u64,
                    _ => unreachable!("relocation kinds are checked at compile time"),
                };
                let width = if kind == Reloc::Abs8 { 8 } else { 4 };
                bytes[at..at + width].copy_from_slice(&value.to_le_bytes()[..width]);
            }
        }
    })
    .map_err(|e| Error::Compile(format!("cannot map code: {e}")))?;

    let mut traps = Vec::new();
    let mut funcs = Vec::new();
    let mut call_sites = Vec::new();
    let mut source_map = Vec::new();
    for (i, (f, &start)) in functions.iter().zip(&func_offsets).enumerate() {
        source_map.extend(f.source_map.iter().map(|&(o, w)| [start + o, w]));
        traps.extend(f.traps.iter().map(|&(o, c)| (start + o, c)));
        call_sites.extend(f.call_sites.iter().map(|c| {
            CallSite {
                ret_offset: start + c.ret_offset,
                frame_offset: c.frame_offset,
                handlers: c
                    .handlers
                    .iter()
                    .map(|h| match *h {
                        CallSiteHandler::Tag(t, o) => CallSiteHandler::Tag(t, start + o),
                        CallSiteHandler::Default(o) => CallSiteHandler::Default(start + o),
                        other => other,
                    })
                    .collect(),
            }
        }));
        funcs.push((
            start,
            start + f.code.len() as u32,
            info.num_imported_funcs + i as u32,
        ));
    }
    let function_names = funcs
        .iter()
        .map(|&(_, _, index)| Arc::from(info.func_name(index)))
        .collect();
    let code_info = Arc::new(CodeInfo {
        start: code.base(),
        end: code.base() + image.len().max(1),
        module_name: Arc::from(display_name),
        traps,
        functions: funcs,
        function_names,
        call_sites,
        source_map,
        tag_slots: (0..info.tags.len() as u32)
            .map(|t| offsets.tag(t))
            .collect(),
    });
    code_lookup::publish(code_info.clone());
    if crate::profiling::enabled() {
        let unwind = functions.iter().map(|f| f.unwind.as_ref());
        crate::profiling::publish_module(isa, &code_info, bytes, unwind);
    }
    let unwind = unwind_info::UnwindRegistration::new(
        isa,
        functions.iter().zip(&func_offsets).filter_map(|(f, &o)| {
            Some((code.base() + o as usize, f.code.len(), f.unwind.as_ref()?))
        }),
    );
    // The registry entry points at the `.eh_frame`; `CompiledModule` drops
    // the entry before the section.
    let eh_frame = unwind.as_ref().map_or(&[][..], |u| u.bytes());
    let registration = crate::vm::registry::add_code(&code_info, bytes, eh_frame, offsets.table(0));
    let value_labels: Vec<_> = functions.iter().map(|f| f.value_labels.clone()).collect();
    let vm_layout = crate::debug::VmLayout {
        memory: (!info.memories.is_empty()).then(|| offsets.memory(0)),
        globals: (0..info.globals.len() as u32)
            .map(|g| offsets.global(g))
            .collect(),
    };
    let debug = crate::debug::register(
        &code_info,
        bytes,
        unwind.as_ref().map(|u| u.bytes()),
        &value_labels,
        &vm_layout,
    );
    Ok(CompiledModule {
        _debug: debug,
        _registry: registration,
        code,
        func_offsets,
        _unwind: unwind,
        info: code_info,
        from_cache: false,
    })
}

/// Cranelift's working memory, kept by each compiling thread from one
/// function to the next so that its allocations are reused.
struct Contexts {
    func: Context,
    builder: FunctionBuilderContext,
}

impl Default for Contexts {
    fn default() -> Contexts {
        Contexts {
            func: Context::new(),
            builder: FunctionBuilderContext::new(),
        }
    }
}

fn compile_function(
    isa: &dyn TargetIsa,
    env: &ModuleEnv<'_>,
    bytes: &[u8],
    defined_index: u32,
    value_labels_wanted: bool,
    contexts: &mut Contexts,
) -> Result<CompiledFunction, Error> {
    let info = env.info;
    let func_index = info.num_imported_funcs + defined_index;
    let range = info.bodies[defined_index as usize].clone();
    let body = wasmparser::FunctionBody::new(wasmparser::BinaryReader::new(
        &bytes[range.clone()],
        range.start,
    ));
    let sig = wasm_signature(env.func_sig(func_index));
    let Contexts {
        func: ctx,
        builder: builder_ctx,
    } = contexts;
    ctx.clear();
    ctx.func = ir::Function::with_name_signature(UserFuncName::user(0, func_index), sig);
    if value_labels_wanted {
        ctx.func.collect_debug_info();
    }
    let builder = FunctionBuilder::new(&mut ctx.func, builder_ctx);
    translate::FuncTranslator::new(env, builder).translate(func_index, &body)?;

    let named = ctx.func.params.user_named_funcs().clone();
    // For engine developers: SWITCHYARD_DISASM=1 prints each function's
    // machine code as Cranelift sees it.
    let disasm = std::env::var_os("SWITCHYARD_DISASM").is_some();
    ctx.set_disasm(disasm);
    let compiled = ctx
        .compile(isa, &mut ControlPlane::default())
        .map_err(|e| {
            Error::Compile(format!(
                "compiling {}: {:?}",
                info.func_name(func_index),
                e.inner
            ))
        })?;
    if disasm && let Some(text) = &compiled.vcode {
        eprintln!("; {}\n{text}", info.func_name(func_index));
    }
    let mut relocs = Vec::new();
    for r in compiled.buffer.relocs() {
        let FinalizedRelocTarget::ExternalName(ir::ExternalName::User(name)) = r.target else {
            return Err(Error::Compile(format!(
                "unexpected relocation target {:?}",
                r.target
            )));
        };
        let name = &named[name];
        let target = match late::LateConst::from_name(name) {
            Some(c) => RelocTarget::Late(c),
            None => RelocTarget::Func(name.index),
        };
        if !matches!(
            r.kind,
            Reloc::X86CallPCRel4 | Reloc::X86PCRel4 | Reloc::Abs8
        ) {
            return Err(Error::Compile(format!(
                "unexpected relocation kind {:?}",
                r.kind
            )));
        }
        relocs.push((r.offset, r.kind, target, r.addend));
    }
    let mut traps = Vec::new();
    for t in compiled.buffer.traps() {
        if let Some(code) = from_clif_trap(t.code) {
            traps.push((t.offset, code.to_byte()));
        }
    }
    traps.sort();
    let mut call_sites = Vec::new();
    for site in compiled.buffer.call_sites() {
        if site.exception_handlers.is_empty() {
            continue;
        }
        let Some(frame_offset) = site.frame_offset else {
            return Err(Error::Compile(
                "a try_call site without a frame offset".into(),
            ));
        };
        let mut handlers = Vec::new();
        for h in site.exception_handlers {
            handlers.push(match *h {
                FinalizedMachExceptionHandler::Tag(tag, offset) => {
                    CallSiteHandler::Tag(tag.as_u32(), offset)
                }
                FinalizedMachExceptionHandler::Default(offset) => CallSiteHandler::Default(offset),
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::SPOffset(off)) => {
                    CallSiteHandler::ContextAtSp(off)
                }
                FinalizedMachExceptionHandler::Context(ExceptionContextLoc::GPR(r)) => {
                    CallSiteHandler::ContextInRegister(r)
                }
            });
        }
        call_sites.push(CallSite {
            ret_offset: site.ret_addr,
            frame_offset,
            handlers,
        });
    }
    let mut source_map = Vec::new();
    for loc in compiled.buffer.get_srclocs_sorted() {
        if !loc.loc.is_default() && source_map.last().is_none_or(|&(_, w)| w != loc.loc.bits()) {
            source_map.push((loc.start, loc.loc.bits()));
        }
    }
    let stack_checks = crate::debug::places::islands(compiled.code_buffer(), &traps)
        .iter()
        .filter(|&&(_, code)| code == crate::error::TrapCode::StackOverflow.to_byte())
        .map(|&(offset, _)| offset)
        .collect();
    let unwind = compiled
        .create_unwind_info(isa)
        .map_err(|e| Error::Compile(format!("unwind info: {e:?}")))?
        .map(|info| unwind_info::FunctionCfi { info, stack_checks });
    let mut value_labels = label_ranges(isa, &compiled.value_labels_ranges);
    if value_labels_wanted {
        places_beyond_ranges(compiled, &traps, &mut value_labels);
    }
    Ok(CompiledFunction {
        code: compiled.code_buffer().to_vec(),
        relocs,
        traps,
        call_sites,
        source_map,
        unwind,
        value_labels,
    })
}

/// Cranelift's value-label ranges with DWARF register numbers, sorted.
fn label_ranges(
    isa: &dyn TargetIsa,
    ranges: &cranelift_codegen::ValueLabelsRanges,
) -> Vec<crate::debug::LabelRange> {
    use crate::debug::{LabelRange, Place};
    use cranelift_codegen::LabelValueLoc;
    let mut out: Vec<LabelRange> = ranges
        .iter()
        .flat_map(|(label, ranges)| {
            ranges.iter().filter_map(move |r| {
                let place = match r.loc {
                    LabelValueLoc::Reg(reg) => {
                        Place::Register(isa.map_regalloc_reg_to_dwarf(reg).ok()?)
                    }
                    LabelValueLoc::CFAOffset(offset) => Place::Frame(offset),
                };
                Some(LabelRange {
                    label: label.as_u32(),
                    start: r.start,
                    end: r.end,
                    place,
                })
            })
        })
        .collect();
    out.sort_by_key(|r| (r.label, r.start));
    out
}

/// Under a debugger: where labelled values live beyond Cranelift's
/// ranges (`debug::places`): at the out-of-line `ud2` of each trap, and
/// in the frame slots `translate` keeps the VM context and locals in.
fn places_beyond_ranges(
    compiled: &cranelift_codegen::CompiledCode,
    traps: &[(u32, u8)],
    ranges: &mut Vec<crate::debug::LabelRange>,
) {
    use crate::error::TrapCode;
    let code = compiled.code_buffer();
    // The trap codes `translate` emits with Cranelift's `trap` (an inline
    // `ud2`, which code can also fall through to).
    let inline =
        |c: u8| c == TrapCode::Unreachable.to_byte() || c == TrapCode::UnhandledTag.to_byte();
    let body_end = crate::debug::places::islands(code, traps)
        .first()
        .map_or(code.len() as u32, |&(t, _)| t);
    // The prologue's stores into the slots of `translate::keep_in_frame`
    // end at the sequence point tagged with a slot.
    let stored = compiled.buffer.debug_tags().find_map(|list| {
        list.tags.iter().find_map(|tag| match tag {
            ir::DebugTag::StackSlot(_) => Some(list.offset),
            ir::DebugTag::User(_) => None,
        })
    });
    if let (Some(from), Some(layout)) = (stored, compiled.buffer.frame_layout()) {
        for (_, slot) in layout.stackslots.iter() {
            let Some(key) = slot.key else { continue };
            // The slot is `offset` above the stack pointer, the frame
            // pointer `frame_to_fp_offset` above it, and the CFA (the
            // caller's sp) 16 above that (saved rbp, return address).
            let cfa_offset = i64::from(slot.offset) - i64::from(layout.frame_to_fp_offset) - 16;
            crate::debug::places::in_frame(ranges, key.bits() as u32, from..body_end, cfa_offset);
        }
    }
    // After the slots: a trap island gets a slot's place only if every
    // jump to it has it (the stack check's jump comes before the stores).
    crate::debug::places::trap_islands(ranges, code, traps, inline);
    ranges.sort_by_key(|r| (r.label, r.start));
}
