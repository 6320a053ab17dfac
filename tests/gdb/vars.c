/* C variables under gdb (tools/tests/gdb_vars.rs): structs, an array, a
 * pointer into the heap and one into the stack, globals, and a fiber on the
 * fiber library. Every value gdb is asked for is printed by the program
 * first, as `name=value`, so the test compares the two. Build: clang
 * --target=wasm32-wasi -g -O0 (or -O2) vars.c -Wl,--import-table; run:
 * switchyard run --preload env=fiber.wat vars.wasm. */
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
    fprintf(stderr, "vars: %s\n", what);
    exit(1);
}

#include "../programs/fibers/fiber.h"

struct point {
    int x;
    int y;
};

struct shape {
    struct point corner;
    int sides;
    short tag;
    char name[8];
};

int counter = 42;
struct point origin = {3, 4};

__attribute__((noinline)) static int compute(int a, int b)
{
    int local_val = a * b + counter;
    struct point p = {a + 1, b + 2};
    int arr[6];
    for (int i = 0; i < 6; i++)
        arr[i] = i * i + a;
    struct point *heap = malloc(sizeof *heap);
    if (!heap)
        die("out of memory");
    heap->x = local_val;
    heap->y = arr[3];
    struct point *sp = &p;
    struct shape sq = {{a, b}, 4, 7, "square"};
    printf("compute: a=%d b=%d local_val=%d p.x=%d p.y=%d arr[3]=%d heap->x=%d heap->y=%d "
           "sp->x=%d sq.sides=%d sq.corner.y=%d counter=%d origin.y=%d\n",
           a, b, local_val, p.x, p.y, arr[3], heap->x, heap->y, sp->x, sq.sides, sq.corner.y,
           counter, origin.y);
    int result = local_val + heap->y + sp->x + sq.tag; /* line 51: break compute */
    free(heap);
    return result;
}

static int worker(int arg, int first)
{
    int w_local = arg * 10 + first;
    int steps = 0;
    for (int k = 0; k < 2; k++) {
        steps += k + 1;
        printf("worker: arg=%d first=%d w_local=%d steps=%d\n", arg, first, w_local, steps);
        fiber_suspend(w_local + steps); /* line 63: break worker */
    }
    return w_local;
}

int main(void)
{
    int main_local = 7;
    int r = compute(main_local, 5);
    printf("main: main_local=%d r=%d\n", main_local, r);
    struct fiber f;
    fiber_init(&f, worker, 3);
    struct fiber *who;
    int finished = 0;
    int got = fiber_run(&f, 11, &who, &finished);
    printf("main: got=%d\n", got);
    counter = got; /* line 79: break main, the fiber suspended */
    got = fiber_run(&f, 0, &who, &finished);
    printf("main: got=%d finished=%d\n", got, finished);
    got = fiber_run(&f, 0, &who, &finished);
    printf("main: got=%d finished=%d\n", got, finished);
    fiber_release(&f);
    return 0;
}
