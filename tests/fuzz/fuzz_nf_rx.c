/* Fuzz target: the userspace netfront reading RX responses written by a
 * hostile backend (the frontend half of the RX ring, libxnv/proto/fe_rx.c:
 * nf_rx_prod, nf_rx_arm, nf_rx_read, nf_rx_refill), followed by the offload handling the receive path applies
 * to each frame (xnv_offload_from_netif_rx, xnv_offload_for_peer,
 * xnv_offload_to_vnet), as xnv_nf_recv() does.
 *
 * Input: u8 buffers (1..256), u32 first ring index, u16 receive buffer
 * size (0: XNV_NF_MAX_FRAME), u8 offloads taken (bit 7: receive through
 * nf_rx_gather + nf_rx_deliver + nf_rx_release instead), then operations, each one
 * byte op:
 *   op % 5 == 0  the backend writes u8 k responses (8 bytes each,
 *                netif_rx_response_t or netif_extra_info_t) at its
 *                producer and publishes it
 *   op % 5 == 1  the backend moves its published producer by an s16
 *   op % 5 == 2  the frontend receives: reads the producer, reads frames
 *                until none is left, then reposts buffers
 *   op % 5 == 3  the same after asking for an event (nf_rx_arm)
 *   op % 5 == 4  the backend writes frame bytes: u8 buffer, u16 offset,
 *                u16 n, then n bytes into that buffer page (clipped to it)
 * A producer refused with -EPROTO ends the run (the queue breaks).
 *
 * Buffer pages hold a fixed pattern (restored after each run) unless the
 * backend wrote them, and sit between poisoned guard pages.
 * Each read is compared with an independent model of the rules (hostile
 * inputs 23-26): verdict, slots consumed, fault or not, frame bytes.  The
 * buffer accounting must stay exact: every buffer either free or posted in
 * exactly one outstanding slot. */
#include <errno.h>
#include <sanitizer/asan_interface.h>
#include "fuzz_common.h"
#include "xnv/fe_rx.h"

#define SLOTS NF_RX_RING

static uint8_t *arena;     /* SLOTS pages, each followed by a poisoned guard page */

static uint8_t pat(unsigned buf, unsigned i) { return (uint8_t)(buf * 37 + i * 13 + (i >> 8)); }

static uint8_t *page_of(unsigned b) { return arena + (size_t)b * 2 * XNV_PAGE_SIZE; }

static void fill_pattern(unsigned b)
{
    for (unsigned i = 0; i < XNV_PAGE_SIZE; i++)
        page_of(b)[i] = pat(b, i);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    arena = aligned_alloc(XNV_PAGE_SIZE, (size_t)SLOTS * 2 * XNV_PAGE_SIZE);
    for (unsigned b = 0; b < SLOTS; b++) {
        fill_pattern(b);
        ASAN_POISON_MEMORY_REGION(page_of(b) + XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    }
    return 0;
}

/* Every buffer is free or held by exactly one outstanding slot. */
static void check_accounting(const struct nf_rx *r)
{
    uint8_t seen[SLOTS] = { 0 };
    FZ_CHECK(r->nfree <= r->nbufs);
    for (unsigned i = 0; i < r->nfree; i++) {
        FZ_CHECK(r->free_buf[i] < r->nbufs && !seen[r->free_buf[i]]);
        seen[r->free_buf[i]] = 1;
    }
    RING_IDX out = r->ring.req_prod_pvt - r->ring.rsp_cons;
    FZ_CHECK(out <= SLOTS && r->nfree + out == r->nbufs);
    for (RING_IDX i = r->ring.rsp_cons; i != r->ring.req_prod_pvt; i++) {
        uint16_t b = r->slot_buf[i & (SLOTS - 1)];
        FZ_CHECK(b < r->nbufs && !seen[b]);
        seen[b] = 1;
    }
}

struct model {
    enum nf_rx_verdict v;
    unsigned slots;
    bool fault;
    uint32_t len;
    uint8_t gso_type;
    uint16_t gso_size;
};

/* The rules, from the hostile-input list: a response with status < 0 or
 * crossing its page, a bad extra, more than 18 data slots, or a chain
 * running past the producer drop the frame as the backend's fault; a frame
 * larger than the caller's buffer is dropped without blame. */
static void model_read(const netif_rx_response_t *snap, const uint16_t *slot_buf, RING_IDX cons,
                       RING_IDX prod, uint32_t cap, uint8_t *expect, struct model *m)
{
    *m = (struct model){ .v = NF_RX_FRAME };
    if (cons == prod) {
        m->v = NF_RX_NONE;
        return;
    }
    RING_IDX i = cons;
    const netif_rx_response_t *first = &snap[i++ & (SLOTS - 1)];
    bool too_big = false;
    if (first->flags & NETRXF_extra_info) {
        netif_extra_info_t e;
        unsigned n = 0;
        do {
            if (i == prod) {
                m->fault = true;
                break;
            }
            memcpy(&e, &snap[i++ & (SLOTS - 1)], sizeof e);
            if (++n > XEN_NETIF_EXTRA_TYPE_MAX || e.type == XEN_NETIF_EXTRA_TYPE_NONE ||
                e.type >= XEN_NETIF_EXTRA_TYPE_MAX)
                m->fault = true;
            else if (e.type == XEN_NETIF_EXTRA_TYPE_GSO) {
                if (e.u.gso.size == 0 || (e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                                          e.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6))
                    m->fault = true;
                m->gso_type = e.u.gso.type;
                m->gso_size = e.u.gso.size;
            }
        } while (e.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    }
    const netif_rx_response_t *rsp = first;
    RING_IDX at = cons;
    for (unsigned data = 1;; data++) {
        if (data > NF_MAX_SLOTS)
            m->fault = true;
        if (rsp->status < 0 || (uint32_t)rsp->offset + (uint32_t)rsp->status > XNV_PAGE_SIZE) {
            m->fault = true;
        } else if (!m->fault && !too_big) {
            uint32_t n = (uint32_t)rsp->status;
            if (m->len + n > cap) {
                too_big = true;
            } else {
                uint16_t b = slot_buf[at & (SLOTS - 1)];
                memcpy(expect + m->len, page_of(b) + rsp->offset, n);
                m->len += n;
            }
        }
        if (!(rsp->flags & NETRXF_more_data))
            break;
        if (i == prod) {
            m->fault = true;
            break;
        }
        at = i;
        rsp = &snap[i++ & (SLOTS - 1)];
    }
    m->slots = (unsigned)(i - cons);
    if (!m->fault && !too_big && m->len < XNV_ETH_HLEN)
        m->fault = true;
    if (m->fault || too_big)
        m->v = NF_RX_DROP;
}

/* What xnv_nf_recv() does with a frame read whole. */
static void offload(uint8_t *dst, const struct nf_rx_frame *f, uint32_t peer)
{
    struct xnv_offload o;
    struct virtio_net_hdr vh;
    const char *why = NULL;
    if (xnv_offload_from_netif_rx(dst, f->len, f->flags, f->gso_type, f->gso_size, &o, &why)) {
        FZ_CHECK(why != NULL);
        return;
    }
    int rc = xnv_offload_for_peer(dst, f->len, &o, peer);
    FZ_CHECK(rc == 0 || rc == -EOPNOTSUPP || rc == -EINVAL);
    if (rc == 0) {
        xnv_offload_to_vnet(&o, &vh);
        if (o.csum_partial)
            FZ_CHECK((uint32_t)vh.csum_start + vh.csum_offset + 2 <= f->len);
    }
}

static uint32_t sunk_len;
static unsigned sunk_calls;

static void sink(void *ctx, const struct virtio_net_hdr *vh, const struct iovec *iov, unsigned n)
{
    (void)ctx;
    (void)vh;
    sunk_calls++;
    for (unsigned i = 0; i < n; i++)
        sunk_len += (uint32_t)iov[i].iov_len;
}

/* What xnv_nf_recv_to() does with a gathered frame: the sink gets the
 * whole frame once, or nothing when its offloads are refused. */
static void deliver(const struct nf_rx_frame *f, uint32_t peer)
{
    static uint8_t scratch[XNV_NF_MAX_FRAME];
    const char *why = NULL;
    sunk_len = sunk_calls = 0;
    int rc = nf_rx_deliver(f, peer, scratch, sink, NULL, &why);
    FZ_CHECK(rc == 0 || (rc == -EINVAL && why != NULL));
    FZ_CHECK(sunk_calls == (rc == 0));
    FZ_CHECK(rc || sunk_len == f->len);
}

/* One receive pass; false when the producer was refused (queue broken).
 * zc: frames gathered and delivered from the buffers, then released. */
static bool receive(struct nf_rx *r, bool arm, uint32_t cap, uint8_t *dst, uint8_t *expect,
                    uint32_t peer, bool zc)
{
    static netif_rx_response_t snap[SLOTS];
    static uint16_t slot_buf[SLOTS];
    RING_IDX prod;
    const char *why = NULL;
    RING_IDX pub = r->ring.sring->rsp_prod, cons0 = r->ring.rsp_cons;
    int rc = arm ? nf_rx_arm(r, &prod, &why) : nf_rx_prod(r, &prod, &why);
    bool sane = (RING_IDX)(pub - cons0) <= (RING_IDX)(r->ring.req_prod_pvt - cons0) &&
                (RING_IDX)(pub - cons0) <= SLOTS;
    FZ_CHECK((rc == 0) == sane);
    if (arm)
        FZ_CHECK(r->ring.sring->rsp_event == cons0 + 1);
    if (rc) {
        FZ_CHECK(rc == -EPROTO && why != NULL);
        return false;
    }
    FZ_CHECK(prod == pub);
    for (unsigned frames = 0;; frames++) {
        FZ_CHECK(frames <= SLOTS);
        RING_IDX cons = r->ring.rsp_cons;
        memcpy(snap, r->ring.sring->ring, sizeof snap);
        memcpy(slot_buf, r->slot_buf, sizeof slot_buf);
        struct model m;
        model_read(snap, slot_buf, cons, prod, cap, expect, &m);
        struct nf_rx_frame f;
        enum nf_rx_verdict v = zc ? nf_rx_gather(r, prod, cap, &f) : nf_rx_read(r, prod, dst, cap, &f);
        if (zc && v == NF_RX_FRAME) {
            FZ_CHECK(nf_rx_copy_out(&f, 0, dst, f.len) == f.len);
            deliver(&f, peer);
            nf_rx_release(r, &f);
            nf_rx_release(r, &f);
        }
        if (v != m.v || (v != NF_RX_NONE && (f.slots != m.slots || f.fault != m.fault))) {
            fprintf(stderr, "xnv fuzz: nf_rx_read verdict %d slots %u fault %d (%s); "
                    "model %d slots %u fault %d\n", v, f.slots, f.fault, f.why ? f.why : "-",
                    m.v, m.slots, m.fault);
            FZ_CHECK(!"nf_rx_read differs from the model");
        }
        if (v == NF_RX_NONE) {
            FZ_CHECK(r->ring.rsp_cons == prod);
            break;
        }
        FZ_CHECK(f.slots >= 1 && f.slots <= prod - cons);
        FZ_CHECK(r->ring.rsp_cons == cons + f.slots);
        FZ_CHECK(f.len <= cap);
        check_accounting(r);
        if (v == NF_RX_DROP) {
            FZ_CHECK(f.why != NULL);
            continue;
        }
        FZ_CHECK(f.why == NULL && f.len == m.len && f.len >= XNV_ETH_HLEN);
        FZ_CHECK(memcmp(dst, expect, f.len) == 0);
        FZ_CHECK(f.flags == snap[cons & (SLOTS - 1)].flags);
        if (f.flags & NETRXF_extra_info)
            FZ_CHECK(f.gso_type == m.gso_type && f.gso_size == m.gso_size);
        offload(dst, &f, peer);
    }
    unsigned free_before = r->nfree;
    RING_IDX room = SLOTS - (r->ring.req_prod_pvt - r->ring.rsp_cons);
    unsigned posted = nf_rx_refill(r);
    FZ_CHECK(posted == (free_before < room ? free_before : room));
    (void)nf_rx_push(r);
    FZ_CHECK(r->ring.sring->req_prod == r->ring.req_prod_pvt);
    check_accounting(r);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    unsigned nbufs = 1 + fz_u8(&in);
    RING_IDX start = fz_u32(&in);
    uint32_t cap = fz_u16(&in);
    if (cap == 0)
        cap = XNV_NF_MAX_FRAME;
    uint8_t how = fz_u8(&in);
    uint32_t peer = how & (XNV_NF_OFFLOAD_ALL | XNV_F_NO_CSUM);
    bool zc = how & 0x80;

    struct nf_rx *r = calloc(1, sizeof *r);
    netif_rx_sring_t *sring = aligned_alloc(XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    memset(sring, 0, XNV_PAGE_SIZE);
    nf_rx_init(r, sring, nbufs);
    /* A ring that has been running a while: indices anywhere. */
    r->ring.req_prod_pvt = r->ring.rsp_cons = start;
    sring->req_prod = sring->rsp_prod = start;
    sring->rsp_event = start + 1;
    for (unsigned b = 0; b < nbufs; b++)
        r->buf[b] = (struct nf_page){ .addr = page_of(b), .gref = 1000 + b };
    FZ_CHECK(nf_rx_refill(r) == (nbufs < SLOTS ? nbufs : SLOTS));
    (void)nf_rx_push(r);
    check_accounting(r);

    uint8_t *dst = malloc(cap), *expect = malloc(cap);
    RING_IDX bprod = start;          /* where the backend writes next */
    static bool written[SLOTS];
    while (!fz_empty(&in)) {
        uint8_t op = fz_u8(&in) % 5;
        if (op == 0) {
            unsigned k = fz_u8(&in);
            for (unsigned j = 0; j < k; j++)
                fz_bytes(&in, &sring->ring[bprod++ & (SLOTS - 1)].rsp, sizeof(netif_rx_response_t));
            sring->rsp_prod = bprod;
        } else if (op == 1) {
            bprod += (RING_IDX)(int32_t)(int16_t)fz_u16(&in);
            sring->rsp_prod = bprod;
        } else if (op == 4) {
            unsigned b = fz_u8(&in) % nbufs;
            uint32_t off = fz_u16(&in) % XNV_PAGE_SIZE, n = fz_u16(&in);
            if (n > XNV_PAGE_SIZE - off)
                n = XNV_PAGE_SIZE - off;
            fz_bytes(&in, page_of(b) + off, n);
            written[b] = true;
        } else if (!receive(r, op == 3, cap, dst, expect, peer, zc)) {
            break;
        }
    }
    for (unsigned b = 0; b < SLOTS; b++) {
        if (written[b])
            fill_pattern(b);
        written[b] = false;
    }
    free(dst);
    free(expect);
    free(sring);
    free(r);
    return 0;
}
