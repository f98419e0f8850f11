/* Fuzz target: placing frames into the RX buffers a hostile frontend posts
 * (xnv_rx_place, xnv_rx_place_sg, xnv_rx_fail) and the grant-copy batch
 * they fill (copy_batch.h).
 *
 * Input: u32 first ring index, u8 batch capacity, then operations until the
 * input ends, each introduced by one byte op:
 *   op % 6 == 0  post: u8 k, then k requests (8 bytes, netif_rx_request_t)
 *                written at the producer, which advances by k
 *   op % 6 == 1  producer jump: u16 d
 *   op % 6 == 2  place a local frame: u16 len, u8 flags, u8 GSO type (mod 3),
 *                u16 GSO size
 *   op % 6 == 3  place a scattered frame: u8 n (1..20) pieces of u8 kind,
 *                u16 len, u16 offset (grant pieces stay inside their page,
 *                as the contract of xnv_rx_src asks), then the meta as above
 *   op % 6 == 4  run the batch: u8 per segment decides its status; the
 *                per-packet verdicts are checked, then the batch is emptied
 *   op % 6 == 5  fail the last placed frame (xnv_rx_fail)
 *
 * Checked: the return code matches the ring and batch state; nothing moves
 * on error; on success exactly the frame's slots are consumed, the segments
 * stay inside their pages and the batch, reproduce the frame in order into
 * consecutive pages of the posted grants, and every response (and the GSO
 * extra) lands in the slot of its request. */
#include <errno.h>
#include "../unit/copy_helpers.h"
#include "fuzz_common.h"
#include "xnv/copy_batch.h"
#include "xnv/rx.h"

#define RING_SLOTS XNV_NETIF_RX_RING_SIZE
#define MAX_PIECES 20
#define DOM 3

struct frame {
    struct xnv_rx_src src[MAX_PIECES];
    unsigned nsrc;
    uint32_t len;
    struct xnv_rx_meta meta;
};

static void read_meta(struct fz *in, struct xnv_rx_meta *m)
{
    m->flags = fz_u8(in);
    m->gso_type = fz_u8(in) % 3;
    m->gso_size = fz_u16(in);
}

/* Local sources: placing a frame only records where its bytes are (the
 * copy happens later, in the hypervisor), so each piece just needs an
 * address of its own, large enough for it. */
static uint8_t local_mem[MAX_PIECES][XNV_RX_MAX_LEN + 1];

static uint8_t *local_piece(unsigned i) { return local_mem[i]; }

/* Walk the new segments against the frame: pieces in order, pages in order. */
static void check_segments(const struct xnv_copy_batch *b, unsigned from, const struct frame *fr,
                           const netif_rx_request_t *snap, const struct xnv_rx_placed *pl,
                           uint16_t pkt_index)
{
    unsigned pi = 0, page = 0;
    uint32_t po = 0, doff = 0, total = 0;
    for (unsigned i = from; i < b->n; i++) {
        const xengnttab_grant_copy_segment_t *s = &b->seg[i];
        FZ_CHECK(b->pkt[i] == pkt_index);
        FZ_CHECK(s->len > 0 && s->len <= XNV_PAGE_SIZE);
        /* Destination: the next bytes of the current page, or a fresh page. */
        if (doff == XNV_PAGE_SIZE) {
            page++;
            doff = 0;
        }
        RING_IDX slot = pl->first + page + (page > 0 && pl->extra ? 1 : 0);
        FZ_CHECK(page < pl->nr_slots);
        FZ_CHECK(s->flags & GNTCOPY_dest_gref);
        FZ_CHECK(s->dest.foreign.domid == DOM);
        FZ_CHECK(s->dest.foreign.ref == snap[slot & (RING_SLOTS - 1)].gref);
        FZ_CHECK(s->dest.foreign.offset == doff);
        FZ_CHECK((uint32_t)s->dest.foreign.offset + s->len <= XNV_PAGE_SIZE);
        /* Source: the next bytes of the current piece (empty ones skipped). */
        while (pi < fr->nsrc && po == fr->src[pi].len) {
            pi++;
            po = 0;
        }
        FZ_CHECK(pi < fr->nsrc);
        const struct xnv_rx_src *p = &fr->src[pi];
        FZ_CHECK(po + s->len <= p->len);
        if (p->local) {
            FZ_CHECK(s->flags == GNTCOPY_dest_gref);
            FZ_CHECK((const uint8_t *)s->source.virt == p->local + po);
        } else {
            FZ_CHECK(s->flags == (GNTCOPY_source_gref | GNTCOPY_dest_gref));
            FZ_CHECK(s->source.foreign.domid == p->dom && s->source.foreign.ref == p->ref);
            FZ_CHECK(s->source.foreign.offset == p->offset + po);
            FZ_CHECK((uint32_t)s->source.foreign.offset + s->len <= XNV_PAGE_SIZE);
        }
        po += s->len;
        doff += s->len;
        total += s->len;
    }
    FZ_CHECK(total == fr->len);
}

static void check_responses(const netif_rx_back_ring_t *ring, const netif_rx_request_t *snap,
                            const struct xnv_rx_placed *pl, const struct frame *fr)
{
    uint32_t done = 0;
    unsigned data = 0, ndata = pl->nr_slots - (pl->extra ? 1 : 0);
    for (unsigned i = 0; i < pl->nr_slots; i++) {
        RING_IDX idx = pl->first + i;
        const void *slot = &ring->sring->ring[idx & (RING_SLOTS - 1)];
        if (i == 1 && pl->extra) {
            netif_extra_info_t e;
            memcpy(&e, slot, sizeof e);
            FZ_CHECK(e.type == XEN_NETIF_EXTRA_TYPE_GSO && e.flags == 0);
            FZ_CHECK(e.u.gso.type == fr->meta.gso_type && e.u.gso.size == fr->meta.gso_size);
            continue;
        }
        const netif_rx_response_t *r = slot;
        FZ_CHECK(r->id == snap[idx & (RING_SLOTS - 1)].id);
        FZ_CHECK(r->offset == 0 && r->status >= 0 && r->status <= (int)XNV_PAGE_SIZE);
        done += (uint32_t)r->status;
        bool last = data + 1 == ndata;
        FZ_CHECK(!!(r->flags & NETRXF_more_data) == !last);
        if (data == 0) {
            FZ_CHECK(!!(r->flags & NETRXF_extra_info) == pl->extra);
            FZ_CHECK((r->flags & (NETRXF_csum_blank | NETRXF_data_validated)) ==
                     (fr->meta.flags & (NETRXF_csum_blank | NETRXF_data_validated)));
        } else {
            FZ_CHECK(!(r->flags & (NETRXF_extra_info | NETRXF_csum_blank | NETRXF_data_validated)));
            FZ_CHECK(r->status > 0);
        }
        if (!last)
            FZ_CHECK(r->status == (int)XNV_PAGE_SIZE);
        data++;
    }
    FZ_CHECK(done == fr->len);
}

static void place(netif_rx_back_ring_t *ring, RING_IDX prod, struct xnv_copy_batch *b,
                  struct frame *fr, bool sg, uint16_t pkt_index, struct xnv_rx_placed *last,
                  bool *have_last)
{
    static netif_rx_request_t snap[RING_SLOTS];
    memcpy(snap, ring->sring->ring, sizeof snap);
    for (int attempt = 0; attempt < 2; attempt++) {
        RING_IDX cons = ring->req_cons, rsp = ring->rsp_prod_pvt;
        unsigned before = b->n;
        struct xnv_rx_placed pl;
        int rc = sg ? xnv_rx_place_sg(ring, prod, DOM, fr->src, fr->nsrc, fr->len, &fr->meta,
                                      b, pkt_index, &pl)
                    : xnv_rx_place(ring, prod, DOM, fr->src[0].local, fr->len, &fr->meta, b,
                                   pkt_index, &pl);
        unsigned need = xnv_rx_slots(fr->len, &fr->meta);
        unsigned ndata = fr->len ? (fr->len + XNV_PAGE_SIZE - 1) / XNV_PAGE_SIZE : 1;
        FZ_CHECK(need == ndata + (fr->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE));
        if (rc) {
            FZ_CHECK(ring->req_cons == cons && ring->rsp_prod_pvt == rsp && b->n == before);
            if ((RING_IDX)(prod - cons) > RING_SLOTS)
                FZ_CHECK(rc == -EPROTO);
            else if ((RING_IDX)(prod - cons) < need)
                FZ_CHECK(rc == -EAGAIN);
            else
                FZ_CHECK(rc == -ENOSPC);
            if (rc == -ENOSPC && attempt == 0) {
                xnv_copy_batch_reset(b);      /* the daemon runs the batch, then retries */
                continue;
            }
            return;
        }
        FZ_CHECK((RING_IDX)(prod - cons) <= RING_SLOTS);
        FZ_CHECK(pl.first == cons && pl.nr_slots == need);
        FZ_CHECK(pl.extra == (fr->meta.gso_type != XEN_NETIF_GSO_TYPE_NONE));
        FZ_CHECK(ring->req_cons - cons == need && need <= prod - cons);
        FZ_CHECK(ring->rsp_prod_pvt == ring->req_cons);
        FZ_CHECK(b->n <= b->cap);
        check_segments(b, before, fr, snap, &pl, pkt_index);
        check_responses(ring, snap, &pl, fr);
        *last = pl;
        *have_last = true;
        return;
    }
}

static void run_batch(struct fz *in, struct xnv_copy_batch *b, uint16_t npkts)
{
    static bool failed_model[65536];
    static bool failed[65536];
    for (unsigned i = 0; i < b->n; i++)
        b->seg[i].status = (fz_u8(in) & 3) == 3 ? GNTST_bad_gntref : GNTST_okay;
    uint16_t bound = (uint16_t)(npkts + fz_u8(in) % 3);
    memset(failed_model, 0, sizeof(bool) * ((size_t)bound + 1));
    memset(failed, 0, sizeof(bool) * ((size_t)bound + 1));
    for (unsigned i = 0; i < b->n; i++)
        if (b->seg[i].status != GNTST_okay)
            failed_model[b->pkt[i]] = true;
    xnv_copy_batch_failures(b, failed, bound);
    for (unsigned p = 0; p < bound; p++) {
        FZ_CHECK(failed[p] == failed_model[p]);
        FZ_CHECK(copy_batch_pkt_ok(b, (uint16_t)p) == !failed_model[p]);
    }
    FZ_CHECK(!failed[bound]);           /* nothing written past the bound */
    xnv_copy_batch_reset(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    netif_rx_sring_t *sring = aligned_alloc(XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    memset(sring, 0, XNV_PAGE_SIZE);
    SHARED_RING_INIT(sring);
    netif_rx_back_ring_t ring;
    BACK_RING_INIT(&ring, sring, XNV_PAGE_SIZE);
    FZ_CHECK(RING_SIZE(&ring) == RING_SLOTS);
    RING_IDX prod = fz_u32(&in);
    ring.req_cons = ring.rsp_prod_pvt = prod;
    struct xnv_copy_batch b;
    if (xnv_copy_batch_init(&b, 1 + fz_u8(&in) % 64))
        abort();

    uint16_t pkt_index = 0;
    struct xnv_rx_placed last;
    bool have_last = false;
    for (unsigned ops = 0; !fz_empty(&in) && ops < 512; ops++) {
        uint8_t op = fz_u8(&in) % 6;
        if (op == 0) {
            unsigned k = fz_u8(&in);
            for (unsigned j = 0; j < k; j++) {
                netif_rx_request_t req;
                fz_bytes(&in, &req, sizeof req);
                *RING_GET_REQUEST(&ring, prod) = req;
                prod++;
            }
        } else if (op == 1) {
            prod += fz_u16(&in);
        } else if (op == 2 || op == 3) {
            struct frame fr = { .nsrc = 0 };
            if (op == 2) {
                fr.len = fz_u16(&in);
                fr.src[0] = (struct xnv_rx_src){ .local = local_piece(0), .len = fr.len };
                fr.nsrc = 1;
            } else {
                fr.nsrc = 1 + fz_u8(&in) % MAX_PIECES;
                for (unsigned i = 0; i < fr.nsrc; i++) {
                    uint8_t kind = fz_u8(&in);
                    uint32_t len = fz_u16(&in);
                    uint16_t off = fz_u16(&in);
                    if (kind & 1) {
                        len &= 0x3fff;
                        fr.src[i] = (struct xnv_rx_src){ .local = local_piece(i), .len = len };
                    } else {
                        off %= XNV_PAGE_SIZE;
                        len %= XNV_PAGE_SIZE - off + 1u;
                        fr.src[i] = (struct xnv_rx_src){ .dom = (xnv_domid_t)(kind >> 1),
                                                         .ref = 100u + i, .offset = off,
                                                         .len = len };
                    }
                    fr.len += len;
                }
            }
            read_meta(&in, &fr.meta);
            /* The contract: a frame the host side accepts at most. */
            if (fr.len <= XNV_RX_MAX_LEN)
                place(&ring, prod, &b, &fr, op == 3, pkt_index, &last, &have_last);
            pkt_index++;
        } else if (op == 4) {
            run_batch(&in, &b, pkt_index);
        } else if (have_last) {
            /* Only while the responses are still unpushed and unconsumed. */
            netif_rx_response_t saved[RING_SLOTS];
            memcpy(saved, sring->ring, sizeof saved);
            xnv_rx_fail(&ring, &last);
            for (unsigned i = 0; i < last.nr_slots; i++) {
                RING_IDX idx = (last.first + i) & (RING_SLOTS - 1);
                if (i == 1 && last.extra)
                    FZ_CHECK(memcmp(&sring->ring[idx], &saved[idx], sizeof saved[idx]) == 0);
                else
                    FZ_CHECK(sring->ring[idx].rsp.status == NETIF_RSP_ERROR &&
                             sring->ring[idx].rsp.id == saved[idx].id);
            }
            have_last = false;
        }
    }
    xnv_copy_batch_free(&b);
    free(sring);
    return 0;
}
