/*
 * fresh.c - fibers that are created and never started, for the names
 * Switchyard gives fresh continuations (tools/tests/fresh_names.rs): three
 * `alpha` and two `beta` fibers made at one call site, never resumed. With
 * no argument it says `ready:` and sleeps, so that `switchyard bt --pid`
 * can look; with `trap` it traps instead (for `run --backtrace-all`).
 * Built with -Wl,--import-table and run on ../programs/fibers/fiber.wat.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "fresh: %s\n", what);
    exit(70);
}

#include "../programs/fibers/fiber.h"

static int alpha(int arg, int first)
{
    return arg + first;
}

static int beta(int arg, int first)
{
    return arg * first;
}

static struct fiber *make(fiber_fn fn, int arg)
{
    struct fiber *f = xmalloc(sizeof *f);
    fiber_init(f, fn, arg);
    return f;
}

int main(int argc, char **argv)
{
    for (int i = 0; i < 5; i++) make(i < 3 ? alpha : beta, i);
    if (argc > 1 && strcmp(argv[1], "trap") == 0) __builtin_trap();
    printf("ready: %d fibers live\n", fiber_live());
    fflush(stdout);
    sleep(600);
    return 0;
}
