/* One benchmark case: dom0 runs the netback engine with an in-memory port
 * (sink for guest->backend, source for backend->guest); a simulated guest
 * runs the netfront engine; one thread per queue pushes or pulls frames for
 * the measured time. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"
#include "xnv/frame.h"
#include "xnv/netback.h"
#include "xnv/netfront.h"
#include "xnv/sim.h"
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#define BURST 32
#define GSO_SIZE 1448

struct world {
    struct xnv_sim *sim;
    struct xnv_hv *dom0, *guest;
    struct xnv_netback *nb;
    struct xnv_netfront *nf;
    struct xnv_port *port;
    int domid;
    atomic_bool stop, stop_ctrl;
    pthread_t nb_thread, nf_thread;
    const struct bench_case *c;
    uint8_t frame[65536];
    uint32_t len;
    struct xnv_offload off;       /* of the frame, for the sending guest */
};

static struct xnv_port *open_port(void *arg, const char *ifname, char *err, size_t errlen)
{
    struct world *w = arg;
    w->port = xnv_memport_open(ifname, 1024);
    if (!w->port)
        snprintf(err, errlen, "cannot open an in-memory port");
    return w->port;
}

static void *netback_ctrl(void *arg)
{
    struct world *w = arg;
    while (!atomic_load(&w->stop_ctrl)) {
        struct pollfd p = { xnv_netback_fd(w->nb), POLLIN, 0 };
        poll(&p, 1, 20);
        xnv_netback_process(w->nb);
    }
    return NULL;
}

static void *netfront_ctrl(void *arg)
{
    struct world *w = arg;
    while (!atomic_load(&w->stop_ctrl)) {
        struct pollfd p = { xnv_nf_ctrl_fd(w->nf), POLLIN, 0 };
        poll(&p, 1, 20);
        xnv_nf_ctrl_process(w->nf);
    }
    return NULL;
}

/* The frame of this case and its offload metadata. */
static void make_frame(struct world *w)
{
    uint32_t fb = w->c->frame_bytes;
    memset(&w->off, 0, sizeof w->off);
    if (fb <= 64) {
        w->len = xnv_frame_udp(w->frame, fb > 42 ? fb - 42 : 0);
    } else {
        w->len = xnv_frame_tcp(w->frame, false, fb - 54);
        if (fb > 1514) {           /* a GSO frame with a partial checksum */
            w->off.csum_partial = w->off.csum_valid = true;
            w->off.csum_start = 34;
            w->off.csum_offset = 16;
            w->off.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
            w->off.gso_size = GSO_SIZE;
            w->off.hdr_len = 54;
        }
    }
}

static int setup(struct world *w, char *err, size_t errlen)
{
    w->sim = xnv_sim_new();
    w->dom0 = xnv_sim_hv_open(w->sim, 0);
    w->nb = bench_netback_new(w->dom0, w->c->queues, open_port, w, err, errlen);
    if (!w->nb)
        return -1;
    w->domid = xnv_sim_domain_create(w->sim, "bench");
    xnv_sim_set_share_limit(w->sim, (xnv_domid_t)w->domid, 4096);
    if (xnv_sim_xl_add_vif(w->sim, 0, (xnv_domid_t)w->domid, 0, "00:16:3e:00:00:02", NULL) ||
        xnv_sim_xl_hotplug(w->sim, 0, (xnv_domid_t)w->domid, 0, "connected")) {
        snprintf(err, errlen, "cannot write the vif's xenstore entries");
        return -1;
    }
    pthread_create(&w->nb_thread, NULL, netback_ctrl, w);
    w->guest = xnv_sim_hv_open(w->sim, (xnv_domid_t)w->domid);
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = w->c->queues;
    o.grant_limit = 4096;
    o.connect_timeout_ms = 0;
    o.log = bench_log;
    w->nf = xnv_nf_open(w->guest, 0, &o, err, errlen);
    if (!w->nf)
        return -1;
    if (xnv_nf_wait_state(w->nf, XNV_NF_CONNECTED, 10000)) {
        snprintf(err, errlen, "the netfront did not connect: %s", xnv_nf_last_error(w->nf));
        return -1;
    }
    pthread_create(&w->nf_thread, NULL, netfront_ctrl, w);
    return 0;
}

static void teardown(struct world *w)
{
    atomic_store(&w->stop_ctrl, true);
    if (w->nf_thread)
        pthread_join(w->nf_thread, NULL);
    if (w->nf)
        xnv_nf_close(w->nf);
    if (w->nb_thread)
        pthread_join(w->nb_thread, NULL);
    xnv_netback_free(w->nb);
    xnv_hv_close(w->guest);
    xnv_hv_close(w->dom0);
    xnv_sim_free(w->sim);
}

struct worker { struct world *w; unsigned q; };

static void wait_queue(struct world *w, unsigned q)
{
    struct pollfd p = { xnv_nf_queue_fd(w->nf, q), POLLIN, 0 };
    poll(&p, 1, 1);
}

static void *sender(void *arg)
{
    struct worker *k = arg;
    struct world *w = k->w;
    struct xnv_nf_frame f[BURST], r;
    for (unsigned i = 0; i < BURST; i++)
        f[i] = (struct xnv_nf_frame){ .data = w->frame, .len = w->len, .meta = XNV_NF_META_OFFLOAD,
                                      .off = w->off };
    uint8_t sink[2048];
    r = (struct xnv_nf_frame){ .data = sink, .cap = sizeof sink };
    while (!atomic_load(&w->stop)) {
        int n = xnv_nf_send(w->nf, k->q, f, BURST);
        if (n < 0)
            break;
        if (n < BURST) {
            xnv_nf_recv(w->nf, k->q, &r, 1);     /* reclaims transmit buffers */
            if (xnv_nf_send(w->nf, k->q, f, 1) == 0)
                wait_queue(w, k->q);
        }
    }
    return NULL;
}

/* The guest agent's TAP write, as far as the data goes: one copy of the
 * frame into memory of its own (the kernel's buffer, ctx: TAP_BUF bytes). */
#define TAP_BUF 65536

static void to_tap(void *ctx, const struct virtio_net_hdr *vh, const struct iovec *iov, unsigned n)
{
    uint8_t *tap_buf = ctx;
    (void)vh;
    size_t at = 0;
    for (unsigned i = 0; i < n && at + iov[i].iov_len <= TAP_BUF; i++) {
        memcpy(tap_buf + at, iov[i].iov_base, iov[i].iov_len);
        at += iov[i].iov_len;
    }
}

static void *receiver(void *arg)
{
    struct worker *k = arg;
    struct world *w = k->w;
    /* on the heap, not thread-local: static TLS is set up in every thread
     * of the process, the engine's queue threads included */
    uint8_t (*bufs)[65536] = malloc(BURST * sizeof *bufs), *tap_buf = malloc(TAP_BUF);
    struct xnv_nf_frame f[BURST];
    while (bufs && tap_buf && !atomic_load(&w->stop)) {
        int n;
        if (w->c->dir == BACKEND_TO_GUEST_TAP) {
            n = xnv_nf_recv_to(w->nf, k->q, to_tap, tap_buf, BURST);
        } else {
            for (unsigned i = 0; i < BURST; i++)
                f[i] = (struct xnv_nf_frame){ .data = bufs[i], .cap = sizeof bufs[i] };
            n = xnv_nf_recv(w->nf, k->q, f, BURST);
            for (int i = 0; i < n && w->c->dir == BACKEND_TO_GUEST_TAP_COPY; i++)
                to_tap(tap_buf, &f[i].vh, &(struct iovec){ f[i].data, f[i].len }, 1);
        }
        if (n < 0)
            break;
        if (n == 0)
            wait_queue(w, k->q);
    }
    free(bufs);
    free(tap_buf);
    return NULL;
}

/* Frames delivered so far in this case's direction. */
static uint64_t delivered(struct world *w)
{
    if (w->c->dir == GUEST_TO_BACKEND) {
        struct xnv_memport_stats ms;
        xnv_memport_stats(w->port, &ms);
        return ms.sent;
    }
    struct xnv_nf_stats s;
    xnv_nf_stats(w->nf, XNV_NF_ALL_QUEUES, &s);
    return s.rx_packets;
}

/* Sleep until COUNT frames have been delivered in all; false when the path
 * stalls for WAIT_LIMIT_S (slowed down under valgrind, still never that long). */
#define WAIT_LIMIT_S 300
static bool wait_delivered(struct world *w, uint64_t count)
{
    double give_up = bench_now() + WAIT_LIMIT_S;
    for (uint64_t last = delivered(w); last < count; last = delivered(w)) {
        usleep(1000);
        if (delivered(w) != last)
            give_up = bench_now() + WAIT_LIMIT_S;
        else if (bench_now() > give_up)
            return false;
    }
    return true;
}

void bench_run(const struct bench_case *c, struct bench_result *r)
{
    static struct world w;
    memset(&w, 0, sizeof w);
    memset(r, 0, sizeof *r);
    w.c = c;
    make_frame(&w);
    if (setup(&w, r->error, sizeof r->error)) {
        teardown(&w);
        return;
    }
    if (c->dir == GUEST_TO_BACKEND) {
        xnv_memport_set_sink(w.port, true);
    } else {
        struct virtio_net_hdr vh;
        xnv_offload_to_vnet(&w.off, &vh);
        xnv_memport_set_source(w.port, &vh, w.frame, w.len, UINT64_MAX);
    }
    pthread_t th[16];
    struct worker wk[16];
    for (unsigned q = 0; q < c->queues; q++) {
        wk[q] = (struct worker){ &w, q };
        pthread_create(&th[q], NULL, c->dir == GUEST_TO_BACKEND ? sender : receiver, &wk[q]);
    }
    struct xnv_queue_stats s0, s1;
    struct xnv_nf_stats f0, f1;
    uint64_t d0, d1;
    double t0, t1;
    if (c->packets) {
        /* A fixed count: warm up on a tenth of it, then the window callgrind
         * sees (zeroed before, dumped right after; no-ops outside valgrind). */
        bool ok = wait_delivered(&w, c->packets / 10 + 1);
        xnv_netback_stats(w.nb, (xnv_domid_t)w.domid, 0, -1, &s0);
        xnv_nf_stats(w.nf, XNV_NF_ALL_QUEUES, &f0);
        CALLGRIND_ZERO_STATS;
        d0 = delivered(&w);
        t0 = bench_now();
        ok = ok && wait_delivered(&w, d0 + c->packets);
        d1 = delivered(&w);
        CALLGRIND_DUMP_STATS_AT("xnv-bench window");
        t1 = bench_now();
        if (!ok)
            snprintf(r->error, sizeof r->error, "no frame moved for %d s", WAIT_LIMIT_S);
    } else {
        usleep(200000);                                /* warm up */
        xnv_netback_stats(w.nb, (xnv_domid_t)w.domid, 0, -1, &s0);
        xnv_nf_stats(w.nf, XNV_NF_ALL_QUEUES, &f0);
        d0 = delivered(&w);
        t0 = bench_now();
        usleep((useconds_t)(c->seconds * 1e6));
        d1 = delivered(&w);
        t1 = bench_now();
    }
    xnv_netback_stats(w.nb, (xnv_domid_t)w.domid, 0, -1, &s1);
    xnv_nf_stats(w.nf, XNV_NF_ALL_QUEUES, &f1);
    atomic_store(&w.stop, true);
    if (c->dir != GUEST_TO_BACKEND)
        xnv_memport_set_source(w.port, &(struct virtio_net_hdr){ 0 }, w.frame, 0, 0);
    for (unsigned q = 0; q < c->queues; q++)
        pthread_join(th[q], NULL);

    double dt = t1 - t0;
    r->frames = d1 - d0;
    r->mpps = (double)r->frames / dt / 1e6;
    r->gbps = (double)r->frames * w.len * 8 / dt / 1e9;
    /* guest->backend: into the pool page, then the grant copy out of it;
     * backend->guest: the read from the port, the grant copy into the guest
     * page, the copy out of it into the receiver's buffer (and the TAP's
     * copy after it), or only the TAP's copy, straight from the page. */
    static const double copies[BENCH_DIRS] = { 2, 3, 4, 3 };
    r->copies_per_frame = copies[c->dir];
    uint64_t calls = s1.copy_calls - s0.copy_calls;
    r->segments_per_copy = calls ? (double)(s1.copy_segments - s0.copy_segments) / (double)calls : 0;
    uint64_t notes = (s1.notify_sent - s0.notify_sent) + (f1.notifies - f0.notifies);
    r->notifications_per_packet = r->frames ? (double)notes / (double)r->frames : 0;
    teardown(&w);
}
