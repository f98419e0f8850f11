/* Offload metadata, header parsing and checksums; hostile items 11 and 14. */
#include <check.h>
#include <string.h>
#include "ring_fixture.h"
#include "xnv/features.h"
#include "xnv/offload.h"

static uint8_t f[70000];
static struct xnv_offload o;
static const char *why;

START_TEST(partial_checksum_from_netif_completes_to_valid)
{
    uint32_t len = build_tcp_frame(f, 0, 1000);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why), 0);
    ck_assert(o.csum_partial);
    ck_assert_uint_eq(o.csum_start, 34);
    ck_assert_uint_eq(o.csum_offset, 16);
    ck_assert_int_eq(xnv_csum_complete(f, len, o.csum_start, o.csum_offset), 0);
    ck_assert(xnv_csum_verify_l4(f, len));
    f[60] ^= 0xff;                                   /* corrupt the payload */
    ck_assert(!xnv_csum_verify_l4(f, len));
}
END_TEST

START_TEST(partial_checksum_udp_and_ipv6)
{
    uint32_t len = build_udp_frame(f, 333);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why), 0);
    ck_assert_uint_eq(o.csum_offset, 6);
    xnv_csum_complete(f, len, o.csum_start, o.csum_offset);
    ck_assert(xnv_csum_verify_l4(f, len));
    len = build_tcp_frame(f, 1, 777);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why), 0);
    ck_assert_uint_eq(o.csum_start, 54);
    xnv_csum_complete(f, len, o.csum_start, o.csum_offset);
    ck_assert(xnv_csum_verify_l4(f, len));
}
END_TEST

START_TEST(gso_to_vnet_and_back)
{
    uint32_t len = build_tcp_frame(f, 0, 60000);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank,
                                            XEN_NETIF_GSO_TYPE_TCPV4, 1448, &o, &why), 0);
    ck_assert_uint_eq(o.hdr_len, 54);
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&o, &vh);
    ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(vh.gso_size, 1448);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    struct xnv_offload back;
    ck_assert_int_eq(xnv_offload_from_vnet(&vh, len, &back, &why), 0);
    ck_assert_uint_eq(back.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(back.csum_start, o.csum_start);
    ck_assert_uint_eq(xnv_offload_rx_flags(&back), NETRXF_csum_blank | NETRXF_data_validated);
    ck_assert_uint_eq(xnv_offload_tx_flags(&back), NETTXF_csum_blank | NETTXF_data_validated);
}
END_TEST

START_TEST(data_validated_maps_to_vnet_data_valid)
{
    uint32_t len = build_tcp_frame(f, 0, 10);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_data_validated, 0, 0, &o, &why), 0);
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&o, &vh);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    ck_assert_uint_eq(xnv_offload_rx_flags(&o), NETRXF_data_validated);
}
END_TEST

START_TEST(vnet_header_beyond_frame_rejected)
{
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 90,
                                 .csum_offset = 16 };
    ck_assert_int_eq(xnv_offload_from_vnet(&vh, 100, &o, &why), -EINVAL);
    vh = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_UDP, .gso_size = 100 };
    ck_assert_int_eq(xnv_offload_from_vnet(&vh, 100, &o, &why), -EINVAL);
}
END_TEST

START_TEST(peer_without_csum_offload_gets_full_checksum)
{
    uint32_t len = build_tcp_frame(f, 0, 500);
    xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why);
    ck_assert_int_eq(xnv_offload_for_peer(f, len, &o, XNV_F_NO_CSUM), 0);
    ck_assert(!o.csum_partial);
    ck_assert(o.csum_valid);
    ck_assert(xnv_csum_verify_l4(f, len));
    /* IPv6 partial checksum to a peer without ipv6 csum offload. */
    len = build_tcp_frame(f, 1, 500);
    xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why);
    ck_assert_int_eq(xnv_offload_for_peer(f, len, &o, 0), 0);
    ck_assert(xnv_csum_verify_l4(f, len));
    /* GSO to a peer that cannot take it. */
    len = build_tcp_frame(f, 1, 5000);
    xnv_offload_from_netif(f, len, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1400, &o, &why);
    ck_assert_int_eq(xnv_offload_for_peer(f, len, &o, XNV_F_GSO_TCPV4), -EOPNOTSUPP);
}
END_TEST

/* A UDP checksum completed in software is never 0 (that means "none"). */
START_TEST(completed_udp_checksum_is_never_zero)
{
    uint32_t len = build_udp_frame(f, 40);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank, 0, 0, &o, &why), 0);
    /* Make the sum over the segment 0xffff: put the complement of the rest in
     * the last payload word, so that the completed checksum would be 0. */
    f[len - 2] = f[len - 1] = 0;
    uint16_t rest = xnv_csum_fold(xnv_csum_add(0, f + o.csum_start, len - o.csum_start));
    f[len - 2] = (uint8_t)(~rest >> 8);
    f[len - 1] = (uint8_t)~rest;
    struct xnv_offload o2 = o;
    ck_assert_int_eq(xnv_offload_for_peer(f, len, &o2, XNV_F_NO_CSUM), 0);
    ck_assert(!o2.csum_partial);
    ck_assert_uint_eq(f[o.csum_start + 6], 0xff);
    ck_assert_uint_eq(f[o.csum_start + 7], 0xff);
    ck_assert(xnv_csum_verify_l4(f, len));
}
END_TEST

/* 11: a GSO packet with no L4 header is dropped. */
START_TEST(hostile11_gso_without_l4_header)
{
    uint32_t len = build_udp_frame(f, 3000);
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank,
                                            XEN_NETIF_GSO_TYPE_TCPV4, 1448, &o, &why), -EINVAL);
    len = build_tcp_frame(f, 0, 100);
    ck_assert_int_eq(xnv_offload_from_netif(f, 40, NETTXF_csum_blank,   /* TCP header cut */
                                            XEN_NETIF_GSO_TYPE_TCPV4, 1448, &o, &why), -EINVAL);
    /* GSO v6 announced on an IPv4 frame. */
    ck_assert_int_eq(xnv_offload_from_netif(f, len, NETTXF_csum_blank,
                                            XEN_NETIF_GSO_TYPE_TCPV6, 1448, &o, &why), -EINVAL);
}
END_TEST

/* 14: csum_blank on garbage headers is dropped, whatever the garbage. */
START_TEST(hostile14_csum_blank_on_garbage)
{
    uint32_t len = build_tcp_frame(f, 0, 100);
    uint8_t g[200];
    memcpy(g, f, len);
    g[14] = 0x4f;                                     /* IHL 60 bytes: past the TCP header */
    g[17] = 30;
    ck_assert_int_eq(xnv_offload_from_netif(g, 60, NETTXF_csum_blank, 0, 0, &o, &why), -EINVAL);
    memcpy(g, f, len);
    g[12] = 0x12;                                     /* unknown ethertype */
    ck_assert_int_eq(xnv_offload_from_netif(g, len, NETTXF_csum_blank, 0, 0, &o, &why), -EINVAL);
    memset(g, 0xff, sizeof g);
    ck_assert_int_eq(xnv_offload_from_netif(g, sizeof g, NETTXF_csum_blank, 0, 0, &o, &why), -EINVAL);
    ck_assert_ptr_nonnull(why);
    /* Every truncation of a valid frame parses or fails cleanly (ASan guards). */
    for (uint32_t l = 0; l <= len; l++) {
        memcpy(g, f, len);
        int rc = xnv_offload_from_netif(g, l, NETTXF_csum_blank, 0, 0, &o, &why);
        ck_assert(rc == 0 || rc == -EINVAL);
        if (l < 54)
            ck_assert_int_eq(rc, -EINVAL);
    }
}
END_TEST

START_TEST(ipv6_extension_headers_skipped)
{
    uint32_t len = build_tcp_frame(f, 1, 50);
    /* insert a hop-by-hop header of 8 bytes after the IPv6 header */
    memmove(f + 62, f + 54, len - 54);
    f[54] = 6;                 /* next: TCP */
    f[55] = 0;                 /* 8 bytes */
    memset(f + 56, 0, 6);
    f[14 + 6] = 0;             /* IPv6 next header: hop-by-hop */
    struct xnv_hdrs h;
    ck_assert_int_eq(xnv_parse_headers(f, len + 8, &h), 0);
    ck_assert_uint_eq(h.l4_off, 62);
    ck_assert_uint_eq(h.l4_proto, 6);
}
END_TEST

/* Checked from its first bytes, a frame gets xnv_offload_from_netif's
 * verdict and reason, the frame left as it was; with too few bytes to see
 * its headers, -EAGAIN rather than a refusal. */
START_TEST(check_from_the_first_bytes_agrees)
{
    static const struct { bool v6, udp; uint32_t cut; uint16_t flags; uint8_t gso; } cases[] = {
        { false, false, 0, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4 },
        { true, false, 0, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6 },
        { false, true, 0, NETTXF_csum_blank, 0 },
        { false, true, 0, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4 },   /* GSO on UDP */
        { false, false, 0, 0, XEN_NETIF_GSO_TYPE_TCPV6 },                  /* v6 GSO on IPv4 */
        { false, false, 44, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4 }, /* half a TCP header */
        { false, false, 0, NETTXF_data_validated, 0 },                     /* nothing to check */
    };
    uint8_t g[2000];
    for (unsigned i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t len = cases[i].udp ? build_udp_frame(f, 1000) : build_tcp_frame(f, cases[i].v6, 1000);
        if (cases[i].cut)
            len = cases[i].cut;
        memcpy(g, f, len);
        const char *want_why = NULL, *got_why = NULL;
        int want = xnv_offload_from_netif(g, len, cases[i].flags, cases[i].gso, 1448, &o, &want_why);
        struct xnv_hdrs h;
        int rc = xnv_offload_check_netif(f, 256, len, cases[i].flags, cases[i].gso, &h, &got_why);
        ck_assert_msg(rc == want, "case %u: %d, xnv_offload_from_netif %d", i, rc, want);
        if (want)
            ck_assert_str_eq(got_why, want_why);
        uint8_t fresh[2000];
        uint32_t flen = cases[i].udp ? build_udp_frame(fresh, 1000) : build_tcp_frame(fresh, cases[i].v6, 1000);
        ck_assert_mem_eq(f, fresh, len < flen ? len : flen);               /* nothing written */
    }
    uint32_t len = build_tcp_frame(f, 1, 1000);
    struct xnv_hdrs h;
    ck_assert_int_eq(xnv_offload_check_netif(f, 64, len, NETTXF_csum_blank, 0, &h, &why), -EAGAIN);
    ck_assert_int_eq(xnv_offload_check_netif(f, 74, len, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, &h,
                                             &why), 0);
    ck_assert(h.ipv6);
    ck_assert_uint_eq(h.l4_end, 74);
}
END_TEST

Suite *xnv_suite_offload(void)
{
    Suite *s = suite_create("offload");
    TCase *c = tcase_create("offload");
    tcase_add_test(c, partial_checksum_from_netif_completes_to_valid);
    tcase_add_test(c, partial_checksum_udp_and_ipv6);
    tcase_add_test(c, gso_to_vnet_and_back);
    tcase_add_test(c, data_validated_maps_to_vnet_data_valid);
    tcase_add_test(c, vnet_header_beyond_frame_rejected);
    tcase_add_test(c, peer_without_csum_offload_gets_full_checksum);
    tcase_add_test(c, hostile11_gso_without_l4_header);
    tcase_add_test(c, hostile14_csum_blank_on_garbage);
    tcase_add_test(c, ipv6_extension_headers_skipped);
    tcase_add_test(c, completed_udp_checksum_is_never_zero);
    tcase_add_test(c, check_from_the_first_bytes_agrees);
    suite_add_tcase(s, c);
    return s;
}
