//! WebAssembly types as the host API sees them, and the engine-wide interner
//! that gives every function and continuation type a canonical id.
//!
//! Canonical ids make type checks cheap at run time: `call_indirect` compares
//! one integer, and a module's function can be called through another
//! module's table. Types are canonicalized per recursion group, the way the
//! GC proposal's iso-recursive type equivalence defines it.

use std::collections::HashMap;
use std::fmt;

/// A canonical type id, unique within one [`crate::Engine`].
pub type TypeId = u32;

/// A value type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector (the SIMD proposal).
    V128,
    /// A reference.
    Ref(RefType),
}

/// A reference type: a heap type and whether null is a value of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RefType {
    /// Whether `null` belongs to the type.
    pub nullable: bool,
    /// What the reference points at.
    pub heap: HeapType,
}

/// The heap types Switchyard supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function.
    Func,
    /// The bottom of the function hierarchy (only null).
    NoFunc,
    /// A host reference.
    Extern,
    /// The bottom of the extern hierarchy.
    NoExtern,
    /// An exception reference.
    Exn,
    /// The bottom of the exception hierarchy.
    NoExn,
    /// Any continuation.
    Cont,
    /// The bottom of the continuation hierarchy.
    NoCont,
    /// A function of a given canonical type.
    ConcreteFunc(TypeId),
    /// A continuation of a given canonical type.
    ConcreteCont(TypeId),
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Func,
    };
    /// `externref`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap: HeapType::Extern,
    };

    /// Whether a value of type `self` is also a value of type `other`.
    pub fn is_subtype_of(&self, other: &RefType) -> bool {
        (!self.nullable || other.nullable) && self.heap.is_subtype_of(&other.heap)
    }
}

impl HeapType {
    /// Heap subtyping (no declared subtypes: all types are final).
    pub fn is_subtype_of(&self, other: &HeapType) -> bool {
        use HeapType::*;
        if self == other {
            return true;
        }
        matches!(
            (self, other),
            (NoFunc, Func | ConcreteFunc(_))
                | (ConcreteFunc(_), Func)
                | (NoExtern, Extern)
                | (NoExn, Exn)
                | (NoCont, Cont | ConcreteCont(_))
                | (ConcreteCont(_), Cont)
        )
    }

    /// The top of this type's hierarchy.
    pub fn top(&self) -> HeapType {
        use HeapType::*;
        match self {
            Func | NoFunc | ConcreteFunc(_) => Func,
            Extern | NoExtern => Extern,
            Exn | NoExn => Exn,
            Cont | NoCont | ConcreteCont(_) => Cont,
        }
    }
}

impl ValType {
    /// Whether a value of type `self` is also a value of type `other`.
    pub fn is_subtype_of(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.is_subtype_of(b),
            (a, b) => a == b,
        }
    }

    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }

    /// How many 8-byte words a value of this type takes where values are
    /// passed in memory: argument and result buffers between the host and
    /// Wasm, exception payloads and continuation payloads. A `v128` takes
    /// two (low half first), everything else one.
    pub fn words(&self) -> usize {
        match self {
            ValType::V128 => 2,
            _ => 1,
        }
    }
}

/// The word offset of each of `tys` in a buffer that holds them in order
/// (see [`ValType::words`]), and the total number of words.
pub(crate) fn word_offsets(tys: &[ValType]) -> (Vec<usize>, usize) {
    let mut offsets = Vec::with_capacity(tys.len());
    let mut next = 0;
    for t in tys {
        offsets.push(next);
        next += t.words();
    }
    (offsets, next)
}

/// The number of words `tys` take in a value buffer.
pub(crate) fn words_of(tys: &[ValType]) -> usize {
    tys.iter().map(ValType::words).sum()
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.heap {
            HeapType::Func => "func",
            HeapType::NoFunc => "nofunc",
            HeapType::Extern => "extern",
            HeapType::NoExtern => "noextern",
            HeapType::Exn => "exn",
            HeapType::NoExn => "noexn",
            HeapType::Cont => "cont",
            HeapType::NoCont => "nocont",
            HeapType::ConcreteFunc(id) | HeapType::ConcreteCont(id) => {
                let null = if self.nullable { "null " } else { "" };
                return write!(f, "(ref {null}{id})");
            }
        };
        if self.nullable {
            write!(f, "{name}ref")
        } else {
            write!(f, "(ref {name})")
        }
    }
}

/// A function signature.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Box<[ValType]>,
    results: Box<[ValType]>,
}

impl FuncType {
    /// A signature with the given parameter and result types.
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
        }
    }
    /// Parameter types.
    pub fn params(&self) -> &[ValType] {
        &self.params
    }
    /// Result types.
    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params.iter() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results.iter() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// Limits of a memory (in 64 KiB pages) or a table (in elements).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Initial size.
    pub min: u64,
    /// Maximum size, if any.
    pub max: Option<u64>,
}

impl Limits {
    /// Import matching: `self` (the provided entity's current limits) fits
    /// the import's declared `wanted` limits.
    pub fn matches(&self, wanted: &Limits) -> bool {
        self.min >= wanted.min
            && match (self.max, wanted.max) {
                (_, None) => true,
                (Some(have), Some(want)) => have <= want,
                (None, Some(_)) => false,
            }
    }
}

/// The type of the addresses of a memory or the indices of a table: 32-bit
/// as in Wasm 2.0, or 64-bit (the memory64 proposal, part of Wasm 3.0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddrType {
    /// `i32` addresses.
    #[default]
    I32,
    /// `i64` addresses.
    I64,
}

impl AddrType {
    /// The value type of an address.
    pub fn val_type(self) -> ValType {
        match self {
            AddrType::I32 => ValType::I32,
            AddrType::I64 => ValType::I64,
        }
    }
}

/// A memory type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryType {
    /// Whether addresses are `i32` or `i64`.
    pub addr: AddrType,
    /// Size limits in pages.
    pub limits: Limits,
}

/// A table type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableType {
    /// Whether indices are `i32` or `i64`.
    pub addr: AddrType,
    /// Element type.
    pub element: RefType,
    /// Size limits in elements.
    pub limits: Limits,
}

/// A global type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GlobalType {
    /// Value type.
    pub content: ValType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

/// The type of an importable or exportable entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternType {
    /// A function of a canonical type.
    Func(TypeId),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// An exception / control tag whose signature is a canonical function type.
    Tag(TypeId),
}

impl ExternType {
    /// A short name of the kind, as used in link error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ExternType::Func(_) => "function",
            ExternType::Global(_) => "global",
            ExternType::Table(_) => "table",
            ExternType::Memory(_) => "memory",
            ExternType::Tag(_) => "tag",
        }
    }
}

/// A composite type after canonicalization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompositeType {
    /// A function type.
    Func(FuncType),
    /// A continuation type over a canonical function type.
    Cont(TypeId),
}

/// One type of a recursion group as the interner keys it: references to
/// types of the same group are group-relative, others canonical.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum KeyType {
    Func(Box<[KeyVal]>, Box<[KeyVal]>),
    Cont(KeyIdx),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum KeyIdx {
    Canonical(TypeId),
    InGroup(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum KeyVal {
    Plain(ValType),
    Ref {
        nullable: bool,
        func: bool,
        idx: KeyIdx,
    },
}

/// A type as read from a module, before canonicalization: references to
/// other types use module type indices.
#[derive(Clone, Debug)]
pub(crate) enum ModuleCompositeType {
    Func {
        params: Vec<ModuleValType>,
        results: Vec<ModuleValType>,
    },
    Cont(u32),
}

/// A value type as read from a module.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ModuleValType {
    Plain(ValType),
    /// A reference to the module's type `index`.
    Concrete {
        nullable: bool,
        index: u32,
    },
}

/// The engine-wide canonical type interner: one [`TypeId`] per distinct
/// type (recursion groups compared structurally), so that type checks are
/// integer compares.
#[derive(Default)]
pub(crate) struct TypeInterner {
    groups: HashMap<Vec<KeyType>, TypeId>,
    types: Vec<CompositeType>,
}

impl TypeInterner {
    /// Interns one recursion group whose first type has module index
    /// `group_start`; `canonical` maps earlier module indices to ids.
    /// Returns the canonical ids of the group's types.
    pub(crate) fn intern_group(
        &mut self,
        group_start: u32,
        group: &[ModuleCompositeType],
        canonical: &[TypeId],
    ) -> Vec<TypeId> {
        let idx = |index: u32| {
            if index >= group_start {
                KeyIdx::InGroup(index - group_start)
            } else {
                KeyIdx::Canonical(canonical[index as usize])
            }
        };
        let is_func = |index: u32| -> bool {
            if index >= group_start {
                matches!(
                    group[(index - group_start) as usize],
                    ModuleCompositeType::Func { .. }
                )
            } else {
                matches!(
                    self.types[canonical[index as usize] as usize],
                    CompositeType::Func(_)
                )
            }
        };
        let key_val = |v: &ModuleValType| match *v {
            ModuleValType::Plain(ValType::Ref(RefType { nullable, heap })) => match heap {
                HeapType::ConcreteFunc(id) => KeyVal::Ref {
                    nullable,
                    func: true,
                    idx: KeyIdx::Canonical(id),
                },
                HeapType::ConcreteCont(id) => KeyVal::Ref {
                    nullable,
                    func: false,
                    idx: KeyIdx::Canonical(id),
                },
                _ => KeyVal::Plain(ValType::Ref(RefType { nullable, heap })),
            },
            ModuleValType::Plain(t) => KeyVal::Plain(t),
            ModuleValType::Concrete { nullable, index } => KeyVal::Ref {
                nullable,
                func: is_func(index),
                idx: idx(index),
            },
        };
        let key: Vec<KeyType> = group
            .iter()
            .map(|t| match t {
                ModuleCompositeType::Func { params, results } => KeyType::Func(
                    params.iter().map(key_val).collect(),
                    results.iter().map(key_val).collect(),
                ),
                ModuleCompositeType::Cont(f) => KeyType::Cont(idx(*f)),
            })
            .collect();
        if let Some(&first) = self.groups.get(&key) {
            return (0..group.len() as u32).map(|i| first + i).collect();
        }
        let first = self.types.len() as TypeId;
        let resolve = |k: KeyIdx| match k {
            KeyIdx::Canonical(id) => id,
            KeyIdx::InGroup(i) => first + i,
        };
        for k in &key {
            let resolve_val = |v: &KeyVal| match *v {
                KeyVal::Plain(t) => t,
                KeyVal::Ref {
                    nullable,
                    func,
                    idx,
                } => {
                    let id = resolve(idx);
                    let heap = if func {
                        HeapType::ConcreteFunc(id)
                    } else {
                        HeapType::ConcreteCont(id)
                    };
                    ValType::Ref(RefType { nullable, heap })
                }
            };
            self.types.push(match k {
                KeyType::Func(p, r) => CompositeType::Func(FuncType::new(
                    p.iter().map(resolve_val),
                    r.iter().map(resolve_val),
                )),
                KeyType::Cont(f) => CompositeType::Cont(resolve(*f)),
            });
        }
        self.groups.insert(key, first);
        (0..group.len() as u32).map(|i| first + i).collect()
    }

    /// Registers a host-made function type (a group of one, with no
    /// concrete references).
    pub(crate) fn register_func(&mut self, ty: &FuncType) -> TypeId {
        let plain = |v: &ValType| ModuleValType::Plain(*v);
        let group = [ModuleCompositeType::Func {
            params: ty.params().iter().map(plain).collect(),
            results: ty.results().iter().map(plain).collect(),
        }];
        self.intern_group(u32::MAX, &group, &[])[0]
    }

    pub(crate) fn get(&self, id: TypeId) -> &CompositeType {
        &self.types[id as usize]
    }
}
