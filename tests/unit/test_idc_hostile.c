/* A hostile peer on each side of a direct channel: every value it publishes
 * and every ring field it writes.  The victim (g0) never crashes, never
 * loses more than the channel to that peer, and keeps its channel with the
 * honest guest (g1) working. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "idc_fixture.h"
#include "copy_helpers.h"
#include "idc_hpeer.h"
#include "xnv/copy_batch.h"
#include "xnv/rx.h"

static struct idc_world W;
static struct idc_guest *vic, *good, *bad;
static uint8_t frame[70000], got[70000];

static struct hpeer H;               /* the hostile guest's own resources */

static void setup(void)
{
    idcw_init(&W, "xenbr0", 3);
    W.opt.stall_ms = 200;
    W.opt.retry_ms = 60000;
    vic = &W.g[0];
    good = &W.g[1];
    bad = &W.g[2];
    /* The hostile guest asks for channels by hand and runs no channel code. */
    hpeer_world_up(&W, &H, NULL);
}

static void teardown(void)
{
    hpeer_free(&H);
    idcw_free(&W);
}

static void still_fine(void) { idcw_works(&W, vic, good); }

static int send_to_bad(uint32_t len)
{
    idcw_frame(frame, len, bad, vic);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    return xnv_idc_send(vic->idc, &f);
}

static enum xnv_idc_dir_state vic_state(bool tx)
{
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)bad->dom, &pi), 0);
    return tx ? pi.tx : pi.rx;
}

/* ---- the hostile receiver: what it publishes ---------------------------------- */

static bool wait_tx(enum xnv_idc_dir_state st)
{
    for (int i = 0; i < 2000; i++) {
        idcw_pump(&W, 1);
        if (vic_state(true) == st)
            return true;
    }
    return false;
}

START_TEST(malformed_publications_are_refused)
{
    static const char *const bad_values[][3] = {
        { "x", "1", "1" }, { "", "1", "2" }, { "-1", "1", "3" }, { "4294967296", "1", "4" },
        { "12abc", "1", "5" }, { "1", "99999999999", "6" }, { "1", "1", "18446744073709551616" },
        { "1 ", "1", "8" },
    };
    for (unsigned i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        hpeer_publish(&H, bad_values[i][0], bad_values[i][1], bad_values[i][2]);
        ck_assert_msg(wait_tx(XNV_IDC_FAILED), "case %u", i);
        ck_assert_int_eq(send_to_bad(1514), 0);
    }
    /* A half publication is no publication. */
    hpeer_publish(&H, "5", NULL, "9");
    ck_assert(wait_tx(XNV_IDC_DOWN));
    ck_assert_int_eq(send_to_bad(1514), 0);
    still_fine();
}
END_TEST

START_TEST(ungranted_ring_or_port_is_refused)
{
    hpeer_publish(&H, "4000", "1", "1");                  /* no such grant */
    ck_assert(wait_tx(XNV_IDC_FAILED));
    ck_assert_int_eq(send_to_bad(1514), 0);
    hpeer_ring(&H, 8, 0);
    char r[16];
    snprintf(r, sizeof r, "%u", H.ring_ref);
    hpeer_publish(&H, r, "4000", "77");                   /* no such port */
    ck_assert(wait_tx(XNV_IDC_FAILED));
    ck_assert_int_eq(send_to_bad(1514), 0);
    still_fine();
}
END_TEST

START_TEST(honest_ring_built_by_hand_works)
{
    hpeer_ring(&H, 32, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    ck_assert_int_eq(send_to_bad(6000), 1);
    netif_rx_response_t *r0 = RING_GET_RESPONSE(&H.front, 0), *r1 = RING_GET_RESPONSE(&H.front, 1);
    ck_assert_int_eq(H.front.sring->rsp_prod, 2);
    ck_assert_int_eq(r0->status, 4096);
    ck_assert_uint_eq(r0->id, 0xff00);
    ck_assert_int_eq(r1->status, 6000 - 4096);
}
END_TEST

START_TEST(producer_far_ahead_closes_the_channel)
{
    hpeer_ring(&H, 8, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    ((netif_rx_sring_t *)H.ring)->req_prod = 1000;
    ck_assert_int_eq(send_to_bad(1514), 0);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    still_fine();
}
END_TEST

START_TEST(bogus_buffer_grant_sends_the_frame_to_the_vif)
{
    hpeer_ring(&H, 32, 31337);
    ck_assert(wait_tx(XNV_IDC_UP));
    ck_assert_int_eq(send_to_bad(1514), 0);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    /* The slot went back, answered with an error. */
    ck_assert_int_eq(RING_GET_RESPONSE(&H.front, 0)->status, NETIF_RSP_ERROR);
    still_fine();
}
END_TEST

START_TEST(revoked_buffer_sends_the_frame_to_the_vif)
{
    hpeer_ring(&H, 32, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    ck_assert_int_eq(send_to_bad(1514), 1);
    ck_assert_int_eq(xnv_sim_gnt_revoke(W.w.sim, (xnv_domid_t)bad->dom, H.buf_ref[1]), 0);
    ck_assert_int_eq(send_to_bad(1514), 0);
    still_fine();
}
END_TEST

/* One buffer posted: a 9000-byte frame waits until stall_ms, then takes the vif. */
static void stall(void)
{
    hpeer_ring(&H, 1, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    int rc;
    for (int i = 0; i < 2000 && (rc = send_to_bad(9000)) == -EAGAIN; i++)
        usleep(1000);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
}

START_TEST(too_few_buffers_stall_then_fall_back)
{
    stall();
    still_fine();
}
END_TEST

/* One batch to both peers, the hostile one's second buffer revoked: the
 * copy into it fails, and only that frame and that peer pay.  Frames: good,
 * bad (buffer 0: fine), good, bad (buffer 1: revoked), good. */
START_TEST(failed_copy_costs_only_its_own_frame_and_peer)
{
    hpeer_ring(&H, 32, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    ck_assert_int_eq(xnv_sim_gnt_revoke(W.w.sim, (xnv_domid_t)bad->dom, H.buf_ref[1]), 0);
    static uint8_t fr[5][1514];
    struct idc_guest *to[5] = { good, bad, good, bad, good };
    struct xnv_nf_frame f[5];
    for (int i = 0; i < 5; i++) {
        idcw_frame(fr[i], 1514, to[i], vic);
        fr[i][1000] = (uint8_t)(0xa0 + i);
        f[i] = (struct xnv_nf_frame){ .data = fr[i], .len = 1514 };
    }
    int v[5];
    ck_assert_int_eq(xnv_idc_send_many(vic->idc, f, 5, v), 4);
    ck_assert_int_eq(v[0], 1);
    ck_assert_int_eq(v[1], 1);
    ck_assert_int_eq(v[2], 1);
    ck_assert_int_eq(v[3], 0);          /* never copied: the vif's */
    ck_assert_int_eq(v[4], 1);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    /* The hostile ring: its first frame delivered, the second answered as an error. */
    ck_assert_int_eq(H.front.sring->rsp_prod, 2);
    ck_assert_int_eq(RING_GET_RESPONSE(&H.front, 0)->status, 1514);
    ck_assert_int_eq(RING_GET_RESPONSE(&H.front, 1)->status, NETIF_RSP_ERROR);
    /* The honest peer: channel up, its three frames delivered in order. */
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)good->dom, &pi), 0);
    ck_assert_int_eq(pi.tx, XNV_IDC_UP);
    ck_assert_uint_eq(pi.fallbacks, 0);
    ck_assert_uint_eq(pi.tx_frames, 3);
    for (int i = 0; i < 5; i += 2) {
        struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
        ck_assert_int_eq(idcw_recv(&W, good, &r), 1);
        ck_assert_uint_eq(r.len, 1514);
        ck_assert_mem_eq(got, fr[i], 1514);
    }
    ck_assert_int_eq(xnv_idc_peer(good->idc, (xnv_domid_t)vic->dom, &pi), 0);
    ck_assert_uint_eq(pi.rx_errors, 0);
    still_fine();
}
END_TEST

/* A batch sent with more at hand leaves the peers' notifications for later;
 * when a failed copy closes the channel meanwhile, the peer is still told of
 * the frame it got before the failure. */
START_TEST(a_closing_channel_tells_its_peer_what_it_owes)
{
    hpeer_ring(&H, 32, 0);
    ck_assert(wait_tx(XNV_IDC_UP));
    ck_assert_int_eq(xnv_sim_gnt_revoke(W.w.sim, (xnv_domid_t)bad->dom, H.buf_ref[1]), 0);
    static uint8_t fr[2][1514];
    struct xnv_nf_frame f[2];
    for (int i = 0; i < 2; i++) {
        idcw_frame(fr[i], 1514, bad, vic);
        f[i] = (struct xnv_nf_frame){ .data = fr[i], .len = 1514 };
    }
    int v[2];
    ck_assert_int_eq(xnv_idc_send_batch(vic->idc, f, 2, v, true), 1);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    ck_assert_int_eq(RING_GET_RESPONSE(&H.front, 0)->status, 1514);
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)bad->dom, &pi), 0);
    ck_assert_uint_eq(pi.notifies, 1);
    still_fine();
}
END_TEST

/* After a stall closed the channel the hostile peer republishes at once, a
 * new serial each time, by withdrawing first, or garbage then a good ring:
 * none of it brings the channel back before retry_ms (60 s here). */
START_TEST(failed_peer_waits_retry_ms_whatever_it_publishes)
{
    stall();
    hpeer_ring(&H, 32, 0);                      /* plenty of room, a new serial */
    idcw_pump(&W, 200);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    ck_assert_int_eq(send_to_bad(1514), 0);
    hpeer_withdraw(&H);
    ck_assert(wait_tx(XNV_IDC_DOWN));
    hpeer_ring(&H, 32, 0);
    idcw_pump(&W, 200);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    hpeer_publish(&H, "x", "1", "1000");
    idcw_pump(&W, 50);
    hpeer_ring(&H, 32, 0);
    idcw_pump(&W, 200);
    ck_assert_int_eq(vic_state(true), XNV_IDC_FAILED);
    ck_assert_int_eq(send_to_bad(1514), 0);
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)bad->dom, &pi), 0);
    ck_assert_uint_eq(pi.fallbacks, 1);
    still_fine();
}
END_TEST

/* ---- the hostile sender: what it writes into the victim's ring -------------- */

static netif_rx_back_ring_t hback;
static void *vring;

static void map_victim_ring(void)
{
    char *v = hpeer_victim_key(&H, "ring-ref");
    ck_assert_ptr_nonnull(v);
    xnv_gref_t ref = (xnv_gref_t)strtoul(v, NULL, 10);
    free(v);
    vring = xnv_gnt_map(bad->hv, (xnv_domid_t)vic->dom, &ref, 1, true);
    ck_assert_ptr_nonnull(vring);
    BACK_RING_INIT(&hback, (netif_rx_sring_t *)vring, XNV_PAGE_SIZE);
}

/* Place a frame of len bytes (gso: with a GSO extra), let mutate spoil the
 * responses, push.  Returns the first response's index. */
static RING_IDX hsend(uint32_t len, bool gso, void (*mutate)(RING_IDX first, unsigned n))
{
    struct xnv_copy_batch b;
    ck_assert_int_eq(xnv_copy_batch_init(&b, 64), 0);
    idcw_frame(frame, len < 54 ? 54 : len, vic, bad);
    struct xnv_rx_meta m = { .gso_type = gso ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_NONE,
                             .gso_size = gso ? 1448 : 0 };
    if (gso)
        m.flags = NETRXF_csum_blank | NETRXF_data_validated;
    struct xnv_rx_placed p;
    RING_IDX first = hback.rsp_prod_pvt;
    ck_assert_int_eq(xnv_rx_place(&hback, hback.sring->req_prod, (xnv_domid_t)vic->dom, frame, len, &m, &b, 0, &p), 0);
    ck_assert_int_eq(xnv_gnt_copy(bad->hv, b.seg, b.n), 0);
    ck_assert(copy_batch_pkt_ok(&b, 0));
    xnv_copy_batch_free(&b);
    if (mutate)
        mutate(first, p.nr_slots);
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&hback, notify);
    (void)notify;
    return first;
}

static void neg_status(RING_IDX f, unsigned n) { (void)n; RING_GET_RESPONSE(&hback, f)->status = -1; }
static void past_page(RING_IDX f, unsigned n) { (void)n; RING_GET_RESPONSE(&hback, f)->offset = 4000; }
static void more_past_end(RING_IDX f, unsigned n) { RING_GET_RESPONSE(&hback, f + n - 1)->flags |= NETRXF_more_data; }
static void extra_missing(RING_IDX f, unsigned n) { (void)n; RING_GET_RESPONSE(&hback, f)->flags |= NETRXF_extra_info; }
/* The GSO extra in the slot after the first. */
static void edit_extra(RING_IDX f, uint8_t type, uint16_t gso_size)
{
    netif_extra_info_t e;
    memcpy(&e, RING_GET_RESPONSE(&hback, f + 1), sizeof e);
    e.type = type;
    e.u.gso.size = gso_size;
    memcpy(RING_GET_RESPONSE(&hback, f + 1), &e, sizeof e);
}
static void bad_extra(RING_IDX f, unsigned n) { (void)n; edit_extra(f, XEN_NETIF_EXTRA_TYPE_MAX + 3, 1448); }
static void gso_size_zero(RING_IDX f, unsigned n) { (void)n; edit_extra(f, XEN_NETIF_EXTRA_TYPE_GSO, 0); }
static void garbage_id(RING_IDX f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        RING_GET_RESPONSE(&hback, f + i)->id = 0xdead;
}

/* Each spoiled frame is dropped and counted; the next good one arrives. */
static void spoiled(uint32_t len, bool gso, void (*mutate)(RING_IDX, unsigned))
{
    map_victim_ring();
    hsend(len, gso, mutate);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_idc_recv(vic->idc, &r, 1), 0);
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)bad->dom, &pi), 0);
    ck_assert_uint_eq(pi.rx_errors, 1);
    ck_assert_int_eq(pi.rx, XNV_IDC_UP);
    ck_assert_ptr_nonnull(pi.last_error);
    hsend(1514, false, NULL);
    ck_assert_int_eq(xnv_idc_recv(vic->idc, &r, 1), 1);
    ck_assert_uint_eq(r.len, 1514);
    ck_assert_mem_eq(got, frame, 1514);
    xnv_gnt_unmap(bad->hv, vring, 1);
    still_fine();
}

START_TEST(rx_negative_status) { spoiled(1514, false, neg_status); }
END_TEST
START_TEST(rx_offset_past_page) { spoiled(1514, false, past_page); }
END_TEST
START_TEST(rx_more_data_past_the_producer) { spoiled(9000, false, more_past_end); }
END_TEST
START_TEST(rx_extra_announced_missing) { spoiled(1514, false, extra_missing); }
END_TEST
START_TEST(rx_extra_of_unknown_type) { spoiled(9000, true, bad_extra); }
END_TEST
START_TEST(rx_gso_size_zero) { spoiled(9000, true, gso_size_zero); }
END_TEST
START_TEST(rx_runt_frame) { spoiled(10, false, NULL); }
END_TEST

START_TEST(rx_garbage_ids_are_harmless)
{
    map_victim_ring();
    hsend(9000, false, garbage_id);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_idc_recv(vic->idc, &r, 1), 1);
    ck_assert_uint_eq(r.len, 9000);
    ck_assert_mem_eq(got, frame, 9000);
    xnv_gnt_unmap(bad->hv, vring, 1);
}
END_TEST

START_TEST(rx_producer_beyond_requests_closes_only_that_channel)
{
    map_victim_ring();
    hback.sring->rsp_prod = hback.sring->req_prod + 5;
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_idc_recv(vic->idc, &r, 1), 0);
    ck_assert_int_eq(vic_state(false), XNV_IDC_FAILED);
    xnv_gnt_unmap(bad->hv, vring, 1);
    still_fine();
    idcw_frame(frame, 1514, vic, good);
    struct xnv_nf_frame f = { .data = frame, .len = 1514 };
    ck_assert_int_eq(xnv_idc_send(good->idc, &f), 1);
    ck_assert_int_eq(idcw_recv(&W, vic, &r), 1);
}
END_TEST

START_TEST(rx_frame_larger_than_the_buffer_is_dropped)
{
    map_victim_ring();
    hsend(9000, false, NULL);
    struct xnv_nf_frame r = { .data = got, .cap = 2000 };
    ck_assert_int_eq(xnv_idc_recv(vic->idc, &r, 1), 0);
    ck_assert_int_eq(vic_state(false), XNV_IDC_UP);
    xnv_gnt_unmap(bad->hv, vring, 1);
}
END_TEST

Suite *xnv_suite_idc_hostile(void)
{
    Suite *s = suite_create("idc_hostile");
    TCase *tc = tcase_create("receiver");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, malformed_publications_are_refused);
    tcase_add_test(tc, ungranted_ring_or_port_is_refused);
    tcase_add_test(tc, honest_ring_built_by_hand_works);
    tcase_add_test(tc, producer_far_ahead_closes_the_channel);
    tcase_add_test(tc, bogus_buffer_grant_sends_the_frame_to_the_vif);
    tcase_add_test(tc, revoked_buffer_sends_the_frame_to_the_vif);
    tcase_add_test(tc, a_closing_channel_tells_its_peer_what_it_owes);
    tcase_add_test(tc, too_few_buffers_stall_then_fall_back);
    tcase_add_test(tc, failed_copy_costs_only_its_own_frame_and_peer);
    tcase_add_test(tc, failed_peer_waits_retry_ms_whatever_it_publishes);
    suite_add_tcase(s, tc);
    tc = tcase_create("sender");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, rx_negative_status);
    tcase_add_test(tc, rx_offset_past_page);
    tcase_add_test(tc, rx_more_data_past_the_producer);
    tcase_add_test(tc, rx_extra_announced_missing);
    tcase_add_test(tc, rx_extra_of_unknown_type);
    tcase_add_test(tc, rx_gso_size_zero);
    tcase_add_test(tc, rx_runt_frame);
    tcase_add_test(tc, rx_garbage_ids_are_harmless);
    tcase_add_test(tc, rx_producer_beyond_requests_closes_only_that_channel);
    tcase_add_test(tc, rx_frame_larger_than_the_buffer_is_dropped);
    suite_add_tcase(s, tc);
    return s;
}
