/*
 * fiber.h - the fiber primitives for C programs: fiber.wat's exports
 * (loaded with `--preload env=fiber.wat`; the program links with
 * -Wl,--import-table) or, built natively, the same interface on ucontext;
 * and fibers with their own shadow stacks on top (fiber_init, fiber_run,
 * fiber_suspend, fiber_switch_to).  See README.md.
 *
 * Include it once, after defining `static void die(const char *what)`.
 */
#include <stdint.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------
 * The fiber primitives: fiber.wat's exports (see its header), or the same
 * interface on ucontext for a native build.
 */

typedef int (*fiber_fn)(int arg, int first);

#ifdef __wasm__

#define FIBER_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
FIBER_IMPORT(fiber_new) int fiber_new(fiber_fn fn, int arg);
FIBER_IMPORT(fiber_resume) int fiber_resume(int h, int v);
FIBER_IMPORT(fiber_yield) int fiber_yield(int v);
FIBER_IMPORT(fiber_switch) int fiber_switch(int h, int v);
FIBER_IMPORT(fiber_self) int fiber_self(void);
FIBER_IMPORT(fiber_last) int fiber_last(void);
FIBER_IMPORT(fiber_finished) int fiber_finished(void);
FIBER_IMPORT(fiber_live) int fiber_live(void);

#define SHADOW_STACKS 1

/* Read and write clang's shadow stack pointer.  always_inline, also at
 * -O0: a called function's epilogue would restore the global. */
static inline __attribute__((always_inline)) uintptr_t shadow_sp_get(void)
{
    uintptr_t sp;
    __asm__ volatile(".globaltype __stack_pointer, i32\n\t"
                     "global.get __stack_pointer\n\t"
                     "local.set %0"
                     : "=r"(sp)
                     :
                     : "memory");
    return sp;
}

static inline __attribute__((always_inline)) void shadow_sp_set(uintptr_t sp)
{
    __asm__ volatile(".globaltype __stack_pointer, i32\n\t"
                     "local.get %0\n\t"
                     "global.set __stack_pointer"
                     :
                     : "r"(sp)
                     : "memory");
}

#else /* native: the same interface on ucontext */

#include <ucontext.h>

#define SHADOW_STACKS 0
#define NATIVE_STACK_SIZE (256 * 1024)

static inline uintptr_t shadow_sp_get(void) { return 0; }
static inline void shadow_sp_set(uintptr_t sp) { (void)sp; }

struct nfiber {
    ucontext_t ctx;
    fiber_fn fn;
    int arg;
    int state; /* 0 free, 1 suspended, 2 running */
    int next_free;
    char *stack;
};

/* the innermost fiber_resume: where yields and returns go */
struct nresume {
    ucontext_t ctx;
    int value;
    int finished;
};

static struct nfiber **nf;
static int nf_size, nf_free = -1, nf_live;
static int nf_current = -1, nf_last = -1, nf_finished;
static int nf_pass; /* the value given to the fiber being entered */
static struct nresume *nf_resume;

static void nf_entry(void)
{
    struct nfiber *f = nf[nf_current];
    int r = f->fn(f->arg, nf_pass);
    nf_resume->value = r;
    nf_resume->finished = 1;
    setcontext(&nf_resume->ctx);
    abort();
}

static int fiber_new(fiber_fn fn, int arg)
{
    int h;
    if (nf_free >= 0) {
        h = nf_free;
        nf_free = nf[h]->next_free;
    } else {
        h = nf_size++;
        nf = realloc(nf, nf_size * sizeof *nf);
        nf[h] = calloc(1, sizeof **nf);
        if (!nf || !nf[h]) die("out of memory");
    }
    struct nfiber *f = nf[h];
    f->fn = fn;
    f->arg = arg;
    f->state = 1;
    f->stack = malloc(NATIVE_STACK_SIZE);
    if (!f->stack) die("out of memory");
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = NATIVE_STACK_SIZE;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, nf_entry, 0);
    nf_live++;
    return h;
}

static int fiber_resume(int h, int v)
{
    if (h < 0 || h >= nf_size || nf[h]->state != 1) die("resume of a fiber that is not suspended");
    struct nresume here, *outer = nf_resume;
    int prev = nf_current;
    here.finished = 0;
    nf_resume = &here;
    nf_current = h;
    nf[h]->state = 2;
    nf_pass = v;
    swapcontext(&here.ctx, &nf[h]->ctx);
    nf_last = nf_current;
    nf_finished = here.finished;
    if (here.finished) {
        struct nfiber *f = nf[nf_last];
        free(f->stack);
        f->stack = NULL;
        f->state = 0;
        f->next_free = nf_free;
        nf_free = nf_last;
        nf_live--;
    }
    nf_resume = outer;
    nf_current = prev;
    return here.value;
}

static int fiber_yield(int v)
{
    int me = nf_current;
    if (me < 0) die("yield outside fibers");
    nf_resume->value = v;
    nf_resume->finished = 0;
    nf[me]->state = 1;
    swapcontext(&nf[me]->ctx, &nf_resume->ctx);
    return nf_pass;
}

static int fiber_switch(int h, int v)
{
    int me = nf_current;
    if (me < 0) die("switch outside fibers");
    if (h < 0 || h >= nf_size || nf[h]->state != 1) die("switch to a fiber that is not suspended");
    nf[me]->state = 1;
    nf[h]->state = 2;
    nf_current = h;
    nf_pass = v;
    swapcontext(&nf[me]->ctx, &nf[h]->ctx);
    return nf_pass;
}

static int fiber_self(void) { return nf_current; }
static int fiber_last(void) { return nf_last; }
static int fiber_finished(void) { return nf_finished; }
static int fiber_live(void) { return nf_live; }

#endif

/* ------------------------------------------------------------------------
 * Fibers with their own shadow stacks.
 */

#define SHADOW_SIZE (16 * 1024)
#define CANARY_WORDS 8
#define CANARY 0x5afe57acu

struct fiber {
    int handle;
    uintptr_t sp;         /* its shadow stack pointer while it is not running */
    unsigned char *stack; /* its shadow stack, SHADOW_SIZE bytes */
};

static struct {
    uint32_t fibers, resumes, yields, switches, finishes;
} stats;

static struct fiber **by_handle;
static int by_handle_cap;
static struct fiber *cur_fiber; /* NULL outside fibers */

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p) die("out of memory");
    return p;
}

static void fiber_init(struct fiber *f, fiber_fn fn, int arg)
{
    f->handle = fiber_new(fn, arg);
    if (f->handle >= by_handle_cap) {
        int cap = by_handle_cap ? 2 * by_handle_cap : 64;
        while (cap <= f->handle) cap *= 2;
        by_handle = realloc(by_handle, cap * sizeof *by_handle);
        if (!by_handle) die("out of memory");
        by_handle_cap = cap;
    }
    by_handle[f->handle] = f;
    f->stack = NULL;
    f->sp = 0;
    if (SHADOW_STACKS) {
        f->stack = malloc(SHADOW_SIZE);
        if (!f->stack) die("out of memory");
        for (int i = 0; i < CANARY_WORDS; i++) ((uint32_t *)f->stack)[i] = CANARY ^ i;
        f->sp = (uintptr_t)(f->stack + SHADOW_SIZE) & ~(uintptr_t)15; /* clang's alignment */
    }
    stats.fibers++;
}

/* The bottom of a shadow stack is never written unless it overflowed. */
static void fiber_check(const struct fiber *f)
{
    if (!f->stack) return;
    for (int i = 0; i < CANARY_WORDS; i++)
        if (((const uint32_t *)f->stack)[i] != (CANARY ^ i)) die("shadow stack overflow");
    if (f->sp < (uintptr_t)f->stack || f->sp > (uintptr_t)(f->stack + SHADOW_SIZE))
        die("shadow stack pointer outside the fiber's stack");
}

static void fiber_release(struct fiber *f)
{
    free(f->stack);
    f->stack = NULL;
}

/* Runs suspended fiber f, giving it v, until a fiber under this resume (f,
 * or one it switched to) yields or returns: that fiber is *who, *finished
 * says whether it returned.  Returns the value it yielded or returned. */
static int fiber_run(struct fiber *f, int v, struct fiber **who, int *finished)
{
    struct fiber *outer = cur_fiber;
    stats.resumes++;
    uintptr_t my_sp = shadow_sp_get();
    cur_fiber = f;
    shadow_sp_set(f->sp);
    int r = fiber_resume(f->handle, v);
    uintptr_t its_sp = shadow_sp_get();
    shadow_sp_set(my_sp);
    cur_fiber = outer;
    struct fiber *w = by_handle[fiber_last()];
    w->sp = its_sp;
    fiber_check(w);
    *finished = fiber_finished();
    if (*finished) stats.finishes++;
    *who = w;
    return r;
}

/* Suspends the running fiber to its resumer (the innermost fiber_run).  The
 * shadow stack pointer stays where it is: fiber_run saves it. */
static int fiber_suspend(int v)
{
    stats.yields++;
    return fiber_yield(v);
}

/* Switches from the running fiber straight to suspended fiber t. */
static int fiber_switch_to(struct fiber *t, int v)
{
    struct fiber *me = cur_fiber;
    stats.switches++;
    me->sp = shadow_sp_get();
    fiber_check(me);
    cur_fiber = t;
    shadow_sp_set(t->sp);
    return fiber_switch(t->handle, v);
}

