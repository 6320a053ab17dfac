/*
 * common.h - what every whole-program benchmark shares: die() for
 * fiber.h, the fiber library itself, and a small order-sensitive checksum
 * so that two engines' outputs can be compared.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void die(const char *what)
{
    fflush(stdout);
    fprintf(stderr, "benchmark: %s\n", what);
    exit(70);
}

#include "fiber.h"

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v + 0x9e3779b9u + (h << 6) + (h >> 2);
    return h;
}
