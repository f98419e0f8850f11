/* The machine's own single-core memcpy bandwidth: the bound every copying
 * path divides by its number of copies per frame; and the same copies when
 * the data crosses between two CPUs, the bound of a path whose two sides run
 * on different CPUs. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* Both bounds copy through 1 MiB: the size of the data path's own buffers
 * (a netback queue's arena, a ring's worth of 64 KiB frames). */
#define SPAN (1u << 20)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double bench_memcpy_gbps(double seconds)
{
    /* 64 KiB blocks, as the largest frames, cycling through SPAN, so that the
     * reference and the measured path copy from the same cache level. */
    const size_t block = 65536, span = SPAN;
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

/* The same copies when the data changes hands between two CPUs, as it does
 * on a data path whose two threads run on different CPUs: one thread copies
 * 1 MiB (a ring's worth of 64 KiB frames) into a shared buffer, the other
 * copies it out, in turn.  Each copy then first has to fetch or take over
 * cache lines that the other CPU holds, which on a virtual machine can cost
 * several times the single-core copy.  Returns the bandwidth per copy in
 * Gbit/s, 0 when fewer than two CPUs are available or under valgrind. */
struct handoff {
    uint8_t *src, *shared, *dst;
    int cpu[2];
    atomic_int turn;
    atomic_bool stop;
    double busy[2];      /* seconds spent copying, per side */
    atomic_uint_fast64_t rounds;
};

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *handoff_side(void *arg, int me)
{
    struct handoff *h = arg;
    pin(h->cpu[me]);
    uint8_t *from = me ? h->shared : h->src, *to = me ? h->dst : h->shared;
    for (;;) {
        while (atomic_load(&h->turn) != me)
            if (atomic_load(&h->stop))
                return NULL;
        double t = now();
        memcpy(to, from, SPAN);
        __asm__ volatile("" ::: "memory");
        h->busy[me] += now() - t;
        if (me)
            h->rounds++;
        atomic_store(&h->turn, !me);
    }
}

static void *writer(void *arg) { return handoff_side(arg, 0); }
static void *reader(void *arg) { return handoff_side(arg, 1); }

double bench_handoff_gbps(double seconds)
{
    cpu_set_t set;
    int cpus[2], n = 0;
    /* Under valgrind the threads run one at a time: there is no hand-off
     * between CPUs to measure, and their spinning would swamp the counts. */
    if (RUNNING_ON_VALGRIND || sched_getaffinity(0, sizeof set, &set))
        return 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &set))
            cpus[n++] = c;
    if (n < 2)
        return 0;
    static struct handoff h;
    memset(&h, 0, sizeof h);
    h.src = malloc(SPAN);
    h.shared = malloc(SPAN);
    h.dst = malloc(SPAN);
    double gbps = 0;
    if (h.src && h.shared && h.dst) {
        memset(h.src, 0x5a, SPAN);
        memset(h.shared, 0, SPAN);
        memset(h.dst, 0, SPAN);
        h.cpu[0] = cpus[0];
        h.cpu[1] = cpus[1];
        pthread_t tw, tr;
        bool ok = !pthread_create(&tw, NULL, writer, &h);
        if (ok && pthread_create(&tr, NULL, reader, &h)) {
            atomic_store(&h.stop, true);
            pthread_join(tw, NULL);
            ok = false;
        }
        if (ok) {
            struct timespec ts = { (time_t)seconds, (long)((seconds - (time_t)seconds) * 1e9) };
            nanosleep(&ts, NULL);
            /* On a busy machine one side may not have run yet: wait for a
             * whole round (for up to 5 s more) rather than report none. */
            for (int i = 0; i < 500 && atomic_load(&h.rounds) == 0; i++)
                nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
            atomic_store(&h.stop, true);
            pthread_join(tw, NULL);
            pthread_join(tr, NULL);
            double busy = h.busy[0] + h.busy[1];
            if (busy > 0)
                gbps = 2.0 * (double)atomic_load(&h.rounds) * SPAN * 8 / busy / 1e9;
        }
    }
    free(h.src);
    free(h.shared);
    free(h.dst);
    return gbps;
}
