/* A generator on the fiber library (tests/programs/fibers/fiber.wat):
 * main resumes `squares`, which yields 1, 4, 9 and returns. For the gdb
 * tests: breakpoints by line, `info continuations`, stepping through
 * resume and suspend. Build: clang --target=wasm32-wasi -g -O0 gen.c
 * -Wl,--import-table; run: switchyard run --preload env=fiber.wat. */
#include <stdio.h>

#define FIBER_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
typedef int (*fiber_fn)(int arg, int first);
FIBER_IMPORT(fiber_new) int fiber_new(fiber_fn fn, int arg);
FIBER_IMPORT(fiber_resume) int fiber_resume(int h, int v);
FIBER_IMPORT(fiber_yield) int fiber_yield(int v);
FIBER_IMPORT(fiber_finished) int fiber_finished(void);

static int squares(int n, int first) {
    int i;
    for (i = 1; i <= n; i++) {
        fiber_yield(i * i); /* line 18: suspends */
    }
    return first;
}

int main(void) {
    int g = fiber_new(squares, 3);
    int total = 0;
    for (;;) {
        int v = fiber_resume(g, 0); /* line 27: resumes */
        if (fiber_finished())
            break;
        total += v; /* line 30 */
    }
    printf("total %d\n", total);
    return total == 14 ? 0 : 1;
}
