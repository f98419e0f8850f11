/* Which waiting frames go to the guest first (netback/rx_order.c), and the
 * flow hash it tells flows apart by (libxnv/proto/flow.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "../../netback/nb.h"
#include "xnv/flow.h"
#include "xnv/frame.h"

static struct nb_queue q;
static uint8_t bulk[4000], tail[200], small[200];
static uint32_t bulk_len, tail_len, small_len;

static void setup(void)
{
    memset(&q, 0, sizeof q);
    q.pend = calloc(512, sizeof *q.pend);
    ck_assert_ptr_nonnull(q.pend);
    nb_rx_order_reset(&q);
    bulk_len = xnv_frame_tcp(bulk, false, 3000);
    tail_len = xnv_frame_tcp(tail, false, 10);    /* the bulk flow's own small frame */
    small_len = xnv_frame_udp(small, 40);         /* another flow */
}

static void teardown(void) { free(q.pend); }

/* One frame read from the port, as fill() admits it. */
static void arrive(const uint8_t *f, uint32_t len, uint8_t gso_type)
{
    struct nb_pending_rx *pr = &q.pend[q.npend];
    memset(pr, 0, sizeof *pr);
    pr->len = len;
    pr->m.gso_type = gso_type;
    nb_rx_order_admit(&q, pr, f);
    q.npend++;
}

/* The frames at sel[from..] leave, as consume() has them leave. */
static void leave(const unsigned *sel, unsigned from, unsigned n)
{
    for (unsigned k = from; k < n; k++)
        q.pend[sel[k]].gone = true;
    unsigned keep = 0;
    for (unsigned i = 0; i < q.npend; i++) {
        if (q.pend[i].gone)
            nb_rx_order_leave(&q, &q.pend[i]);
        else
            q.pend[keep++] = q.pend[i];
    }
    q.npend = keep;
}

START_TEST(flows_hash_by_addresses_and_protocol)
{
    uint8_t a[1200], b[1200];
    uint32_t la = xnv_frame_tcp(a, false, 100), lb = xnv_frame_tcp(b, false, 1000);
    ck_assert_uint_eq(xnv_flow_hash(a, la), xnv_flow_hash(b, lb));    /* one flow, any length */
    b[14 + 20 + 1] ^= 1;                                               /* another port: the same */
    ck_assert_uint_eq(xnv_flow_hash(a, la), xnv_flow_hash(b, lb));
    memcpy(b, a, la);
    b[14 + 19] ^= 1;                                                   /* another destination address */
    ck_assert_uint_ne(xnv_flow_hash(a, la), xnv_flow_hash(b, la));
    ck_assert_uint_ne(xnv_flow_hash(a, la), xnv_flow_hash(small, small_len));   /* UDP */
    uint8_t v6a[200], v6b[200];
    uint32_t l6 = xnv_frame_tcp(v6a, true, 100);
    memcpy(v6b, v6a, l6);
    ck_assert_uint_eq(xnv_flow_hash(v6a, l6), xnv_flow_hash(v6b, l6));
    v6b[14 + 8 + 3] ^= 1;                                              /* another source address */
    ck_assert_uint_ne(xnv_flow_hash(v6a, l6), xnv_flow_hash(v6b, l6));
}
END_TEST

/* Every fragment of a datagram hashes as the flow's whole datagrams do:
 * only the first fragment has ports, and the last may be too short for a
 * UDP header (a 1484-byte datagram leaves 38 bytes of frame). */
START_TEST(fragments_of_a_datagram_hash_alike)
{
    uint8_t whole[200], first[200], later[200], tail[60];
    uint32_t l = xnv_frame_udp(whole, 100);
    memcpy(first, whole, l);
    first[14 + 6] = 0x20;                         /* more fragments, offset 0 */
    memcpy(later, first, l);
    later[14 + 6] = 0x20;
    later[14 + 7] = 0x10;                         /* offset 128 bytes, more to come */
    memset(later + 14 + 20, 0xab, 8);             /* data where the ports were */
    memcpy(tail, whole, 14 + 20);
    tail[14 + 2] = 0, tail[14 + 3] = 24;          /* total length 24: 4 bytes of data */
    tail[14 + 6] = 0x01;                          /* the last, at offset 2048 bytes */
    tail[14 + 7] = 0x00;
    memset(tail + 14 + 20, 0xcd, 4);
    uint32_t h = xnv_flow_hash(whole, l);
    ck_assert_uint_eq(xnv_flow_hash(first, l), h);
    ck_assert_uint_eq(xnv_flow_hash(later, l), h);
    ck_assert_uint_eq(xnv_flow_hash(tail, 14 + 24), h);
}
END_TEST

/* Not IP (ARP here), or truncated: the MAC addresses and ethertype. */
START_TEST(other_frames_hash_by_their_ethernet_header)
{
    uint8_t arp[60] = { 0 }, arp2[60];
    memset(arp, 0xff, 6);
    arp[6] = 0x00, arp[7] = 0x16, arp[8] = 0x3e, arp[11] = 1;
    arp[12] = 0x08, arp[13] = 0x06;
    memcpy(arp2, arp, sizeof arp);
    arp2[30] ^= 1;                                /* another target: same header */
    ck_assert_uint_eq(xnv_flow_hash(arp, sizeof arp), xnv_flow_hash(arp2, sizeof arp2));
    arp2[11] ^= 1;                                /* another sender MAC */
    ck_assert_uint_ne(xnv_flow_hash(arp, sizeof arp), xnv_flow_hash(arp2, sizeof arp2));
    (void)xnv_flow_hash(arp, 5);                  /* shorter than a header: no overread (ASan) */
}
END_TEST

/* A bulk flow waits; a small frame of an idle flow read behind it is picked
 * first; the bulk flow's own small frame keeps its place. */
START_TEST(small_frame_of_an_idle_flow_first)
{
    for (int i = 0; i < 10; i++)
        arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);
    arrive(tail, tail_len, XEN_NETIF_GSO_TYPE_NONE);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_eq(q.nsparse, 1);
    unsigned sel[NB_RX_BATCH];
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), 12);
    ck_assert_uint_eq(sel[0], 11);
    for (unsigned k = 1; k < 12; k++)
        ck_assert_uint_eq(sel[k], k - 1);         /* the rest in arrival order */
}
END_TEST

/* The first frame of a flow with nothing waiting goes ahead; its flow's
 * later frames, small or not, wait behind the older frames of others. */
START_TEST(a_flow_is_never_reordered)
{
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);      /* 0: flow A */
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);    /* 1: flow B, sparse */
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);      /* 2: A */
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);    /* 3: B again: B waits already */
    ck_assert_uint_eq(q.nsparse, 1);
    unsigned sel[NB_RX_BATCH];
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), 4);
    unsigned want[] = { 1, 0, 2, 3 };
    for (unsigned k = 0; k < 4; k++)
        ck_assert_uint_eq(sel[k], want[k]);
    /* B's first frame placed: B has one waiting still, so a third B frame
     * is not sparse either; once none waits, the next one is */
    leave(sel, 0, 1);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_eq(q.nsparse, 0);
    leave((unsigned[]){ 0, 1, 2, 3 }, 0, 4);
    ck_assert_uint_eq(q.npend, 0);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_eq(q.nsparse, 1);
}
END_TEST

/* A datagram in two fragments, then a whole one of the same flow, behind a
 * bulk flow: the whole one does not go ahead of the second fragment. */
START_TEST(a_flows_fragments_and_whole_datagrams_keep_their_order)
{
    for (int i = 0; i < 3; i++)
        arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);  /* 0..2 */
    uint8_t first[1600], tail[60], whole[200];
    uint32_t fl = xnv_frame_udp(first, 1400);
    first[14 + 6] = 0x20;                                 /* more fragments */
    memcpy(tail, first, 14 + 20);
    tail[14 + 2] = 0, tail[14 + 3] = 24;
    tail[14 + 6] = 0x00, tail[14 + 7] = 0xb0;             /* the last one, no UDP header */
    memset(tail + 14 + 20, 0xcd, 4);
    uint32_t wl = xnv_frame_udp(whole, 100);
    whole[14 + 20] ^= 1;                                  /* another port of the same hosts */
    arrive(first, fl, XEN_NETIF_GSO_TYPE_NONE);           /* 3: sparse */
    arrive(tail, 14 + 24, XEN_NETIF_GSO_TYPE_NONE);       /* 4 */
    arrive(whole, wl, XEN_NETIF_GSO_TYPE_NONE);           /* 5 */
    ck_assert_uint_eq(q.nsparse, 1);
    unsigned sel[NB_RX_BATCH];
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), 6);
    unsigned want[] = { 3, 0, 1, 2, 4, 5 };
    for (unsigned k = 0; k < 6; k++)
        ck_assert_uint_eq(sel[k], want[k]);
}
END_TEST

/* Only single frames of one MTU are sparse: a frame with segmentation
 * offload, or larger than an MTU, waits in line even when its flow is idle. */
START_TEST(large_or_segmented_frames_wait_in_line)
{
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);      /* 0: larger than an MTU */
    uint8_t big[2000], other[200];
    uint32_t big_len = xnv_frame_udp(big, 1600);
    big[14 + 15] ^= 1;                                    /* its own flow: another source */
    arrive(big, big_len, XEN_NETIF_GSO_TYPE_NONE);        /* 1: larger than an MTU */
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_TCPV4);   /* 2: segmented */
    ck_assert_uint_eq(q.nsparse, 0);
    unsigned sel[NB_RX_BATCH];
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), 3);
    for (unsigned k = 0; k < 3; k++)
        ck_assert_uint_eq(sel[k], k);
    uint32_t other_len = xnv_frame_udp(other, 40);
    other[14 + 15] ^= 2;                                  /* a flow of its own, one MTU */
    arrive(other, other_len, XEN_NETIF_GSO_TYPE_NONE);    /* 3 */
    ck_assert_uint_eq(q.nsparse, 1);
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), 4);
    ck_assert_uint_eq(sel[0], 3);
}
END_TEST

/* Many idle flows at once take at most half a batch ahead of a waiting bulk
 * flow; the others keep their arrival place, so the bulk flow still moves. */
START_TEST(idle_flows_take_at_most_half_a_batch_ahead)
{
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);      /* 0, 1: the bulk flow */
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);
    for (unsigned i = 0; i < 100; i++) {                  /* 2..101: 100 flows, one frame each */
        uint8_t f[200];
        uint32_t l = xnv_frame_udp(f, 40);
        f[14 + 14] = (uint8_t)(20 + i);                   /* source address 10.0.<20+i>.1 */
        arrive(f, l, XEN_NETIF_GSO_TYPE_NONE);
    }
    ck_assert_uint_ge(q.nsparse, 50);             /* some may share a bucket */
    unsigned sel[NB_RX_BATCH];
    ck_assert_uint_eq(nb_rx_order_pick(&q, sel), NB_RX_BATCH);
    for (unsigned k = 0; k < NB_RX_BATCH / 2; k++) {
        ck_assert(q.pend[sel[k]].sparse);         /* half a batch of sparse frames ahead */
        ck_assert(k == 0 || sel[k] > sel[k - 1]);
    }
    /* then arrival order from the start: the bulk flow's frames first */
    ck_assert_uint_eq(sel[NB_RX_BATCH / 2], 0);
    ck_assert_uint_eq(sel[NB_RX_BATCH / 2 + 1], 1);
    for (unsigned k = NB_RX_BATCH / 2 + 1; k < NB_RX_BATCH; k++)
        ck_assert_uint_gt(sel[k], sel[k - 1]);
    bool seen[128] = { false };
    for (unsigned k = 0; k < NB_RX_BATCH; k++) {
        ck_assert(!seen[sel[k]]);                 /* no frame picked twice */
        seen[sel[k]] = true;
    }
}
END_TEST

/* A stall flushes the waiting frames: no flow counts as waiting after. */
START_TEST(reset_forgets_every_flow)
{
    arrive(bulk, bulk_len, XEN_NETIF_GSO_TYPE_NONE);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    q.npend = 0;
    nb_rx_order_reset(&q);
    arrive(small, small_len, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_eq(q.nsparse, 1);
    arrive(tail, tail_len, XEN_NETIF_GSO_TYPE_NONE);
    ck_assert_uint_eq(q.nsparse, 2);
}
END_TEST

Suite *xnv_suite_netback_rx_order(void)
{
    Suite *s = suite_create("netback_rx_order");
    TCase *c = tcase_create("order");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, flows_hash_by_addresses_and_protocol);
    tcase_add_test(c, fragments_of_a_datagram_hash_alike);
    tcase_add_test(c, other_frames_hash_by_their_ethernet_header);
    tcase_add_test(c, small_frame_of_an_idle_flow_first);
    tcase_add_test(c, a_flow_is_never_reordered);
    tcase_add_test(c, a_flows_fragments_and_whole_datagrams_keep_their_order);
    tcase_add_test(c, large_or_segmented_frames_wait_in_line);
    tcase_add_test(c, idle_flows_take_at_most_half_a_batch_ahead);
    tcase_add_test(c, reset_forgets_every_flow);
    suite_add_tcase(s, c);
    return s;
}
