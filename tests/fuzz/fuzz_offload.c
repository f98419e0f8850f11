/* Fuzz target: header parsing and offload metadata on hostile frames.
 *
 * Frames reach these functions from a guest's TX ring (netif flags and a GSO
 * extra: xnv_offload_from_netif), from a backend's RX ring in the userspace
 * netfront (xnv_offload_from_netif_rx), and from the TAP device with a
 * virtio-net header (xnv_offload_from_vnet).  Each result is adapted for a
 * peer with fuzzed features (xnv_offload_for_peer).
 *
 * Input:
 *   u16 netif flags, u8 GSO type (mod 3: NONE / TCPV4 / TCPV6, as the ring
 *   readers admit no other), u16 GSO size, u32 peer XNV_F_* flags,
 *   10 bytes virtio_net_hdr, u16 + u16 a raw checksum start / offset,
 *   then the frame (each call gets an exactly sized private copy).
 *
 * Checked: parsed offsets stay inside the frame and are ordered; a partial
 * checksum points inside the frame at the parsed L4 header; completing it
 * gives a frame whose checksum verifies; nothing but the checksum field is
 * written; metadata survives the trip through a virtio-net header.  The
 * guest TX verdict taken from the frame's first bytes (the switch fast
 * path's xnv_offload_check_netif; the prefix length is the raw checksum
 * start modulo the length + 1) is the whole frame's, or -EAGAIN, and reads
 * nothing past those bytes. */
#include <errno.h>
#include <netinet/in.h>
#include "fuzz_common.h"
#include "xnv/features.h"
#include "xnv/offload.h"

static void check_headers(const uint8_t *f, uint32_t len, struct xnv_hdrs *h, bool *ok)
{
    *ok = xnv_parse_headers(f, len, h) == 0;
    if (!*ok)
        return;
    FZ_CHECK(h->l3_off == XNV_ETH_HLEN || h->l3_off == XNV_ETH_HLEN + 4);
    FZ_CHECK(h->l3_off < h->l4_off && h->l4_off <= h->l4_end && h->l4_end <= len);
    if (h->ipv6)
        FZ_CHECK(h->ethertype == 0x86dd && h->l4_off - h->l3_off >= 40);
    else
        FZ_CHECK(h->ethertype == 0x0800 && h->l4_off - h->l3_off >= 20);
    if (h->l4_proto == IPPROTO_TCP)
        FZ_CHECK(h->l4_end - h->l4_off >= 20);
    else if (h->l4_proto == IPPROTO_UDP)
        FZ_CHECK(h->l4_end - h->l4_off == 8);
    else
        FZ_CHECK(h->l4_end == h->l4_off);
}

/* Only the two bytes at pos may differ. */
static void check_only_field(const uint8_t *a, const uint8_t *b, uint32_t len, uint32_t pos)
{
    for (uint32_t i = 0; i < len; i++)
        if (i != pos && i != pos + 1)
            FZ_CHECK(a[i] == b[i]);
}

/* A completed UDP checksum of 0 means "no checksum" (and is invalid over
 * IPv6): it must be sent as 0xffff instead (RFC 768, RFC 8200 8.1). */
static void check_udp_zero(const uint8_t *f, const struct xnv_hdrs *h, uint32_t pos)
{
    if (h->l4_proto != IPPROTO_UDP)
        return;
    FZ_CHECK(f[pos] != 0 || f[pos + 1] != 0);
}

/* o -> virtio-net header -> o again. */
static void check_vnet_roundtrip(const struct xnv_offload *o, uint32_t len)
{
    struct virtio_net_hdr vh;
    struct xnv_offload back;
    const char *why = NULL;
    xnv_offload_to_vnet(o, &vh);
    int rc = xnv_offload_from_vnet(&vh, len, &back, &why);
    FZ_CHECK(rc == 0);
    FZ_CHECK(back.csum_partial == o->csum_partial && back.csum_valid == o->csum_valid);
    FZ_CHECK(back.gso_type == o->gso_type);
    if (o->csum_partial)
        FZ_CHECK(back.csum_start == o->csum_start && back.csum_offset == o->csum_offset);
    if (o->gso_type != XEN_NETIF_GSO_TYPE_NONE)
        FZ_CHECK(back.gso_size == o->gso_size && back.hdr_len == o->hdr_len);
    /* The netif flags of either direction say the same thing. */
    uint16_t rx = xnv_offload_rx_flags(o), tx = xnv_offload_tx_flags(o);
    FZ_CHECK(!!(rx & NETRXF_csum_blank) == o->csum_partial);
    FZ_CHECK(!!(tx & NETTXF_csum_blank) == o->csum_partial);
    FZ_CHECK(!!(rx & NETRXF_data_validated) == (o->csum_valid || o->csum_partial));
    FZ_CHECK(!!(tx & NETTXF_data_validated) == (o->csum_valid || o->csum_partial));
}

/* Adapting o for a peer: only the promised outcomes. */
static void check_for_peer(uint8_t *f, uint32_t len, struct xnv_offload *o, uint32_t peer,
                           const struct xnv_hdrs *h)
{
    struct xnv_offload before = *o;
    int rc = xnv_offload_for_peer(f, len, o, peer);
    FZ_CHECK(rc == 0 || rc == -EOPNOTSUPP || rc == -EINVAL);
    if (rc == -EOPNOTSUPP) {
        FZ_CHECK(before.gso_type != XEN_NETIF_GSO_TYPE_NONE);
        return;
    }
    if (before.gso_type == XEN_NETIF_GSO_TYPE_TCPV4)
        FZ_CHECK(peer & XNV_F_GSO_TCPV4);
    if (before.gso_type == XEN_NETIF_GSO_TYPE_TCPV6)
        FZ_CHECK(peer & XNV_F_GSO_TCPV6);
    if (rc)
        return;
    if (before.csum_partial && !o->csum_partial) {
        FZ_CHECK(o->csum_valid);
        if (h) {       /* the position came from the parsed headers */
            FZ_CHECK(xnv_csum_verify_l4(f, len));
            check_udp_zero(f, h, before.csum_start + before.csum_offset);
        }
    }
}

/* The TX verdict from the first `have` bytes alone, given in an exactly
 * sized copy: want (with its reason) or, when they are too few, -EAGAIN. */
static void check_prefix(const uint8_t *frame, uint32_t len, uint32_t have, uint16_t flags,
                         uint8_t gso_type, int want, const char *want_why)
{
    uint8_t *p = fz_dup(frame, have);
    struct xnv_hdrs h;
    const char *why = NULL;
    int rc = xnv_offload_check_netif(p, have, len, flags, gso_type, &h, &why);
    if (rc == -EAGAIN) {
        FZ_CHECK(have < len);
    } else {
        FZ_CHECK(rc == want);
        if (rc)
            FZ_CHECK(why && want_why && strcmp(why, want_why) == 0);
    }
    free(p);
}

/* One netif direction (TX flags from a guest, RX flags at the netfront). */
static void netif_path(const uint8_t *frame, uint32_t len, bool rx, uint16_t flags,
                       uint8_t gso_type, uint16_t gso_size, uint32_t peer,
                       const struct xnv_hdrs *h, bool parsed, uint32_t have)
{
    uint8_t *f = fz_dup(frame, len);
    struct xnv_offload o;
    const char *why = NULL;
    int rc = rx ? xnv_offload_from_netif_rx(f, len, flags, gso_type, gso_size, &o, &why)
                : xnv_offload_from_netif(f, len, flags, gso_type, gso_size, &o, &why);
    bool partial = rx ? (flags & NETRXF_csum_blank) : (flags & NETTXF_csum_blank);
    bool wants = partial || gso_type != XEN_NETIF_GSO_TYPE_NONE;
    if (!rx) {
        check_prefix(frame, len, have, flags, gso_type, rc, why);
        check_prefix(frame, len, len, flags, gso_type, rc, why);
    }
    if (rc) {
        FZ_CHECK(rc == -EINVAL && why != NULL && wants);
        FZ_CHECK(memcmp(f, frame, len) == 0);
        free(f);
        return;
    }
    if (!wants) {
        FZ_CHECK(!o.csum_partial && o.gso_type == XEN_NETIF_GSO_TYPE_NONE);
        FZ_CHECK(memcmp(f, frame, len) == 0);
    } else {
        /* A partial checksum (always, with GSO) at the parsed L4 header. */
        FZ_CHECK(parsed && !h->fragment);
        FZ_CHECK(h->l4_proto == IPPROTO_TCP || h->l4_proto == IPPROTO_UDP);
        FZ_CHECK(o.csum_partial && o.csum_valid && o.csum_start == h->l4_off);
        FZ_CHECK(o.csum_offset == (h->l4_proto == IPPROTO_TCP ? 16 : 6));
        FZ_CHECK((uint32_t)o.csum_start + o.csum_offset + 2 <= len);
        check_only_field(f, frame, len, (uint32_t)o.csum_start + o.csum_offset);
        if (gso_type != XEN_NETIF_GSO_TYPE_NONE) {
            FZ_CHECK(h->l4_proto == IPPROTO_TCP);
            FZ_CHECK(h->ipv6 == (gso_type == XEN_NETIF_GSO_TYPE_TCPV6));
            FZ_CHECK(o.hdr_len == h->l4_end && o.hdr_len <= len);
        }
        /* Completing the checksum in software must give a valid one. */
        uint8_t *c = fz_dup(f, len);
        FZ_CHECK(xnv_csum_complete(c, len, o.csum_start, o.csum_offset) == 0);
        FZ_CHECK(xnv_csum_verify_l4(c, len));
        check_udp_zero(c, h, o.csum_start + o.csum_offset);
        free(c);
    }
    if (o.gso_type == XEN_NETIF_GSO_TYPE_NONE || o.gso_size != 0)
        check_vnet_roundtrip(&o, len);
    check_for_peer(f, len, &o, peer, wants ? h : NULL);
    free(f);
}

static void vnet_path(const uint8_t *frame, uint32_t len, const struct virtio_net_hdr *vh,
                      uint32_t peer)
{
    struct xnv_offload o;
    const char *why = NULL;
    int rc = xnv_offload_from_vnet(vh, len, &o, &why);
    if (rc) {
        FZ_CHECK(rc == -EINVAL && why != NULL);
        return;
    }
    if (o.csum_partial)
        FZ_CHECK((uint32_t)o.csum_start + o.csum_offset + 2 <= len);
    if (o.gso_type != XEN_NETIF_GSO_TYPE_NONE)
        FZ_CHECK(o.gso_size != 0 && o.csum_partial &&
                 (o.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 || o.gso_type == XEN_NETIF_GSO_TYPE_TCPV6));
    check_vnet_roundtrip(&o, len);
    uint8_t *f = fz_dup(frame, len);
    check_for_peer(f, len, &o, peer, NULL);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    uint16_t flags = fz_u16(&in);
    uint8_t gso_type = fz_u8(&in) % 3;
    uint16_t gso_size = fz_u16(&in);
    uint32_t peer = fz_u32(&in);
    struct virtio_net_hdr vh;
    fz_bytes(&in, &vh, sizeof vh);
    uint16_t cs_start = fz_u16(&in), cs_off = fz_u16(&in);
    size_t n;
    const uint8_t *rest = fz_rest(&in, &n);
    uint32_t len = (uint32_t)n;
    uint8_t *frame = fz_dup(rest, len);

    struct xnv_hdrs h;
    bool parsed;
    check_headers(frame, len, &h, &parsed);
    (void)xnv_csum_verify_l4(frame, len);

    uint32_t have = cs_start % (len + 1);
    netif_path(frame, len, false, flags, gso_type, gso_size, peer, &h, parsed, have);
    netif_path(frame, len, true, flags, gso_type, gso_size, peer, &h, parsed, have);
    vnet_path(frame, len, &vh, peer);

    uint8_t *c = fz_dup(frame, len);
    int rc = xnv_csum_complete(c, len, cs_start, cs_off);
    FZ_CHECK((rc == 0) == ((uint32_t)cs_start + cs_off + 2 <= len));
    if (rc == 0)
        check_only_field(c, frame, len, (uint32_t)cs_start + cs_off);
    free(c);
    free(frame);
    return 0;
}
