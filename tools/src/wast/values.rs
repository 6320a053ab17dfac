//! Script values: turning `invoke` arguments into engine values, matching
//! results against `assert_return` patterns, and showing both in reports.

use std::collections::HashMap;

use switchyard_engine::{ExternRef, Store, Val, ValType};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::Index;
use wast::token::{F32, F64};
use wast::{WastArg, WastRet};

/// The payload scripts put in `(ref.extern N)`.
///
/// The script's number is stored as the host data, so a returned reference
/// can be checked against `(ref.extern N)` by reading it back.
type ExternPayload = u32;

/// Externrefs already handed to Wasm, by script number, so that the same
/// `(ref.extern N)` is the same reference every time it is written.
#[derive(Default)]
pub(crate) struct ExternRefs(HashMap<ExternPayload, ExternRef>);

/// Converts an `invoke` argument; `param` is the parameter's declared type,
/// used to type nulls written with a concrete heap type.
pub(crate) fn argument(
    store: &mut Store<()>,
    externs: &mut ExternRefs,
    arg: &WastArg<'_>,
    param: Option<&ValType>,
) -> Result<Val, String> {
    let WastArg::Core(arg) = arg else {
        return Err("component-model arguments are not supported".into());
    };
    Ok(match arg {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => null_of(heap, param)?,
        WastArgCore::RefExtern(n) => {
            let r = *externs
                .0
                .entry(*n)
                .or_insert_with(|| ExternRef::new(&mut *store, *n));
            Val::ExternRef(Some(r))
        }
        WastArgCore::RefHost(_) => {
            return Err("ref.host arguments are not supported (no GC proposal)".into());
        }
    })
}

/// The null reference `(ref.null heap)` stands for.
fn null_of(heap: &HeapType<'_>, param: Option<&ValType>) -> Result<Val, String> {
    let abstract_ty = match heap {
        HeapType::Abstract { ty, .. } => *ty,
        // A type index says nothing about the hierarchy without the
        // module's type section; the parameter's type does.
        HeapType::Concrete(_) | HeapType::Exact(_) => {
            return Ok(match param {
                Some(t @ ValType::Ref(_)) => Val::default_for(t),
                _ => Val::FuncRef(None),
            });
        }
    };
    Ok(match abstract_ty {
        AbstractHeapType::Func | AbstractHeapType::NoFunc => Val::FuncRef(None),
        AbstractHeapType::Extern | AbstractHeapType::NoExtern => Val::ExternRef(None),
        AbstractHeapType::Exn | AbstractHeapType::NoExn => Val::ExnRef(None),
        AbstractHeapType::Cont | AbstractHeapType::NoCont => Val::ContRef(None),
        other => {
            return Err(format!(
                "ref.null {} arguments are not supported (no GC proposal)",
                abstract_heap_name(other)
            ));
        }
    })
}

/// Whether `actual` satisfies the pattern `expected`.
pub(crate) fn matches(store: &Store<()>, expected: &WastRet<'_>, actual: &Val) -> bool {
    match expected {
        WastRet::Core(expected) => matches_core(store, expected, actual),
        _ => false,
    }
}

fn matches_core(store: &Store<()>, expected: &WastRetCore<'_>, actual: &Val) -> bool {
    match (expected, actual) {
        (WastRetCore::I32(e), Val::I32(a)) => e == a,
        (WastRetCore::I64(e), Val::I64(a)) => e == a,
        (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
        (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
        (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, *a),
        (WastRetCore::RefNull(None), a) => a.is_null(),
        (WastRetCore::RefNull(Some(heap)), a) => a.is_null() && null_matches(heap, a),
        (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
        (WastRetCore::RefExtern(Some(n)), Val::ExternRef(Some(r))) => {
            r.data(store).downcast_ref::<ExternPayload>() == Some(n)
        }
        // Which function a reference points at is not observable from the
        // host API, so `(ref.func $f)` is checked like `(ref.func)`.
        (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
        (WastRetCore::Either(cases), a) => cases.iter().any(|c| matches_core(store, c, a)),
        _ => false,
    }
}

fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => bits & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => v.bits == bits,
    }
}

/// Lane `i` of `v` when it is cut into lanes of `bits` bits.
fn lane(v: u128, bits: u32, i: usize) -> u128 {
    (v >> (bits as usize * i)) & (u128::MAX >> (128 - bits))
}

/// Whether a v128 result matches its pattern, lane by lane in the
/// pattern's shape (float lanes may be NaN patterns).
fn v128_matches(expected: &V128Pattern, actual: u128) -> bool {
    match expected {
        V128Pattern::I8x16(e) => e
            .iter()
            .enumerate()
            .all(|(i, x)| lane(actual, 8, i) == *x as u8 as u128),
        V128Pattern::I16x8(e) => e
            .iter()
            .enumerate()
            .all(|(i, x)| lane(actual, 16, i) == *x as u16 as u128),
        V128Pattern::I32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, x)| lane(actual, 32, i) == *x as u32 as u128),
        V128Pattern::I64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, x)| lane(actual, 64, i) == *x as u64 as u128),
        V128Pattern::F32x4(e) => e
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(p, lane(actual, 32, i) as u32)),
        V128Pattern::F64x2(e) => e
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(p, lane(actual, 64, i) as u64)),
    }
}

/// Whether a null value belongs to the hierarchy of `heap`.
fn null_matches(heap: &HeapType<'_>, actual: &Val) -> bool {
    let HeapType::Abstract { ty, .. } = heap else {
        // Concrete types: any null of a hierarchy with concrete types.
        return matches!(actual, Val::FuncRef(None) | Val::ContRef(None));
    };
    match ty {
        AbstractHeapType::Func | AbstractHeapType::NoFunc => matches!(actual, Val::FuncRef(None)),
        AbstractHeapType::Extern | AbstractHeapType::NoExtern => {
            matches!(actual, Val::ExternRef(None))
        }
        AbstractHeapType::Exn | AbstractHeapType::NoExn => matches!(actual, Val::ExnRef(None)),
        AbstractHeapType::Cont | AbstractHeapType::NoCont => matches!(actual, Val::ContRef(None)),
        _ => false,
    }
}

/// An engine value as a script would write it.
pub(crate) fn show_val(store: &Store<()>, v: &Val) -> String {
    match v {
        Val::I32(v) => format!("i32.const {v}"),
        Val::I64(v) => format!("i64.const {v}"),
        Val::F32(bits) => format!("f32.const {}", show_f32(*bits)),
        Val::F64(bits) => format!("f64.const {}", show_f64(*bits)),
        Val::V128(v) => {
            let lanes: Vec<String> = (0..4)
                .map(|i| format!("{:#010x}", lane(*v, 32, i)))
                .collect();
            format!("v128.const i32x4 {}", lanes.join(" "))
        }
        Val::FuncRef(None) => "ref.null func".into(),
        Val::FuncRef(Some(_)) => "ref.func".into(),
        Val::ExternRef(None) => "ref.null extern".into(),
        Val::ExternRef(Some(r)) => match r.data(store).downcast_ref::<ExternPayload>() {
            Some(n) => format!("ref.extern {n}"),
            None => "ref.extern".into(),
        },
        Val::ContRef(None) => "ref.null cont".into(),
        Val::ContRef(Some(_)) => "ref.cont".into(),
        Val::ExnRef(None) => "ref.null exn".into(),
        Val::ExnRef(Some(_)) => "ref.exn".into(),
    }
}

/// Several values: one bare, otherwise in brackets.
pub(crate) fn show_vals(store: &Store<()>, vals: &[Val]) -> String {
    match vals {
        [v] => show_val(store, v),
        _ => {
            let parts: Vec<String> = vals.iter().map(|v| show_val(store, v)).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

/// An expected result as the script wrote it.
pub(crate) fn show_ret(ret: &WastRet<'_>) -> String {
    match ret {
        WastRet::Core(r) => show_ret_core(r),
        _ => "(component-model value)".into(),
    }
}

/// Several expected results: one bare, otherwise in brackets.
pub(crate) fn show_rets(rets: &[WastRet<'_>]) -> String {
    match rets {
        [r] => show_ret(r),
        _ => {
            let parts: Vec<String> = rets.iter().map(show_ret).collect();
            format!("[{}]", parts.join(", "))
        }
    }
}

fn show_ret_core(ret: &WastRetCore<'_>) -> String {
    match ret {
        WastRetCore::I32(v) => format!("i32.const {v}"),
        WastRetCore::I64(v) => format!("i64.const {v}"),
        WastRetCore::F32(p) => format!("f32.const {}", show_nan_pattern(p, |v| show_f32(v.bits))),
        WastRetCore::F64(p) => format!("f64.const {}", show_nan_pattern(p, |v| show_f64(v.bits))),
        WastRetCore::V128(p) => format!("v128.const {}", show_v128_pattern(p)),
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(h)) => format!("ref.null {}", heap_name(h)),
        WastRetCore::RefExtern(None) => "ref.extern".into(),
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefHost(n) => format!("ref.host {n}"),
        WastRetCore::RefFunc(None) => "ref.func".into(),
        WastRetCore::RefFunc(Some(i)) => format!("ref.func {}", index_name(i)),
        WastRetCore::RefAny => "ref.any".into(),
        WastRetCore::RefEq => "ref.eq".into(),
        WastRetCore::RefArray => "ref.array".into(),
        WastRetCore::RefStruct => "ref.struct".into(),
        WastRetCore::RefI31 => "ref.i31".into(),
        WastRetCore::RefI31Shared => "ref.i31_shared".into(),
        WastRetCore::Either(cases) => {
            let parts: Vec<String> = cases.iter().map(show_ret_core).collect();
            format!("either({})", parts.join(" | "))
        }
    }
}

fn show_v128_pattern(p: &V128Pattern) -> String {
    fn join<T>(shape: &str, lanes: &[T], show: impl Fn(&T) -> String) -> String {
        let lanes: Vec<String> = lanes.iter().map(show).collect();
        format!("{shape} {}", lanes.join(" "))
    }
    match p {
        V128Pattern::I8x16(l) => join("i8x16", l, |x| x.to_string()),
        V128Pattern::I16x8(l) => join("i16x8", l, |x| x.to_string()),
        V128Pattern::I32x4(l) => join("i32x4", l, |x| x.to_string()),
        V128Pattern::I64x2(l) => join("i64x2", l, |x| x.to_string()),
        V128Pattern::F32x4(l) => join("f32x4", l, |p| show_nan_pattern(p, |v| show_f32(v.bits))),
        V128Pattern::F64x2(l) => join("f64x2", l, |p| show_nan_pattern(p, |v| show_f64(v.bits))),
    }
}

fn show_nan_pattern<T>(p: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
    match p {
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
        NanPattern::Value(v) => value(v),
    }
}

/// An f32 in text-format syntax; NaNs show their payload because that is
/// what a bit-exact comparison failed on.
pub(crate) fn show_f32(bits: u32) -> String {
    let v = f32::from_bits(bits);
    let sign = if bits >> 31 != 0 { "-" } else { "" };
    if v.is_nan() {
        format!("{sign}nan:{:#x}", bits & 0x7f_ffff)
    } else if v.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{v:?}")
    }
}

/// An f64 in text-format syntax; see [`show_f32`].
pub(crate) fn show_f64(bits: u64) -> String {
    let v = f64::from_bits(bits);
    let sign = if bits >> 63 != 0 { "-" } else { "" };
    if v.is_nan() {
        format!("{sign}nan:{:#x}", bits & 0xf_ffff_ffff_ffff)
    } else if v.is_infinite() {
        format!("{sign}inf")
    } else {
        format!("{v:?}")
    }
}

fn heap_name(h: &HeapType<'_>) -> String {
    match h {
        HeapType::Abstract { shared, ty } => {
            let name = abstract_heap_name(*ty);
            if *shared {
                format!("(shared {name})")
            } else {
                name.to_string()
            }
        }
        HeapType::Concrete(i) => index_name(i),
        HeapType::Exact(i) => format!("(exact {})", index_name(i)),
    }
}

fn abstract_heap_name(ty: AbstractHeapType) -> &'static str {
    match ty {
        AbstractHeapType::Func => "func",
        AbstractHeapType::Extern => "extern",
        AbstractHeapType::Exn => "exn",
        AbstractHeapType::Cont => "cont",
        AbstractHeapType::Any => "any",
        AbstractHeapType::Eq => "eq",
        AbstractHeapType::Struct => "struct",
        AbstractHeapType::Array => "array",
        AbstractHeapType::I31 => "i31",
        AbstractHeapType::NoFunc => "nofunc",
        AbstractHeapType::NoExtern => "noextern",
        AbstractHeapType::None => "none",
        AbstractHeapType::NoExn => "noexn",
        AbstractHeapType::NoCont => "nocont",
    }
}

fn index_name(i: &Index<'_>) -> String {
    match i {
        Index::Num(n, _) => n.to_string(),
        Index::Id(id) => format!("${}", id.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> V128Pattern {
        let buf = wast::parser::ParseBuffer::new(text).unwrap();
        wast::parser::parse::<V128Pattern>(&buf).unwrap()
    }

    #[test]
    fn v128_results_match_lane_by_lane_in_the_pattern_shape() {
        let v = 0x00000004_00000003_00000002_00000001u128;
        assert!(v128_matches(&pattern("i32x4 1 2 3 4"), v));
        assert!(!v128_matches(&pattern("i32x4 1 2 3 5"), v));
        assert!(!v128_matches(&pattern("i32x4 2 2 3 4"), v));
        assert!(v128_matches(
            &pattern("i64x2 0x0000000200000001 0x0000000400000003"),
            v
        ));
        assert!(v128_matches(
            &pattern("i8x16 1 0 0 0 2 0 0 0 3 0 0 0 4 0 0 0"),
            v
        ));
        assert!(!v128_matches(
            &pattern("i8x16 1 0 0 0 2 0 0 0 3 0 0 0 4 0 0 1"),
            v
        ));
        assert!(v128_matches(
            &pattern("i16x8 -1 -1 0 0 0 0 0 0"),
            0xffff_ffff
        ));
    }

    #[test]
    fn float_lanes_take_nan_patterns() {
        let canonical = 0x7fc0_0000u128;
        let arithmetic = 0x7fc0_0001u128;
        let one = 1.0f32.to_bits() as u128;
        let lanes = |l: [u128; 4]| l[0] | l[1] << 32 | l[2] << 64 | l[3] << 96;
        let p = pattern("f32x4 nan:canonical nan:arithmetic 1 -0");
        assert!(v128_matches(
            &p,
            lanes([canonical, arithmetic, one, 0x8000_0000])
        ));
        assert!(v128_matches(
            &p,
            lanes([canonical, canonical, one, 0x8000_0000])
        ));
        assert!(!v128_matches(
            &p,
            lanes([arithmetic, arithmetic, one, 0x8000_0000])
        ));
        assert!(!v128_matches(&p, lanes([canonical, one, one, 0x8000_0000])));
        assert!(!v128_matches(&p, lanes([canonical, canonical, one, 0])));
        let p = pattern("f64x2 nan:canonical 2");
        let two = 2.0f64.to_bits() as u128;
        assert!(v128_matches(&p, 0x7ff8_0000_0000_0000 | two << 64));
        assert!(!v128_matches(&p, 0x7ff8_0000_0000_0001 | two << 64));
    }
}
