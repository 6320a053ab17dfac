/*
 * generator_pipeline.c - three generators stacked: a source yields
 * 0..N-1, a map stage resumes it and yields each value squared modulo a
 * prime, a filter stage resumes the map and yields the odd ones; main
 * resumes the filter and sums.  Every value crosses two or three
 * resume/yield round trips, each handled by the innermost resume.
 */
#include "common.h"

#ifndef N
#define N 3000000
#endif

static struct fiber source_f, map_f, filter_f;

static int source(int n, int first)
{
    (void)first;
    for (int i = 0; i < n; i++) fiber_suspend(i);
    return -1;
}

static int map(int arg, int first)
{
    (void)arg, (void)first;
    for (;;) {
        struct fiber *who;
        int done;
        int v = fiber_run(&source_f, 0, &who, &done);
        if (done) return -1;
        fiber_suspend((int)(((int64_t)v * v) % 1000003));
    }
}

static int filter(int arg, int first)
{
    (void)arg, (void)first;
    for (;;) {
        struct fiber *who;
        int done;
        int v = fiber_run(&map_f, 0, &who, &done);
        if (done) return -1;
        if (v & 1) fiber_suspend(v);
    }
}

int main(void)
{
    fiber_init(&source_f, source, N);
    fiber_init(&map_f, map, 0);
    fiber_init(&filter_f, filter, 0);
    uint64_t sum = 0;
    uint32_t h = 0;
    int count = 0;
    for (;;) {
        struct fiber *who;
        int done;
        int v = fiber_run(&filter_f, 0, &who, &done);
        if (done) break;
        sum += (uint64_t)v;
        h = mix(h, (uint32_t)v);
        count++;
    }
    printf("generator pipeline: %d values, sum %llu, checksum %08x, %u resumes\n", count,
           (unsigned long long)sum, (unsigned)h, (unsigned)stats.resumes);
    return 0;
}
