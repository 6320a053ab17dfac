/*
 * green.c - green threads on a fiber library whose switching primitives
 * are written with Wasm stack switching (fiber.wat, loaded with
 * `switchyard run --preload env=fiber.wat green.wasm`; see README.md).
 *
 * A round-robin scheduler runs three workloads, first one at a time, then
 * all at once (the other two start when the sieve has 100 primes; up to
 * 220 threads are alive together, 289 run in that phase):
 *
 *   sieve     the concurrent prime sieve: a generator thread (which pulls
 *             its numbers from a nested generator fiber) feeds a chain of
 *             filter threads, one per prime, through bounded channels;
 *             168 primes below 1000, so 170 threads.
 *   prodcons  10 producers and 6 consumers share one bounded channel; a
 *             closer thread waits for the producers and closes it.
 *   ring      100 threads pass a token around a ring with direct fiber
 *             switches (no scheduler in between) for 40 laps; thread 0
 *             also yields to the scheduler once per lap.
 *
 * Every result is checked against a plain sequential computation, and the
 * program ends with a checksum of everything it computed.  The output does
 * not depend on how the fibers are implemented: built natively (not for
 * wasm) the same file uses a small ucontext shim instead of fiber.wat, which
 * is how tests/programs/run.sh --native checks the expected output.  The
 * sizes can be changed with -DSIEVE_LIMIT=, -DPRODUCERS=, -DCONSUMERS=,
 * -DITEMS=, -DRING=, -DLAPS= for stress runs (the expected output is for
 * the defaults).
 *
 * Each fiber has its own region of linear memory for clang's shadow stack
 * (the stack of address-taken locals, addressed by the global
 * __stack_pointer); fiber_run() and fiber_switch_to() move __stack_pointer
 * from one region to the other around every switch (see README.md).
 */
// run.sh wasm flags: -Wl,--import-table
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what)
{
    fflush(stdout);
    fprintf(stderr, "green: %s\n", what);
    exit(70);
}

#include "fiber.h"

/* ------------------------------------------------------------------------
 * Green threads: a round-robin scheduler, wait queues, channels.
 */

enum { T_READY, T_RUNNING, T_BLOCKED, T_PARKED, T_DONE };

struct thread {
    struct fiber f; /* first: a thread's struct fiber * is its struct thread * */
    int id;
    int (*body)(struct thread *self, int first);
    int arg;
    void *data;
    int state;
    int wake; /* the value of its next resume */
    int result;
    struct thread *next; /* in the ready queue or in one wait queue */
};

struct waitq {
    struct thread *head, *tail;
};

static struct thread **threads;
static int nthreads, threads_cap, alive, max_alive;
static struct waitq ready_q;

static struct thread *self(void) { return (struct thread *)cur_fiber; }

static void q_push(struct waitq *q, struct thread *t)
{
    t->next = NULL;
    if (q->tail) q->tail->next = t;
    else q->head = t;
    q->tail = t;
}

static struct thread *q_pop(struct waitq *q)
{
    struct thread *t = q->head;
    if (t) {
        q->head = t->next;
        if (!q->head) q->tail = NULL;
        t->next = NULL;
    }
    return t;
}

static void make_ready(struct thread *t, int wake)
{
    t->state = T_READY;
    t->wake = wake;
    q_push(&ready_q, t);
}

static int thread_entry(int id, int first)
{
    struct thread *t = threads[id];
    if (fiber_self() != t->f.handle || cur_fiber != &t->f) die("thread started in the wrong fiber");
    return t->body(t, first);
}

/* A new thread, READY (with first value `first`), or PARKED until some
 * thread switches to it. */
static struct thread *spawn(int (*body)(struct thread *, int), int arg, void *data, int ready, int first)
{
    struct thread *t = xmalloc(sizeof *t);
    if (nthreads == threads_cap) {
        threads_cap = threads_cap ? 2 * threads_cap : 64;
        threads = realloc(threads, threads_cap * sizeof *threads);
        if (!threads) die("out of memory");
    }
    t->id = nthreads;
    threads[nthreads++] = t;
    t->body = body;
    t->arg = arg;
    t->data = data;
    fiber_init(&t->f, thread_entry, t->id);
    if (++alive > max_alive) max_alive = alive;
    if (ready) make_ready(t, first);
    else t->state = T_PARKED;
    return t;
}

/* Back to the scheduler, and run again after the threads ready now. */
static void thread_yield(void)
{
    make_ready(self(), 0);
    fiber_suspend(0);
}

static void wait_on(struct waitq *q)
{
    struct thread *me = self();
    me->state = T_BLOCKED;
    q_push(q, me);
    fiber_suspend(0);
}

static void wake_one(struct waitq *q)
{
    struct thread *t = q_pop(q);
    if (t) make_ready(t, 0);
}

static void wake_all(struct waitq *q)
{
    while (q->head) wake_one(q);
}

/* Passes control and v straight to parked thread t.  The caller is parked
 * unless it made itself ready first.  Returns what the caller gets when it
 * runs again. */
static int switch_to(struct thread *t, int v)
{
    struct thread *me = self();
    if (t->state != T_PARKED) die("switch to a thread that is not parked");
    if (me->state == T_RUNNING) me->state = T_PARKED;
    t->state = T_RUNNING;
    return fiber_switch_to(&t->f, v);
}

/* Runs ready threads until none is left. */
static void schedule(void)
{
    struct thread *t;
    while ((t = q_pop(&ready_q))) {
        struct fiber *who;
        int finished;
        t->state = T_RUNNING;
        int r = fiber_run(&t->f, t->wake, &who, &finished);
        if (finished) {
            struct thread *done = (struct thread *)who;
            done->state = T_DONE;
            done->result = r;
            fiber_release(&done->f);
            alive--;
        }
    }
    if (alive) die("deadlock: threads left blocked");
}

struct chan {
    int cap, count, head, closed;
    int *buf;
    struct waitq senders, receivers;
};

static struct chan *chan_new(int cap)
{
    struct chan *c = xmalloc(sizeof *c);
    c->cap = cap;
    c->buf = xmalloc(cap * sizeof *c->buf);
    return c;
}

static void chan_send(struct chan *c, int v)
{
    while (c->count == c->cap && !c->closed) wait_on(&c->senders);
    if (c->closed) die("send on a closed channel");
    c->buf[(c->head + c->count) % c->cap] = v;
    c->count++;
    wake_one(&c->receivers);
}

/* 0 once the channel is closed and empty. */
static int chan_recv(struct chan *c, int *v)
{
    while (c->count == 0) {
        if (c->closed) return 0;
        wait_on(&c->receivers);
    }
    *v = c->buf[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    wake_one(&c->senders);
    return 1;
}

static void chan_close(struct chan *c)
{
    c->closed = 1;
    wake_all(&c->receivers);
    wake_all(&c->senders);
}

static uint32_t checksum = 2166136261u;

static void mix(uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        checksum ^= (v >> (8 * i)) & 0xff;
        checksum *= 16777619u;
    }
}

/* ------------------------------------------------------------------------
 * The prime sieve.
 */

#ifndef SIEVE_LIMIT
#define SIEVE_LIMIT 1000
#endif

/* In phase 4, the other workloads wait until the sieve has grown. */
static struct waitq gate;
static int gate_open;

static void gate_wait(void)
{
    while (!gate_open) wait_on(&gate);
}

struct sieve {
    int limit;
    struct chan *numbers;
    int nprimes;
    int primes[SIEVE_LIMIT];
    int gate_at; /* opens the gate after this many primes (0: never) */
    uint32_t passed, dropped, weighted;
};

struct filter {
    struct sieve *s;
    int p;
    struct chan *in, *out;
};

/* A plain generator fiber (not a thread): yields first, first + step, ...
 * up to limit, where each resume after the first gives the step. */
static int counter_body(int limit, int first)
{
    int n = first;
    while (n <= limit) n += fiber_suspend(n);
    return -1;
}

static int sieve_generator(struct thread *self_, int first)
{
    struct sieve *s = self_->data;
    struct fiber counter; /* lives on this thread's shadow stack */
    int v = 2;
    (void)first;
    fiber_init(&counter, counter_body, s->limit);
    for (;;) {
        struct fiber *who;
        int finished;
        int n = fiber_run(&counter, v, &who, &finished);
        if (who != &counter) die("the counter fiber did not stop itself");
        if (finished) break;
        chan_send(s->numbers, n);
        v = 1;
    }
    fiber_release(&counter);
    chan_close(s->numbers);
    return 0;
}

/* Not inlined, so that the counts live on the filter's shadow stack. */
static __attribute__((noinline)) void tally(uint32_t *counts, int which)
{
    counts[which]++;
}

static int sieve_filter(struct thread *self_, int first)
{
    struct filter *fl = self_->data;
    uint32_t counts[2] = {0, 0}; /* passed on, dropped */
    int n;
    (void)first;
    while (chan_recv(fl->in, &n)) {
        if (n % fl->p) {
            chan_send(fl->out, n);
            tally(counts, 0);
        } else {
            tally(counts, 1);
        }
    }
    chan_close(fl->out);
    fl->s->passed += counts[0];
    fl->s->dropped += counts[1];
    fl->s->weighted += counts[0] * (uint32_t)fl->p;
    return (int)counts[0];
}

static int sieve_main(struct thread *self_, int first)
{
    struct sieve *s = self_->data;
    struct chan *in;
    int p;
    (void)first;
    s->numbers = in = chan_new(2);
    spawn(sieve_generator, 0, s, 1, 0);
    while (chan_recv(in, &p)) {
        struct filter *fl = xmalloc(sizeof *fl);
        s->primes[s->nprimes++] = p;
        fl->s = s;
        fl->p = p;
        fl->in = in;
        fl->out = in = chan_new(1);
        spawn(sieve_filter, p, fl, 1, 0);
        if (s->nprimes == s->gate_at) {
            gate_open = 1;
            wake_all(&gate);
        }
    }
    if (s->gate_at && !gate_open) {
        gate_open = 1;
        wake_all(&gate);
    }
    return s->nprimes;
}

static int check_sieve(const struct sieve *s)
{
    static char composite[SIEVE_LIMIT + 1];
    int n = 0;
    memset(composite, 0, sizeof composite);
    for (int i = 2; i <= s->limit; i++) {
        if (composite[i]) continue;
        if (n >= s->nprimes || s->primes[n] != i) return 0;
        n++;
        for (int j = i * i; j <= s->limit; j += i) composite[j] = 1;
    }
    return n == s->nprimes && s->dropped == (uint32_t)(s->limit - 1 - s->nprimes);
}

/* ------------------------------------------------------------------------
 * Producers and consumers.
 */

#ifndef PRODUCERS
#define PRODUCERS 10
#endif
#ifndef CONSUMERS
#define CONSUMERS 6
#endif
#ifndef ITEMS
#define ITEMS 40
#endif
#define EVENTS_SHOWN 48

struct prodcons {
    struct chan *ch;
    int producing;
    struct waitq producers_done;
    int count[CONSUMERS];
    uint32_t sum[CONSUMERS], hash[CONSUMERS];
    int events; /* how many to print; counts down */
    char line[128];
    int line_len, line_events;
    int gated;
};

static void pc_event(struct prodcons *pc, char what, int who, int v)
{
    if (pc->events <= 0) return;
    pc->line_len += snprintf(pc->line + pc->line_len, sizeof pc->line - pc->line_len,
                             "%s%c%d%c%d", pc->line_events ? " " : "  ",
                             what, who, what == 'P' ? '>' : '<', v);
    pc->events--;
    if (++pc->line_events == 8 || pc->events == 0) {
        printf("%s\n", pc->line);
        pc->line_len = pc->line_events = 0;
    }
}

static int producer(struct thread *self_, int first)
{
    struct prodcons *pc = self_->data;
    int p = self_->arg;
    (void)first;
    for (int k = 0; k < ITEMS; k++) {
        int v = (p + 1) * 1000 + k;
        chan_send(pc->ch, v);
        pc_event(pc, 'P', p, v);
        if ((k + p) % 3 == 0) thread_yield();
    }
    if (--pc->producing == 0) wake_all(&pc->producers_done);
    return p;
}

/* Shifts v into a window of the last four items; returns them packed.
 * Not inlined, so that the window must live in memory: on the consumer's
 * shadow stack, across its switches. */
static __attribute__((noinline)) uint32_t window_push(uint32_t *w, uint32_t v)
{
    w[3] = w[2];
    w[2] = w[1];
    w[1] = w[0];
    w[0] = v;
    return w[0] ^ (w[1] << 8) ^ (w[2] << 16) ^ (w[3] << 24);
}

static int consumer(struct thread *self_, int first)
{
    struct prodcons *pc = self_->data;
    int c = self_->arg, v;
    uint32_t window[4] = {0, 0, 0, 0};
    (void)first;
    while (chan_recv(pc->ch, &v)) {
        pc->count[c]++;
        pc->sum[c] += (uint32_t)v;
        pc->hash[c] = (pc->hash[c] * 33) ^ window_push(window, (uint32_t)v);
        pc_event(pc, 'C', c, v);
        if (v % 7 == 0) thread_yield();
    }
    return pc->count[c];
}

static int closer(struct thread *self_, int first)
{
    struct prodcons *pc = self_->data;
    (void)first;
    while (pc->producing > 0) wait_on(&pc->producers_done);
    chan_close(pc->ch);
    return 0;
}

static int prodcons_main(struct thread *self_, int first)
{
    struct prodcons *pc = self_->data;
    (void)first;
    if (pc->gated) gate_wait();
    pc->ch = chan_new(3);
    pc->producing = PRODUCERS;
    for (int i = 0; i < CONSUMERS; i++) spawn(consumer, i, pc, 1, 0);
    for (int i = 0; i < PRODUCERS; i++) spawn(producer, i, pc, 1, 0);
    spawn(closer, 0, pc, 1, 0);
    return 0;
}

static int check_prodcons(const struct prodcons *pc, uint32_t *total_sum)
{
    int n = 0;
    uint32_t sum = 0, want = 0;
    for (int c = 0; c < CONSUMERS; c++) {
        n += pc->count[c];
        sum += pc->sum[c];
    }
    for (int p = 0; p < PRODUCERS; p++)
        for (int k = 0; k < ITEMS; k++) want += (uint32_t)((p + 1) * 1000 + k);
    *total_sum = sum;
    return n == PRODUCERS * ITEMS && sum == want;
}

/* ------------------------------------------------------------------------
 * The token ring, with direct switches.
 */

#ifndef RING
#define RING 100
#endif
#ifndef LAPS
#define LAPS 40
#endif

struct ring {
    struct thread *t[RING];
    int laps[RING];
    uint32_t token;
    int print, gated;
};

static uint32_t ring_step(uint32_t v, int i, int lap)
{
    return v * 2654435761u + (uint32_t)i * 40503u + (uint32_t)lap;
}

static int ring_member(struct thread *self_, int first)
{
    struct ring *r = self_->data;
    int i = self_->arg;
    uint32_t v = (uint32_t)first;
    for (int lap = 0; lap < LAPS; lap++) {
        if (i == 0) {
            if (r->print && lap % 10 == 0) printf("  ring lap %2d: token %08x\n", lap, (unsigned)v);
            thread_yield();
        }
        v = ring_step(v, i, lap);
        r->laps[i]++;
        if (lap == LAPS - 1) {
            if (i == RING - 1) {
                r->token = v;
                return (int)v;
            }
            /* The scheduler resumes this thread after the token moved on. */
            make_ready(self_, 0);
            switch_to(r->t[i + 1], (int)v);
            return 0;
        }
        v = (uint32_t)switch_to(r->t[(i + 1) % RING], (int)v);
    }
    die("ring: fell out of the loop");
    return 0;
}

static int ring_main(struct thread *self_, int first)
{
    struct ring *r = self_->data;
    (void)first;
    if (r->gated) gate_wait();
    for (int i = 0; i < RING; i++) r->t[i] = spawn(ring_member, i, r, i == 0, 12345);
    return 0;
}

static int check_ring(const struct ring *r)
{
    uint32_t v = 12345;
    for (int lap = 0; lap < LAPS; lap++)
        for (int i = 0; i < RING; i++) v = ring_step(v, i, lap);
    for (int i = 0; i < RING; i++)
        if (r->laps[i] != LAPS) return 0;
    return v == r->token;
}

/* ------------------------------------------------------------------------
 * Phases.
 */

static void print_stats(const char *phase, int first_thread)
{
    printf("  %s: %d threads, at most %d alive, %u fibers, %u resumes, %u yields, %u switches, "
           "%u finished, %d fibers live\n",
           phase, nthreads - first_thread, max_alive, (unsigned)stats.fibers,
           (unsigned)stats.resumes, (unsigned)stats.yields, (unsigned)stats.switches,
           (unsigned)stats.finishes, fiber_live());
    mix((uint32_t)(nthreads - first_thread));
    mix((uint32_t)max_alive);
    mix(stats.fibers);
    mix(stats.resumes);
    mix(stats.yields);
    mix(stats.switches);
    mix(stats.finishes);
    memset(&stats, 0, sizeof stats);
    max_alive = 0;
}

static int failures;

static void verdict(const char *what, int ok)
{
    printf("  %s: %s\n", what, ok ? "ok" : "WRONG");
    if (!ok) failures++;
}

static void report_sieve(const struct sieve *s, int print_primes)
{
    printf("  %d primes below %d, %u numbers passed on, weighted %u\n", s->nprimes, s->limit,
           (unsigned)s->passed, (unsigned)s->weighted);
    for (int i = 0; print_primes && i < s->nprimes; i += 12) {
        printf("   ");
        for (int j = i; j < i + 12 && j < s->nprimes; j++) printf(" %3d", s->primes[j]);
        printf("\n");
    }
    for (int i = 0; i < s->nprimes; i++) mix((uint32_t)s->primes[i]);
    mix(s->passed);
    mix(s->weighted);
    verdict("sieve matches a sequential sieve", check_sieve(s));
}

static void report_prodcons(const struct prodcons *pc)
{
    uint32_t total;
    for (int c = 0; c < CONSUMERS; c++) {
        printf("  consumer %d: %3d items, sum %6u, hash %08x\n", c, pc->count[c],
               (unsigned)pc->sum[c], (unsigned)pc->hash[c]);
        mix((uint32_t)pc->count[c]);
        mix(pc->sum[c]);
        mix(pc->hash[c]);
    }
    verdict("every item consumed once", check_prodcons(pc, &total));
    printf("  total %d items, sum %u\n", PRODUCERS * ITEMS, (unsigned)total);
}

static void report_ring(const struct ring *r)
{
    printf("  final token %08x after %d laps of %d threads\n", (unsigned)r->token, LAPS, RING);
    mix(r->token);
    verdict("token matches a sequential run", check_ring(r));
}

int main(void)
{
    static struct sieve s1, s2;
    static struct prodcons pc1, pc2;
    static struct ring r1, r2;
    int first;

    printf("green threads\n");

    printf("phase 1: prime sieve\n");
    first = nthreads;
    s1.limit = SIEVE_LIMIT;
    spawn(sieve_main, 0, &s1, 1, 0);
    schedule();
    report_sieve(&s1, 1);
    print_stats("sieve", first);

    printf("phase 2: producers and consumers\n");
    first = nthreads;
    pc1.events = EVENTS_SHOWN;
    spawn(prodcons_main, 0, &pc1, 1, 0);
    schedule();
    report_prodcons(&pc1);
    print_stats("prodcons", first);

    printf("phase 3: token ring\n");
    first = nthreads;
    r1.print = 1;
    spawn(ring_main, 0, &r1, 1, 0);
    schedule();
    report_ring(&r1);
    print_stats("ring", first);

    printf("phase 4: all three at once (the others start when the sieve has 100 primes)\n");
    first = nthreads;
    s2.limit = SIEVE_LIMIT;
    s2.gate_at = 100;
    pc2.gated = r2.gated = 1;
    spawn(sieve_main, 0, &s2, 1, 0);
    spawn(prodcons_main, 0, &pc2, 1, 0);
    spawn(ring_main, 0, &r2, 1, 0);
    schedule();
    report_sieve(&s2, 0);
    verdict("same primes as phase 1",
            s2.nprimes == s1.nprimes && memcmp(s1.primes, s2.primes, sizeof s1.primes) == 0 &&
                s2.passed == s1.passed);
    report_prodcons(&pc2);
    report_ring(&r2);
    verdict("same token as phase 3", r2.token == r1.token);
    print_stats("all", first);

    printf("%d threads in all, %d fibers live, %d failures\n", nthreads, fiber_live(), failures);
    mix((uint32_t)nthreads);
    printf("checksum %08x\n", (unsigned)checksum);
    return failures || fiber_live() != 0;
}
