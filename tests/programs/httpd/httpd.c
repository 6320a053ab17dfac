/*
 * httpd.c - an HTTP/1.1 server with one fiber per connection.
 *
 * A scheduler fiber polls the listening socket and every connection that
 * waits for input or output (poll_oneoff under WASI, poll() natively),
 * accepts new connections (non-blocking) and resumes the
 * fibers whose sockets are ready.  A connection's fiber reads requests,
 * answers them and keeps the connection alive until the client closes it;
 * whenever a read or write would block it suspends itself in wait_io(),
 * which is where `switchyard bt --pid` finds it.
 *
 * Routes:
 *   /, /index.html   www/index.html, read from the document directory on
 *                    every request
 *   /hello           a short text
 *   /slow            waits 2 ms three times, each wait a round of the
 *                    scheduler's poll, then answers
 *   /crash           traps (__builtin_trap) twelve calls deep in the
 *                    connection's fiber
 *   /quit            answers, then the server stops and prints its counts
 *
 * Under WASI (fiber.wat preloaded as `env`, linked with
 * -Wl,--import-table):
 *   switchyard run --tcplisten 127.0.0.1:PORT --dir www \
 *       --preload env=../fibers/fiber.wat httpd.wasm
 * The listener is descriptor 3 (LISTEN_FDS=1) and the document directory
 * the next one: it is opened by descriptor, because wasi-libc stops
 * looking for preopened directories at the first descriptor that is not
 * one (the listener).
 *
 * Native (gcc, the fibers on ucontext):  httpd PORT DOCROOT
 */
// run.sh wasm flags: -Wl,--import-table
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#endif

static void die(const char *what)
{
    fflush(stdout);
    fprintf(stderr, "httpd: %s\n", what);
    exit(70);
}

#include "../fibers/fiber.h"

#define MAX_CONNS 4096
#define BUF_SIZE 8192

struct conn {
    struct fiber f;
    int slot;          /* index in conns[] */
    int fd;
    short wait_events; /* POLLIN or POLLOUT while waiting for the socket */
    int64_t wake_at;   /* a deadline (ms) while sleeping, else 0 */
    size_t len;        /* bytes in buf */
    char buf[BUF_SIZE];
    char out[BUF_SIZE + 512];
};

static struct conn *conns[MAX_CONNS];
static int nconns;
static int listen_fd, doc_fd;
static int quitting;
static struct {
    uint64_t accepted, requests, slow, polls;
} counts;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Suspends the connection's fiber until its socket is ready for `events`:
 * the scheduler polls it and resumes the fiber. */
static void wait_io(struct conn *c, short events)
{
    c->wait_events = events;
    fiber_suspend(0);
    c->wait_events = 0;
}

/* Suspends the fiber for `ms` milliseconds: one or more poll rounds. */
static void sleep_ms(struct conn *c, int ms)
{
    c->wake_at = now_ms() + ms;
    fiber_suspend(0);
    c->wake_at = 0;
}

/* Reads what is there, waiting if nothing is; 0 at end of file. */
static ssize_t conn_read(struct conn *c, char *buf, size_t n)
{
    for (;;) {
        ssize_t r = read(c->fd, buf, n);
        if (r >= 0) return r;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        wait_io(c, POLLIN);
    }
}

static int conn_write_all(struct conn *c, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c->fd, buf, n);
        if (w < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
            wait_io(c, POLLOUT);
            continue;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int respond(struct conn *c, int status, const char *type, const char *body, size_t n,
                   int keep)
{
    const char *reason = status == 200 ? "OK" : status == 404 ? "Not Found" : "Error";
    int h = snprintf(c->out, sizeof c->out,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s\r\n",
                     status, reason, type, n, keep ? "" : "Connection: close\r\n");
    if (n <= sizeof c->out - (size_t)h) {
        memcpy(c->out + h, body, n);
        return conn_write_all(c, c->out, (size_t)h + n);
    }
    if (conn_write_all(c, c->out, (size_t)h) < 0) return -1;
    return conn_write_all(c, body, n);
}

/* The document, read from the document directory on every request. */
static int serve_file(struct conn *c, const char *name, int keep)
{
    static char body[BUF_SIZE];
    int fd = openat(doc_fd, name, O_RDONLY);
    if (fd < 0) return respond(c, 404, "text/plain", "not found\n", 10, keep);
    ssize_t n = read(fd, body, sizeof body);
    close(fd);
    if (n < 0) return respond(c, 500, "text/plain", "read error\n", 11, keep);
    return respond(c, 200, "text/html", body, (size_t)n, keep);
}

/* Twelve calls deep, then a trap: a crash far from the scheduler.  The
 * recursion goes through a volatile pointer so that no optimizer turns it
 * into a loop. */
static int crash_here(int depth);
static int (*volatile crash_next)(int) = crash_here;
__attribute__((noinline)) static int crash_here(int depth)
{
    if (depth == 12) {
        fflush(stdout);
        __builtin_trap();
    }
    return crash_next(depth + 1) + depth;
}

static int handle(struct conn *c, const char *path, int keep)
{
    counts.requests++;
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        return serve_file(c, "index.html", keep);
    if (strcmp(path, "/hello") == 0)
        return respond(c, 200, "text/plain", "hello\n", 6, keep);
    if (strcmp(path, "/slow") == 0) {
        counts.slow++;
        for (int round = 0; round < 3; round++) sleep_ms(c, 2);
        return respond(c, 200, "text/plain", "slow done after 3 rounds\n", 25, keep);
    }
    if (strcmp(path, "/crash") == 0) return crash_here(1);
    if (strcmp(path, "/quit") == 0) {
        quitting = 1;
        return respond(c, 200, "text/plain", "bye\n", 4, 0);
    }
    return respond(c, 404, "text/plain", "not found\n", 10, keep);
}

/* Case-insensitive search for a header line's value in the head. */
static int has_header(const char *head, const char *name, const char *value)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ') v++;
            return strncasecmp(v, value, strlen(value)) == 0;
        }
    }
    return 0;
}

/* A connection's fiber: requests until the client closes or asks to. */
static int connection(int slot, int first)
{
    (void)first;
    struct conn *c = conns[slot];
    for (;;) {
        char *end;
        while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) == NULL) {
            if (c->len == sizeof c->buf - 1) return 0; /* a head too large */
            ssize_t n = conn_read(c, c->buf + c->len, sizeof c->buf - 1 - c->len);
            if (n <= 0) return 0;
            c->len += (size_t)n;
        }
        size_t head_len = (size_t)(end - c->buf) + 4;
        char saved = c->buf[head_len];
        c->buf[head_len] = 0;
        char method[8], path[256], version[16];
        if (sscanf(c->buf, "%7s %255s %15s", method, path, version) != 3) return 0;
        int keep = strcmp(version, "HTTP/1.1") == 0 ? !has_header(c->buf, "Connection", "close")
                                                    : has_header(c->buf, "Connection", "keep-alive");
        c->buf[head_len] = saved;
        if (handle(c, path, keep) < 0 || !keep) return 0;
        /* Requests without a body: the rest is the next request. */
        memmove(c->buf, c->buf + head_len, c->len - head_len);
        c->len -= head_len;
    }
}

static void run_conn(struct conn *c)
{
    struct fiber *who;
    int finished;
    fiber_run(&c->f, 0, &who, &finished);
    if (!finished) return;
    close(c->fd);
    fiber_release(&c->f);
    conns[c->slot] = conns[--nconns];
    conns[c->slot]->slot = c->slot;
    free(c);
}

static int accept_one(void)
{
#ifdef __wasi__
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_sock_accept(listen_fd, __WASI_FDFLAGS_NONBLOCK, &fd);
    if (e != 0) {
        errno = e;
        return -1;
    }
    return (int)fd;
#else
    return accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK);
#endif
}

static void accept_all(void)
{
    int fd;
    while (nconns < MAX_CONNS && (fd = accept_one()) >= 0) {
        struct conn *c = calloc(1, sizeof *c);
        if (!c) die("out of memory");
        c->fd = fd;
        c->slot = nconns;
        conns[nconns++] = c;
        counts.accepted++;
        fiber_init(&c->f, connection, c->slot);
        /* The slot may change while others finish: the fiber reads its
         * connection at the start, before anything else runs. */
        run_conn(c);
    }
}

/* Waits until one of fds[0..n) is ready or `timeout` ms have passed (-1:
 * no limit), as poll() does.  Under WASI it calls poll_oneoff itself with
 * static arrays: wasi-libc's poll() builds its subscriptions on the shadow
 * stack, which a thousand connections would overflow in a fiber. */
static int wait_ready(struct pollfd *fds, int n, int timeout)
{
#ifdef __wasi__
    static __wasi_subscription_t subs[MAX_CONNS + 2];
    static __wasi_event_t events[MAX_CONNS + 2];
    int k = 0;
    for (int i = 0; i < n; i++) {
        fds[i].revents = 0;
        subs[k].userdata = (uint64_t)i;
        subs[k].u.tag = (fds[i].events & POLLIN) ? __WASI_EVENTTYPE_FD_READ
                                                 : __WASI_EVENTTYPE_FD_WRITE;
        subs[k].u.u.fd_read.file_descriptor = (__wasi_fd_t)fds[i].fd;
        k++;
    }
    if (timeout >= 0) {
        subs[k].userdata = UINT64_MAX;
        subs[k].u.tag = __WASI_EVENTTYPE_CLOCK;
        subs[k].u.u.clock = (__wasi_subscription_clock_t){
            .id = __WASI_CLOCKID_MONOTONIC, .timeout = (uint64_t)timeout * 1000000};
        k++;
    }
    __wasi_size_t got = 0;
    __wasi_errno_t e = __wasi_poll_oneoff(subs, events, (__wasi_size_t)k, &got);
    if (e != 0) {
        errno = e;
        return -1;
    }
    for (__wasi_size_t j = 0; j < got; j++) {
        const __wasi_event_t *ev = &events[j];
        if (ev->userdata == UINT64_MAX) continue;
        struct pollfd *p = &fds[ev->userdata];
        p->revents |= ev->type == __WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
        if (ev->error) p->revents |= POLLERR;
        if (ev->fd_readwrite.flags & __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP) p->revents |= POLLHUP;
    }
    return (int)got;
#else
    return poll(fds, (nfds_t)n, timeout);
#endif
}

/* The scheduler fiber: poll, accept, resume whoever is ready. */
static int scheduler(int arg, int first)
{
    (void)arg;
    (void)first;
    static struct pollfd fds[MAX_CONNS + 1];
    static struct conn *waiting[MAX_CONNS + 1];
    static struct conn *ready[MAX_CONNS];
    while (!quitting) {
        int n = 0, timeout = -1;
        int64_t now = now_ms();
        fds[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
        for (int i = 0; i < nconns; i++) {
            struct conn *c = conns[i];
            if (c->wait_events) {
                waiting[n] = c;
                fds[n++] = (struct pollfd){.fd = c->fd, .events = c->wait_events};
            } else if (c->wake_at) {
                int left = c->wake_at > now ? (int)(c->wake_at - now) : 0;
                if (timeout < 0 || left < timeout) timeout = left;
            }
        }
        counts.polls++;
        if (wait_ready(fds, n, timeout) < 0 && errno != EINTR) die("poll failed");
        int nready = 0;
        for (int i = 1; i < n; i++)
            if (fds[i].revents) ready[nready++] = waiting[i];
        now = now_ms();
        for (int i = 0; i < nconns; i++)
            if (!conns[i]->wait_events && conns[i]->wake_at && conns[i]->wake_at <= now)
                ready[nready++] = conns[i];
        for (int i = 0; i < nready && !quitting; i++) run_conn(ready[i]);
        if (fds[0].revents & POLLIN) accept_all();
    }
    return 0;
}

int main(int argc, char **argv)
{
#ifdef __wasi__
    (void)argv;
    const char *lf = getenv("LISTEN_FDS");
    int nlisten = lf ? atoi(lf) : 0;
    if (argc != 1 || nlisten < 1)
        die("run with --tcplisten ADDR --dir DOCROOT (listener at descriptor 3)");
    listen_fd = 3;
    doc_fd = 3 + nlisten;
#else
    if (argc != 3) die("usage: httpd PORT DOCROOT");
    doc_fd = open(argv[2], O_RDONLY | O_DIRECTORY);
    if (doc_fd < 0) die("cannot open the document directory");
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listen_fd, 4096) < 0)
        die("cannot listen");
#endif
    printf("httpd: listening\n");
    fflush(stdout);
    struct fiber sched;
    struct fiber *who;
    int finished;
    fiber_init(&sched, scheduler, 0);
    fiber_run(&sched, 0, &who, &finished);
    printf("httpd: %llu connections, %llu requests (%llu slow), %llu polls, %d open at exit\n",
           (unsigned long long)counts.accepted, (unsigned long long)counts.requests,
           (unsigned long long)counts.slow, (unsigned long long)counts.polls, nconns);
    return 0;
}
