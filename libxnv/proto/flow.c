/* Flow hashing (xnv/flow.h): FNV-1a over the fields that name a flow.
 * No ports: the fragments of a datagram after the first carry none, and
 * a flow's fragmented and whole datagrams must share a bucket, or one
 * could go ahead of the other (netback/rx_order.c). */
#include "xnv/flow.h"
#include "xnv/offload.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME  16777619u

static uint32_t fnv(uint32_t h, const uint8_t *p, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

uint32_t xnv_flow_hash(const uint8_t *f, uint32_t len)
{
    struct xnv_hdrs h;
    uint32_t v = FNV_OFFSET;
    if (xnv_parse_l3(f, len, &h) != 0) {
        if (len < XNV_ETH_HLEN)
            return fnv(v, f, len);
        return fnv(v, f, XNV_ETH_HLEN);     /* both MACs and the ethertype */
    }
    const uint8_t *ip = f + h.l3_off;
    v = fnv(v, f + 12, h.l3_off - 12u);      /* the ethertype, a VLAN tag with it */
    if (h.ipv6)
        v = fnv(v, ip + 8, 32);              /* source and destination */
    else
        v = fnv(v, ip + 12, 8);
    return fnv(v, &h.l4_proto, 1);
}
