/*
 * scheduler_channels.c - a round-robin scheduler of green threads with
 * bounded channels: P producers send ITEMS values each into one channel,
 * C consumers receive until it is closed and forward what they computed
 * into a second channel that a collector thread drains.  A thread that
 * cannot send or receive waits on the channel's queue and yields to the
 * scheduler, which resumes ready threads in order.
 */
#include "common.h"

#ifndef P
#define P 8
#endif
#ifndef C
#define C 4
#endif
#ifndef ITEMS
#define ITEMS 150000
#endif
#define CAP 8
#define THREADS (P + C + 1)

struct thread {
    struct fiber f;
    int id;
    int (*body)(struct thread *self);
    struct thread *next; /* in the ready queue or a wait queue */
    int done;
};

struct queue {
    struct thread *head, *tail;
};

static void push(struct queue *q, struct thread *t)
{
    t->next = NULL;
    if (q->tail)
        q->tail->next = t;
    else
        q->head = t;
    q->tail = t;
}

static struct thread *pop(struct queue *q)
{
    struct thread *t = q->head;
    if (t) {
        q->head = t->next;
        if (!q->head) q->tail = NULL;
    }
    return t;
}

static struct queue ready;
static struct thread *running;

/* Parks the running thread on `q` until someone wakes it. */
static void wait_on(struct queue *q)
{
    push(q, running);
    fiber_suspend(0);
}

static void wake_one(struct queue *q)
{
    struct thread *t = pop(q);
    if (t) push(&ready, t);
}

static void yield_now(void)
{
    push(&ready, running);
    fiber_suspend(0);
}

struct channel {
    int buf[CAP];
    int head, count, closed;
    struct queue senders, receivers;
};

static void send(struct channel *ch, int v)
{
    while (ch->count == CAP) wait_on(&ch->senders);
    ch->buf[(ch->head + ch->count) % CAP] = v;
    ch->count++;
    wake_one(&ch->receivers);
}

/* 0 when the channel is closed and empty. */
static int recv(struct channel *ch, int *v)
{
    while (ch->count == 0) {
        if (ch->closed) return 0;
        wait_on(&ch->receivers);
    }
    *v = ch->buf[ch->head];
    ch->head = (ch->head + 1) % CAP;
    ch->count--;
    wake_one(&ch->senders);
    return 1;
}

static void close_channel(struct channel *ch)
{
    ch->closed = 1;
    while (ch->receivers.head) wake_one(&ch->receivers);
}

static struct channel work, results;
static int producers_left = P, consumers_left = C;
static uint64_t total;
static uint32_t checksum;
static int received;

static int producer(struct thread *self)
{
    for (int i = 0; i < ITEMS; i++) {
        send(&work, self->id * ITEMS + i);
        if (i % 1000 == 999) yield_now();
    }
    if (--producers_left == 0) close_channel(&work);
    return 0;
}

static int consumer(struct thread *self)
{
    (void)self;
    int v;
    while (recv(&work, &v)) send(&results, (int)(((uint32_t)v * 2654435761u) >> 8));
    if (--consumers_left == 0) close_channel(&results);
    return 0;
}

static int collector(struct thread *self)
{
    (void)self;
    int v;
    while (recv(&results, &v)) {
        total += (uint32_t)v;
        checksum ^= (uint32_t)v * 0x85ebca6bu;
        received++;
    }
    return 0;
}

static int thread_entry(int arg, int first)
{
    (void)first;
    struct thread *t = (struct thread *)(uintptr_t)arg;
    return t->body(t);
}

static struct thread threads[THREADS];

int main(void)
{
    for (int i = 0; i < THREADS; i++) {
        struct thread *t = &threads[i];
        t->id = i;
        t->body = i < P ? producer : i < P + C ? consumer : collector;
        fiber_init(&t->f, thread_entry, (int)(uintptr_t)t);
        push(&ready, t);
    }
    int finished = 0, resumes = 0;
    while ((running = pop(&ready))) {
        struct fiber *who;
        int done;
        fiber_run(&running->f, 0, &who, &done);
        resumes++;
        if (done) {
            running->done = 1;
            fiber_release(&running->f);
            finished++;
        }
    }
    if (finished != THREADS) die("threads left blocked");
    printf("scheduler: %d threads, %d items, total %llu, checksum %08x, %d resumes\n", finished,
           received, (unsigned long long)total, (unsigned)checksum, resumes);
    return 0;
}
