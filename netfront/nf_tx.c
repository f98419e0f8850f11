/* The transmit ring, frontend side: frames copied into pre-granted buffer
 * pages, requests queued, responses validated and their buffers reclaimed.
 * Pure functions over ring memory and private bookkeeping. */
#include <errno.h>
#include <string.h>
#include "nf.h"

void nf_tx_init(struct nf_tx *t, void *ring_page, unsigned nbufs, bool scrub, bool sg)
{
    netif_tx_sring_t *s = ring_page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&t->ring, s, XNV_PAGE_SIZE);
    t->nbufs = nbufs;
    t->nfree = 0;
    for (unsigned i = nbufs; i-- > 0;)
        t->free_id[t->nfree++] = (uint16_t)i;
    memset(t->busy, 0, sizeof t->busy);
    memset(t->dirty, 0, sizeof t->dirty);
    t->scrub = scrub;
    t->max_pages = sg ? NF_MAX_SLOTS : 1;
    t->extras_out = 0;
}

static void put_request(struct nf_tx *t, const netif_tx_request_t *req)
{
    *RING_GET_REQUEST(&t->ring, t->ring.req_prod_pvt) = *req;
    t->ring.req_prod_pvt++;
}

static void put_gso_extra(struct nf_tx *t, const struct nf_tx_meta *m)
{
    netif_extra_info_t e;
    memset(&e, 0, sizeof e);
    e.type = XEN_NETIF_EXTRA_TYPE_GSO;
    e.u.gso.size = m->gso_size;
    e.u.gso.type = m->gso_type;
    memcpy(RING_GET_REQUEST(&t->ring, t->ring.req_prod_pvt), &e, sizeof e);
    t->ring.req_prod_pvt++;
    t->extras_out++;
}

/* Copy frame[done, done + chunk) into page, with the patch applied and,
 * when scrubbing, what an older frame left behind cleared. */
static void fill_page(struct nf_tx *t, uint16_t id, const uint8_t *frame, uint32_t done,
                      uint32_t chunk, const struct nf_tx_meta *m)
{
    uint8_t *page = t->buf[id].addr;
    memcpy(page, frame + done, chunk);
    for (int k = 0; k < 2 && m->patch_pos >= 0; k++) {
        uint32_t pos = (uint32_t)m->patch_pos + (uint32_t)k;
        if (pos >= done && pos < done + chunk)
            page[pos - done] = m->patch[k];
    }
    if (t->scrub) {
        if (t->dirty[id] > chunk)
            memset(page + chunk, 0, t->dirty[id] - chunk);
        t->dirty[id] = (uint16_t)chunk;
    }
}

int nf_tx_put(struct nf_tx *t, const uint8_t *frame, uint32_t len, const struct nf_tx_meta *m)
{
    if (len < XNV_ETH_HLEN || len > XEN_NETIF_MAX_TX_SIZE)
        return -EINVAL;
    unsigned npages = (len + XNV_PAGE_SIZE - 1) / XNV_PAGE_SIZE;
    bool gso = m->gso_type != XEN_NETIF_GSO_TYPE_NONE;
    if (npages > t->max_pages)
        return -EINVAL;
    if (RING_FREE_REQUESTS(&t->ring) < npages + (gso ? 1u : 0u) || t->nfree < npages)
        return -ENOSPC;

    uint32_t done = 0;
    for (unsigned i = 0; i < npages; i++) {
        uint16_t id = t->free_id[--t->nfree];
        uint32_t chunk = len - done > XNV_PAGE_SIZE ? XNV_PAGE_SIZE : len - done;
        fill_page(t, id, frame, done, chunk, m);
        t->busy[id] = i == 0 ? NF_TX_HEAD : NF_TX_DATA;

        netif_tx_request_t req = {
            .gref = t->buf[id].gref,
            .offset = 0,
            .id = id,
            /* The first slot carries the size of the whole frame. */
            .size = (uint16_t)(i == 0 ? len : chunk),
            .flags = (uint16_t)(i + 1 < npages ? NETTXF_more_data : 0),
        };
        if (i == 0) {
            req.flags |= m->flags & (NETTXF_csum_blank | NETTXF_data_validated);
            if (gso)
                req.flags |= NETTXF_extra_info;
        }
        put_request(t, &req);
        if (i == 0 && gso)
            put_gso_extra(t, m);
        done += chunk;
    }
    return 0;
}

bool nf_tx_push(struct nf_tx *t)
{
    return XNV_RING_PUSH_REQUESTS(&t->ring);
}

static int broken(struct nf_tx_done *d, const char *why)
{
    d->why = why;
    return -EPROTO;
}

int nf_tx_reclaim(struct nf_tx *t, struct nf_tx_done *d)
{
    RING_IDX cons = t->ring.rsp_cons, outstanding = t->ring.req_prod_pvt - cons;
    RING_IDX prod = __atomic_load_n(&t->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
    int consumed = 0;
    for (;;) {
        RING_IDX avail = prod - cons;
        if (avail > RING_SIZE(&t->ring))
            return broken(d, "TX response producer more than a ring ahead, or gone backwards");
        if (avail > outstanding)
            return broken(d, "more TX responses than requests");
        for (; cons != prod; cons++, outstanding--, consumed++) {
            netif_tx_response_t rsp;
            RING_COPY_RESPONSE(&t->ring, cons, &rsp);
            if (rsp.status == NETIF_RSP_NULL) {
                if (t->extras_out) {    /* the slot of an extra info */
                    t->extras_out--;
                    continue;
                }
                /* No extra is outstanding: a data slot answered NULL.  Take
                 * it as an error so that its buffer comes back. */
                rsp.status = NETIF_RSP_ERROR;
            }
            if (rsp.id >= t->nbufs) {
                t->ring.rsp_cons = cons;
                return broken(d, "TX response id out of range");
            }
            if (t->busy[rsp.id] == NF_TX_IDLE) {
                t->ring.rsp_cons = cons;
                return broken(d, "TX response for a request not outstanding");
            }
            if (t->busy[rsp.id] == NF_TX_HEAD) {
                d->frames++;
                if (rsp.status != NETIF_RSP_OKAY)
                    d->errors++;
            }
            t->busy[rsp.id] = NF_TX_IDLE;
            t->free_id[t->nfree++] = rsp.id;
        }
        t->ring.rsp_cons = cons;
        /* Ask to be told about the next response, then look once more. */
        t->ring.sring->rsp_event = cons + 1;
        mb();
        prod = __atomic_load_n(&t->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
        if (prod == cons)
            return consumed;
    }
}
