/* The public data path: frames in and out of a queue's rings, with their
 * offload metadata translated both ways.  Nothing here allocates; drops are
 * counted and logged at a rate limit. */
#include <errno.h>
#include <netinet/in.h>
#include "nf.h"

/* The queue serving caller queue q (fewer may be connected than asked for). */
static struct nf_queue *queue_for(struct xnv_netfront *nf, unsigned q)
{
    unsigned nq = atomic_load_explicit(&nf->nq, memory_order_acquire);
    return &nf->q[nq ? q % nq : q];
}

static int down_error(const struct nf_queue *q)
{
    return atomic_load(&q->broken) ? -EIO : -ENOTCONN;
}

/* Reclaim transmit buffers; false when the backend broke the ring. */
static bool reclaim(struct nf_queue *q)
{
    struct nf_tx_done d = { 0 };
    int n = nf_tx_reclaim(&q->tx, &d);
    if (n < 0) {
        nf_queue_break(q, d.why);
        return false;
    }
    q->work += (unsigned)n;
    if (d.errors)
        XNV_STAT_ADD(q->st.tx_errors, d.errors);
    return true;
}

/* The checksum of frame f[start..len) completed here, for a backend that
 * cannot complete it (or cannot find it). */
static void complete_csum(const uint8_t *f, uint32_t len, uint16_t start, uint16_t offset,
                          bool udp, struct nf_tx_meta *m)
{
    uint16_t c = (uint16_t)~xnv_csum_fold(xnv_csum_add(0, f + start, len - start));
    if (udp && c == 0)
        c = 0xffff;
    m->patch_pos = (int32_t)start + offset;
    m->patch[0] = (uint8_t)(c >> 8);
    m->patch[1] = (uint8_t)c;
    m->flags = NETTXF_data_validated;
}

/* How frame f goes to a backend taking tx_flags.  -EINVAL (why) to drop. */
static int tx_meta(const struct xnv_nf_frame *f, uint32_t tx_flags, struct nf_tx_meta *m,
                   const char **why)
{
    struct xnv_offload o;
    *m = (struct nf_tx_meta){ .gso_type = XEN_NETIF_GSO_TYPE_NONE, .patch_pos = -1 };
    if (nf_frame_offload(f, &o, why))
        return -EINVAL;
    if (o.gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        uint32_t need = o.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ? XNV_F_GSO_TCPV4 : XNV_F_GSO_TCPV6;
        if (!(tx_flags & need)) {
            *why = "GSO frame of a type the backend does not take";
            return -EINVAL;
        }
        m->gso_type = o.gso_type;
        m->gso_size = o.gso_size;
        m->flags = NETTXF_csum_blank | NETTXF_data_validated;
        return 0;
    }
    if (o.csum_partial) {
        /* netif carries no checksum position: the backend finds the L4
         * header itself, so it must be where the caller says. */
        struct xnv_hdrs h;
        bool found = xnv_offload_csum_findable(f->data, f->len, &o, &h);
        bool takes = h.ipv6 ? (tx_flags & XNV_F_IPV6_CSUM) : !(tx_flags & XNV_F_NO_CSUM);
        if (found && takes)
            m->flags = NETTXF_csum_blank | NETTXF_data_validated;
        else
            complete_csum(f->data, f->len, o.csum_start, o.csum_offset,
                          found && h.l4_proto == IPPROTO_UDP, m);
        return 0;
    }
    if (o.csum_valid)
        m->flags = NETTXF_data_validated;
    return 0;
}

int xnv_nf_send(struct xnv_netfront *nf, unsigned qi, const struct xnv_nf_frame *f, unsigned n)
{
    if (qi >= nf->nq_want)
        return -EINVAL;
    struct nf_queue *q = queue_for(nf, qi);
    pthread_mutex_lock(&q->lock);
    if (!q->up || !reclaim(q)) {
        int rc = down_error(q);
        pthread_mutex_unlock(&q->lock);
        return rc;
    }
    unsigned i = 0;
    bool retried = false;
    for (; i < n; i++) {
        struct nf_tx_meta m;
        const char *why = NULL;
        int rc = tx_meta(&f[i], nf->tx_flags, &m, &why);
        if (rc == 0 && (rc = nf_tx_put(&q->tx, f[i].data, f[i].len, &m)) == -ENOSPC && !retried) {
            retried = true;
            if (!reclaim(q))
                break;
            rc = nf_tx_put(&q->tx, f[i].data, f[i].len, &m);
        }
        if (rc == -ENOSPC)
            break;
        if (rc < 0) {
            XNV_STAT_ADD(q->st.tx_errors, 1);
            nf_queue_log_drop(q, "transmit", why ? why : "frame too short, too long, or "
                                                          "multi-page for a backend without feature-sg");
            continue;
        }
        XNV_STAT_ADD(q->st.tx_packets, 1);
        XNV_STAT_ADD(q->st.tx_bytes, f[i].len);
    }
    int rc = (int)i;
    if (atomic_load(&q->broken))
        rc = -EIO;
    else if (nf_tx_push(&q->tx))
        nf_queue_notify(q, q->port_tx);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

/* Frames of queue qi to d, up to n: how many; -EIO when the queue broke. */
static int recv_into(struct xnv_netfront *nf, unsigned qi, const struct nf_rx_dest *d, unsigned n)
{
    if (qi >= nf->nq_want)
        return -EINVAL;
    struct nf_queue *q = &nf->q[qi];
    pthread_mutex_lock(&q->lock);
    nf_queue_service(q);
    if (qi >= atomic_load(&nf->nq) && !q->up) {
        /* A queue this connection does not use: nothing ever arrives. */
        pthread_mutex_unlock(&q->lock);
        return atomic_load(&nf->pub_state) == XNV_NF_CONNECTED ? 0 : -ENOTCONN;
    }
    if (!q->up || !reclaim(q)) {
        int rc = down_error(q);
        pthread_mutex_unlock(&q->lock);
        return rc;
    }
    const char *why = NULL;
    RING_IDX prod;
    unsigned got = 0, consumed = 0;
    int rc = nf_rx_prod(&q->rx, &prod, &why);
    while (rc == 0 && got < n) {
        if (q->rx.ring.rsp_cons == prod) {
            if ((rc = nf_rx_arm(&q->rx, &prod, &why)) < 0 || q->rx.ring.rsp_cons == prod)
                break;
        }
        struct nf_rx_frame rf;
        enum nf_rx_verdict v = nf_rx_gather(&q->rx, prod, d->sink ? XNV_NF_MAX_FRAME : d->f[got].cap, &rf);
        consumed += rf.slots;
        if (v == NF_RX_FRAME && nf_rx_hand_over(&q->rx, &rf, nf->rx_flags, q->rx_scratch, d, got)) {
            XNV_STAT_ADD(q->st.rx_packets, 1);
            XNV_STAT_ADD(q->st.rx_bytes, rf.len);
            got++;
        } else if (v == NF_RX_DROP && !rf.fault) {
            XNV_STAT_ADD(q->st.rx_dropped, 1);
        } else {
            XNV_STAT_ADD(q->st.rx_errors, 1);
            nf_queue_log_drop(q, "receive", rf.why);
        }
        /* A sink writes each frame straight from its buffers, which takes
         * long (a TAP write runs the guest's own receive path): give them
         * back to the backend after each frame, or a batch of such writes
         * leaves the ring empty and the backend drops. */
        if (d->sink && nf_rx_refill(&q->rx) && nf_rx_push(&q->rx))
            nf_queue_notify(q, q->port_rx);
    }
    if (rc < 0)
        nf_queue_break(q, why);
    q->work += consumed;
    if (q->up && nf_rx_refill(&q->rx) && nf_rx_push(&q->rx))
        nf_queue_notify(q, q->port_rx);
    pthread_mutex_unlock(&q->lock);
    return rc < 0 ? -EIO : (int)got;
}

int xnv_nf_recv(struct xnv_netfront *nf, unsigned qi, struct xnv_nf_frame *f, unsigned n)
{
    return recv_into(nf, qi, &(struct nf_rx_dest){ .f = f }, n);
}

int xnv_nf_recv_to(struct xnv_netfront *nf, unsigned qi, xnv_nf_rx_sink sink, void *ctx, unsigned n)
{
    return recv_into(nf, qi, &(struct nf_rx_dest){ .sink = sink, .ctx = ctx }, n);
}
