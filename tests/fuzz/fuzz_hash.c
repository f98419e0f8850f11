/* Fuzz target: Toeplitz hashing of hostile frames (xnv_hash_frame) with a
 * key and hash types as a frontend sets them over the control ring.
 *
 * Input: u8 enabled XEN_NETIF_CTRL_HASH_TYPE_* bits, u8 key length (mod 41,
 * up to XNV_HASH_KEY_MAX), the key, then the frame (exactly sized copies).
 *
 * Checked: the hash type chosen is enabled and follows the documented
 * preference (TCP 4-tuple first); the input hashed is the one netif.h
 * defines for that type, taken from the parsed headers; the value equals an
 * independent bit-by-bit Toeplitz computation. */
#include <netinet/in.h>
#include "fuzz_common.h"
#include "xnv/netif.h"
#include "xnv/offload.h"
#include "xnv/toeplitz.h"

/* Toeplitz by its definition: for each set bit i of the input (most
 * significant first), XOR in the 32 key bits starting at bit i; key bits
 * past its end are zero. */
static uint32_t toeplitz_bits(const uint8_t *key, unsigned keylen, const uint8_t *in, unsigned n)
{
    uint32_t h = 0;
    for (unsigned i = 0; i < n * 8; i++) {
        if (!(in[i / 8] & (0x80 >> (i % 8))))
            continue;
        uint32_t w = 0;
        for (unsigned j = 0; j < 32; j++) {
            unsigned kb = i + j;
            unsigned bit = kb / 8 < keylen ? (key[kb / 8] >> (7 - kb % 8)) & 1 : 0;
            w = w << 1 | bit;
        }
        h ^= w;
    }
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    uint32_t enabled = fz_u8(&in) & 0x3f;
    unsigned keylen = fz_u8(&in) % (XNV_HASH_KEY_MAX + 1);
    uint8_t *key = malloc(keylen ? keylen : 1);
    fz_bytes(&in, key, keylen);
    size_t n;
    const uint8_t *rest = fz_rest(&in, &n);
    uint8_t *f = fz_dup(rest, n);
    uint32_t len = (uint32_t)n;

    uint32_t hash = 0;
    uint8_t type = 0xff;
    bool got = xnv_hash_frame(f, len, enabled, key, keylen, &hash, &type);

    struct xnv_hdrs h;
    bool parsed = xnv_parse_headers(f, len, &h) == 0;
    uint8_t buf[36];
    unsigned bl = 0;
    int want = -1;
    if (parsed) {
        bool tcp = h.l4_proto == IPPROTO_TCP && !h.fragment;
        unsigned alen = h.ipv6 ? 32 : 8, aoff = h.ipv6 ? 8 : 12;
        int t_tcp = h.ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP : _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
        int t_ip = h.ipv6 ? _XEN_NETIF_CTRL_HASH_TYPE_IPV6 : _XEN_NETIF_CTRL_HASH_TYPE_IPV4;
        memcpy(buf, f + h.l3_off + aoff, alen);
        bl = alen;
        if (tcp && (enabled & (1u << t_tcp))) {
            FZ_CHECK(h.l4_off + 4u <= len);
            memcpy(buf + alen, f + h.l4_off, 4);
            bl += 4;
            want = t_tcp;
        } else if (enabled & (1u << t_ip)) {
            want = t_ip;
        }
    }
    FZ_CHECK(got == (want >= 0));
    if (got) {
        FZ_CHECK(type == want && (enabled & (1u << type)));
        FZ_CHECK(hash == toeplitz_bits(key, keylen, buf, bl));
        FZ_CHECK(hash == xnv_toeplitz(key, keylen, buf, bl));
    }
    /* The raw function over the raw frame, bounded like a hash input. */
    unsigned raw = len < 64 ? len : 64;
    FZ_CHECK(xnv_toeplitz(key, keylen, f, raw) == toeplitz_bits(key, keylen, f, raw));
    free(f);
    free(key);
    return 0;
}
