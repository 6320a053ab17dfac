/*
 * compute.c - the control: compute-bound work with few switches.  Four
 * fibers each run a long integer hash and floating-point loop over their
 * own array, yielding to main only every STEP iterations.
 */
#include "common.h"

#ifndef ITER
#define ITER 100000000
#endif
#define STEP 1000000
#define WORKERS 4
#define LEN 4096

static uint32_t data[WORKERS][LEN];
static double acc[WORKERS];

static int worker(int w, int first)
{
    (void)first;
    uint32_t x = (uint32_t)w * 2654435761u + 1;
    double a = 0;
    for (int i = 0; i < ITER / WORKERS; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        uint32_t *slot = &data[w][x % LEN];
        *slot += x;
        a += (double)(*slot & 0xffff) * 1e-6;
        if (i % STEP == STEP - 1) fiber_suspend(i);
    }
    acc[w] = a;
    return (int)x;
}

int main(void)
{
    struct fiber f[WORKERS];
    int alive = WORKERS, yields = 0;
    int done_flag[WORKERS] = {0};
    uint32_t h = 0;
    for (int w = 0; w < WORKERS; w++) fiber_init(&f[w], worker, w);
    while (alive) {
        for (int w = 0; w < WORKERS; w++) {
            if (done_flag[w]) continue;
            struct fiber *who;
            int done;
            int v = fiber_run(&f[w], 0, &who, &done);
            if (done) {
                done_flag[w] = 1;
                alive--;
                h = mix(h, (uint32_t)v);
            } else {
                yields++;
            }
        }
    }
    for (int w = 0; w < WORKERS; w++)
        for (int i = 0; i < LEN; i++) h = mix(h, data[w][i]);
    printf("compute: %d yields, acc %.6f %.6f %.6f %.6f, checksum %08x\n", yields, acc[0], acc[1],
           acc[2], acc[3], (unsigned)h);
    return 0;
}
