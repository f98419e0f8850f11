/* The direct inter-VM channel over the simulated hypervisor: discovery
 * through xnv-netbackd, channel setup, traffic both ways, and every way a
 * channel ends (peer closes, dies, stalls; our own reconnection). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "idc_fixture.h"

static struct idc_world W;
static uint8_t frame[70000], got[70000];

static void setup(void) { idcw_init(&W, "xenbr0", 3); }
static void teardown(void) { idcw_free(&W); }

START_TEST(discovery_lists_opted_in_peers_only)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1], *c = &W.g[2];
    idcw_open(&W, a);
    idcw_open(&W, b);             /* c runs no channels */
    ck_assert(idcw_pump_until_up(&W, a, b));
    char *v = idcw_peer_entry(&W, a, b);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, b->mac);
    free(v);
    v = idcw_peer_entry(&W, b, a);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, a->mac);
    free(v);
    ck_assert_ptr_null(idcw_peer_entry(&W, a, c));
    ck_assert_uint_eq(xnv_idc_npeers(a->idc), 1);
    /* Each guest reads its own list only. */
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/0/xnv-peers/%d", a->dom, b->dom);
    ck_assert_ptr_null(xnv_xs_read(c->hv, XNV_XS_NO_TX, path, &len));
    ck_assert_int_eq(errno, EACCES);
    ck_assert_ptr_null(xnv_xs_read(b->hv, XNV_XS_NO_TX, path, &len));
}
END_TEST

START_TEST(discovery_off_when_bridge_not_listed)
{
    idcw_free(&W);
    idcw_init(&W, "br7", 2);
    idcw_open(&W, &W.g[0]);
    idcw_open(&W, &W.g[1]);
    idcw_pump(&W, 200);
    ck_assert_ptr_null(idcw_peer_entry(&W, &W.g[0], &W.g[1]));
    ck_assert_uint_eq(xnv_idc_npeers(W.g[0].idc), 0);
    idcw_frame(frame, 200, &W.g[1], &W.g[0]);
    struct xnv_nf_frame f = { .data = frame, .len = 200 };
    ck_assert_int_eq(xnv_idc_send(W.g[0].idc, &f), 0);
}
END_TEST

START_TEST(peers_only_on_the_same_bridge)
{
    idcw_free(&W);
    idcw_init(&W, "xenbr0,br1", 2);
    idcw_add(&W, "br1");
    idcw_add(&W, "br1");
    for (unsigned i = 0; i < 4; i++)
        idcw_open(&W, &W.g[i]);
    ck_assert(idcw_pump_until_up(&W, &W.g[0], &W.g[1]));
    ck_assert(idcw_pump_until_up(&W, &W.g[2], &W.g[3]));
    for (unsigned i = 0; i < 4; i++)
        ck_assert_uint_eq(xnv_idc_npeers(W.g[i].idc), 1);
    ck_assert_ptr_null(idcw_peer_entry(&W, &W.g[0], &W.g[2]));
    ck_assert_ptr_null(idcw_peer_entry(&W, &W.g[3], &W.g[1]));
}
END_TEST

START_TEST(setup_publishes_for_the_peer_only)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1], *c = &W.g[2];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    struct xnv_idc_peer_info pi;
    ck_assert_int_eq(xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pi), 0);
    ck_assert_int_eq(pi.rx, XNV_IDC_UP);
    ck_assert_int_eq(pi.tx, XNV_IDC_UP);
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/%d/data/xnv-channel/%d/ring-ref", a->dom, b->dom);
    char *v = xnv_xs_read(b->hv, XNV_XS_NO_TX, path, &len);
    ck_assert_ptr_nonnull(v);
    free(v);
    ck_assert_ptr_null(xnv_xs_read(c->hv, XNV_XS_NO_TX, path, &len));
    ck_assert_int_eq(errno, EACCES);
    snprintf(path, sizeof path, "/local/domain/%d/data/xnv-channel/%d", a->dom, b->dom);
    unsigned n;
    struct xs_permissions *p = xnv_xs_get_perms(a->hv, XNV_XS_NO_TX, path, &n);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(p[0].id, (unsigned)a->dom);
    ck_assert_uint_eq(p[0].perms, XS_PERM_NONE);
    ck_assert_uint_eq(p[1].id, (unsigned)b->dom);
    ck_assert_uint_eq(p[1].perms, XS_PERM_READ);
    free(p);
}
END_TEST

/* Send len bytes from s to d over the channel and check what arrives. */
static void one_way(struct idc_guest *s, struct idc_guest *d, uint32_t len)
{
    idcw_frame(frame, len, d, s);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    ck_assert_int_eq(xnv_idc_send(s->idc, &f), 1);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(idcw_recv(&W, d, &r), 1);
    ck_assert_uint_eq(r.len, len);
    ck_assert_mem_eq(got, frame, len);
}

START_TEST(traffic_both_ways)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    static const uint32_t sizes[] = { 60, 1514, 4096, 4097, 9000, 65535 };
    for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        one_way(a, b, sizes[i]);
        one_way(b, a, sizes[i]);
    }
    struct xnv_idc_stats st;
    xnv_idc_stats(a->idc, &st);
    ck_assert_uint_eq(st.tx_frames, 6);
    ck_assert_uint_eq(st.rx_frames, 6);
    ck_assert_uint_eq(st.rx_errors, 0);
}
END_TEST

START_TEST(offloads_cross_the_channel)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    /* A TCP segment with a partial checksum and GSO, as a TAP hands it over. */
    uint32_t len = build_tcp_frame(frame, 0, 20000);
    memcpy(frame, W.g[1].macb, 6);
    struct xnv_nf_frame f = { .data = frame, .len = len, .meta = XNV_NF_META_VNET };
    f.vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    f.vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    f.vh.gso_size = 1448;
    f.vh.hdr_len = 54;
    f.vh.csum_start = 34;
    f.vh.csum_offset = 16;
    ck_assert_int_eq(xnv_idc_send(a->idc, &f), 1);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(idcw_recv(&W, b, &r), 1);
    ck_assert_uint_eq(r.len, len);
    ck_assert_uint_eq(r.vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(r.vh.gso_size, 1448);
    ck_assert_uint_eq(r.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    ck_assert_uint_eq(r.vh.csum_start, 34);
    ck_assert_uint_eq(r.vh.csum_offset, 16);
    ck_assert_mem_eq(got + 54, frame + 54, len - 54);
}
END_TEST

START_TEST(many_frames_wrap_the_ring_with_few_notifications)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    unsigned sent = 0, recvd = 0;
    while (recvd < 3000) {
        idcw_frame(frame, 1000 + sent % 500, b, a);
        frame[20] = (uint8_t)sent;
        struct xnv_nf_frame f = { .data = frame, .len = 1000 + sent % 500 };
        int rc = sent < 3000 ? xnv_idc_send(a->idc, &f) : -EAGAIN;
        ck_assert(rc == 1 || rc == -EAGAIN);
        if (rc == 1)
            sent++;
        struct xnv_nf_frame r[16];
        for (unsigned k = 0; k < 16; k++)
            r[k] = (struct xnv_nf_frame){ .data = got + k * 2048, .cap = 2048 };
        if (rc == -EAGAIN || sent % 40 == 0) {
            int n = xnv_idc_recv(b->idc, r, 16);
            for (int k = 0; k < n; k++, recvd++) {
                ck_assert_uint_eq(r[k].len, 1000 + recvd % 500);
                ck_assert_uint_eq(got[k * 2048 + 20], (uint8_t)recvd);
            }
        }
    }
    struct xnv_idc_peer_info pa, pb;
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pa);
    xnv_idc_peer(b->idc, (xnv_domid_t)a->dom, &pb);
    /* The sender polls its ring: it asks for notifications only when full,
     * and the receiver too is told only when it asked. */
    ck_assert_uint_lt(pa.notifies, 3000 / 4);
    ck_assert_uint_lt(pb.notifies, 3000 / 4);
    ck_assert_uint_eq(pa.fallbacks, 0);
    /* The channel set's counters (the agent's stats line) add its peers'
     * notifications up and count each wakeup of the channel thread. */
    struct xnv_idc_stats sa, sb;
    xnv_idc_stats(a->idc, &sa);
    xnv_idc_stats(b->idc, &sb);
    ck_assert_uint_gt(pa.notifies, 0);
    ck_assert_uint_eq(sa.notifies, pa.notifies);
    ck_assert_uint_eq(sb.notifies, pb.notifies);
    xnv_idc_process(b->idc);
    struct xnv_idc_stats sb2;
    xnv_idc_stats(b->idc, &sb2);
    ck_assert_uint_eq(sb2.wakeups, sb.wakeups + 1);
}
END_TEST

/* A sender that found the ring full is called back when the peer posts
 * buffers: not before (no buffers, no call), and once they come (the
 * notification the full ring asked for reached the sender). */
static unsigned room_calls;
static void count_room(void *ctx) { (void)ctx; room_calls++; }

/* a and b with channels, a called back on room, and a's ring towards b
 * filled with 1500-byte frames; how many went before it was full. */
static int fill_ring_watching_room(struct idc_guest *a, struct idc_guest *b)
{
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    room_calls = 0;
    xnv_idc_on_room(a->idc, count_room, NULL);
    static uint8_t small[1500];
    idcw_frame(small, sizeof small, b, a);
    struct xnv_nf_frame f = { .data = small, .len = sizeof small };
    int rc, sent = 0;
    while ((rc = xnv_idc_send(a->idc, &f)) == 1)
        sent++;
    ck_assert_int_eq(rc, -EAGAIN);
    ck_assert_int_gt(sent, 16);
    return sent;
}

/* b reads 4 of the small frames (their buffers are posted again). */
static void read_four(struct idc_guest *b)
{
    struct xnv_nf_frame r[4];
    for (unsigned k = 0; k < 4; k++)
        r[k] = (struct xnv_nf_frame){ .data = got + k * 2048, .cap = 2048 };
    ck_assert_int_eq(xnv_idc_recv(b->idc, r, 4), 4);
}

/* Pump until the room callback came (at most a second). */
static void pump_until_room(void)
{
    for (int i = 0; i < 200 && room_calls == 0; i++)
        idcw_pump(&W, 5);
}

START_TEST(a_full_ring_wakes_its_sender_when_the_peer_posts_buffers)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    struct xnv_idc_stats st0, st;
    fill_ring_watching_room(a, b);
    xnv_idc_stats(a->idc, &st0);                  /* setup's notifications counted already */
    idcw_pump(&W, 20);
    ck_assert_uint_eq(room_calls, 0);
    read_four(b);
    pump_until_room();
    ck_assert_uint_eq(room_calls, 1);
    idcw_frame(frame, 1500, b, a);
    struct xnv_nf_frame f = { .data = frame, .len = 1500 };
    ck_assert_int_eq(xnv_idc_send(a->idc, &f), 1);
    xnv_idc_stats(a->idc, &st);
    ck_assert_uint_eq(st.full, 1);
    ck_assert_uint_eq(st.room_signals - st0.room_signals, 1);
    xnv_idc_on_room(a->idc, NULL, NULL);
}
END_TEST

/* A large frame waiting on a full ring is woken once, when the peer has
 * posted the buffers it needs, not by every refill before that (which would
 * wake, fail and put it to sleep again, over and over). */
START_TEST(a_large_frame_is_woken_once_its_buffers_are_there)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    fill_ring_watching_room(a, b);
    idcw_frame(frame, 60000, b, a);                /* 15 buffers of 4 KiB */
    struct xnv_nf_frame big = { .data = frame, .len = 60000 };
    ck_assert_int_eq(xnv_idc_send(a->idc, &big), -EAGAIN);
    /* b reads 4 small frames, twice: 8 buffers posted again, too few. */
    for (int round = 0; round < 2; round++) {
        read_four(b);
        idcw_pump(&W, 20);
    }
    ck_assert_uint_eq(room_calls, 0);
    /* 8 more: 16 posted, enough; one call, and the frame goes. */
    read_four(b);
    read_four(b);
    pump_until_room();
    ck_assert_uint_eq(room_calls, 1);
    ck_assert_int_eq(xnv_idc_send(a->idc, &big), 1);
    xnv_idc_on_room(a->idc, NULL, NULL);
}
END_TEST

START_TEST(a_batch_goes_in_one_grant_copy)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1], *c = &W.g[2];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    static uint8_t bufs[XNV_IDC_SEND_MAX][9000];
    struct xnv_nf_frame f[XNV_IDC_SEND_MAX];
    int verdict[XNV_IDC_SEND_MAX];
    for (unsigned i = 0; i < XNV_IDC_SEND_MAX; i++) {
        /* every fourth frame is for a guest without a channel */
        idcw_frame(bufs[i], 9000, i % 4 == 3 ? c : b, a);
        bufs[i][60] = (uint8_t)i;
        f[i] = (struct xnv_nf_frame){ .data = bufs[i], .len = 9000 };
    }
    struct xnv_sim_counters c0, c1;
    xnv_sim_counters(W.w.sim, (xnv_domid_t)a->dom, &c0);
    ck_assert_int_eq(xnv_idc_send_many(a->idc, f, XNV_IDC_SEND_MAX, verdict), 12);
    xnv_sim_counters(W.w.sim, (xnv_domid_t)a->dom, &c1);
    ck_assert_uint_eq(c1.copy_calls - c0.copy_calls, 1);
    for (unsigned i = 0; i < XNV_IDC_SEND_MAX; i++)
        ck_assert_int_eq(verdict[i], i % 4 == 3 ? 0 : 1);
    for (unsigned i = 0; i < XNV_IDC_SEND_MAX; i++) {
        if (i % 4 == 3)
            continue;
        struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
        ck_assert_int_eq(idcw_recv(&W, b, &r), 1);
        ck_assert_uint_eq(got[60], i);
    }
    ck_assert_int_eq(xnv_idc_send_many(a->idc, f, XNV_IDC_SEND_MAX + 1, verdict), -EINVAL);
}
END_TEST

/* A sender with more frames at hand sends batch after batch and tells the
 * peer once, after the last: its channel thread wakes once for all of them.
 * A peer whose ring fills is told at once (it would post no buffers
 * otherwise). */
START_TEST(batches_with_more_at_hand_wake_the_peer_once)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    static uint8_t bufs[4][9000];
    struct xnv_nf_frame f[4];
    int verdict[4];
    struct xnv_idc_peer_info p0, p1;
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &p0);
    unsigned sent = 0;
    for (unsigned batch = 0; batch < 3; batch++) {
        for (unsigned i = 0; i < 4; i++, sent++) {
            idcw_frame(bufs[i], 9000, b, a);
            bufs[i][60] = (uint8_t)sent;
            f[i] = (struct xnv_nf_frame){ .data = bufs[i], .len = 9000 };
        }
        ck_assert_int_eq(xnv_idc_send_batch(a->idc, f, 4, verdict, true), 4);
    }
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &p1);
    ck_assert_uint_eq(p1.notifies, p0.notifies);
    xnv_idc_notify_owed(a->idc);
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &p1);
    ck_assert_uint_eq(p1.notifies, p0.notifies + 1);
    xnv_idc_notify_owed(a->idc);          /* nothing owed now */
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &p0);
    ck_assert_uint_eq(p0.notifies, p1.notifies);
    for (unsigned i = 0; i < sent; i++) {
        struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
        ck_assert_int_eq(idcw_recv(&W, b, &r), 1);
        ck_assert_uint_eq(r.len, 9000);
        ck_assert_uint_eq(got[60], (uint8_t)i);
    }
    struct xnv_nf_frame none = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_idc_recv(b->idc, &none, 1), 0);   /* it asks to be told again */

    /* until the ring is full, with more at hand all the while */
    int rc = 1;
    for (unsigned n = 0; rc == 1 && n < 1000; n++) {
        idcw_frame(bufs[0], 9000, b, a);
        f[0] = (struct xnv_nf_frame){ .data = bufs[0], .len = 9000 };
        xnv_idc_send_batch(a->idc, f, 1, verdict, true);
        rc = verdict[0];
    }
    ck_assert_int_eq(rc, -EAGAIN);
    xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &p1);
    ck_assert_uint_eq(p1.notifies, p0.notifies + 1);
}
END_TEST

START_TEST(unknown_and_group_destinations_take_the_vif)
{
    struct idc_guest *a = &W.g[0], *b = &W.g[1], *c = &W.g[2];
    idcw_open(&W, a);
    idcw_open(&W, b);
    ck_assert(idcw_pump_until_up(&W, a, b));
    idcw_frame(frame, 100, c, a);
    struct xnv_nf_frame f = { .data = frame, .len = 100 };
    ck_assert_int_eq(xnv_idc_send(a->idc, &f), 0);
    memset(frame, 0xff, 6);
    ck_assert_int_eq(xnv_idc_send(a->idc, &f), 0);
    f.len = 10;
    ck_assert_int_eq(xnv_idc_send(a->idc, &f), -EINVAL);
}
END_TEST

Suite *xnv_suite_idc(void)
{
    Suite *s = suite_create("idc");
    TCase *tc = tcase_create("channel");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, discovery_lists_opted_in_peers_only);
    tcase_add_test(tc, discovery_off_when_bridge_not_listed);
    tcase_add_test(tc, peers_only_on_the_same_bridge);
    tcase_add_test(tc, setup_publishes_for_the_peer_only);
    tcase_add_test(tc, traffic_both_ways);
    tcase_add_test(tc, offloads_cross_the_channel);
    tcase_add_test(tc, many_frames_wrap_the_ring_with_few_notifications);
    tcase_add_test(tc, a_full_ring_wakes_its_sender_when_the_peer_posts_buffers);
    tcase_add_test(tc, a_large_frame_is_woken_once_its_buffers_are_there);
    tcase_add_test(tc, a_batch_goes_in_one_grant_copy);
    tcase_add_test(tc, batches_with_more_at_hand_wake_the_peer_once);
    tcase_add_test(tc, unknown_and_group_destinations_take_the_vif);
    suite_add_tcase(s, tc);
    return s;
}
