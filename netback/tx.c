/* Guest transmit, one batch: read and validate up to NB_TX_BATCH packets,
 * grant-copy all their fragments in one call (map-free), hand each packet to
 * the host port with its offload metadata, answer every slot in ring order. */
#include <errno.h>
#include <syslog.h>
#include "nb.h"
#include "xnv/offload.h"

static int16_t apply_mcast(struct nb_vif *v, const struct xnv_tx_pkt *p)
{
    pthread_mutex_lock(&v->mcast_lock);
    int rc = p->mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ? xnv_mcast_add(&v->mcast, p->mcast_addr)
                                                           : xnv_mcast_del(&v->mcast, p->mcast_addr);
    pthread_mutex_unlock(&v->mcast_lock);
    return rc ? NETIF_RSP_ERROR : NETIF_RSP_OKAY;
}

/* Offloads, then the port.  The guest gets OKAY once we accepted the packet,
 * even if the host side drops it later (as a NIC would). */
static int16_t deliver(struct nb_queue *q, const struct xnv_tx_pkt *p, uint8_t *frame)
{
    const char *why = NULL;
    struct xnv_offload o;
    if (xnv_offload_from_netif(frame, p->len, p->flags, p->gso_type, p->gso_size, &o, &why)) {
        NB_STAT_ADD(q, tx_drops, 1);
        return NETIF_RSP_ERROR;
    }
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&o, &vh);
    struct iovec iov = { frame, p->len };
    if (xnv_port_send(q->vif->port, q->id, &vh, &iov, 1)) {
        NB_STAT_ADD(q, tx_drops, 1);
        return NETIF_RSP_OKAY;
    }
    NB_STAT_ADD(q, tx_packets, 1);
    NB_STAT_ADD(q, tx_bytes, p->len);
    return NETIF_RSP_OKAY;
}

unsigned nb_tx_batch(struct nb_queue *q, uint64_t now_ns, uint64_t *wait_ns)
{
    struct nb_vif *v = q->vif;
    RING_IDX prod = q->tx.sring->req_prod;
    rmb();   /* requests are read after the producer index */

    enum xnv_tx_verdict verdict[NB_TX_BATCH];
    uint32_t off[NB_TX_BATCH];
    uint32_t used = 0;
    unsigned n = 0;
    xnv_copy_batch_reset(&q->txb);
    while (n < NB_TX_BATCH && NB_ARENA_BYTES - used >= NB_FRAME_MAX) {
        struct xnv_tx_pkt *p = &q->txp[n];
        RING_IDX before = q->tx.req_cons;
        enum xnv_tx_verdict vd = xnv_tx_read(&q->tx, prod, p);
        if (vd == XNV_TX_NONE)
            break;
        if (vd == XNV_TX_FATAL) {
            q->fatal_why = p->why;
            return n;
        }
        if (vd == XNV_TX_PACKET && !nb_credit_take(&q->credit, p->len, now_ns, wait_ns)) {
            q->tx.req_cons = before;      /* not consumed: retried after the refill */
            break;
        }
        verdict[n] = vd;
        if (vd == XNV_TX_PACKET) {
            off[n] = used;
            xnv_tx_add_copies(&q->txb, p, v->domid, q->tx_arena + used, (uint16_t)n);
            used += (p->len + 63u) & ~63u;
        }
        n++;
    }
    if (n == 0)
        return 0;

    bool failed[NB_TX_BATCH] = { false };
    if (q->txb.n) {
        int rc = xnv_gnt_copy(v->nb->hv, q->txb.seg, q->txb.n);
        NB_STAT_ADD(q, copy_calls, 1);
        NB_STAT_ADD(q, copy_segments, q->txb.n);
        if (rc)
            for (unsigned i = 0; i < n; i++)
                failed[i] = true;
        else
            xnv_copy_batch_failures(&q->txb, failed, n);
    }
    for (unsigned i = 0; i < n; i++) {
        const struct xnv_tx_pkt *p = &q->txp[i];
        int16_t status;
        if (verdict[i] == XNV_TX_DROP) {
            NB_STAT_ADD(q, tx_drops, 1);
            status = NETIF_RSP_ERROR;
        } else if (verdict[i] == XNV_TX_MCAST) {
            status = apply_mcast(v, p);
        } else if (failed[i]) {
            NB_STAT_ADD(q, tx_errors, 1);
            status = NETIF_RSP_ERROR;
        } else {
            status = deliver(q, p, q->tx_arena + off[i]);
        }
        xnv_tx_respond(&q->tx, p, status);
    }
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
    if (notify) {
        xnv_evtchn_notify(q->ch, (xnv_port_t)q->port_tx);
        NB_STAT_ADD(q, notify_sent, 1);
    }
    return n;
}
