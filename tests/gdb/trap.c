/* Divides by zero inside a fiber, for the gdb test of trap reasons:
 * gdb stops on the signal of the trap and the helpers name it. Build:
 * clang --target=wasm32-wasi -g -O0 trap.c -Wl,--import-table; run:
 * switchyard run --preload env=fiber.wat. */
#include <stdio.h>

#define FIBER_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
typedef int (*fiber_fn)(int arg, int first);
FIBER_IMPORT(fiber_new) int fiber_new(fiber_fn fn, int arg);
FIBER_IMPORT(fiber_resume) int fiber_resume(int h, int v);

volatile int divisor = 0;

static int compute(int n, int first) {
    int quotient = n / divisor; /* line 15: traps */
    return quotient + first;
}

int main(void) {
    int g = fiber_new(compute, 7);
    printf("resuming\n");
    fflush(stdout);
    return fiber_resume(g, 0);
}
