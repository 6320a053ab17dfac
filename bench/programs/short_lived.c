/*
 * short_lived.c - many short-lived fibers: each is created, resumed,
 * yields twice and returns.  Measures creating and finishing
 * continuations as much as switching.  N stays below the ~32,700
 * continuations Wasmtime 49 can hold in one store (it keeps every
 * continuation's stack).
 */
#include "common.h"

#ifndef N
#define N 10000
#endif

static int body(int arg, int first)
{
    int v = fiber_suspend(arg * 3 + first);
    v = fiber_suspend(v ^ arg);
    return v + arg;
}

int main(void)
{
    uint32_t h = 0;
    for (int i = 0; i < N; i++) {
        struct fiber f;
        struct fiber *who;
        int done;
        fiber_init(&f, body, i);
        int v = fiber_run(&f, 1, &who, &done);
        v = fiber_run(&f, v + 7, &who, &done);
        v = fiber_run(&f, v, &who, &done);
        if (!done) die("a fiber did not finish");
        fiber_release(&f);
        h = mix(h, (uint32_t)v);
    }
    printf("short-lived: %d fibers, checksum %08x, %d live at the end\n", N, (unsigned)h,
           fiber_live());
    return 0;
}
