/* Guest receive, one batch: frames read from the host port (kept in the
 * queue's arena while the guest has no buffers) are placed into the buffers
 * the guest posted, all grant-copied in one call. */
#include <errno.h>
#include <string.h>
#include "nb.h"
#include "xnv/offload.h"
#include "xnv/rx.h"

void nb_rx_push_unlock(struct nb_queue *self, struct nb_queue *tq)
{
    bool notify = XNV_RING_PUSH_RESPONSES(&tq->rx);
    pthread_mutex_unlock(&tq->rx_lock);
    if (notify && tq == self)
        self->notify_rx_due = true;
    else if (notify)
        nb_queue_notify(tq, tq->port_rx);
}

/* Each waiting frame starts on a page of the arena: the grant copy then
 * fills every 4 KiB guest buffer from one local page, one hypervisor copy
 * operation (and one page pinned by gntdev) instead of two. */
static uint32_t frame_align(uint32_t off)
{
    return (off + XNV_PAGE_SIZE - 1) & ~(XNV_PAGE_SIZE - 1);
}

#define NB_ARENA_FULL UINT32_MAX

/* Where the next frame from the port goes.  The arena is a ring in the
 * order of q->pend: frames leave it mostly in that order, so the room is
 * after the newest frame, or from the arena's start up to the oldest once
 * the newest reached the end.  A frame that waits for guest buffers is
 * never moved (the arena used to be compacted after every batch: each
 * waiting frame copied again, batch after batch, exactly when the guests
 * are slowest).  Frames that left out of order leave holes, taken back
 * when the frames before them leave.  NB_ARENA_FULL: no room for the
 * largest frame. */
static uint32_t arena_next(const struct nb_queue *q)
{
    if (q->npend == 0)
        return 0;
    uint32_t head = q->pend[0].off;
    const struct nb_pending_rx *last = &q->pend[q->npend - 1];
    uint32_t tail = frame_align(last->off + last->len);
    if (last->off >= head) {                  /* not wrapped */
        if (NB_ARENA_BYTES - tail >= NB_FRAME_MAX)
            return tail;
        return head >= NB_FRAME_MAX ? 0 : NB_ARENA_FULL;
    }
    return head - tail >= NB_FRAME_MAX ? tail : NB_ARENA_FULL;
}

bool nb_rx_port_wanted(const struct nb_queue *q)
{
    return q->npend < q->vif->nb->cfg.rx_queue_frames && arena_next(q) != NB_ARENA_FULL;
}

/* The slots pr needs, unless an earlier frame set its queue's need. */
static void need_first(unsigned need[NB_MAX_QUEUES], const struct nb_pending_rx *pr)
{
    if (!need[pr->queue])
        need[pr->queue] = xnv_rx_slots(pr->len, &pr->m);
}

void nb_rx_needs(const struct nb_queue *q, unsigned need[NB_MAX_QUEUES])
{
    memset(need, 0, NB_MAX_QUEUES * sizeof *need);
    /* in the order the next batch places them (a small frame ahead of a
     * large one needs one slot, not the large one's); for a queue none of
     * those is bound for, its first waiting frame */
    unsigned sel[NB_RX_BATCH];
    unsigned n = nb_rx_order_pick(q, sel);
    for (unsigned k = 0; k < n; k++)
        need_first(need, &q->pend[sel[k]]);
    for (unsigned i = 0; i < q->npend; i++)
        need_first(need, &q->pend[i]);
}

/* Offloads as the guest negotiated, into pr->m; false: the frame cannot be
 * delivered. */
static bool prepare(struct nb_queue *q, struct nb_pending_rx *pr, const struct virtio_net_hdr *vh)
{
    const char *why;
    struct xnv_offload o;
    uint8_t *f = q->rx_arena + pr->off;
    if (pr->len < XNV_ETH_HLEN || pr->len > XNV_RX_MAX_LEN ||
        xnv_offload_from_vnet(vh, pr->len, &o, &why) ||
        xnv_offload_for_peer(f, pr->len, &o, q->vif->neg.flags))
        return false;
    if (q->vif->mcast_on && (f[0] & 1) && !(f[0] == 0xff && f[1] == 0xff)) {
        pthread_mutex_lock(&q->vif->mcast_lock);
        bool pass = xnv_mcast_match(&q->vif->mcast, f);
        pthread_mutex_unlock(&q->vif->mcast_lock);
        if (!pass)
            return false;
    }
    pr->m = xnv_offload_rx_meta(&o);
    return true;
}

/* The queue a frame goes to: the frontend's hash mapping when it set one
 * up through the control ring, else the queue it arrived on. */
static struct nb_queue *steer(struct nb_queue *q, const uint8_t *f, uint32_t len)
{
    struct nb_vif *v = q->vif;
    if (!atomic_load(&v->hashing))
        return q;
    pthread_rwlock_rdlock(&v->hash_lock);
    int t = xnv_hash_queue(&v->hash, v->nqueues, f, len);
    pthread_rwlock_unlock(&v->hash_lock);
    return t < 0 ? q : &v->q[t];
}

/* Read what the port has, while there is room.  Each frame is prepared and
 * steered once, here: completing a checksum changes the frame, so a frame
 * that waits for guest buffers must not be prepared again. */
static void fill(struct nb_queue *q)
{
    while (!q->port_dry && nb_rx_port_wanted(q)) {
        /* A port that counts what waits on it (a TAP's doorbell) spares
         * the read that would find nothing: after each frame written to
         * it (dom0's answer may or may not be there) and after the last
         * frame of a burst. */
        if (q->port_skips < NB_PORT_SKIPS_MAX &&
            !xnv_port_may_read(q->vif->port, q->id, &q->port_polled)) {
            XNV_STAT_ADD(q->stats.port_reads_skipped, 1);
            q->port_skips++;
            q->port_dry = true;
            break;
        }
        q->port_polled = false;
        q->port_skips = 0;
        struct nb_pending_rx *pr = &q->pend[q->npend];
        struct virtio_net_hdr vh;
        pr->off = arena_next(q);
        int n = xnv_port_recv(q->vif->port, q->id, &vh, q->rx_arena + pr->off, NB_FRAME_MAX);
        if (n < 0) {
            if (n == -EAGAIN)
                XNV_STAT_ADD(q->stats.port_empty_reads, 1);
            q->port_dry = n == -EAGAIN;
            break;
        }
        pr->len = (uint32_t)n;
        if (!prepare(q, pr, &vh)) {
            XNV_STAT_ADD(q->stats.rx_drops, 1);
            continue;
        }
        pr->queue = (uint8_t)steer(q, q->rx_arena + pr->off, pr->len)->id;
        nb_rx_order_admit(q, pr, q->rx_arena + pr->off);
        q->npend++;
    }
}

/* Forget the pending frames placed; the others keep their order and their
 * place in the arena. */
static void consume(struct nb_queue *q)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < q->npend; i++) {
        if (q->pend[i].gone)
            nb_rx_order_leave(q, &q->pend[i]);
        else
            q->pend[keep++] = q->pend[i];
    }
    q->npend = keep;
}

static void stall_check(struct nb_queue *q, unsigned placed, struct nb_clock *now)
{
    struct nb_vif *v = q->vif;
    if (placed || q->npend == 0) {
        q->stall_since_ns = 0;
        if (q->carrier_off) {
            q->carrier_off = false;
            xnv_port_set_carrier(v->port, true);
        }
        return;
    }
    if (q->stall_since_ns == 0) {
        q->stall_since_ns = nb_clock_now(now);
        return;
    }
    if (nb_clock_now(now) - q->stall_since_ns < (uint64_t)v->nb->cfg.stall_timeout_ms * 1000000u)
        return;
    /* The guest posted no buffers for too long: carrier off, queue flushed. */
    XNV_STAT_ADD(q->stats.rx_drops, q->npend);
    q->npend = 0;
    nb_rx_order_reset(q);
    if (!q->carrier_off) {
        XNV_STAT_ADD(q->stats.stalls, 1);
        q->carrier_off = true;
        xnv_port_set_carrier(v->port, false);
    }
}

/* Whether a frame older than q->pend[i] and bound for the same queue still
 * waits (only a small frame of an idle flow can be placed while one does:
 * rx_order.c).  Frames steered to another queue take another ring: the
 * frame passes none of them. */
static bool older_waiting(const struct nb_queue *q, unsigned i)
{
    for (unsigned j = 0; j < i; j++)
        if (!q->pend[j].gone && q->pend[j].queue == q->pend[i].queue)
            return true;
    return false;
}

/* Place the picked frames bound for tq (sel: n indices into q->pend), in
 * that order, under tq's lock; one copy call.  Returns frames placed
 * (marked gone). */
static unsigned place_into(struct nb_queue *q, struct nb_queue *tq, const unsigned *sel, unsigned n)
{
    struct xnv_rx_placed placed[NB_RX_BATCH];
    bool in[NB_RX_BATCH] = { false }, ahead[NB_RX_BATCH] = { false };
    unsigned handled = 0;
    pthread_mutex_lock(&tq->rx_lock);
    RING_IDX prod = tq->rx.sring->req_prod;
    rmb();
    xnv_copy_batch_reset(&q->rxb);
    for (unsigned k = 0; k < n; k++) {
        struct nb_pending_rx *pr = &q->pend[sel[k]];
        if (pr->queue != tq->id)
            continue;
        int rc = xnv_rx_place(&tq->rx, prod, tq->vif->domid, q->rx_arena + pr->off, pr->len, &pr->m,
                              &q->rxb, (uint16_t)k, &placed[k]);
        if (rc == -EPROTO)      /* on any queue of the vif, steered frames included */
            q->fatal_why = NB_WHY_RX_AHEAD;
        if (rc)
            break;              /* no buffers (or no room): the rest wait, in order */
        ahead[k] = pr->sparse && older_waiting(q, sel[k]);
        in[k] = pr->gone = true;
        handled++;
    }
    if (q->rxb.n) {
        bool failed[NB_RX_BATCH] = { false };
        int rc = xnv_gnt_copy(q->vif->nb->hv, q->rxb.seg, q->rxb.n);
        XNV_STAT_ADD(q->stats.copy_calls, 1);
        XNV_STAT_ADD(q->stats.copy_segments, q->rxb.n);
        XNV_STAT_ADD(q->stats.copy_granted, q->rxb.n_own);
        if (rc)
            memset(failed, 1, sizeof failed);
        else
            xnv_copy_batch_failures(&q->rxb, failed, NB_RX_BATCH);
        for (unsigned k = 0; k < n; k++) {
            if (!in[k])
                continue;
            if (failed[k]) {
                xnv_rx_fail(&tq->rx, &placed[k]);
                XNV_STAT_ADD(tq->stats.rx_errors, 1);
            } else {
                XNV_STAT_ADD(tq->stats.rx_packets, 1);
                if (ahead[k])
                    XNV_STAT_ADD(tq->stats.rx_ahead, 1);
                XNV_STAT_ADD(tq->stats.rx_bytes, q->pend[sel[k]].len);
            }
        }
    }
    nb_rx_push_unlock(q, tq);
    return handled;
}

unsigned nb_rx_batch(struct nb_queue *q, struct nb_clock *now)
{
    if (q->carrier_off && RING_HAS_UNCONSUMED_REQUESTS(&q->rx))
        stall_check(q, 1, now);           /* buffers are back: carrier on */
    fill(q);
    if (q->npend == 0)
        return 0;

    unsigned sel[NB_RX_BATCH];
    unsigned n = nb_rx_order_pick(q, sel);
    unsigned handled = 0;
    for (unsigned k = 0; k < n && !q->fatal_why; k++) {
        bool first = true;
        for (unsigned j = 0; j < k && first; j++)
            first = q->pend[sel[j]].queue != q->pend[sel[k]].queue;
        if (first)
            handled += place_into(q, &q->vif->q[q->pend[sel[k]].queue], sel, n);
    }
    consume(q);
    stall_check(q, handled, now);
    return handled;
}
