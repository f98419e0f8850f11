/* Hostile frontends against the netback engine (hostile-inputs items 1-22
 * end to end): each test checks the stated outcome and that an innocent vif
 * beside the hostile one keeps its traffic flowing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"

static struct world w;
static struct tfe bad, good;
static int bad_dom, good_dom;
static uint8_t frame[70000], got[70000];

static unsigned stall_ms = 200;

static void setup(void)
{
    world_init(&w, 4, stall_ms);
    world_two_guests(&w, &bad, &bad_dom, &good, &good_dom, false);
}

/* For tests that wait on a guest longer than the short stall timeout. */
static void setup_long_stall(void)
{
    stall_ms = 60000;
    setup();
    stall_ms = 200;
}

static void teardown(void)
{
    tfe_free(&bad);
    tfe_free(&good);
    world_free(&w);
}

static struct xnv_port *port_of(int dom) { return world_vif_port(&w, dom); }

/* The honest guest still gets a frame through, both ways. */
static void assert_innocent_flows(void)
{
    uint32_t len = build_udp_frame(frame, 300);
    ck_assert_int_eq(tfe_frame_to_port(&w, &good, good_dom, frame, len, got, sizeof got), (int)len);
    tfe_post_rx(&good, 0, 4);
    struct virtio_net_hdr vh = { 0 };
    int n;
    ck_assert_int_eq(xnv_memport_inject(port_of(good_dom), 0, &vh, frame, len), 0);
    uint16_t fl, gs;
    uint8_t gt;
    n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = tfe_recv(&good, 0, got, sizeof got, &fl, &gt, &gs);
    ck_assert_int_eq(n, (int)len);
}

static void bad_up(void)
{
    ck_assert_int_eq(tfe_connect(&bad, 1, NULL, NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateConnected, 2000));
}

static void assert_bad_closed_with_error(const char *needle)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateClosed, 3000));
    char *e = be_read(&w, (xnv_domid_t)bad_dom, 0, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, needle), "error node \"%s\" lacks \"%s\"", e, needle);
    free(e);
}

/* 1 (live): the producer jumps more than a ring ahead. */
START_TEST(hostile01_live_producer_jump_is_fatal_and_isolated)
{
    bad_up();
    bad.q[0].tx.sring->req_prod += 1000;
    xnv_evtchn_notify(bad.ch, (xnv_port_t)bad.q[0].port_tx);
    assert_bad_closed_with_error("more than a ring ahead");
    assert_innocent_flows();
}
END_TEST

/* 1 (connect): a ring already inconsistent is refused. */
START_TEST(hostile01_inconsistent_ring_refused_at_connect)
{
    bad.initial_tx_req_prod = 5000;
    tfe_connect(&bad, 1, NULL, NULL);
    assert_bad_closed_with_error("inconsistent");
    assert_innocent_flows();
}
END_TEST

/* 5: offset + size beyond the page disconnects only that vif. */
START_TEST(hostile05_cross_page_slot_fatal_and_isolated)
{
    bad_up();
    netif_tx_request_t r = { .gref = bad.q[0].txref[0], .offset = 4000, .flags = 0, .id = 0, .size = 200 };
    tfe_raw_tx(&bad, 0, &r);
    tfe_push_tx(&bad, 0);
    assert_bad_closed_with_error("crosses its page");
    struct xnv_vif_info info[2];
    ck_assert_uint_eq(xnv_netback_list(w.nb, info, 2), 2);
    assert_innocent_flows();
}
END_TEST

/* 13: invalid, read-only-for-write, revoked grants: error response, no abort. */
START_TEST(hostile13_bad_grants_get_error_responses)
{
    bad_up();
    uint32_t len = build_udp_frame(frame, 100);
    memcpy(bad.q[0].txbuf, frame, len);
    netif_tx_request_t r = { .gref = 99999, .offset = 0, .flags = 0, .id = 1, .size = (uint16_t)len };
    tfe_raw_tx(&bad, 0, &r);
    xnv_sim_gnt_revoke(w.sim, (xnv_domid_t)bad_dom, bad.q[0].txref[5]);
    r.gref = bad.q[0].txref[5];
    r.id = 2;
    tfe_raw_tx(&bad, 0, &r);
    r.gref = bad.q[0].txref[0];                    /* a good one after them */
    r.id = 3;
    tfe_raw_tx(&bad, 0, &r);
    tfe_push_tx(&bad, 0);
    ck_assert(tfe_wait_tx_done(&bad, 0, 3000));
    unsigned others = 0;
    ck_assert_uint_eq(tfe_tx_responses(&bad, 0, NETIF_RSP_ERROR, &others), 2);
    ck_assert_uint_eq(others, 1);
    struct xnv_queue_stats s;
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s);
    ck_assert_uint_eq(s.tx_errors, 2);
    ck_assert_uint_eq(s.tx_packets, 1);
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)bad_dom, 0), XenbusStateConnected);
    /* RX into a revoked buffer: that frame fails, the vif lives on. */
    xnv_sim_gnt_revoke(w.sim, (xnv_domid_t)bad_dom, bad.q[0].rxref[0]);
    tfe_post_rx(&bad, 0, 2);
    struct virtio_net_hdr vh = { 0 };
    xnv_memport_inject(port_of(bad_dom), 0, &vh, frame, len);
    for (int i = 0; i < 20000; i++, usleep(100)) {
        xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s);
        if (s.rx_errors)
            break;
    }
    ck_assert_uint_eq(s.rx_errors, 1);
    assert_innocent_flows();
}
END_TEST

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* 17: the guest keeps fewer buffers posted than the next frame needs (a
 * 60 KB GSO frame needs 16 slots and its extra): the queue waits for the
 * guest without spinning, and delivers once enough are posted. */
START_TEST(hostile17_short_of_buffers_does_not_spin)
{
    bad_up();
    tfe_post_rx(&bad, 0, 3);
    uint32_t len = build_tcp_frame(frame, 0, 60000);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                 .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
    xnv_memport_inject(port_of(bad_dom), 0, &vh, frame, len);
    usleep(50000);
    double c0 = cpu_seconds();
    usleep(500000);
    double cpu = cpu_seconds() - c0;
    ck_assert_msg(cpu < 0.1, "the waiting queue burnt %.2f s of CPU in 0.5 s", cpu);
    tfe_post_rx(&bad, 0, 20);
    uint16_t fl, gs;
    uint8_t gt;
    int n = -1;
    for (int i = 0; i < 20000 && n == -1; i++, usleep(100))
        n = tfe_recv(&bad, 0, got, sizeof got, &fl, &gt, &gs);
    ck_assert_int_eq(n, (int)len);
    assert_innocent_flows();
}
END_TEST

/* 17: no RX buffers posted: bounded queue, drops counted, carrier off after
 * the stall timeout, back on when buffers return. */
START_TEST(hostile17_no_rx_buffers_stall_then_recover)
{
    bad_up();
    struct xnv_port *p = port_of(bad_dom);
    uint32_t len = build_udp_frame(frame, 1000);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 400; i++)
        xnv_memport_inject(p, 0, &vh, frame, len);     /* beyond what is held */
    struct xnv_memport_stats ms;
    for (int i = 0; i < 300; i++) {
        usleep(10000);
        xnv_memport_stats(p, &ms);
        if (!ms.carrier)
            break;
    }
    ck_assert(!ms.carrier);
    struct xnv_queue_stats s;
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s);
    ck_assert_uint_ge(s.rx_drops, 1);
    ck_assert_uint_eq(s.stalls, 1);
    assert_innocent_flows();
    tfe_post_rx(&bad, 0, 64);
    xnv_memport_inject(p, 0, &vh, frame, len);
    for (int i = 0; i < 300; i++) {
        usleep(10000);
        xnv_memport_stats(p, &ms);
        if (ms.carrier)
            break;
    }
    ck_assert(ms.carrier);
}
END_TEST


/* The hostile guest with two queues and a hash mapping (control ring)
 * that steers every TCP/IPv4 flow to queue 1. */
static void bad_up_steered_to_1(void)
{
    bad.want_ctrl = true;
    ck_assert_int_eq(tfe_connect(&bad, 2, NULL, NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateConnected, 2000));
    ck_assert_int_eq(tfe_steer_all(&bad, 1), 0);
}

/* Inject n TCP frames on the host side's queue 0 and wait until the
 * backend has read them. */
static void inject_read(unsigned n, uint32_t len)
{
    struct xnv_port *p = port_of(bad_dom);
    struct virtio_net_hdr vh = { 0 };
    struct xnv_memport_stats ms;
    xnv_memport_stats(p, &ms);
    uint64_t want = ms.received + n;
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    ck_assert_uint_eq(port_wait_received(p, want, 2000), want);
}

/* 17 (steered): frames steered to queue 1, buffers posted on queue 0 only.
 * The queue-0 thread holding them sleeps until the guest posts buffers on
 * queue 1 (it does not poll queue 0's ring, which has room), then delivers
 * them there at once. */
START_TEST(hostile17_steered_queue_without_buffers_does_not_spin)
{
    bad_up_steered_to_1();
    tfe_post_rx(&bad, 0, 64);
    uint32_t len = build_tcp_frame(frame, 0, 500);
    inject_read(4, len);
    struct xnv_queue_stats s0, s1;
    usleep(50000);
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, 0, &s0);
    usleep(1000000);
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, 0, &s1);
    unsigned long loops = (unsigned long)(s1.idle_loops - s0.idle_loops);
    ck_assert_msg(loops < 20, "queue 0's thread went round %lu times in 1 s with nothing to do", loops);
    tfe_post_rx(&bad, 1, 8);
    uint16_t fl, gs;
    uint8_t gt;
    int got_q1 = 0;
    for (int i = 0; i < 20000 && got_q1 < 4; i++, usleep(100))      /* well before the stall poll */
        if (tfe_recv(&bad, 1, got, sizeof got, &fl, &gt, &gs) == (int)len)
            got_q1++;
    ck_assert_int_eq(got_q1, 4);
    ck_assert_int_eq(tfe_recv(&bad, 0, got, sizeof got, &fl, &gt, &gs), -1);
    assert_innocent_flows();
}
END_TEST

/* 1 (steered): queue 1's RX producer runs more than a ring ahead; a frame
 * read on queue 0 and steered there finds it: the vif is disconnected. */
START_TEST(hostile01_steered_rx_producer_jump_is_fatal)
{
    bad_up_steered_to_1();
    bad.q[1].rx.sring->req_prod += 1000;
    inject_read(1, build_tcp_frame(frame, 0, 500));
    assert_bad_closed_with_error("RX request producer more than a ring ahead");
    assert_innocent_flows();
}
END_TEST

/* 19: thousands of notifications without work: bounded CPU, others fine. */
START_TEST(hostile19_event_storm_bounded)
{
    bad_up();
    double c0 = cpu_seconds();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 200000; i++)
        xnv_evtchn_notify(bad.ch, (xnv_port_t)bad.q[0].port_tx);
    assert_innocent_flows();
    usleep(200000);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    double cpu = cpu_seconds() - c0;
    /* the sender itself is one core at most; the backend adds little */
    ck_assert_msg(cpu < wall * 1.6 + 0.2, "cpu %.2fs over %.2fs wall", cpu, wall);
    struct xnv_queue_stats s;
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s);
    ck_assert_uint_lt(s.notify_recv, 200000);         /* collapsed, not one wakeup each */
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)bad_dom, 0), XenbusStateConnected);
}
END_TEST

/* 19b: a storm that goes on: after 16 empty wakeups in a row the pause
 * between the wakeups it causes grows (1 ms, then 2, 4 ... 64 ms, doubling
 * every 16), so three seconds of it cost the backend about 150 wakeups
 * (about 1800 when the pause began after 256 and doubled every 256, which
 * under TCG cost the rig's honest guest half its throughput); and real work
 * from the same guest is served at once afterwards. */
START_TEST(hostile19_long_storm_pause_grows)
{
    bad_up();
    struct xnv_queue_stats s0, s1;
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s0);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 20; i++)
            xnv_evtchn_notify(bad.ch, (xnv_port_t)bad.q[0].port_tx);
        usleep(200);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 3000);
    xnv_netback_stats(w.nb, (xnv_domid_t)bad_dom, 0, -1, &s1);
    unsigned long wakeups = (unsigned long)(s1.notify_recv - s0.notify_recv);
    ck_assert_msg(wakeups < 400, "%lu wakeups in a 3 s storm", wakeups);
    ck_assert_uint_gt(wakeups, 32);             /* it was a storm, and it was served */
    /* the storm's pause is at its longest now; a real frame ends it */
    uint32_t len = build_udp_frame(frame, 200);
    ck_assert_int_eq(tfe_frame_to_port(&w, &bad, bad_dom, frame, len, got, sizeof got), (int)len);
    assert_innocent_flows();
}
END_TEST

/* 20: a frontend flipping its state in a loop. */
START_TEST(hostile20_state_flipping_bounded)
{
    bad_up();
    for (int i = 0; i < 300; i++) {
        tfe_set_state(&bad, i % 2 ? XenbusStateConnected : XenbusStateInitialising);
        xnv_netback_process(w.nb);
    }
    struct xnv_vif_info info[2];
    ck_assert_uint_eq(xnv_netback_list(w.nb, info, 2), 2);
    assert_innocent_flows();
}
END_TEST

/* 21: bad keys: Closed with an error naming the key; nothing else affected. */
static void bad_key_case(const char *key, const char *val, const char *needle)
{
    tfe_connect(&bad, 1, key, val);
    assert_bad_closed_with_error(needle);
    assert_innocent_flows();
}

START_TEST(hostile21_zero_queues) { bad_key_case("multi-queue-num-queues", "0", "multi-queue-num-queues"); }
END_TEST
START_TEST(hostile21_too_many_queues) { bad_key_case("multi-queue-num-queues", "99", "multi-queue-num-queues"); }
END_TEST
START_TEST(hostile21_no_rx_copy) { bad_key_case("request-rx-copy", "0", "request-rx-copy"); }
END_TEST
START_TEST(hostile21_garbage_ring_ref) { bad_key_case("tx-ring-ref", "12abc", "tx-ring-ref"); }
END_TEST
START_TEST(hostile21_garbage_feature) { bad_key_case("feature-sg", "maybe", "feature-sg"); }
END_TEST
START_TEST(hostile21_missing_event_channel)
{
    bad.omit_key = "event-channel";     /* one channel per queue (no split ones offered) */
    bad_key_case(NULL, NULL, "event-channel is missing");
}
END_TEST

START_TEST(hostile21_missing_ring_ref)
{
    bad.omit_key = "rx-ring-ref";
    bad_key_case(NULL, NULL, "rx-ring-ref is missing");
}
END_TEST

START_TEST(hostile21_unparsable_mac)
{
    char path[128];
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/0/mac", bad_dom);
    xnv_xs_write(w.dom0, XNV_XS_NO_TX, path, "zz:16:3e", 8);
    bad_key_case(NULL, NULL, "MAC");
}
END_TEST

/* 22: the domain is destroyed mid-transfer; then connect/disconnect loops. */
START_TEST(hostile22_domain_destroyed_mid_transfer)
{
    bad_up();
    uint32_t len = build_udp_frame(frame, 1400);
    for (int i = 0; i < 50; i++)
        tfe_send(&bad, 0, frame, len, 4096, 0, 0, 0);
    xnv_sim_domain_destroy(w.sim, (xnv_domid_t)bad_dom);
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateClosed, 3000));
    assert_innocent_flows();
}
END_TEST

START_TEST(hostile22_connect_disconnect_loop)
{
    for (int i = 0; i < 30; i++) {
        tfe_free(&bad);
        tfe_init(&bad, &w, (xnv_domid_t)bad_dom, 0);
        tfe_set_state(&bad, XenbusStateInitialising);
        ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateInitWait, 2000));
        tfe_connect(&bad, 1 + i % 2, NULL, NULL);
        ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateConnected, 2000));
        tfe_set_state(&bad, XenbusStateClosed);
        ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateClosed, 2000));
    }
    assert_innocent_flows();
}
END_TEST

Suite *xnv_suite_netback_hostile(void)
{
    Suite *s = suite_create("netback_hostile");
    TCase *c = tcase_create("hostile");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, hostile01_live_producer_jump_is_fatal_and_isolated);
    tcase_add_test(c, hostile01_inconsistent_ring_refused_at_connect);
    tcase_add_test(c, hostile01_steered_rx_producer_jump_is_fatal);
    tcase_add_test(c, hostile05_cross_page_slot_fatal_and_isolated);
    tcase_add_test(c, hostile13_bad_grants_get_error_responses);
    tcase_add_test(c, hostile17_no_rx_buffers_stall_then_recover);
    tcase_add_test(c, hostile19_event_storm_bounded);
    tcase_add_test(c, hostile19_long_storm_pause_grows);
    tcase_add_test(c, hostile20_state_flipping_bounded);
    tcase_add_test(c, hostile21_zero_queues);
    tcase_add_test(c, hostile21_too_many_queues);
    tcase_add_test(c, hostile21_no_rx_copy);
    tcase_add_test(c, hostile21_garbage_ring_ref);
    tcase_add_test(c, hostile21_garbage_feature);
    tcase_add_test(c, hostile21_unparsable_mac);
    tcase_add_test(c, hostile22_domain_destroyed_mid_transfer);
    tcase_add_test(c, hostile22_connect_disconnect_loop);
    tcase_add_test(c, hostile21_missing_event_channel);
    tcase_add_test(c, hostile21_missing_ring_ref);
    suite_add_tcase(s, c);
    TCase *slow = tcase_create("waiting");
    tcase_set_timeout(slow, 60);
    tcase_add_checked_fixture(slow, setup_long_stall, teardown);
    tcase_add_test(slow, hostile17_short_of_buffers_does_not_spin);
    tcase_add_test(slow, hostile17_steered_queue_without_buffers_does_not_spin);
    suite_add_tcase(s, slow);
    return s;
}
