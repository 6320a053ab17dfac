/*
 * trap.c - prints a few lines, then makes the WebAssembly code trap.
 *
 *   trap              executes __builtin_trap() (the `unreachable`
 *                     instruction) in switchyard_test_trap_here()
 *   trap divzero      an integer division by zero
 *   trap overflow     INT32_MIN / -1, an integer overflow
 *   trap memory       a load from an address past the end of memory
 *
 * The call chain main -> trap_outer -> trap_middle -> switchyard_test_trap_here
 * is kept (noinline) so that a backtrace can name these functions.
 * stdout is flushed before the trap, since a trap skips libc's exit path.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile int32_t zero = 0;
static volatile int32_t one_hundred = 100;
static volatile int32_t minus_one = -1;
static volatile uintptr_t far_address = 0xFFFFFFF0u;

__attribute__((noinline)) int switchyard_test_trap_here(const char *kind)
{
    printf("about to trap: %s\n", kind);
    fflush(stdout);
    if (strcmp(kind, "divzero") == 0) return one_hundred / zero;
    if (strcmp(kind, "overflow") == 0) return (one_hundred - 100 + INT32_MIN) / minus_one;
    if (strcmp(kind, "memory") == 0) return *(volatile int32_t *)far_address;
    __builtin_trap();
}

__attribute__((noinline)) int trap_middle(const char *kind)
{
    printf("in trap_middle\n");
    return switchyard_test_trap_here(kind) + 1;
}

__attribute__((noinline)) int trap_outer(const char *kind)
{
    printf("in trap_outer\n");
    return trap_middle(kind) * 2;
}

int main(int argc, char **argv)
{
    const char *kind = argc > 1 ? argv[1] : "unreachable";
    printf("trap test: %s\n", kind);
    int r = trap_outer(kind);
    printf("not reached: %d\n", r);
    return 0;
}
