/*
 * many.c - many fibers at once, for `switchyard bt --pid`: spawns N workers
 * (default 10000, or argv[1]) that each run until their first yield, a
 * few that are never started, then waits (sleep) with all of them parked
 * so that a debugger can look. With a second argument `leak`, it instead
 * creates and abandons fibers in a loop, then exits with them unfinished;
 * with `trap`, the last fiber it starts divides by zero.
 */
// run.sh wasm flags: -Wl,--import-table
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "many: %s\n", what);
    exit(70);
}

#include "fiber.h"

static int worker(int arg, int first)
{
    (void)first;
    int v = arg;
    for (;;) v = fiber_suspend(v + 1);
    return v;
}

static volatile int zero;

static int crasher(int arg, int first)
{
    return arg / (zero + first);
}

static int never_started(int arg, int first)
{
    return arg + first;
}

static struct fiber *spawn_worker(fiber_fn fn, int arg)
{
    struct fiber *f = xmalloc(sizeof *f);
    fiber_init(f, fn, arg);
    return f;
}

/* Starts every fiber it makes and leaves it suspended: a leak. */
static void leak_one(int i)
{
    struct fiber *f = spawn_worker(worker, i);
    struct fiber *who;
    int finished;
    fiber_run(f, 0, &who, &finished);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    if (argc > 2 && strcmp(argv[2], "leak") == 0) {
        for (int i = 0; i < n; i++) leak_one(i);
        printf("abandoned %d fibers, %d live\n", n, fiber_live());
        return 0;
    }
    for (int i = 0; i < n; i++) {
        struct fiber *f = spawn_worker(worker, i);
        struct fiber *who;
        int finished;
        fiber_run(f, 0, &who, &finished);
    }
    for (int i = 0; i < 3; i++) spawn_worker(never_started, i);
    if (argc > 2 && strcmp(argv[2], "trap") == 0) {
        struct fiber *who;
        int finished;
        fiber_run(spawn_worker(crasher, 1), 0, &who, &finished);
    }
    printf("ready: %d fibers live\n", fiber_live());
    fflush(stdout);
    sleep(600);
    return 0;
}
