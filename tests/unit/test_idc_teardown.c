/* How a direct channel ends, and that the survivor always falls back to
 * the vif: the peer closes, is destroyed, stops taking frames; this guest
 * reconnects (save/restore); the backend stops listing the peer. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "idc_fixture.h"

static struct idc_world W;
static uint8_t frame[70000], got[70000];

static void setup(void)
{
    idcw_init(&W, "xenbr0", 3);
    W.opt.stall_ms = 200;
    W.opt.retry_ms = 300;
    idcw_open(&W, &W.g[0]);
    idcw_open(&W, &W.g[1]);
    ck_assert(idcw_pump_until_up(&W, &W.g[0], &W.g[1]));
}
static void teardown(void) { idcw_free(&W); }

static int send_to(struct idc_guest *s, struct idc_guest *d, uint32_t len)
{
    idcw_frame(frame, len, d, s);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    return xnv_idc_send(s->idc, &f);
}

static void works(struct idc_guest *s, struct idc_guest *d)
{
    ck_assert_int_eq(send_to(s, d, 1514), 1);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(idcw_recv(&W, d, &r), 1);
    ck_assert_uint_eq(r.len, 1514);
    ck_assert_mem_eq(got, frame, 1514);
}

START_TEST(peer_closing_withdraws_its_ring)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    idcw_close(b);
    ck_assert(idcw_pump_until_tx(&W, a, b, XNV_IDC_DOWN) || xnv_idc_npeers(a->idc) == 0);
    ck_assert_int_eq(send_to(a, b, 1514), 0);
    /* b no longer asks: the backend drops it from a's list, and a the peer. */
    idcw_pump(&W, 100);
    ck_assert_ptr_null(idcw_peer_entry(&W, a, b));
    ck_assert_uint_eq(xnv_idc_npeers(a->idc), 0);
    /* b comes back: the channel too. */
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    works(a, b);
    works(b, a);
}
END_TEST

START_TEST(peer_destroyed_falls_back)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(b, a);
    xnv_idc_close(b->idc);      /* the domain goes with its memory: nothing left to close */
    b->idc = NULL;
    xnv_hv_close(b->hv);
    b->hv = NULL;
    tfe_free(&b->f);
    ck_assert_int_eq(xnv_sim_domain_destroy(W.w.sim, (xnv_domid_t)b->dom), 0);
    idcw_pump(&W, 100);
    ck_assert_int_eq(send_to(a, b, 1514), 0);
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pi), -ENOENT);
    ck_assert_ptr_null(idcw_peer_entry(&W, a, b));
    memset(&b->f, 0, sizeof b->f);
}
END_TEST

/* The peer dies without any cleanup while a has frames in flight: a's
 * grants to it are revoked by the hypervisor, a survives on @releaseDomain. */
START_TEST(peer_crash_mid_transfer)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(send_to(a, b, 9000), 1);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(send_to(b, a, 9000), 1);
    tfe_free(&b->f);
    memset(&b->f, 0, sizeof b->f);
    ck_assert_int_eq(xnv_sim_domain_destroy(W.w.sim, (xnv_domid_t)b->dom), 0);
    idcw_pump(&W, 100);
    ck_assert_int_eq(send_to(a, b, 1514), 0);
    struct xnv_idc_stats st;
    xnv_idc_stats(a->idc, &st);
    ck_assert_uint_ge(st.fallbacks, 1);
    /* What b had sent before it died is still a's to read (its own pages). */
    xnv_idc_close(b->idc);
    b->idc = NULL;
    xnv_hv_close(b->hv);
    b->hv = NULL;
}
END_TEST

START_TEST(stalled_peer_loses_the_channel_then_gets_it_back)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    unsigned sent = 0;
    int rc;
    /* b reads nothing: a fills b's buffers, then waits stall_ms. */
    uint64_t t0 = 0;
    for (;;) {
        rc = send_to(a, b, 4000);
        if (rc != 1)
            break;
        sent++;
    }
    ck_assert_int_eq(rc, -EAGAIN);
    ck_assert_uint_ge(sent, 32);
    for (t0 = 0; t0 < 2000 && (rc = send_to(a, b, 4000)) == -EAGAIN; t0++)
        usleep(1000);
    ck_assert_int_eq(rc, 0);                   /* this frame takes the vif */
    struct xnv_idc_peer_info pi;
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pi);
    ck_assert_int_eq(pi.tx, XNV_IDC_FAILED);
    ck_assert_uint_eq(pi.fallbacks, 1);
    ck_assert_int_eq(send_to(a, b, 4000), 0);
    /* Everything that went over the channel arrives. */
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    for (unsigned i = 0; i < sent; i++)
        ck_assert_int_eq(idcw_recv(&W, b, &r), 1);
    ck_assert_int_eq(xnv_idc_recv(b->idc, &r, 1), 0);
    /* After retry_ms a attaches again. */
    ck_assert(idcw_pump_until_tx(&W, a, b, XNV_IDC_UP));
    works(a, b);
}
END_TEST

START_TEST(own_reconnect_rebuilds_every_channel)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    xnv_idc_reset(a->idc);
    ck_assert(idcw_pump_until_up(&W, a, b));
    works(a, b);
    works(b, a);
    /* The buffers are only ever copied into: at most the old ring page,
     * still mapped by b until it saw the withdrawal, was left to b. */
    struct xnv_idc_stats st;
    xnv_idc_stats(a->idc, &st);
    ck_assert_uint_le(st.lost_pages, 1);
}
END_TEST

/* a was saved and restored: its kernel lost every event channel binding
 * (the old handle is stale: unbinding through it would BUG() in Linux). */
static void resume(struct idc_guest *a)
{
    ck_assert_int_eq(xnv_sim_domain_resume(W.w.sim, (xnv_domid_t)a->dom), 0);
    struct xnv_sim_usage u;
    xnv_sim_usage(W.w.sim, (xnv_domid_t)a->dom, &u);
    ck_assert_uint_eq(u.bound_ports, 0);
}

static void rebuilt_without_stale_ops(struct idc_guest *a, struct idc_guest *b)
{
    ck_assert(idcw_pump_until_up(&W, a, b));
    works(a, b);
    works(b, a);
    struct xnv_sim_usage u;
    xnv_sim_usage(W.w.sim, (xnv_domid_t)a->dom, &u);
    ck_assert_uint_ge(u.bound_ports, 2);        /* our ring's port and the one to b's */
    struct xnv_sim_counters c;
    xnv_sim_counters(W.w.sim, (xnv_domid_t)a->dom, &c);
    ck_assert_uint_eq(c.stale_ops, 0);
}

START_TEST(restore_reset_takes_a_new_event_channel_handle)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    works(b, a);
    resume(a);
    xnv_idc_reset(a->idc);      /* the agent, on its netfront's reconnection */
    rebuilt_without_stale_ops(a, b);
}
END_TEST

/* A resume fires every watch: the first event after it rebuilds the
 * channels, before the agent's reset and without touching the old ports. */
START_TEST(restore_noticed_on_the_next_watch_event)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    resume(a);
    char path[128];
    snprintf(path, sizeof path, "/local/domain/%d/data/xnv-channel/%d/serial", b->dom, a->dom);
    unsigned len;
    char *v = xnv_xs_read(W.w.dom0, XNV_XS_NO_TX, path, &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(xnv_xs_write(W.w.dom0, XNV_XS_NO_TX, path, v, len), 0);
    free(v);
    rebuilt_without_stale_ops(a, b);
}
END_TEST

/* xl save: the guest stops (suspend) before its memory is copied; its
 * agent is frozen by then.  The backend drops it from every list at once,
 * so its peers send through the vif, not into rings that go with it; after
 * the resume the channels come back. */
START_TEST(suspended_peer_leaves_the_lists_then_comes_back)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    ck_assert_int_eq(xnv_sim_domain_shutdown(W.w.sim, (xnv_domid_t)b->dom, 2 /* SHUTDOWN_suspend */), 0);
    idcw_pump(&W, 100);
    ck_assert_ptr_null(idcw_peer_entry(&W, a, b));
    ck_assert_ptr_null(idcw_peer_entry(&W, b, a));
    ck_assert_int_eq(send_to(a, b, 1514), 0);
    resume(b);
    xnv_idc_reset(b->idc);      /* its agent, on its netfront's reconnection */
    rebuilt_without_stale_ops(b, a);
}
END_TEST

START_TEST(vif_disconnect_removes_the_peer)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    tfe_set_state(&b->f, XenbusStateClosing);
    ck_assert(wait_be_state(&W.w, (xnv_domid_t)b->dom, 0, XenbusStateClosing, 2000));
    idcw_pump(&W, 100);
    ck_assert_ptr_null(idcw_peer_entry(&W, a, b));
    ck_assert_uint_eq(xnv_idc_npeers(a->idc), 0);
    ck_assert_int_eq(send_to(a, b, 1514), 0);
}
END_TEST

START_TEST(close_revokes_everything)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    works(a, b);
    works(b, a);
    idcw_close(a);
    ck_assert(idcw_pump_until_tx(&W, b, a, XNV_IDC_DOWN) || xnv_idc_npeers(b->idc) == 0);
    char path[96];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/%d/data/xnv-channel", a->dom);
    ck_assert_ptr_null(xnv_xs_read(W.w.dom0, XNV_XS_NO_TX, path, &len));
    snprintf(path, sizeof path, "/local/domain/%d/device/vif/0/request-xnv-channels", a->dom);
    ck_assert_ptr_null(xnv_xs_read(W.w.dom0, XNV_XS_NO_TX, path, &len));
}
END_TEST

Suite *xnv_suite_idc_teardown(void)
{
    Suite *s = suite_create("idc_teardown");
    TCase *tc = tcase_create("teardown");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, peer_closing_withdraws_its_ring);
    tcase_add_test(tc, peer_destroyed_falls_back);
    tcase_add_test(tc, peer_crash_mid_transfer);
    tcase_add_test(tc, stalled_peer_loses_the_channel_then_gets_it_back);
    tcase_add_test(tc, own_reconnect_rebuilds_every_channel);
    tcase_add_test(tc, restore_reset_takes_a_new_event_channel_handle);
    tcase_add_test(tc, restore_noticed_on_the_next_watch_event);
    tcase_add_test(tc, suspended_peer_leaves_the_lists_then_comes_back);
    tcase_add_test(tc, vif_disconnect_removes_the_peer);
    tcase_add_test(tc, close_revokes_everything);
    suite_add_tcase(s, tc);
    return s;
}
