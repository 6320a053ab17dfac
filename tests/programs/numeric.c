/*
 * numeric.c - integer and floating-point arithmetic, conversions, libm,
 * printf formatting, strtod, qsort and bsearch.
 *
 * The operands are read through volatile variables so that the compiler
 * cannot fold the arithmetic away at -O2: the engine has to execute it.
 * Only fixed-width types are used, so the output is the same on wasm32 and
 * on a 64-bit host.  No NaN is printed directly (its sign differs between
 * hosts); integer division never divides INT_MIN by -1 (which traps).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t checksum = 0xcbf29ce484222325ull; /* FNV-1a over results */

static void mix(uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        checksum ^= (v >> (8 * i)) & 0xFF;
        checksum *= 0x100000001b3ull;
    }
}

static uint64_t bits_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static uint32_t bits_of_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ------------------------------------------------------------------ */

static volatile int32_t v32[] = {7, -7, 2, -2, 1, -1, 0, 3, 100, INT32_MAX, INT32_MIN, 65536};
static volatile int64_t v64[] = {
    7, -7, 2, -2, 3, -1, 1, 1000000007, -1000000007, INT64_MAX, INT64_MIN,
    0x123456789abcdefll, -0x123456789abcdefll, 4294967296ll, 4294967295ll,
};
#define N32 ((int)(sizeof v32 / sizeof v32[0]))
#define N64 ((int)(sizeof v64 / sizeof v64[0]))

static void integer_division(void)
{
    printf("== integer division\n");
    static const int32_t pairs[][2] = {{7, 2}, {-7, 2}, {7, -2}, {-7, -2}, {0, 5}, {1, 3}, {-1, 3}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        volatile int32_t a = pairs[i][0], b = pairs[i][1];
        volatile uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
        printf("%3" PRId32 " / %2" PRId32 " = %2" PRId32 "  %% = %2" PRId32
               "  unsigned %10" PRIu32 " / %10" PRIu32 " = %10" PRIu32 " %% %10" PRIu32 "\n",
               a, b, a / b, a % b, ua, ub, ua / ub, ua % ub);
    }
    /* every pair, skipping division by zero and MIN / -1 */
    uint64_t count = 0;
    for (int i = 0; i < N32; i++)
        for (int j = 0; j < N32; j++) {
            int32_t a = v32[i], b = v32[j];
            if (b == 0 || (a == INT32_MIN && b == -1)) continue;
            mix((uint64_t)(int64_t)(a / b));
            mix((uint64_t)(int64_t)(a % b));
            mix((uint32_t)a / (uint32_t)b);
            mix((uint32_t)a % (uint32_t)b);
            count++;
        }
    for (int i = 0; i < N64; i++)
        for (int j = 0; j < N64; j++) {
            int64_t a = v64[i], b = v64[j];
            if (b == 0 || (a == INT64_MIN && b == -1)) continue;
            mix((uint64_t)(a / b));
            mix((uint64_t)(a % b));
            mix((uint64_t)a / (uint64_t)b);
            mix((uint64_t)a % (uint64_t)b);
            count++;
        }
    printf("%" PRIu64 " division pairs, checksum %016" PRIx64 "\n", count, checksum);
    volatile int64_t big = INT64_MIN;
    printf("INT64_MIN / 2 = %" PRId64 ", INT64_MIN %% 7 = %" PRId64 ", INT64_MIN / 1 = %" PRId64 "\n",
           big / 2, big % 7, big / 1);
    volatile uint64_t ubig = UINT64_MAX;
    printf("UINT64_MAX / 3 = %" PRIu64 ", %% 10 = %" PRIu64 ", / 2^32 = %" PRIu64 "\n",
           ubig / 3, ubig % 10, ubig / (uint64_t)4294967296u);
    /* division by constants becomes multiplication by magic numbers */
    int64_t s = 0;
    for (volatile int64_t k = -1000; k <= 1000; k++)
        s += k / 3 + k % 3 + k / 7 + k % 7 + k / 16 + k % 16 + (int64_t)((uint64_t)k / 10);
    printf("sum of k/3 + k%%3 + k/7 + k%%7 + k/16 + k%%16 + (u64)k/10 for k in [-1000, 1000]: %" PRId64 "\n", s);
}

static void integer_ops(void)
{
    printf("== integer operations\n");
    volatile uint32_t a = 0xDEADBEEFu, b = 0x12345678u;
    printf("u32: a+b=%08" PRIx32 " a-b=%08" PRIx32 " b-a=%08" PRIx32 " a*b=%08" PRIx32 "\n",
           a + b, a - b, b - a, a * b);
    volatile uint64_t c = 0xDEADBEEFCAFEBABEull, d = 0x0123456789ABCDEFull;
    printf("u64: c+d=%016" PRIx64 " c-d=%016" PRIx64 " c*d=%016" PRIx64 "\n", c + d, c - d, c * d);
    volatile int32_t m = INT32_MAX;
    printf("i32 wrap: INT32_MAX + 1 as unsigned add = %" PRId32 "\n", (int32_t)((uint32_t)m + 1u));
    volatile int64_t n = -5;
    printf("shifts: -5 >> 1 = %" PRId64 ", -5 << 3 = %" PRId64 ", (u64)-5 >> 60 = %" PRIu64 "\n",
           n >> 1, (int64_t)((uint64_t)n << 3), (uint64_t)n >> 60);
    uint64_t acc = 0;
    for (volatile int k = 0; k < 64; k++) {
        uint64_t x = c;
        acc ^= (x << k) ^ (x >> k) ^ (uint64_t)((int64_t)x >> k);
        acc += (x << k | x >> ((64 - k) & 63)); /* rotate left */
    }
    printf("64-bit shift/rotate mix: %016" PRIx64 "\n", acc);
    uint32_t acc32 = 0;
    for (volatile int k = 0; k < 32; k++) {
        uint32_t x = a;
        acc32 ^= (x << k) ^ (x >> k) ^ (uint32_t)((int32_t)x >> k);
        acc32 += (x >> k | x << ((32 - k) & 31)); /* rotate right */
    }
    printf("32-bit shift/rotate mix: %08" PRIx32 "\n", acc32);
    volatile uint64_t bitsrc = 0x00F0000000001000ull;
    volatile uint32_t bitsrc32 = 0x00080010u;
    printf("popcount %d %d, clz %d %d, ctz %d %d, bswap %016" PRIx64 " %08" PRIx32 "\n",
           __builtin_popcountll(bitsrc), __builtin_popcount(bitsrc32),
           __builtin_clzll(bitsrc), __builtin_clz(bitsrc32),
           __builtin_ctzll(bitsrc), __builtin_ctz(bitsrc32),
           __builtin_bswap64(bitsrc), __builtin_bswap32(bitsrc32));
    volatile int8_t i8 = -100;
    volatile uint8_t u8 = 200;
    volatile int16_t i16 = -30000;
    volatile uint16_t u16 = 60000;
    printf("narrow: %d %u %d %u, sums %d %d, truncations %d %d\n", i8, u8, i16, u16,
           (int8_t)(i8 + i8), (uint8_t)(u8 + u8), (int16_t)(i16 + i16), (int)(uint16_t)(u16 * 2u));
    /* 128-bit arithmetic (compiler-rt on wasm32).  The remainder is computed
     * by hand: Debian's wasm32 __umodti3 needs the stack protector's
     * symbols, which wasi-libc lacks, so `%` on __int128 fails to link. */
    unsigned __int128 p = (unsigned __int128)c * d;
    unsigned __int128 q = p / 1000000007u;
    printf("128-bit: c*d = %016" PRIx64 "%016" PRIx64 ", / 1000000007 = %016" PRIx64 "%016" PRIx64
           ", rem = %" PRIu64 "\n",
           (uint64_t)(p >> 64), (uint64_t)p, (uint64_t)(q >> 64), (uint64_t)q,
           (uint64_t)(p - q * 1000000007u));
    /* a 64-bit LCG and a modular exponentiation */
    uint64_t x = 1;
    for (int i = 0; i < 1000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t base = 2, result = 1, mod = 1000000007ull;
    for (uint64_t e = 1000000006ull; e; e >>= 1) {
        if (e & 1) result = result * base % mod;
        base = base * base % mod;
    }
    printf("lcg^1000 = %016" PRIx64 ", 2^(p-1) mod p = %" PRIu64 "\n", x, result);
    printf("formats: [%d] [%5d] [%-5d] [%05d] [%+d] [%x] [%X] [%#x] [%o] [%#o] [%c] [%.3s] [%*d] [%-*d]\n",
           42, 42, 42, 42, 42, 255, 255, 255, 8, 8, 'Z', "abcdef", 6, -7, 4, 3);
    printf("limits: %" PRId64 " %" PRId64 " %" PRIu64 " %" PRId32 " %" PRId32 "\n",
           INT64_MIN, INT64_MAX, UINT64_MAX, INT32_MIN, INT32_MAX);
}

/* ------------------------------------------------------------------ */

static volatile double vd[] = {0.1, 0.2, 0.3, 1.0 / 3.0, 2.5, -2.5, 1e300, 1e-300, 123456.789, -0.0};

static void float_arith(void)
{
    printf("== floating point\n");
    double a = vd[0], b = vd[1], c = vd[2];
    printf("0.1 + 0.2 = %.17g, == 0.3: %d, 0.1 + 0.2 - 0.3 = %.17g\n", a + b, a + b == c, a + b - c);
    printf("1/3 = %.20f, %e, %.3e, %g, %G\n", vd[3], vd[3], vd[3], vd[3], vd[3] * 1e20);
    printf("%%f of 123456.789: [%f] [%.0f] [%.1f] [%12.3f] [%-12.2f] [%+.4f] [%012.2f]\n",
           vd[8], vd[8], vd[8], vd[8], vd[8], vd[8], vd[8]);
    printf("%%g: [%g] [%g] [%g] [%g] [%g] [%.10g] [%#g]\n", 100000.0 * vd[4], 1000000.0 * vd[4],
           1e-4 * vd[4], 1e-5 * vd[4], vd[8], vd[8], vd[4]);
    printf("%%a: [%a] [%a] [%a] [%A]\n", 1.0 * vd[4] / vd[4], vd[0], vd[4], -vd[3]);
    double inf = vd[6] * vd[6];
    double ninf = -inf;
    double tiny = vd[7] * vd[7];
    double nan_value = inf - inf;
    printf("1e300*1e300 = %f %e %g, negated %f, 1e-300^2 = %g, isnan(inf - inf) = %d, isinf = %d\n",
           inf, inf, inf, ninf, tiny, isnan(nan_value) != 0, isinf(ninf) != 0);
    printf("nan compares: == %d, != %d, < %d, > %d\n", nan_value == nan_value,
           nan_value != nan_value, nan_value < 1.0, nan_value > 1.0);
    double nz = vd[9];
    printf("-0.0: %f %g %e, 1/-0.0 = %f, -0.0 == 0.0: %d, signbit %d\n", nz, nz, nz, 1.0 / nz,
           nz == 0.0, signbit(nz) != 0);
    printf("DBL_MAX %.17g, DBL_MIN %.17g, DBL_EPSILON %.17g, denormal min %g\n", DBL_MAX, DBL_MIN,
           DBL_EPSILON, DBL_MIN * DBL_EPSILON);
    printf("FLT_MAX %.9g, FLT_EPSILON %.9g\n", (double)FLT_MAX, (double)FLT_EPSILON);

    volatile float fa = 0.1f, fb = 16777216.0f;
    float f3 = fa * 3.0f;
    printf("float: 0.1f = %.10f, 0.1f*3 = %.10f (bits %08" PRIx32 "), 2^24+1 = %.1f, "
           "1/3f = %.9g, (double)0.1f = %.17g\n",
           (double)fa, (double)f3, bits_of_float(f3), (double)(fb + 1.0f),
           (double)(1.0f / (float)vd[4] * 2.5f / 3.0f), (double)fa);

    /* sums: naive float and double harmonic series, Kahan summation */
    float hf = 0.0f;
    double hd = 0.0, kahan = 0.0, comp = 0.0;
    for (volatile int i = 1; i <= 100000; i++) {
        hf += 1.0f / (float)i;
        hd += 1.0 / i;
        double y = 0.1 - comp;
        double t = kahan + y;
        comp = (t - kahan) - y;
        kahan = t;
    }
    printf("harmonic(1e5): float %.9g, double %.17g; 1e5 * 0.1 kahan %.17g\n", (double)hf, hd, kahan);
    mix(bits_of(hd));
    mix(bits_of_float(hf));
    mix(bits_of(kahan));

    /* Mandelbrot set: pure IEEE arithmetic, no libm */
    int total = 0;
    for (int y = 0; y < 12; y++) {
        char row[41];
        for (int x = 0; x < 40; x++) {
            double cr = -2.2 + x * 0.075 * vd[4] / 2.5, ci = -1.2 + y * 0.2;
            double zr = 0, zi = 0;
            int it = 0;
            while (it < 200 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
            row[x] = " .:-=+*#%@"[it >= 200 ? 9 : it % 9];
        }
        row[40] = 0;
        printf("|%s|\n", row);
    }
    printf("mandelbrot iterations: %d\n", total);
}

static void conversions(void)
{
    printf("== conversions\n");
    static const double ds[] = {0.0, -0.5, 0.5, 1.5, -1.5, 2.5, -2.9, 2.9, 1e9, -2147483648.0,
                                2147483647.0, 4294967295.0, 9007199254740993.0, -9.2e18,
                                9.2e18, 1.8e19};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        volatile double d = ds[i];
        printf("%-22.17g", d);
        if (d > -2147483649.0 && d < 2147483648.0) printf(" i32 %11" PRId32, (int32_t)d);
        else printf(" i32 %11s", "-");
        if (d > -1.0 && d < 4294967296.0) printf(" u32 %10" PRIu32, (uint32_t)d);
        else printf(" u32 %10s", "-");
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) printf(" i64 %20" PRId64, (int64_t)d);
        else printf(" i64 %20s", "-");
        if (d > -1.0 && d < 18446744073709551616.0) printf(" u64 %20" PRIu64, (uint64_t)d);
        else printf(" u64 %20s", "-");
        printf(" f32 %.9g\n", (double)(float)d);
    }
    static const int64_t is[] = {0, 1, -1, 16777217, 9007199254740993ll, INT64_MAX, INT64_MIN,
                                 -9007199254740993ll};
    for (size_t i = 0; i < sizeof is / sizeof is[0]; i++) {
        volatile int64_t v = is[i];
        printf("i64 %20" PRId64 " -> f64 %.17g f32 %.9g; as u64 -> f64 %.17g f32 %.9g\n", v, (double)v,
               (double)(float)v, (double)(uint64_t)v, (double)(float)(uint64_t)v);
    }
    volatile uint32_t u = 4294967295u;
    volatile int32_t s = -2147483647 - 1;
    printf("u32 max -> f64 %.17g f32 %.9g; i32 min -> f64 %.17g f32 %.9g\n", (double)u,
           (double)(float)u, (double)s, (double)(float)s);
    volatile double third = vd[3];
    float f = (float)third;
    printf("double 1/3 -> float %.9g (bits %08" PRIx32 ") -> double %.17g\n", (double)f,
           bits_of_float(f), (double)f);
    printf("bits: 1.0 %016" PRIx64 ", -2.5 %016" PRIx64 ", 0.1 %016" PRIx64 ", -0.0 %016" PRIx64 "\n",
           bits_of(1.0 * vd[4] / vd[4]), bits_of(vd[5]), bits_of(vd[0]), bits_of(vd[9]));
}

static void libm(void)
{
    printf("== libm\n");
    double two = vd[4] - 0.5, x = vd[8] / 100000.0; /* 2.0 and 1.23456789 */
    printf("sqrt(2) %.17g, cbrt(27) %.12g, hypot(3,4) %.17g\n", sqrt(two), cbrt(27.0 * two / 2.0),
           hypot(3.0 * two / 2.0, 2.0 * two));
    printf("exp(1) %.12g, log(10) %.12g, log10(1e7) %.12g, log2(1024) %.12g, pow(2,0.5) %.12g, "
           "pow(-2,3) %.12g\n", exp(two / 2.0), log(5.0 * two), log10(1e7 * two / 2.0),
           log2(512.0 * two), pow(two, 0.5), pow(-two, 3.0));
    printf("sin %.12g cos %.12g tan %.12g atan2 %.12g asin %.12g acos %.12g atan %.12g\n", sin(x),
           cos(x), tan(x), atan2(-x, -two), asin(x / two), acos(x / two), atan(x));
    printf("sinh %.12g cosh %.12g tanh %.12g exp(-745) %g expm1(1e-10) %.12g log1p(1e-10) %.12g\n",
           sinh(x), cosh(x), tanh(x), exp(-745.0 * two / 2.0), expm1(1e-10 * two / 2.0),
           log1p(1e-10 * two / 2.0));
    static const double rs[] = {2.5, -2.5, 3.5, -3.5, 2.4999, -0.5, 0.5, 1e16 + 1.0};
    for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
        volatile double r = rs[i];
        printf("%-8g floor %g ceil %g trunc %g round %g rint %g nearbyint %g llround %lld\n", r,
               floor(r), ceil(r), trunc(r), round(r), rint(r), nearbyint(r), llround(r));
    }
    int e;
    double fr = frexp(vd[8], &e);
    double ip, fp = modf(-vd[8], &ip);
    printf("frexp(123456.789) = %.17g * 2^%d, ldexp(0.75, 10) = %g, modf(-123456.789) = %.17g + %.17g\n",
           fr, e, ldexp(0.75 * two / 2.0, 10), ip, fp);
    printf("fmod(10.5, 3) %.17g, fmod(-10.5, 3) %.17g, remainder(10.5, 3) %.17g, fabs %g, copysign %g\n",
           fmod(10.5 * two / 2.0, 3.0), fmod(-10.5 * two / 2.0, 3.0), remainder(10.5 * two / 2.0, 3.0),
           fabs(-x), copysign(3.0, vd[9]));
    printf("fmin %g fmax %g fmin(nan, 1) %g fmax(1, nan) %g fma(0.1, 10, -1) %.17g\n", fmin(x, two),
           fmax(x, two), fmin(vd[6] * vd[6] - vd[6] * vd[6], 1.0), fmax(1.0, vd[6] * vd[6] - vd[6] * vd[6]),
           fma(vd[0], 10.0, -1.0));
    /* Simpson's rule for the integral of sin over [0, pi], which is 2 */
    int n = 1000;
    double h = M_PI / n, sum = sin(0.0) + sin(M_PI);
    for (int i = 1; i < n; i++) sum += (i % 2 ? 4.0 : 2.0) * sin(i * h);
    printf("simpson integral of sin over [0, pi]: %.10f\n", sum * h / 3.0);
    /* Newton's method for sqrt(2) from above, counting steps */
    double g = two;
    int steps = 0;
    while (fabs(g * g - two) > 1e-15 && steps < 100) { g = (g + two / g) / 2.0; steps++; }
    printf("newton sqrt(2) = %.17g after %d steps, equals sqrt: %d\n", g, steps, g == sqrt(two));
}

static void parsing(void)
{
    printf("== strtod, strtol, snprintf\n");
    static const char *inputs[] = {"3.14159", "1e-5", "-0", "0x1.8p3", "inf", "-Infinity",
                                   "2.2250738585072014e-308", "123456789012345678901234567890",
                                   "0.1e1x", "  42", "1.7976931348623157e308", "4.9e-324"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *end;
        double d = strtod(inputs[i], &end);
        printf("strtod(\"%s\") = %.17g, consumed %d\n", inputs[i], d, (int)(end - inputs[i]));
    }
    static const char *ints[] = {"123", "-456", "0x1F", "0777", "9223372036854775807", "z"};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        char *end;
        long long v = strtoll(ints[i], &end, 0);
        printf("strtoll(\"%s\", 0) = %lld, consumed %d\n", ints[i], v, (int)(end - ints[i]));
    }
    char buf[16];
    volatile size_t size = sizeof buf; /* not a constant: no truncation warning */
    int n = snprintf(buf, size, "%s-%d-%.2f", "truncated", 12345, 6.789);
    printf("snprintf returned %d, buffer \"%s\"\n", n, buf);
    printf("atoi(\"  -17abc\") = %d, strtoul(\"ff\", 16) = %lu\n", atoi("  -17abc"),
           (unsigned long)strtoul("ff", NULL, 16));
}

/* ------------------------------------------------------------------ */

struct record {
    int32_t key;
    uint32_t id;
    double weight;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* a total order: equal keys are ordered by id, so any qsort gives the same result */
static int cmp_record(const void *a, const void *b)
{
    const struct record *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int64_t vals[2000];
static double dvals[500];
static struct record recs[300];

static void sorting(void)
{
    printf("== qsort and bsearch\n");
    uint64_t state = 42;
    for (int i = 0; i < 2000; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        vals[i] = (int64_t)state >> 20;
    }
    qsort(vals, 2000, sizeof vals[0], cmp_i64);
    int sorted = 1;
    for (int i = 1; i < 2000; i++) sorted &= vals[i - 1] <= vals[i];
    for (int i = 0; i < 2000; i++) mix((uint64_t)vals[i]);
    printf("2000 int64: sorted %d, min %" PRId64 ", median %" PRId64 ", max %" PRId64 "\n", sorted,
           vals[0], vals[1000], vals[1999]);
    int64_t key = vals[1234];
    int64_t *found = bsearch(&key, vals, 2000, sizeof vals[0], cmp_i64);
    int64_t missing = vals[0] - 1;
    printf("bsearch: found at %d, missing found %d\n", found ? (int)(found - vals) : -1,
           bsearch(&missing, vals, 2000, sizeof vals[0], cmp_i64) != NULL);

    for (int i = 0; i < 500; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        dvals[i] = (double)(int32_t)(state >> 32) / 1000.0;
    }
    qsort(dvals, 500, sizeof dvals[0], cmp_double_desc);
    printf("500 doubles descending: %.3f %.3f %.3f ... %.3f\n", dvals[0], dvals[1], dvals[2], dvals[499]);
    for (int i = 0; i < 500; i++) mix(bits_of(dvals[i]));

    for (int i = 0; i < 300; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        recs[i].key = (int32_t)(state >> 59) - 16; /* many equal keys */
        recs[i].id = (uint32_t)i;
        recs[i].weight = (double)(state >> 40 & 0xFFFF) / 256.0;
    }
    qsort(recs, 300, sizeof recs[0], cmp_record);
    double wsum = 0.0;
    for (int i = 0; i < 300; i++) {
        mix((uint64_t)(int64_t)recs[i].key);
        mix(recs[i].id);
        wsum += recs[i].weight;
    }
    printf("300 records: first (%" PRId32 ", %" PRIu32 "), last (%" PRId32 ", %" PRIu32 "), weights %.4f\n",
           recs[0].key, recs[0].id, recs[299].key, recs[299].id, wsum);
}

int main(void)
{
    integer_division();
    integer_ops();
    float_arith();
    conversions();
    libm();
    parsing();
    sorting();
    printf("final checksum %016" PRIx64 "\n", checksum);
    return 0;
}
