# Generator for tests/wast/conversions.wast.
import math, struct
import os
HERE = os.path.dirname(os.path.abspath(__file__))
from fractions import Fraction

def round_int_to_float(n, prec, emax):
    """Round integer n to nearest-even float with `prec` significand bits; returns Fraction or inf."""
    if n == 0: return Fraction(0)
    sign = -1 if n < 0 else 1
    a = abs(n)
    bl = a.bit_length()
    if bl <= prec:
        r = a
    else:
        sh = bl - prec
        q, rem = divmod(a, 1 << sh)
        half = 1 << (sh - 1)
        if rem > half or (rem == half and q & 1):
            q += 1
        r = q << sh
    if r >= 2 ** (emax + 1): return sign * math.inf
    return sign * Fraction(r)

def f32_of(x):
    try: return struct.unpack('<f', struct.pack('<f', x))[0]
    except OverflowError: return math.copysign(math.inf, x)

def fmt(x):
    if isinstance(x, Fraction): x = float(x)
    if isinstance(x, str): return x
    if math.isinf(x): return "-inf" if x < 0 else "inf"
    if x == 0: return "-0.0" if math.copysign(1, x) < 0 else "0.0"
    if x == int(x) and abs(x) < 1e20: return str(int(x))
    for p in range(1, 18):
        s = "%.*g" % (p, x)
        if Fraction(s) == Fraction(x) and len(s) <= 12: return s
    h = float.hex(x); sign = "-" if h.startswith("-") else ""
    m, e = h.lstrip("-").split("p")
    if "." in m: m = m.rstrip("0").rstrip(".")
    return f"{sign}{m}p{e}"

def ilit(v, W):
    M = (1 << W) - 1
    if -100000 <= v <= 100000: return str(v)
    return "0x%0*x" % (W // 4, v & M)

out = []; p = out.append
n = 0
p(";; conversions.wast -- numeric conversion instructions of WebAssembly 2.0:")
p(";; i32.wrap_i64, i64.extend_i32_s/u, the trapping float->int truncations with their")
p(";; exact range boundaries (\"invalid conversion to integer\" for NaN, \"integer overflow\"")
p(";; when the truncated value does not fit), the saturating truncations, int->float")
p(";; conversions with round-to-nearest-even, f32.demote_f64, f64.promote_f32 and the")
p(";; bit-preserving reinterpretations.")
p("")
p("(module")
p('  (func (export "i32.wrap_i64") (param i64) (result i32) (i32.wrap_i64 (local.get 0)))')
p('  (func (export "i64.extend_i32_s") (param i32) (result i64) (i64.extend_i32_s (local.get 0)))')
p('  (func (export "i64.extend_i32_u") (param i32) (result i64) (i64.extend_i32_u (local.get 0)))')
for it in ("i32", "i64"):
    for ft in ("f32", "f64"):
        for sg in ("s", "u"):
            p(f'  (func (export "{it}.trunc_{ft}_{sg}") (param {ft}) (result {it}) ({it}.trunc_{ft}_{sg} (local.get 0)))')
            p(f'  (func (export "{it}.trunc_sat_{ft}_{sg}") (param {ft}) (result {it}) ({it}.trunc_sat_{ft}_{sg} (local.get 0)))')
for ft in ("f32", "f64"):
    for it in ("i32", "i64"):
        for sg in ("s", "u"):
            p(f'  (func (export "{ft}.convert_{it}_{sg}") (param {it}) (result {ft}) ({ft}.convert_{it}_{sg} (local.get 0)))')
p('  (func (export "f32.demote_f64") (param f64) (result f32) (f32.demote_f64 (local.get 0)))')
p('  (func (export "f64.promote_f32") (param f32) (result f64) (f64.promote_f32 (local.get 0)))')
p('  (func (export "i32.reinterpret_f32") (param f32) (result i32) (i32.reinterpret_f32 (local.get 0)))')
p('  (func (export "i64.reinterpret_f64") (param f64) (result i64) (i64.reinterpret_f64 (local.get 0)))')
p('  (func (export "f32.reinterpret_i32") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0)))')
p('  (func (export "f64.reinterpret_i64") (param i64) (result f64) (f64.reinterpret_i64 (local.get 0)))')
p(")")

def A(s):
    global n
    p(s); n += 1

p(""); p(";; i32.wrap_i64 keeps the low 32 bits")
for v in [0, 1, -1, 0x100000000, 0xffffffff, 0x7fffffff, 0x80000000, -0x80000001, 0x123456789abcdef0, 0x8000000000000000, 0x7fffffffffffffff, 0xfffffffe00000001]:
    A(f'(assert_return (invoke "i32.wrap_i64" (i64.const {ilit(v if v < 2**63 else v - 2**64, 64)})) (i32.const {ilit(((v & 0xffffffff) ^ 0x80000000) - 0x80000000, 32)}))')
p(""); p(";; i64.extend_i32_s / i64.extend_i32_u")
for v in [0, 1, -1, 0x7fffffff, -0x80000000, 0x12345678, -0x12345678, 0x7f, 0x80, 0xffff]:
    A(f'(assert_return (invoke "i64.extend_i32_s" (i32.const {ilit(v, 32)})) (i64.const {ilit(v, 64)}))')
    A(f'(assert_return (invoke "i64.extend_i32_u" (i32.const {ilit(v, 32)})) (i64.const {ilit(v & 0xffffffff, 64)}))')

INVALID = "invalid conversion to integer"
OVF = "integer overflow"
def below(x, ft):
    # next representable value toward -inf (x must be exactly representable)
    if ft == "f64": return math.nextafter(x, -math.inf)
    b = struct.unpack('<I', struct.pack('<f', x))[0]
    if x > 0: b -= 1
    elif x == 0: b = 0x80000001
    else: b += 1
    return struct.unpack('<f', struct.pack('<I', b))[0]
def above(x, ft):
    if ft == "f64": return math.nextafter(x, math.inf)
    return -below(-x, ft)

for it, W in (("i32", 32), ("i64", 64)):
    for ft in ("f32", "f64"):
        for sg in ("s", "u"):
            lo = -(2 ** (W - 1)) if sg == "s" else 0
            hi = 2 ** (W - 1) - 1 if sg == "s" else 2 ** W - 1
            conv = (lambda x: x) if ft == "f64" else f32_of
            vals = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.9999999, -0.9999999, 1.5, -1.5, 2.5, 100.75, -100.75,
                    2.0 ** -149, -(2.0 ** -149), 2.0 ** 31, -(2.0 ** 31), 2.0 ** 32, 2.0 ** 63, -(2.0 ** 63), 2.0 ** 64,
                    1e30, -1e30, math.inf, -math.inf]
            # boundaries: largest value < hi+1 and smallest value > lo-1, plus hi+1 and lo-1 themselves
            up = float(hi + 1)
            dn = float(lo - 1)
            vals += [below(up, ft), up, above(dn, ft), below(dn, ft) if conv(dn) == dn else conv(dn)]
            vals += [conv(dn) if ft == "f32" else dn]
            if sg == "s": vals += [float(lo), below(float(lo), ft), above(float(hi) if ft == "f64" else below(up, ft), ft)]
            vals = [conv(v) for v in vals]
            seen = []
            for v in vals:
                key = struct.pack('<d', v)
                if key in seen: continue
                seen.append(key)
                t = math.trunc(v) if not math.isinf(v) else None
                fin = t is not None and lo <= t <= hi
                name = f"{it}.trunc_{ft}_{sg}"
                sname = f"{it}.trunc_sat_{ft}_{sg}"
                c = f"({ft}.const {fmt(v)})"
                if fin:
                    A(f'(assert_return (invoke "{name}" {c}) ({it}.const {ilit(t, W)}))')
                    A(f'(assert_return (invoke "{sname}" {c}) ({it}.const {ilit(t, W)}))')
                else:
                    A(f'(assert_trap (invoke "{name}" {c}) "{OVF}")')
                    sat = hi if v > 0 else lo
                    A(f'(assert_return (invoke "{sname}" {c}) ({it}.const {ilit(sat if sat <= 2**(W-1)-1 else sat - 2**W, W)}))')
            for nn in ["nan", "-nan", "nan:0x1" if ft == "f32" else "nan:0x1", "-nan:0x200000" if ft == "f32" else "-nan:0x4000000000000"]:
                A(f'(assert_trap (invoke "{it}.trunc_{ft}_{sg}" ({ft}.const {nn})) "{INVALID}")')
                A(f'(assert_return (invoke "{it}.trunc_sat_{ft}_{sg}" ({ft}.const {nn})) ({it}.const 0))')

# int -> float
p(""); p(";; int -> float conversions round to nearest, ties to even")
ivals32 = [0, 1, -1, 0x7fffffff, -0x80000000, 16777216, 16777217, 16777219, -16777217, 0x7fffff80, 0x7fffffc0, 0x7fffffbf, 123456789, -123456789, 0xffffffff - 2**32 + 0, 0x80000001 - 2**32]
ivals64 = [0, 1, -1, 2**63 - 1, -2**63, 2**53, 2**53 + 1, 2**53 + 3, -(2**53 + 1), 2**24 + 1, 0x0020000020000001, 0x0020000010000000, 0x0020000010000001, 0x7fffff4000000000, 0x7fffff4000000001, 0x7ffffffffffffc00, 0x7ffffffffffffdff, 0x7ffffffffffffe00, -0x7ffffffffffffe00, 0x8000008000000001 - 2**64, 0xfffffffffffff401 - 2**64, 0xfffffffffffff800 - 2**64, 1234567890123456789, 0x8000000000000401 - 2**64]
for ft, prec, emax in (("f32", 24, 127), ("f64", 53, 1023)):
    for it, W, vs in (("i32", 32, ivals32), ("i64", 64, ivals64)):
        for sg in ("s", "u"):
            for v in vs:
                x = v if sg == "s" else v & ((1 << W) - 1)
                r = round_int_to_float(x, prec, emax)
                A(f'(assert_return (invoke "{ft}.convert_{it}_{sg}" ({it}.const {ilit(v, W)})) ({ft}.const {fmt(r)}))')

# demote / promote
p(""); p(";; f32.demote_f64 rounds to nearest-even, overflows to infinity, underflows to (signed) zero")
def demote(x):
    if math.isinf(x) or x == 0: return x
    # correct rounding of a double to f32 using Fractions
    fr = Fraction(x)
    sign = -1 if fr < 0 else 1
    a = abs(fr)
    # find exponent
    e = math.floor(math.log2(a))
    while Fraction(2) ** e > a: e -= 1
    while Fraction(2) ** (e + 1) <= a: e += 1
    e = max(e, -126)
    ulp = Fraction(2) ** (e - 23)
    q = a / ulp
    fl = math.floor(q); rem = q - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1): fl += 1
    r = fl * ulp
    if r >= Fraction(2) ** 128: return sign * math.inf
    if r == 0: return math.copysign(0.0, x)
    return float(sign * r)
MAXF32 = (2 - 2.0 ** -23) * 2.0 ** 127
dvals = [0.0, -0.0, 1.0, -1.0, 0.1, -0.1, 1.5, 2.0 ** -149, -(2.0 ** -149), 2.0 ** -150, -(2.0 ** -150), 2.0 ** -150 * 1.0000001, 2.0 ** -149 * 1.5, 2.0 ** -149 * 2.5,
         2.0 ** -126, 2.0 ** -127, MAXF32, -MAXF32, MAXF32 + 2.0 ** 103, math.nextafter(MAXF32 + 2.0 ** 103, 0), 2.0 ** 128, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, -5e-324,
         1.0 + 2.0 ** -24, 1.0 + 2.0 ** -24 + 2.0 ** -52, 1.0 + 3 * 2.0 ** -24, 16777217.0, math.inf, -math.inf]
for v in dvals:
    A(f'(assert_return (invoke "f32.demote_f64" (f64.const {fmt(v)})) (f32.const {fmt(demote(v))}))')
for nn, r in [("nan", "nan:canonical"), ("-nan", "nan:canonical"), ("nan:0x4000000000000", "nan:arithmetic"), ("nan:0x1", "nan:arithmetic"), ("-nan:0xfffffffffffff", "nan:arithmetic")]:
    A(f'(assert_return (invoke "f32.demote_f64" (f64.const {nn})) (f32.const {r}))')
p(""); p(";; f64.promote_f32 is exact")
for v in [0.0, -0.0, 1.0, -1.0, f32_of(0.1), 2.0 ** -149, -(2.0 ** -149), MAXF32, -MAXF32, 2.0 ** -126, math.inf, -math.inf, f32_of(3.14159)]:
    A(f'(assert_return (invoke "f64.promote_f32" (f32.const {fmt(v)})) (f64.const {fmt(v)}))')
for nn, r in [("nan", "nan:canonical"), ("-nan", "nan:canonical"), ("nan:0x200000", "nan:arithmetic"), ("nan:0x1", "nan:arithmetic")]:
    A(f'(assert_return (invoke "f64.promote_f32" (f32.const {nn})) (f64.const {r}))')

p(""); p(";; reinterpretations preserve every bit, including NaN payloads and signalling NaNs")
def bits32(x): return struct.unpack('<I', struct.pack('<f', x))[0]
def bits64(x): return struct.unpack('<Q', struct.pack('<d', x))[0]
for s, b in [("0.0", 0), ("-0.0", 0x80000000), ("1", 0x3f800000), ("-1", 0xbf800000), ("0x1p-149", 1), ("-0x1p-149", 0x80000001), ("0x1.fffffep+127", 0x7f7fffff), ("inf", 0x7f800000), ("-inf", 0xff800000),
             ("nan", 0x7fc00000), ("-nan", 0xffc00000), ("nan:0x1", 0x7f800001), ("-nan:0x1", 0xff800001), ("nan:0x200000", 0x7fa00000), ("nan:0x7fffff", 0x7fffffff), ("-nan:0x7fffff", 0xffffffff)]:
    A(f'(assert_return (invoke "i32.reinterpret_f32" (f32.const {s})) (i32.const {ilit(b - (2**32 if b >= 2**31 else 0), 32)}))')
    A(f'(assert_return (invoke "f32.reinterpret_i32" (i32.const {ilit(b - (2**32 if b >= 2**31 else 0), 32)})) (f32.const {s}))')
for s, b in [("0.0", 0), ("-0.0", 0x8000000000000000), ("1", 0x3ff0000000000000), ("-1", 0xbff0000000000000), ("0x1p-1074", 1), ("0x1.fffffffffffffp+1023", 0x7fefffffffffffff), ("inf", 0x7ff0000000000000), ("-inf", 0xfff0000000000000),
             ("nan", 0x7ff8000000000000), ("-nan", 0xfff8000000000000), ("nan:0x1", 0x7ff0000000000001), ("-nan:0x1", 0xfff0000000000001), ("nan:0x4000000000000", 0x7ff4000000000000), ("nan:0xfffffffffffff", 0x7fffffffffffffff), ("-nan:0xfffffffffffff", 0xffffffffffffffff), ("0.1", bits64(0.1))]:
    A(f'(assert_return (invoke "i64.reinterpret_f64" (f64.const {s})) (i64.const {ilit(b - (2**64 if b >= 2**63 else 0), 64)}))')
    A(f'(assert_return (invoke "f64.reinterpret_i64" (i64.const {ilit(b - (2**64 if b >= 2**63 else 0), 64)})) (f64.const {s}))')

text = "\n".join(out) + "\n"
try: text += "\n" + open(os.path.join(HERE, "conv_extra.wast")).read()
except FileNotFoundError: pass
open(os.path.join(HERE, "..", "conversions.wast"), "w").write(text)
import sys; print(n, file=sys.stderr)
