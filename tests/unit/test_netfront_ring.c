/* The netfront's ring functions on their own, over private memory: what
 * they put on the rings is what the backend's protocol core reads back,
 * and malformed responses are refused. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "../../netfront/nf.h"
#include "ring_fixture.h"
#include "xnv/copy_batch.h"
#include "xnv/rx.h"
#include "xnv/tx.h"

#define NBUF 32
#define GREF_BASE 1000

static void *ring_page;
static uint8_t *pages;
static uint8_t frame[70000], out[70000];

static void *page(unsigned i) { return pages + (size_t)i * 4096; }

/* ---- transmit ---------------------------------------------------------------- */

static struct nf_tx tx;
static netif_tx_back_ring_t txb;

static void tx_setup_sg(bool sg, bool scrub)
{
    ring_page = aligned_alloc(4096, 4096);
    pages = aligned_alloc(4096, (size_t)NBUF * 4096);
    memset(pages, 0, (size_t)NBUF * 4096);
    memset(&tx, 0, sizeof tx);
    for (unsigned i = 0; i < NBUF; i++)
        tx.buf[i] = (struct nf_page){ page(i), GREF_BASE + i };
    nf_tx_init(&tx, ring_page, NBUF, scrub, sg);
    BACK_RING_INIT(&txb, (netif_tx_sring_t *)ring_page, 4096);
}
static void tx_setup(void) { tx_setup_sg(true, false); }
static void tx_teardown(void)
{
    free(ring_page);
    free(pages);
}

/* Read what the frontend queued with the backend's reader; gather it. */
static enum xnv_tx_verdict back_read(struct xnv_tx_pkt *pkt, uint32_t *len)
{
    nf_tx_push(&tx);
    enum xnv_tx_verdict v = xnv_tx_read(&txb, txb.sring->req_prod, pkt);
    *len = 0;
    if (v == XNV_TX_PACKET) {
        for (unsigned i = 0; i < pkt->nr_frags; i++) {
            const struct xnv_tx_frag *f = &pkt->frag[i];
            memcpy(out + *len, (uint8_t *)page(f->gref - GREF_BASE) + f->offset, f->len);
            *len += f->len;
        }
    }
    return v;
}

static void back_answer(const struct xnv_tx_pkt *pkt, int16_t status)
{
    xnv_tx_respond(&txb, pkt, status);
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&txb, notify);
    (void)notify;
}

START_TEST(tx_frame_round_trips_through_the_backend_reader)
{
    uint32_t len = build_tcp_frame(frame, 0, 20000);
    struct nf_tx_meta m = { .flags = NETTXF_csum_blank | NETTXF_data_validated,
                            .gso_type = XEN_NETIF_GSO_TYPE_TCPV4, .gso_size = 1448, .patch_pos = -1 };
    ck_assert_int_eq(nf_tx_put(&tx, frame, len, &m), 0);
    ck_assert_uint_eq(nf_tx_inflight(&tx), 5 + 1);        /* 5 pages + the GSO extra */
    struct xnv_tx_pkt pkt;
    uint32_t got;
    ck_assert_int_eq(back_read(&pkt, &got), XNV_TX_PACKET);
    ck_assert_uint_eq(got, len);
    ck_assert(memcmp(out, frame, len) == 0);
    ck_assert_uint_eq(pkt.nr_frags, 5);
    ck_assert_uint_eq(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(pkt.gso_size, 1448);
    ck_assert_uint_eq(pkt.flags, NETTXF_csum_blank | NETTXF_data_validated);
    back_answer(&pkt, NETIF_RSP_OKAY);
    struct nf_tx_done d = { 0 };
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), 6);
    ck_assert_uint_eq(d.frames, 1);
    ck_assert_uint_eq(d.errors, 0);
    ck_assert_uint_eq(tx.nfree, NBUF);
    ck_assert_uint_eq(nf_tx_inflight(&tx), 0);
    /* A notification is asked for the next response. */
    ck_assert_uint_eq(tx.ring.sring->rsp_event, tx.ring.rsp_cons + 1);
}
END_TEST

START_TEST(tx_error_responses_are_counted)
{
    uint32_t len = build_udp_frame(frame, 100);
    struct nf_tx_meta m = { .patch_pos = -1 };
    ck_assert_int_eq(nf_tx_put(&tx, frame, len, &m), 0);
    struct xnv_tx_pkt pkt;
    uint32_t got;
    ck_assert_int_eq(back_read(&pkt, &got), XNV_TX_PACKET);
    back_answer(&pkt, NETIF_RSP_ERROR);
    struct nf_tx_done d = { 0 };
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), 1);
    ck_assert_uint_eq(d.errors, 1);
}
END_TEST

START_TEST(tx_checksum_patch_lands_across_pages)
{
    uint32_t len = build_udp_frame(frame, 6000);
    struct nf_tx_meta m = { .patch_pos = 4095, .patch = { 0xde, 0xad } };
    ck_assert_int_eq(nf_tx_put(&tx, frame, len, &m), 0);
    struct xnv_tx_pkt pkt;
    uint32_t got;
    ck_assert_int_eq(back_read(&pkt, &got), XNV_TX_PACKET);
    ck_assert_uint_eq(out[4095], 0xde);
    ck_assert_uint_eq(out[4096], 0xad);
    ck_assert(memcmp(out, frame, 4095) == 0);
    ck_assert(memcmp(out + 4097, frame + 4097, len - 4097) == 0);
}
END_TEST

START_TEST(tx_full_ring_and_pool)
{
    uint32_t len = build_udp_frame(frame, 5000);            /* 2 pages */
    struct nf_tx_meta m = { .patch_pos = -1 };
    for (unsigned i = 0; i < NBUF / 2; i++)
        ck_assert_int_eq(nf_tx_put(&tx, frame, len, &m), 0);
    ck_assert_int_eq(nf_tx_put(&tx, frame, len, &m), -ENOSPC);
    ck_assert_int_eq(nf_tx_put(&tx, frame, 13, &m), -EINVAL);
    ck_assert_int_eq(nf_tx_put(&tx, frame, 65536, &m), -EINVAL);
}
END_TEST

START_TEST(tx_without_sg_takes_one_page_frames_only)
{
    tx_teardown();
    tx_setup_sg(false, false);
    struct nf_tx_meta m = { .patch_pos = -1 };
    ck_assert_int_eq(nf_tx_put(&tx, frame, build_udp_frame(frame, 5000), &m), -EINVAL);
    ck_assert_int_eq(nf_tx_put(&tx, frame, build_udp_frame(frame, 1400), &m), 0);
}
END_TEST

START_TEST(tx_scrub_clears_what_an_older_frame_left)
{
    tx_teardown();
    tx_setup_sg(true, true);
    struct nf_tx_meta m = { .patch_pos = -1 };
    memset(frame, 0xab, 3000);
    ck_assert_int_eq(nf_tx_put(&tx, frame, 3000, &m), 0);
    struct xnv_tx_pkt pkt;
    uint32_t got;
    ck_assert_int_eq(back_read(&pkt, &got), XNV_TX_PACKET);
    unsigned id = pkt.frag[0].gref - GREF_BASE;
    back_answer(&pkt, NETIF_RSP_OKAY);
    struct nf_tx_done d = { 0 };
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), 1);
    memset(frame, 0x11, 100);
    ck_assert_int_eq(nf_tx_put(&tx, frame, 100, &m), 0);
    ck_assert_int_eq(back_read(&pkt, &got), XNV_TX_PACKET);
    ck_assert_uint_eq(pkt.frag[0].gref - GREF_BASE, id);
    static const uint8_t zero[4096];
    ck_assert(memcmp((uint8_t *)page(id) + 100, zero, 4096 - 100) == 0);
}
END_TEST

START_TEST(tx_reclaim_refuses_bad_responses)
{
    struct nf_tx_meta m = { .patch_pos = -1 };
    ck_assert_int_eq(nf_tx_put(&tx, frame, build_udp_frame(frame, 10), &m), 0);
    nf_tx_push(&tx);
    struct nf_tx_done d = { 0 };
    /* producer a ring ahead */
    RING_IDX saved = tx.ring.sring->rsp_prod;
    tx.ring.sring->rsp_prod = saved + 257;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), -EPROTO);
    ck_assert_ptr_nonnull(strstr(d.why, "ring ahead"));
    /* producer behind the consumer */
    tx.ring.sring->rsp_prod = saved - 1;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), -EPROTO);
    /* more responses than requests */
    tx.ring.sring->rsp_prod = saved + 2;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), -EPROTO);
    ck_assert_ptr_nonnull(strstr(d.why, "than requests"));
    /* id out of range, then not outstanding */
    tx.ring.sring->rsp_prod = saved;
    RING_GET_RESPONSE(&txb, 0)->id = NBUF;
    RING_GET_RESPONSE(&txb, 0)->status = NETIF_RSP_OKAY;
    tx.ring.sring->rsp_prod = saved + 1;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), -EPROTO);
    ck_assert_ptr_nonnull(strstr(d.why, "out of range"));
    RING_GET_RESPONSE(&txb, 0)->id = 5;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), -EPROTO);
    ck_assert_ptr_nonnull(strstr(d.why, "not outstanding"));
    /* a NULL status where no extra was sent: an error for that buffer,
     * which comes back to the pool (id 0 is the one the frame took) */
    RING_GET_RESPONSE(&txb, 0)->id = 0;
    RING_GET_RESPONSE(&txb, 0)->status = NETIF_RSP_NULL;
    ck_assert_int_eq(nf_tx_reclaim(&tx, &d), 1);
    ck_assert_uint_eq(d.errors, 1);
    ck_assert_uint_eq(tx.nfree, NBUF);
}
END_TEST

/* ---- receive -------------------------------------------------------------------- */

static struct nf_rx rx;
static netif_rx_back_ring_t rxb;

static void rx_setup(void)
{
    ring_page = aligned_alloc(4096, 4096);
    pages = aligned_alloc(4096, (size_t)NBUF * 4096);
    memset(pages, 0, (size_t)NBUF * 4096);
    memset(&rx, 0, sizeof rx);
    for (unsigned i = 0; i < NBUF; i++)
        rx.buf[i] = (struct nf_page){ page(i), GREF_BASE + i };
    nf_rx_init(&rx, ring_page, NBUF);
    BACK_RING_INIT(&rxb, (netif_rx_sring_t *)ring_page, 4096);
    ck_assert_uint_eq(nf_rx_refill(&rx), NBUF);
    nf_rx_push(&rx);
}
static void rx_teardown(void) { tx_teardown(); }

/* The backend places a frame with the protocol core; the copies are done
 * here by hand (local "grants" are page indices). */
static void back_place(const uint8_t *f, uint32_t len, const struct xnv_rx_meta *m)
{
    struct xnv_copy_batch b;
    xnv_copy_batch_init(&b, 32);
    struct xnv_rx_placed p;
    ck_assert_int_eq(xnv_rx_place(&rxb, rxb.sring->req_prod, 1, f, len, m, &b, 0, &p), 0);
    for (unsigned i = 0; i < b.n; i++) {
        xengnttab_grant_copy_segment_t *s = &b.seg[i];
        memcpy((uint8_t *)page(s->dest.foreign.ref - GREF_BASE) + s->dest.foreign.offset,
               s->source.virt, s->len);
    }
    xnv_copy_batch_free(&b);
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&rxb, notify);
    (void)notify;
}

static enum nf_rx_verdict front_read(struct nf_rx_frame *f, uint32_t cap)
{
    RING_IDX prod;
    const char *why;
    ck_assert_int_eq(nf_rx_prod(&rx, &prod, &why), 0);
    return nf_rx_read(&rx, prod, out, cap, f);
}

START_TEST(rx_gso_frame_with_extra_is_read_back)
{
    uint32_t len = build_tcp_frame(frame, 1, 30000);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated,
                             .gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1440 };
    back_place(frame, len, &m);
    struct nf_rx_frame f;
    ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_FRAME);
    ck_assert_uint_eq(f.len, len);
    ck_assert(memcmp(out, frame, len) == 0);
    ck_assert_uint_eq(f.slots, 8 + 1);
    ck_assert_uint_eq(f.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert_uint_eq(f.gso_size, 1440);
    ck_assert(f.flags & NETRXF_csum_blank);
    /* Every slot's buffer is free again and goes straight back. */
    ck_assert_uint_eq(rx.nfree, 9);
    ck_assert_uint_eq(nf_rx_refill(&rx), 9);
    ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_NONE);
}
END_TEST

START_TEST(rx_many_frames_reuse_buffers_by_slot)
{
    for (int round = 0; round < 40; round++) {
        uint32_t len = build_udp_frame(frame, 100 + round);
        back_place(frame, len, &(struct xnv_rx_meta){ 0 });
        struct nf_rx_frame f;
        ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_FRAME);
        ck_assert_uint_eq(f.len, len);
        ck_assert(memcmp(out, frame, len) == 0);
        nf_rx_refill(&rx);
        nf_rx_push(&rx);
    }
}
END_TEST

static void back_rsp(uint16_t flags, int16_t status, uint16_t offset)
{
    rxb.req_cons++;
    netif_rx_response_t *r = RING_GET_RESPONSE(&rxb, rxb.rsp_prod_pvt++);
    r->id = 0;
    r->flags = flags;
    r->status = status;
    r->offset = offset;
}

static void back_extra(uint8_t type, uint8_t gtype, uint16_t gsize)
{
    rxb.req_cons++;
    netif_extra_info_t x;
    memset(&x, 0, sizeof x);
    x.type = type;
    x.u.gso.type = gtype;
    x.u.gso.size = gsize;
    memcpy(RING_GET_RESPONSE(&rxb, rxb.rsp_prod_pvt++), &x, sizeof x);
}

static void back_push(void)
{
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&rxb, notify);
    (void)notify;
}

/* _i selects the malformation; each is dropped with every slot consumed. */
START_TEST(rx_malformed_responses_are_dropped)
{
    unsigned slots = 1;
    switch (_i) {
    case 0: back_rsp(0, -1, 0); break;
    case 1: back_rsp(0, 200, 3900); break;
    case 2: back_rsp(NETRXF_extra_info, 100, 0); break;
    case 3: back_rsp(NETRXF_extra_info, 100, 0); back_extra(0, 0, 0); slots = 2; break;
    case 4: back_rsp(NETRXF_extra_info, 100, 0); back_extra(9, 0, 0); slots = 2; break;
    case 5: back_rsp(NETRXF_extra_info, 100, 0); back_extra(XEN_NETIF_EXTRA_TYPE_GSO, 1, 0); slots = 2; break;
    case 6: back_rsp(NETRXF_extra_info, 100, 0); back_extra(XEN_NETIF_EXTRA_TYPE_GSO, 3, 1000); slots = 2; break;
    case 7:
        for (int i = 0; i < 19; i++)
            back_rsp(i < 18 ? NETRXF_more_data : 0, 10, 0);
        slots = 19;
        break;
    case 8: back_rsp(NETRXF_more_data, 100, 0); break;
    default: back_rsp(0, 10, 0); break;                   /* shorter than Ethernet */
    }
    back_push();
    struct nf_rx_frame f;
    ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_DROP);
    ck_assert(f.fault);
    ck_assert_ptr_nonnull(f.why);
    ck_assert_uint_eq(f.slots, slots);
    ck_assert_uint_eq(rx.ring.rsp_cons, slots);
    ck_assert_uint_eq(rx.nfree, slots);
}
END_TEST

START_TEST(rx_eighteen_slots_are_fine)
{
    for (int i = 0; i < 18; i++)
        back_rsp(i < 17 ? NETRXF_more_data : 0, 100, 0);
    back_push();
    struct nf_rx_frame f;
    ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_FRAME);
    ck_assert_uint_eq(f.len, 1800);
}
END_TEST

START_TEST(rx_too_big_for_the_caller_is_not_a_fault)
{
    back_place(frame, build_udp_frame(frame, 3000), &(struct xnv_rx_meta){ 0 });
    struct nf_rx_frame f;
    ck_assert_int_eq(front_read(&f, 1500), NF_RX_DROP);
    ck_assert(!f.fault);
}
END_TEST

START_TEST(rx_producer_checks)
{
    RING_IDX prod;
    const char *why;
    rx.ring.sring->rsp_prod = NBUF + 1;          /* more than posted */
    ck_assert_int_eq(nf_rx_prod(&rx, &prod, &why), -EPROTO);
    rx.ring.sring->rsp_prod = 300;               /* a ring ahead */
    ck_assert_int_eq(nf_rx_prod(&rx, &prod, &why), -EPROTO);
    rx.ring.sring->rsp_prod = (RING_IDX)-1;      /* behind */
    ck_assert_int_eq(nf_rx_prod(&rx, &prod, &why), -EPROTO);
    rx.ring.sring->rsp_prod = 0;
    ck_assert_int_eq(nf_rx_arm(&rx, &prod, &why), 0);
    ck_assert_uint_eq(rx.ring.sring->rsp_event, 1);
}
END_TEST

/* ---- receive without a copy: segments in the buffers, released after --------- */

static enum nf_rx_verdict front_gather(struct nf_rx_frame *f)
{
    RING_IDX prod;
    const char *why;
    ck_assert_int_eq(nf_rx_prod(&rx, &prod, &why), 0);
    return nf_rx_gather(&rx, prod, XNV_NF_MAX_FRAME, f);
}

static bool inside_pages(const void *p, size_t n)
{
    const uint8_t *b = p;
    return b >= pages && b + n <= pages + (size_t)NBUF * 4096;
}

START_TEST(rx_gather_points_into_the_buffers_and_holds_them)
{
    uint32_t len = build_tcp_frame(frame, 1, 30000);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated,
                             .gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1440 };
    back_place(frame, len, &m);
    struct nf_rx_frame f;
    ck_assert_int_eq(front_gather(&f), NF_RX_FRAME);
    ck_assert_uint_eq(f.len, len);
    ck_assert_uint_eq(f.slots, 8 + 1);
    ck_assert_uint_eq(f.nseg, 8);
    ck_assert_uint_eq(f.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert_uint_eq(f.gso_size, 1440);
    uint32_t at = 0;
    for (unsigned i = 0; i < f.nseg; i++) {
        ck_assert(inside_pages(f.seg[i].iov_base, f.seg[i].iov_len));
        ck_assert_ptr_eq(f.seg[i].iov_base, page(f.seg_buf[i]));   /* offset 0 here */
        ck_assert(memcmp(f.seg[i].iov_base, frame + at, f.seg[i].iov_len) == 0);
        at += (uint32_t)f.seg[i].iov_len;
    }
    ck_assert_uint_eq(at, len);
    /* Only the extra slot's buffer is free: the data buffers are held and
     * cannot be reposted while the frame is read from them. */
    ck_assert_uint_eq(rx.nfree, 1);
    ck_assert_uint_eq(nf_rx_refill(&rx), 1);
    for (unsigned i = 0; i < rx.nfree; i++)
        for (unsigned k = 0; k < f.nseg; k++)
            ck_assert_uint_ne(rx.free_buf[i], f.seg_buf[k]);
    nf_rx_release(&rx, &f);
    ck_assert_uint_eq(rx.nfree, 8);
    nf_rx_release(&rx, &f);                      /* once only */
    ck_assert_uint_eq(rx.nfree, 8);
    ck_assert_uint_eq(nf_rx_refill(&rx), 8);
    ck_assert_uint_eq(rx.nfree, 0);
}
END_TEST

/* The offset and length the frame is cut by come from the private copy of
 * each response: a segment starts at the slot's offset, and a bad slot
 * anywhere in the chain leaves nothing held. */
START_TEST(rx_gather_uses_offsets_and_refuses_bad_slots)
{
    back_rsp(NETRXF_more_data, 100, 40);
    back_rsp(0, 60, 4000);
    back_push();
    struct nf_rx_frame f;
    ck_assert_int_eq(front_gather(&f), NF_RX_FRAME);
    ck_assert_uint_eq(f.nseg, 2);
    ck_assert_ptr_eq(f.seg[0].iov_base, page(f.seg_buf[0]) + 40);
    ck_assert_uint_eq(f.seg[0].iov_len, 100);
    ck_assert_ptr_eq(f.seg[1].iov_base, page(f.seg_buf[1]) + 4000);
    ck_assert_uint_eq(f.seg[1].iov_len, 60);
    /* The backend rewrites the response after it was read: no effect. */
    RING_GET_RESPONSE(&rxb, 0)->offset = 4090;
    ck_assert_uint_eq(f.seg[0].iov_len, 100);
    nf_rx_release(&rx, &f);
    ck_assert_uint_eq(rx.nfree, 2);

    back_rsp(NETRXF_more_data, 100, 0);
    back_rsp(NETRXF_more_data, 100, 0);
    back_rsp(0, 200, 3900);                      /* crosses its page */
    back_push();
    ck_assert_int_eq(front_gather(&f), NF_RX_DROP);
    ck_assert(f.fault);
    ck_assert_uint_eq(f.nseg, 0);
    ck_assert_uint_eq(rx.nfree, 2 + 3);          /* all three back at once */
    nf_rx_release(&rx, &f);                      /* harmless */
    ck_assert_uint_eq(rx.nfree, 2 + 3);
}
END_TEST

/* A sink recording what it was handed. */
static struct iovec sunk[1 + NF_MAX_SLOTS];
static unsigned nsunk;
static struct virtio_net_hdr sunk_vh;
static uint8_t sunk_bytes[70000];
static uint32_t sunk_len;

static void record(void *ctx, const struct virtio_net_hdr *vh, const struct iovec *iov, unsigned n)
{
    (void)ctx;
    sunk_vh = *vh;
    nsunk = n;
    sunk_len = 0;
    for (unsigned i = 0; i < n; i++) {
        sunk[i] = iov[i];
        memcpy(sunk_bytes + sunk_len, iov[i].iov_base, iov[i].iov_len);
        sunk_len += (uint32_t)iov[i].iov_len;
    }
}

static uint8_t scratch[XNV_NF_MAX_FRAME];

/* The head (offloads decided and patched there) is private, the payload
 * comes from the buffers, and the result equals what the copying receive
 * makes of the same frame. */
START_TEST(rx_deliver_copies_the_head_only)
{
    uint32_t len = build_tcp_frame(frame, 1, 30000);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated,
                             .gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1440 };
    back_place(frame, len, &m);
    back_place(frame, len, &m);
    struct nf_rx_frame f;
    ck_assert_int_eq(front_read(&f, sizeof out), NF_RX_FRAME);
    struct xnv_offload o;
    struct virtio_net_hdr vh;
    const char *why = NULL;
    ck_assert_int_eq(xnv_offload_from_netif_rx(out, f.len, f.flags, f.gso_type, f.gso_size, &o, &why), 0);
    xnv_offload_to_vnet(&o, &vh);

    ck_assert_int_eq(front_gather(&f), NF_RX_FRAME);
    ck_assert_int_eq(nf_rx_deliver(&f, XNV_NF_OFFLOAD_ALL, scratch, record, NULL, &why), 0);
    ck_assert_uint_eq(nsunk, 1 + 8);
    ck_assert(!inside_pages(sunk[0].iov_base, 1) && sunk[0].iov_base != scratch);
    ck_assert_uint_eq(sunk[0].iov_len, NF_RX_HEAD);
    for (unsigned i = 1; i < nsunk; i++)
        ck_assert(inside_pages(sunk[i].iov_base, sunk[i].iov_len));
    ck_assert_uint_eq(sunk_len, len);
    ck_assert(memcmp(sunk_bytes, out, len) == 0);
    ck_assert(memcmp(&sunk_vh, &vh, sizeof vh) == 0);
    ck_assert_uint_eq(sunk_vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
    /* The buffers stay held until the caller releases them. */
    ck_assert_uint_eq(rx.nfree, 9 + 1);
    nf_rx_release(&rx, &f);
    ck_assert_uint_eq(rx.nfree, 9 + 9);
}
END_TEST

/* A checksum the receiver cannot take is completed over the whole frame,
 * which is then copied; bad offloads are refused without calling the sink. */
START_TEST(rx_deliver_copies_whole_frames_when_it_must)
{
    uint32_t len = build_udp_frame(frame, 1000);
    back_place(frame, len, &(struct xnv_rx_meta){ .flags = NETRXF_csum_blank | NETRXF_data_validated });
    struct nf_rx_frame f;
    const char *why = NULL;
    ck_assert_int_eq(front_gather(&f), NF_RX_FRAME);
    ck_assert_int_eq(nf_rx_deliver(&f, XNV_F_NO_CSUM, scratch, record, NULL, &why), 0);
    ck_assert_uint_eq(nsunk, 1);
    ck_assert_ptr_eq(sunk[0].iov_base, scratch);
    ck_assert_uint_eq(sunk_len, len);
    ck_assert(!(sunk_vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM));
    nf_rx_release(&rx, &f);

    /* Partial checksum on a frame that is not TCP/UDP: refused. */
    memset(frame, 0, 64);
    frame[12] = 0x08;
    frame[14] = 0x45;
    frame[16] = 0;
    frame[17] = 50;
    frame[23] = 1;                               /* ICMP */
    back_place(frame, 64, &(struct xnv_rx_meta){ .flags = NETRXF_csum_blank | NETRXF_data_validated });
    nsunk = 0;
    ck_assert_int_eq(front_gather(&f), NF_RX_FRAME);
    ck_assert_int_eq(nf_rx_deliver(&f, XNV_NF_OFFLOAD_ALL, scratch, record, NULL, &why), -EINVAL);
    ck_assert_ptr_nonnull(why);
    ck_assert_uint_eq(nsunk, 0);
    nf_rx_release(&rx, &f);
    ck_assert_uint_eq(rx.nfree, 2);
}
END_TEST

Suite *xnv_suite_netfront_ring(void)
{
    Suite *s = suite_create("netfront-ring");
    TCase *t = tcase_create("tx");
    tcase_add_checked_fixture(t, tx_setup, tx_teardown);
    tcase_add_test(t, tx_frame_round_trips_through_the_backend_reader);
    tcase_add_test(t, tx_error_responses_are_counted);
    tcase_add_test(t, tx_checksum_patch_lands_across_pages);
    tcase_add_test(t, tx_full_ring_and_pool);
    tcase_add_test(t, tx_without_sg_takes_one_page_frames_only);
    tcase_add_test(t, tx_scrub_clears_what_an_older_frame_left);
    tcase_add_test(t, tx_reclaim_refuses_bad_responses);
    suite_add_tcase(s, t);
    t = tcase_create("rx");
    tcase_add_checked_fixture(t, rx_setup, rx_teardown);
    tcase_add_test(t, rx_gso_frame_with_extra_is_read_back);
    tcase_add_test(t, rx_many_frames_reuse_buffers_by_slot);
    tcase_add_loop_test(t, rx_malformed_responses_are_dropped, 0, 10);
    tcase_add_test(t, rx_eighteen_slots_are_fine);
    tcase_add_test(t, rx_too_big_for_the_caller_is_not_a_fault);
    tcase_add_test(t, rx_producer_checks);
    tcase_add_test(t, rx_gather_points_into_the_buffers_and_holds_them);
    tcase_add_test(t, rx_gather_uses_offsets_and_refuses_bad_slots);
    tcase_add_test(t, rx_deliver_copies_the_head_only);
    tcase_add_test(t, rx_deliver_copies_whole_frames_when_it_must);
    suite_add_tcase(s, t);
    return s;
}
