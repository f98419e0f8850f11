/* Guest receive, one batch: frames read from the host port (kept in the
 * queue's arena while the guest has no buffers) are placed into the buffers
 * the guest posted, all grant-copied in one call. */
#include <errno.h>
#include <string.h>
#include "nb.h"
#include "xnv/offload.h"
#include "xnv/rx.h"

static uint32_t arena_end(const struct nb_queue *q)
{
    if (q->npend == 0)
        return 0;
    const struct nb_pending_rx *last = &q->pend[q->npend - 1];
    return (last->off + last->len + 63u) & ~63u;
}

bool nb_rx_port_wanted(const struct nb_queue *q)
{
    return q->npend < q->vif->nb->cfg.rx_queue_frames && NB_ARENA_BYTES - arena_end(q) >= NB_FRAME_MAX;
}

/* Read what the port has, while there is room. */
static void fill(struct nb_queue *q)
{
    while (nb_rx_port_wanted(q)) {
        struct nb_pending_rx *pr = &q->pend[q->npend];
        pr->off = arena_end(q);
        int n = xnv_port_recv(q->vif->port, q->id, &pr->vh, q->rx_arena + pr->off, NB_FRAME_MAX);
        if (n < 0)
            break;
        pr->len = (uint32_t)n;
        q->npend++;
    }
}

/* Offloads as the guest negotiated; false: the frame cannot be delivered. */
static bool prepare(struct nb_queue *q, struct nb_pending_rx *pr, struct xnv_rx_meta *m)
{
    const char *why;
    struct xnv_offload o;
    uint8_t *f = q->rx_arena + pr->off;
    if (pr->len < XNV_ETH_HLEN || pr->len > XNV_RX_MAX_LEN ||
        xnv_offload_from_vnet(&pr->vh, pr->len, &o, &why) ||
        xnv_offload_for_peer(f, pr->len, &o, q->vif->neg.flags))
        return false;
    if (q->vif->mcast_on && (f[0] & 1) && !(f[0] == 0xff && f[1] == 0xff)) {
        pthread_mutex_lock(&q->vif->mcast_lock);
        bool pass = xnv_mcast_match(&q->vif->mcast, f);
        pthread_mutex_unlock(&q->vif->mcast_lock);
        if (!pass)
            return false;
    }
    *m = (struct xnv_rx_meta){ .flags = xnv_offload_rx_flags(&o), .gso_type = o.gso_type,
                               .gso_size = o.gso_size };
    return true;
}

/* Drop the first n pending frames, keeping the rest at the arena's start. */
static void consume(struct nb_queue *q, unsigned n)
{
    if (n == 0)
        return;
    unsigned left = q->npend - n;
    if (left) {
        uint32_t base = q->pend[n].off;
        uint32_t end = arena_end(q);
        memmove(q->rx_arena, q->rx_arena + base, end - base);
        memmove(q->pend, q->pend + n, left * sizeof *q->pend);
        for (unsigned i = 0; i < left; i++)
            q->pend[i].off -= base;
    }
    q->npend = left;
}

static void stall_check(struct nb_queue *q, unsigned placed, uint64_t now_ns)
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
        q->stall_since_ns = now_ns;
        return;
    }
    if (now_ns - q->stall_since_ns < (uint64_t)v->nb->cfg.stall_timeout_ms * 1000000u)
        return;
    /* The guest posted no buffers for too long: carrier off, queue flushed. */
    NB_STAT_ADD(q, rx_drops, q->npend);
    q->npend = 0;
    if (!q->carrier_off) {
        NB_STAT_ADD(q, stalls, 1);
        q->carrier_off = true;
        xnv_port_set_carrier(v->port, false);
    }
}

unsigned nb_rx_batch(struct nb_queue *q, uint64_t now_ns)
{
    struct nb_vif *v = q->vif;
    if (q->carrier_off && RING_HAS_UNCONSUMED_REQUESTS(&q->rx))
        stall_check(q, 1, now_ns);           /* buffers are back: carrier on */
    fill(q);
    if (q->npend == 0)
        return 0;

    pthread_mutex_lock(&q->rx_lock);
    RING_IDX prod = q->rx.sring->req_prod;
    rmb();
    xnv_copy_batch_reset(&q->rxb);
    struct xnv_rx_placed placed[NB_RX_BATCH];
    bool delivered[NB_RX_BATCH] = { false };
    unsigned done = 0;
    for (; done < q->npend && done < NB_RX_BATCH; done++) {
        struct nb_pending_rx *pr = &q->pend[done];
        struct xnv_rx_meta m;
        if (!prepare(q, pr, &m)) {
            NB_STAT_ADD(q, rx_drops, 1);
            continue;
        }
        int rc = xnv_rx_place(&q->rx, prod, v->domid, q->rx_arena + pr->off, pr->len, &m,
                              &q->rxb, (uint16_t)done, &placed[done]);
        if (rc == -EAGAIN || rc == -ENOSPC)
            break;
        if (rc == -EPROTO) {
            q->fatal_why = "RX request producer more than a ring ahead of the consumer";
            pthread_mutex_unlock(&q->rx_lock);
            return done;
        }
        delivered[done] = true;
    }

    if (q->rxb.n) {
        bool failed[NB_RX_BATCH] = { false };
        int rc = xnv_gnt_copy(v->nb->hv, q->rxb.seg, q->rxb.n);
        NB_STAT_ADD(q, copy_calls, 1);
        NB_STAT_ADD(q, copy_segments, q->rxb.n);
        if (rc)
            memset(failed, 1, sizeof failed);
        else
            xnv_copy_batch_failures(&q->rxb, failed, NB_RX_BATCH);
        for (unsigned i = 0; i < done; i++) {
            if (!delivered[i])
                continue;
            if (failed[i]) {
                xnv_rx_fail(&q->rx, &placed[i]);
                NB_STAT_ADD(q, rx_errors, 1);
            } else {
                NB_STAT_ADD(q, rx_packets, 1);
                NB_STAT_ADD(q, rx_bytes, q->pend[i].len);
            }
        }
    }
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
    pthread_mutex_unlock(&q->rx_lock);
    if (notify) {
        xnv_evtchn_notify(q->ch, (xnv_port_t)q->port_rx);
        NB_STAT_ADD(q, notify_sent, 1);
    }
    consume(q, done);
    stall_check(q, done, now_ns);
    return done;
}
