# Generator for tests/wast/i32.wast and tests/wast/i64.wast.
import sys
import os
HERE = os.path.dirname(os.path.abspath(__file__))

def gen(W):
    T = f"i{W}"
    M = (1 << W) - 1
    MIN = 1 << (W - 1)
    def u(x): return x & M
    def s(x):
        x &= M
        return x - (1 << W) if x & MIN else x
    def hx(x):
        x = u(x)
        return "0x%0*x" % (W // 4, x) if x > 0xffff else str(x)
    def lit(x):
        # signed decimal for small values, hex otherwise
        v = s(x)
        if -100000 <= v <= 100000:
            return str(v)
        return hx(x)

    def tdiv(a, b):
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    def trem(a, b):
        return a - b * tdiv(a, b)
    def clz(x):
        x = u(x)
        return W - x.bit_length()
    def ctz(x):
        x = u(x)
        if x == 0: return W
        return (x & -x).bit_length() - 1
    def rotl(a, b):
        b %= W; a = u(a)
        return u((a << b) | (a >> (W - b)))
    def rotr(a, b):
        b %= W; a = u(a)
        return u((a >> b) | (a << (W - b)))

    TRAP_DIV = "integer divide by zero"
    TRAP_OVF = "integer overflow"
    def div_s(a, b):
        a, b = s(a), s(b)
        if b == 0: return TRAP_DIV
        if a == -MIN and b == -1: return TRAP_OVF
        return tdiv(a, b)
    def div_u(a, b):
        a, b = u(a), u(b)
        if b == 0: return TRAP_DIV
        return a // b
    def rem_s(a, b):
        a, b = s(a), s(b)
        if b == 0: return TRAP_DIV
        return trem(a, b)
    def rem_u(a, b):
        a, b = u(a), u(b)
        if b == 0: return TRAP_DIV
        return a % b

    binops = {
        "add": lambda a, b: a + b,
        "sub": lambda a, b: a - b,
        "mul": lambda a, b: u(a) * u(b),
        "div_s": div_s, "div_u": div_u, "rem_s": rem_s, "rem_u": rem_u,
        "and": lambda a, b: a & b,
        "or": lambda a, b: u(a) | u(b),
        "xor": lambda a, b: u(a) ^ u(b),
        "shl": lambda a, b: u(a) << (u(b) % W),
        "shr_s": lambda a, b: s(a) >> (u(b) % W),
        "shr_u": lambda a, b: u(a) >> (u(b) % W),
        "rotl": rotl, "rotr": rotr,
    }
    unops = {
        "clz": clz, "ctz": ctz,
        "popcnt": lambda a: bin(u(a)).count("1"),
        "extend8_s": lambda a: s(((u(a) & 0xff) ^ 0x80) - 0x80),
        "extend16_s": lambda a: s(((u(a) & 0xffff) ^ 0x8000) - 0x8000),
    }
    if W == 64:
        unops["extend32_s"] = lambda a: s(((u(a) & 0xffffffff) ^ 0x80000000) - 0x80000000)
    testops = {"eqz": lambda a: int(u(a) == 0)}
    relops = {
        "eq": lambda a, b: u(a) == u(b), "ne": lambda a, b: u(a) != u(b),
        "lt_s": lambda a, b: s(a) < s(b), "lt_u": lambda a, b: u(a) < u(b),
        "le_s": lambda a, b: s(a) <= s(b), "le_u": lambda a, b: u(a) <= u(b),
        "gt_s": lambda a, b: s(a) > s(b), "gt_u": lambda a, b: u(a) > u(b),
        "ge_s": lambda a, b: s(a) >= s(b), "ge_u": lambda a, b: u(a) >= u(b),
    }

    MAXS = MIN - 1
    H = 1 << (W // 2)
    common = [(0, 0), (1, 1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1),
              (MIN, -1), (MIN, 1), (MAXS, 1), (MAXS, -1), (MIN, MIN), (MAXS, MAXS),
              (MIN, MAXS), (MAXS, MIN), (-1, MIN), (MIN, 2)]
    if W == 32:
        extra = {
            "add": [(0x3fffffff, 1), (0x12345678, 0x87654321), (0xfffffffe, 3)],
            "sub": [(0, 0x80000000), (0x12345678, 0x87654321), (3, 5)],
            "mul": [(0x10000000, 4096), (0x01234567, 0x76543210), (0xffff, 0x10001), (-7, 3), (0x8000, 0x10000)],
            "div_s": [(7, 2), (-7, 2), (7, -2), (-7, -2), (5, 5), (11, 5), (17, 7), (-1, 2), (0x80000000, 0x80000000), (0x80000001, -1), (0x80000000, 3), (0, -1)],
            "div_u": [(7, 2), (-1, 2), (0x80000000, 2), (0x8ff00ff0, 0x10001), (0x80000001, 1000), (11, 5), (0, 0xffffffff), (0xffffffff, 0xffffffff)],
            "rem_s": [(7, 2), (-7, 2), (7, -2), (-7, -2), (11, 5), (17, 7), (0x80000000, 3), (0x80000001, -1), (0x7fffffff, 0x80000000), (-5, 5), (0, -1)],
            "rem_u": [(7, 2), (-1, 2), (0x80000000, 2), (0x8ff00ff0, 0x10001), (0x80000001, 1000), (11, 5), (0xffffffff, 0x80000000)],
            "and": [(0xf0f0ffff, 0xfffff0f0), (0x55555555, 0xaaaaaaaa)],
            "or": [(0xf0f0ffff, 0xfffff0f0), (0x55555555, 0xaaaaaaaa)],
            "xor": [(0xf0f0ffff, 0xfffff0f0), (0x55555555, 0xaaaaaaaa)],
            "shl": [(1, 31), (1, 32), (1, 33), (1, -1), (0x7fffffff, 1), (0x40000000, 1), (0xabcd, 4), (-1, 0x7fffffff), (5, 0xffffffe0), (1, 0x80000000)],
            "shr_s": [(-1, 1), (0x80000000, 31), (0x80000000, 32), (0x80000000, 33), (0x7fffffff, -1), (0x40000000, 30), (-8, 2), (8, 0xffffffe1), (0x80000000, 0x80000000)],
            "shr_u": [(-1, 1), (0x80000000, 31), (0x80000000, 32), (0x80000000, 33), (-1, -1), (0x40000000, 30), (-8, 2), (0xffffffff, 0x7fffffff)],
            "rotl": [(1, 1), (0x80000000, 1), (0xabcd9876, 1), (0xfe00dc00, 4), (0xb0c1d2e3, 5), (0x00008000, 37), (0xb0c1d2e3, 0xff05), (0x769abcdf, 0xffffffed), (1, 31), (1, 32), (0x80000000, -1)],
            "rotr": [(1, 1), (0x80000000, 1), (0xabcd9876, 1), (0xfe00dc00, 4), (0xb0c1d2e3, 5), (0x00008000, 37), (0xb0c1d2e3, 0xff05), (0x769abcdf, 0xffffffed), (1, 31), (1, 32), (1, -1)],
        }
        unvals = [0, 1, -1, 0x80000000, 0x7fffffff, 0x00008000, 0x00010000, 0xaaaaaaaa, 0x55555555, 0xdeadbeef, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x12345680, 0xfedcba7f, 0x01238000, 0x00000100, 0x40000000]
        relvals = [(0, 0), (1, 1), (-1, 1), (1, -1), (0x80000000, 0x80000000), (0x7fffffff, 0x7fffffff), (-1, -1), (1, 0), (0, 1), (0x80000000, 0), (0, 0x80000000), (0x80000000, -1), (-1, 0x80000000), (0x80000000, 0x7fffffff), (0x7fffffff, 0x80000000)]
    else:
        extra = {
            "add": [(0x3fffffffffffffff, 1), (0x0123456789abcdef, 0xfedcba9876543210), (0xffffffff, 1), (0xfffffffffffffffe, 3)],
            "sub": [(0, MIN), (0x0123456789abcdef, 0xfedcba9876543210), (0x100000000, 1), (3, 5)],
            "mul": [(0x1000000000000000, 4096), (0x0123456789abcdef, 0xfedcba9876543210), (0xffffffff, 0xffffffff), (0x100000000, 0x100000000), (-7, 3), (0x7fffffff, 0x7fffffff)],
            "div_s": [(7, 2), (-7, 2), (7, -2), (-7, -2), (5, 5), (11, 5), (17, 7), (-1, 2), (MIN, MIN), (MIN + 1, -1), (MIN, 3), (0xc000000000000000, 0x100000000), (0, -1)],
            "div_u": [(7, 2), (-1, 2), (MIN, 2), (0x8ff00ff00ff00ff0, 0x100000001), (MIN + 1, 1000), (11, 5), (0, M), (M, M), (M, 0xffffffff)],
            "rem_s": [(7, 2), (-7, 2), (7, -2), (-7, -2), (11, 5), (17, 7), (MIN, 3), (MIN + 1, -1), (MAXS, MIN), (-5, 5), (0x8ff00ff00ff00ff0, 0x100000001), (0, -1)],
            "rem_u": [(7, 2), (-1, 2), (MIN, 2), (0x8ff00ff00ff00ff0, 0x100000001), (MIN + 1, 1000), (11, 5), (M, MIN)],
            "and": [(0xf0f0ffff00000000, 0xfffff0f0ffffffff), (0x5555555555555555, 0xaaaaaaaaaaaaaaaa)],
            "or": [(0xf0f0ffff00000000, 0xfffff0f0ffffffff), (0x5555555555555555, 0xaaaaaaaaaaaaaaaa)],
            "xor": [(0xf0f0ffff00000000, 0xfffff0f0ffffffff), (0x5555555555555555, 0xaaaaaaaaaaaaaaaa)],
            "shl": [(1, 31), (1, 32), (1, 63), (1, 64), (1, 65), (1, -1), (MAXS, 1), (0x4000000000000000, 1), (0xabcd, 36), (-1, 0x7fffffffffffffff), (5, 0xffffffffffffffc0), (1, MIN)],
            "shr_s": [(-1, 1), (MIN, 63), (MIN, 64), (MIN, 65), (MAXS, -1), (0x4000000000000000, 62), (-8, 2), (MIN, 32), (8, 0xffffffffffffffc1), (MIN, MIN)],
            "shr_u": [(-1, 1), (MIN, 63), (MIN, 64), (MIN, 65), (-1, -1), (0x4000000000000000, 62), (-8, 2), (MIN, 32), (M, 0x7fffffffffffffff)],
            "rotl": [(1, 1), (MIN, 1), (0xabcd987602468ace, 1), (0xfe000000dc000000, 4), (0xabcd1234ef567809, 53), (0xabd1234ef567809c, 63), (0xabcd1234ef567809, 0xf5), (0xabcd7294ef567809, 0xffffffffffffffed), (1, 63), (1, 64), (1, 32), (MIN, -1)],
            "rotr": [(1, 1), (MIN, 1), (0xabcd987602468ace, 1), (0xfe000000dc000000, 4), (0xabcd1234ef567809, 53), (0xabd1234ef567809c, 63), (0xabcd1234ef567809, 0xf5), (0xabcd7294ef567809, 0xffffffffffffffed), (1, 63), (1, 64), (1, 32), (1, -1)],
        }
        unvals = [0, 1, -1, MIN, MAXS, 0x00008000, 0x0000000100000000, 0x00000000ffffffff, 0xaaaaaaaaaaaaaaaa, 0x5555555555555555, 0xdeadbeefcafebabe, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 0x0123456789abcd80, 0x0123456780000000, 0xfedcba987f000000 | 0x7fffffff, 0x8000000000000000 | 0x7f]
        relvals = [(0, 0), (1, 1), (-1, 1), (1, -1), (MIN, MIN), (MAXS, MAXS), (-1, -1), (1, 0), (0, 1), (MIN, 0), (0, MIN), (MIN, -1), (-1, MIN), (MIN, MAXS), (MAXS, MIN), (0x100000000, 0xffffffff), (0xffffffff, 0x100000000)]

    out = []
    p = out.append
    p(f";; {T}.wast -- {T} integer arithmetic, bitwise, shift/rotate, bit counting,")
    p(f";; sign-extension, test and comparison instructions of WebAssembly 2.0.")
    p(f";; Covers wrap-around, division traps (by zero, signed overflow),")
    p(f";; shift counts >= bit width (taken modulo {W}), and signed/unsigned views.")
    p("")
    p("(module")
    for n in binops:
        p(f'  (func (export "{n}") (param $x {T}) (param $y {T}) (result {T}) ({T}.{n} (local.get $x) (local.get $y)))')
    for n in unops:
        p(f'  (func (export "{n}") (param $x {T}) (result {T}) ({T}.{n} (local.get $x)))')
    for n in testops:
        p(f'  (func (export "{n}") (param $x {T}) (result i32) ({T}.{n} (local.get $x)))')
    for n in relops:
        p(f'  (func (export "{n}") (param $x {T}) (param $y {T}) (result i32) ({T}.{n} (local.get $x) (local.get $y)))')
    p(")")
    count = 0
    for n, f in binops.items():
        p("")
        p(f";; {T}.{n}")
        seen = set()
        for a, b in common + extra.get(n, []):
            key = (u(a), u(b))
            if key in seen: continue
            seen.add(key)
            r = f(a, b)
            if isinstance(r, str):
                p(f'(assert_trap (invoke "{n}" ({T}.const {lit(a)}) ({T}.const {lit(b)})) "{r}")')
            else:
                p(f'(assert_return (invoke "{n}" ({T}.const {lit(a)}) ({T}.const {lit(b)})) ({T}.const {lit(r)}))')
            count += 1
    for n, f in unops.items():
        p("")
        p(f";; {T}.{n}")
        for a in unvals:
            p(f'(assert_return (invoke "{n}" ({T}.const {lit(a)})) ({T}.const {lit(f(a))}))')
            count += 1
    for n, f in testops.items():
        p("")
        p(f";; {T}.{n}")
        for a in unvals[:8]:
            p(f'(assert_return (invoke "{n}" ({T}.const {lit(a)})) (i32.const {f(a)}))')
            count += 1
    for n, f in relops.items():
        p("")
        p(f";; {T}.{n}")
        for a, b in relvals:
            p(f'(assert_return (invoke "{n}" ({T}.const {lit(a)}) ({T}.const {lit(b)})) (i32.const {int(f(a, b))}))')
            count += 1
    return "\n".join(out) + "\n", count

def gen_const(W):
    """Operations with a constant operand (exercise strength-reduced lowerings and constant folding)."""
    T = f"i{W}"
    M = (1 << W) - 1
    MIN = 1 << (W - 1)
    def u(x): return x & M
    def s(x):
        x &= M
        return x - (1 << W) if x & MIN else x
    def lit(x):
        v = s(x)
        if -100000 <= v <= 100000: return str(v)
        return "0x%0*x" % (W // 4, u(x))
    def tdiv(a, b):
        q = abs(a) // abs(b)
        return q if (a < 0) == (b < 0) else -q
    def div_s(a, b):
        a, b = s(a), s(b)
        if b == 0: return "integer divide by zero"
        if a == -MIN and b == -1: return "integer overflow"
        return tdiv(a, b)
    def rem_s(a, b):
        a, b = s(a), s(b)
        if b == 0: return "integer divide by zero"
        return a - b * tdiv(a, b)
    def div_u(a, b):
        if u(b) == 0: return "integer divide by zero"
        return u(a) // u(b)
    def rem_u(a, b):
        if u(b) == 0: return "integer divide by zero"
        return u(a) % u(b)
    ops = {"div_s": div_s, "rem_s": rem_s, "div_u": div_u, "rem_u": rem_u,
           "mul": lambda a, b: u(a) * u(b)}
    consts_for = {"mul": [8, -8, 7]}
    default_consts = [2, 8, -1, -8, 7, -7, MIN]
    inputs = [0, 1, -1, 7, -7, -9, 16, MIN, MIN + 1, MIN - 1]
    out = []
    p = out.append
    p(f";; Division, remainder and multiplication by constant divisors/multipliers,")
    p(f";; which compilers commonly strength-reduce (shifts, magic numbers).")
    p("(module")
    names = []
    for op in ops:
        for c in consts_for.get(op, default_consts):
            nm = f"{op}_by_{'m' if s(c) < 0 else ''}{abs(s(c))}"
            names.append((nm, op, c))
            p(f'  (func (export "{nm}") (param $x {T}) (result {T}) ({T}.{op} (local.get $x) ({T}.const {lit(c)})))')
    p(")")
    n = 0
    for nm, op, c in names:
        p(f";; {nm}")
        for a in inputs:
            r = ops[op](a, c)
            if isinstance(r, str):
                p(f'(assert_trap (invoke "{nm}" ({T}.const {lit(a)})) "{r}")')
            else:
                p(f'(assert_return (invoke "{nm}" ({T}.const {lit(a)})) ({T}.const {lit(r)}))')
            n += 1
    return "\n".join(out) + "\n", n

if __name__ == "__main__":
    W = int(sys.argv[1])
    text, n = gen(W)
    t2, n2 = gen_const(W)
    text += "\n" + t2
    n += n2
    extra_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"i{W}_extra.wast")
    try:
        text += "\n" + open(extra_path).read()
    except FileNotFoundError:
        pass
    open(sys.argv[2], "w").write(text)
    print(n, file=sys.stderr)
