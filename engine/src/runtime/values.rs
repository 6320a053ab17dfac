//! Values crossing the host boundary, and their raw form: one 8-byte word
//! per value, two for a `v128` (see [`ValType::words`]).

use std::any::Any;

use super::func::Func;
use super::store::StoreCore;
use crate::types::{HeapType, ValType, word_offsets};

/// A reference to host data, created by the host and opaque to Wasm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternRef {
    pub(crate) store: u64,
    /// Index + 1 in the store's externref list.
    pub(crate) raw: u64,
}

impl ExternRef {
    /// Wraps `value` in a new externref.
    pub fn new<T: Any + Send + Sync>(store: &mut impl super::AsStoreMut, value: T) -> ExternRef {
        let core = &mut store.inner_mut().core;
        core.externrefs.push(Box::new(value));
        ExternRef {
            store: core.id,
            raw: core.externrefs.len() as u64,
        }
    }

    /// The host data behind the reference.
    pub fn data<'a>(&self, store: &'a impl super::AsStoreMut) -> &'a (dyn Any + Send + Sync) {
        let core = &store.inner().core;
        core.check(self.store);
        &*core.externrefs[self.raw as usize - 1]
    }
}

/// A continuation or exception reference held by the host (opaque).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpaqueRef {
    pub(crate) raw: u64,
}

/// A Wasm value.
#[derive(Clone, Copy, Debug)]
pub enum Val {
    /// i32.
    I32(i32),
    /// i64.
    I64(i64),
    /// f32, as its bits.
    F32(u32),
    /// f64, as its bits.
    F64(u64),
    /// v128, as its bits: lane 0 in the least significant bits (the
    /// byte order of memory).
    V128(u128),
    /// A function reference or null.
    FuncRef(Option<Func>),
    /// An extern reference or null.
    ExternRef(Option<ExternRef>),
    /// A continuation reference or null.
    ContRef(Option<OpaqueRef>),
    /// An exception reference or null.
    ExnRef(Option<OpaqueRef>),
}

impl Val {
    /// The default value of a type (zero or null).
    pub fn default_for(ty: &ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::Ref(r) => match r.heap.top() {
                HeapType::Func => Val::FuncRef(None),
                HeapType::Extern => Val::ExternRef(None),
                HeapType::Cont => Val::ContRef(None),
                _ => Val::ExnRef(None),
            },
        }
    }

    /// i32 payload, if this is one.
    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    /// i64 payload, if this is one.
    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    /// v128 payload, if this is one.
    pub fn v128(&self) -> Option<u128> {
        if let Val::V128(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    /// Whether this value is null.
    pub fn is_null(&self) -> bool {
        matches!(
            self,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ContRef(None) | Val::ExnRef(None)
        )
    }

    /// Whether the value belongs to `ty`.
    pub(crate) fn matches(&self, core: &StoreCore, ty: &ValType) -> bool {
        match (self, ty) {
            (Val::I32(_), ValType::I32)
            | (Val::I64(_), ValType::I64)
            | (Val::F32(_), ValType::F32)
            | (Val::F64(_), ValType::F64)
            | (Val::V128(_), ValType::V128) => true,
            (v, ValType::Ref(r)) if v.is_null() => r.nullable && Val::default_for(ty).same_kind(v),
            (Val::FuncRef(Some(f)), ValType::Ref(r)) => match r.heap {
                HeapType::Func => true,
                HeapType::ConcreteFunc(id) => core.funcs[f.index as usize].type_id == id,
                _ => false,
            },
            (Val::ExternRef(Some(_)), ValType::Ref(r)) => r.heap == HeapType::Extern,
            (Val::ContRef(Some(_)), ValType::Ref(r)) => r.heap.top() == HeapType::Cont,
            (Val::ExnRef(Some(_)), ValType::Ref(r)) => r.heap.top() == HeapType::Exn,
            _ => false,
        }
    }

    fn same_kind(&self, other: &Val) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// The raw form generated code uses, zero-extended: only a v128 uses
    /// the high 64 bits.
    pub(crate) fn to_raw(self, core: &StoreCore) -> u128 {
        match self {
            Val::I32(v) => v as u32 as u128,
            Val::I64(v) => v as u64 as u128,
            Val::F32(v) => v as u128,
            Val::F64(v) => v as u128,
            Val::V128(v) => v,
            Val::FuncRef(None) | Val::ExternRef(None) | Val::ContRef(None) | Val::ExnRef(None) => 0,
            Val::FuncRef(Some(f)) => {
                core.check(f.store);
                core.funcs[f.index as usize].funcref as u128
            }
            Val::ExternRef(Some(e)) => {
                core.check(e.store);
                e.raw as u128
            }
            Val::ContRef(Some(r)) | Val::ExnRef(Some(r)) => r.raw as u128,
        }
    }

    /// A raw value of type `ty` as a `Val`.
    pub(crate) fn from_raw(core: &StoreCore, raw: u128, ty: &ValType) -> Val {
        let word = raw as u64;
        match ty {
            ValType::I32 => Val::I32(word as u32 as i32),
            ValType::I64 => Val::I64(word as i64),
            ValType::F32 => Val::F32(word as u32),
            ValType::F64 => Val::F64(word),
            ValType::V128 => Val::V128(raw),
            ValType::Ref(r) => {
                let some = word != 0;
                match r.heap.top() {
                    HeapType::Func => Val::FuncRef(some.then(|| Func {
                        store: core.id,
                        index: core.funcref_index[&(word as usize)],
                    })),
                    HeapType::Extern => Val::ExternRef(some.then_some(ExternRef {
                        store: core.id,
                        raw: word,
                    })),
                    HeapType::Cont => Val::ContRef(some.then_some(OpaqueRef { raw: word })),
                    _ => Val::ExnRef(some.then_some(OpaqueRef { raw: word })),
                }
            }
        }
    }
}

/// Writes `vals` (of types `tys`) into a value buffer, each at its word
/// offset.
pub(crate) fn write_words(core: &StoreCore, vals: &[Val], tys: &[ValType], words: &mut [u64]) {
    let (offsets, _) = word_offsets(tys);
    for ((v, t), at) in vals.iter().zip(tys).zip(offsets) {
        let raw = v.to_raw(core);
        words[at] = raw as u64;
        if t.words() == 2 {
            words[at + 1] = (raw >> 64) as u64;
        }
    }
}

/// Reads values of types `tys` from a value buffer.
pub(crate) fn read_words(core: &StoreCore, words: &[u64], tys: &[ValType]) -> Vec<Val> {
    let (offsets, _) = word_offsets(tys);
    tys.iter()
        .zip(offsets)
        .map(|(t, at)| {
            let mut raw = words[at] as u128;
            if t.words() == 2 {
                raw |= (words[at + 1] as u128) << 64;
            }
            Val::from_raw(core, raw, t)
        })
        .collect()
}
