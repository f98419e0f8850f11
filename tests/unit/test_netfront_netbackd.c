/* xnv-netfront against xnv-netbackd, both engines over the simulated
 * hypervisor: every offload both ways, multi-queue, and a backend restart
 * with and without closing the guest's device. */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "xnv/netfront.h"

static struct world w;
static struct xnv_hv *guest;
static struct xnv_netfront *nf;
static int dom;
static pthread_t pump;
static atomic_bool stop_pump;
static pthread_mutex_t nb_lock = PTHREAD_MUTEX_INITIALIZER;
/* The netfront's control plane belongs to the pump until teardown takes it. */
static pthread_mutex_t nf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xnv_netfront *pump_nf;
static uint8_t frame[70000], got[70000];

/* Both control planes run all the time, as in a real system. */
static void *pump_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_pump)) {
        pthread_mutex_lock(&nb_lock);
        if (w.nb)
            xnv_netback_process(w.nb);
        pthread_mutex_unlock(&nb_lock);
        pthread_mutex_lock(&nf_lock);
        if (pump_nf)
            xnv_nf_ctrl_process(pump_nf);
        pthread_mutex_unlock(&nf_lock);
        usleep(300);
    }
    return NULL;
}

static void setup(void)
{
    world_init(&w, 4, 60000);
    dom = xnv_sim_domain_create(w.sim, "guest");
    xnv_sim_set_share_limit(w.sim, (xnv_domid_t)dom, 4096);
    xl_add_vif(&w, (xnv_domid_t)dom, 0, "00:16:3e:00:00:05", NULL);
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    guest = xnv_sim_hv_open(w.sim, (xnv_domid_t)dom);
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 2;
    o.grant_limit = 4096;
    o.connect_timeout_ms = 0;
    char err[256];
    nf = xnv_nf_open(guest, 0, &o, err, sizeof err);
    ck_assert_msg(nf != NULL, "%s", err);
    atomic_store(&stop_pump, false);
    pump_nf = nf;
    pthread_create(&pump, NULL, pump_main, NULL);
    for (int i = 0; i < 10000 && xnv_nf_state(nf) != XNV_NF_CONNECTED; i++)
        usleep(1000);
    ck_assert_int_eq(xnv_nf_state(nf), XNV_NF_CONNECTED);
}

static void teardown(void)
{
    pthread_mutex_lock(&nf_lock);
    pump_nf = NULL;
    pthread_mutex_unlock(&nf_lock);
    xnv_nf_close(nf);                    /* the pump keeps netback answering */
    atomic_store(&stop_pump, true);
    pthread_join(pump, NULL);
    nf = NULL;
    xnv_hv_close(guest);
    world_free(&w);
}

static struct xnv_port *port(void) { return w.ports[w.nports - 1]; }

/* Guest -> backend: the frame and its offloads come out of the TAP side. */
static void send_and_check(unsigned q, uint32_t len, const struct xnv_offload *off, uint8_t vnet_gso)
{
    struct xnv_nf_frame f = { .data = frame, .len = len, .meta = XNV_NF_META_OFFLOAD, .off = *off };
    ck_assert_int_eq(xnv_nf_send(nf, q, &f, 1), 1);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = xnv_memport_take(port(), q, &vh, got, sizeof got);
    ck_assert_int_eq(n, (int)len);
    if (off->csum_partial) {
        ck_assert_uint_eq(vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        ck_assert_uint_eq(vh.csum_start, off->csum_start);
        /* the same frame but for the checksum field (the pseudo-header sum) */
        ck_assert_mem_eq(got, frame, vh.csum_start + vh.csum_offset);
        ck_assert_mem_eq(got + vh.csum_start + vh.csum_offset + 2, frame + vh.csum_start + vh.csum_offset + 2,
                         len - vh.csum_start - vh.csum_offset - 2);
    } else {
        ck_assert_mem_eq(got, frame, len);
    }
    ck_assert_uint_eq(vh.gso_type, vnet_gso);
    if (vnet_gso)
        ck_assert_uint_eq(vh.gso_size, off->gso_size);
}

/* Backend -> guest: what the TAP side hands over arrives with its offloads. */
static void inject_and_check(unsigned q, uint32_t len, const struct virtio_net_hdr *vh)
{
    ck_assert_int_eq(xnv_memport_inject(port(), q, vh, frame, len), 0);
    struct xnv_nf_frame f = { .data = got, .cap = sizeof got };
    int n = 0;
    for (int i = 0; i < 20000 && n == 0; i++, usleep(100))
        n = xnv_nf_recv(nf, q, &f, 1);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(f.len, len);
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        /* partial: the checksum field holds the pseudo-header sum */
        uint32_t field = (uint32_t)vh->csum_start + vh->csum_offset;
        ck_assert_mem_eq(got, frame, field);
        ck_assert_mem_eq(got + field + 2, frame + field + 2, len - field - 2);
    } else {
        ck_assert_mem_eq(got, frame, len);
    }
    ck_assert_uint_eq(f.vh.gso_type, vh->gso_type);
    ck_assert_uint_eq(f.vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM, vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
    if (vh->gso_type)
        ck_assert_uint_eq(f.vh.gso_size, vh->gso_size);
}

START_TEST(every_offload_both_ways_on_two_queues)
{
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    ck_assert_uint_eq(info.active_queues, 2);
    for (unsigned q = 0; q < 2; q++) {
        struct xnv_offload none = { 0 };
        uint32_t len = build_udp_frame(frame, 300);
        send_and_check(q, len, &none, VIRTIO_NET_HDR_GSO_NONE);
        len = build_tcp_frame(frame, 0, 9000);                      /* multi-slot */
        send_and_check(q, len, &none, VIRTIO_NET_HDR_GSO_NONE);
        struct xnv_offload v4 = { .csum_partial = true, .csum_valid = true, .csum_start = 34, .csum_offset = 16 };
        len = build_tcp_frame(frame, 0, 1000);
        send_and_check(q, len, &v4, VIRTIO_NET_HDR_GSO_NONE);
        struct xnv_offload v6 = { .csum_partial = true, .csum_valid = true, .csum_start = 54, .csum_offset = 16 };
        len = build_tcp_frame(frame, 1, 1000);
        send_and_check(q, len, &v6, VIRTIO_NET_HDR_GSO_NONE);
        struct xnv_offload g4 = v4;
        g4.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
        g4.gso_size = 1448;
        g4.hdr_len = 54;
        len = build_tcp_frame(frame, 0, 60000);
        send_and_check(q, len, &g4, VIRTIO_NET_HDR_GSO_TCPV4);
        struct xnv_offload g6 = v6;
        g6.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
        g6.gso_size = 1428;
        g6.hdr_len = 74;
        len = build_tcp_frame(frame, 1, 60000);
        send_and_check(q, len, &g6, VIRTIO_NET_HDR_GSO_TCPV6);

        struct virtio_net_hdr vh = { 0 };
        len = build_udp_frame(frame, 200);
        inject_and_check(q, len, &vh);
        vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16 };
        len = build_tcp_frame(frame, 0, 3000);
        inject_and_check(q, len, &vh);
        vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                      .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
        len = build_tcp_frame(frame, 0, 62000);
        inject_and_check(q, len, &vh);
        vh = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
                                      .hdr_len = 74, .gso_size = 1428, .csum_start = 54, .csum_offset = 16 };
        len = build_tcp_frame(frame, 1, 62000);
        inject_and_check(q, len, &vh);
    }
    struct xnv_nf_stats s;
    xnv_nf_stats(nf, XNV_NF_ALL_QUEUES, &s);
    ck_assert_uint_eq(s.tx_packets, 12);
    ck_assert_uint_eq(s.rx_packets, 8);
    ck_assert_uint_eq(s.rx_errors + s.tx_errors, 0);
}
END_TEST

/* Restart the backend engine; close_guests decides whether the guest's
 * device is closed (it reconnects) or left live (the rings are resumed). */
static unsigned ports_before;

static void restart_backend(bool close_guests)
{
    ports_before = w.nports;
    pthread_mutex_lock(&nb_lock);
    xnv_netback_shutdown(w.nb, close_guests);
    w.nb = NULL;
    pthread_mutex_unlock(&nb_lock);
    usleep(50000);
    pthread_mutex_lock(&nb_lock);
    world_restart_netback(&w);
    pthread_mutex_unlock(&nb_lock);
}

static void traffic_flows(void)
{
    /* after a restart, the new engine's own port */
    for (int i = 0; i < 20000 && w.nports == ports_before; i++)
        usleep(500);
    ck_assert_uint_gt(w.nports, ports_before);
    struct xnv_offload none = { 0 };
    uint32_t len = build_udp_frame(frame, 100);
    struct xnv_nf_frame f = { .data = frame, .len = len, .meta = XNV_NF_META_OFFLOAD, .off = none };
    int sent = 0;
    for (int i = 0; i < 20000 && sent == 0; i++, usleep(500))
        if (xnv_nf_state(nf) == XNV_NF_CONNECTED && w.nb)
            sent = xnv_nf_send(nf, 0, &f, 1) == 1;
    ck_assert(sent);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 40000 && n < 0; i++, usleep(100))
        n = xnv_memport_take(port(), 0, &vh, got, sizeof got);
    ck_assert_int_eq(n, (int)len);
}

START_TEST(backend_restart_closing_the_device_reconnects)
{
    ports_before = 0;
    restart_backend(true);
    for (int i = 0; i < 20000; i++, usleep(500)) {
        struct xnv_nf_info info;
        xnv_nf_info(nf, &info);
        if (info.connections >= 2 && xnv_nf_state(nf) == XNV_NF_CONNECTED)
            break;
    }
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    ck_assert_uint_ge(info.connections, 2);
    traffic_flows();
}
END_TEST

START_TEST(backend_restart_leaving_the_device_resumes_the_rings)
{
    ports_before = 0;
    traffic_flows();
    restart_backend(false);
    traffic_flows();
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    ck_assert_uint_eq(info.connections, 1);                 /* no new handshake */
}
END_TEST

Suite *xnv_suite_netfront_netbackd(void)
{
    Suite *s = suite_create("netfront_netbackd");
    TCase *c = tcase_create("interop");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, every_offload_both_ways_on_two_queues);
    tcase_add_test(c, backend_restart_closing_the_device_reconnects);
    tcase_add_test(c, backend_restart_leaving_the_device_resumes_the_rings);
    suite_add_tcase(s, c);
    return s;
}
