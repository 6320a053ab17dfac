/*
 * tree_walk.c - a recursive in-order walk of a binary tree in a fiber
 * that yields at every node; main resumes it for each value.  The walk
 * is ROUNDS fresh fibers over a tree of 2^DEPTH - 1 nodes, so every
 * yield leaves a recursion up to DEPTH frames deep.
 */
#include "common.h"

#ifndef DEPTH
#define DEPTH 17
#endif
#ifndef ROUNDS
#define ROUNDS 30
#endif

struct node {
    struct node *left, *right;
    int value;
};

static uint32_t seed = 12345;

static struct node *build(int depth)
{
    if (depth == 0) return NULL;
    struct node *n = malloc(sizeof *n);
    if (!n) die("out of memory");
    seed = seed * 1103515245u + 12345u;
    n->value = (int)(seed >> 8);
    n->left = build(depth - 1);
    n->right = build(depth - 1);
    return n;
}

static void walk(const struct node *n)
{
    if (!n) return;
    walk(n->left);
    fiber_suspend(n->value);
    walk(n->right);
}

static int walker(int arg, int first)
{
    (void)first;
    walk((const struct node *)(uintptr_t)arg);
    return 0;
}

int main(void)
{
    struct node *root = build(DEPTH);
    uint32_t h = 0;
    long nodes = 0;
    for (int r = 0; r < ROUNDS; r++) {
        struct fiber f;
        fiber_init(&f, walker, (int)(uintptr_t)root);
        for (;;) {
            struct fiber *who;
            int done;
            int v = fiber_run(&f, 0, &who, &done);
            if (done) break;
            h = mix(h, (uint32_t)v);
            nodes++;
        }
        fiber_release(&f);
    }
    printf("tree walk: %ld nodes visited, checksum %08x\n", nodes, (unsigned)h);
    return 0;
}
