/* A caller's frame on its way out (to a backend, or to a peer over a
 * channel): its offloads, from the virtio-net header or the frame's own
 * record, checked once for what every way out needs.  Pure. */
#include <errno.h>
#include "xnv/fe_rx.h"

int nf_frame_offload(const struct xnv_nf_frame *f, struct xnv_offload *o, const char **why)
{
    if (f->meta == XNV_NF_META_VNET) {
        if (xnv_offload_from_vnet(&f->vh, f->len, o, why))
            return -EINVAL;
    } else {
        *o = f->off;
    }
    if (o->gso_type != XEN_NETIF_GSO_TYPE_NONE &&
        ((o->gso_type != XEN_NETIF_GSO_TYPE_TCPV4 && o->gso_type != XEN_NETIF_GSO_TYPE_TCPV6) ||
         o->gso_size == 0)) {
        *why = "GSO frame of an unknown type or without a segment size";
        return -EINVAL;
    }
    if (o->gso_type == XEN_NETIF_GSO_TYPE_NONE && o->csum_partial &&
        (uint32_t)o->csum_start + o->csum_offset + 2 > f->len) {
        *why = "checksum position beyond the frame";
        return -EINVAL;
    }
    return 0;
}
