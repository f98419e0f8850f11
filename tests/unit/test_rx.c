/* RX placement: slots, GSO extra, flags, responses in request slots. */
#include <check.h>
#include <string.h>
#include "copy_helpers.h"
#include "ring_fixture.h"
#include "xnv/copy_batch.h"
#include "xnv/rx.h"

static struct rx_fixture r;
static struct xnv_copy_batch b;
static uint8_t data[65536];

static netif_extra_info_t extra_at(RING_IDX i)
{
    netif_extra_info_t e;
    memcpy(&e, RING_GET_RESPONSE(&r.back, i), sizeof e);
    return e;
}

static void setup(void) { rx_fixture_init(&r); xnv_copy_batch_init(&b, 64); }
static void teardown(void) { rx_fixture_free(&r); xnv_copy_batch_free(&b); }

START_TEST(small_frame_one_slot)
{
    RING_IDX prod = rx_post(&r, 4, 10);
    struct xnv_rx_meta m = { .flags = NETRXF_data_validated };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, prod, 3, data, 1500, &m, &b, 0, &p), 0);
    ck_assert_uint_eq(p.nr_slots, 1);
    ck_assert_uint_eq(b.n, 1);
    ck_assert_uint_eq(b.seg[0].flags, GNTCOPY_dest_gref);
    ck_assert_uint_eq(b.seg[0].dest.foreign.ref, 10);
    ck_assert_uint_eq(b.seg[0].dest.foreign.domid, 3);
    ck_assert_uint_eq(b.seg[0].len, 1500);
    netif_rx_response_t *rsp = RING_GET_RESPONSE(&r.back, 0);
    ck_assert_uint_eq(rsp->id, 10);
    ck_assert_int_eq(rsp->status, 1500);
    ck_assert_uint_eq(rsp->flags, NETRXF_data_validated);
}
END_TEST

START_TEST(gso_frame_spans_slots_with_extra)
{
    RING_IDX prod = rx_post(&r, 32, 100);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated,
                             .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1448 };
    ck_assert_uint_eq(xnv_rx_slots(65000, &m), 17);
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, prod, 3, data, 65000, &m, &b, 0, &p), 0);
    ck_assert_uint_eq(p.nr_slots, 17);
    ck_assert_uint_eq(b.n, 16);
    netif_rx_response_t *first = RING_GET_RESPONSE(&r.back, 0);
    ck_assert_uint_eq(first->flags, NETRXF_csum_blank | NETRXF_data_validated |
                                    NETRXF_extra_info | NETRXF_more_data);
    netif_extra_info_t e = extra_at(1);
    ck_assert_uint_eq(e.type, XEN_NETIF_EXTRA_TYPE_GSO);
    ck_assert_uint_eq(e.u.gso.size, 1448);
    ck_assert_uint_eq(e.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
    uint32_t total = 0;
    for (unsigned i = 0; i < 17; i++) {
        if (i == 1)
            continue;
        netif_rx_response_t *rsp = RING_GET_RESPONSE(&r.back, i);
        ck_assert_uint_eq(rsp->id, 100 + i);            /* the slot of its request */
        ck_assert_uint_eq(rsp->offset, 0);
        total += (uint32_t)rsp->status;
        ck_assert_uint_eq(!!(rsp->flags & NETRXF_more_data), i != 16);
    }
    ck_assert_uint_eq(total, 65000);
    /* the second data chunk comes from data + 4096 into the third posted buffer */
    ck_assert_ptr_eq(b.seg[1].source.virt, data + 4096);
    ck_assert_uint_eq(b.seg[1].dest.foreign.ref, 102);
}
END_TEST

START_TEST(not_enough_buffers_consumes_nothing)
{
    RING_IDX prod = rx_post(&r, 1, 0);
    struct xnv_rx_meta m = { 0 };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, prod, 3, data, 5000, &m, &b, 0, &p), -EAGAIN);
    ck_assert_uint_eq(r.back.req_cons, 0);
    ck_assert_uint_eq(b.n, 0);
}
END_TEST

/* 17: exactly one slot free while the next frame needs two. */
START_TEST(hostile17_one_slot_short)
{
    RING_IDX prod = rx_post(&r, 1, 0);
    struct xnv_rx_meta m = { .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1000 };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, prod, 3, data, 3000, &m, &b, 0, &p), -EAGAIN);
    ck_assert_uint_eq(r.back.rsp_prod_pvt, 0);
}
END_TEST

START_TEST(producer_beyond_ring_is_protocol_error)
{
    struct xnv_rx_meta m = { 0 };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, 1000, 3, data, 100, &m, &b, 0, &p), -EPROTO);
}
END_TEST

START_TEST(batch_full_consumes_nothing)
{
    RING_IDX prod = rx_post(&r, 64, 0);
    struct xnv_copy_batch small;
    xnv_copy_batch_init(&small, 2);
    struct xnv_rx_meta m = { 0 };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&r.back, prod, 3, data, 9000, &m, &small, 0, &p), -ENOSPC);
    ck_assert_uint_eq(r.back.req_cons, 0);
    xnv_copy_batch_free(&small);
}
END_TEST

/* 18 + failed copy: responses stay in their slots, data slots turn to errors. */
START_TEST(hostile18_failed_copy_marks_errors_in_place)
{
    RING_IDX prod = rx_post(&r, 8, 20);
    struct xnv_rx_meta m = { .gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1400 };
    struct xnv_rx_placed p1, p2;
    xnv_rx_place(&r.back, prod, 3, data, 5000, &m, &b, 0, &p1);
    struct xnv_rx_meta plain = { 0 };
    xnv_rx_place(&r.back, prod, 3, data, 100, &plain, &b, 1, &p2);
    ck_assert_uint_eq(p2.first, 3);
    b.seg[0].status = GNTST_okay;
    b.seg[1].status = GNTST_bad_gntref;
    b.seg[2].status = GNTST_okay;
    ck_assert(!copy_batch_pkt_ok(&b, 0));
    ck_assert(copy_batch_pkt_ok(&b, 1));
    bool failed[2] = { false, false };
    xnv_copy_batch_failures(&b, failed, 2);
    ck_assert(failed[0] && !failed[1]);
    xnv_rx_fail(&r.back, &p1);
    ck_assert_int_eq(RING_GET_RESPONSE(&r.back, 0)->status, NETIF_RSP_ERROR);
    ck_assert_uint_eq(extra_at(1).type, XEN_NETIF_EXTRA_TYPE_GSO);
    ck_assert_int_eq(RING_GET_RESPONSE(&r.back, 2)->status, NETIF_RSP_ERROR);
    ck_assert_int_eq(RING_GET_RESPONSE(&r.back, 3)->status, 100);
    ck_assert_uint_eq(RING_GET_RESPONSE(&r.back, 3)->id, 23);
}
END_TEST


/* Scattered grant sources (the switch fast path): segments cut at both
 * sides' boundaries, never crossing a destination page. */
START_TEST(scattered_sources_grant_to_grant)
{
    RING_IDX prod = rx_post(&r, 8, 40);
    struct xnv_rx_src src[3] = {
        { .local = data, .len = 64 },                                   /* header copied locally */
        { .dom = 7, .ref = 500, .offset = 64 + 100, .len = 4096 - 164 },
        { .dom = 7, .ref = 501, .offset = 0, .len = 3000 },
    };
    uint32_t len = 64 + (4096 - 164) + 3000;
    struct xnv_rx_meta m = { .flags = NETRXF_data_validated };
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place_sg(&r.back, prod, 3, src, 3, len, &m, &b, 0, &p), 0);
    ck_assert_uint_eq(p.nr_slots, 2);
    uint32_t per_page[2] = { 0, 0 };
    for (unsigned i = 0; i < b.n; i++) {
        xengnttab_grant_copy_segment_t *s = &b.seg[i];
        ck_assert_uint_gt(s->len, 0);
        ck_assert_uint_le((uint32_t)s->dest.foreign.offset + s->len, 4096);
        if (s->flags & GNTCOPY_source_gref) {
            ck_assert_uint_le((uint32_t)s->source.foreign.offset + s->len, 4096);
            ck_assert_uint_eq(s->source.foreign.domid, 7);
        }
        per_page[s->dest.foreign.ref - 40] += s->len;
    }
    ck_assert_uint_eq(per_page[0], 4096);
    ck_assert_uint_eq(per_page[1], len - 4096);
    ck_assert_uint_le(b.n, 2 + 3 - 1);
    ck_assert_uint_eq(b.seg[0].flags, GNTCOPY_dest_gref);
    ck_assert_uint_eq(b.seg[1].flags, GNTCOPY_source_gref | GNTCOPY_dest_gref);
}
END_TEST

Suite *xnv_suite_rx(void)
{
    Suite *s = suite_create("rx");
    TCase *c = tcase_create("place");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, small_frame_one_slot);
    tcase_add_test(c, gso_frame_spans_slots_with_extra);
    tcase_add_test(c, not_enough_buffers_consumes_nothing);
    tcase_add_test(c, hostile17_one_slot_short);
    tcase_add_test(c, producer_beyond_ring_is_protocol_error);
    tcase_add_test(c, batch_full_consumes_nothing);
    tcase_add_test(c, hostile18_failed_copy_marks_errors_in_place);
    tcase_add_test(c, scattered_sources_grant_to_grant);
    suite_add_tcase(s, c);
    return s;
}
