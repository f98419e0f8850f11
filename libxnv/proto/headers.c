/* Locating L3/L4 headers in an Ethernet frame, bounds-checked throughout. */
#include <errno.h>
#include <netinet/in.h>
#include "xnv/offload.h"

#define ETHERTYPE_V4 0x0800
#define ETHERTYPE_V6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define MAX_IPV6_EXT 8

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int parse_ipv4(const uint8_t *f, uint32_t len, struct xnv_hdrs *h)
{
    const uint8_t *ip = f + h->l3_off;
    if (h->l3_off + 20u > len || (ip[0] >> 4) != 4)
        return -EINVAL;
    unsigned ihl = (ip[0] & 0xfu) * 4u;
    if (ihl < 20 || h->l3_off + ihl > len || be16(ip + 2) < ihl)
        return -EINVAL;
    h->fragment = (be16(ip + 6) & 0x3fff) != 0;   /* MF or a fragment offset */
    h->l4_proto = ip[9];
    h->l4_off = (uint16_t)(h->l3_off + ihl);
    return 0;
}

static int parse_ipv6(const uint8_t *f, uint32_t len, struct xnv_hdrs *h)
{
    const uint8_t *ip = f + h->l3_off;
    if (h->l3_off + 40u > len || (ip[0] >> 4) != 6)
        return -EINVAL;
    uint8_t next = ip[6];
    uint32_t off = h->l3_off + 40u;
    for (int i = 0; i < MAX_IPV6_EXT; i++) {
        if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
            if (off + 8 > len)
                return -EINVAL;
            next = f[off];
            off += 8u + f[off + 1] * 8u;
        } else if (next == IPPROTO_FRAGMENT) {
            if (off + 8 > len)
                return -EINVAL;
            h->fragment = true;
            next = f[off];
            off += 8;
        } else {
            break;
        }
    }
    if (off > len || off > UINT16_MAX)
        return -EINVAL;
    h->ipv6 = true;
    h->l4_proto = next;
    h->l4_off = (uint16_t)off;
    return 0;
}

int xnv_parse_l3(const uint8_t *f, uint32_t len, struct xnv_hdrs *h)
{
    *h = (struct xnv_hdrs){ 0 };
    if (len < XNV_ETH_HLEN)
        return -EINVAL;
    h->l3_off = XNV_ETH_HLEN;
    h->ethertype = be16(f + 12);
    if (h->ethertype == ETHERTYPE_VLAN) {
        if (len < XNV_ETH_HLEN + 4)
            return -EINVAL;
        h->ethertype = be16(f + 16);
        h->l3_off += 4;
    }
    if (h->ethertype == ETHERTYPE_V4)
        return parse_ipv4(f, len, h);
    if (h->ethertype == ETHERTYPE_V6)
        return parse_ipv6(f, len, h);
    return -EINVAL;
}

int xnv_parse_headers(const uint8_t *f, uint32_t len, struct xnv_hdrs *h)
{
    int rc = xnv_parse_l3(f, len, h);
    if (rc)
        return rc;
    if (h->l4_proto == IPPROTO_TCP) {
        if (h->l4_off + 20u > len)
            return -EINVAL;
        unsigned doff = (f[h->l4_off + 12] >> 4) * 4u;
        if (doff < 20 || h->l4_off + doff > len)
            return -EINVAL;
        h->l4_end = (uint16_t)(h->l4_off + doff);
    } else if (h->l4_proto == IPPROTO_UDP) {
        if (h->l4_off + 8u > len)
            return -EINVAL;
        h->l4_end = (uint16_t)(h->l4_off + 8);
    } else {
        h->l4_end = h->l4_off;
    }
    return 0;
}
