/* Hostile transmit rings end to end through the netback engine: each of
 * hostile-inputs items 2-4, 6-12 and 14 is written into a live vif's TX ring,
 * its outcome checked (fatal: the vif is Closed with an error naming the
 * fault; drop: every slot answered with an error and the vif still serving),
 * and an honest vif beside it keeps its traffic flowing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"

static struct world w;
static struct tfe bad, good;
static int bad_dom, good_dom;
static uint8_t frame[70000], got[70000];

static void setup(void)
{
    world_init(&w, 2, 60000);
    world_two_guests(&w, &bad, &bad_dom, &good, &good_dom, true);
}

static void teardown(void)
{
    tfe_free(&bad);
    tfe_free(&good);
    world_free(&w);
}

static struct xnv_port *port_of(int dom) { return world_vif_port(&w, dom); }

static void innocent_flows(void)
{
    uint32_t len = build_udp_frame(frame, 200);
    ck_assert_int_eq(tfe_frame_to_port(&w, &good, good_dom, frame, len, got, sizeof got), (int)len);
}

/* The hostile vif still carries a good packet after its bad one. */
static void bad_vif_still_serves(void)
{
    uint32_t len = build_udp_frame(frame, 100);
    ck_assert_int_eq(tfe_frame_to_port(&w, &bad, bad_dom, frame, len, got, sizeof got), (int)len);
}

static void req(uint16_t id, uint16_t off, uint16_t size, uint16_t flags)
{
    netif_tx_request_t r = { .gref = bad.q[0].txref[id % TFE_BUFS], .offset = off, .flags = flags,
                             .id = id, .size = size };
    tfe_raw_tx(&bad, 0, &r);
}

static void extra(uint8_t type, uint8_t flags, uint16_t gso_size, uint8_t gso_type)
{
    netif_extra_info_t e;
    memset(&e, 0, sizeof e);
    e.type = type;
    e.flags = flags;
    e.u.gso.size = gso_size;
    e.u.gso.type = gso_type;
    if (type == XEN_NETIF_EXTRA_TYPE_MCAST_ADD)
        memcpy(e.u.mcast.addr, "\x01\x00\x5e\x00\x00\x01", 6);
    netif_tx_request_t r;
    memcpy(&r, &e, sizeof e);
    tfe_raw_tx(&bad, 0, &r);
}

static void expect_fatal(const char *needle)
{
    tfe_push_tx(&bad, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateClosed, 3000));
    char *e = be_read(&w, (xnv_domid_t)bad_dom, 0, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, needle), "error \"%s\" lacks \"%s\"", e, needle);
    free(e);
    innocent_flows();
}

/* Every slot answered: `errors` of them with an error, the vif still up. */
static void expect_errors(unsigned errors)
{
    tfe_push_tx(&bad, 0);
    ck_assert(tfe_wait_tx_done(&bad, 0, 3000));
    unsigned others = 0;
    ck_assert_uint_eq(tfe_tx_responses(&bad, 0, NETIF_RSP_ERROR, &others), errors);
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)bad_dom, 0), XenbusStateConnected);
    bad_vif_still_serves();
    innocent_flows();
}

START_TEST(hostile02_chain_longer_than_posted) {
    req(0, 0, 3000, NETTXF_more_data);
    req(1, 0, 1000, NETTXF_more_data);            /* the chain goes on, nothing posted */
    expect_fatal("more_data chain runs past");
} END_TEST

START_TEST(hostile03_nineteen_slots_dropped) {
    req(0, 0, 14 + 18 * 100, NETTXF_more_data);
    for (uint16_t i = 1; i <= 18; i++)
        req(i, 0, 100, i < 18 ? NETTXF_more_data : 0);
    expect_errors(19);
} END_TEST

START_TEST(hostile03_twenty_slots_fatal) {
    req(0, 0, 14 + 19 * 100, NETTXF_more_data);
    for (uint16_t i = 1; i <= 19; i++)
        req(i, 0, 100, i < 19 ? NETTXF_more_data : 0);
    expect_fatal("20 or more slots");
} END_TEST

START_TEST(hostile04_slot_larger_than_remaining) {
    req(0, 0, 100, NETTXF_more_data);
    req(1, 0, 200, NETTXF_more_data);
    req(2, 0, 300, 0);
    expect_errors(3);
} END_TEST

START_TEST(hostile06_first_slot_below_ethernet_header) {
    req(0, 0, 10, 0);
    expect_errors(1);
} END_TEST

START_TEST(hostile07_zero_size_slot_answered_okay) {
    uint32_t len = build_udp_frame(frame, 100);
    memcpy(bad.q[0].txbuf, frame, len);
    req(0, 0, (uint16_t)len, NETTXF_more_data);
    req(1, 0, 0, 0);                              /* empty: OKAY, no fragment */
    tfe_push_tx(&bad, 0);
    ck_assert(tfe_wait_tx_done(&bad, 0, 3000));
    unsigned others = 0;
    ck_assert_uint_eq(tfe_tx_responses(&bad, 0, NETIF_RSP_OKAY, &others), 2);
    ck_assert_uint_eq(others, 0);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = xnv_memport_take(port_of(bad_dom), 0, &vh, got, sizeof got);
    ck_assert_int_eq(n, (int)len);
    innocent_flows();
} END_TEST

START_TEST(hostile08_one_byte_slots) {
    req(0, 0, 100, NETTXF_more_data);             /* head + 18 slots of one byte */
    for (uint16_t i = 1; i <= 18; i++)
        req(i, 0, 1, i < 18 ? NETTXF_more_data : 0);
    expect_errors(19);
} END_TEST

START_TEST(hostile10_extra_without_slot) {
    req(0, 0, 100, NETTXF_extra_info);
    expect_fatal("no slot posted");
} END_TEST

START_TEST(hostile10_unknown_extra_type) {
    req(0, 0, 100, NETTXF_extra_info);
    extra(XEN_NETIF_EXTRA_TYPE_MAX, 0, 0, 0);
    expect_fatal("extra info of type 0 or beyond");
} END_TEST

START_TEST(hostile11_gso_size_zero) {
    req(0, 0, 100, NETTXF_extra_info);
    extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 0, XEN_NETIF_GSO_TYPE_TCPV4);
    expect_fatal("GSO extra with size 0");
} END_TEST

START_TEST(hostile11_gso_without_l4_header) {
    uint32_t len = build_udp_frame(frame, 3000);   /* GSO TCPv4 announced on UDP */
    memcpy(bad.q[0].txbuf, frame, 4096);
    req(0, 0, (uint16_t)len, NETTXF_extra_info | NETTXF_csum_blank);
    extra(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1448, XEN_NETIF_GSO_TYPE_TCPV4);
    expect_errors(1);
} END_TEST

START_TEST(hostile12_multicast_filter_overflow) {
    for (unsigned i = 0; i < 70; i++) {
        req((uint16_t)(2 * i), 0, 0, NETTXF_extra_info);
        netif_extra_info_t e;
        memset(&e, 0, sizeof e);
        e.type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
        uint8_t a[6] = { 0x01, 0x00, 0x5e, 0, (uint8_t)(i >> 8), (uint8_t)i };
        memcpy(e.u.mcast.addr, a, 6);
        netif_tx_request_t r;
        memcpy(&r, &e, sizeof e);
        tfe_raw_tx(&bad, 0, &r);
    }
    expect_errors(70 - 64);                       /* the filter holds 64 */
} END_TEST

START_TEST(hostile14_csum_blank_on_garbage) {
    memset(bad.q[0].txbuf, 0xee, 200);
    req(0, 0, 200, NETTXF_csum_blank);
    expect_errors(1);
} END_TEST

Suite *xnv_suite_netback_hostile_tx(void)
{
    Suite *s = suite_create("netback_hostile_tx");
    TCase *c = tcase_create("ring");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, hostile02_chain_longer_than_posted);
    tcase_add_test(c, hostile03_nineteen_slots_dropped);
    tcase_add_test(c, hostile03_twenty_slots_fatal);
    tcase_add_test(c, hostile04_slot_larger_than_remaining);
    tcase_add_test(c, hostile06_first_slot_below_ethernet_header);
    tcase_add_test(c, hostile07_zero_size_slot_answered_okay);
    tcase_add_test(c, hostile08_one_byte_slots);
    tcase_add_test(c, hostile10_extra_without_slot);
    tcase_add_test(c, hostile10_unknown_extra_type);
    tcase_add_test(c, hostile11_gso_size_zero);
    tcase_add_test(c, hostile11_gso_without_l4_header);
    tcase_add_test(c, hostile12_multicast_filter_overflow);
    tcase_add_test(c, hostile14_csum_blank_on_garbage);
    suite_add_tcase(s, c);
    return s;
}
