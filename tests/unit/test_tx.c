/* TX ring parsing: well-formed traffic and hostile-inputs items 1-11. */
#include <check.h>
#include <pthread.h>
#include <string.h>
#include "ring_fixture.h"
#include "xnv/tx.h"

static struct tx_fixture t;
static struct xnv_tx_pkt pkt;

static void setup(void) { tx_fixture_init(&t); }
static void teardown(void) { tx_fixture_free(&t); }

static enum xnv_tx_verdict read_one(void)
{
    return xnv_tx_read(&t.back, tx_push(&t), &pkt);
}

static netif_extra_info_t gso_extra(uint8_t type, uint16_t size, uint8_t flags)
{
    netif_extra_info_t e;
    memset(&e, 0, sizeof e);
    e.type = XEN_NETIF_EXTRA_TYPE_GSO;
    e.flags = flags;
    e.u.gso.type = type;
    e.u.gso.size = size;
    return e;
}

/* A chain: first slot announces `total`, then n more slots of `each` bytes. */
static void put_chain(uint16_t total, unsigned n, uint16_t each)
{
    tx_put(&t, 0, 100, 0, total, n ? NETTXF_more_data : 0);
    for (unsigned i = 1; i <= n; i++)
        tx_put(&t, (uint16_t)i, 100 + i, 0, each, i < n ? NETTXF_more_data : 0);
}

START_TEST(single_slot_packet)
{
    tx_put(&t, 7, 42, 100, 60, NETTXF_data_validated);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.nr_frags, 1);
    ck_assert_uint_eq(pkt.len, 60);
    ck_assert_uint_eq(pkt.frag[0].gref, 42);
    ck_assert_uint_eq(pkt.frag[0].offset, 100);
    ck_assert_uint_eq(pkt.flags, NETTXF_data_validated);
    ck_assert_uint_eq(t.back.req_cons, 1);
    xnv_tx_respond(&t.back, &pkt, NETIF_RSP_OKAY);
    ck_assert_uint_eq(t.back.rsp_prod_pvt, 1);
    ck_assert_uint_eq(RING_GET_RESPONSE(&t.back, 0)->id, 7);
    ck_assert_int_eq(RING_GET_RESPONSE(&t.back, 0)->status, NETIF_RSP_OKAY);
    ck_assert_int_eq(read_one(), XNV_TX_NONE);
}
END_TEST

START_TEST(multi_slot_packet)
{
    tx_put(&t, 1, 10, 0, 3000, NETTXF_more_data | NETTXF_csum_blank);
    tx_put(&t, 2, 11, 96, 1000, NETTXF_more_data);
    tx_put(&t, 3, 12, 0, 500, 0);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.nr_frags, 3);
    ck_assert_uint_eq(pkt.frag[0].len, 1500);
    ck_assert_uint_eq(pkt.frag[1].len, 1000);
    ck_assert_uint_eq(pkt.frag[1].offset, 96);
    ck_assert_uint_eq(pkt.frag[2].len, 500);
    ck_assert_uint_eq(pkt.len, 3000);
    ck_assert_uint_eq(pkt.flags, NETTXF_csum_blank);
    ck_assert_uint_eq(pkt.nr_consumed, 3);
}
END_TEST

START_TEST(gso_extra_and_responses_in_order)
{
    tx_put(&t, 5, 10, 0, 5000, NETTXF_more_data | NETTXF_extra_info | NETTXF_csum_blank);
    netif_extra_info_t e = gso_extra(XEN_NETIF_GSO_TYPE_TCPV4, 1448, 0);
    tx_put_extra(&t, &e);
    tx_put(&t, 6, 11, 0, 4000, 0);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(pkt.gso_size, 1448);
    ck_assert_uint_eq(pkt.len, 5000);
    ck_assert_uint_eq(pkt.nr_consumed, 3);
    xnv_tx_respond(&t.back, &pkt, NETIF_RSP_OKAY);
    ck_assert_uint_eq(RING_GET_RESPONSE(&t.back, 0)->id, 5);
    ck_assert_int_eq(RING_GET_RESPONSE(&t.back, 1)->status, NETIF_RSP_NULL);
    ck_assert_uint_eq(RING_GET_RESPONSE(&t.back, 2)->id, 6);
    ck_assert_int_eq(RING_GET_RESPONSE(&t.back, 2)->status, NETIF_RSP_OKAY);
}
END_TEST

START_TEST(chained_extras_gso_then_hash)
{
    tx_put(&t, 1, 10, 0, 200, NETTXF_extra_info);
    netif_extra_info_t g = gso_extra(XEN_NETIF_GSO_TYPE_TCPV6, 1428, XEN_NETIF_EXTRA_FLAG_MORE);
    tx_put_extra(&t, &g);
    netif_extra_info_t h;
    memset(&h, 0, sizeof h);
    h.type = XEN_NETIF_EXTRA_TYPE_HASH;
    h.u.hash.type = _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP;
    memcpy(h.u.hash.value, "\x01\x02\x03\x04", 4);
    tx_put_extra(&t, &h);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert(pkt.has_hash);
    ck_assert_uint_eq(pkt.hash_type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
    ck_assert_uint_eq(pkt.nr_consumed, 3);
    ck_assert_uint_eq(t.back.req_cons, 3);
}
END_TEST

START_TEST(multicast_add_request)
{
    tx_put(&t, 9, 0, 0, 0, NETTXF_extra_info);
    netif_extra_info_t e;
    memset(&e, 0, sizeof e);
    e.type = XEN_NETIF_EXTRA_TYPE_MCAST_ADD;
    memcpy(e.u.mcast.addr, "\x01\x00\x5e\x00\x00\x01", 6);
    tx_put_extra(&t, &e);
    ck_assert_int_eq(read_one(), XNV_TX_MCAST);
    ck_assert_uint_eq(pkt.mcast_op, XEN_NETIF_EXTRA_TYPE_MCAST_ADD);
    ck_assert_mem_eq(pkt.mcast_addr, "\x01\x00\x5e\x00\x00\x01", 6);
    ck_assert_uint_eq(t.back.req_cons, 2);
}
END_TEST

/* 1 */
START_TEST(hostile01_producer_beyond_ring)
{
    ck_assert(!xnv_ring_indices_ok(257, 0, 256));
    ck_assert(xnv_ring_indices_ok(256, 0, 256));
    ck_assert(xnv_ring_indices_ok(3, 0xfffffffe, 256));   /* wrap-around is fine */
    t.back.sring->req_prod = 300;
    ck_assert_int_eq(xnv_tx_read(&t.back, 300, &pkt), XNV_TX_FATAL);
    ck_assert_ptr_nonnull(pkt.why);
    ck_assert_uint_eq(t.back.req_cons, 0);
}
END_TEST

/* 2 */
START_TEST(hostile02_chain_longer_than_posted)
{
    tx_put(&t, 0, 1, 0, 3000, NETTXF_more_data);
    tx_put(&t, 1, 2, 0, 1000, NETTXF_more_data);   /* announces a third slot never posted */
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
    ck_assert_str_eq(pkt.why, "more_data chain runs past the posted requests");
}
END_TEST

/* 3 */
START_TEST(hostile03_eighteen_slots_accepted)
{
    put_chain(14 + 17 * 100, 17, 100);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.nr_frags, 18);
    ck_assert_uint_eq(pkt.len, 14 + 17 * 100);
}
END_TEST

START_TEST(hostile03_nineteen_slots_dropped)
{
    put_chain(14 + 18 * 100, 18, 100);
    ck_assert_int_eq(read_one(), XNV_TX_DROP);
    ck_assert_uint_eq(pkt.nr_consumed, 19);
    ck_assert_uint_eq(t.back.req_cons, 19);
    xnv_tx_respond(&t.back, &pkt, NETIF_RSP_ERROR);
    for (unsigned i = 0; i < 19; i++)
        ck_assert_int_eq(RING_GET_RESPONSE(&t.back, i)->status, NETIF_RSP_ERROR);
}
END_TEST

START_TEST(hostile03_twenty_slots_fatal)
{
    put_chain(14 + 19 * 100, 19, 100);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
    ck_assert_str_eq(pkt.why, "packet uses 20 or more slots");
}
END_TEST

/* 4 */
START_TEST(hostile04_slot_larger_than_remaining)
{
    put_chain(100, 3, 200);
    tx_put(&t, 50, 1, 0, 60, 0);                    /* the next packet */
    ck_assert_int_eq(read_one(), XNV_TX_DROP);
    ck_assert_uint_eq(pkt.nr_consumed, 4);          /* every slot consumed */
    ck_assert_uint_eq(t.back.req_cons, 4);
    ck_assert_int_eq(xnv_tx_read(&t.back, t.back.sring->req_prod, &pkt), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.slot[0].id, 50);
}
END_TEST

/* A chain already dropped (a later slot larger than the total) stays a
 * drop even though the first slot's unreduced size would cross its page. */
START_TEST(hostile04_drop_stays_a_drop)
{
    tx_put(&t, 1, 10, 2048, 3000, NETTXF_more_data);
    tx_put(&t, 2, 11, 0, 4000, 0);
    ck_assert_int_eq(read_one(), XNV_TX_DROP);
    ck_assert_uint_eq(pkt.nr_consumed, 2);
    ck_assert_uint_eq(t.back.req_cons, 2);
}
END_TEST

START_TEST(hostile04_size_wraps_at_64k)
{
    /* A 70000-byte frame: the 16-bit first size wraps to 4464. */
    put_chain((uint16_t)70000, 17, 4096);
    ck_assert_int_eq(read_one(), XNV_TX_DROP);
    ck_assert_uint_eq(pkt.nr_consumed, 18);
    ck_assert_uint_le(pkt.len, 4464);
}
END_TEST

/* 5 */
START_TEST(hostile05_later_slot_crosses_page)
{
    tx_put(&t, 0, 1, 0, 300, NETTXF_more_data);
    tx_put(&t, 1, 2, 4000, 200, 0);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

START_TEST(hostile05_first_slot_crosses_page)
{
    tx_put(&t, 0, 1, 4090, 60, 0);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

/* 6 */
START_TEST(hostile06_first_slot_below_ethernet_header)
{
    tx_put(&t, 0, 1, 0, 10, 0);
    ck_assert_int_eq(read_one(), XNV_TX_DROP);
    ck_assert_uint_eq(t.back.req_cons, 1);
    /* Also when the first slot's own share of a chain is short. */
    put_chain(20, 1, 10);
    ck_assert_int_eq(xnv_tx_read(&t.back, tx_push(&t), &pkt), XNV_TX_DROP);
}
END_TEST

/* 7 */
START_TEST(hostile07_zero_size_slot)
{
    tx_put(&t, 0, 1, 0, 100, NETTXF_more_data);
    tx_put(&t, 1, 2, 0, 0, NETTXF_more_data);
    tx_put(&t, 2, 3, 0, 40, 0);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.nr_frags, 2);               /* no fragment for the empty slot */
    ck_assert_uint_eq(pkt.len, 100);
    xnv_tx_respond(&t.back, &pkt, NETIF_RSP_ERROR);
    ck_assert_int_eq(RING_GET_RESPONSE(&t.back, 1)->status, NETIF_RSP_OKAY);
    ck_assert_uint_eq(RING_GET_RESPONSE(&t.back, 1)->id, 1);
}
END_TEST

/* 8 */
START_TEST(hostile08_one_byte_slots_no_underflow)
{
    /* A 14-byte head plus 17 one-byte slots: accepted, 31 bytes. */
    put_chain(31, 17, 1);
    ck_assert_int_eq(read_one(), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.len, 31);
    ck_assert_uint_eq(pkt.frag[0].len, 14);
    /* A head plus 18 slots, total <= 128: dropped, nothing underflows. */
    put_chain(100, 18, 1);
    ck_assert_int_eq(xnv_tx_read(&t.back, tx_push(&t), &pkt), XNV_TX_DROP);
    ck_assert_uint_eq(pkt.nr_consumed, 19);
    ck_assert_uint_le(pkt.nr_frags, XNV_TX_MAX_FRAGS);
    ck_assert_uint_le(pkt.len, 100);
    /* Slots claiming more than the head announced: dropped, no wrap. */
    put_chain(20, 3, 10);
    ck_assert_int_eq(xnv_tx_read(&t.back, tx_push(&t), &pkt), XNV_TX_DROP);
    ck_assert_uint_le(pkt.len, 20);
}
END_TEST

/* 9: a thread keeps rewriting the requests while the backend parses them. */
static volatile int racing;
static void *rewrite_requests(void *arg)
{
    netif_tx_request_t *slots = (netif_tx_request_t *)((netif_tx_sring_t *)arg)->ring;
    unsigned x = 1;
    while (racing) {
        x = x * 1103515245u + 12345u;
        netif_tx_request_t *r = &slots[(x >> 8) % 8];
        r->size = (uint16_t)(x >> 7);
        r->offset = (uint16_t)(x >> 11) & 0x1fff;
        r->flags = (uint16_t)(x >> 3) & 0xf;
    }
    return NULL;
}

START_TEST(hostile09_racing_writer)
{
    put_chain(8000, 7, 1000);
    RING_IDX prod = tx_push(&t);
    racing = 1;
    pthread_t th;
    pthread_create(&th, NULL, rewrite_requests, t.page);
    unsigned outcomes[5] = { 0 };
    for (int i = 0; i < 200000; i++) {
        t.back.req_cons = 0;
        enum xnv_tx_verdict v = xnv_tx_read(&t.back, prod, &pkt);
        outcomes[v]++;
        ck_assert_uint_le(pkt.nr_consumed, XNV_TX_MAX_CONSUMED);
        ck_assert_uint_le(pkt.nr_frags, XNV_TX_MAX_FRAGS);
        if (v != XNV_TX_PACKET)
            continue;
        uint32_t sum = 0;
        for (unsigned f = 0; f < pkt.nr_frags; f++) {
            ck_assert_uint_le((uint32_t)pkt.frag[f].offset + pkt.frag[f].len, 4096);
            sum += pkt.frag[f].len;
        }
        ck_assert_uint_eq(sum, pkt.len);
        ck_assert_uint_ge(pkt.frag[0].len, 14);
        ck_assert_uint_le(pkt.len, XNV_TX_MAX_LEN);
    }
    racing = 0;
    pthread_join(th, NULL);
    ck_assert_uint_eq(outcomes[XNV_TX_NONE], 0);
}
END_TEST

/* 10 */
START_TEST(hostile10_extra_without_slot)
{
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

START_TEST(hostile10_extra_type_zero_or_unknown)
{
    netif_extra_info_t e;
    memset(&e, 0, sizeof e);
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    tx_put_extra(&t, &e);                          /* type 0 */
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);

    tx_fixture_free(&t);
    tx_fixture_init(&t);
    e.type = XEN_NETIF_EXTRA_TYPE_MAX;
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    tx_put_extra(&t, &e);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

START_TEST(hostile10_endless_extra_chain)
{
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    netif_extra_info_t g = gso_extra(XEN_NETIF_GSO_TYPE_TCPV4, 1000, XEN_NETIF_EXTRA_FLAG_MORE);
    for (int i = 0; i < 40; i++)
        tx_put_extra(&t, &g);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
    ck_assert_str_eq(pkt.why, "too many extra info slots");
}
END_TEST

/* 11 */
START_TEST(hostile11_gso_size_zero)
{
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    netif_extra_info_t g = gso_extra(XEN_NETIF_GSO_TYPE_TCPV4, 0, 0);
    tx_put_extra(&t, &g);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

START_TEST(hostile11_gso_unknown_type)
{
    tx_put(&t, 0, 1, 0, 100, NETTXF_extra_info);
    netif_extra_info_t g = gso_extra(7, 1000, 0);
    tx_put_extra(&t, &g);
    ck_assert_int_eq(read_one(), XNV_TX_FATAL);
}
END_TEST

Suite *xnv_suite_tx(void)
{
    Suite *s = suite_create("tx");
    TCase *c = tcase_create("read");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, single_slot_packet);
    tcase_add_test(c, multi_slot_packet);
    tcase_add_test(c, gso_extra_and_responses_in_order);
    tcase_add_test(c, chained_extras_gso_then_hash);
    tcase_add_test(c, multicast_add_request);
    tcase_add_test(c, hostile01_producer_beyond_ring);
    tcase_add_test(c, hostile02_chain_longer_than_posted);
    tcase_add_test(c, hostile03_eighteen_slots_accepted);
    tcase_add_test(c, hostile03_nineteen_slots_dropped);
    tcase_add_test(c, hostile03_twenty_slots_fatal);
    tcase_add_test(c, hostile04_slot_larger_than_remaining);
    tcase_add_test(c, hostile04_size_wraps_at_64k);
    tcase_add_test(c, hostile04_drop_stays_a_drop);
    tcase_add_test(c, hostile05_later_slot_crosses_page);
    tcase_add_test(c, hostile05_first_slot_crosses_page);
    tcase_add_test(c, hostile06_first_slot_below_ethernet_header);
    tcase_add_test(c, hostile07_zero_size_slot);
    tcase_add_test(c, hostile08_one_byte_slots_no_underflow);
    tcase_add_test(c, hostile09_racing_writer);
    tcase_add_test(c, hostile10_extra_without_slot);
    tcase_add_test(c, hostile10_extra_type_zero_or_unknown);
    tcase_add_test(c, hostile10_endless_extra_chain);
    tcase_add_test(c, hostile11_gso_size_zero);
    tcase_add_test(c, hostile11_gso_unknown_type);
    suite_add_tcase(s, c);
    return s;
}
