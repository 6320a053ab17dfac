# Generator for tests/wast/f32.wast and tests/wast/f64.wast.
import math, struct, sys
import os
HERE = os.path.dirname(os.path.abspath(__file__))
from fractions import Fraction

class F:
    """A float value: either a number (python float, exact value of the fN) or a NaN with sign/payload."""
    def __init__(self, v=None, nan=None, neg=False):
        self.v = v; self.nan = nan; self.neg = neg
    def isnan(self): return self.nan is not None

def mk(W):
    MANT = 23 if W == 32 else 52
    CANON = 1 << (MANT - 1)
    T = f"f{W}"

    def rnd(x):
        if W == 64 or math.isinf(x) or math.isnan(x): return x
        try:
            return struct.unpack('<f', struct.pack('<f', x))[0]
        except OverflowError:
            return math.copysign(math.inf, x)

    def fmt_num(x):
        if math.isinf(x): return "-inf" if x < 0 else "inf"
        if x == 0: return "-0.0" if math.copysign(1, x) < 0 else "0.0"
        if x == int(x) and abs(x) < 1e16: return str(int(x))
        # Prefer short exact decimal.
        for p in range(1, 18):
            s = "%.*g" % (p, x)
            try:
                if Fraction(s) == Fraction(x):
                    if 'e' in s or len(s) <= 10:
                        return s
            except ValueError:
                pass
        h = float.hex(x)  # e.g. -0x1.99999a0000000p-4
        sign = "-" if h.startswith("-") else ""
        h = h.lstrip("-")
        mant, exp = h.split("p")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        return f"{sign}{mant}p{exp}"

    def fmt(f):
        if f.isnan():
            s = "-" if f.neg else ""
            if f.nan == CANON: return f"{s}nan"
            return f"{s}nan:0x{f.nan:x}"
        return fmt_num(f.v)

    def const(f): return f"({T}.const {fmt(f)})"

    NAN = F(nan=CANON)
    NNAN = F(nan=CANON, neg=True)
    def num(x): return F(v=rnd(x))

    def nan_result(ins):
        nans = [a for a in ins if a.isnan()]
        if nans and any(a.nan != CANON for a in nans):
            return "nan:arithmetic"
        return "nan:canonical"

    def arith(fn):
        def op(*ins):
            if any(a.isnan() for a in ins):
                return nan_result(ins)
            r = fn(*[a.v for a in ins])
            if isinstance(r, float) and math.isnan(r):
                return "nan:canonical"
            return F(v=rnd(r))
        return op

    def add(a, b): return a + b
    def sub(a, b): return a - b
    def mul(a, b): return a * b
    def div(a, b):
        if b == 0:
            if a == 0 or math.isnan(a): return math.nan
            neg = (math.copysign(1, a) < 0) != (math.copysign(1, b) < 0)
            return -math.inf if neg else math.inf
        return a / b
    def fmin(a, b):
        if a == 0 and b == 0:
            return a if math.copysign(1, a) < 0 else b
        return min(a, b)
    def fmax(a, b):
        if a == 0 and b == 0:
            return a if math.copysign(1, a) > 0 else b
        return max(a, b)
    def sqrt(a):
        if a < 0: return math.nan
        if math.isinf(a): return a
        if a == 0: return a
        # exact rounding: math.sqrt on double is correctly rounded; f32 double-rounding is safe.
        return math.sqrt(a)
    def fixzero(x, r):
        r = float(r)
        if r == 0 and math.copysign(1, x) < 0: return -0.0
        return r
    def ceil(a):
        if math.isinf(a): return a
        return fixzero(a, math.ceil(a))
    def floor(a):
        if math.isinf(a): return a
        return fixzero(a, math.floor(a))
    def trunc(a):
        if math.isinf(a): return a
        return fixzero(a, math.trunc(a))
    def nearest(a):
        if math.isinf(a): return a
        return fixzero(a, round(a))

    def copysign(a, b):
        # bitwise on NaNs too
        neg = b.neg if b.isnan() else math.copysign(1, b.v) < 0
        if a.isnan(): return F(nan=a.nan, neg=neg)
        return F(v=math.copysign(a.v, -1.0 if neg else 1.0))
    def neg_(a):
        if a.isnan(): return F(nan=a.nan, neg=not a.neg)
        return F(v=-a.v)
    def abs_(a):
        if a.isnan(): return F(nan=a.nan, neg=False)
        return F(v=abs(a.v))

    def cmp(fn):
        def op(a, b):
            if a.isnan() or b.isnan(): return int(fn is NE)
            return int(fn(a.v, b.v))
        return op
    NE = lambda a, b: a != b
    cmps = {"eq": lambda a, b: a == b, "ne": NE, "lt": lambda a, b: a < b,
            "le": lambda a, b: a <= b, "gt": lambda a, b: a > b, "ge": lambda a, b: a >= b}

    binops = {"add": arith(add), "sub": arith(sub), "mul": arith(mul), "div": arith(div),
              "min": arith(fmin), "max": arith(fmax)}
    unops = {"sqrt": arith(sqrt), "ceil": arith(ceil), "floor": arith(floor),
             "trunc": arith(trunc), "nearest": arith(nearest)}
    bitops_un = {"neg": neg_, "abs": abs_}

    MINSUB = 2.0 ** (-149 if W == 32 else -1074)
    MINNORM = 2.0 ** (-126 if W == 32 else -1022)
    MAX = (2 - 2.0 ** -MANT) * 2.0 ** (127 if W == 32 else 1023)
    INF = math.inf
    grid = [0.0, -0.0, MINSUB, -MINNORM, 1.0, -0.5, MAX, INF, -INF]
    nans = [NAN, NNAN, F(nan=1 << (MANT - 2) | CANON), F(nan=1)]  # canonical, -canonical, arithmetic, signalling
    PREC = 24 if W == 32 else 53
    BIG = 2.0 ** PREC  # first integer where odd neighbours are not representable
    special_bin = {
        "add": [(0.1, 0.2), (BIG, 1.0), (BIG, 3.0), (MAX, MAX), (MINSUB, MINSUB), (MINNORM, -MINSUB), (1.0, -1.0), (-0.0, 0.0), (INF, -INF), (1e10, -1e10 + 1)],
        "sub": [(0.1, 0.2), (BIG, -1.0), (1.0, 1.0), (-0.0, -0.0), (0.0, 0.0), (INF, INF), (-MAX, MAX), (MINNORM, MINSUB)],
        "mul": [(0.1, 3.0), (MAX, 2.0), (MINSUB, 0.5), (MINSUB, 1.5), (MINNORM, 0.5), (INF, 0.0), (-0.0, 5.0), (-1.0, -0.0), (1.5, BIG), (-3.0, 7.0)],
        "div": [(1.0, 3.0), (-1.0, 0.0), (1.0, -0.0), (0.0, 0.0), (-0.0, -0.0), (INF, INF), (1.0, INF), (-1.0, INF), (MAX, 0.5), (MINSUB, 2.0), (MINNORM, 3.0), (7.0, 2.0), (-7.0, 0.5)],
        "min": [(-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0), (1.0, 2.0), (-INF, INF), (-1.0, -2.0)],
        "max": [(-0.0, 0.0), (0.0, -0.0), (0.0, 0.0), (1.0, 2.0), (-INF, INF), (-1.0, -2.0)],
    }
    unvals = [0.0, -0.0, MINSUB, -MINSUB, MINNORM, -MINNORM, 0.25, 0.5, -0.5, 0.75, 1.0, -1.0, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 4.5, -0.4, 0.49999997 if W == 32 else 0.49999999999999994, 2.0, 4.0, 1e10, BIG / 2 - 0.5, -(BIG / 2 - 0.5), BIG / 2 + 1, BIG, MAX, -MAX, INF, -INF]
    return locals()

def gen(W):
    env = mk(W)
    T = env["T"]; const = env["const"]; num = env["num"]; F_ = F
    out = []; p = out.append
    n = 0
    p(f";; {T}.wast -- {T} arithmetic, min/max, copysign, abs/neg, sqrt, rounding")
    p(f";; (ceil/floor/trunc/nearest) and comparisons, following IEEE 754 as profiled by")
    p(f";; WebAssembly 2.0: signed zeros, subnormals, infinities, NaN propagation")
    p(f";; (nan:canonical for NaNs produced from non-NaN inputs, nan:arithmetic when a")
    p(f";; non-canonical NaN is an input), and bit-exact abs/neg/copysign on NaNs.")
    p("")
    p("(module")
    for o in env["binops"]:
        p(f'  (func (export "{o}") (param $x {T}) (param $y {T}) (result {T}) ({T}.{o} (local.get $x) (local.get $y)))')
    p(f'  (func (export "copysign") (param $x {T}) (param $y {T}) (result {T}) ({T}.copysign (local.get $x) (local.get $y)))')
    for o in list(env["unops"]) + list(env["bitops_un"]):
        p(f'  (func (export "{o}") (param $x {T}) (result {T}) ({T}.{o} (local.get $x)))')
    for o in env["cmps"]:
        p(f'  (func (export "{o}") (param $x {T}) (param $y {T}) (result i32) ({T}.{o} (local.get $x) (local.get $y)))')
    p(")")
    def res(r):
        if isinstance(r, str): return f"({T}.const {r})"
        return const(r)
    grid = [num(x) for x in env["grid"]]
    nans = env["nans"]
    for o, fn in env["binops"].items():
        p(""); p(f";; {T}.{o}")
        cases = [(a, b) for a in grid for b in grid]
        cases += [(num(a), num(b)) for a, b in env["special_bin"][o]]
        cases += [(nans[0], num(1.0)), (num(-0.0), nans[1]), (nans[2], num(0.0)), (num(env["INF"]), nans[3]), (nans[0], nans[1]), (nans[2], nans[3])]
        for a, b in cases:
            p(f'(assert_return (invoke "{o}" {const(a)} {const(b)}) {res(fn(a, b))})'); n += 1
    p(""); p(f";; {T}.copysign (bitwise: also flips/sets the sign of NaNs exactly)")
    cs = [num(x) for x in [0.0, -0.0, 1.0, -1.0, env["MINSUB"], env["MAX"], env["INF"], -env["INF"]]]
    for a in cs:
        for b in [num(0.0), num(-0.0), num(-2.0), nans[0], nans[1]]:
            p(f'(assert_return (invoke "copysign" {const(a)} {const(b)}) {const(env["copysign"](a, b))})'); n += 1
    for a in nans:
        for b in [num(1.0), num(-1.0), nans[1]]:
            p(f'(assert_return (invoke "copysign" {const(a)} {const(b)}) {const(env["copysign"](a, b))})'); n += 1
    unv = [num(x) for x in env["unvals"]]
    for o, fn in env["unops"].items():
        p(""); p(f";; {T}.{o}")
        vals = unv + [nans[0], nans[1], nans[2]]
        if o == "sqrt":
            vals = [v for v in vals] + [num(x) for x in [9.0, 2.0, 0.01, 1e-40 if env["T"] == "f32" else 1e-310]]
        for a in vals:
            p(f'(assert_return (invoke "{o}" {const(a)}) {res(fn(a))})'); n += 1
    for o, fn in env["bitops_un"].items():
        p(""); p(f";; {T}.{o} (bitwise: NaN payloads are preserved exactly)")
        for a in [num(x) for x in [0.0, -0.0, 1.0, -1.0, env["MINSUB"], -env["MAX"], env["INF"], -env["INF"]]] + nans + [F(nan=nans[2].nan, neg=True), F(nan=1, neg=True)]:
            p(f'(assert_return (invoke "{o}" {const(a)}) {const(fn(a))})'); n += 1
    for o, fn in env["cmps"].items():
        p(""); p(f";; {T}.{o}")
        vals = [num(x) for x in [0.0, -0.0, 1.0, -1.0, env["INF"], -env["INF"]]] + [nans[0], nans[3]]
        for a in vals:
            for b in vals:
                if a.isnan() and b.isnan() and a is not b: continue
                p(f'(assert_return (invoke "{o}" {const(a)} {const(b)}) (i32.const {env["cmps"][o] and fn(a, b) if False else env["cmp"](env["cmps"][o])(a, b)}))'); n += 1
    return "\n".join(out) + "\n", n

if __name__ == "__main__":
    W = int(sys.argv[1])
    text, n = gen(W)
    try:
        text += "\n" + open(os.path.join(os.path.dirname(os.path.abspath(__file__)), f"f{W}_extra.wast")).read()
    except FileNotFoundError:
        pass
    open(sys.argv[2], "w").write(text)
    print(n, file=sys.stderr)
