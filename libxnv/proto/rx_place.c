/* Placing frames into the frontend's posted RX buffers (see rx.h). */
#include <errno.h>
#include <string.h>
#include "xnv/copy_batch.h"
#include "xnv/rx.h"
#include "xnv/tx.h"   /* xnv_ring_indices_ok */

static unsigned data_slots(uint32_t len)
{
    return len ? (len + XNV_PAGE_SIZE - 1) / XNV_PAGE_SIZE : 1;
}

unsigned xnv_rx_slots(uint32_t len, const struct xnv_rx_meta *m)
{
    return data_slots(len) + (m->gso_type != XEN_NETIF_GSO_TYPE_NONE ? 1 : 0);
}

static void write_gso_extra(netif_rx_back_ring_t *ring, const struct xnv_rx_meta *m)
{
    netif_extra_info_t extra;
    memset(&extra, 0, sizeof extra);
    extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
    extra.u.gso.size = m->gso_size;
    extra.u.gso.type = m->gso_type;
    memcpy(RING_GET_RESPONSE(ring, ring->rsp_prod_pvt), &extra, sizeof extra);
    ring->rsp_prod_pvt++;
}

/* Copy segments filling one destination page from the sources, starting
 * at the cursor (*si, *so): each segment ends at a boundary of either side. */
static void fill_page(struct xnv_copy_batch *b, const struct xnv_rx_src *src, unsigned *si,
                      uint32_t *so, xnv_domid_t dom, xnv_gref_t dref, uint32_t chunk, uint16_t pkt)
{
    uint32_t doff = 0;
    while (doff < chunk) {
        const struct xnv_rx_src *s = &src[*si];
        uint32_t n = s->len - *so;
        if (n > chunk - doff)
            n = chunk - doff;
        if (n == 0) {                 /* an empty piece: no zero-length segment */
            (*si)++;
            *so = 0;
            continue;
        }
        if (s->local)
            xnv_copy_to_gref(b, s->local + *so, dom, dref, (uint16_t)doff, (uint16_t)n, pkt);
        else
            xnv_copy_gref_to_gref(b, s->dom, s->ref, (uint16_t)(s->offset + *so), dom, dref,
                                  (uint16_t)doff, (uint16_t)n, pkt);
        doff += n;
        *so += n;
        if (*so == s->len) {
            (*si)++;
            *so = 0;
        }
    }
}

int xnv_rx_place_sg(netif_rx_back_ring_t *ring, RING_IDX prod, xnv_domid_t dom,
                    const struct xnv_rx_src *src, unsigned nsrc, uint32_t len,
                    const struct xnv_rx_meta *m, struct xnv_copy_batch *b,
                    uint16_t pkt_index, struct xnv_rx_placed *out)
{
    if (!xnv_ring_indices_ok(prod, ring->req_cons, RING_SIZE(ring)))
        return -EPROTO;
    unsigned need = xnv_rx_slots(len, m), ndata = data_slots(len);
    if ((RING_IDX)(prod - ring->req_cons) < need)
        return -EAGAIN;
    /* Segments are cut at page and at source boundaries. */
    if (xnv_copy_batch_room(b) < ndata + (nsrc ? nsrc - 1 : 0))
        return -ENOSPC;

    bool gso = m->gso_type != XEN_NETIF_GSO_TYPE_NONE;
    out->first = ring->req_cons;
    out->nr_slots = need;
    out->extra = gso;
    uint32_t done = 0, so = 0;
    unsigned si = 0;
    for (unsigned i = 0; i < ndata; i++) {
        netif_rx_request_t req;
        RING_COPY_REQUEST(ring, ring->req_cons, &req);
        ring->req_cons++;
        uint32_t chunk = len - done > XNV_PAGE_SIZE ? XNV_PAGE_SIZE : len - done;
        fill_page(b, src, &si, &so, dom, req.gref, chunk, pkt_index);
        done += chunk;

        netif_rx_response_t *rsp = RING_GET_RESPONSE(ring, ring->rsp_prod_pvt);
        rsp->id = req.id;
        rsp->offset = 0;
        rsp->status = (int16_t)chunk;
        rsp->flags = (uint16_t)(done < len ? NETRXF_more_data : 0);
        if (i == 0) {
            rsp->flags |= m->flags & (NETRXF_csum_blank | NETRXF_data_validated);
            if (gso)
                rsp->flags |= NETRXF_extra_info;
        }
        ring->rsp_prod_pvt++;
        if (i == 0 && gso) {
            ring->req_cons++;          /* the extra takes the next posted slot */
            write_gso_extra(ring, m);
        }
    }
    return 0;
}

int xnv_rx_place(netif_rx_back_ring_t *ring, RING_IDX prod, xnv_domid_t dom,
                 const uint8_t *data, uint32_t len, const struct xnv_rx_meta *m,
                 struct xnv_copy_batch *b, uint16_t pkt_index, struct xnv_rx_placed *out)
{
    const struct xnv_rx_src one = { .local = data, .len = len };
    return xnv_rx_place_sg(ring, prod, dom, &one, 1, len, m, b, pkt_index, out);
}

void xnv_rx_fail(netif_rx_back_ring_t *ring, const struct xnv_rx_placed *p)
{
    for (unsigned i = 0; i < p->nr_slots; i++) {
        if (!(i == 1 && p->extra))
            RING_GET_RESPONSE(ring, p->first + i)->status = NETIF_RSP_ERROR;
    }
}
