/* xnv-hostile's modes (tools/xnv-hostile, the rig's hostile guest) against
 * the netback engine over the simulated hypervisor, an honest guest beside:
 * each abuse gets the outcome hostile-inputs.md asks for, the hostile vif
 * comes back to InitWait after every round, and the honest guest's traffic
 * still flows at the end.  The tool's own frontend.c and modes.c are linked
 * into the test runner as they are (TEST_TOOL_OBJS in the Makefile). */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "../../tools/xnv-hostile/hostile.h"

static struct world w;
static struct tfe good;
static int good_dom, bad_dom;
static struct hfe bad;
static pthread_t pump_thread;
static atomic_bool pump_stop;

/* The control plane, and a broadcast frame for the hostile vif now and then
 * (so that its RX buffers get used), while a mode runs in the test thread. */
static void *pump(void *arg)
{
    struct xnv_port *p = arg;
    uint8_t frame[200];
    memset(frame, 0xff, sizeof frame);
    frame[12] = 0x88;
    frame[13] = 0xb5;
    struct virtio_net_hdr vh = { 0 };
    for (unsigned i = 0; !atomic_load(&pump_stop); i++) {
        xnv_netback_process(w.nb);
        if (i % 100 == 0)
            xnv_memport_inject(p, 0, &vh, frame, sizeof frame);
        usleep(500);
    }
    return NULL;
}

static void setup(void)
{
    world_init(&w, 2, 60000);
    world_guest_up(&w, &good, &good_dom, "honest", "00:16:3e:00:00:0c", true);
    bad_dom = xnv_sim_domain_create(w.sim, "hostile");
    ck_assert_int_eq(xl_add_vif(&w, (xnv_domid_t)bad_dom, 0, "00:16:3e:00:00:0b", NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)bad_dom, 0, XenbusStateInitWait, 2000));
    xl_hotplug_connected(&w, (xnv_domid_t)bad_dom, 0);
    char err[256];
    ck_assert_msg(hfe_open(&bad, xnv_sim_hv_open(w.sim, (xnv_domid_t)bad_dom), 0, err, sizeof err) == 0, "%s",
                  err);
    atomic_store(&pump_stop, false);
    pthread_create(&pump_thread, NULL, pump, world_vif_port(&w, bad_dom));
    ck_assert_int_eq(hfe_reset(&bad), 0);
}

static void stop_pump(void)
{
    if (!atomic_exchange(&pump_stop, true))
        pthread_join(pump_thread, NULL);
}

static void teardown(void)
{
    stop_pump();
    hfe_close(&bad);
    tfe_free(&good);
    world_free(&w);
}

/* What a mode's report must contain (NULL: nothing more than coming back). */
struct expect {
    const char *mode;
    const char *needle1, *needle2;
};

static const struct expect expects[] = {
    { "prod-ahead", "backend state 6", "more than a ring ahead" },
    { "prod-backwards", "backend state 6", "more than a ring ahead" },
    { "rx-prod-ahead", "backend state 6", "RX request producer" },
    { "long-chain", "backend state 6", "20 or more slots" },
    { "zero-size", "backend state 4", "error response" },
    { "size-mismatch", "backend state 6", "error:" },
    { "bad-grants", "error response(s), error:", "crosses its page" },
    { "readonly-rx", "backend state 4", " error, 0 data" },
    { "event-storm", "backend state 4", NULL },
    { "xs-garbage", "multi-queue-num-queues=0: 6", "request-rx-copy=0: 6" },
    { "state-flip", NULL, NULL },
    { "reconnect-loop", "8 of 8", NULL },
};

START_TEST(every_mode_is_refused_and_the_honest_guest_keeps_flowing)
{
    ck_assert_uint_eq(hostile_nmodes, sizeof expects / sizeof expects[0]);
    for (unsigned i = 0; i < hostile_nmodes; i++) {
        const struct hostile_mode *m = &hostile_modes[i];
        ck_assert_str_eq(m->name, expects[i].mode);
        char out[1024] = "";
        m->run(&bad, out, sizeof out);
        if (getenv("XNV_TEST_LOG"))
            fprintf(stderr, "mode %s: %s\n", m->name, out);
        ck_assert_msg(!expects[i].needle1 || strstr(out, expects[i].needle1), "mode %s: %s", m->name, out);
        ck_assert_msg(!expects[i].needle2 || strstr(out, expects[i].needle2), "mode %s: %s", m->name, out);
        /* read-only RX buffers: the frames for the guest were refused, not none came */
        ck_assert_msg(strcmp(m->name, "readonly-rx") || !strstr(out, "responses: 0 error"), "%s", out);
        ck_assert_msg(hfe_reset(&bad) == 0, "mode %s: the backend did not return to InitWait", m->name);
    }
    ck_assert_uint_eq(xnv_netback_list(w.nb, NULL, 0), 2);
    stop_pump();
    uint8_t frame[400], got[400];
    uint32_t len = build_udp_frame(frame, 300);
    ck_assert_int_eq(tfe_frame_to_port(&w, &good, good_dom, frame, len, got, sizeof got), (int)len);
    tfe_post_rx(&good, 0, 4);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(world_vif_port(&w, good_dom), 0, &vh, frame, len), 0);
    uint16_t fl, gs;
    uint8_t gt;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100)) {
        xnv_netback_process(w.nb);
        n = tfe_recv(&good, 0, got, sizeof got, &fl, &gt, &gs);
    }
    ck_assert_int_eq(n, (int)len);
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)good_dom, 0), XenbusStateConnected);
}
END_TEST

static uint64_t requests_of(int dom)
{
    struct xnv_sim_counters c;
    xnv_sim_counters(w.sim, (xnv_domid_t)dom, &c);
    return c.xs_requests;
}

/* After a fatal mode the backend holds the vif Closed for 2 s: the tool
 * waits for InitWait on a watch, as a stock frontend does, instead of
 * reading the backend's state 20 times a second (about 40 reads more per
 * wait, load on the rig's xenstored that blurred what the backend costs). */
START_TEST(the_tool_waits_for_the_backend_on_a_watch)
{
    char out[1024] = "";
    hostile_modes[0].run(&bad, out, sizeof out);
    ck_assert_msg(strstr(out, "error"), "%s", out);
    uint64_t r0 = requests_of(bad_dom), t0 = hfe_now_ms();
    ck_assert_int_eq(hfe_reset(&bad), 0);
    uint64_t waited = hfe_now_ms() - t0, requests = requests_of(bad_dom) - r0;
    ck_assert_msg(waited >= 1500, "InitWait after %llu ms: no hold to wait through", (unsigned long long)waited);
    ck_assert_msg(requests <= 30, "%llu xenstore requests for one reset over %llu ms", (unsigned long long)requests,
                  (unsigned long long)waited);
}
END_TEST

Suite *xnv_suite_hostile_guest(void)
{
    Suite *s = suite_create("hostile_guest");
    TCase *c = tcase_create("hostile_guest");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, 180);
    tcase_add_test(c, every_mode_is_refused_and_the_honest_guest_keeps_flowing);
    tcase_add_test(c, the_tool_waits_for_the_backend_on_a_watch);
    suite_add_tcase(s, c);
    return s;
}
