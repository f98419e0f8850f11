/* The switch fast path.  Its table: which connected vifs, on which
 * bridges, own which MAC addresses.  A vif joins once its data path runs
 * and leaves before it stops, under the write lock, so that a reader
 * holding the read lock may use the vif's rings safely.
 *
 * Its data path, on a fast-path bridge: the first bytes of each packet of
 * a transmit batch are copied first to learn its destination; a unicast
 * frame for another vif served here goes straight from this guest's TX
 * buffers into that guest's RX buffers with grant-to-grant copies, never
 * touching the TAP or the bridge. */
#include <errno.h>
#include <string.h>
#include "nb.h"
#include "tx_batch.h"
#include "xnv/offload.h"
#include "xnv/rx.h"

bool nb_bridge_has_fastpath(const struct xnv_netback *nb, const char *bridge)
{
    return nb_bridge_listed(nb->cfg.fastpath_bridges, bridge);
}

bool nb_bridge_listed(const char *list, const char *bridge)
{
    size_t n = strlen(bridge);
    if (!list || n == 0)
        return false;
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, bridge, n) == 0)
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

void nb_switch_join(struct nb_vif *v)
{
    if (!v->fastpath)
        return;
    pthread_rwlock_wrlock(&v->nb->sw_lock);
    v->in_switch = true;
    pthread_rwlock_unlock(&v->nb->sw_lock);
}

void nb_switch_leave(struct nb_vif *v)
{
    pthread_rwlock_wrlock(&v->nb->sw_lock);
    v->in_switch = false;
    pthread_rwlock_unlock(&v->nb->sw_lock);
}

struct nb_vif *nb_switch_lookup(struct xnv_netback *nb, const char *bridge, const uint8_t mac[6])
{
    for (struct nb_vif *v = nb->vifs; v; v = v->next)
        if (v->in_switch && memcmp(v->mac, mac, 6) == 0 && strcmp(v->bridge, bridge) == 0)
            return v;
    return NULL;
}

static bool offloaded(const struct xnv_tx_pkt *p)
{
    return (p->flags & NETTXF_csum_blank) || p->gso_type != XEN_NETIF_GSO_TYPE_NONE;
}

/* A fast-path destination for packet i, whose first have[i] bytes are in
 * the arena: unicast, served here, connected on our bridge, able to take
 * its offloads.  Those are checked as deliver() checks them on the way to
 * the bridge: a packet it would refuse becomes a drop (answered with an
 * error and counted as there); one whose headers run past the copied bytes
 * takes the bridge path, where the whole frame is checked. */
static struct nb_vif *fast_target(struct nb_queue *q, struct batch_state *st, unsigned i)
{
    struct nb_vif *v = q->vif;
    const struct xnv_tx_pkt *p = &q->txp[i];
    /* the copied bytes in one piece: in place when their slots meet */
    uint8_t gathered[PEEK_HDR_BYTES];
    struct iovec iov[XNV_TX_MAX_FRAGS];
    unsigned niov = nb_tx_packet_iov(q, st, i, 0, st->have[i], iov);
    const uint8_t *hdr = iov[0].iov_base;
    if (niov > 1) {
        nb_tx_gather(gathered, iov, niov);
        hdr = gathered;
    }
    if (hdr[0] & 1)
        return NULL;                                  /* broadcast / multicast */
    struct nb_vif *t = nb_switch_lookup(v->nb, v->bridge, hdr);
    if (!t || t == v)
        return NULL;
    const char *why;
    struct xnv_hdrs h = { 0 };
    int rc = xnv_offload_check_netif(hdr, st->have[i], p->len, p->flags, p->gso_type, &h, &why);
    if (rc == -EINVAL)
        st->verdict[i] = XNV_TX_DROP;
    if (rc)
        return NULL;
    uint32_t tf = t->neg.flags;
    if ((p->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && !(tf & XNV_F_GSO_TCPV4)) ||
        (p->gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && !(tf & XNV_F_GSO_TCPV6)))
        return NULL;
    if ((p->flags & NETTXF_csum_blank) && (h.ipv6 ? !(tf & XNV_F_IPV6_CSUM) : (tf & XNV_F_NO_CSUM) != 0))
        return NULL;                                  /* needs a checksum in software */
    return t;
}

/* Place packet i of the batch into queue tq of vif t, from our arena's peeked
 * bytes and the rest of this guest's grants. */
static int place_fast(struct nb_queue *q, struct batch_state *st, unsigned i, struct nb_queue *tq,
                      RING_IDX prod, struct xnv_rx_placed *placed)
{
    const struct xnv_tx_pkt *p = &q->txp[i];
    struct xnv_rx_src src[2 * XNV_TX_MAX_FRAGS];   /* copied pieces, then grants */
    unsigned ns = 0;
    uint32_t pos = 0, a, b;
    struct iovec iov[XNV_TX_MAX_FRAGS];
    unsigned niov = nb_tx_packet_iov(q, st, i, 0, st->have[i], iov);
    for (unsigned k = 0; k < niov; k++)
        src[ns++] = (struct xnv_rx_src){ .local = iov[k].iov_base, .len = (uint32_t)iov[k].iov_len };
    for (unsigned f = 0; f < p->nr_frags; pos += p->frag[f++].len)
        if (nb_tx_frag_part(pos, p->frag[f].len, st->have[i], p->len, &a, &b))
            src[ns++] = (struct xnv_rx_src){ .dom = q->vif->domid, .ref = p->frag[f].gref,
                                             .offset = (uint16_t)(p->frag[f].offset + a), .len = b - a };
    /* The sender's flags as they stand (the frame stays in its grants: the
     * receiving guest finds its headers itself). */
    struct xnv_offload o = { .csum_partial = (p->flags & NETTXF_csum_blank) != 0,
                             .csum_valid = (p->flags & NETTXF_data_validated) != 0,
                             .gso_type = p->gso_type, .gso_size = p->gso_size };
    struct xnv_rx_meta m = xnv_offload_rx_meta(&o);
    return xnv_rx_place_sg(&tq->rx, prod, tq->vif->domid, src, ns, p->len, &m, &q->txb,
                           (uint16_t)i, placed);
}

/* Every fast packet for target t, in one copy call, under t's RX lock. */
static void deliver_fast_to(struct nb_queue *q, struct batch_state *st, unsigned n, struct nb_vif *t)
{
    struct nb_queue *tq = &t->q[q->id % t->nqueues];
    struct xnv_rx_placed placed[NB_TX_BATCH];
    bool in[NB_TX_BATCH] = { false };
    pthread_mutex_lock(&tq->rx_lock);
    RING_IDX prod = tq->rx.sring->req_prod;
    rmb();
    xnv_copy_batch_reset(&q->txb);
    for (unsigned i = 0; i < n; i++) {
        if (st->target[i] != t)
            continue;
        st->status[i] = NETIF_RSP_OKAY;
        int rc = place_fast(q, st, i, tq, prod, &placed[i]);
        if (rc == 0)
            in[i] = true;
        else
            XNV_STAT_ADD(tq->stats.rx_drops, 1);             /* no buffers posted: a full port */
        if (rc == -EPROTO)
            nb_vif_break(t, NB_WHY_RX_AHEAD);         /* t's fault, not ours */
    }
    bool failed[NB_TX_BATCH] = { false };
    nb_tx_run_copy(q, &q->txb, failed, n);
    for (unsigned i = 0; i < n; i++) {
        if (!in[i])
            continue;
        const struct xnv_tx_pkt *p = &q->txp[i];
        if (failed[i]) {
            xnv_rx_fail(&tq->rx, &placed[i]);
            XNV_STAT_ADD(q->stats.tx_errors, 1);
            XNV_STAT_ADD(tq->stats.rx_errors, 1);
            st->status[i] = NETIF_RSP_ERROR;
            continue;
        }
        XNV_STAT_ADD(q->stats.tx_packets, 1);
        XNV_STAT_ADD(q->stats.tx_bytes, p->len);
        XNV_STAT_ADD(q->stats.fastpath_packets, 1);
        XNV_STAT_ADD(tq->stats.rx_packets, 1);
        XNV_STAT_ADD(tq->stats.rx_bytes, p->len);
    }
    nb_rx_push_unlock(q, tq);
}

/* Peek at destinations, then send fast packets guest to guest. */
void nb_switch_fast(struct nb_queue *q, struct batch_state *st, unsigned n)
{
    struct nb_vif *v = q->vif;
    xnv_copy_batch_reset(&q->txb);
    for (unsigned i = 0; i < n; i++)
        if (st->verdict[i] == XNV_TX_PACKET) {
            const struct xnv_tx_pkt *p = &q->txp[i];
            uint32_t want = offloaded(p) ? PEEK_HDR_BYTES : PEEK_BYTES;
            st->have[i] = p->len < want ? p->len : want;
            nb_tx_add_copies(q, st, i, 0, st->have[i]);
        }
    nb_tx_run_copy(q, &q->txb, st->failed, n);

    pthread_rwlock_rdlock(&v->nb->sw_lock);
    for (unsigned i = 0; i < n; i++)
        if (st->verdict[i] == XNV_TX_PACKET && !st->failed[i])
            st->target[i] = fast_target(q, st, i);
    for (unsigned i = 0; i < n; i++)
        if (st->target[i] && st->status[i] == NETIF_RSP_NULL)
            deliver_fast_to(q, st, n, st->target[i]);
    pthread_rwlock_unlock(&v->nb->sw_lock);
}
