/*
 * exit_code.c - ends with a chosen exit status, to test that proc_exit's
 * status reaches the host.
 *
 *   exit_code N          prints a line, then calls exit(N)
 *   exit_code return N   prints a line, then returns N from main
 *   exit_code            prints a line, then returns 0
 *
 * An atexit handler prints a last line, which also checks that stdout is
 * flushed on the way out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int status;

static void goodbye(void)
{
    printf("atexit handler ran, status %d\n", status);
}

int main(int argc, char **argv)
{
    atexit(goodbye);
    if (argc > 2 && strcmp(argv[1], "return") == 0) {
        status = atoi(argv[2]);
        printf("returning %d from main\n", status);
        return status;
    }
    if (argc > 1) {
        status = atoi(argv[1]);
        printf("calling exit(%d)\n", status);
        exit(status);
    }
    printf("returning 0 from main\n");
    return 0;
}
