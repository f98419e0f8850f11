/* Internet checksum arithmetic and L4 checksum completion/verification. */
#include <errno.h>
#include <netinet/in.h>
#include "xnv/offload.h"

uint32_t xnv_csum_add(uint32_t sum, const uint8_t *p, uint32_t len)
{
    uint64_t s = sum;
    uint32_t i = 0;
    for (; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < len)
        s += (uint32_t)p[i] << 8;
    while (s >> 32)
        s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

uint16_t xnv_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

int xnv_csum_complete(uint8_t *f, uint32_t len, uint16_t start, uint16_t offset)
{
    if ((uint32_t)start + offset + 2 > len)
        return -EINVAL;
    uint8_t *field = f + start + offset;
    /* The field holds the pseudo-header sum: include it, then store. */
    uint16_t c = (uint16_t)~xnv_csum_fold(xnv_csum_add(0, f + start, len - start));
    /* 0xffff and 0 are the same in ones' complement; store 0xffff, since a
     * UDP checksum of 0 means "none" (IPv4) or is invalid (IPv6). */
    if (c == 0)
        c = 0xffff;
    field[0] = (uint8_t)(c >> 8);
    field[1] = (uint8_t)c;
    return 0;
}

/* Sum of the IPv4/IPv6 pseudo header for an L4 segment of l4_len bytes. */
uint32_t xnv_pseudo_sum(const uint8_t *f, const struct xnv_hdrs *h, uint32_t l4_len)
{
    uint32_t s;
    if (h->ipv6)
        s = xnv_csum_add(0, f + h->l3_off + 8, 32);
    else
        s = xnv_csum_add(0, f + h->l3_off + 12, 8);
    s += h->l4_proto;
    s += l4_len & 0xffff;
    s += l4_len >> 16;
    return s;
}

bool xnv_csum_verify_l4(const uint8_t *f, uint32_t len)
{
    struct xnv_hdrs h;
    if (xnv_parse_headers(f, len, &h) || h.fragment ||
        (h.l4_proto != IPPROTO_TCP && h.l4_proto != IPPROTO_UDP))
        return false;
    uint32_t s = xnv_pseudo_sum(f, &h, len - h.l4_off);
    s = xnv_csum_add(s, f + h.l4_off, len - h.l4_off);
    return xnv_csum_fold(s) == 0xffff;
}
