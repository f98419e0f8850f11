/* The guest agent's bridge between a host-side port (its TAP) and the
 * netfront: one thread per queue, frames carried with their virtio-net
 * headers.  Built on the public APIs of the netfront (xnv/netfront.h), the
 * channels (xnv/idc.h) and the port (xnv/port.h) only.
 *
 * Frames the port hands over wait in the thread's own buffers while the
 * ring is full (the port is not read meanwhile); frames that cannot go (no
 * connection) are dropped and counted.
 *
 * With direct channels (xnv_nf_bridge_set_channels): a frame for a peer
 * with a live channel takes it, everything else the netfront; one more
 * thread runs the channels' control plane and hands what they receive to
 * the port.  A frame for a peer whose ring is full is held, in order behind
 * the earlier ones for that peer, and the thread goes on with frames for
 * everyone else; it stops reading the port only when BR_HOLD frames are
 * held.  Held frames go when the peer posts buffers (its notification wakes
 * the thread), or through the vif once the channel gives up on the peer
 * (stall_ms): nothing is dropped. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <syslog.h>
#include <unistd.h>
#include "xnv/counter.h"
#include "xnv/idc.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/port.h"
#include "xnv/thread.h"

#define BR_BATCH   8u
#define BR_ROUNDS  4u
#define BR_BUF     65536u
#define BR_HOLD    XNV_NF_BRIDGE_MAX_HOLD  /* frames held for full channels, per queue */
#define BR_SLOTS   (BR_BATCH + BR_HOLD)
/* With frames held, the thread looks again this often without a
 * notification: the channel's stall check needs the retry. */
#define BR_HOLD_LOOK_MS 10

/* A FIFO of buffer slots. */
struct br_fifo {
    uint8_t slot[BR_SLOTS];
    unsigned head, n;
};

struct br_queue {
    struct xnv_nf_bridge *b;
    unsigned id;
    pthread_t th;
    _Atomic pid_t tid;              /* its kernel id once running (0 before) */
    bool started;
    int roomfd;                     /* a peer posted buffers (eventfd) */
    uint8_t *arena;                 /* BR_SLOTS buffers for frames from the port
                                       (received frames go to it from the rings
                                       directly) */
    struct xnv_nf_frame fr[BR_SLOTS];   /* one per buffer */
    uint8_t free_slot[BR_SLOTS];
    unsigned nfree;
    /* The port's queue was found empty, and since then this thread wrote
     * no frame to it (the guest's kernel may answer one at once) and no
     * poll saw it readable: pump_tx does not read it (a system call that
     * would find nothing).  Frames queued meanwhile keep it readable for
     * the next poll. */
    bool port_dry;
    bool port_polled;               /* the last poll saw the port readable (xnv_port_may_read) */
    struct br_fifo vif;             /* read from the port, not yet on the ring */
    struct br_fifo hold;            /* waiting for room on a peer's channel */
    struct xnv_nf_bridge_stats st;
};

struct xnv_nf_bridge {
    struct xnv_netfront *nf;
    struct xnv_port *port;
    struct xnv_idc *_Atomic idc;     /* NULL: no direct channels */
    _Atomic unsigned hold_max;      /* frames a queue may hold for full channels */
    _Atomic int nice;               /* the data-path threads' nice value */
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

static void fifo_push(struct br_fifo *f, unsigned slot)
{
    f->slot[(f->head + f->n++) % BR_SLOTS] = (uint8_t)slot;
}

static unsigned fifo_at(const struct br_fifo *f, unsigned i) { return f->slot[(f->head + i) % BR_SLOTS]; }

static void fifo_pop(struct br_fifo *f, unsigned k)
{
    f->head = (f->head + k) % BR_SLOTS;
    f->n -= k;
}

static void slot_free(struct br_queue *q, unsigned slot) { q->free_slot[q->nfree++] = (uint8_t)slot; }

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
    t->q->port_dry = false;
    if (xnv_port_send(t->q->b->port, t->port_q, vh, iov, n) == 0)
        XNV_STAT_ADD(t->q->st.to_port, 1);
    else
        XNV_STAT_ADD(t->q->st.to_port_dropped, 1);
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

/* Hand the frames bound for the vif to the ring, oldest first; false while
 * some still wait for room there. */
static bool flush_vif(struct br_queue *q)
{
    while (q->vif.n) {
        struct xnv_nf_frame f[BR_BATCH];
        unsigned k = q->vif.n < BR_BATCH ? q->vif.n : BR_BATCH;
        for (unsigned i = 0; i < k; i++)
            f[i] = q->fr[fifo_at(&q->vif, i)];
        int rc = xnv_nf_send(q->b->nf, q->id, f, k);
        if (rc < 0) {                   /* no connection: these cannot go */
            XNV_STAT_ADD(q->st.from_port_dropped, q->vif.n);
            while (q->vif.n) {
                slot_free(q, fifo_at(&q->vif, 0));
                fifo_pop(&q->vif, 1);
            }
            break;
        }
        for (int i = 0; i < rc; i++)
            slot_free(q, fifo_at(&q->vif, (unsigned)i));
        fifo_pop(&q->vif, (unsigned)rc);
        if (rc < (int)k)
            return false;
    }
    return true;
}

static bool same_dst(const struct xnv_nf_frame *a, const struct xnv_nf_frame *b)
{
    return a->len >= 6 && b->len >= 6 && memcmp(a->data, b->data, 6) == 0;
}

/* Is a frame for slot's destination held (before position `before` of the
 * hold FIFO)?  Later frames for it must wait behind it. */
static bool dst_held(const struct br_queue *q, unsigned slot, unsigned before)
{
    for (unsigned i = 0; i < before && i < q->hold.n; i++)
        if (same_dst(&q->fr[fifo_at(&q->hold, i)], &q->fr[slot]))
            return true;
    return false;
}

/* Offer the frames of slots[0..n) to the channels, in order: sent ones are
 * freed, those for a full ring go to the back of the hold FIFO, the rest
 * (no channel, or it closed) to the vif FIFO.  A frame whose destination
 * was held before it is held without asking, so a peer's frames keep
 * their order. */
static void offer(struct br_queue *q, struct xnv_idc *idc, const uint8_t *slots, unsigned n)
{
    while (n) {
        struct xnv_nf_frame f[XNV_IDC_SEND_MAX];
        unsigned idx[XNV_IDC_SEND_MAX], k = 0, taken = 0;
        int verdict[XNV_IDC_SEND_MAX];
        for (; taken < n && k < XNV_IDC_SEND_MAX; taken++) {
            if (dst_held(q, slots[taken], q->hold.n)) {
                fifo_push(&q->hold, slots[taken]);
                continue;
            }
            idx[k] = slots[taken];
            f[k++] = q->fr[slots[taken]];
        }
        if (k)    /* the peers are told at the end of the pass (pump_tx) */
            xnv_idc_send_batch(idc, f, k, verdict, true);
        for (unsigned i = 0; i < k; i++) {
            q->fr[idx[i]] = f[i];       /* a checksum may have been completed */
            if (verdict[i] == 1)
                slot_free(q, idx[i]);
            else if (verdict[i] == -EAGAIN)
                fifo_push(&q->hold, idx[i]);
            else
                fifo_push(&q->vif, idx[i]);
        }
        slots += taken;
        n -= taken;
    }
}

/* Held frames, oldest first, offered again. */
static void retry_held(struct br_queue *q, struct xnv_idc *idc)
{
    uint8_t slots[BR_SLOTS];
    unsigned n = q->hold.n;
    for (unsigned i = 0; i < n; i++)
        slots[i] = (uint8_t)fifo_at(&q->hold, i);
    fifo_pop(&q->hold, n);
    offer(q, idc, slots, n);
}

/* Room for a batch from the port: buffers, and the hold under its bound. */
static bool may_read_port(const struct br_queue *q)
{
    return q->nfree >= BR_BATCH && (!q->hold.n || q->hold.n < atomic_load(&q->b->hold_max));
}

/* Port -> rings and channels. */
static void pump_tx_rounds(struct br_queue *q, struct xnv_idc *idc)
{
    struct xnv_nf_bridge *b = q->b;
    if (idc && q->hold.n) {
        uint64_t ignored;
        if (read(q->roomfd, &ignored, sizeof ignored) < 0) { /* no notification: a look anyway */ }
        retry_held(q, idc);
    }
    if (!flush_vif(q))
        return;
    for (unsigned round = 0; round < BR_ROUNDS && !q->port_dry && may_read_port(q); round++) {
        uint8_t slots[BR_BATCH];
        unsigned k = 0;
        while (k < BR_BATCH) {
            unsigned s = q->free_slot[q->nfree - 1];
            struct xnv_nf_frame *f = &q->fr[s];
            /* a port that counts what waits on it (a TAP's doorbell)
             * spares the read that would find nothing */
            if (!xnv_port_may_read(b->port, q->id, &q->port_polled)) {
                q->port_dry = true;
                break;
            }
            int len = xnv_port_recv(b->port, q->id, &f->vh, f->data, BR_BUF);
            if (len == -EAGAIN) {
                q->port_dry = true;
                break;
            }
            if (len < 0) {
                /* A port that keeps failing must not make this thread spin. */
                XNV_STAT_ADD(q->st.from_port_dropped, 1);
                if (k == 0) {
                    if (idc)
                        xnv_idc_notify_owed(idc);   /* not a millisecond late */
                    usleep(1000);
                }
                break;
            }
            f->len = (uint32_t)len;
            f->meta = XNV_NF_META_VNET;
            q->nfree--;
            slots[k++] = (uint8_t)s;
        }
        if (k == 0)
            return;
        XNV_STAT_ADD(q->st.from_port, k);
        if (idc) {
            offer(q, idc, slots, k);
        } else {
            for (unsigned i = 0; i < k; i++)
                fifo_push(&q->vif, slots[i]);
        }
        if (!flush_vif(q) || k < BR_BATCH)
            return;
    }
}

/* One pass from the port: a peer hears once of all the frames the pass
 * gave it (several batches while the port had frames at hand), so that
 * its channel thread wakes once for them, not once per batch. */
static void pump_tx(struct br_queue *q)
{
    struct xnv_idc *idc = atomic_load(&q->b->idc);
    pump_tx_rounds(q, idc);
    if (idc)
        xnv_idc_notify_owed(idc);
}

/* The calling data-path thread: named, its id kept for later changes of
 * the nice value, then at the bridge's (ahead of the guest's processes). */
static void thread_begin(struct br_queue *q, const char *name)
{
    pthread_setname_np(pthread_self(), name);   /* for ps and fault reports */
    atomic_store(&q->tid, xnv_thread_id());
    /* Again if xnv_nf_bridge_set_nice changed the value meanwhile: its own
     * setting of this thread may have come before ours. */
    int nice_value;
    do {
        nice_value = atomic_load(&q->b->nice);
        xnv_thread_set_nice(0, nice_value);
    } while (nice_value != atomic_load(&q->b->nice));
}

static void *run(void *arg)
{
    struct br_queue *q = arg;
    struct xnv_nf_bridge *b = q->b;
    char name[16];
    snprintf(name, sizeof name, "nf-queue%u", q->id);
    thread_begin(q, name);
    int qfd = xnv_nf_queue_fd(b->nf, q->id), pfd = xnv_port_fd(b->port, q->id);
    while (!atomic_load(&b->stop)) {
        /* The port waits while the ring is full or the held frames take
         * the buffers: it backs up into the kernel. */
        bool read_port = !q->vif.n && may_read_port(q);
        struct pollfd p[4] = {
            { .fd = qfd, .events = POLLIN },
            { .fd = b->stopfd, .events = POLLIN },
            { .fd = read_port ? pfd : -1, .events = POLLIN },
            { .fd = q->hold.n ? q->roomfd : -1, .events = POLLIN },
        };
        int ready = poll(p, 4, q->hold.n ? BR_HOLD_LOOK_MS : -1);
        if (ready < 0 && errno != EINTR)
            break;
        if (atomic_load(&b->stop))
            break;
        q->port_dry = xnv_port_seen_empty(read_port, ready, p[2].revents);
        q->port_polled = read_port && !q->port_dry;
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
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    b->nf = nf;
    b->port = port;
    atomic_store(&b->hold_max, BR_HOLD);
    atomic_store(&b->nice, XNV_DATA_PATH_NICE);
    b->nq = info.queues;
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
    for (unsigned i = 0; i < XNV_NF_MAX_QUEUES; i++)
        b->q[i].roomfd = -1;
    for (unsigned i = 0; i < b->nq; i++) {
        struct br_queue *q = &b->q[i];
        q->b = b;
        q->id = i;
        /* Untouched until frames are held: pages come as they are used. */
        if (!(q->arena = malloc((size_t)BR_SLOTS * BR_BUF))) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        if ((q->roomfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            snprintf(err, errlen, "eventfd: %s", strerror(errno));
            goto fail;
        }
        for (unsigned k = 0; k < BR_SLOTS; k++) {
            q->fr[k] = (struct xnv_nf_frame){ .data = q->arena + (size_t)k * BR_BUF };
            slot_free(q, BR_SLOTS - 1 - k);
        }
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
        struct xnv_nf_info info;
        xnv_nf_info(b->nf, &info);
        /* Partial checksums are always welcome (completed here when the
         * backend cannot); large segments only when the backend takes them. */
        uint32_t off = XNV_F_IPV6_CSUM | (info.tx_offload & (XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6));
        if (!b->synced || off != b->offload) {
            if (xnv_port_set_offload(b->port, off) == 0)
                b->offload = off;
            else
                xnv_nf_log(b->nf, LOG_WARNING, "%s: cannot set its offloads", b->port->name);
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
    thread_begin(q, "nf-channels");
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

void xnv_nf_bridge_set_nice(struct xnv_nf_bridge *b, int nice_value)
{
    atomic_store(&b->nice, nice_value);
    for (unsigned i = 0; i <= b->nq; i++) {
        struct br_queue *q = i < b->nq ? &b->q[i] : &b->idc_q;
        pid_t tid = atomic_load(&q->tid);
        if (tid)
            xnv_thread_set_nice(tid, nice_value);
    }
}

void xnv_nf_bridge_set_hold(struct xnv_nf_bridge *b, unsigned frames)
{
    atomic_store(&b->hold_max, frames < BR_HOLD ? frames : BR_HOLD);
}

/* From the channel thread: a peer posted buffers on a ring that was full. */
static void room_arrived(void *ctx)
{
    struct xnv_nf_bridge *b = ctx;
    uint64_t one = 1;
    for (unsigned i = 0; i < b->nq; i++)
        if (write(b->q[i].roomfd, &one, sizeof one) < 0) { /* counter full: a wakeup is pending */ }
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
    xnv_idc_on_room(idc, room_arrived, b);
    int rc = pthread_create(&b->idc_th, NULL, run_channels, b);
    if (rc) {
        xnv_idc_on_room(idc, NULL, NULL);
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
    if (b->idc_started) {
        pthread_join(b->idc_th, NULL);
        xnv_idc_on_room(atomic_load(&b->idc), NULL, NULL);
    }
    for (unsigned i = 0; i < b->nq; i++) {
        if (b->q[i].started)
            pthread_join(b->q[i].th, NULL);
        free(b->q[i].arena);
        if (b->q[i].roomfd >= 0)
            close(b->q[i].roomfd);
    }
    close(b->stopfd);
    free(b);
}
