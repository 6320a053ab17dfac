/*
 * switch_ring.c - a ring of K fibers passing a token with direct
 * switches (fiber_switch: `switch` in the fiber library, no scheduler in
 * between) for LAPS laps.  The fiber that sees the last hop returns to
 * main's resume; main then resumes every other fiber once so that it
 * returns too.
 */
#include "common.h"

#ifndef K
#define K 64
#endif
#ifndef LAPS
#define LAPS 100000
#endif
#define LIMIT (K * LAPS)

static struct fiber ring[K];
static uint32_t token_hash;

static int member(int i, int first)
{
    int t = first;
    for (;;) {
        if (t >= LIMIT) return t;
        token_hash = mix(token_hash, (uint32_t)(t ^ i));
        t = fiber_switch_to(&ring[(i + 1) % K], t + 1);
    }
}

int main(void)
{
    for (int i = 0; i < K; i++) fiber_init(&ring[i], member, i);
    struct fiber *who;
    int done;
    int last = fiber_run(&ring[0], 0, &who, &done);
    if (!done) die("the ring yielded");
    int finished = 1;
    for (int i = 0; i < K; i++) {
        if (&ring[i] == who) continue;
        struct fiber *w2;
        int d2;
        fiber_run(&ring[i], LIMIT, &w2, &d2);
        if (!d2) die("a ring member yielded");
        finished++;
    }
    printf("switch ring: %d fibers, last token %d from fiber %d, checksum %08x, %u switches\n",
           finished, last, (int)(who - ring), (unsigned)token_hash, (unsigned)stats.switches);
    return 0;
}
