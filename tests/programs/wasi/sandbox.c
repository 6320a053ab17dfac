/*
 * sandbox.c - tries every way out of a preopened directory through the
 * raw WASI calls, and prints what each attempt gets. Run it with the
 * sandbox preopened as descriptor 3; the host test that runs it puts
 * `inside.txt` in the sandbox and `../outside/secret` next to it (and an
 * absolute symbolic link `abs` to that secret, which the guest cannot
 * make itself).
 *
 * Usage: sandbox            every escape, one line each
 *        sandbox race N     N opens of race/secret, while the host swaps
 *                           race/ between a directory and a symbolic link
 *                           to the outside; prints how many read what.
 *
 * Every escape must fail; the errno names are compared with Wasmtime's.
 * wasi-libc's own path functions resolve paths against the preopens
 * before the host sees them, so this program calls the WASI functions
 * directly, as hostile code would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define DIR 3
#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW
#define READ (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK)

static int escaped;

static const char *name(__wasi_errno_t e)
{
    switch (e) {
    case __WASI_ERRNO_SUCCESS: return "success";
    case __WASI_ERRNO_PERM: return "EPERM";
    case __WASI_ERRNO_NOTCAPABLE: return "ENOTCAPABLE";
    case __WASI_ERRNO_NOENT: return "ENOENT";
    case __WASI_ERRNO_ACCES: return "EACCES";
    case __WASI_ERRNO_LOOP: return "ELOOP";
    case __WASI_ERRNO_NOTDIR: return "ENOTDIR";
    case __WASI_ERRNO_INVAL: return "EINVAL";
    case __WASI_ERRNO_EXIST: return "EEXIST";
    case __WASI_ERRNO_BADF: return "EBADF";
    case __WASI_ERRNO_XDEV: return "EXDEV";
    default: return "other";
    }
}

/* Reads what an opened descriptor holds (the first line). */
static void show(__wasi_fd_t fd, const char *what)
{
    char buf[64] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t n = 0;
    (void)__wasi_fd_read(fd, &iov, 1, &n);
    buf[strcspn(buf, "\n")] = 0;
    if (strstr(buf, "OUTSIDE") || strstr(buf, "root:"))
        escaped = 1;
    printf("%-44s opened! read \"%s\"\n", what, buf);
    (void)__wasi_fd_close(fd);
}

static void attempt(const char *what, __wasi_errno_t e)
{
    printf("%-44s %s\n", what, name(e));
    if (e == __WASI_ERRNO_SUCCESS)
        escaped = 1;
}

static void try_open(__wasi_fd_t dir, __wasi_lookupflags_t flags, const char *path,
                     __wasi_oflags_t oflags, const char *what)
{
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, flags, path, oflags, READ, 0, 0, &fd);
    if (e == __WASI_ERRNO_SUCCESS)
        show(fd, what);
    else
        attempt(what, e);
}

static int race(int rounds)
{
    int inside = 0, outside = 0, failed = 0;
    for (int i = 0; i < rounds; i++) {
        __wasi_fd_t fd;
        if (__wasi_path_open(DIR, FOLLOW, "race/secret", 0, READ, 0, 0, &fd) != 0) {
            failed++;
            continue;
        }
        char buf[16] = {0};
        __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
        __wasi_size_t n = 0;
        (void)__wasi_fd_read(fd, &iov, 1, &n);
        (void)__wasi_fd_close(fd);
        if (strncmp(buf, "INSIDE", 6) == 0)
            inside++;
        else
            outside++;
    }
    printf("race: %d inside, %d outside, %d refused\n", inside, outside, failed);
    return outside ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "race") == 0)
        return race(atoi(argv[2]));

    /* A sanity check: the inside file opens. */
    try_open(DIR, 0, "inside.txt", 0, "open inside.txt");
    escaped = 0;

    try_open(DIR, 0, "..", __WASI_OFLAGS_DIRECTORY, "open ..");
    try_open(DIR, 0, "../outside/secret", 0, "open ../outside/secret");
    try_open(DIR, 0, "sub/../../outside/secret", 0, "open sub/../../outside/secret");
    try_open(DIR, 0, "/etc/passwd", 0, "open /etc/passwd");
    try_open(DIR, FOLLOW, "abs", 0, "open abs (-> absolute outside), follow");
    try_open(DIR, 0, "abs", 0, "open abs, no follow");

    /* A relative link pointing out can be made; it cannot be followed. */
    const char *up = "../outside";
    printf("%-44s %s\n", "symlink up -> ../outside", name(__wasi_path_symlink(up, DIR, "up")));
    try_open(DIR, FOLLOW, "up/secret", 0, "open up/secret");
    try_open(DIR, 0, "up/secret", 0, "open up/secret, no follow");
    attempt("symlink abs2 -> /etc/passwd", __wasi_path_symlink("/etc/passwd", DIR, "abs2"));

    /* A directory opened inside is a sandbox of its own. */
    __wasi_fd_t sub;
    __wasi_errno_t e = __wasi_path_open(DIR, 0, "sub", __WASI_OFLAGS_DIRECTORY,
                                        __WASI_RIGHTS_FD_READDIR, READ, 0, &sub);
    printf("%-44s %s\n", "open sub", name(e));
    if (e == 0) {
        try_open(sub, 0, "../inside.txt", 0, "open ../inside.txt from sub");
        try_open(sub, 0, "../../outside/secret", 0, "open ../../outside/secret from sub");
        (void)__wasi_fd_close(sub);
    }

    __wasi_filestat_t st;
    attempt("filestat ../outside/secret",
            __wasi_path_filestat_get(DIR, 0, "../outside/secret", &st));
    attempt("filestat up/secret, follow", __wasi_path_filestat_get(DIR, FOLLOW, "up/secret", &st));
    attempt("filestat abs, follow", __wasi_path_filestat_get(DIR, FOLLOW, "abs", &st));
    attempt("set times of ../outside/secret",
            __wasi_path_filestat_set_times(DIR, 0, "../outside/secret", 0, 0,
                                           __WASI_FSTFLAGS_MTIM_NOW));
    attempt("mkdir ../outside/made", __wasi_path_create_directory(DIR, "../outside/made"));
    attempt("mkdir up/made", __wasi_path_create_directory(DIR, "up/made"));
    attempt("rename inside.txt -> ../outside/stolen",
            __wasi_path_rename(DIR, "inside.txt", DIR, "../outside/stolen"));
    attempt("rename ../outside/secret -> taken",
            __wasi_path_rename(DIR, "../outside/secret", DIR, "taken"));
    attempt("link ../outside/secret -> hard",
            __wasi_path_link(DIR, 0, "../outside/secret", DIR, "hard"));
    attempt("link inside.txt -> up/hard", __wasi_path_link(DIR, 0, "inside.txt", DIR, "up/hard"));
    attempt("unlink ../outside/secret", __wasi_path_unlink_file(DIR, "../outside/secret"));
    attempt("unlink up/secret", __wasi_path_unlink_file(DIR, "up/secret"));
    attempt("rmdir ../outside", __wasi_path_remove_directory(DIR, "../outside"));
    char buf[64];
    __wasi_size_t used;
    attempt("readlink ../outside/link",
            __wasi_path_readlink(DIR, "../outside/link", (uint8_t *)buf, sizeof buf, &used));
    attempt("create ../outside/new",
            __wasi_path_open(DIR, 0, "../outside/new", __WASI_OFLAGS_CREAT,
                             __WASI_RIGHTS_FD_WRITE, 0, 0, &sub));
    attempt("create up/new, follow",
            __wasi_path_open(DIR, FOLLOW, "up/new", __WASI_OFLAGS_CREAT,
                             __WASI_RIGHTS_FD_WRITE, 0, 0, &sub));

    printf("%s\n", escaped ? "ESCAPED" : "no escape");
    return escaped;
}
