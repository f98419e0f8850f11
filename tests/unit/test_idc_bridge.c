/* The guest agent's data path with direct channels: two guests, each with
 * xnv-netfront bridged to a port (the TAP) and a channel set attached to
 * the bridge.  Frames for the peer take the channel, the rest the vif. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "skip.h"
#include "thread_nice.h"
#include "xnv/idc.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/parse.h"
#include "xnv/port.h"
#include "xnv/thread.h"

struct agent {
    int dom;
    uint8_t mac[6];
    struct xnv_hv *hv, *idc_hv;
    struct xnv_netfront *nf;
    struct xnv_port *tap;
    struct xnv_nf_bridge *br;
    struct xnv_idc *idc;
};

static struct world w;
static struct agent ag[2];
static pthread_t pump;
static atomic_bool stop_pump;
static pthread_mutex_t ctrl_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t frame[70000], got[70000];

static void quiet(void *arg, int level, const char *msg) { (void)arg; (void)level; (void)msg; }

static void *pump_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_pump)) {
        pthread_mutex_lock(&ctrl_lock);
        xnv_netback_process(w.nb);
        for (int i = 0; i < 2; i++)
            if (ag[i].nf)
                xnv_nf_ctrl_process(ag[i].nf);
        pthread_mutex_unlock(&ctrl_lock);
        usleep(300);
    }
    return NULL;
}

static void agent_up(struct agent *a, const char *name, const char *mac)
{
    a->dom = xnv_sim_domain_create(w.sim, name);
    xnv_sim_set_share_limit(w.sim, (xnv_domid_t)a->dom, 4096);
    xnv_parse_mac(mac, a->mac);
    xl_add_vif(&w, (xnv_domid_t)a->dom, 0, mac, NULL);
    xl_hotplug_connected(&w, (xnv_domid_t)a->dom, 0);
    a->hv = xnv_sim_hv_open(w.sim, (xnv_domid_t)a->dom);
    a->idc_hv = xnv_sim_hv_open(w.sim, (xnv_domid_t)a->dom);
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.connect_timeout_ms = 0;
    o.log = quiet;
    char err[256];
    pthread_mutex_lock(&ctrl_lock);
    a->nf = xnv_nf_open(a->hv, 0, &o, err, sizeof err);
    pthread_mutex_unlock(&ctrl_lock);
    ck_assert_msg(a->nf != NULL, "%s", err);
    for (int i = 0; i < 10000 && xnv_nf_state(a->nf) != XNV_NF_CONNECTED; i++)
        usleep(1000);
    ck_assert_int_eq(xnv_nf_state(a->nf), XNV_NF_CONNECTED);
    a->tap = xnv_memport_open(name, 256);
    a->br = xnv_nf_bridge_start(a->nf, a->tap, err, sizeof err);
    ck_assert_msg(a->br != NULL, "%s", err);
    struct xnv_idc_options io;
    xnv_idc_options_default(&io);
    io.log = quiet;
    io.stall_ms = 5000;                 /* a stopped peer outlives the tests */
    a->idc = xnv_idc_open(a->idc_hv, 0, &io, err, sizeof err);
    ck_assert_msg(a->idc != NULL, "%s", err);
    ck_assert_int_eq(xnv_nf_bridge_set_channels(a->br, a->idc, err, sizeof err), 0);
}

static void agent_down(struct agent *a)
{
    xnv_nf_bridge_stop(a->br);
    xnv_idc_close(a->idc);
    pthread_mutex_lock(&ctrl_lock);
    struct xnv_netfront *nf = a->nf;
    a->nf = NULL;
    pthread_mutex_unlock(&ctrl_lock);
    xnv_nf_close(nf);
    xnv_port_close(a->tap);
    xnv_hv_close(a->idc_hv);
    xnv_hv_close(a->hv);
}

static void setup(void)
{
    world_init_channels(&w, 1, "xenbr0");
    atomic_store(&stop_pump, false);
    memset(ag, 0, sizeof ag);
    pthread_create(&pump, NULL, pump_main, NULL);
    agent_up(&ag[0], "a", "00:16:3e:00:02:01");
    agent_up(&ag[1], "b", "00:16:3e:00:02:02");
}

static void teardown(void)
{
    agent_down(&ag[0]);
    agent_down(&ag[1]);
    atomic_store(&stop_pump, true);
    pthread_join(pump, NULL);
    world_free(&w);
}

static bool channel_up(void)
{
    struct xnv_idc_peer_info p0, p1;
    for (int i = 0; i < 10000; i++) {
        if (xnv_idc_peer(ag[0].idc, (xnv_domid_t)ag[1].dom, &p0) == 0 && p0.tx == XNV_IDC_UP &&
            xnv_idc_peer(ag[1].idc, (xnv_domid_t)ag[0].dom, &p1) == 0 && p1.tx == XNV_IDC_UP)
            return true;
        usleep(500);
    }
    return false;
}

static int take(struct xnv_port *p, struct virtio_net_hdr *vh)
{
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = xnv_memport_take(p, 0, vh, got, sizeof got);
    return n;
}

START_TEST(peer_frames_take_the_channel_both_ways)
{
    ck_assert(channel_up());
    for (int dir = 0; dir < 2; dir++) {
        struct agent *s = &ag[dir], *d = &ag[1 - dir];
        uint32_t len = build_tcp_frame(frame, 0, 3000);
        memcpy(frame, d->mac, 6);
        memcpy(frame + 6, s->mac, 6);
        struct virtio_net_hdr vh = { 0 };
        ck_assert_int_eq(xnv_memport_inject(s->tap, 0, &vh, frame, len), 0);
        struct virtio_net_hdr rvh;
        ck_assert_int_eq(take(d->tap, &rvh), (int)len);
        ck_assert_mem_eq(got, frame, len);
        struct xnv_idc_stats st;
        xnv_idc_stats(s->idc, &st);
        ck_assert_uint_eq(st.tx_frames, 1);
    }
    /* Neither frame passed through the backend's ports. */
    struct xnv_memport_stats ps;
    xnv_memport_stats(world_vif_port(&w, ag[0].dom), &ps);
    ck_assert_uint_eq(ps.sent, 0);
    struct xnv_nf_bridge_stats bs;
    xnv_nf_bridge_stats(ag[1].br, &bs);
    ck_assert_uint_eq(bs.to_port, 1);
    ck_assert_uint_eq(bs.from_port, 1);
}
END_TEST

/* The frames a pass of the bridge's thread sends a peer are announced to
 * it once, when the pass ends (not once per batch, nor never: the peer's
 * channel thread sleeps until told, or for its 200 ms look). */
START_TEST(a_peer_is_told_when_the_pass_ends)
{
    ck_assert(channel_up());
    struct agent *s = &ag[0], *d = &ag[1];
    uint32_t len = build_tcp_frame(frame, 0, 3000);
    memcpy(frame, d->mac, 6);
    memcpy(frame + 6, s->mac, 6);
    struct virtio_net_hdr vh = { 0 }, rvh;
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(xnv_memport_inject(s->tap, 0, &vh, frame, len), 0);
        ck_assert_int_eq(take(d->tap, &rvh), (int)len);
        ck_assert_mem_eq(got, frame, len);
    }
    usleep(50000);                      /* the receiver idle: it asks to be told */
    struct xnv_idc_peer_info p0, p1;
    ck_assert_int_eq(xnv_idc_peer(s->idc, (xnv_domid_t)d->dom, &p0), 0);
    ck_assert_int_eq(xnv_memport_inject(s->tap, 0, &vh, frame, len), 0);
    ck_assert_int_eq(take(d->tap, &rvh), (int)len);
    ck_assert_int_eq(xnv_idc_peer(s->idc, (xnv_domid_t)d->dom, &p1), 0);
    ck_assert_uint_eq(p1.notifies, p0.notifies + 1);
}
END_TEST

START_TEST(other_frames_take_the_vif)
{
    ck_assert(channel_up());
    uint32_t len = build_tcp_frame(frame, 0, 500);
    static const uint8_t stranger[6] = { 0x00, 0x16, 0x3e, 0x00, 0x09, 0x09 };
    memcpy(frame, stranger, 6);
    memcpy(frame + 6, ag[0].mac, 6);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(ag[0].tap, 0, &vh, frame, len), 0);
    struct virtio_net_hdr rvh;
    int n = -1;
    struct xnv_port *vif = world_vif_port(&w, ag[0].dom);
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = xnv_memport_take(vif, 0, &rvh, got, sizeof got);
    ck_assert_int_eq(n, (int)len);
    struct xnv_idc_stats st;
    xnv_idc_stats(ag[0].idc, &st);
    ck_assert_uint_eq(st.tx_frames, 0);
}
END_TEST

static void frame_to(const struct agent *dst, const uint8_t *dmac, const struct agent *src, uint32_t payload,
                     uint8_t seq, uint32_t *len)
{
    *len = build_tcp_frame(frame, 0, payload);
    memcpy(frame, dst ? dst->mac : dmac, 6);
    memcpy(frame + 6, src->mac, 6);
    frame[*len - 1] = seq;
}

/* A peer that stops taking frames leaves its ring full.  The sender holds
 * that peer's frames, in order, and goes on with everyone else's; it does
 * not retry in a loop that takes the CPU the peer needs to drain its ring;
 * when the peer takes frames again every held one arrives, in order,
 * nothing dropped. */
START_TEST(a_full_channel_holds_its_frames_and_no_one_elses)
{
    static const uint8_t stranger[6] = { 0x00, 0x16, 0x3e, 0x00, 0x09, 0x09 };
    ck_assert(channel_up());
    xnv_nf_bridge_stop(ag[1].br);       /* b's channels are no longer read */
    ag[1].br = NULL;
    struct virtio_net_hdr vh = { 0 };
    struct xnv_idc_stats st0, st1;
    uint32_t len;
    unsigned n = 0;
    /* Until the ring is full, then 20 frames more: held. */
    for (int i = 0; i < 4000 && n < 600; i++) {
        xnv_idc_stats(ag[0].idc, &st0);
        if (st0.full && n >= st0.tx_frames + 20)
            break;
        frame_to(&ag[1], NULL, &ag[0], 5000, (uint8_t)n, &len);   /* 2 buffers: b's port holds them all */
        if (xnv_memport_inject(ag[0].tap, 0, &vh, frame, len) == 0)
            n++;
        usleep(200);
    }
    ck_assert_uint_gt(st0.full, 0);
    /* Someone else's frame is not kept behind them. */
    frame_to(NULL, stranger, &ag[0], 500, 0xee, &len);
    ck_assert_int_eq(xnv_memport_inject(ag[0].tap, 0, &vh, frame, len), 0);
    struct xnv_port *vif = world_vif_port(&w, ag[0].dom);
    struct virtio_net_hdr rvh;
    int got_len = -1;
    for (int i = 0; i < 2000 && got_len < 0; i++, usleep(100))
        got_len = xnv_memport_take(vif, 0, &rvh, got, sizeof got);
    ck_assert_int_eq(got_len, (int)len);
    ck_assert_uint_eq(got[len - 1], 0xee);
    /* The held frames wait without a busy loop: a look every 10 ms. */
    xnv_idc_stats(ag[0].idc, &st0);
    usleep(300 * 1000);
    xnv_idc_stats(ag[0].idc, &st1);
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(ag[0].idc, (xnv_domid_t)ag[1].dom, &pi), 0);
    ck_assert_int_eq(pi.tx, XNV_IDC_UP);
    /* About 30 looks of up to 20 held frames each; retrying on a 20 us
     * timer made thousands. */
    ck_assert_uint_lt(st1.full - st0.full, 30 * 20 * 3);
    /* b takes frames again: all of them arrive, in order. */
    char err[256];
    ag[1].br = xnv_nf_bridge_start(ag[1].nf, ag[1].tap, err, sizeof err);
    ck_assert_msg(ag[1].br != NULL, "%s", err);
    ck_assert_int_eq(xnv_nf_bridge_set_channels(ag[1].br, ag[1].idc, err, sizeof err), 0);
    for (unsigned k = 0; k < n; k++) {
        int r = take(ag[1].tap, &rvh);
        ck_assert_int_gt(r, 0);
        ck_assert_uint_eq(got[r - 1], (uint8_t)k);
    }
    struct xnv_nf_bridge_stats bs;
    xnv_nf_bridge_stats(ag[0].br, &bs);
    ck_assert_uint_eq(bs.from_port_dropped, 0);
}
END_TEST

/* The agents' data-path threads (one per queue, and the channels' thread)
 * run at nice -10, ahead of the guest's processes that make and take their
 * frames, as the guest kernel's own network drivers run; an operator's value
 * reaches the running threads (root only). */
START_TEST(data_path_threads_run_ahead_of_the_guests_processes)
{
    ck_assert_uint_eq(wait_threads_at_nice("nf-queue", XNV_DATA_PATH_NICE, 2, 2000), 2);
    ck_assert_uint_eq(wait_threads_at_nice("nf-channels", XNV_DATA_PATH_NICE, 2, 2000), 2);
    xnv_nf_bridge_set_nice(ag[0].br, 5);
    ck_assert_uint_eq(threads_at_nice("nf-queue", 5), 1);
    ck_assert_uint_eq(threads_at_nice("nf-channels", 5), 1);
    ck_assert_uint_eq(threads_at_nice("nf-queue", XNV_DATA_PATH_NICE), 1);
}
END_TEST

Suite *xnv_suite_idc_bridge(void)
{
    Suite *s = suite_create("idc_bridge");
    TCase *tc = tcase_create("agent");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, peer_frames_take_the_channel_both_ways);
    tcase_add_test(tc, a_peer_is_told_when_the_pass_ends);
    tcase_add_test(tc, other_frames_take_the_vif);
    tcase_add_test(tc, a_full_channel_holds_its_frames_and_no_one_elses);
    if (geteuid() == 0)
        tcase_add_test(tc, data_path_threads_run_ahead_of_the_guests_processes);
    else
        xnv_test_skip("idc_bridge", "data_path_threads_run_ahead_of_the_guests_processes",
                      "needs root to raise a thread's priority");
    suite_add_tcase(s, tc);
    return s;
}
