/* The netback engine end to end over the simulated hypervisor: handshake,
 * traffic both ways with offloads, multi-queue, close/reconnect, removal. */
#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "thread_nice.h"
#include "skip.h"
#include "ring_fixture.h"
#include "xnv/features.h"
#include "xnv/offload.h"

static struct world w;
static struct tfe fe;
static int dom;
static uint8_t frame[70000], got[70000];

static void add_guest(void)
{
    dom = xnv_sim_domain_create(w.sim, "guest1");
    ck_assert_int_gt(dom, 0);
    ck_assert_int_eq(xl_add_vif(&w, (xnv_domid_t)dom, 0, "00:16:3e:00:00:01", NULL), 0);
    ck_assert_int_eq(tfe_init(&fe, &w, (xnv_domid_t)dom, 0), 0);
}

static void setup(void)
{
    world_init(&w, 4, 60000);
    add_guest();
}

/* An engine that offers split event channels (not its default). */
static void setup_split(void)
{
    world_init_split(&w, 4);
    add_guest();
}

static void teardown(void)
{
    tfe_free(&fe);
    world_free(&w);
}

/* Up to Connected with nq queues. */
static void bring_up(unsigned nq)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, nq, NULL, NULL), 0);
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
}

static int take(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh, unsigned ms)
{
    for (unsigned i = 0; i < ms * 10; i++) {
        int n = xnv_memport_take(p, q, vh, got, sizeof got);
        if (n >= 0)
            return n;
        usleep(100);
    }
    return -1;
}

START_TEST(handshake_creates_interface_and_advertises)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    char name[16];
    snprintf(name, sizeof name, "vif%d.0", dom);
    ck_assert_ptr_nonnull(world_port(&w, name));      /* before InitWait */
    const char *on[] = { "feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
                         "feature-ipv6-csum-offload", "feature-rx-copy",
                         "feature-multicast-control" };
    for (unsigned i = 0; i < sizeof on / sizeof *on; i++) {
        char *v = be_read(&w, (xnv_domid_t)dom, 0, on[i]);
        ck_assert_msg(v && strcmp(v, "1") == 0, "%s", on[i]);
        free(v);
    }
    char *se = be_read(&w, (xnv_domid_t)dom, 0, "feature-split-event-channels");
    ck_assert_str_eq(se, "0");                         /* one channel per queue by default */
    free(se);
    char *rf = be_read(&w, (xnv_domid_t)dom, 0, "feature-rx-flip");
    ck_assert_str_eq(rf, "0");
    free(rf);
    char *mq = be_read(&w, (xnv_domid_t)dom, 0, "multi-queue-max-queues");
    ck_assert_str_eq(mq, "4");
    free(mq);
}
END_TEST

START_TEST(connected_only_after_hotplug_script)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, 1, NULL, NULL), 0);
    ck_assert(!wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 300));
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
    struct xnv_vif_info info[4];
    ck_assert_uint_eq(xnv_netback_list(w.nb, info, 4), 1);
    ck_assert_uint_eq(info[0].queues, 1);
    ck_assert(info[0].features & XNV_F_GSO_TCPV4);
    ck_assert_mem_eq(info[0].mac, "\x00\x16\x3e\x00\x00\x01", 6);
}
END_TEST

START_TEST(tx_frames_reach_the_port_intact)
{
    bring_up(1);
    struct xnv_port *p = w.ports[0];
    struct virtio_net_hdr vh;
    /* one slot */
    uint32_t len = build_tcp_frame(frame, 0, 1000);
    tfe_send(&fe, 0, frame, len, 4096, NETTXF_data_validated, 0, 0);
    ck_assert_int_eq(take(p, 0, &vh, 2000), (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
    /* many slots, partial checksum */
    len = build_tcp_frame(frame, 1, 9000);
    tfe_send(&fe, 0, frame, len, 1000, NETTXF_csum_blank | NETTXF_data_validated, 0, 0);
    ck_assert_int_eq(take(p, 0, &vh, 2000), (int)len);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    ck_assert_uint_eq(vh.csum_start, 54);
    /* identical but for the checksum field, which now holds the pseudo-header sum */
    ck_assert_mem_eq(got, frame, 70);
    ck_assert_mem_eq(got + 72, frame + 72, len - 72);
    /* a 64 KiB GSO frame over 17 slots */
    len = build_tcp_frame(frame, 0, 65000 - 54);
    tfe_send(&fe, 0, frame, len, 4096, NETTXF_csum_blank | NETTXF_data_validated,
             XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    ck_assert_int_eq(take(p, 0, &vh, 2000), (int)len);
    ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(vh.gso_size, 1448);
    ck_assert_uint_eq(vh.hdr_len, 54);
    ck_assert_mem_eq(got + 54, frame + 54, len - 54);
    ck_assert(tfe_wait_tx_done(&fe, 0, 2000));
    unsigned bad = 0;
    ck_assert_uint_eq(tfe_tx_responses(&fe, 0, NETIF_RSP_OKAY, &bad), 1 + 10 + 16);   /* 9074 bytes in 1000-byte slots: 10 */
    ck_assert_uint_eq(bad, 0);
    struct xnv_queue_stats s;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &s), 0);
    ck_assert_uint_eq(s.tx_packets, 3);
    ck_assert_uint_ge(s.copy_segments, 26);
}
END_TEST

START_TEST(tx_batches_many_segments_per_copy_call)
{
    bring_up(1);
    uint32_t len = build_udp_frame(frame, 1400);
    /* queue 100 frames before the backend looks: one kick, few copy calls */
    for (int i = 0; i < 100; i++) {
        RING_IDX idx = fe.q[0].tx.req_prod_pvt;
        memcpy(fe.q[0].txbuf + (idx % TFE_BUFS) * 4096u, frame, len);
        netif_tx_request_t r = { .gref = fe.q[0].txref[idx % TFE_BUFS], .offset = 0,
                                 .flags = 0, .id = (uint16_t)(idx % TFE_BUFS), .size = (uint16_t)len };
        tfe_raw_tx(&fe, 0, &r);
    }
    tfe_push_tx(&fe, 0);
    ck_assert(tfe_wait_tx_done(&fe, 0, 3000));
    struct xnv_queue_stats s;
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &s);
    ck_assert_uint_eq(s.tx_packets, 100);
    ck_assert_uint_le(s.copy_calls, 10);
}
END_TEST

START_TEST(rx_frames_reach_the_guest_with_offloads)
{
    bring_up(1);
    tfe_post_rx(&fe, 0, 200);
    struct xnv_port *p = w.ports[0];
    uint16_t flags, gsz = 0;
    uint8_t gtype;
    /* plain */
    uint32_t len = build_tcp_frame(frame, 0, 500);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = tfe_recv(&fe, 0, got, sizeof got, &flags, &gtype, &gsz);
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert_uint_eq(flags & (NETRXF_csum_blank | NETRXF_extra_info), 0);
    /* GSO with partial checksum, 60 KB */
    len = build_tcp_frame(frame, 1, 60000);
    vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
                                  .hdr_len = 74, .gso_size = 1428, .csum_start = 54, .csum_offset = 16 };
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = tfe_recv(&fe, 0, got, sizeof got, &flags, &gtype, &gsz);
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, frame, len);
    ck_assert(flags & NETRXF_csum_blank);
    ck_assert(flags & NETRXF_extra_info);
    ck_assert_uint_eq(gtype, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert_uint_eq(gsz, 1428);
    struct xnv_memport_stats ms;
    xnv_memport_stats(p, &ms);
    ck_assert(ms.offload & XNV_F_GSO_TCPV6);      /* the TAP was told what the guest takes */
}
END_TEST

/* A frontend without partial-checksum support (feature-no-csum-offload)
 * gets checksums completed by the backend, once per frame: frames that
 * wait across several batches for its buffers (each frame read from the
 * port is one more batch over those before it) still arrive correct. */
START_TEST(rx_checksum_completed_once_while_waiting)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, 1, "feature-no-csum-offload", "1"), 0);
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
    struct xnv_port *p = w.ports[0];
    uint32_t len = build_tcp_frame(frame, 0, 1000);
    struct xnv_offload o;
    const char *why;
    ck_assert_int_eq(xnv_offload_from_netif(frame, len, NETTXF_csum_blank, 0, 0, &o, &why), 0);
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&o, &vh);                 /* NEEDS_CSUM, the pseudo-header sum in place */
    for (unsigned i = 0; i < 3; i++) {
        frame[len - 1] = (uint8_t)i;
        ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
        ck_assert_uint_eq(port_wait_received(p, i + 1, 2000), i + 1);   /* read, and waiting for buffers */
    }
    tfe_post_rx(&fe, 0, 8);
    for (unsigned i = 0; i < 3; i++) {
        uint16_t flags, gsz;
        uint8_t gtype;
        int n = -1;
        for (int k = 0; k < 20000 && n < 0; k++, usleep(100))
            n = tfe_recv(&fe, 0, got, sizeof got, &flags, &gtype, &gsz);
        ck_assert_int_eq(n, (int)len);
        ck_assert_uint_eq(got[len - 1], i);
        ck_assert_uint_eq(flags & NETRXF_csum_blank, 0);
        ck_assert_msg(xnv_csum_verify_l4(got, len), "frame %u arrived with a wrong TCP checksum", i);
    }
}
END_TEST

/* Frames wait for guest buffers while more arrive: the backlog grows by 3
 * a round for 60 rounds, so the waiting frames' place in the queue's arena
 * wraps past its end several times.  Every frame arrives whole and in
 * order (the arena is a ring now: a waiting frame is never moved). */
START_TEST(rx_waiting_frames_survive_the_arena_wrapping)
{
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, 1, NULL, NULL), 0);
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
    struct xnv_port *p = w.ports[0];
    struct virtio_net_hdr vh = { 0 };
    uint32_t len = build_tcp_frame(frame, 0, 3000);
    unsigned sent = 0, recvd = 0;
    tfe_post_rx(&fe, 0, 7);                       /* 7 a round: tfe_recv posts each one again */
    for (unsigned round = 0; round < 60; round++) {
        for (unsigned i = 0; i < 10; i++, sent++) {
            memset(frame + 60, (int)(sent * 7), len - 60);
            frame[len - 1] = (uint8_t)sent;
            ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
        }
        ck_assert_uint_eq(port_wait_received(p, sent, 2000), sent);     /* all read: waiting or delivered */
        for (unsigned i = 0; i < 7; i++, recvd++) {
            int n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
            ck_assert_int_eq(n, (int)len);
            ck_assert_uint_eq(got[len - 1], (uint8_t)recvd);
            ck_assert_uint_eq(got[100], (uint8_t)(recvd * 7));
        }
    }
    for (; recvd < sent; recvd++) {
        int n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
        ck_assert_int_eq(n, (int)len);
        ck_assert_uint_eq(got[len - 1], (uint8_t)recvd);
        ck_assert_uint_eq(got[100], (uint8_t)(recvd * 7));
    }
}
END_TEST

/* A bulk flow's frames wait for the guest's buffers.  A small frame of
 * another flow (a ping, a DNS answer) read behind them reaches the guest
 * first; a small frame of the bulk flow itself keeps its place behind the
 * flow's older frames (netback/rx_order.c: no flow is reordered). */
START_TEST(rx_small_frame_of_an_idle_flow_goes_ahead_of_a_waiting_flow)
{
    bring_up(1);
    struct xnv_port *p = w.ports[0];
    struct virtio_net_hdr vh = { 0 };
    uint32_t len = build_tcp_frame(frame, 0, 3000);
    for (unsigned i = 0; i < 6; i++) {
        frame[len - 1] = (uint8_t)i;
        ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    }
    uint8_t tail[128], ping[128];
    uint32_t tail_len = build_tcp_frame(tail, 0, 10);      /* the bulk flow's own */
    uint32_t ping_len = build_udp_frame(ping, 40);         /* another flow */
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, tail, tail_len), 0);
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, ping, ping_len), 0);
    ck_assert_uint_eq(port_wait_received(p, 8, 2000), 8);        /* all read, all waiting */
    tfe_post_rx(&fe, 0, 1);                       /* one at a time: tfe_recv posts it again */
    int n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
    ck_assert_int_eq(n, (int)ping_len);
    ck_assert_mem_eq(got, ping, ping_len);
    for (unsigned i = 0; i < 6; i++) {
        n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
        ck_assert_int_eq(n, (int)len);
        ck_assert_uint_eq(got[len - 1], i);
    }
    n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
    ck_assert_int_eq(n, (int)tail_len);
    ck_assert_mem_eq(got, tail, tail_len);
    /* counted (xnvctl's rx_ahead): the ping alone went ahead */
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &st), 0);
    ck_assert_uint_eq(st.rx_packets, 8);
    ck_assert_uint_eq(st.rx_ahead, 1);
}
END_TEST

/* A 60 KB segmented frame waits for the 16 buffers it needs; a ping read
 * behind it needs one, and the backend asks the guest to notify it at one
 * buffer, not at sixteen: the ping arrives as soon as one is posted. */
START_TEST(rx_small_frame_ahead_waits_for_one_buffer_only)
{
    bring_up(1);
    struct xnv_port *p = w.ports[0];
    uint8_t ping[128];
    uint32_t ping_len = build_udp_frame(ping, 40);
    struct virtio_net_hdr none = { 0 };
    /* one frame first, its buffer not posted again: the ring's first
     * notification request (at one buffer) is used up */
    tfe_post_rx(&fe, 0, 1);
    ck_assert_int_eq(xnv_memport_inject(p, 0, &none, ping, ping_len), 0);
    int n = -1;
    uint16_t fl, gs;
    uint8_t gt;
    unsigned used = 0;
    for (int k = 0; k < 20000 && n < 0; k++, usleep(100))
        n = tfe_take(&fe, 0, got, sizeof got, &fl, &gt, &gs, &used);
    ck_assert_int_eq(n, (int)ping_len);
    uint32_t len = build_tcp_frame(frame, 1, 60000);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
                                 .hdr_len = 74, .gso_size = 1428, .csum_start = 54, .csum_offset = 16 };
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    ping[ping_len - 1] ^= 1;
    ck_assert_int_eq(xnv_memport_inject(p, 0, &none, ping, ping_len), 0);
    ck_assert_uint_eq(port_wait_received(p, 3, 2000), 3);
    usleep(50000);                                /* the queue's thread asleep, waiting for buffers */
    tfe_post_rx(&fe, 0, 1);
    n = tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL);
    ck_assert_int_eq(n, (int)ping_len);
    ck_assert_mem_eq(got, ping, ping_len);
}
END_TEST

/* The data-path threads, named vif<dom>.<dev>-q<n>, run at nice -10: ahead of
 * dom0's ordinary processes, as the kernel's backend runs (root only). */
START_TEST(queue_threads_run_ahead_of_dom0s_processes)
{
    bring_up(2);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "vif%d.0-q", dom);
    ck_assert_uint_eq(wait_threads_at_nice(prefix, -10, 2, 2000), 2);
}
END_TEST

/* Each queue's event channels are opened under the queue's name, which
 * Linux gives their interrupts (evtchn:vif<dom>.<dev>-q<n> in
 * /proc/interrupts, not evtchn:xnv-netbackd for all); the thread that
 * connects keeps its own name. */
START_TEST(event_channels_named_after_their_queue)
{
    char before[16] = "", after[16] = "", want[32], got[32];
    ck_assert_int_eq(prctl(PR_GET_NAME, before, 0, 0, 0), 0);
    bring_up(2);
    ck_assert_int_eq(prctl(PR_GET_NAME, after, 0, 0, 0), 0);
    ck_assert_str_eq(after, before);
    for (unsigned q = 0; q < 2; q++) {
        snprintf(want, sizeof want, "evtchn:vif%d.0-q%u", dom, q);
        ck_assert(xnv_sim_evtchn_peer_name(w.sim, (xnv_domid_t)dom, (xnv_port_t)fe.q[q].port_tx, got, sizeof got));
        ck_assert_str_eq(got, want);
        ck_assert(xnv_sim_evtchn_peer_name(w.sim, (xnv_domid_t)dom, (xnv_port_t)fe.q[q].port_rx, got, sizeof got));
        ck_assert_str_eq(got, want);
    }
}
END_TEST

START_TEST(two_queues_split_event_channels)
{
    bring_up(2);
    struct xnv_vif_info info[2];
    xnv_netback_list(w.nb, info, 2);
    ck_assert_uint_eq(info[0].queues, 2);
    ck_assert_int_ne(fe.q[0].port_tx, fe.q[0].port_rx);
    struct virtio_net_hdr vh;
    uint32_t len = build_udp_frame(frame, 100);
    for (unsigned q = 0; q < 2; q++) {
        frame[50] = (uint8_t)q;
        tfe_send(&fe, q, frame, len, 4096, 0, 0, 0);
        ck_assert_int_eq(take(w.ports[0], q, &vh, 2000), (int)len);
        ck_assert_uint_eq(got[50], q);
        /* counted before the response goes out (the port has it sooner) */
        ck_assert(tfe_wait_tx_done(&fe, q, 2000));
    }
    struct xnv_queue_stats s0, s1;
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 0, &s0);
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 1, &s1);
    ck_assert_uint_eq(s0.tx_packets, 1);
    ck_assert_uint_eq(s1.tx_packets, 1);
}
END_TEST

/* Wait until queue 0's thread went idle after *s (it armed its ring events
 * and is about to sleep; the pause covers its last steps); *s is updated. */
static void wait_idle(struct xnv_queue_stats *s)
{
    struct xnv_queue_stats now;
    for (int i = 0; i < 20000; i++, usleep(100)) {
        xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 0, &now);
        if (now.idle_loops > s->idle_loops)
            break;
    }
    ck_assert_uint_gt(now.idle_loops, s->idle_loops);
    usleep(20000);
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 0, s);
}

/* One vif of one queue, 8 receive buffers posted, its thread gone idle;
 * its stats then in *s. */
static void idle_queue(struct xnv_queue_stats *s)
{
    bring_up(1);
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 0, s);
    tfe_post_rx(&fe, 0, 8);
    wait_idle(s);
}

/* The guest sends one frame of len bytes, which reaches the port. */
static void guest_sends_one(uint32_t len)
{
    struct virtio_net_hdr vh;
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    ck_assert_int_eq(take(w.ports[0], 0, &vh, 2000), (int)len);
    ck_assert(tfe_wait_tx_done(&fe, 0, 2000));
}

/* With one event channel for both rings, a pass of the queue's thread that
 * answers transmit requests and fills receive buffers notifies the guest
 * once: one hypercall and one guest interrupt, not one per ring. */
START_TEST(one_channel_one_notification_per_pass)
{
    struct xnv_queue_stats s0, s1;
    idle_queue(&s0);
    ck_assert_int_eq(fe.q[0].port_tx, fe.q[0].port_rx);   /* the default: one channel */
    uint32_t len = build_udp_frame(frame, 100);
    fe.no_kick = true;                    /* a transmit request waits unannounced... */
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh = { 0 };     /* ...until a frame for the guest wakes the thread */
    ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    ck_assert_int_eq(take(w.ports[0], 0, &vh, 2000), (int)len);
    ck_assert(tfe_wait_tx_done(&fe, 0, 2000));
    unsigned errors = 0;
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
    ck_assert_uint_eq(errors, 0);
    xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, 0, &s1);
    ck_assert_uint_eq(s1.tx_packets - s0.tx_packets, 1);
    ck_assert_uint_eq(s1.rx_packets - s0.rx_packets, 1);
    ck_assert_uint_eq(s1.notify_sent - s0.notify_sent, 1);
}
END_TEST

/* A guest's notification wakes the sleeping thread, which reads the event
 * channel once: reading on until the device says "nothing" cost one more
 * system call per wakeup (a hypervisor trip in a PV dom0). */
START_TEST(one_event_one_channel_read)
{
    struct xnv_queue_stats s0, s1;
    idle_queue(&s0);
    struct xnv_sim_counters c0, c1;
    xnv_sim_counters(w.sim, 0, &c0);
    guest_sends_one(build_udp_frame(frame, 100));
    s1 = s0;
    wait_idle(&s1);
    xnv_sim_counters(w.sim, 0, &c1);
    ck_assert_uint_eq(s1.tx_packets - s0.tx_packets, 1);
    ck_assert_uint_eq(s1.notify_recv - s0.notify_recv, 1);
    ck_assert_uint_eq(c1.evtchn_reads - c0.evtchn_reads, 1);
}
END_TEST

/* A frame each way through an idle queue (its port counting the frames
 * that wait on it, or not); the port's reads that found nothing, and the
 * queue's counts of them and of the reads it left out. */
static uint64_t frame_each_way(bool counted, uint64_t *empty_seen, uint64_t *skipped)
{
    struct xnv_queue_stats s0, s1;
    idle_queue(&s0);
    xnv_memport_set_counted(w.ports[0], counted, false);
    struct xnv_memport_stats m0, m1;
    xnv_memport_stats(w.ports[0], &m0);
    uint32_t len = build_udp_frame(frame, 100);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    unsigned errors = 0;
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
    ck_assert_uint_eq(errors, 0);
    s1 = s0;
    wait_idle(&s1);
    guest_sends_one(len);
    wait_idle(&s1);
    xnv_memport_stats(w.ports[0], &m1);
    ck_assert_uint_eq(s1.rx_packets - s0.rx_packets, 1);
    ck_assert_uint_eq(s1.tx_packets - s0.tx_packets, 1);
    *empty_seen = s1.port_empty_reads - s0.port_empty_reads;
    *skipped = s1.port_reads_skipped - s0.port_reads_skipped;
    return m1.empty_reads - m0.empty_reads;
}

/* The port is read once more after the frame to the guest (is there
 * another?) and once after the frame from it (did dom0 answer at once?),
 * and not again in the passes after those, each of which was one more
 * system call to find nothing. */
START_TEST(port_read_empty_once_per_frame)
{
    uint64_t seen, skipped;
    ck_assert_uint_eq(frame_each_way(false, &seen, &skipped), 2);
    ck_assert_uint_eq(seen, 2);
    ck_assert_uint_eq(skipped, 0);
}
END_TEST

/* The same through a port that counts the frames waiting on it (a TAP
 * with its doorbell): no read finds nothing. */
START_TEST(counted_port_never_read_empty)
{
    uint64_t seen, skipped;
    ck_assert_uint_eq(frame_each_way(true, &seen, &skipped), 0);
    ck_assert_uint_eq(seen, 0);
    ck_assert_uint_ge(skipped, 2);
}
END_TEST

/* A count that misses frames costs reads, never frames: each frame the
 * poll sees is read and reaches the guest, and the thread sleeps between
 * them instead of polling a readable port in a loop. */
START_TEST(blind_count_loses_no_frame)
{
    struct xnv_queue_stats s0, s1;
    idle_queue(&s0);
    xnv_memport_set_counted(w.ports[0], true, true);
    uint32_t len = build_udp_frame(frame, 100);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
        unsigned errors = 0;
        ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
        ck_assert_uint_eq(errors, 0);
        guest_sends_one(len);      /* written: the blind count skips the read after it */
    }
    for (int i = 0; i < 3; i++)    /* several waiting at once */
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    for (int i = 0; i < 3; i++) {
        unsigned errors = 0;
        ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
        ck_assert_uint_eq(errors, 0);
    }
    s1 = s0;
    wait_idle(&s1);
    ck_assert_uint_eq(s1.rx_packets - s0.rx_packets, 6);
    ck_assert_uint_eq(s1.tx_packets - s0.tx_packets, 3);
    ck_assert_uint_lt(s1.idle_loops - s0.idle_loops, 100);
}
END_TEST

START_TEST(close_then_reconnect)
{
    bring_up(1);
    tfe_set_state(&fe, XenbusStateClosing);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosing, 2000));
    tfe_set_state(&fe, XenbusStateClosed);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
    /* the guest reboots: its frontend starts over */
    tfe_free(&fe);
    tfe_init(&fe, &w, (xnv_domid_t)dom, 0);
    tfe_set_state(&fe, XenbusStateInitialising);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, 1, NULL, NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
    struct virtio_net_hdr vh;
    uint32_t len = build_udp_frame(frame, 64);
    tfe_send(&fe, 0, frame, len, 4096, 0, 0, 0);
    ck_assert_int_eq(take(w.ports[0], 0, &vh, 2000), (int)len);
}
END_TEST

static bool no_vifs(void *arg)
{
    struct xnv_vif_info i;
    return xnv_netback_list(arg, &i, 1) == 0;
}

START_TEST(device_removed_by_toolstack)
{
    bring_up(1);
    char be[96];
    snprintf(be, sizeof be, "/local/domain/0/backend/vif/%d/0", dom);
    xnv_xs_write(w.dom0, XNV_XS_NO_TX, "/local/domain/0/backend/vif/1/0/online", "0", 1);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
    xnv_xs_rm(w.dom0, XNV_XS_NO_TX, be);
    ck_assert(world_pump(&w, no_vifs, w.nb, 2000));
}
END_TEST

/* The control socket answers with every vif and its statistics. */
static char *ask_control(const char *path, const char *req)
{
    int lfd = xnv_netback_control_listen(path);
    ck_assert_int_ge(lfd, 0);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(write(c, req, strlen(req)), (int)strlen(req));
    xnv_netback_control_serve(lfd, w.nb);
    static char buf[8192];
    ssize_t n, len = 0;
    while ((n = read(c, buf + len, sizeof buf - 1 - (size_t)len)) > 0)
        len += n;
    buf[len] = '\0';
    close(c);
    close(lfd);
    unlink(path);
    return buf;
}

START_TEST(control_socket_reports_vifs_and_stats)
{
    bring_up(2);
    uint32_t len = build_udp_frame(frame, 100);
    tfe_send(&fe, 1, frame, len, 4096, 0, 0, 0);
    ck_assert(tfe_wait_tx_done(&fe, 1, 2000));
    char path[64];
    snprintf(path, sizeof path, "/tmp/xnv-test-%d.sock", getpid());
    char *json = ask_control(path, "list\n");
    char expect[64];
    snprintf(expect, sizeof expect, "\"domid\":%d,\"devid\":0,\"ifname\":\"vif%d.0\"", dom, dom);
    ck_assert_msg(strstr(json, expect), "%s", json);
    ck_assert_ptr_nonnull(strstr(json, "\"queues\":2"));
    ck_assert_ptr_nonnull(strstr(json, "\"tx_packets\":1,"));
    ck_assert_ptr_nonnull(strstr(json, "\"rx_ahead\":0,"));
    ck_assert_ptr_nonnull(strstr(json, "\"per_queue\":[{"));
    char *text = ask_control(path, "text list\n");
    ck_assert_ptr_nonnull(strstr(text, "connected"));
    ck_assert_ptr_nonnull(strstr(text, "tso4"));
    text = ask_control(path, "frobnicate\n");
    ck_assert_ptr_nonnull(strstr(text, "\"error\""));
}
END_TEST


/* The control ring: Toeplitz hashing with a table sending every flow to
 * queue 1, so frames arriving on the host side's queue 0 reach guest queue 1. */
START_TEST(control_ring_steers_received_frames)
{
    fe.want_ctrl = true;
    bring_up(2);
    char *fc = be_read(&w, (xnv_domid_t)dom, 0, "feature-ctrl-ring");
    ck_assert_str_eq(fc, "1");
    free(fc);
    ck_assert_int_eq(tfe_steer_all(&fe, 1), 0);
    uint32_t data;
    ck_assert_int_eq(tfe_ctrl_call(&fe, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, &data),
                     XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_ne(data & XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0);
    uint32_t table[4] = { 1, 1, 5, 1 };                   /* 5: a queue that does not exist */
    memcpy(fe.ctrl_data, table, sizeof table);
    ck_assert_int_eq(tfe_ctrl_call(&fe, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, fe.ctrl_data_ref, 4, 0, NULL),
                     XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);   /* refused; the mapping stands */
    tfe_post_rx(&fe, 0, 8);
    tfe_post_rx(&fe, 1, 8);
    uint32_t len = build_tcp_frame(frame, 0, 200);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    uint16_t fl, gs;
    uint8_t gt;
    int got_q1 = 0;
    for (int i = 0; i < 20000 && got_q1 < 3; i++, usleep(100))
        if (tfe_recv(&fe, 1, got, sizeof got, &fl, &gt, &gs) == (int)len)
            got_q1++;
    ck_assert_int_eq(got_q1, 3);
    ck_assert_int_eq(tfe_recv(&fe, 0, got, sizeof got, &fl, &gt, &gs), -1);
}
END_TEST

/* Frames steered to another queue wait for that queue's buffers; a small
 * frame placed meanwhile on its own queue passes none of them, and is not
 * counted as placed ahead. */
START_TEST(rx_ahead_counts_only_frames_passed_on_the_same_queue)
{
    fe.want_ctrl = true;
    bring_up(2);
    ck_assert_int_eq(tfe_steer_all(&fe, 1), 0);   /* TCP over IPv4 to queue 1, no buffers there yet */
    uint32_t len = build_tcp_frame(frame, 0, 200);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    uint8_t udp[128];
    uint32_t ulen = build_udp_frame(udp, 40);      /* not hashed: stays on queue 0 */
    ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, udp, ulen), 0);
    ck_assert_uint_eq(port_wait_received(w.ports[0], 3, 2000), 3);
    tfe_post_rx(&fe, 0, 1);
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, NULL), (int)ulen);
    tfe_post_rx(&fe, 1, 1);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(tfe_recv_wait(&fe, 1, got, sizeof got, 2000, NULL), (int)len);
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &st), 0);
    ck_assert_uint_eq(st.rx_packets, 3);
    ck_assert_uint_eq(st.rx_ahead, 0);
}
END_TEST

Suite *xnv_suite_netback(void)
{
    Suite *s = suite_create("netback");
    TCase *c = tcase_create("engine");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, handshake_creates_interface_and_advertises);
    tcase_add_test(c, connected_only_after_hotplug_script);
    tcase_add_test(c, tx_frames_reach_the_port_intact);
    tcase_add_test(c, tx_batches_many_segments_per_copy_call);
    tcase_add_test(c, rx_frames_reach_the_guest_with_offloads);
    tcase_add_test(c, rx_checksum_completed_once_while_waiting);
    tcase_add_test(c, rx_waiting_frames_survive_the_arena_wrapping);
    tcase_add_test(c, rx_small_frame_of_an_idle_flow_goes_ahead_of_a_waiting_flow);
    tcase_add_test(c, rx_small_frame_ahead_waits_for_one_buffer_only);
    tcase_add_test(c, one_channel_one_notification_per_pass);
    tcase_add_test(c, one_event_one_channel_read);
    tcase_add_test(c, port_read_empty_once_per_frame);
    tcase_add_test(c, counted_port_never_read_empty);
    tcase_add_test(c, blind_count_loses_no_frame);
    tcase_add_test(c, event_channels_named_after_their_queue);
    if (geteuid() == 0)
        tcase_add_test(c, queue_threads_run_ahead_of_dom0s_processes);
    else
        xnv_test_skip("netback", "queue_threads_run_ahead_of_dom0s_processes",
                      "needs root to raise a thread's priority");
    tcase_add_test(c, close_then_reconnect);
    tcase_add_test(c, device_removed_by_toolstack);
    tcase_add_test(c, control_socket_reports_vifs_and_stats);
    tcase_add_test(c, control_ring_steers_received_frames);
    tcase_add_test(c, rx_ahead_counts_only_frames_passed_on_the_same_queue);
    suite_add_tcase(s, c);
    TCase *sp = tcase_create("split");
    tcase_set_timeout(sp, 60);
    tcase_add_checked_fixture(sp, setup_split, teardown);
    tcase_add_test(sp, two_queues_split_event_channels);
    suite_add_tcase(s, sp);
    return s;
}
