/* An engine that dies as a process killed by SIGKILL dies (no exit path:
 * xnv_netback_abandon), then a new one: the guest keeps its TAP on its
 * bridge and its rings, gets an event, traffic resumes without a
 * reconnect, every request in flight is answered once, nothing leaks.
 *
 * A kill inside a batch is played by the test itself: after the engine is
 * gone, the test does on the shared ring what the dead engine's last batch
 * did before its push (xnv_tx_read/xnv_tx_respond, xnv_rx_place, the same
 * calls tx.c and rx.c make), leaving responses written but unpublished. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "xnv/copy_batch.h"
#include "xnv/rx.h"
#include "xnv/tx.h"

static struct world w;
static struct tfe fe;
static int dom;
static char base[16];
static uint8_t frame[70000], got[70000];

static void setup(void)
{
    world_init(&w, 1, 60000);
    world_guest_up(&w, &fe, &dom, "guest1", "00:16:3e:00:00:01", true);
    snprintf(base, sizeof base, "vif%d.0", dom);
}

static void teardown(void)
{
    tfe_free(&fe);
    world_free(&w);
}

static struct xnv_port *port(void) { return world_port(&w, base); }

/* A frame told apart by its sequence number (UDP payload). */
static uint32_t numbered(uint8_t *buf, unsigned seq)
{
    uint32_t len = build_udp_frame(buf, 300);
    memcpy(buf + 42, &seq, sizeof seq);
    return len;
}

static int take(uint8_t *buf, unsigned ms)
{
    struct virtio_net_hdr vh;
    for (unsigned i = 0; i < ms * 10; i++) {
        if (w.nb)
            xnv_netback_process(w.nb);
        int n = xnv_memport_take(port(), 0, &vh, buf, sizeof got);
        if (n >= 0)
            return n;
        usleep(100);
    }
    return -1;
}

/* Guest -> dom0 and dom0 -> guest, one frame each. */
static void traffic_flows(unsigned seq)
{
    uint32_t len = numbered(frame, seq);
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    ck_assert_int_eq(take(got, 2000), (int)len);
    ck_assert_mem_eq(got, frame, len);
    tfe_post_rx(&fe, 0, 1);
    len = numbered(frame, seq + 1);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(port(), 0, &vh, frame, len), 0);
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL), (int)len);
    ck_assert_mem_eq(got, frame, len);
}

static bool no_vifs(void *arg) { return xnv_netback_list(arg, NULL, 0) == 0; }

static struct xnv_sim_usage dom0_usage(void)
{
    struct xnv_sim_usage u;
    xnv_sim_usage(w.sim, 0, &u);
    return u;
}

static void drain_guest_events(void)
{
    int p;
    while ((p = xnv_evtchn_pending(fe.ch)) >= 0)
        xnv_evtchn_unmask(fe.ch, (xnv_port_t)p);
}

START_TEST(killed_engine_leaves_the_tap_on_its_bridge)
{
    traffic_flows(1);
    struct xnv_port *p0 = port();
    drain_guest_events();
    world_kill_netback(&w);
    /* the kernel took back the mappings and event channels, not the TAP */
    ck_assert_uint_eq(dom0_usage().mapped_pages, 0);
    ck_assert_uint_eq(dom0_usage().bound_ports, 0);
    ck_assert_ptr_eq(port(), p0);
    ck_assert_str_eq(nb_host_bridge(&w.host, base), "xenbr0");
    world_restart_netback(&w);
    ck_assert_ptr_eq(port(), p0);
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)dom, 0), XenbusStateConnected);
    /* an event the guest may have waited for went with the dead engine */
    ck_assert_int_eq(xnv_evtchn_pending(fe.ch), fe.q[0].port_tx);
    xnv_evtchn_unmask(fe.ch, (xnv_port_t)fe.q[0].port_tx);
    traffic_flows(10);
    /* the device goes: so does everything of it */
    char online[128];
    snprintf(online, sizeof online, "%s/online", fe.be);
    ck_assert_int_eq(xnv_xs_write(w.dom0, XNV_XS_NO_TX, online, "0", 1), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
    ck_assert_int_eq(xnv_xs_rm(w.dom0, XNV_XS_NO_TX, fe.be), 0);
    ck_assert(world_pump(&w, no_vifs, w.nb, 2000));
    ck_assert_uint_eq(nb_host_count(&w.host), 0);
    ck_assert_uint_eq(dom0_usage().mapped_pages, 0);
    ck_assert_uint_eq(dom0_usage().bound_ports, 0);
}
END_TEST

/* Killed while it works through 200 frames: each request is answered
 * exactly once (by the dead engine or the new one), every frame that
 * reached the TAP is one the guest sent, intact, and traffic goes on. */
START_TEST(killed_under_traffic_answers_every_request_once)
{
    enum { N = 200 };
    for (unsigned k = 0; k < N; k++) {
        RING_IDX idx = fe.q[0].tx.req_prod_pvt;
        uint32_t len = numbered(fe.q[0].txbuf + (idx % TFE_BUFS) * 4096u, 1000 + k);
        netif_tx_request_t r = { .gref = fe.q[0].txref[idx % TFE_BUFS], .offset = 0, .flags = 0,
                                 .id = (uint16_t)(idx % TFE_BUFS), .size = (uint16_t)len };
        tfe_raw_tx(&fe, 0, &r);
    }
    tfe_push_tx(&fe, 0);
    usleep(200);
    world_kill_netback(&w);
    world_restart_netback(&w);
    ck_assert(tfe_wait_tx_done(&fe, 0, 3000));
    unsigned seen[TFE_BUFS] = { 0 };
    tfe_tx_response_ids(&fe, 0, seen, NULL);
    RING_IDX start = fe.q[0].tx.req_prod_pvt - N;
    for (unsigned k = 0; k < N; k++) {
        unsigned id = (start + k) % TFE_BUFS;
        ck_assert_msg(seen[id] == 1, "request %u answered %u time(s)", k, seen[id]);
    }
    int n;
    unsigned arrived = 0;
    while ((n = take(got, 50)) >= 0) {
        unsigned seq;
        memcpy(&seq, got + 42, sizeof seq);
        ck_assert_uint_ge(seq, 1000);
        ck_assert_uint_lt(seq, 1000 + N);
        ck_assert_int_eq(n, (int)numbered(frame, seq));
        ck_assert_mem_eq(got, frame, (size_t)n);
        arrived++;
    }
    ck_assert_uint_le(arrived, N);
    traffic_flows(10);
}
END_TEST

/* The dead engine had read packets A (1 slot), B (GSO: 3 slots and an
 * extra), C and D, and answered A and B, when it died.  Read again, A's and
 * B's slots would name grant <id> as their buffer (a response sits over the
 * grant reference): some other page of the guest would go out on the
 * bridge.  The new engine answers all four as dropped, and sends only what
 * the guest sends next. */
START_TEST(half_answered_transmit_batch_is_dropped_not_replayed)
{
    for (unsigned k = 0; k < 12; k++)                  /* ids 12 on name the guest's own grants */
        traffic_flows(100 + 2 * k);
    world_kill_netback(&w);
    uint16_t first_id = (uint16_t)(fe.q[0].tx.req_prod_pvt % TFE_BUFS);
    uint32_t len = numbered(frame, 500);
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);                                    /* A */
    len = build_tcp_frame(frame, 0, 9000);
    tfe_send(&fe, 0, frame, len, 4096, NETTXF_csum_blank | NETTXF_data_validated,
             XEN_NETIF_GSO_TYPE_TCPV4, 1448);                                       /* B */
    tfe_send(&fe, 0, frame, numbered(frame, 501), 4096, 0, 0, 0);                  /* C */
    tfe_send(&fe, 0, frame, numbered(frame, 502), 4096, 0, 0, 0);                  /* D */

    netif_tx_back_ring_t back;
    netif_tx_sring_t *s = fe.q[0].tx_sring;
    BACK_RING_ATTACH(&back, s, s->rsp_prod, XNV_PAGE_SIZE);
    struct xnv_tx_pkt p[4];
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(xnv_tx_read(&back, s->req_prod, &p[k]), XNV_TX_PACKET);
    xnv_tx_respond(&back, &p[0], NETIF_RSP_OKAY);
    xnv_tx_respond(&back, &p[1], NETIF_RSP_OKAY);       /* ... and no push */

    world_restart_netback(&w);
    ck_assert(tfe_wait_tx_done(&fe, 0, 3000));
    unsigned seen[TFE_BUFS] = { 0 }, errors = 0;
    tfe_tx_response_ids(&fe, 0, seen, &errors);
    /* A, B's three data slots, C, D: each id once, each dropped */
    for (uint16_t k = 0; k < 6; k++)
        ck_assert_uint_eq(seen[(first_id + k + (k >= 2)) % TFE_BUFS], 1);  /* B's extra takes no id */
    ck_assert_uint_eq(errors, 6);
    len = numbered(frame, 600);
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    ck_assert_int_eq(take(got, 2000), (int)len);
    ck_assert_mem_eq(got, frame, len);                  /* the first frame out is the new one */
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &st), 0);
    ck_assert_uint_eq(st.tx_drops, 4);
}
END_TEST

/* The dead engine had placed a 9000-byte GSO frame (3 data slots and the
 * GSO extra in the second) into the guest's posted buffers when it died.
 * Read again as a request, the extra's slot names grant 1 (its GSO type):
 * the guest's xenstore ring, granted to domain 0 by the toolstack.  The new
 * engine hands every posted buffer back unused instead, and the guest's
 * xenstore page stays as it was. */
START_TEST(half_placed_receive_batch_never_writes_a_stale_buffer)
{
    tfe_post_rx(&fe, 0, 16);
    xnv_gref_t xs_ref = 1;
    uint8_t *xs = xnv_gnt_map(w.dom0, (xnv_domid_t)dom, &xs_ref, 1, true);
    ck_assert_ptr_nonnull(xs);
    memset(xs, 0x5a, XNV_PAGE_SIZE);
    world_kill_netback(&w);

    netif_rx_back_ring_t back;
    netif_rx_sring_t *s = fe.q[0].rx_sring;
    BACK_RING_ATTACH(&back, s, s->rsp_prod, XNV_PAGE_SIZE);
    struct xnv_copy_batch b;
    ck_assert_int_eq(xnv_copy_batch_init(&b, 64), 0);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated,
                             .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1448 };
    struct xnv_rx_placed placed;
    uint32_t len = build_tcp_frame(frame, 0, 9000);
    ck_assert_int_eq(xnv_rx_place(&back, s->req_prod, (xnv_domid_t)dom, frame, len, &m, &b, 0, &placed), 0);
    xnv_copy_batch_free(&b);                            /* died before its copy and push */

    world_restart_netback(&w);
    unsigned errors = 0, arrived = 0;
    int n[4];
    for (unsigned k = 0; k < 4; k++) {
        len = numbered(frame, 700 + k);
        struct virtio_net_hdr vh = { 0 };
        ck_assert_int_eq(xnv_memport_inject(port(), 0, &vh, frame, len), 0);
        n[k] = tfe_recv_wait(&fe, 0, got, sizeof got, 1000, &errors);
        arrived += n[k] == (int)len && memcmp(got, frame, len) == 0;
    }
    for (unsigned i = 0; i < XNV_PAGE_SIZE; i++)
        ck_assert_msg(xs[i] == 0x5a, "the guest's xenstore page was written at %u", i);
    ck_assert_int_eq(xnv_gnt_unmap(w.dom0, xs, 1), 0);
    ck_assert_msg(arrived == 4, "%u of 4 frames arrived intact (%d %d %d %d)", arrived, n[0], n[1], n[2], n[3]);
    ck_assert_uint_eq(errors, 16);                      /* every buffer back, once */
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &st), 0);
    ck_assert_uint_eq(st.rx_errors, 0);
}
END_TEST

/* A clean stop leaves no mark: the next engine resumes the rings as they
 * are and serves what the guest queued meanwhile, nothing dropped. */
START_TEST(clean_stop_resumes_without_dropping)
{
    xnv_netback_shutdown(w.nb, false);
    w.nb = NULL;
    char *mark = be_read(&w, (xnv_domid_t)dom, 0, "xnv-rings-in-use");
    ck_assert_ptr_null(mark);
    uint32_t len = numbered(frame, 800);
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    tfe_post_rx(&fe, 0, 4);
    world_restart_netback(&w);
    ck_assert_int_eq(take(got, 2000), (int)len);
    ck_assert_mem_eq(got, frame, len);
    len = numbered(frame, 801);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(port(), 0, &vh, frame, len), 0);
    unsigned errors = 0;
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
    ck_assert_uint_eq(errors, 0);
    mark = be_read(&w, (xnv_domid_t)dom, 0, "xnv-rings-in-use");
    ck_assert_ptr_nonnull(mark);                        /* running again */
    free(mark);
}
END_TEST

Suite *xnv_suite_netback_crash(void)
{
    Suite *s = suite_create("netback_crash");
    TCase *c = tcase_create("crash");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, killed_engine_leaves_the_tap_on_its_bridge);
    tcase_add_test(c, killed_under_traffic_answers_every_request_once);
    tcase_add_test(c, half_answered_transmit_batch_is_dropped_not_replayed);
    tcase_add_test(c, half_placed_receive_batch_never_writes_a_stale_buffer);
    tcase_add_test(c, clean_stop_resumes_without_dropping);
    suite_add_tcase(s, c);
    return s;
}
