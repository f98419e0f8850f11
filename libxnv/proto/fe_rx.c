/* The receive ring, frontend side: buffers posted from the pool, responses
 * read back either as a list of segments pointing into the buffer pages
 * (nf_rx_gather: the pages stay held until nf_rx_release) or copied into
 * the caller's memory (nf_rx_read).  Each response is copied out of the
 * ring once and only the copy is used for lengths, offsets and flags; each
 * response lands in the slot of its request, so the slot (not the response
 * id) names the buffer.
 * Pure functions over ring memory and private bookkeeping. */
#include <errno.h>
#include <string.h>
#include "xnv/fe_rx.h"

void nf_rx_init(struct nf_rx *r, void *ring_page, unsigned nbufs)
{
    netif_rx_sring_t *s = ring_page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&r->ring, s, XNV_PAGE_SIZE);
    r->nbufs = nbufs;
    r->nfree = 0;
    for (unsigned i = nbufs; i-- > 0;)
        r->free_buf[r->nfree++] = (uint16_t)i;
}

unsigned nf_rx_refill(struct nf_rx *r)
{
    unsigned n = 0;
    while (r->nfree && RING_FREE_REQUESTS(&r->ring) > 0) {
        uint16_t b = r->free_buf[--r->nfree];
        RING_IDX i = r->ring.req_prod_pvt++;
        uint16_t slot = (uint16_t)(i & (RING_SIZE(&r->ring) - 1));
        r->slot_buf[slot] = b;
        netif_rx_request_t req = { .id = slot, .gref = r->buf[b].gref };
        *RING_GET_REQUEST(&r->ring, i) = req;
        n++;
    }
    return n;
}

bool nf_rx_push(struct nf_rx *r)
{
    return XNV_RING_PUSH_REQUESTS(&r->ring);
}

int nf_rx_prod(const struct nf_rx *r, RING_IDX *prod, const char **why)
{
    RING_IDX cons = r->ring.rsp_cons;
    RING_IDX p = __atomic_load_n(&r->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);
    if ((RING_IDX)(p - cons) > RING_SIZE(&r->ring)) {
        *why = "RX response producer more than a ring ahead, or gone backwards";
        return -EPROTO;
    }
    if ((RING_IDX)(p - cons) > (RING_IDX)(r->ring.req_prod_pvt - cons)) {
        *why = "more RX responses than buffers posted";
        return -EPROTO;
    }
    *prod = p;
    return 0;
}

int nf_rx_arm(struct nf_rx *r, RING_IDX *prod, const char **why)
{
    r->ring.sring->rsp_event = r->ring.rsp_cons + 1;
    mb();
    return nf_rx_prod(r, prod, why);
}

/* Copy response idx out of the ring; the buffer of its slot (which names
 * it, not the response id).  The buffer is not free yet: the caller holds
 * it or gives it back (hold / give_back). */
static uint16_t take(struct nf_rx *r, RING_IDX idx, netif_rx_response_t *rsp)
{
    RING_COPY_RESPONSE(&r->ring, idx, rsp);
    return r->slot_buf[idx & (RING_SIZE(&r->ring) - 1)];
}

static void give_back(struct nf_rx *r, uint16_t b)
{
    r->free_buf[r->nfree++] = b;
}

/* The backend sent something malformed: the frame is dropped. */
static void drop(struct nf_rx_frame *f, const char *why)
{
    if (!f->why)
        f->why = why;
    f->fault = true;
}

/* The extra-info slots after the first response. */
static RING_IDX read_extras(struct nf_rx *r, RING_IDX cons, RING_IDX prod, struct nf_rx_frame *f)
{
    netif_extra_info_t e;
    unsigned n = 0;
    do {
        if (cons == prod) {
            drop(f, "extra info announced but missing");
            return cons;
        }
        netif_rx_response_t raw;
        give_back(r, take(r, cons++, &raw));
        memcpy(&e, &raw, sizeof e);
        if (++n > XEN_NETIF_EXTRA_TYPE_MAX) {
            drop(f, "too many extra info slots");
            continue;
        }
        if (e.type == XEN_NETIF_EXTRA_TYPE_NONE || e.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
            drop(f, "extra info of type 0 or beyond the known maximum");
        } else if (e.type == XEN_NETIF_EXTRA_TYPE_GSO) {
            if (e.u.gso.size == 0 || (e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                                      e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))
                drop(f, "GSO extra with size 0 or an unknown type");
            f->gso_type = e.u.gso.type;
            f->gso_size = e.u.gso.size;
        }
        /* Multicast and hash extras carry nothing a receiver needs. */
    } while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    return cons;
}

/* One data slot: its bytes become the frame's next segment, its buffer
 * held by the frame; or, when the frame is already refused or the slot
 * is empty, its buffer goes back at once.  rsp is the private copy. */
static void data_slot(struct nf_rx *r, const netif_rx_response_t *rsp, uint16_t b, uint32_t cap,
                      struct nf_rx_frame *f)
{
    if (rsp->status < 0 || (uint32_t)rsp->offset + (uint32_t)rsp->status > XNV_PAGE_SIZE) {
        drop(f, "RX response with an error status or crossing its page");
    } else if (!f->why && rsp->status > 0) {
        uint32_t n = (uint32_t)rsp->status;
        if (f->len + n > cap) {
            f->why = "frame larger than the receive buffer";   /* not the backend's fault */
        } else {
            f->seg[f->nseg] = (struct iovec){ r->buf[b].addr + rsp->offset, n };
            f->seg_buf[f->nseg++] = b;
            f->len += n;
            return;
        }
    }
    give_back(r, b);
}

enum nf_rx_verdict nf_rx_gather(struct nf_rx *r, RING_IDX prod, uint32_t cap, struct nf_rx_frame *f)
{
    memset(f, 0, sizeof *f);
    RING_IDX cons = r->ring.rsp_cons, first = cons;
    if (cons == prod)
        return NF_RX_NONE;

    netif_rx_response_t rsp;
    uint16_t b = take(r, cons++, &rsp);
    f->flags = rsp.flags;
    if (rsp.flags & NETRXF_extra_info)
        cons = read_extras(r, cons, prod, f);

    unsigned data_slots = 0;
    for (;;) {
        if (++data_slots > NF_MAX_SLOTS)
            drop(f, "frame uses more than 18 slots");
        data_slot(r, &rsp, b, cap, f);
        if (!(rsp.flags & NETRXF_more_data))
            break;
        if (cons == prod) {
            drop(f, "more_data chain runs past the responses");
            break;
        }
        b = take(r, cons++, &rsp);
    }
    r->ring.rsp_cons = cons;
    f->slots = (unsigned)(cons - first);
    if (!f->why && f->len < XNV_ETH_HLEN)
        drop(f, "frame shorter than an Ethernet header");
    if (f->why) {
        nf_rx_release(r, f);
        f->len = 0;
        return NF_RX_DROP;
    }
    return NF_RX_FRAME;
}

void nf_rx_release(struct nf_rx *r, struct nf_rx_frame *f)
{
    for (unsigned i = 0; i < f->nseg; i++)
        give_back(r, f->seg_buf[i]);
    f->nseg = 0;
}

uint32_t nf_rx_copy_out(const struct nf_rx_frame *f, uint32_t from, uint8_t *dst, uint32_t n)
{
    uint32_t done = 0;
    for (unsigned i = 0; i < f->nseg && done < n; i++) {
        uint32_t l = (uint32_t)f->seg[i].iov_len;
        if (from >= l) {
            from -= l;
            continue;
        }
        uint32_t k = l - from < n - done ? l - from : n - done;
        memcpy(dst + done, (const uint8_t *)f->seg[i].iov_base + from, k);
        done += k;
        from = 0;
    }
    return done;
}

unsigned nf_rx_tail_iov(const struct nf_rx_frame *f, uint32_t from, struct iovec *out)
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->nseg; i++) {
        uint32_t l = (uint32_t)f->seg[i].iov_len;
        if (from >= l) {
            from -= l;
            continue;
        }
        out[n++] = (struct iovec){ (uint8_t *)f->seg[i].iov_base + from, l - from };
        from = 0;
    }
    return n;
}

enum nf_rx_verdict nf_rx_read(struct nf_rx *r, RING_IDX prod, uint8_t *dst, uint32_t cap,
                              struct nf_rx_frame *f)
{
    enum nf_rx_verdict v = nf_rx_gather(r, prod, cap, f);
    if (v == NF_RX_FRAME) {
        nf_rx_copy_out(f, 0, dst, f->len);
        nf_rx_release(r, f);
    }
    return v;
}
