/* Hostile backend -> userspace netfront: items 23-30 of hostile-inputs.md,
 * each sending exactly that input through the scripted backend and
 * asserting the outcome. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "nf_test_backend.h"
#include "ring_fixture.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/port.h"

static struct nf_env e;
static uint8_t frame[70000], got[70000];

static void setup(void)
{
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
}
static void teardown(void) { nf_env_stop(&e); }

static struct xnv_nf_stats stats(void)
{
    struct xnv_nf_stats st;
    xnv_nf_stats(e.nf, XNV_NF_ALL_QUEUES, &st);
    return st;
}

/* One good frame each way still works. */
static void ring_still_alive(void)
{
    uint32_t len = build_udp_frame(frame, 77);
    ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &(struct xnv_rx_meta){ 0 }), 0);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), 1);
    ck_assert_uint_eq(r.len, len);
    ck_assert(memcmp(got, frame, len) == 0);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);
    ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, NULL, 2000), (int)len);
}

/* The frontend ends up broken: its data path refuses, its state is Closed,
 * and the log says why. */
static void assert_broken(const char *why)
{
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_BROKEN, 5000), 0);
    ck_assert_int_eq(nftb_front_state(&e.be), 6);
    struct xnv_nf_frame f = { .data = frame, .len = build_udp_frame(frame, 10) };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), -EIO);
    ck_assert_msg(nf_env_log_has(&e, why), "log lacks \"%s\":\n%s", why, e.log);
    ck_assert(nf_env_guest_can_share(&e, 1024));      /* everything revoked */
}

/* Send one frame and let it sit unanswered. */
static void one_frame_in_flight(void)
{
    struct xnv_nf_frame f = { .data = frame, .len = build_udp_frame(frame, 1000) };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);
}

/* ---- 23 ---------------------------------------------------------------------- */

START_TEST(hostile23_tx_rsp_prod_beyond_ring)
{
    one_frame_in_flight();
    nftb_lock(&e.be);
    netif_tx_back_ring_t *tx = &e.be.q[0].tx;
    tx->sring->rsp_prod = tx->rsp_prod_pvt + XNV_NETIF_TX_RING_SIZE + 1;
    nftb_notify(&e.be, 0, false);
    nftb_unlock(&e.be);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), -EIO);
    assert_broken("more than a ring ahead");
    /* Out of BROKEN only on request: then a clean connection again. */
    ck_assert_int_eq(xnv_nf_reconnect(e.nf), 0);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 5000), 0);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ring_still_alive();
}
END_TEST

START_TEST(hostile23_tx_more_responses_than_requests)
{
    one_frame_in_flight();
    nftb_lock(&e.be);
    netif_tx_back_ring_t *tx = &e.be.q[0].tx;
    for (int i = 0; i < 3; i++) {
        netif_tx_response_t *rsp = RING_GET_RESPONSE(tx, tx->rsp_prod_pvt++);
        rsp->id = 0;
        rsp->status = NETIF_RSP_OKAY;
    }
    nftb_push_tx(&e.be, 0);
    nftb_unlock(&e.be);
    struct xnv_nf_frame f = { .data = frame, .len = build_udp_frame(frame, 10) };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), -EIO);
    assert_broken("more TX responses than requests");
}
END_TEST

START_TEST(hostile23_rx_rsp_prod_goes_backwards)
{
    uint32_t len = build_udp_frame(frame, 50);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &(struct xnv_rx_meta){ 0 }), 0);
    struct xnv_nf_frame r[4];
    static uint8_t bufs[4][2048];
    for (int i = 0; i < 4; i++)
        r[i] = (struct xnv_nf_frame){ .data = bufs[i], .cap = sizeof bufs[i] };
    ck_assert_int_eq(nf_env_recv(&e, 0, r, 4, 2000), 3);
    nftb_lock(&e.be);
    e.be.q[0].rx.sring->rsp_prod -= 2;
    nftb_notify(&e.be, 0, true);
    nftb_unlock(&e.be);
    ck_assert_int_eq(nf_env_recv(&e, 0, r, 1, 2000), -EIO);
    assert_broken("gone backwards");
}
END_TEST

/* ---- 24 ---------------------------------------------------------------------- */

static void tx_respond_raw(uint16_t id)
{
    nftb_lock(&e.be);
    netif_tx_back_ring_t *tx = &e.be.q[0].tx;
    netif_tx_response_t *rsp = RING_GET_RESPONSE(tx, tx->rsp_prod_pvt++);
    rsp->id = id;
    rsp->status = NETIF_RSP_OKAY;
    nftb_push_tx(&e.be, 0);
    nftb_unlock(&e.be);
}

START_TEST(hostile24_tx_response_id_out_of_range)
{
    one_frame_in_flight();
    tx_respond_raw(300);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), -EIO);
    assert_broken("TX response id out of range");
}
END_TEST

START_TEST(hostile24_tx_response_for_request_not_outstanding)
{
    one_frame_in_flight();          /* uses id 0 */
    tx_respond_raw(7);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), -EIO);
    assert_broken("not outstanding");
}
END_TEST

START_TEST(hostile24_tx_response_answered_twice)
{
    one_frame_in_flight();          /* id 0 */
    one_frame_in_flight();          /* id 1 */
    tx_respond_raw(0);
    tx_respond_raw(0);              /* id 0 again: no longer outstanding */
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), -EIO);
    assert_broken("not outstanding");
}
END_TEST

/* ---- 25 and 26: malformed receive responses are dropped --------------------- */

/* Backend side, lock held: consume the next posted request, answer it. */
static void rx_put(uint16_t flags, int16_t status, uint16_t offset)
{
    netif_rx_back_ring_t *rx = &e.be.q[0].rx;
    netif_rx_request_t req;
    RING_COPY_REQUEST(rx, rx->req_cons, &req);
    rx->req_cons++;
    netif_rx_response_t *rsp = RING_GET_RESPONSE(rx, rx->rsp_prod_pvt++);
    rsp->id = req.id;
    rsp->offset = offset;
    rsp->flags = flags;
    rsp->status = status;
}

static void rx_put_extra(uint8_t type, uint8_t gso_type, uint16_t gso_size, uint8_t more)
{
    netif_rx_back_ring_t *rx = &e.be.q[0].rx;
    rx->req_cons++;
    netif_extra_info_t x;
    memset(&x, 0, sizeof x);
    x.type = type;
    x.flags = more;
    x.u.gso.type = gso_type;
    x.u.gso.size = gso_size;
    memcpy(RING_GET_RESPONSE(rx, rx->rsp_prod_pvt++), &x, sizeof x);
}

/* The frontend drops it, counts one rx_error, and the ring lives on. */
static void expect_rx_dropped(void)
{
    nftb_lock(&e.be);
    nftb_push_rx(&e.be, 0);
    nftb_unlock(&e.be);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 300), 0);
    ck_assert_uint_eq(stats().rx_errors, 1);
    ck_assert_uint_eq(stats().rx_packets, 0);
    ck_assert_int_eq(xnv_nf_state(e.nf), XNV_NF_CONNECTED);
    ring_still_alive();
    ck_assert_uint_eq(stats().rx_errors, 1);
}

START_TEST(hostile25_rx_negative_status)
{
    nftb_lock(&e.be);
    rx_put(0, NETIF_RSP_ERROR, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile25_rx_offset_plus_status_beyond_page)
{
    nftb_lock(&e.be);
    rx_put(0, 100, 4050);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile25_rx_bad_slot_inside_a_chain)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_more_data, 1000, 0);
    rx_put(NETRXF_more_data, -5, 0);
    rx_put(0, 500, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_missing_extra)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info, 200, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_invalid_extra_type)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info, 200, 0);
    rx_put_extra(XEN_NETIF_EXTRA_TYPE_MAX + 2, 0, 0, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_extra_of_type_zero)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info, 200, 0);
    rx_put_extra(XEN_NETIF_EXTRA_TYPE_NONE, 0, 0, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_more_than_18_slots)
{
    nftb_lock(&e.be);
    for (int i = 0; i < 19; i++)
        rx_put(i < 18 ? NETRXF_more_data : 0, 100, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_gso_size_zero)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info | NETRXF_csum_blank, 200, 0);
    rx_put_extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4, 0, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_gso_unknown_type)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info | NETRXF_csum_blank, 200, 0);
    rx_put_extra(XEN_NETIF_EXTRA_TYPE_GSO, 9, 1448, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_gso_on_garbage_headers)
{
    /* A well-formed GSO extra on a frame with no TCP header in it. */
    nftb_lock(&e.be);
    rx_put(NETRXF_extra_info | NETRXF_csum_blank, 200, 0);
    rx_put_extra(XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

START_TEST(hostile26_chain_runs_past_the_responses)
{
    nftb_lock(&e.be);
    rx_put(NETRXF_more_data, 1000, 0);
    nftb_unlock(&e.be);
    expect_rx_dropped();
}
END_TEST

/* ---- 27: a grant still held at revoke time ----------------------------------- */

START_TEST(hostile27_grant_held_at_revoke_is_lost_not_reused)
{
    nftb_lock(&e.be);
    netif_rx_back_ring_t *rx = &e.be.q[0].rx;
    grant_ref_t held = RING_GET_REQUEST(rx, rx->req_cons)->gref;
    nftb_unlock(&e.be);
    void *map = xnv_gnt_map(e.be.hv, e.fdom, &held, 1, true);
    ck_assert_ptr_nonnull(map);

    nftb_leave(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTING, 2000), 0);
    ck_assert_uint_eq(stats().lost_pages, 1);
    ck_assert_msg(nf_env_log_has(&e, "still held 1 shared page"), "%s", e.log);

    nftb_return(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 5000), 0);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    nftb_lock(&e.be);
    rx = &e.be.q[0].rx;
    RING_IDX prod = rx->sring->req_prod;
    for (RING_IDX i = rx->req_cons; i != prod; i++)
        ck_assert_uint_ne(RING_GET_REQUEST(rx, i)->gref, held);
    nftb_unlock(&e.be);
    ring_still_alive();
    /* The page stays with the backend: writing it touches nothing of ours. */
    memset(map, 0x5a, 4096);
    ring_still_alive();
    ck_assert_uint_eq(stats().rx_errors, 0);
    xnv_gnt_unmap(e.be.hv, map, 1);
}
END_TEST

START_TEST(hostile27_grant_held_at_close)
{
    /* Hold the TX ring page itself. */
    char *v = nftb_read(&e.be, e.be.fe_path, "tx-ring-ref");
    ck_assert_ptr_nonnull(v);
    grant_ref_t ref = (grant_ref_t)strtoul(v, NULL, 10);
    free(v);
    void *map = xnv_gnt_map(e.be.hv, e.fdom, &ref, 1, true);
    ck_assert_ptr_nonnull(map);
    struct xnv_nf_stats before = stats();
    ck_assert_uint_eq(before.lost_pages, 0);
    xnv_nf_close(e.nf);
    e.nf = NULL;
    ck_assert(nf_env_log_has(&e, "still held 1 shared page"));
    xnv_gnt_unmap(e.be.hv, map, 1);
}
END_TEST

/* ---- 28: trusted=0 ------------------------------------------------------------- */

START_TEST(hostile28_untrusted_backend_sees_only_zeroes_and_frames)
{
    nf_env_stop(&e);
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = 0 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert(!info.trusted);
    ck_assert(nf_env_log_has(&e, "untrusted"));

    /* Every receive buffer it was given is zero. */
    static uint8_t page[4096], zero[4096];
    nftb_lock(&e.be);
    netif_rx_back_ring_t *rx = &e.be.q[0].rx;
    RING_IDX prod = rx->sring->req_prod;
    unsigned checked = 0;
    for (RING_IDX i = rx->req_cons; i != prod; i++, checked++) {
        ck_assert_int_eq(nftb_peek_gref(&e.be, RING_GET_REQUEST(rx, i)->gref, page, 4096), 0);
        ck_assert(memcmp(page, zero, 4096) == 0);
    }
    nftb_unlock(&e.be);
    ck_assert_uint_ge(checked, 18);

    /* A long frame, then a short one in the same page: the rest of the
     * page holds zeroes, not the older frame. */
    uint32_t len = build_udp_frame(frame, 3000);
    memset(frame + 42, 0xab, 3000);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);
    nftb_lock(&e.be);
    grant_ref_t first = RING_GET_REQUEST(&e.be.q[0].tx, e.be.q[0].tx.req_cons)->gref;
    nftb_unlock(&e.be);
    ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, NULL, 2000), (int)len);
    uint32_t small = build_udp_frame(frame, 58);
    f.len = small;
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);
    nftb_lock(&e.be);
    grant_ref_t second = RING_GET_REQUEST(&e.be.q[0].tx, e.be.q[0].tx.req_cons)->gref;
    nftb_unlock(&e.be);
    ck_assert_uint_eq(first, second);                 /* the same page again */
    ck_assert_int_eq(nftb_peek_gref(&e.be, second, page, 4096), 0);
    ck_assert(memcmp(page, frame, small) == 0);
    ck_assert(memcmp(page + small, zero, 4096 - small) == 0);
    ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, NULL, 2000), (int)small);
    ring_still_alive();
}
END_TEST

/* ---- 29: event storm ------------------------------------------------------------- */

static volatile bool storming;
static unsigned long storm_sent;

static void *storm(void *arg)
{
    (void)arg;
    while (storming) {
        nftb_notify(&e.be, 0, true);
        nftb_notify(&e.be, 0, false);
        storm_sent += 2;
        if ((storm_sent & 127) == 0)
            sched_yield();          /* fair even where threads take turns (valgrind) */
    }
    return NULL;
}

static double thread_cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

START_TEST(hostile29_event_storm_is_throttled)
{
    storming = true;
    storm_sent = 0;
    pthread_t th;
    pthread_create(&th, NULL, storm, NULL);
    /* The way an application waits: poll the queue fd, receive. */
    unsigned wakeups = 0;
    double cpu0 = thread_cpu_ms(), t0 = wall_ms();
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    for (;;) {
        double el = wall_ms() - t0;
        /* A storm of 10 000 notifications at least, however long a busy
         * machine takes to send them. */
        if ((el >= 500 && storm_sent > 10000 && stats().throttled > 0) || el >= 10000)
            break;
        struct pollfd p = { .fd = xnv_nf_queue_fd(e.nf, 0), .events = POLLIN };
        if (poll(&p, 1, 50) > 0) {
            wakeups++;
            ck_assert_int_eq(xnv_nf_recv(e.nf, 0, &r, 1), 0);
        }
    }
    double cpu = thread_cpu_ms() - cpu0;
    storming = false;
    pthread_join(th, NULL);
    double wall = wall_ms() - t0;
    fprintf(stderr, "hostile29: %lu notifications sent, %u wakeups, %.1f ms CPU in %.0f ms\n",
            storm_sent, wakeups, cpu, wall);
    ck_assert_uint_gt(storm_sent, 10000);
    ck_assert_uint_lt(wakeups, 400 * (unsigned)(wall / 500 + 1));
    ck_assert(cpu < wall / 5);
    ck_assert_uint_gt(stats().throttled, 0);
    ck_assert_int_eq(xnv_nf_state(e.nf), XNV_NF_CONNECTED);
    /* Real work afterwards goes through promptly. */
    double t1 = wall_ms();
    ring_still_alive();
    ck_assert(wall_ms() - t1 < 1000);
}
END_TEST

/* ---- 30: device removed right after resume or reconnect ---------------------------- */

static int hook_phase;      /* 1: armed, 2: the frontend left Connected */

static void remove_hook(struct nftb *b, int front_state, void *arg)
{
    (void)arg;
    /* Right as the frontend says Connected again, before the backend answers. */
    if (hook_phase == 1 && front_state != 4) {
        hook_phase = 2;
    } else if (hook_phase == 2 && front_state == 4) {
        hook_phase = 0;
        nftb_remove(b);
    }
}

static void assert_removed_cleanly(void)
{
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_REMOVED, 5000), 0);
    struct xnv_nf_frame f = { .data = frame, .len = build_udp_frame(frame, 10) };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), -ENOTCONN);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_nf_recv(e.nf, 0, &r, 1), -ENOTCONN);
    ck_assert(nf_env_guest_can_share(&e, 1024));
    /* Nothing was written back into the removed directory. */
    char *v = nftb_read(&e.be, e.be.fe_path, "state");
    ck_assert_ptr_null(v);
    v = nftb_read(&e.be, e.be.fe_path, "tx-ring-ref");
    ck_assert_ptr_null(v);
}

START_TEST(hostile30_removed_right_after_reconnect)
{
    /* The bridge keeps moving frames from another thread meanwhile. */
    struct xnv_port *port = xnv_memport_open("xnv0", 64);
    char err[128];
    struct xnv_nf_bridge *b = xnv_nf_bridge_start(e.nf, port, err, sizeof err);
    ck_assert_msg(b, "%s", err);
    uint32_t len = build_udp_frame(frame, 100);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 16; i++)
        xnv_memport_inject(port, 0, &vh, frame, len);
    hook_phase = 1;
    e.be.hook = remove_hook;
    nftb_restart(&e.be);
    assert_removed_cleanly();
    xnv_nf_bridge_sync(b);
    struct xnv_memport_stats ms;
    xnv_memport_stats(port, &ms);
    ck_assert(!ms.carrier);
    for (int i = 0; i < 16; i++)
        xnv_memport_inject(port, 0, &vh, frame, len);
    usleep(20000);
    xnv_nf_bridge_stop(b);
    xnv_port_close(port);
    e.be.hook = NULL;
}
END_TEST

START_TEST(hostile30_removed_right_after_resume)
{
    nftb_restore(&e.be);
    nftb_remove(&e.be);
    assert_removed_cleanly();
}
END_TEST

START_TEST(hostile30_removed_then_back)
{
    nftb_remove(&e.be);
    assert_removed_cleanly();
    /* The toolstack attaches the device again: the frontend follows. */
    nftb_stop(&e.be);
    nftb_start(&e.be, e.sim, e.bdom, e.fdom, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 5000), 0);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ring_still_alive();
}
END_TEST

Suite *xnv_suite_netfront_hostile(void)
{
    Suite *s = suite_create("netfront-hostile");
    TCase *t = tcase_create("backend");
    tcase_set_timeout(t, 60);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, hostile23_tx_rsp_prod_beyond_ring);
    tcase_add_test(t, hostile23_tx_more_responses_than_requests);
    tcase_add_test(t, hostile23_rx_rsp_prod_goes_backwards);
    tcase_add_test(t, hostile24_tx_response_id_out_of_range);
    tcase_add_test(t, hostile24_tx_response_for_request_not_outstanding);
    tcase_add_test(t, hostile24_tx_response_answered_twice);
    tcase_add_test(t, hostile25_rx_negative_status);
    tcase_add_test(t, hostile25_rx_offset_plus_status_beyond_page);
    tcase_add_test(t, hostile25_rx_bad_slot_inside_a_chain);
    tcase_add_test(t, hostile26_missing_extra);
    tcase_add_test(t, hostile26_invalid_extra_type);
    tcase_add_test(t, hostile26_extra_of_type_zero);
    tcase_add_test(t, hostile26_more_than_18_slots);
    tcase_add_test(t, hostile26_gso_size_zero);
    tcase_add_test(t, hostile26_gso_unknown_type);
    tcase_add_test(t, hostile26_gso_on_garbage_headers);
    tcase_add_test(t, hostile26_chain_runs_past_the_responses);
    tcase_add_test(t, hostile27_grant_held_at_revoke_is_lost_not_reused);
    tcase_add_test(t, hostile27_grant_held_at_close);
    tcase_add_test(t, hostile28_untrusted_backend_sees_only_zeroes_and_frames);
    tcase_add_test(t, hostile29_event_storm_is_throttled);
    tcase_add_test(t, hostile30_removed_right_after_reconnect);
    tcase_add_test(t, hostile30_removed_right_after_resume);
    tcase_add_test(t, hostile30_removed_then_back);
    suite_add_tcase(s, t);
    return s;
}
