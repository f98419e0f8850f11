/* Guest transmit, one batch: read and validate up to NB_TX_BATCH packets,
 * grant-copy their fragments (map-free), hand each packet to the host port
 * with its offload metadata, answer every slot in ring order.  The switch
 * fast path's part of a batch is in switch.c.
 *
 * Each slot of a packet gets a page of its own in the arena, its data at the
 * same offset there as in the guest's page: gntdev cuts a copy at the local
 * page's edge and pins one page per operation, so a slot is one hypervisor
 * copy, not two.  Slots that meet at a page's edge (full pages, a linear
 * area running on into the next page) stay adjacent; the others go to the
 * port as separate pieces of one writev. */
#include <errno.h>
#include <string.h>
#include "nb.h"
#include "xnv/offload.h"
#include "xnv/rx.h"
#include "tx_batch.h"

static int16_t apply_mcast(struct nb_vif *v, const struct xnv_tx_pkt *p)
{
    pthread_mutex_lock(&v->mcast_lock);
    int rc = p->mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ? xnv_mcast_add(&v->mcast, p->mcast_addr)
                                                           : xnv_mcast_del(&v->mcast, p->mcast_addr);
    pthread_mutex_unlock(&v->mcast_lock);
    return rc ? NETIF_RSP_ERROR : NETIF_RSP_OKAY;
}

/* Where bytes [from, to) of a packet meet its fragment holding bytes
 * [pos, pos + len): [*a, *b) within the fragment; false when they do not. */
bool nb_tx_frag_part(uint32_t pos, uint32_t len, uint32_t from, uint32_t to, uint32_t *a, uint32_t *b)
{
    *a = from > pos ? from - pos : 0;
    *b = to - pos < len ? to - pos : len;
    return to > pos && *a < *b;
}

/* Where slot f of packet i lands in the arena. */
uint8_t *nb_tx_slot_dest(struct nb_queue *q, const struct batch_state *st, unsigned i, unsigned f)
{
    return q->tx_arena + st->off[i] + f * XNV_PAGE_SIZE + q->txp[i].frag[f].offset;
}

/* Bytes [from, to) of packet i as pieces of the arena, adjacent slots
 * merged; returns the count. */
unsigned nb_tx_packet_iov(struct nb_queue *q, const struct batch_state *st, unsigned i, uint32_t from,
                          uint32_t to, struct iovec *iov)
{
    const struct xnv_tx_pkt *p = &q->txp[i];
    unsigned n = 0;
    uint32_t pos = 0, a, b;
    for (unsigned f = 0; f < p->nr_frags; pos += p->frag[f++].len) {
        if (!nb_tx_frag_part(pos, p->frag[f].len, from, to, &a, &b))
            continue;
        uint8_t *d = nb_tx_slot_dest(q, st, i, f) + a;
        if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == d)
            iov[n - 1].iov_len += b - a;
        else
            iov[n++] = (struct iovec){ d, b - a };
    }
    return n;
}

/* Gather the pieces into buf (which holds their total). */
void nb_tx_gather(uint8_t *buf, const struct iovec *iov, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        memcpy(buf, iov[k].iov_base, iov[k].iov_len);
        buf += iov[k].iov_len;
    }
}

/* Offloads, then the port.  The guest gets OKAY once we accepted the packet,
 * even if the host side drops it later (as a NIC would).  The headers are
 * looked for in the first piece; only when they run past it (a frontend
 * that splits them across slots not meeting at a page's edge) is the packet
 * gathered into one piece first. */
static int16_t deliver(struct nb_queue *q, const struct batch_state *st, unsigned i)
{
    const struct xnv_tx_pkt *p = &q->txp[i];
    struct iovec iov[XNV_TX_MAX_FRAGS];
    unsigned n = nb_tx_packet_iov(q, st, i, 0, p->len, iov);
    const char *why = NULL;
    struct xnv_offload o;
    int rc = xnv_offload_from_netif_head(iov[0].iov_base, (uint32_t)iov[0].iov_len, p->len, p->flags,
                                         p->gso_type, p->gso_size, &o, &why);
    if (rc && n > 1) {
        nb_tx_gather(q->tx_gather, iov, n);
        iov[0] = (struct iovec){ q->tx_gather, p->len };
        n = 1;
        rc = xnv_offload_from_netif(q->tx_gather, p->len, p->flags, p->gso_type, p->gso_size, &o, &why);
    }
    if (rc) {
        XNV_STAT_ADD(q->stats.tx_drops, 1);
        return NETIF_RSP_ERROR;
    }
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&o, &vh);
    q->port_dry = false;     /* dom0 may answer this frame on the port at once */
    if (xnv_port_send(q->vif->port, q->id, &vh, iov, n)) {
        XNV_STAT_ADD(q->stats.tx_drops, 1);
        return NETIF_RSP_OKAY;
    }
    XNV_STAT_ADD(q->stats.tx_packets, 1);
    XNV_STAT_ADD(q->stats.tx_bytes, p->len);
    return NETIF_RSP_OKAY;
}

void nb_tx_run_copy(struct nb_queue *q, struct xnv_copy_batch *b, bool *failed, unsigned n)
{
    if (b->n == 0)
        return;
    int rc = xnv_gnt_copy(q->vif->nb->hv, b->seg, b->n);
    XNV_STAT_ADD(q->stats.copy_calls, 1);
    XNV_STAT_ADD(q->stats.copy_segments, b->n);
    XNV_STAT_ADD(q->stats.copy_granted, b->n_own);
    if (rc)
        for (unsigned i = 0; i < n; i++)
            failed[i] = true;
    else
        xnv_copy_batch_failures(b, failed, n);
}


/* Copy segments for bytes [from, to) of packet i into its place in the arena. */
void nb_tx_add_copies(struct nb_queue *q, const struct batch_state *st, unsigned i, uint32_t from,
                      uint32_t to)
{
    const struct xnv_tx_pkt *p = &q->txp[i];
    uint32_t pos = 0, a, b;
    for (unsigned f = 0; f < p->nr_frags; pos += p->frag[f++].len)
        if (nb_tx_frag_part(pos, p->frag[f].len, from, to, &a, &b))
            xnv_copy_from_gref(&q->txb, q->vif->domid, p->frag[f].gref, (uint16_t)(p->frag[f].offset + a),
                               (uint16_t)(b - a), nb_tx_slot_dest(q, st, i, f) + a, (uint16_t)i);
}

/* Copy what is not yet in the arena (bytes from have[i] on) of ordinary packets. */
static void copy_rest(struct nb_queue *q, struct batch_state *st, unsigned n)
{
    xnv_copy_batch_reset(&q->txb);
    for (unsigned i = 0; i < n; i++)
        if (st->verdict[i] == XNV_TX_PACKET && !st->target[i] && !st->failed[i])
            nb_tx_add_copies(q, st, i, st->have[i], q->txp[i].len);
    nb_tx_run_copy(q, &q->txb, st->failed, n);
}

/* Read and validate; returns packets taken, 0 on fatal (q->fatal_why set). */
static unsigned read_batch(struct nb_queue *q, struct batch_state *st, struct nb_clock *now, uint64_t *wait_ns)
{
    RING_IDX prod = q->tx.sring->req_prod;
    rmb();   /* requests are read after the producer index */
    uint32_t used = 0;
    unsigned n = 0;
    while (n < NB_TX_BATCH && NB_ARENA_BYTES - used >= XNV_TX_MAX_FRAGS * XNV_PAGE_SIZE) {
        struct xnv_tx_pkt *p = &q->txp[n];
        RING_IDX before = q->tx.req_cons;
        enum xnv_tx_verdict vd = xnv_tx_read(&q->tx, prod, p);
        if (vd == XNV_TX_NONE)
            break;
        if (vd == XNV_TX_FATAL) {
            q->fatal_why = p->why;
            return 0;
        }
        if (vd == XNV_TX_PACKET && !nb_credit_take(&q->credit, p->len, now, wait_ns)) {
            q->tx.req_cons = before;      /* not consumed: retried after the refill */
            break;
        }
        st->verdict[n] = vd;
        st->off[n] = used;
        st->have[n] = 0;
        st->target[n] = NULL;
        st->failed[n] = false;
        st->status[n] = NETIF_RSP_NULL;   /* not decided yet */
        if (vd == XNV_TX_PACKET)
            used += p->nr_frags * XNV_PAGE_SIZE;
        n++;
    }
    return n;
}

unsigned nb_tx_batch(struct nb_queue *q, struct nb_clock *now, uint64_t *wait_ns)
{
    struct batch_state st;
    unsigned n = read_batch(q, &st, now, wait_ns);
    if (n == 0)
        return 0;
    if (q->vif->fastpath)
        nb_switch_fast(q, &st, n);
    copy_rest(q, &st, n);

    for (unsigned i = 0; i < n; i++) {
        const struct xnv_tx_pkt *p = &q->txp[i];
        int16_t status = st.status[i];
        if (st.verdict[i] == XNV_TX_DROP) {
            XNV_STAT_ADD(q->stats.tx_drops, 1);
            status = NETIF_RSP_ERROR;
        } else if (st.verdict[i] == XNV_TX_MCAST) {
            status = apply_mcast(q->vif, p);
        } else if (st.target[i]) {
            /* answered by the fast path */
        } else if (st.failed[i]) {
            XNV_STAT_ADD(q->stats.tx_errors, 1);
            status = NETIF_RSP_ERROR;
        } else {
            status = deliver(q, &st, i);
        }
        xnv_tx_respond(&q->tx, p, status);
    }
    if (XNV_RING_PUSH_RESPONSES(&q->tx))
        q->notify_tx_due = true;
    return n;
}
