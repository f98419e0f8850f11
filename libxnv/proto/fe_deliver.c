/* A gathered receive frame handed on without copying it: its headers are
 * copied into private memory (offloads are decided and patched there, out
 * of the backend's reach), the rest goes straight from the receive buffers
 * to the sink (a TAP's writev).  Used by the netfront's vif queues and by
 * the direct channels, which share the receive ring code. */
#include <errno.h>
#include "xnv/fe_rx.h"

/* The offloads of a frame read from a netif RX ring (data: at least its
 * headers), adapted to what the receiver takes.  0; -EINVAL (why). */
static int rx_offloads(uint8_t *data, const struct nf_rx_frame *f, uint32_t peer_flags,
                       struct xnv_offload *off, const char **why)
{
    if (xnv_offload_from_netif_rx(data, f->len, f->flags, f->gso_type, f->gso_size, off, why))
        return -EINVAL;
    int rc = xnv_offload_for_peer(data, f->len, off, peer_flags);
    if (rc) {
        *why = rc == -EOPNOTSUPP ? "GSO frame of a type the receiver did not ask for"
                                 : "partial checksum that cannot be completed";
        return -EINVAL;
    }
    return 0;
}

int nf_rx_deliver(const struct nf_rx_frame *f, uint32_t peer_flags, uint8_t *scratch,
                  xnv_nf_rx_sink sink, void *ctx, const char **why)
{
    uint8_t head[NF_RX_HEAD];
    struct iovec iov[1 + NF_MAX_SLOTS];
    unsigned n = 1;
    uint32_t h = f->len < NF_RX_HEAD ? f->len : NF_RX_HEAD;
    nf_rx_copy_out(f, 0, head, h);
    bool offloaded = (f->flags & NETRXF_csum_blank) || f->gso_type != XEN_NETIF_GSO_TYPE_NONE;
    struct xnv_hdrs hd;
    /* The whole frame is copied when its offloads need more than the head:
     * headers longer than it, or a checksum the peer cannot take and which
     * is completed here over every byte. */
    bool whole = offloaded && ((h < f->len && xnv_parse_headers(head, h, &hd)) ||
                               (peer_flags & XNV_F_NO_CSUM) || !(peer_flags & XNV_F_IPV6_CSUM));
    uint8_t *data = head;
    if (whole) {
        data = scratch;
        nf_rx_copy_out(f, 0, scratch, f->len);
        iov[0] = (struct iovec){ scratch, f->len };
    } else {
        iov[0] = (struct iovec){ head, h };
        n += nf_rx_tail_iov(f, h, iov + 1);
    }
    struct xnv_offload off;
    if (rx_offloads(data, f, peer_flags, &off, why))
        return -EINVAL;
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&off, &vh);
    sink(ctx, &vh, iov, n);
    return 0;
}

bool nf_rx_hand_over(struct nf_rx *r, struct nf_rx_frame *rf, uint32_t peer_flags, uint8_t *scratch,
                     const struct nf_rx_dest *d, unsigned i)
{
    bool ok;
    if (d->sink) {
        ok = nf_rx_deliver(rf, peer_flags, scratch, d->sink, d->ctx, &rf->why) == 0;
    } else {
        struct xnv_nf_frame *fr = &d->f[i];
        nf_rx_copy_out(rf, 0, fr->data, rf->len);
        ok = rx_offloads(fr->data, rf, peer_flags, &fr->off, &rf->why) == 0;
        if (ok) {
            fr->len = rf->len;
            xnv_offload_to_vnet(&fr->off, &fr->vh);
        }
    }
    nf_rx_release(r, rf);
    return ok;
}
