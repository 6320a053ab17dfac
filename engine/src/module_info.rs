//! What the engine needs to know about a module, read once from its bytes
//! after validation: index spaces, segments, exports and names.

use std::collections::HashMap;
use std::ops::Range;

use wasmparser::{
    CompositeInnerType, ElementItems, ElementKind, ExternalKind, Operator, Parser, Payload, TypeRef,
};

use crate::error::Error;
use crate::types::{
    AddrType, CompositeType, ExternType, GlobalType, HeapType, Limits, MemoryType,
    ModuleCompositeType, ModuleValType, RefType, TableType, TypeId, TypeInterner, ValType,
};
use switchyard_frames::display_name;

/// A constant expression, evaluated at instantiation.
#[derive(Clone, Debug)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull,
    RefFunc(u32),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

/// A constant expression.
#[derive(Clone, Debug, Default)]
pub struct ConstExpr(pub Vec<ConstOp>);

/// One function of the module's function index space.
#[derive(Clone, Debug)]
pub struct FuncDecl {
    /// Module type index of its signature.
    pub type_index: u32,
    /// Canonical id of its signature.
    pub type_id: TypeId,
}

/// A table declaration.
#[derive(Clone, Debug)]
pub struct TableDecl {
    pub ty: TableType,
    /// Initial value of each element (typed function references allow one).
    pub init: Option<ConstExpr>,
}

/// A global declaration; imported globals have no initializer.
#[derive(Clone, Debug)]
pub struct GlobalDecl {
    pub ty: GlobalType,
    pub init: Option<ConstExpr>,
}

/// An import, in module order.
#[derive(Clone, Debug)]
pub struct Import {
    pub module: String,
    pub name: String,
    /// The type the module expects.
    pub ty: ExternType,
}

/// What an export refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportIndex {
    Func(u32),
    Table(u32),
    Memory(u32),
    Global(u32),
    Tag(u32),
}

/// How an element segment is used.
#[derive(Clone, Debug)]
pub enum ElementMode {
    Passive,
    Declared,
    Active { table: u32, offset: ConstExpr },
}

/// An element segment.
#[derive(Clone, Debug)]
pub struct ElementSegment {
    pub mode: ElementMode,
    pub items: Vec<ConstExpr>,
}

/// How a data segment is used.
#[derive(Clone, Debug)]
pub enum DataMode {
    Passive,
    Active { memory: u32, offset: ConstExpr },
}

/// A data segment; its bytes stay in the module's byte buffer.
#[derive(Clone, Debug)]
pub struct DataSegment {
    pub mode: DataMode,
    pub bytes: Range<usize>,
}

/// Everything about a module except its code.
#[derive(Debug, Default)]
pub struct ModuleInfo {
    /// Module type index → canonical id.
    pub types: Vec<TypeId>,
    /// Every function, imported ones first.
    pub funcs: Vec<FuncDecl>,
    /// How many of `funcs` are imported.
    pub num_imported_funcs: u32,
    /// Every table, imported ones first.
    pub tables: Vec<TableDecl>,
    /// How many of `tables` are imported.
    pub num_imported_tables: u32,
    /// Every linear memory, imported ones first.
    pub memories: Vec<MemoryType>,
    /// How many of `memories` are imported.
    pub num_imported_memories: u32,
    /// Every global, imported ones first.
    pub globals: Vec<GlobalDecl>,
    /// How many of `globals` are imported.
    pub num_imported_globals: u32,
    /// Tag index → module type index of its signature.
    pub tags: Vec<u32>,
    /// How many of `tags` are imported.
    pub num_imported_tags: u32,
    /// Imports in the order of the import section.
    pub imports: Vec<Import>,
    /// Exports in the order of the export section.
    pub exports: Vec<(String, ExportIndex)>,
    /// Exports by name.
    pub export_map: HashMap<String, ExportIndex>,
    /// The start function's index, if the module has one.
    pub start: Option<u32>,
    /// Element segments in module order.
    pub elements: Vec<ElementSegment>,
    /// Data segments in module order.
    pub data: Vec<DataSegment>,
    /// Byte ranges of the function bodies, by defined-function index.
    pub bodies: Vec<Range<usize>>,
    /// The module's name from the name section, escaped for display
    /// ([`display_name`]).
    pub name: Option<String>,
    /// Function names from the name section (else an export's), escaped
    /// for display.
    pub func_names: HashMap<u32, String>,
    /// Tag names from the name section, escaped for display.
    pub tag_names: HashMap<u32, String>,
    /// Custom sections by name (e.g. `.debug_info`).
    pub custom_sections: Vec<(String, Range<usize>)>,
}

impl ModuleInfo {
    /// Number of functions defined (not imported) by the module.
    pub fn num_defined_funcs(&self) -> u32 {
        self.funcs.len() as u32 - self.num_imported_funcs
    }

    /// Whether function `index` is imported.
    pub fn is_imported_func(&self, index: u32) -> bool {
        index < self.num_imported_funcs
    }

    /// A printable name for function `index`.
    pub fn func_name(&self, index: u32) -> String {
        match self.func_names.get(&index) {
            Some(name) => name.clone(),
            None => format!("wasm-function[{index}]"),
        }
    }

    /// Reads a validated module.
    pub(crate) fn parse(bytes: &[u8], interner: &mut TypeInterner) -> Result<ModuleInfo, Error> {
        let mut info = ModuleInfo::default();
        let mut pending_types: Vec<Option<ModuleCompositeType>> = Vec::new();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        let group = group?;
                        let start = info.types.len() as u32;
                        let mut composite = Vec::new();
                        for sub in group.types() {
                            if sub.supertype_idx.is_some() {
                                return Err(unsupported("declared subtypes (GC proposal)"));
                            }
                            composite.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) => ModuleCompositeType::Func {
                                    params: f
                                        .params()
                                        .iter()
                                        .map(|v| module_val(*v, start, interner))
                                        .collect::<Result<_, _>>()?,
                                    results: f
                                        .results()
                                        .iter()
                                        .map(|v| module_val(*v, start, interner))
                                        .collect::<Result<_, _>>()?,
                                },
                                CompositeInnerType::Cont(c) => {
                                    ModuleCompositeType::Cont(type_index(c.0.unpack(), start)?)
                                }
                                CompositeInnerType::Array(_) | CompositeInnerType::Struct(_) => {
                                    return Err(unsupported("GC struct and array types"));
                                }
                            });
                        }
                        let ids = interner.intern_group(start, &composite, &info.types);
                        info.types.extend(ids);
                        pending_types.extend(composite.into_iter().map(Some));
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        let ty = match import.ty {
                            TypeRef::Func(t) | TypeRef::FuncExact(t) => {
                                info.funcs.push(FuncDecl {
                                    type_index: t,
                                    type_id: info.types[t as usize],
                                });
                                info.num_imported_funcs += 1;
                                ExternType::Func(info.types[t as usize])
                            }
                            TypeRef::Table(t) => {
                                let ty = table_type(&t, &info.types, interner)?;
                                info.tables.push(TableDecl { ty, init: None });
                                info.num_imported_tables += 1;
                                ExternType::Table(ty)
                            }
                            TypeRef::Memory(m) => {
                                let ty = memory_type(&m)?;
                                info.memories.push(ty);
                                info.num_imported_memories += 1;
                                ExternType::Memory(ty)
                            }
                            TypeRef::Global(g) => {
                                let ty = global_type(&g, &info.types, interner)?;
                                info.globals.push(GlobalDecl { ty, init: None });
                                info.num_imported_globals += 1;
                                ExternType::Global(ty)
                            }
                            TypeRef::Tag(t) => {
                                info.tags.push(t.func_type_idx);
                                info.num_imported_tags += 1;
                                ExternType::Tag(info.types[t.func_type_idx as usize])
                            }
                        };
                        info.imports.push(Import {
                            module: import.module.to_string(),
                            name: import.name.to_string(),
                            ty,
                        });
                    }
                }
                Payload::FunctionSection(reader) => {
                    for t in reader {
                        let t = t?;
                        info.funcs.push(FuncDecl {
                            type_index: t,
                            type_id: info.types[t as usize],
                        });
                    }
                }
                Payload::TableSection(reader) => {
                    for table in reader {
                        let table = table?;
                        let ty = table_type(&table.ty, &info.types, interner)?;
                        let init = match table.init {
                            wasmparser::TableInit::RefNull => None,
                            wasmparser::TableInit::Expr(e) => Some(const_expr(&e)?),
                        };
                        info.tables.push(TableDecl { ty, init });
                    }
                }
                Payload::MemorySection(reader) => {
                    for m in reader {
                        info.memories.push(memory_type(&m?)?);
                    }
                }
                Payload::TagSection(reader) => {
                    for t in reader {
                        info.tags.push(t?.func_type_idx);
                    }
                }
                Payload::GlobalSection(reader) => {
                    for g in reader {
                        let g = g?;
                        let ty = global_type(&g.ty, &info.types, interner)?;
                        info.globals.push(GlobalDecl {
                            ty,
                            init: Some(const_expr(&g.init_expr)?),
                        });
                    }
                }
                Payload::ExportSection(reader) => {
                    for e in reader {
                        let e = e?;
                        let index = match e.kind {
                            ExternalKind::Func | ExternalKind::FuncExact => {
                                ExportIndex::Func(e.index)
                            }
                            ExternalKind::Table => ExportIndex::Table(e.index),
                            ExternalKind::Memory => ExportIndex::Memory(e.index),
                            ExternalKind::Global => ExportIndex::Global(e.index),
                            ExternalKind::Tag => ExportIndex::Tag(e.index),
                        };
                        info.exports.push((e.name.to_string(), index));
                        info.export_map.insert(e.name.to_string(), index);
                    }
                }
                Payload::StartSection { func, .. } => info.start = Some(func),
                Payload::ElementSection(reader) => {
                    for e in reader {
                        let e = e?;
                        let mode = match e.kind {
                            ElementKind::Passive => ElementMode::Passive,
                            ElementKind::Declared => ElementMode::Declared,
                            ElementKind::Active {
                                table_index,
                                offset_expr,
                            } => ElementMode::Active {
                                table: table_index.unwrap_or(0),
                                offset: const_expr(&offset_expr)?,
                            },
                        };
                        let items = match e.items {
                            ElementItems::Functions(r) => r
                                .into_iter()
                                .map(|f| Ok(ConstExpr(vec![ConstOp::RefFunc(f?)])))
                                .collect::<Result<Vec<_>, Error>>()?,
                            ElementItems::Expressions(_, r) => r
                                .into_iter()
                                .map(|e| const_expr(&e?))
                                .collect::<Result<Vec<_>, Error>>()?,
                        };
                        info.elements.push(ElementSegment { mode, items });
                    }
                }
                Payload::DataSection(reader) => {
                    for d in reader {
                        let d = d?;
                        let mode = match d.kind {
                            wasmparser::DataKind::Passive => DataMode::Passive,
                            wasmparser::DataKind::Active {
                                memory_index,
                                offset_expr,
                            } => DataMode::Active {
                                memory: memory_index,
                                offset: const_expr(&offset_expr)?,
                            },
                        };
                        let end = d.range.end;
                        let start = end - d.data.len();
                        info.data.push(DataSegment {
                            mode,
                            bytes: start..end,
                        });
                    }
                }
                Payload::CodeSectionEntry(body) => info.bodies.push(body.range()),
                Payload::CustomSection(section) => {
                    if let wasmparser::KnownCustom::Name(names) = section.as_known() {
                        // A malformed name section is ignored, as the
                        // specification asks.
                        let _ = read_names(names, &mut info);
                    }
                    let start = section.data_offset();
                    info.custom_sections.push((
                        section.name().to_string(),
                        start..start + section.data().len(),
                    ));
                }
                _ => {}
            }
        }
        // Functions the name section leaves unnamed are shown by their
        // export name, which is what a user knows them by.
        for (name, index) in &info.exports {
            if let ExportIndex::Func(f) = index {
                info.func_names
                    .entry(*f)
                    .or_insert_with(|| display_name(name).into_owned());
            }
        }
        Ok(info)
    }
}

fn read_names(
    names: wasmparser::NameSectionReader<'_>,
    info: &mut ModuleInfo,
) -> Result<(), Error> {
    for name in names {
        match name? {
            wasmparser::Name::Module { name, .. } => {
                info.name = Some(display_name(name).into_owned());
            }
            wasmparser::Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.func_names
                        .insert(naming.index, display_name(naming.name).into_owned());
                }
            }
            wasmparser::Name::Tag(map) => {
                for naming in map {
                    let naming = naming?;
                    info.tag_names
                        .insert(naming.index, display_name(naming.name).into_owned());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn unsupported(what: &str) -> Error {
    Error::Compile(format!("unsupported feature: {what}"))
}

fn type_index(index: wasmparser::UnpackedIndex, group_start: u32) -> Result<u32, Error> {
    match index {
        wasmparser::UnpackedIndex::Module(i) => Ok(i),
        wasmparser::UnpackedIndex::RecGroup(i) => Ok(group_start + i),
        _ => Err(unsupported("canonicalized type index")),
    }
}

fn module_val(
    v: wasmparser::ValType,
    group_start: u32,
    interner: &TypeInterner,
) -> Result<ModuleValType, Error> {
    Ok(match v {
        wasmparser::ValType::Ref(r) => match r.heap_type() {
            wasmparser::HeapType::Concrete(i) | wasmparser::HeapType::Exact(i) => {
                ModuleValType::Concrete {
                    nullable: r.is_nullable(),
                    index: type_index(i, group_start)?,
                }
            }
            _ => ModuleValType::Plain(val_type(v, &[], interner)?),
        },
        _ => ModuleValType::Plain(val_type(v, &[], interner)?),
    })
}

/// Converts a value type whose concrete references use module indices.
pub(crate) fn val_type(
    v: wasmparser::ValType,
    types: &[TypeId],
    interner: &TypeInterner,
) -> Result<ValType, Error> {
    Ok(match v {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(r) => ValType::Ref(ref_type(r, types, interner)?),
    })
}

pub(crate) fn ref_type(
    r: wasmparser::RefType,
    types: &[TypeId],
    interner: &TypeInterner,
) -> Result<RefType, Error> {
    use wasmparser::AbstractHeapType as A;
    let heap = match r.heap_type() {
        wasmparser::HeapType::Abstract { shared: false, ty } => match ty {
            A::Func => HeapType::Func,
            A::NoFunc => HeapType::NoFunc,
            A::Extern => HeapType::Extern,
            A::NoExtern => HeapType::NoExtern,
            A::Exn => HeapType::Exn,
            A::NoExn => HeapType::NoExn,
            A::Cont => HeapType::Cont,
            A::NoCont => HeapType::NoCont,
            other => return Err(unsupported(&format!("{other:?} references (GC proposal)"))),
        },
        wasmparser::HeapType::Abstract { shared: true, .. } => {
            return Err(unsupported("shared references"));
        }
        wasmparser::HeapType::Concrete(i) | wasmparser::HeapType::Exact(i) => {
            let index = match i {
                wasmparser::UnpackedIndex::Module(i) => i,
                _ => return Err(unsupported("rec-group-relative type index")),
            };
            let id = *types
                .get(index as usize)
                .ok_or_else(|| Error::Compile(format!("unknown type {index}")))?;
            match interner.get(id) {
                CompositeType::Func(_) => HeapType::ConcreteFunc(id),
                CompositeType::Cont(_) => HeapType::ConcreteCont(id),
            }
        }
    };
    Ok(RefType {
        nullable: r.is_nullable(),
        heap,
    })
}

fn table_type(
    t: &wasmparser::TableType,
    types: &[TypeId],
    interner: &TypeInterner,
) -> Result<TableType, Error> {
    Ok(TableType {
        addr: addr_type(t.table64),
        element: ref_type(t.element_type, types, interner)?,
        limits: Limits {
            min: t.initial,
            max: t.maximum,
        },
    })
}

fn memory_type(m: &wasmparser::MemoryType) -> Result<MemoryType, Error> {
    if m.shared {
        return Err(unsupported("shared memories (threads)"));
    }
    if m.page_size_log2.is_some() {
        return Err(unsupported("custom page sizes"));
    }
    Ok(MemoryType {
        addr: addr_type(m.memory64),
        limits: Limits {
            min: m.initial,
            max: m.maximum,
        },
    })
}

fn addr_type(is_64: bool) -> AddrType {
    if is_64 { AddrType::I64 } else { AddrType::I32 }
}

fn global_type(
    g: &wasmparser::GlobalType,
    types: &[TypeId],
    interner: &TypeInterner,
) -> Result<GlobalType, Error> {
    if g.shared {
        return Err(unsupported("shared globals (threads)"));
    }
    Ok(GlobalType {
        content: val_type(g.content_type, types, interner)?,
        mutable: g.mutable,
    })
}

fn const_expr(e: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr, Error> {
    let mut ops = Vec::new();
    let mut reader = e.get_operators_reader();
    while !reader.eof() {
        ops.push(match reader.read()? {
            Operator::I32Const { value } => ConstOp::I32(value),
            Operator::I64Const { value } => ConstOp::I64(value),
            Operator::F32Const { value } => ConstOp::F32(value.bits()),
            Operator::F64Const { value } => ConstOp::F64(value.bits()),
            Operator::V128Const { value } => ConstOp::V128(value.i128() as u128),
            Operator::RefNull { .. } => ConstOp::RefNull,
            Operator::RefFunc { function_index } => ConstOp::RefFunc(function_index),
            Operator::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            Operator::End => break,
            other => {
                return Err(unsupported(&format!(
                    "constant expression operator {other:?}"
                )));
            }
        });
    }
    Ok(ConstExpr(ops))
}
