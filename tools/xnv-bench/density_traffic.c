/* Traffic on many vifs at once: a fixed pool of guest threads (one per CPU)
 * walks its share of the busy vifs' queues, filling each transmit ring (or
 * emptying each receive ring) before moving on, so that the guests' side
 * costs the same whatever the number of vifs and the figure shows what the
 * backend makes of them. */
#include <poll.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "density.h"
#include "xnv/frame.h"
#include "xnv/netback.h"
#include "xnv/netfront.h"

#define BURST 32
#define MAX_POOL 8

struct pool_thread {
    struct density_world *w;
    const struct traffic_case *c;
    unsigned id, nthreads;
    atomic_bool *stop;
    uint8_t frame[2048];
    uint32_t len;
    uint8_t bufs[BURST][2048];    /* received frames land here */
};

/* At most a ring's worth of frames per queue and visit: a queue whose
 * backend keeps pace would otherwise keep its guest thread to itself. */
#define VISIT_BUDGET 256

/* Fill queue q's transmit ring; frames handed over. */
static unsigned send_queue(struct xnv_netfront *nf, unsigned q, const struct xnv_nf_frame *f)
{
    unsigned total = 0;
    while (total < VISIT_BUDGET) {
        int n = xnv_nf_send(nf, q, f, BURST);
        if (n > 0)
            total += (unsigned)n;
        if (n == BURST)
            continue;
        struct xnv_nf_frame r = { .data = (uint8_t[64]){ 0 }, .cap = 64 };
        xnv_nf_recv(nf, q, &r, 1);               /* reclaims transmit buffers */
        n = xnv_nf_send(nf, q, f, BURST);
        if (n > 0)
            total += (unsigned)n;
        if (n < BURST)
            break;
    }
    return total;
}

/* Empty queue q's receive ring; frames taken. */
static unsigned recv_queue(struct xnv_netfront *nf, unsigned q, uint8_t (*bufs)[2048])
{
    struct xnv_nf_frame f[BURST];
    unsigned total = 0;
    while (total < VISIT_BUDGET) {
        for (unsigned i = 0; i < BURST; i++)
            f[i] = (struct xnv_nf_frame){ .data = bufs[i], .cap = 2048 };
        int n = xnv_nf_recv(nf, q, f, BURST);
        if (n <= 0)
            break;
        total += (unsigned)n;
    }
    return total;
}

/* Nothing moved on any of our queues: sleep until one of them signals. */
static void wait_any(struct pool_thread *t)
{
    struct pollfd p[DENSITY_MAX_VIFS * 2];
    nfds_t n = 0;
    for (unsigned v = t->id; v < t->c->busy; v += t->nthreads)
        for (unsigned q = 0; q < t->w->queues && n < DENSITY_MAX_VIFS * 2; q++)
            p[n++] = (struct pollfd){ xnv_nf_queue_fd(t->w->g[v].nf, q), POLLIN, 0 };
    poll(p, n, 1);
}

static void *pool_main(void *arg)
{
    struct pool_thread *t = arg;
    struct xnv_nf_frame f[BURST];
    for (unsigned i = 0; i < BURST; i++)
        f[i] = (struct xnv_nf_frame){ .data = t->frame, .len = t->len };
    while (!atomic_load(t->stop)) {
        unsigned moved = 0;
        for (unsigned v = t->id; v < t->c->busy; v += t->nthreads)
            for (unsigned q = 0; q < t->w->queues; q++)
                moved += t->c->to_guest ? recv_queue(t->w->g[v].nf, q, t->bufs) : send_queue(t->w->g[v].nf, q, f);
        if (!moved)
            wait_any(t);
    }
    return NULL;
}

/* Frames vif v delivered so far in the case's direction. */
static uint64_t delivered(struct density_world *w, unsigned v, bool to_guest)
{
    if (!to_guest) {
        struct xnv_memport_stats ms;
        xnv_memport_stats(w->g[v].port, &ms);
        return ms.sent;
    }
    struct xnv_nf_stats s;
    xnv_nf_stats(w->g[v].nf, XNV_NF_ALL_QUEUES, &s);
    return s.rx_packets;
}

/* Until every busy vif has moved WARM_FRAMES since the case began (its
 * first frames fault in the pages of its queues' arenas, a one-time cost
 * that grows with the number of vifs), at least 200 ms, at most 10 s. */
#define WARM_FRAMES 4096
static void warm_up(struct density_world *w, const struct traffic_case *c)
{
    static uint64_t start[DENSITY_MAX_VIFS];
    for (unsigned v = 0; v < c->busy; v++)
        start[v] = delivered(w, v, c->to_guest);
    double t0 = bench_now();
    usleep(200000);
    for (unsigned v = 0; v < c->busy && bench_now() - t0 < 10; )
        if (delivered(w, v, c->to_guest) - start[v] >= WARM_FRAMES)
            v++;
        else
            usleep(10000);
}

static void backend_stats(struct density_world *w, unsigned busy, struct xnv_queue_stats *sum)
{
    memset(sum, 0, sizeof *sum);
    for (unsigned v = 0; v < busy; v++) {
        struct xnv_queue_stats s;
        xnv_netback_stats(w->nb, (xnv_domid_t)w->g[v].domid, 0, -1, &s);
        sum->notify_recv += s.notify_recv;
        sum->notify_sent += s.notify_sent;
        sum->idle_loops += s.idle_loops;
        sum->copy_calls += s.copy_calls;
        sum->copy_segments += s.copy_segments;
    }
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static double jain(const double *x, unsigned n)
{
    double s = 0, s2 = 0;
    for (unsigned i = 0; i < n; i++) {
        s += x[i];
        s2 += x[i] * x[i];
    }
    return s2 > 0 ? s * s / (n * s2) : 0;
}

void traffic_run(struct density_world *w, const struct traffic_case *c, struct traffic_result *r)
{
    memset(r, 0, sizeof *r);
    static struct pool_thread t[MAX_POOL];
    pthread_t th[MAX_POOL];
    atomic_bool stop = false;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned nthreads = cpus < 1 ? 1 : cpus > MAX_POOL ? MAX_POOL : (unsigned)cpus;
    if (nthreads > c->busy)
        nthreads = c->busy;
    uint8_t frame[2048];
    uint32_t len = xnv_frame_udp(frame, c->frame_bytes > 42 ? c->frame_bytes - 42 : 0);
    for (unsigned v = 0; v < c->busy; v++)
        if (c->to_guest)
            xnv_memport_set_source(w->g[v].port, &(struct virtio_net_hdr){ 0 }, frame, len, UINT64_MAX);
        else
            xnv_memport_set_sink(w->g[v].port, true);
    for (unsigned i = 0; i < nthreads; i++) {
        t[i] = (struct pool_thread){ .w = w, .c = c, .id = i, .nthreads = nthreads, .stop = &stop, .len = len };
        memcpy(t[i].frame, frame, len);
        pthread_create(&th[i], NULL, pool_main, &t[i]);
    }
    static uint64_t d0[DENSITY_MAX_VIFS];
    struct xnv_queue_stats s0, s1;
    warm_up(w, c);
    for (unsigned v = 0; v < c->busy; v++)
        d0[v] = delivered(w, v, c->to_guest);
    backend_stats(w, c->busy, &s0);
    double t0 = bench_now(), c0 = cpu_s();
    usleep((useconds_t)(c->seconds * 1e6));
    double dt = bench_now() - t0;
    r->cpu_s = cpu_s() - c0;
    double rate[DENSITY_MAX_VIFS];
    uint64_t frames = 0;
    r->min_vif_mpps = 1e9;
    for (unsigned v = 0; v < c->busy; v++) {
        uint64_t d = delivered(w, v, c->to_guest) - d0[v];
        frames += d;
        rate[v] = (double)d / dt / 1e6;
        if (rate[v] < r->min_vif_mpps)
            r->min_vif_mpps = rate[v];
        if (rate[v] > r->max_vif_mpps)
            r->max_vif_mpps = rate[v];
    }
    backend_stats(w, c->busy, &s1);
    atomic_store(&stop, true);
    for (unsigned v = 0; v < c->busy && c->to_guest; v++)
        xnv_memport_set_source(w->g[v].port, &(struct virtio_net_hdr){ 0 }, frame, 0, 0);
    for (unsigned i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    r->frames = frames;
    r->mpps = (double)frames / dt / 1e6;
    r->mpps_per_cpu = r->cpu_s > 0 ? (double)frames / r->cpu_s / 1e6 : 0;
    r->jain = jain(rate, c->busy);
    double per = frames ? 1.0 / (double)frames : 0;
    r->events_per_frame = (double)(s1.notify_recv - s0.notify_recv) * per;
    r->notifies_per_frame = (double)(s1.notify_sent - s0.notify_sent) * per;
    r->sleeps_per_frame = (double)(s1.idle_loops - s0.idle_loops) * per;
    uint64_t calls = s1.copy_calls - s0.copy_calls;
    r->frames_per_copy_call = calls ? (double)frames / (double)calls : 0;
}
