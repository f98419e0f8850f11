/* Offload metadata between netif flags, GSO extras and virtio-net headers. */
#include <errno.h>
#include <netinet/in.h>
#include "xnv/features.h"
#include "xnv/offload.h"

/* May a frame with these headers carry a partial checksum (and GSO)? */
static int check_hdrs(const struct xnv_hdrs *h, uint8_t gso_type, const char **why)
{
    if (gso_type != XEN_NETIF_GSO_TYPE_NONE &&
        (h->l4_proto != IPPROTO_TCP || h->fragment || h->ipv6 != (gso_type == XEN_NETIF_GSO_TYPE_TCPV6))) {
        *why = "GSO frame without a matching TCP header";
        return -EINVAL;
    }
    if (h->fragment || (h->l4_proto != IPPROTO_TCP && h->l4_proto != IPPROTO_UDP)) {
        *why = "partial checksum on a frame without a TCP/UDP header";
        return -EINVAL;
    }
    return 0;
}

static int garbage(bool partial, const char **why)
{
    *why = partial ? "partial checksum on a frame with garbage headers" : "GSO frame with garbage headers";
    return -EINVAL;
}

/* Store the pseudo-header sum in the L4 checksum field, as a partial
 * checksum expects. */
static void locate_partial(uint8_t *f, uint32_t len, struct xnv_offload *o, const struct xnv_hdrs *h)
{
    o->csum_start = h->l4_off;
    o->csum_offset = h->l4_proto == IPPROTO_TCP ? 16 : 6;
    uint16_t c = xnv_csum_fold(xnv_pseudo_sum(f, h, len - h->l4_off));
    f[o->csum_start + o->csum_offset] = (uint8_t)(c >> 8);
    f[o->csum_start + o->csum_offset + 1] = (uint8_t)c;
}

/* The headers are parsed within the first head_len bytes; len is the
 * frame's (the L4 length of the pseudo-header). */
static int from_flags(uint8_t *f, uint32_t head_len, uint32_t len, bool partial, bool valid,
                      uint8_t gso_type, uint16_t gso_size, struct xnv_offload *o, const char **why)
{
    *o = (struct xnv_offload){ .csum_partial = partial, .csum_valid = valid || partial,
                               .gso_type = gso_type, .gso_size = gso_size };
    if (!partial && gso_type == XEN_NETIF_GSO_TYPE_NONE)
        return 0;
    struct xnv_hdrs h;
    if (xnv_parse_headers(f, head_len, &h))
        return garbage(partial, why);
    if (check_hdrs(&h, gso_type, why))
        return -EINVAL;
    if (gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        o->hdr_len = h.l4_end;
        /* A segmented frame always needs its checksum completed per segment. */
        o->csum_partial = true;
        o->csum_valid = true;
    }
    locate_partial(f, len, o, &h);
    return 0;
}

int xnv_offload_check_netif(const uint8_t *f, uint32_t have, uint32_t len, uint16_t nettxf_flags,
                            uint8_t gso_type, struct xnv_hdrs *h, const char **why)
{
    bool partial = nettxf_flags & NETTXF_csum_blank;
    if (!partial && gso_type == XEN_NETIF_GSO_TYPE_NONE)
        return 0;
    /* Parsing reads no byte past the headers and checks each read against
     * the length it is given: headers found in the first bytes are the
     * headers of the whole frame. */
    if (xnv_parse_headers(f, have < len ? have : len, h))
        return have < len ? -EAGAIN : garbage(partial, why);
    return check_hdrs(h, gso_type, why);
}

int xnv_offload_from_netif(uint8_t *f, uint32_t len, uint16_t nettxf_flags,
                           uint8_t gso_type, uint16_t gso_size,
                           struct xnv_offload *o, const char **why)
{
    return xnv_offload_from_netif_head(f, len, len, nettxf_flags, gso_type, gso_size, o, why);
}

int xnv_offload_from_netif_head(uint8_t *f, uint32_t head_len, uint32_t len,
                                uint16_t nettxf_flags, uint8_t gso_type, uint16_t gso_size,
                                struct xnv_offload *o, const char **why)
{
    return from_flags(f, head_len < len ? head_len : len, len, nettxf_flags & NETTXF_csum_blank,
                      nettxf_flags & NETTXF_data_validated, gso_type, gso_size, o, why);
}

int xnv_offload_from_netif_rx(uint8_t *f, uint32_t len, uint16_t netrxf_flags,
                              uint8_t gso_type, uint16_t gso_size,
                              struct xnv_offload *o, const char **why)
{
    return from_flags(f, len, len, netrxf_flags & NETRXF_csum_blank,
                      netrxf_flags & NETRXF_data_validated, gso_type, gso_size, o, why);
}

int xnv_offload_from_vnet(const struct virtio_net_hdr *vh, uint32_t len,
                          struct xnv_offload *o, const char **why)
{
    *o = (struct xnv_offload){ 0 };
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if ((uint32_t)vh->csum_start + vh->csum_offset + 2 > len) {
            *why = "virtio-net checksum position beyond the frame";
            return -EINVAL;
        }
        o->csum_partial = true;
        o->csum_valid = true;
        o->csum_start = vh->csum_start;
        o->csum_offset = vh->csum_offset;
    }
    if (vh->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        o->csum_valid = true;
    switch (vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        return 0;
    case VIRTIO_NET_HDR_GSO_TCPV4:
        o->gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
        break;
    case VIRTIO_NET_HDR_GSO_TCPV6:
        o->gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
        break;
    default:
        *why = "virtio-net GSO type not supported";
        return -EINVAL;
    }
    if (vh->gso_size == 0 || !o->csum_partial) {
        *why = "virtio-net GSO frame without size or partial checksum";
        return -EINVAL;
    }
    o->gso_size = vh->gso_size;
    o->hdr_len = vh->hdr_len;
    return 0;
}

void xnv_offload_to_vnet(const struct xnv_offload *o, struct virtio_net_hdr *vh)
{
    *vh = (struct virtio_net_hdr){ 0 };
    if (o->csum_partial) {
        vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh->csum_start = o->csum_start;
        vh->csum_offset = o->csum_offset;
    } else if (o->csum_valid) {
        vh->flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    if (o->gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        vh->gso_type = o->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
                                                               : VIRTIO_NET_HDR_GSO_TCPV6;
        vh->gso_size = o->gso_size;
        vh->hdr_len = o->hdr_len;
    }
}

uint16_t xnv_offload_rx_flags(const struct xnv_offload *o)
{
    if (o->csum_partial)
        return NETRXF_csum_blank | NETRXF_data_validated;
    return o->csum_valid ? NETRXF_data_validated : 0;
}

struct xnv_rx_meta xnv_offload_rx_meta(const struct xnv_offload *o)
{
    bool gso = o->gso_type != XEN_NETIF_GSO_TYPE_NONE;
    return (struct xnv_rx_meta){ .flags = xnv_offload_rx_flags(o), .gso_type = o->gso_type,
                                 .gso_size = gso ? o->gso_size : 0 };
}

uint16_t xnv_offload_tx_flags(const struct xnv_offload *o)
{
    if (o->csum_partial)
        return NETTXF_csum_blank | NETTXF_data_validated;
    return o->csum_valid ? NETTXF_data_validated : 0;
}

bool xnv_offload_csum_findable(const uint8_t *f, uint32_t len, const struct xnv_offload *o,
                               struct xnv_hdrs *h)
{
    return xnv_parse_headers(f, len, h) == 0 && !h->fragment &&
           (h->l4_proto == IPPROTO_TCP || h->l4_proto == IPPROTO_UDP) && h->l4_off == o->csum_start &&
           o->csum_offset == (h->l4_proto == IPPROTO_TCP ? 16 : 6);
}

int xnv_offload_for_peer(uint8_t *f, uint32_t len, struct xnv_offload *o, uint32_t peer_flags)
{
    if (o->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 && !(peer_flags & XNV_F_GSO_TCPV4))
        return -EOPNOTSUPP;
    if (o->gso_type == XEN_NETIF_GSO_TYPE_TCPV6 && !(peer_flags & XNV_F_GSO_TCPV6))
        return -EOPNOTSUPP;
    if (!o->csum_partial || o->gso_type != XEN_NETIF_GSO_TYPE_NONE)
        return 0;
    struct xnv_hdrs h;
    bool v6 = xnv_parse_headers(f, len, &h) == 0 && h.ipv6;
    bool can_take = v6 ? (peer_flags & XNV_F_IPV6_CSUM) : !(peer_flags & XNV_F_NO_CSUM);
    if (can_take)
        return 0;
    int rc = xnv_csum_complete(f, len, o->csum_start, o->csum_offset);
    if (rc)
        return rc;
    o->csum_partial = false;
    o->csum_valid = true;
    return 0;
}
