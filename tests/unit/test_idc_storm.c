/* A peer that notifies the victim's channel thread in a loop, without
 * frames: the wakeups it causes are throttled as the netback throttles a
 * storming frontend (xnv/storm.h: after 256 empty ones in a row a pause of
 * 1 ms, doubling, at most 64 ms), for its ports only: an honest peer's
 * frames keep arriving at once meanwhile. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "idc_fixture.h"
#include "idc_hpeer.h"
#include "../../interdomain/idc_int.h"
#include "xnv/storm.h"

static struct idc_world W;
static struct idc_guest *vic, *good, *bad;
static struct hpeer H;
static atomic_bool storming;
static int storm_port;
static uint8_t frame[2048], got[2048];

static void setup(void)
{
    idcw_init(&W, "xenbr0", 3);
    vic = &W.g[0];
    good = &W.g[1];
    bad = &W.g[2];
    hpeer_world_up(&W, &H, NULL);
    /* The hostile guest binds to the event channel the victim left for it. */
    char *v = hpeer_victim_key(&H, "event-channel");
    ck_assert_ptr_nonnull(v);
    storm_port = xnv_evtchn_bind_interdomain(H.ch, (xnv_domid_t)vic->dom, (xnv_port_t)atoi(v));
    free(v);
    ck_assert_int_ge(storm_port, 0);
}

static void teardown(void)
{
    hpeer_free(&H);
    idcw_free(&W);
}

static uint64_t ms_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void *storm(void *arg)
{
    (void)arg;
    while (atomic_load(&storming)) {
        for (int i = 0; i < 20; i++)
            xnv_evtchn_notify(H.ch, (xnv_port_t)storm_port);
        usleep(200);
    }
    return NULL;
}

/* The agent's channel thread: wait on the set's fd, process, receive. */
static unsigned serve(int timeout_ms, unsigned *frames)
{
    struct pollfd p = { .fd = xnv_idc_fd(vic->idc), .events = POLLIN };
    int r = poll(&p, 1, timeout_ms);
    xnv_idc_process(vic->idc);
    struct xnv_nf_frame f = { .data = got, .cap = sizeof got };
    *frames += (unsigned)xnv_idc_recv(vic->idc, &f, 1);
    return r > 0;
}

START_TEST(storming_peer_is_paused_alone)
{
    pthread_t th;
    atomic_store(&storming, true);
    pthread_create(&th, NULL, storm, NULL);
    unsigned wakeups = 0, frames = 0, sent = 0;
    uint64_t t0 = ms_now(), last_send = 0, worst = 0;
    while (ms_now() - t0 < 3000) {
        /* Every 100 ms the honest peer sends a frame: it must not wait
         * for the hostile peer's pause. */
        if (ms_now() - last_send >= 100 && frames == sent) {
            idcw_frame(frame, 600, vic, good);
            struct xnv_nf_frame f = { .data = frame, .len = 600 };
            ck_assert_int_eq(xnv_idc_send(good->idc, &f), 1);
            sent++;
            last_send = ms_now();
        }
        unsigned before = frames;
        wakeups += serve(10, &frames);
        if (frames != before && ms_now() - last_send > worst)
            worst = ms_now() - last_send;
    }
    atomic_store(&storming, false);
    pthread_join(th, NULL);
    for (int i = 0; i < 100 && frames < sent; i++)
        serve(10, &frames);
    ck_assert_uint_eq(frames, sent);
    ck_assert_msg(worst < 40, "an honest frame waited %llu ms", (unsigned long long)worst);
    ck_assert_msg(wakeups < 1800, "%u wakeups in a 3 s storm", wakeups);
    ck_assert_uint_gt(wakeups, 256);            /* it was a storm, and it was served */
    struct xnv_idc_stats st;
    xnv_idc_stats(vic->idc, &st);
    ck_assert_uint_gt(st.throttled, 0);
}
END_TEST

/* The victim's record of the hostile peer. */
static struct idc_peer *hostile_peer(void)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++)
        if (vic->idc->peer[i].used && vic->idc->peer[i].dom == H.dom)
            return &vic->idc->peer[i];
    return NULL;
}

/* Nothing pending on the set's fd (at most a second of events taken). */
static void drain(void)
{
    struct pollfd p = { .fd = xnv_idc_fd(vic->idc), .events = POLLIN };
    for (int i = 0; i < 1000 && poll(&p, 1, 0) > 0; i++)
        xnv_idc_process(vic->idc);
    ck_assert_int_eq(poll(&p, 1, 0), 0);
}

/* A pause ends by itself: the set's fd wakes its thread when the pause is
 * over, with no event from anyone (the timer), and the paused ports are
 * open again.  Without a pause no timer is armed (a wakeup makes no timer
 * call). */
START_TEST(a_pause_ends_by_itself)
{
    drain();
    ck_assert_uint_eq(vic->idc->timer_at, 0);
    struct idc_peer *p = hostile_peer();
    ck_assert_ptr_nonnull(p);
    /* one more empty wakeup makes the longest pause */
    pthread_mutex_lock(&vic->idc->lock);
    p->empty = XNV_STORM_EMPTY_WAKEUPS * 8;
    pthread_mutex_unlock(&vic->idc->lock);
    xnv_evtchn_notify(H.ch, (xnv_port_t)storm_port);
    struct pollfd pf = { .fd = xnv_idc_fd(vic->idc), .events = POLLIN };
    ck_assert_int_eq(poll(&pf, 1, 2000), 1);
    xnv_idc_process(vic->idc);
    ck_assert(p->rx.masked || p->tx.masked);
    ck_assert_uint_ne(vic->idc->timer_at, 0);
    ck_assert_int_eq(poll(&pf, 1, 2000), 1);       /* the timer, nothing else */
    ck_assert(xnv_now_ns() >= p->pause_until_ns);  /* not before the pause's end */
    xnv_idc_process(vic->idc);
    ck_assert(!p->rx.masked && !p->tx.masked);
    ck_assert_uint_eq(vic->idc->timer_at, 0);
    /* the timer's expiry was cleared: the fd does not stay readable (a
     * thread polling it would spin) */
    ck_assert_int_eq(poll(&pf, 1, 0), 0);
}
END_TEST

Suite *xnv_suite_idc_storm(void)
{
    Suite *s = suite_create("idc_storm");
    TCase *tc = tcase_create("storm");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, storming_peer_is_paused_alone);
    tcase_add_test(tc, a_pause_ends_by_itself);
    suite_add_tcase(s, tc);
    return s;
}
