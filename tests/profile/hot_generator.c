/*
 * hot_generator.c - a generator fiber whose time goes into one function.
 *
 * main() pulls N values from a generator running on a fiber of
 * tests/programs/fibers/fiber.wat (stack switching continuations); the
 * generator computes each value with hot_digest(), a loop that takes
 * almost all of the run's time. A profiler that crosses continuation
 * boundaries sees hot_digest <- generator <- (fiber entry) <- fiber_resume
 * <- main. Used by tools/tests/perf.rs and tools/tests/profile.rs.
 *
 *   clang --target=wasm32-wasi -O1 -g hot_generator.c -o hot_generator.wasm \
 *       -Wl,--import-table
 *   switchyard run --preload env=../programs/fibers/fiber.wat \
 *       hot_generator.wasm [N]
 */
#include <stdio.h>
#include <stdlib.h>

typedef int (*fiber_fn)(int arg, int first);

#define FIBER_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
FIBER_IMPORT(fiber_new) int fiber_new(fiber_fn fn, int arg);
FIBER_IMPORT(fiber_resume) int fiber_resume(int h, int v);
FIBER_IMPORT(fiber_yield) int fiber_yield(int v);
FIBER_IMPORT(fiber_finished) int fiber_finished(void);

/* The hot spot: a few thousand rounds of integer mixing per value. */
__attribute__((noinline)) static unsigned hot_digest(unsigned x)
{
    for (int round = 0; round < 20000; round++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x += (unsigned)round;
    }
    return x;
}

/* The generator's locals stay in Wasm locals (nothing address-taken), so it
 * needs no shadow stack of its own. */
static int generator(int n, int first)
{
    unsigned acc = (unsigned)first;
    for (int i = 0; i < n; i++) {
        acc = hot_digest(acc + (unsigned)i);
        fiber_yield((int)acc);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    int g = fiber_new(generator, n);
    unsigned sum = 0;
    int count = 0;
    int v = fiber_resume(g, 1);
    while (!fiber_finished()) {
        sum += (unsigned)v;
        count++;
        v = fiber_resume(g, 0);
    }
    printf("%d values, sum %u\n", count, sum);
    return 0;
}
