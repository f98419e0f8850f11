/* What a peer can hold of the victim's pages.  The hostile guest maps every
 * page the victim shares with it (the ring and each buffer posted there)
 * and makes the backend drop it from the victim's list and list it again,
 * by flipping its opt-in: it never holds more than one receive ring's worth
 * (bufs + 1 pages), and once it kept pages after the victim took them back
 * it gets no receive ring from it again.  An honest peer that leaves and
 * comes back gets its channel as before. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "idc_fixture.h"
#include "idc_hpeer.h"

#define SET (XNV_IDC_MIN_BUFS + 1)      /* pages of one receive ring */

static struct idc_world W;
static struct idc_guest *vic, *good, *bad;
static struct hpeer H;
static uint8_t frame[2048], got[2048];

static void up(unsigned park_ms)
{
    idcw_init(&W, "xenbr0", 3);
    W.opt.bufs = XNV_IDC_MIN_BUFS;
    W.opt.park_ms = park_ms;
    vic = &W.g[0];
    good = &W.g[1];
    bad = &W.g[2];
    hpeer_world_up(&W, &H, NULL);
}
static void setup_long_park(void) { up(60000); }
static void setup_short_park(void) { up(100); }

static void teardown(void)
{
    hpeer_free(&H);
    idcw_free(&W);
}

static uint64_t lost(void)
{
    struct xnv_idc_stats st;
    xnv_idc_stats(vic->idc, &st);
    return st.lost_pages;
}

/* The hostile guest leaves the victim's list (waiting there wait_ms), then
 * is listed again. */
static void flip(unsigned wait_ms)
{
    hpeer_optin(&H, false);
    ck_assert(idcw_pump_until_listed(&W, vic, bad, false));
    idcw_pump(&W, wait_ms);
    hpeer_optin(&H, true);
    ck_assert(idcw_pump_until_listed(&W, vic, bad, true));
}

static void still_fine(void)
{
    idcw_works(&W, vic, good);
    /* and the victim's own vif */
    uint32_t len = build_tcp_frame(frame, 0, 500);
    ck_assert_int_eq(tfe_frame_to_port(&W.w, &vic->f, vic->dom, frame, len, got, sizeof got), (int)len);
}

START_TEST(flipping_peer_gets_the_same_pages_back)
{
    ck_assert_uint_eq(hpeer_map_victim(&H), SET);
    struct xnv_sim_usage u0, u1;
    xnv_sim_usage(W.w.sim, (xnv_domid_t)vic->dom, &u0);
    for (int i = 0; i < 6; i++) {
        flip(0);
        ck_assert(idcw_pump_until_rx(&W, vic, bad, XNV_IDC_UP));
        ck_assert_uint_eq(hpeer_map_victim(&H), SET);     /* nothing new to take */
    }
    ck_assert_uint_eq(lost(), 0);
    xnv_sim_usage(W.w.sim, (xnv_domid_t)vic->dom, &u1);
    ck_assert_uint_eq(u1.shared_pages, u0.shared_pages);
    still_fine();
}
END_TEST

START_TEST(peer_keeping_our_pages_gets_no_receive_ring_again)
{
    ck_assert_uint_eq(hpeer_map_victim(&H), SET);
    /* Away longer than park_ms: the victim takes its pages back, the
     * hostile guest keeps them mapped. */
    flip(300);
    ck_assert_uint_eq(lost(), SET);
    for (int i = 0; i < 4; i++) {
        struct xnv_idc_peer_info pi;
        ck_assert_int_eq(xnv_idc_peer(vic->idc, (xnv_domid_t)bad->dom, &pi), 0);
        ck_assert_int_eq(pi.rx, XNV_IDC_FAILED);
        ck_assert_ptr_nonnull(pi.last_error);
        ck_assert_ptr_nonnull(strstr(pi.last_error, "held pages"));
        ck_assert_ptr_null(hpeer_victim_key(&H, "ring-ref"));
        flip(i % 2 ? 300 : 0);
    }
    ck_assert_uint_eq(lost(), SET);
    ck_assert_uint_eq(H.nmapped, SET);
    /* The other direction costs the victim no pages: it still works. */
    hpeer_ring(&H, 32, 0);
    ck_assert(idcw_pump_until_tx(&W, vic, bad, XNV_IDC_UP));
    idcw_frame(frame, 1514, bad, vic);
    struct xnv_nf_frame f = { .data = frame, .len = 1514 };
    ck_assert_int_eq(xnv_idc_send(vic->idc, &f), 1);
    still_fine();
}
END_TEST

START_TEST(honest_peer_back_after_parking_gets_its_channel)
{
    idcw_close(good);
    ck_assert(idcw_pump_until_listed(&W, vic, good, false));
    idcw_pump(&W, 300);
    ck_assert_uint_eq(lost(), 0);                 /* it let go of our ring */
    idcw_open(&W, good);
    ck_assert(idcw_pump_until_up(&W, vic, good));
    still_fine();
}
END_TEST

Suite *xnv_suite_idc_pages(void)
{
    Suite *s = suite_create("idc_pages");
    TCase *tc = tcase_create("reuse");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_long_park, teardown);
    tcase_add_test(tc, flipping_peer_gets_the_same_pages_back);
    suite_add_tcase(s, tc);
    tc = tcase_create("expiry");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_short_park, teardown);
    tcase_add_test(tc, peer_keeping_our_pages_gets_no_receive_ring_again);
    tcase_add_test(tc, honest_peer_back_after_parking_gets_its_channel);
    suite_add_tcase(s, tc);
    return s;
}
