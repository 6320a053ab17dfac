/* Divides by zero inside a fiber, for the gdb tests of trap reasons and of
 * variables at a trap's stop: gdb stops on the signal of the trap, the
 * helpers name it, and the variables of the trapping frame and of its
 * resumer are what the program printed (`name=value`). Build:
 * clang --target=wasm32-wasi -g -O0 trap.c -Wl,--import-table; run:
 * switchyard run --preload env=fiber.wat. */
#include <stdio.h>

#define FIBER_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
typedef int (*fiber_fn)(int arg, int first);
FIBER_IMPORT(fiber_new) int fiber_new(fiber_fn fn, int arg);
FIBER_IMPORT(fiber_resume) int fiber_resume(int h, int v);

volatile int divisor = 0;

static int compute(int n, int first) {
    int scaled = n * 3 + first;
    printf("compute: n=%d first=%d scaled=%d divisor=%d\n", n, first, scaled, divisor);
    fflush(stdout);
    int quotient = scaled / divisor; /* line 20: traps */
    return quotient + first;
}

int main(void) {
    int g = fiber_new(compute, 7);
    printf("main: g=%d\nresuming\n", g); /* line 26 */
    fflush(stdout);
    return fiber_resume(g, 2);
}
