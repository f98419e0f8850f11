/* The channel's data path, sender side: frames placed into the buffers the
 * receiving peer posted on its ring, exactly as a netback places them into
 * a netfront's (xnv_rx_place).  The receiver owns the ring page and may
 * write anything into it: its producer index is read once and checked, and
 * each request is copied out once by the placement code.  Pure functions
 * over ring memory. */
#include <errno.h>
#include <string.h>
#include "idc_int.h"
#include "xnv/offload.h"

void idc_ring_attach(netif_rx_back_ring_t *ring, void *page)
{
    netif_rx_sring_t *s = page;
    /* BACK_RING_INIT would restart at 0; a ring a previous sender used goes
     * on where that one stopped.  A bogus value only makes the producer
     * check below fail. */
    RING_IDX done = __atomic_load_n(&s->rsp_prod, __ATOMIC_ACQUIRE);
    BACK_RING_INIT(ring, s, XNV_PAGE_SIZE);
    ring->req_cons = done;
    ring->rsp_prod_pvt = done;
}

int idc_ring_put(netif_rx_back_ring_t *ring, xnv_domid_t peer, const uint8_t *data, uint32_t len,
                 const struct xnv_rx_meta *m, struct xnv_copy_batch *b, uint16_t pkt,
                 struct xnv_rx_placed *out)
{
    /* Read once; xnv_rx_place checks it against what was consumed. */
    RING_IDX prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
    return xnv_rx_place(ring, prod, peer, data, len, m, b, pkt, out);
}

bool idc_ring_arm(netif_rx_back_ring_t *ring, unsigned need)
{
    /* Not "any new request" (RING_FINAL_CHECK_FOR_REQUESTS): the receiver
     * refills a few buffers at a time, and a 64 KiB frame waiting for 17
     * would be woken, fail and sleep again at every refill. */
    ring->sring->req_event = ring->req_cons + need;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);   /* the event is set before the producer is read */
    RING_IDX prod = __atomic_load_n(&ring->sring->req_prod, __ATOMIC_ACQUIRE);
    return (RING_IDX)(prod - ring->req_cons) >= need;
}

int idc_frame_meta(struct xnv_nf_frame *f, struct xnv_rx_meta *m, const char **why)
{
    struct xnv_offload o;
    *m = (struct xnv_rx_meta){ .gso_type = XEN_NETIF_GSO_TYPE_NONE };
    if (f->len < XNV_ETH_HLEN || f->len > XNV_RX_MAX_LEN) {
        *why = "frame shorter than an Ethernet header or longer than 64 KiB";
        return -EINVAL;
    }
    if (nf_frame_offload(f, &o, why))
        return -EINVAL;
    if (o.gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        /* A segmented frame always needs its checksum completed per segment. */
        o.csum_partial = true;
        o.csum_valid = true;
    } else if (o.csum_partial) {
        /* netif carries no checksum position: the receiver finds the L4
         * header itself, so it must be where the caller says. */
        struct xnv_hdrs h;
        if (!xnv_offload_csum_findable(f->data, f->len, &o, &h)) {
            /* Completed here, once: the frame says so from now on (it may
             * be offered again, or go through the vif after all). */
            xnv_csum_complete(f->data, f->len, o.csum_start, o.csum_offset);
            o.csum_partial = false;
            o.csum_valid = true;
            f->vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
            f->off.csum_partial = false;
            f->off.csum_valid = true;
        }
    }
    *m = xnv_offload_rx_meta(&o);
    return 0;
}
