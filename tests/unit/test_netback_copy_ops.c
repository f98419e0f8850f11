/* The netback's grant copies touch as few local pages as the slots allow:
 * gntdev cuts every segment at the edges of its local side's pages and
 * pins one page per operation, so a guest slot (or a 4 KiB guest buffer)
 * must be one hypervisor operation, not two.  The slots here are laid out
 * as Linux xen-netfront lays out a TSO frame: the headers somewhere in the
 * skb's head page, the payload in page fragments that start anywhere. */
#include <check.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"

static struct world w;
static struct tfe fe;
static int dom;
static uint8_t frame[70000], got[70000];

struct slot { uint16_t off, len; };

static void setup(void)
{
    world_init(&w, 1, 60000);
    dom = xnv_sim_domain_create(w.sim, "guest1");
    ck_assert_int_gt(dom, 0);
    ck_assert_int_eq(xl_add_vif(&w, (xnv_domid_t)dom, 0, "00:16:3e:00:00:01", NULL), 0);
    ck_assert_int_eq(tfe_init(&fe, &w, (xnv_domid_t)dom, 0), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    ck_assert_int_eq(tfe_connect(&fe, 1, NULL, NULL), 0);
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
}

static void teardown(void)
{
    tfe_free(&fe);
    world_free(&w);
}

/* A TSO frame over the given slots (offsets within the guest's pages). */
static void send_slots(const uint8_t *f, uint32_t len, const struct slot *s, unsigned n)
{
    struct tfe_queue *q = &fe.q[0];
    uint32_t pos = 0;
    for (unsigned k = 0; k < n; k++) {
        unsigned buf = q->tx.req_prod_pvt % TFE_BUFS;
        memcpy(q->txbuf + buf * 4096u + s[k].off, f + pos, s[k].len);
        pos += s[k].len;
        netif_tx_request_t r = { .gref = q->txref[buf], .offset = s[k].off, .id = (uint16_t)buf,
                                 .size = (uint16_t)(k == 0 ? len : s[k].len) };
        r.flags = (uint16_t)((k + 1 < n ? NETTXF_more_data : 0) |
                             (k == 0 ? NETTXF_csum_blank | NETTXF_data_validated | NETTXF_extra_info : 0));
        tfe_raw_tx(&fe, 0, &r);
        if (k == 0) {
            netif_extra_info_t e = { .type = XEN_NETIF_EXTRA_TYPE_GSO };
            e.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
            e.u.gso.size = 1448;
            netif_tx_request_t slot;              /* the extra takes a whole ring slot */
            memset(&slot, 0, sizeof slot);
            memcpy(&slot, &e, sizeof e);
            tfe_raw_tx(&fe, 0, &slot);
        }
    }
    ck_assert_uint_eq(pos, len);
    tfe_push_tx(&fe, 0);
}

static int take(struct virtio_net_hdr *vh)
{
    for (unsigned i = 0; i < 20000; i++) {
        int n = xnv_memport_take(w.ports[0], 0, vh, got, sizeof got);
        if (n >= 0)
            return n;
        usleep(100);
    }
    return -1;
}

/* Send over the slots, check what reaches the port; the copy counters of
 * dom0 over that packet go to *c. */
static void tx_case(const struct slot *s, unsigned n, uint32_t payload, struct xnv_sim_counters *c)
{
    uint32_t len = build_tcp_frame(frame, 0, payload);
    struct xnv_sim_counters c0, c1;
    xnv_sim_counters(w.sim, 0, &c0);
    send_slots(frame, len, s, n);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(take(&vh), (int)len);
    xnv_sim_counters(w.sim, 0, &c1);
    ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(vh.hdr_len, 54);
    ck_assert_uint_eq(vh.csum_start, 34);
    /* identical but for the TCP checksum, which holds the pseudo-header sum */
    ck_assert_mem_eq(got, frame, 50);
    ck_assert_mem_eq(got + 52, frame + 52, len - 52);
    ck_assert(tfe_wait_tx_done(&fe, 0, 2000));
    unsigned bad = 0;
    ck_assert_uint_eq(tfe_tx_responses(&fe, 0, NETIF_RSP_OKAY, &bad), n);
    ck_assert_uint_eq(bad, 0);
    c->copy_segments = c1.copy_segments - c0.copy_segments;
    c->copy_ops = c1.copy_ops - c0.copy_ops;
}

START_TEST(tx_every_slot_is_one_copy_operation)
{
    /* headers at 3000 in the head page, a fragment from 1000 to its page's
     * end, 13 full pages, a last partial one: 16 slots */
    struct slot s[16] = { { 3000, 54 }, { 1000, 3096 } };
    for (unsigned k = 2; k < 15; k++)
        s[k] = (struct slot){ 0, 4096 };
    s[15] = (struct slot){ 0, 3656 };
    struct xnv_sim_counters c;
    tx_case(s, 16, 3096 + 13 * 4096 + 3656, &c);
    ck_assert_uint_eq(c.copy_segments, 16);
    ck_assert_uint_eq(c.copy_ops, 16);
}
END_TEST

START_TEST(tx_headers_across_slots_still_parsed)
{
    /* headers cut at the head page's edge: the two slots meet */
    struct slot a[4] = { { 4066, 30 }, { 0, 24 }, { 0, 4096 }, { 0, 1000 } };
    struct xnv_sim_counters c;
    tx_case(a, 4, 5096, &c);
    ck_assert_uint_eq(c.copy_ops, 4);
    /* headers cut between slots that do not meet (gathered before parsing) */
    struct slot b[4] = { { 100, 30 }, { 500, 24 }, { 0, 4096 }, { 0, 1000 } };
    tx_case(b, 4, 5096, &c);
    ck_assert_uint_eq(c.copy_ops, 4);
}
END_TEST

START_TEST(rx_every_guest_buffer_is_one_copy_operation)
{
    tfe_post_rx(&fe, 0, 64);
    uint32_t len = build_tcp_frame(frame, 0, 60000);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                 .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
    struct xnv_sim_counters c0, c1;
    for (int round = 0; round < 3; round++) {   /* frames land at different places in the arena */
        xnv_sim_counters(w.sim, 0, &c0);
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len - (uint32_t)round * 700), 0);
        int n = -1;
        uint16_t flags, gsz;
        uint8_t gtype;
        for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
            n = tfe_recv(&fe, 0, got, sizeof got, &flags, &gtype, &gsz);
        ck_assert_int_eq(n, (int)(len - (uint32_t)round * 700));
        ck_assert_mem_eq(got, frame, (size_t)n);
        xnv_sim_counters(w.sim, 0, &c1);
        unsigned pages = ((unsigned)n + 4095) / 4096;
        ck_assert_uint_eq(c1.copy_segments - c0.copy_segments, pages);
        ck_assert_uint_eq(c1.copy_ops - c0.copy_ops, pages);
        tfe_post_rx(&fe, 0, pages + 1);
    }
}
END_TEST

/* 140 frames of 60 KB to the guest: past the 8 MiB after which a queue
 * counts as carrying a flow (NB_OWN_ARENA_AFTER in netback/nb.h). */
static void make_busy(void)
{
    uint32_t len = build_tcp_frame(frame, 0, 60000);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                 .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
    tfe_post_rx(&fe, 0, 17);          /* a frame's 15 pages and its GSO slot (tfe_recv posts again) */
    for (unsigned i = 0; i < 140; i++) {
        ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
        unsigned errors = 0;
        ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
        ck_assert_uint_eq(errors, 0);
    }
}

/* A 16-slot TSO frame from the guest and a 60000-byte frame to it; the
 * local pages gntdev pinned for them go to *tx_pins and *rx_pins. */
static void big_frames(uint64_t *tx_pins, uint64_t *rx_pins)
{
    struct slot s[16] = { { 3000, 54 }, { 1000, 3096 } };
    for (unsigned k = 2; k < 15; k++)
        s[k] = (struct slot){ 0, 4096 };
    s[15] = (struct slot){ 0, 3656 };
    struct xnv_sim_counters c0, c1;
    xnv_sim_counters(w.sim, 0, &c0);
    struct xnv_sim_counters c;
    tx_case(s, 16, 3096 + 13 * 4096 + 3656, &c);
    xnv_sim_counters(w.sim, 0, &c1);
    *tx_pins = c1.copy_pins - c0.copy_pins;

    tfe_post_rx(&fe, 0, 16);
    uint32_t len = build_tcp_frame(frame, 0, 60000);
    struct virtio_net_hdr vh = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                 .hdr_len = 54, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
    xnv_sim_counters(w.sim, 0, &c0);
    ck_assert_int_eq(xnv_memport_inject(w.ports[0], 0, &vh, frame, len), 0);
    unsigned errors = 0;
    ck_assert_int_eq(tfe_recv_wait(&fe, 0, got, sizeof got, 2000, &errors), (int)len);
    ck_assert_uint_eq(errors, 0);
    ck_assert_mem_eq(got, frame, len);
    xnv_sim_counters(w.sim, 0, &c1);
    *rx_pins = c1.copy_pins - c0.copy_pins;
}

/* Once a queue carries a flow its arenas are pages dom0 grants to itself:
 * every copy names two grants and gntdev pins no local page (on the rig a
 * pin cost a quarter of a copy segment).  Before that, one pin per slot;
 * after the guest disconnects, nothing stays granted. */
START_TEST(busy_queue_copies_pin_no_local_page)
{
    uint64_t tx_pins, rx_pins;
    big_frames(&tx_pins, &rx_pins);
    ck_assert_uint_eq(tx_pins, 16);          /* a quiet queue: ordinary memory */
    ck_assert_uint_eq(rx_pins, 15);
    make_busy();
    big_frames(&tx_pins, &rx_pins);
    ck_assert_uint_eq(tx_pins, 0);
    ck_assert_uint_eq(rx_pins, 0);
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)dom, 0, -1, &st), 0);
    ck_assert_uint_ge(st.copy_granted, 16 + 15);
    struct xnv_sim_usage u;
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_uint_eq(u.shared_pages, 2 * 272);   /* two arenas of 1 MiB + 64 KiB */
    tfe_set_state(&fe, XenbusStateClosing);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosing, 2000));
    tfe_set_state(&fe, XenbusStateClosed);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_uint_eq(u.shared_pages, 0);
}
END_TEST

/* With room for one arena only (gntalloc's limit reached) the transmit
 * arena is granted and the receive arena stays ordinary memory: its frames
 * pinned page by page, and delivered all the same. */
START_TEST(busy_queue_without_grants_keeps_pinning)
{
    xnv_sim_set_share_limit(w.sim, 0, 300);
    make_busy();
    uint64_t tx_pins, rx_pins;
    big_frames(&tx_pins, &rx_pins);
    ck_assert_uint_eq(tx_pins, 0);
    ck_assert_uint_eq(rx_pins, 15);
    struct xnv_sim_usage u;
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_uint_eq(u.shared_pages, 272);
}
END_TEST

Suite *xnv_suite_netback_copy_ops(void)
{
    Suite *s = suite_create("netback_copy_ops");
    TCase *c = tcase_create("copy_ops");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, 30);
    tcase_add_test(c, tx_every_slot_is_one_copy_operation);
    tcase_add_test(c, tx_headers_across_slots_still_parsed);
    tcase_add_test(c, rx_every_guest_buffer_is_one_copy_operation);
    tcase_add_test(c, busy_queue_copies_pin_no_local_page);
    tcase_add_test(c, busy_queue_without_grants_keeps_pinning);
    suite_add_tcase(s, c);
    return s;
}
