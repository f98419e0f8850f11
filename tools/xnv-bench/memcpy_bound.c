/* The machine's own single-core memcpy bandwidth: the bound every copying
 * path divides by its number of copies per frame. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double bench_memcpy_gbps(double seconds)
{
    /* 64 KiB blocks, as the largest frames, cycling through 1 MiB: the size
     * of the data path's own buffers (a netback queue's arena), so that the
     * reference and the measured path copy from the same cache level. */
    const size_t block = 65536, span = 1u << 20;
    uint8_t *src = malloc(span), *dst = malloc(span);
    if (!src || !dst) {
        free(src);
        free(dst);
        return 0;
    }
    memset(src, 0x5a, span);
    memset(dst, 0, span);
    double t0 = now(), t;
    uint64_t bytes = 0;
    size_t off = 0;
    do {
        for (int i = 0; i < 64; i++) {
            memcpy(dst + off, src + off, block);
            off = (off + block) % span;
            bytes += block;
        }
        t = now();
    } while (t - t0 < seconds);
    volatile uint8_t sink = dst[off];
    (void)sink;
    free(src);
    free(dst);
    return (double)bytes * 8 / (t - t0) / 1e9;
}
