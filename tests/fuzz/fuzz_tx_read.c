/* Fuzz target: a hostile frontend's TX ring, read by xnv_tx_read() and
 * answered by xnv_tx_respond(), with the frags of each accepted packet
 * turned into grant-copy segments by the test backends' tx_add_copies()
 * (tests/unit/copy_helpers.c).
 *
 * Input:
 *   u32 first ring index (req_cons = rsp_prod_pvt = this)
 *   u8  response status selector, u8 copy batch capacity
 *   then postings until the input ends, each:
 *     u8 k; k < 255: k requests of 12 bytes (netif_tx_request_t layout, or
 *                    netif_extra_info_t in its first 8 bytes) written at
 *                    the producer, which then advances by k;
 *           k = 255: u16 d, the producer jumps by d with nothing written
 *   After each posting the backend reads packets until none is left or
 *   the ring turns fatal (it is abandoned then, as the daemon would).
 *
 * Every verdict is compared with an independent model of the rules in
 * tx.h and the hostile-input list; the packet descriptor, the slot
 * accounting, the responses and the copy segments are checked too. */
#include "../unit/copy_helpers.h"
#include "fuzz_common.h"
#include "xnv/copy_batch.h"
#include "xnv/tx.h"

#define RING_SLOTS XNV_NETIF_TX_RING_SIZE

/* What the model expects of one xnv_tx_read() call. */
struct model {
    enum xnv_tx_verdict v;
    unsigned consumed;          /* slots, for every verdict but FATAL / NONE */
    unsigned extras;
    unsigned data_slots;        /* first slot included, empty slots included */
    unsigned empty_slots;
    uint32_t frag_sum;          /* sizes of the non-empty later slots (PACKET) */
    uint16_t first_len;         /* PACKET: what the first slot itself holds */
    uint8_t gso_type;
    uint16_t gso_size;
    bool mcast;
};

static const netif_tx_request_t *slot_at(const netif_tx_request_t *snap, RING_IDX i)
{
    return &snap[i & (RING_SLOTS - 1)];
}

/* The rules, written from the contract rather than from the reader. */
static void model_read(const netif_tx_request_t *snap, RING_IDX cons, RING_IDX prod,
                       struct model *m)
{
    *m = (struct model){ .v = XNV_TX_PACKET, .gso_type = XEN_NETIF_GSO_TYPE_NONE };
    if ((RING_IDX)(prod - cons) > RING_SLOTS) {
        m->v = XNV_TX_FATAL;
        return;
    }
    if (prod == cons) {
        m->v = XNV_TX_NONE;
        return;
    }
    RING_IDX i = cons;
    const netif_tx_request_t *first = slot_at(snap, i++);
    if (first->flags & NETTXF_extra_info) {
        netif_extra_info_t e;
        do {
            if (i == prod || ++m->extras > XNV_TX_MAX_EXTRAS) {
                m->v = XNV_TX_FATAL;
                return;
            }
            memcpy(&e, slot_at(snap, i++), sizeof e);
            switch (e.type) {
            case XEN_NETIF_EXTRA_TYPE_GSO:
                if (e.u.gso.size == 0 || (e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                                          e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)) {
                    m->v = XNV_TX_FATAL;
                    return;
                }
                m->gso_type = e.u.gso.type;
                m->gso_size = e.u.gso.size;
                break;
            case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
            case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
                m->mcast = true;
                break;
            case XEN_NETIF_EXTRA_TYPE_HASH:
                break;
            default:
                m->v = XNV_TX_FATAL;
                return;
            }
        } while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }
    if (m->mcast) {
        m->v = XNV_TX_MCAST;
        m->consumed = (unsigned)(i - cons);
        return;
    }
    bool drop = false;
    uint32_t remaining = first->size;
    const netif_tx_request_t *last = first;
    m->data_slots = 1;
    while (last->flags & NETTXF_more_data) {
        if (i == prod || ++m->data_slots >= XNV_TX_FATAL_SLOTS) {
            m->v = XNV_TX_FATAL;
            return;
        }
        last = slot_at(snap, i++);
        if ((uint32_t)last->offset + last->size > XNV_PAGE_SIZE) {
            m->v = XNV_TX_FATAL;
            return;
        }
        if (last->size == 0) {
            m->empty_slots++;
            continue;
        }
        if (m->data_slots > XNV_TX_MAX_FRAGS || last->size > remaining)
            drop = true;
        if (!drop) {
            remaining -= last->size;
            m->frag_sum += last->size;
        }
    }
    m->consumed = (unsigned)(i - cons);
    if (drop) {
        /* Rule 4: a later slot too large is a drop, with every slot consumed;
         * what remains of the first size means nothing any more then. */
        m->v = XNV_TX_DROP;
        return;
    }
    if ((uint32_t)first->offset + remaining > XNV_PAGE_SIZE) {
        m->v = XNV_TX_FATAL;
        return;
    }
    m->first_len = (uint16_t)remaining;
    if (remaining < XNV_ETH_HLEN)
        m->v = XNV_TX_DROP;
}

static void check_packet(const struct xnv_tx_pkt *pkt, const struct model *m,
                         const netif_tx_request_t *snap, RING_IDX cons)
{
    const netif_tx_request_t *first = slot_at(snap, cons);
    FZ_CHECK(pkt->nr_frags >= 1 && pkt->nr_frags <= XNV_TX_MAX_FRAGS);
    FZ_CHECK(pkt->len <= XNV_TX_MAX_LEN);
    FZ_CHECK(pkt->len == first->size);
    FZ_CHECK(pkt->frag[0].gref == first->gref && pkt->frag[0].offset == first->offset);
    FZ_CHECK(pkt->frag[0].len == m->first_len && pkt->frag[0].len >= XNV_ETH_HLEN);
    uint32_t sum = 0;
    for (unsigned i = 0; i < pkt->nr_frags; i++) {
        FZ_CHECK(pkt->frag[i].len > 0);
        FZ_CHECK((uint32_t)pkt->frag[i].offset + pkt->frag[i].len <= XNV_PAGE_SIZE);
        sum += pkt->frag[i].len;
    }
    FZ_CHECK(sum == pkt->len);
    FZ_CHECK(sum - pkt->frag[0].len == m->frag_sum);
    FZ_CHECK(pkt->nr_frags == m->data_slots - m->empty_slots);
    FZ_CHECK(pkt->flags == (first->flags & (NETTXF_csum_blank | NETTXF_data_validated)));
    FZ_CHECK(pkt->gso_type == m->gso_type && pkt->gso_size == m->gso_size);
}

static void check_slots(const struct xnv_tx_pkt *pkt, const struct model *m,
                        const netif_tx_request_t *snap, RING_IDX cons)
{
    FZ_CHECK(pkt->nr_consumed == m->consumed);
    FZ_CHECK(pkt->nr_consumed >= 1 && pkt->nr_consumed <= XNV_TX_MAX_CONSUMED);
    FZ_CHECK(pkt->slot[0].kind == XNV_TX_SLOT_DATA && pkt->slot[0].id == slot_at(snap, cons)->id);
    unsigned extras = 0, empty = 0;
    for (unsigned i = 1; i < pkt->nr_consumed; i++) {
        const netif_tx_request_t *r = slot_at(snap, cons + i);
        switch (pkt->slot[i].kind) {
        case XNV_TX_SLOT_EXTRA:
            FZ_CHECK(i <= m->extras);           /* extras come right after the first */
            extras++;
            break;
        case XNV_TX_SLOT_EMPTY:
            FZ_CHECK(r->size == 0 && pkt->slot[i].id == r->id);   /* rule 7 */
            empty++;
            break;
        case XNV_TX_SLOT_DATA:
            FZ_CHECK(i > m->extras && pkt->slot[i].id == r->id);
            break;
        default:
            FZ_CHECK(!"unknown slot kind");
        }
    }
    FZ_CHECK(extras == m->extras);
    if (m->v != XNV_TX_MCAST)
        FZ_CHECK(empty == m->empty_slots);
}

static void check_responses(const netif_tx_back_ring_t *ring, RING_IDX from,
                            const struct xnv_tx_pkt *pkt, int16_t status)
{
    for (unsigned i = 0; i < pkt->nr_consumed; i++) {
        const netif_tx_response_t *r = &ring->sring->ring[(from + i) & (RING_SLOTS - 1)].rsp;
        switch (pkt->slot[i].kind) {
        case XNV_TX_SLOT_EXTRA:
            FZ_CHECK(r->status == NETIF_RSP_NULL);
            break;
        case XNV_TX_SLOT_EMPTY:
            FZ_CHECK(r->status == NETIF_RSP_OKAY && r->id == pkt->slot[i].id);
            break;
        default:
            FZ_CHECK(r->status == status && r->id == pkt->slot[i].id);
        }
    }
}

/* The copy segments of an accepted packet: one per frag, each from its own
 * grant window into consecutive bytes of the private frame buffer. */
static void check_copies(struct xnv_copy_batch *b, const struct xnv_tx_pkt *pkt,
                         uint16_t pkt_index)
{
    if (xnv_copy_batch_room(b) < pkt->nr_frags)
        xnv_copy_batch_reset(b);        /* the daemon would run the batch first */
    uint8_t *dst = malloc(pkt->len);
    unsigned before = b->n, room = xnv_copy_batch_room(b);
    bool ok = tx_add_copies(b, pkt, 7, dst, pkt_index);
    if (room < pkt->nr_frags) {
        FZ_CHECK(!ok && b->n == before);
        free(dst);
        return;
    }
    FZ_CHECK(ok && b->n == before + pkt->nr_frags && b->n <= b->cap);
    uint32_t at = 0;
    for (unsigned i = 0; i < pkt->nr_frags; i++) {
        const xengnttab_grant_copy_segment_t *s = &b->seg[before + i];
        FZ_CHECK(s->flags == GNTCOPY_source_gref && s->len == pkt->frag[i].len);
        FZ_CHECK(s->source.foreign.ref == pkt->frag[i].gref && s->source.foreign.domid == 7);
        FZ_CHECK((uint32_t)s->source.foreign.offset + s->len <= XNV_PAGE_SIZE);
        FZ_CHECK((uint8_t *)s->dest.virt == dst + at && at + s->len <= pkt->len);
        FZ_CHECK(b->pkt[before + i] == pkt_index);
        at += s->len;
    }
    FZ_CHECK(at == pkt->len);
    free(dst);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int16_t statuses[] = { NETIF_RSP_OKAY, NETIF_RSP_ERROR, NETIF_RSP_DROPPED };
    struct fz in = fz_init(data, size);
    netif_tx_sring_t *sring = aligned_alloc(XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    memset(sring, 0, XNV_PAGE_SIZE);
    SHARED_RING_INIT(sring);
    netif_tx_back_ring_t ring;
    BACK_RING_INIT(&ring, sring, XNV_PAGE_SIZE);
    FZ_CHECK(RING_SIZE(&ring) == RING_SLOTS);

    RING_IDX start = fz_u32(&in);
    ring.req_cons = ring.rsp_prod_pvt = start;
    RING_IDX prod = start;
    int16_t status = statuses[fz_u8(&in) % 3];
    struct xnv_copy_batch batch;
    if (xnv_copy_batch_init(&batch, 1 + fz_u8(&in) % 64))
        abort();

    static netif_tx_request_t snap[RING_SLOTS];
    uint16_t pkt_index = 0;
    bool abandoned = false;
    while (!fz_empty(&in) && !abandoned) {
        uint8_t k = fz_u8(&in);
        if (k == 255) {
            prod += fz_u16(&in);
        } else {
            for (unsigned j = 0; j < k; j++) {
                netif_tx_request_t req;
                fz_bytes(&in, &req, sizeof req);
                *RING_GET_REQUEST(&ring, prod) = req;
                prod++;
            }
        }
        for (unsigned iter = 0; iter <= RING_SLOTS + 1; iter++) {
            struct xnv_tx_pkt pkt;
            struct model m;
            RING_IDX cons = ring.req_cons;
            memcpy(snap, sring->ring, sizeof snap);
            model_read(snap, cons, prod, &m);
            enum xnv_tx_verdict v = xnv_tx_read(&ring, prod, &pkt);
            if (v != m.v) {
                fprintf(stderr, "xnv fuzz: xnv_tx_read verdict %d (%s), model %d\n", v,
                        pkt.why ? pkt.why : "-", m.v);
                FZ_CHECK(v == m.v);
            }
            if (v == XNV_TX_NONE) {
                FZ_CHECK(ring.req_cons == prod && cons == prod);
                break;
            }
            FZ_CHECK(pkt.nr_consumed <= XNV_TX_MAX_CONSUMED);
            if (v == XNV_TX_FATAL) {
                FZ_CHECK(ring.req_cons == cons && pkt.why != NULL);
                abandoned = true;
                break;
            }
            /* Consumed slots: exactly the packet's, never past the producer. */
            FZ_CHECK(ring.req_cons - cons == pkt.nr_consumed);
            FZ_CHECK(ring.req_cons - cons <= prod - cons);
            check_slots(&pkt, &m, snap, cons);
            if (v == XNV_TX_DROP)
                FZ_CHECK(pkt.why != NULL);
            if (v == XNV_TX_MCAST)
                FZ_CHECK(pkt.mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_ADD ||
                         pkt.mcast_op == XEN_NETIF_EXTRA_TYPE_MCAST_DEL);
            if (v == XNV_TX_PACKET) {
                check_packet(&pkt, &m, snap, cons);
                check_copies(&batch, &pkt, pkt_index++);
            }
            /* Every consumed slot is answered once, in ring order; responses
             * never overtake the consumer. */
            RING_IDX rsp_from = ring.rsp_prod_pvt;
            FZ_CHECK(rsp_from == cons);
            xnv_tx_respond(&ring, &pkt, v == XNV_TX_PACKET ? status : NETIF_RSP_ERROR);
            FZ_CHECK(ring.rsp_prod_pvt == ring.req_cons);
            check_responses(&ring, rsp_from, &pkt, v == XNV_TX_PACKET ? status : NETIF_RSP_ERROR);
            FZ_CHECK(iter < RING_SLOTS);   /* each call consumes at least one slot */
        }
    }
    xnv_copy_batch_free(&batch);
    free(sring);
    return 0;
}
