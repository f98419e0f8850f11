/* Toeplitz hashing over the inputs netif.h defines for each hash type. */
#include <string.h>
#include <netinet/in.h>
#define XEN_NETIF_DEFINE_TOEPLITZ   /* use the reference implementation as shipped */
#include "xnv/netif.h"
#include "xnv/offload.h"
#include "xnv/toeplitz.h"

uint32_t xnv_toeplitz(const uint8_t *key, unsigned keylen, const uint8_t *buf, unsigned buflen)
{
    return xen_netif_toeplitz_hash(key, keylen, buf, buflen);
}

bool xnv_hash_frame(const uint8_t *f, uint32_t len, uint32_t enabled_types,
                    const uint8_t *key, unsigned keylen, uint32_t *hash, uint8_t *type)
{
    struct xnv_hdrs h;
    if (xnv_parse_headers(f, len, &h))
        return false;
    uint8_t buf[36];
    unsigned n;
    bool tcp = h.l4_proto == IPPROTO_TCP && !h.fragment;
    if (h.ipv6) {
        memcpy(buf, f + h.l3_off + 8, 32);       /* source + destination */
        n = 32;
        if (tcp && (enabled_types & XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)) {
            memcpy(buf + 32, f + h.l4_off, 4);  /* source + destination port */
            n = 36;
            *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP;
        } else if (enabled_types & XEN_NETIF_CTRL_HASH_TYPE_IPV6) {
            *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV6;
        } else {
            return false;
        }
    } else {
        memcpy(buf, f + h.l3_off + 12, 8);
        n = 8;
        if (tcp && (enabled_types & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP)) {
            memcpy(buf + 8, f + h.l4_off, 4);
            n = 12;
            *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
        } else if (enabled_types & XEN_NETIF_CTRL_HASH_TYPE_IPV4) {
            *type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
        } else {
            return false;
        }
    }
    *hash = xnv_toeplitz(key, keylen, buf, n);
    return true;
}
