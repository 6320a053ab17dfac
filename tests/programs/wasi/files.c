/*
 * files.c - a C program that works on real files through WASI: creates,
 * writes, reads, seeks, truncates, lists, links, renames and removes files
 * and directories under the directory named by its first argument (a
 * preopened directory under WASI), and run-length codes a generated file
 * into another and back.
 *
 * Usage: files DIR
 *
 * It prints what it sees; nothing printed depends on the host (no inode
 * numbers, no current times, directory listings sorted), so the output is
 * the same under `switchyard run --dir HOST::DIR`, under `wasmtime run`
 * with the same options, and built natively with gcc and given a host
 * directory. It leaves DIR with the files listed at its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static const char *base;
static int failures;

/* DIR/name in a static buffer (one of two, so two can be used at once). */
static const char *at(const char *name)
{
    static char bufs[2][512];
    static int which;
    which ^= 1;
    snprintf(bufs[which], sizeof bufs[which], "%s/%s", base, name);
    return bufs[which];
}

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s (errno %d: %s)\n", what, errno, strerror(errno));
        failures++;
    }
}

/* Prints the errno name of a call expected to fail. */
static void expect_error(int result, const char *what)
{
    if (result >= 0) {
        printf("%s: succeeded, expected an error\n", what);
        failures++;
        return;
    }
    const char *name = errno == ENOENT      ? "ENOENT"
                       : errno == EEXIST    ? "EEXIST"
                       : errno == ENOTDIR   ? "ENOTDIR"
                       : errno == EISDIR    ? "EISDIR"
                       : errno == ENOTEMPTY ? "ENOTEMPTY"
                       : errno == EBADF     ? "EBADF"
                       : errno == EINVAL    ? "EINVAL"
                                            : "other";
    printf("%s: %s\n", what, name);
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(at(name), "w");
    check(f != NULL, "fopen for writing");
    if (!f)
        return;
    fputs(text, f);
    check(fclose(f) == 0, "fclose");
}

static void print_file(const char *name)
{
    char buf[256];
    FILE *f = fopen(at(name), "r");
    if (!f) {
        printf("%s: cannot open (%s)\n", name, strerror(errno));
        return;
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("%s: %zu bytes: \"", name, n);
    for (size_t i = 0; i < n; i++)
        putchar(buf[i] == '\n' ? '|' : buf[i]);
    printf("\"\n");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists a directory, sorted, with each entry's type and size. */
static void list(const char *name)
{
    char *names[64];
    int n = 0;
    DIR *d = opendir(at(name));
    check(d != NULL, "opendir");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], compare_names);
    printf("listing of %s:\n", name);
    for (int i = 0; i < n; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", name, names[i]);
        if (lstat(at(path), &st) != 0) {
            printf("  %s (lstat failed: %s)\n", names[i], strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            printf("  %s/\n", names[i]);
        } else if (S_ISLNK(st.st_mode)) {
            printf("  %s -> (link)\n", names[i]);
        } else {
            printf("  %s %lld bytes, %d links\n", names[i], (long long)st.st_size,
                   (int)st.st_nlink);
        }
        free(names[i]);
    }
}

/* Run-length coding: (count, byte) pairs, count 1..255. */
static size_t rle_encode(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && in[i + run] == in[i] && run < 255)
            run++;
        out[o++] = (unsigned char)run;
        out[o++] = in[i];
        i += run;
    }
    return o;
}

static size_t rle_decode(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t o = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        for (int k = 0; k < in[i]; k++)
            out[o++] = in[i + 1];
    return o;
}

static uint32_t checksum(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Reads a whole file with read(2) in small pieces. */
static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
    int fd = open(at(name), O_RDONLY);
    check(fd >= 0, "open for reading");
    size_t total = 0;
    ssize_t n;
    while (fd >= 0 && total < cap && (n = read(fd, buf + total, 1000)) > 0)
        total += (size_t)n;
    close(fd);
    return total;
}

static void compress_files(void)
{
    static unsigned char text[20000], packed[40000], unpacked[20000];
    size_t n = 0;
    for (int line = 0; n < sizeof text - 100; line++) {
        int len = snprintf((char *)text + n, 100, "%05d %.*s\n", line, line % 40,
                           "----------------------------------------");
        n += (size_t)len;
    }
    FILE *f = fopen(at("work/plain.txt"), "wb");
    check(f && fwrite(text, 1, n, f) == n, "write plain.txt");
    if (f)
        fclose(f);

    size_t got = slurp("work/plain.txt", unpacked, sizeof unpacked);
    size_t packed_len = rle_encode(unpacked, got, packed);
    int fd = open(at("work/plain.rle"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    check(fd >= 0 && write(fd, packed, packed_len) == (ssize_t)packed_len, "write plain.rle");
    close(fd);

    size_t back = slurp("work/plain.rle", packed, sizeof packed);
    size_t out = rle_decode(packed, back, unpacked);
    printf("rle: %zu bytes -> %zu bytes -> %zu bytes, %s, checksum %08x\n", n, back, out,
           out == n && memcmp(unpacked, text, n) == 0 ? "round trip ok" : "ROUND TRIP WRONG",
           (unsigned)checksum(packed, back));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: files DIR\n");
        return 2;
    }
    base = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* A fresh work directory. */
    check(mkdir(at("work"), 0755) == 0, "mkdir work");
    expect_error(mkdir(at("work"), 0755), "mkdir work again");
    check(mkdir(at("work/sub"), 0755) == 0, "mkdir work/sub");

    /* stdio: write, append, read back. */
    write_file("work/hello.txt", "hello\nworld\n");
    FILE *f = fopen(at("work/hello.txt"), "a");
    check(f != NULL, "fopen for appending");
    if (f) {
        fprintf(f, "appended %d\n", 42);
        fclose(f);
    }
    print_file("work/hello.txt");

    /* Seeks, pread, pwrite, ftruncate, fstat. */
    int fd = open(at("work/data.bin"), O_RDWR | O_CREAT | O_EXCL, 0644);
    check(fd >= 0, "open O_CREAT|O_EXCL");
    expect_error(open(at("work/data.bin"), O_RDWR | O_CREAT | O_EXCL, 0644),
                 "open existing with O_EXCL");
    check(write(fd, "0123456789abcdef", 16) == 16, "write 16");
    printf("lseek end: %lld\n", (long long)lseek(fd, 0, SEEK_END));
    printf("lseek set 4: %lld\n", (long long)lseek(fd, 4, SEEK_SET));
    char buf[64] = {0};
    check(read(fd, buf, 4) == 4, "read 4");
    printf("read at 4: %.4s, now at %lld\n", buf, (long long)lseek(fd, 0, SEEK_CUR));
    check(pwrite(fd, "XY", 2, 10) == 2, "pwrite");
    memset(buf, 0, sizeof buf);
    check(pread(fd, buf, 16, 0) == 16, "pread");
    printf("pread: %.16s, position still %lld\n", buf, (long long)lseek(fd, 0, SEEK_CUR));
    check(ftruncate(fd, 6) == 0, "ftruncate");
    struct stat st;
    check(fstat(fd, &st) == 0, "fstat");
    printf("after ftruncate: %lld bytes, regular file: %d\n", (long long)st.st_size,
           S_ISREG(st.st_mode));
    check(fsync(fd) == 0, "fsync");
    check(fdatasync(fd) == 0, "fdatasync");
    check(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "posix_fadvise");
    int flags = fcntl(fd, F_GETFL);
    printf("O_RDWR: %d, O_APPEND: %d\n", (flags & O_ACCMODE) == O_RDWR, !!(flags & O_APPEND));
    check(fcntl(fd, F_SETFL, flags | O_APPEND) == 0, "fcntl O_APPEND");
    check(write(fd, "!", 1) == 1, "append write");
    printf("O_APPEND now: %d\n", !!(fcntl(fd, F_GETFL) & O_APPEND));
    close(fd);
    expect_error(read(fd, buf, 1), "read after close");
    print_file("work/data.bin");

    /* Times. */
    struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};
    check(utimensat(AT_FDCWD, at("work/data.bin"), times, 0) == 0, "utimensat");
    check(stat(at("work/data.bin"), &st) == 0, "stat");
    printf("mtime %lld.%09ld atime %lld\n", (long long)st.st_mtim.tv_sec,
           (long)st.st_mtim.tv_nsec, (long long)st.st_atim.tv_sec);

    /* Links, renames, symbolic links. */
    check(link(at("work/hello.txt"), at("work/hello.link")) == 0, "link");
    check(rename(at("work/data.bin"), at("work/sub/moved.bin")) == 0, "rename");
    expect_error(stat(at("work/data.bin"), &st), "stat renamed-away file");
    check(symlink("sub/moved.bin", at("work/sym")) == 0, "symlink");
    memset(buf, 0, sizeof buf);
    ssize_t n = readlink(at("work/sym"), buf, sizeof buf - 1);
    printf("readlink: %zd \"%s\"\n", n, n > 0 ? buf : "");
    print_file("work/sym");
    check(lstat(at("work/sym"), &st) == 0 && S_ISLNK(st.st_mode), "lstat sees a link");
    check(stat(at("work/sym"), &st) == 0 && S_ISREG(st.st_mode), "stat follows the link");

    compress_files();
    list("work");
    list("work/sub");

    /* Errors of the directory calls. */
    expect_error(rmdir(at("work/sub")), "rmdir non-empty");
    expect_error(unlink(at("work/sub")), "unlink a directory");
    expect_error(open(at("work/missing"), O_RDONLY), "open missing");
    expect_error(open(at("work/hello.txt/x"), O_RDONLY), "open through a file");
    expect_error(open(at("work/sub"), O_WRONLY), "open a directory for writing");

    /* Clean up part of it. */
    check(unlink(at("work/sub/moved.bin")) == 0, "unlink moved.bin");
    check(rmdir(at("work/sub")) == 0, "rmdir sub");
    check(unlink(at("work/sym")) == 0, "unlink sym");
    list("work");

    printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
