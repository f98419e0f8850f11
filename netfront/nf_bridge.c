/* The bridge between a host-side port (the guest agent's TAP) and the
 * netfront: one thread per queue, frames carried with their virtio-net
 * headers.  Frames the port hands over wait in the thread's own buffers
 * while the ring is full (the port is not read meanwhile); frames that
 * cannot go (no connection) are dropped and counted.
 *
 * With direct channels (xnv_nf_bridge_set_channels): a frame for a peer
 * with a live channel takes it, everything else the netfront; one more
 * thread runs the channels' control plane and hands what they receive to
 * the port. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>
#include "nf.h"
#include "xnv/idc.h"
#include "xnv/port.h"

#define BR_BATCH   8u
#define BR_ROUNDS  4u
#define BR_BUF     65536u
/* A sender sleeping on a full ring looks again this often without a
 * notification: the channel's stall check needs the retry. */
#define BR_ROOM_WAIT_MS 10u

struct br_queue {
    struct xnv_nf_bridge *b;
    unsigned id;
    pthread_t th;
    bool started;
    uint8_t *arena;                 /* BR_BATCH buffers from the port (received
                                       frames go to it from the rings directly) */
    struct xnv_nf_frame tx[BR_BATCH];
    unsigned tx_first, tx_pending;  /* read from the port, not yet on the ring */
    struct xnv_nf_bridge_stats st;
};

struct xnv_nf_bridge {
    struct xnv_netfront *nf;
    struct xnv_port *port;
    struct xnv_idc *_Atomic idc;     /* NULL: no direct channels */
    pthread_t idc_th;
    bool idc_started;
    struct br_queue idc_q;          /* the channel thread's counters */
    unsigned nq;
    int stopfd;
    atomic_bool stop;
    bool synced;
    bool carrier;
    uint32_t offload;
    struct br_queue q[XNV_NF_MAX_QUEUES];
};

#define BR_STAT_ADD(q, field, n) \
    __atomic_store_n(&(q)->st.field, __atomic_load_n(&(q)->st.field, __ATOMIC_RELAXED) + (n), \
                     __ATOMIC_RELAXED)

/* Where received frames go: the port's queue, straight from the receive
 * buffers (one writev each, virtio-net header first). */
struct to_port {
    struct br_queue *q;
    unsigned port_q;
};

static void frame_to_port(void *ctx, const struct virtio_net_hdr *vh, const struct iovec *iov,
                          unsigned n)
{
    struct to_port *t = ctx;
    if (xnv_port_send(t->q->b->port, t->port_q, vh, iov, n) == 0)
        BR_STAT_ADD(t->q, to_port, 1);
    else
        BR_STAT_ADD(t->q, to_port_dropped, 1);
}

/* Rings -> port. */
static void pump_rx(struct br_queue *q)
{
    struct to_port t = { q, q->id };
    for (unsigned round = 0; round < BR_ROUNDS; round++) {
        int n = xnv_nf_recv_to(q->b->nf, q->id, frame_to_port, &t, BR_BATCH);
        if (n < (int)BR_BATCH)
            return;
    }
}

/* Hand the waiting frames to the ring; false while some still wait. */
static bool flush_tx(struct br_queue *q)
{
    while (q->tx_pending) {
        int rc = xnv_nf_send(q->b->nf, q->id, q->tx + q->tx_first, q->tx_pending);
        if (rc < 0) {
            BR_STAT_ADD(q, from_port_dropped, q->tx_pending);
            q->tx_pending = 0;
            break;
        }
        if (rc == 0)
            return false;
        q->tx_first += (unsigned)rc;
        q->tx_pending -= (unsigned)rc;
    }
    q->tx_first = 0;
    return true;
}

/* Frames for peers with a live channel go over them, in one batch; the
 * others stay, compacted to the front of q->tx[0..k): how many.  While a
 * peer's ring is full this thread sleeps until the peer posts buffers (the
 * port backs up meanwhile); the channel gives up on a peer that stalls, and
 * its frames take the vif. */
static unsigned to_channels(struct br_queue *q, unsigned k)
{
    struct xnv_idc *idc = atomic_load(&q->b->idc);
    if (!idc)
        return k;
    int verdict[BR_BATCH];
    uint64_t seen = xnv_idc_room_seen(idc);
    xnv_idc_send_many(idc, q->tx, k, verdict);
    for (;;) {
        struct xnv_nf_frame again[BR_BATCH];
        unsigned idx[BR_BATCH], m = 0;
        int v[BR_BATCH];
        for (unsigned i = 0; i < k; i++)
            if (verdict[i] == -EAGAIN)
                idx[m++] = i;
        if (!m || atomic_load(&q->b->stop))
            break;
        xnv_idc_wait_room(idc, seen, BR_ROOM_WAIT_MS);
        seen = xnv_idc_room_seen(idc);
        for (unsigned j = 0; j < m; j++)
            again[j] = q->tx[idx[j]];
        xnv_idc_send_many(idc, again, m, v);
        for (unsigned j = 0; j < m; j++) {
            q->tx[idx[j]] = again[j];   /* a checksum may have been completed */
            verdict[idx[j]] = v[j];
        }
    }
    unsigned left = 0;
    for (unsigned i = 0; i < k; i++) {
        if (verdict[i] == 1)
            continue;
        if (left != i) {                /* swap: every buffer stays owned */
            struct xnv_nf_frame t = q->tx[left];
            q->tx[left] = q->tx[i];
            q->tx[i] = t;
        }
        left++;
    }
    return left;
}

/* Port -> rings. */
static void pump_tx(struct br_queue *q)
{
    struct xnv_nf_bridge *b = q->b;
    if (!flush_tx(q))
        return;
    for (unsigned round = 0; round < BR_ROUNDS; round++) {
        unsigned k = 0;
        while (k < BR_BATCH) {
            struct xnv_nf_frame *f = &q->tx[k];
            int len = xnv_port_recv(b->port, q->id, &f->vh, f->data, BR_BUF);
            if (len == -EAGAIN)
                break;
            if (len < 0) {
                /* A port that keeps failing must not make this thread spin. */
                BR_STAT_ADD(q, from_port_dropped, 1);
                if (k == 0)
                    usleep(1000);
                break;
            }
            f->len = (uint32_t)len;
            f->meta = XNV_NF_META_VNET;
            k++;
        }
        if (k == 0)
            return;
        BR_STAT_ADD(q, from_port, k);
        unsigned read = k;
        if ((k = to_channels(q, k)) == 0) {
            if (read < BR_BATCH)
                return;
            continue;
        }
        q->tx_first = 0;
        q->tx_pending = k;
        if (!flush_tx(q) || k < BR_BATCH)
            return;
    }
}

static void *run(void *arg)
{
    struct br_queue *q = arg;
    struct xnv_nf_bridge *b = q->b;
    int qfd = xnv_nf_queue_fd(b->nf, q->id), pfd = xnv_port_fd(b->port, q->id);
    while (!atomic_load(&b->stop)) {
        struct pollfd p[3] = {
            { .fd = qfd, .events = POLLIN },
            { .fd = b->stopfd, .events = POLLIN },
            /* A full ring stops reading the port: it backs up into the kernel. */
            { .fd = q->tx_pending ? -1 : pfd, .events = POLLIN },
        };
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (atomic_load(&b->stop))
            break;
        pump_rx(q);
        pump_tx(q);
    }
    return NULL;
}

struct xnv_nf_bridge *xnv_nf_bridge_start(struct xnv_netfront *nf, struct xnv_port *port,
                                          char *err, size_t errlen)
{
    struct xnv_nf_bridge *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    b->nf = nf;
    b->port = port;
    b->nq = nf->nq_want;
    b->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->stopfd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(b);
        return NULL;
    }
    int rc = port->nqueues == b->nq ? 0 : xnv_port_set_queues(port, b->nq);
    if (rc < 0) {
        snprintf(err, errlen, "%s: cannot get %u queues: %s", port->name, b->nq, strerror(-rc));
        goto fail;
    }
    for (unsigned i = 0; i < b->nq; i++) {
        struct br_queue *q = &b->q[i];
        q->b = b;
        q->id = i;
        if (!(q->arena = malloc((size_t)BR_BATCH * BR_BUF))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        for (unsigned k = 0; k < BR_BATCH; k++)
            q->tx[k] = (struct xnv_nf_frame){ .data = q->arena + (size_t)k * BR_BUF };
    }
    for (unsigned i = 0; i < b->nq; i++) {
        if ((rc = pthread_create(&b->q[i].th, NULL, run, &b->q[i])) != 0) {
            snprintf(err, errlen, "cannot start the thread of queue %u: %s", i, strerror(rc));
            goto fail;
        }
        b->q[i].started = true;
    }
    xnv_nf_bridge_sync(b);
    return b;
fail:
    xnv_nf_bridge_stop(b);
    return NULL;
}

void xnv_nf_bridge_sync(struct xnv_nf_bridge *b)
{
    bool carrier = xnv_nf_carrier(b->nf);
    if (carrier) {
        /* Partial checksums are always welcome (completed here when the
         * backend cannot); large segments only when the backend takes them. */
        uint32_t off = XNV_F_IPV6_CSUM | (b->nf->tx_flags & (XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6));
        if (!b->synced || off != b->offload) {
            if (xnv_port_set_offload(b->port, off) == 0)
                b->offload = off;
            else
                nf_log(b->nf, LOG_WARNING, "%s: cannot set its offloads", b->port->name);
        }
    }
    if (!b->synced || carrier != b->carrier)
        xnv_port_set_carrier(b->port, carrier);
    b->carrier = carrier;
    b->synced = true;
}

void xnv_nf_bridge_stats(const struct xnv_nf_bridge *b, struct xnv_nf_bridge_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i <= b->nq; i++) {
        const struct xnv_nf_bridge_stats *s = i < b->nq ? &b->q[i].st : &b->idc_q.st;
        out->to_port += __atomic_load_n(&s->to_port, __ATOMIC_RELAXED);
        out->to_port_dropped += __atomic_load_n(&s->to_port_dropped, __ATOMIC_RELAXED);
        out->from_port += __atomic_load_n(&s->from_port, __ATOMIC_RELAXED);
        out->from_port_dropped += __atomic_load_n(&s->from_port_dropped, __ATOMIC_RELAXED);
    }
}

/* Channels -> port, and the channels' control plane. */
static void *run_channels(void *arg)
{
    struct xnv_nf_bridge *b = arg;
    struct br_queue *q = &b->idc_q;
    struct xnv_idc *idc = atomic_load(&b->idc);
    while (!atomic_load(&b->stop)) {
        struct pollfd p[2] = { { .fd = xnv_idc_fd(idc), .events = POLLIN },
                               { .fd = b->stopfd, .events = POLLIN } };
        /* Timed: retries after a fault or stall are due without any event. */
        if (poll(p, 2, 200) < 0 && errno != EINTR)
            break;
        if (atomic_load(&b->stop))
            break;
        xnv_idc_process(idc);
        /* Until a short read: only an empty ring asks the peers for the
         * next notification. */
        while (!atomic_load(&b->stop)) {
            struct to_port t = { q, 0 };
            int n = xnv_idc_recv_to(idc, frame_to_port, &t, BR_BATCH);
            if (n < (int)BR_BATCH)
                break;
        }
    }
    return NULL;
}

int xnv_nf_bridge_set_channels(struct xnv_nf_bridge *b, struct xnv_idc *idc, char *err, size_t errlen)
{
    if (b->idc_started) {
        snprintf(err, errlen, "channels already attached");
        return -EBUSY;
    }
    struct br_queue *q = &b->idc_q;
    q->b = b;
    atomic_store(&b->idc, idc);
    int rc = pthread_create(&b->idc_th, NULL, run_channels, b);
    if (rc) {
        atomic_store(&b->idc, NULL);
        snprintf(err, errlen, "cannot start the channel thread: %s", strerror(rc));
        return -rc;
    }
    b->idc_started = true;
    return 0;
}

void xnv_nf_bridge_stop(struct xnv_nf_bridge *b)
{
    if (!b)
        return;
    atomic_store(&b->stop, true);
    uint64_t one = 1;
    ssize_t r = write(b->stopfd, &one, sizeof one);
    (void)r;
    if (b->idc_started)
        pthread_join(b->idc_th, NULL);
    for (unsigned i = 0; i < b->nq; i++) {
        if (b->q[i].started)
            pthread_join(b->q[i].th, NULL);
        free(b->q[i].arena);
    }
    close(b->stopfd);
    free(b);
}
