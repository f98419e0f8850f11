/* The switch fast path: guest to guest by grant copy, no TAP, no bridge. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "xnv/features.h"

static struct world w;
static struct tfe a, b;
static int da, db;
static uint8_t frame[70000], got[70000];

/* Two guests on xenbr0: a = ...:01, b = ...:02 (the fixture frames go 01 -> 02). */
static void start(const char *fastpath)
{
    if (fastpath)
        world_init_fastpath(&w, 2, fastpath);
    else
        world_init(&w, 2, 60000);
    world_guest_up(&w, &a, &da, "a", "00:16:3e:00:00:01", true);
    world_guest_up(&w, &b, &db, "b", "00:16:3e:00:00:02", true);
    tfe_post_rx(&b, 0, 128);
}

static void setup_on(void) { start("br1,xenbr0"); }
static void setup_off(void) { start(NULL); }
static void teardown(void)
{
    tfe_free(&a);
    tfe_free(&b);
    world_free(&w);
}

static struct xnv_port *port_of(int dom) { return world_vif_port(&w, dom); }

static int recv_b(uint16_t *flags, uint8_t *gt, uint16_t *gs)
{
    int n = -1;
    for (int i = 0; i < 20000 && n == -1; i++, usleep(100))   /* -1: nothing yet */
        n = tfe_recv(&b, 0, got, sizeof got, flags, gt, gs);
    return n;
}

/* What a's port (the bridge path) got within ms: its length, or -1. */
static int take_a(struct virtio_net_hdr *vh, unsigned ms)
{
    int n = -1;
    for (unsigned i = 0; i < ms * 10 && n < 0; i++, usleep(100))
        n = xnv_memport_take(port_of(da), 0, vh, got, sizeof got);
    return n;
}

static void stats(int dom, struct xnv_queue_stats *s) { xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, s); }

START_TEST(unicast_goes_guest_to_guest)
{
    uint32_t len = build_tcp_frame(frame, 0, 3000);
    tfe_send(&a, 0, frame, len, 1000, NETTXF_data_validated, 0, 0);   /* 4 slots */
    uint16_t fl, gs;
    uint8_t gt;
    ck_assert_int_eq(recv_b(&fl, &gt, &gs), (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert(fl & NETRXF_data_validated);
    ck_assert(tfe_wait_tx_done(&a, 0, 2000));
    ck_assert_uint_eq(tfe_tx_responses(&a, 0, NETIF_RSP_OKAY, NULL), 4);
    struct virtio_net_hdr vh;
    ck_assert_int_lt(xnv_memport_take(port_of(da), 0, &vh, got, sizeof got), 0);   /* not via the TAP */
    struct xnv_queue_stats sa, sb;
    stats(da, &sa);
    stats(db, &sb);
    ck_assert_uint_eq(sa.fastpath_packets, 1);
    ck_assert_uint_eq(sa.tx_packets, 1);
    ck_assert_uint_eq(sb.rx_packets, 1);
    ck_assert_uint_eq(sb.rx_bytes, len);
}
END_TEST

START_TEST(gso_and_partial_checksum_carried)
{
    uint32_t len = build_tcp_frame(frame, 0, 60000);
    tfe_send(&a, 0, frame, len, 4096, NETTXF_csum_blank | NETTXF_data_validated,
             XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    uint16_t fl, gs = 0;
    uint8_t gt;
    ck_assert_int_eq(recv_b(&fl, &gt, &gs), (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert(fl & NETRXF_csum_blank);
    ck_assert_uint_eq(gt, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(gs, 1448);
}
END_TEST

START_TEST(broadcast_and_unknown_take_the_bridge)
{
    uint32_t len = build_udp_frame(frame, 100);
    memset(frame, 0xff, 6);                                  /* broadcast */
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    frame[0] = 0x00; frame[5] = 0x77;                        /* nobody here */
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    int n = -1, taken = 0;
    for (int i = 0; i < 20000 && taken < 2; i++, usleep(100))
        if ((n = xnv_memport_take(port_of(da), 0, &vh, got, sizeof got)) > 0)
            taken++;
    ck_assert_int_eq(taken, 2);
    struct xnv_queue_stats sa;
    stats(da, &sa);
    ck_assert_uint_eq(sa.fastpath_packets, 0);
}
END_TEST

START_TEST(receiver_without_buffers_drops_not_blocks)
{
    uint16_t fl, gs;
    uint8_t gt;
    uint32_t len = build_udp_frame(frame, 1400);
    /* use up b's buffers, then one more */
    for (int i = 0; i < 129; i++)
        tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    ck_assert(tfe_wait_tx_done(&a, 0, 3000));
    struct xnv_queue_stats sb;
    stats(db, &sb);
    ck_assert_uint_eq(sb.rx_packets, 128);
    ck_assert_uint_eq(sb.rx_drops, 1);
    ck_assert_int_eq(recv_b(&fl, &gt, &gs), (int)len);
}
END_TEST

START_TEST(receiver_leaving_falls_back_to_the_bridge)
{
    tfe_set_state(&b, XenbusStateClosed);
    ck_assert(wait_be_state(&w, (xnv_domid_t)db, 0, XenbusStateClosed, 2000));
    uint32_t len = build_udp_frame(frame, 100);
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(take_a(&vh, 2000), (int)len);
}
END_TEST

START_TEST(bad_grant_on_the_fast_path_is_an_error_response)
{
    uint32_t len = build_udp_frame(frame, 5000);
    memcpy(a.q[0].txbuf, frame, 4096);
    netif_tx_request_t r = { .gref = a.q[0].txref[0], .offset = 0, .flags = NETTXF_more_data, .id = 0,
                             .size = (uint16_t)len };
    tfe_raw_tx(&a, 0, &r);
    r = (netif_tx_request_t){ .gref = 77777, .offset = 0, .flags = 0, .id = 1, .size = (uint16_t)(len - 4096) };
    tfe_raw_tx(&a, 0, &r);
    tfe_push_tx(&a, 0);
    ck_assert(tfe_wait_tx_done(&a, 0, 2000));
    ck_assert_uint_eq(tfe_tx_responses(&a, 0, NETIF_RSP_ERROR, NULL), 2);
    uint16_t fl, gs;
    uint8_t gt;
    ck_assert_int_eq(recv_b(&fl, &gt, &gs), -2);           /* b sees an error slot, no data */
}
END_TEST

/* The receiver's RX producer runs more than a ring ahead: a protocol
 * violation found by the sender's thread, fatal for the receiver only; the
 * sender's later frames take the bridge. */
START_TEST(receiver_producer_jump_is_fatal_for_the_receiver)
{
    b.q[0].rx.sring->req_prod += 1000;
    uint32_t len = build_udp_frame(frame, 100);
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)db, 0, XenbusStateClosed, 3000));
    char *e = be_read(&w, (xnv_domid_t)db, 0, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, "RX request producer more than a ring ahead"), "error node \"%s\"", e);
    free(e);
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)da, 0), XenbusStateConnected);
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(take_a(&vh, 2000), (int)len);
}
END_TEST

/* a sends b a frame whose offload flags its headers do not allow: the fast
 * path refuses it as the bridge path does (its one data slot answered with
 * an error, a drop counted, nothing delivered), and so does the bridge path
 * for the same frame towards a MAC not served here. */
static void refused_on_both_paths(uint32_t len, uint8_t gso_type)
{
    for (unsigned path = 0; path < 2; path++) {
        frame[5] = path == 0 ? 0x02 : 0x77;                     /* b; nobody here */
        tfe_send(&a, 0, frame, len, 4096, NETTXF_csum_blank | NETTXF_data_validated, gso_type,
                 gso_type ? 1448 : 0);
        ck_assert(tfe_wait_tx_done(&a, 0, 2000));
        unsigned others = 0;
        ck_assert_uint_eq(tfe_tx_responses(&a, 0, NETIF_RSP_ERROR, &others), 1);
        ck_assert_uint_eq(others, 0);
        struct xnv_queue_stats sa;
        stats(da, &sa);
        ck_assert_uint_eq(sa.tx_drops, path + 1);
        ck_assert_uint_eq(sa.tx_packets + sa.fastpath_packets, 0);
    }
    struct xnv_queue_stats sb;
    stats(db, &sb);
    ck_assert_uint_eq(sb.rx_packets, 0);
    uint16_t fl, gs;
    uint8_t gt;
    ck_assert_int_eq(tfe_recv(&b, 0, got, sizeof got, &fl, &gt, &gs), -1);
    struct virtio_net_hdr vh;
    ck_assert_int_lt(take_a(&vh, 50), 0);
}

START_TEST(partial_checksum_over_garbage_headers_refused)
{
    uint32_t len = build_tcp_frame(frame, 0, 100);
    frame[14] = 0x00;                                           /* IP version 0 */
    refused_on_both_paths(len, XEN_NETIF_GSO_TYPE_NONE);
}
END_TEST

START_TEST(gso_tcpv4_on_udp_refused)
{
    refused_on_both_paths(build_udp_frame(frame, 1000), XEN_NETIF_GSO_TYPE_TCPV4);
}
END_TEST

START_TEST(gso_tcpv6_on_ipv4_refused)
{
    refused_on_both_paths(build_tcp_frame(frame, 0, 1000), XEN_NETIF_GSO_TYPE_TCPV6);
}
END_TEST

START_TEST(gso_over_truncated_tcp_header_refused)
{
    build_tcp_frame(frame, 0, 0);
    refused_on_both_paths(14 + 20 + 10, XEN_NETIF_GSO_TYPE_TCPV4);   /* half a TCP header */
}
END_TEST

/* Headers spread over small slots are gathered and checked: the frame
 * still goes guest to guest, intact. */
START_TEST(offloaded_headers_across_slots_go_fast)
{
    uint32_t len = build_tcp_frame(frame, 1, 200);
    tfe_send(&a, 0, frame, len, 40, NETTXF_csum_blank | NETTXF_data_validated, 0, 0);   /* 7 slots */
    uint16_t fl, gs;
    uint8_t gt;
    ck_assert_int_eq(recv_b(&fl, &gt, &gs), (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert(fl & NETRXF_csum_blank);
    struct xnv_queue_stats sa;
    stats(da, &sa);
    ck_assert_uint_eq(sa.fastpath_packets, 1);
}
END_TEST

/* IPv6 headers deeper than the fast path copies (a 256-byte hop-by-hop
 * option header): the frame takes the bridge path, checked there whole. */
START_TEST(headers_past_the_peek_take_the_bridge)
{
    uint8_t tcp[2000];
    uint32_t tlen = build_tcp_frame(tcp, 1, 300);
    memcpy(frame, tcp, 54);
    frame[14 + 6] = 0;                                          /* next: hop-by-hop */
    uint8_t *ext = frame + 54;
    memset(ext, 0, 256);
    ext[0] = 6;                                                 /* then TCP */
    ext[1] = 256 / 8 - 1;
    ext[2] = 1;                                                 /* PadN over the rest */
    ext[3] = 256 - 4;
    memcpy(frame + 54 + 256, tcp + 54, tlen - 54);
    uint32_t len = tlen + 256;
    frame[14 + 4] = (uint8_t)((len - 54) >> 8);
    frame[14 + 5] = (uint8_t)(len - 54);
    tfe_send(&a, 0, frame, len, 4096, NETTXF_csum_blank | NETTXF_data_validated, 0, 0);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(take_a(&vh, 2000), (int)len);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    ck_assert_uint_eq(vh.csum_start, 54 + 256);
    struct xnv_queue_stats sa;
    stats(da, &sa);
    ck_assert_uint_eq(sa.fastpath_packets, 0);
    ck_assert_uint_eq(sa.tx_packets, 1);
}
END_TEST

START_TEST(disabled_bridge_uses_the_tap)
{
    uint32_t len = build_udp_frame(frame, 100);
    tfe_send(&a, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(take_a(&vh, 2000), (int)len);
}
END_TEST

Suite *xnv_suite_netback_fastpath(void)
{
    Suite *s = suite_create("netback_fastpath");
    TCase *on = tcase_create("on");
    tcase_set_timeout(on, 60);
    tcase_add_checked_fixture(on, setup_on, teardown);
    tcase_add_test(on, unicast_goes_guest_to_guest);
    tcase_add_test(on, gso_and_partial_checksum_carried);
    tcase_add_test(on, broadcast_and_unknown_take_the_bridge);
    tcase_add_test(on, receiver_without_buffers_drops_not_blocks);
    tcase_add_test(on, receiver_leaving_falls_back_to_the_bridge);
    tcase_add_test(on, bad_grant_on_the_fast_path_is_an_error_response);
    tcase_add_test(on, receiver_producer_jump_is_fatal_for_the_receiver);
    tcase_add_test(on, partial_checksum_over_garbage_headers_refused);
    tcase_add_test(on, gso_tcpv4_on_udp_refused);
    tcase_add_test(on, gso_tcpv6_on_ipv4_refused);
    tcase_add_test(on, gso_over_truncated_tcp_header_refused);
    tcase_add_test(on, offloaded_headers_across_slots_go_fast);
    tcase_add_test(on, headers_past_the_peek_take_the_bridge);
    suite_add_tcase(s, on);
    TCase *off = tcase_create("off");
    tcase_add_checked_fixture(off, setup_off, teardown);
    tcase_add_test(off, disabled_bridge_uses_the_tap);
    suite_add_tcase(s, off);
    return s;
}
