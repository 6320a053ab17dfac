/*
 * echo_args.c - prints its arguments and the environment variables whose
 * names start with SWY_, then reads standard input to end of file and
 * prints how many bytes and lines it read, with checksums.
 *
 * argv[0] is not printed: it names the program differently on each host.
 * Exercises the WASI calls args_get, environ_get and fd_read.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static void print_escaped(const char *s)
{
    putchar('[');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == ']') printf("\\%c", *p);
        else if (*p >= 0x20 && *p < 0x7F) putchar(*p);
        else printf("\\x%02x", *p);
    }
    putchar(']');
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc);
    for (int i = 1; i < argc; i++) {
        printf("argv[%d]=", i);
        print_escaped(argv[i]);
        printf(" (%zu bytes)\n", strlen(argv[i]));
    }

    /* environment variables named SWY_*, sorted by name */
    const char *vars[64];
    int nvars = 0;
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "SWY_", 4) == 0 && nvars < 64) vars[nvars++] = *e;
    qsort(vars, (size_t)nvars, sizeof vars[0], by_name); /* names are unique */
    printf("SWY_ variables: %d\n", nvars);
    for (int i = 0; i < nvars; i++) {
        printf("  ");
        print_escaped(vars[i]);
        putchar('\n');
    }
    const char *greeting = getenv("SWY_GREETING");
    printf("getenv(SWY_GREETING) %s", greeting ? "= " : "is unset");
    if (greeting) print_escaped(greeting);
    putchar('\n');

    /* standard input to end of file */
    static unsigned char buf[3000]; /* an odd size: reads straddle stdio's buffer */
    uint64_t bytes = 0, lines = 0, sum = 0;
    uint32_t crc = 0xFFFFFFFFu;
    uint64_t fnv = 0xcbf29ce484222325ull;
    size_t got;
    int reads = 0;
    while ((got = fread(buf, 1, sizeof buf, stdin)) > 0) {
        reads++;
        for (size_t i = 0; i < got; i++) {
            unsigned char c = buf[i];
            bytes++;
            sum += c;
            if (c == '\n') lines++;
            crc ^= c;
            for (int k = 0; k < 8; k++) crc = (crc & 1) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            fnv = (fnv ^ c) * 0x100000001b3ull;
        }
    }
    printf("stdin: %" PRIu64 " bytes, %" PRIu64 " lines, byte sum %" PRIu64 ", crc32 %08" PRIx32
           ", fnv1a %016" PRIx64 ", eof %d, error %d\n",
           bytes, lines, sum, crc ^ 0xFFFFFFFFu, fnv, feof(stdin) != 0, ferror(stdin) != 0);
    (void)reads; /* depends on the host's buffering, so not printed */
    return 0;
}
