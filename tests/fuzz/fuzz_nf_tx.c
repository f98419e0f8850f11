/* Fuzz target: the userspace netfront's transmit ring against a hostile
 * backend (netfront/nf_tx.c): frames queued with nf_tx_put, responses
 * written by the backend and consumed by nf_tx_reclaim.
 *
 * Input: u8 buffers (1..256), u8 mode (bit 0 scrub, bit 1 feature-sg),
 * u32 first ring index, then operations, each one byte op:
 *   op % 4 == 0  put a frame: u16 len, u8 flags, u8 GSO type (mod 3),
 *                u16 GSO size, u16 patch position (0xffff: none), u8 seed
 *                of its bytes; then push
 *   op % 4 == 1  the backend writes u8 k responses (4 bytes each,
 *                netif_tx_response_t) at its producer and publishes it
 *   op % 4 == 2  the backend moves its published producer by an s16
 *   op % 4 == 3  reclaim; -EPROTO ends the run (the queue breaks)
 *
 * Checked: put refuses exactly what it must and queues exactly the
 * requests a frame needs, with the frame (and its patch) in the pages and,
 * when scrubbing, nothing of an older frame left behind them; reclaim
 * accepts responses only for outstanding requests, frees each buffer once,
 * and keeps every buffer either free or busy. */
#include <errno.h>
#include <sanitizer/asan_interface.h>
#include "fuzz_common.h"
#include "../../netfront/nf.h"

#define SLOTS NF_TX_RING

/* Harness bookkeeping: kept out of the coverage feedback (and its cost). */
#define HARNESS __attribute__((no_sanitize("coverage"), noinline))

static uint8_t *arena;     /* SLOTS pages, each followed by a poisoned guard page */

static const uint8_t zero_page[XNV_PAGE_SIZE];
static bool used[SLOTS];   /* pages written in this run (cleared before the next) */

static uint8_t *page_of(unsigned b) { return arena + (size_t)b * 2 * XNV_PAGE_SIZE; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    arena = aligned_alloc(XNV_PAGE_SIZE, (size_t)SLOTS * 2 * XNV_PAGE_SIZE);
    memset(arena, 0, (size_t)SLOTS * 2 * XNV_PAGE_SIZE);
    for (unsigned b = 0; b < SLOTS; b++)
        ASAN_POISON_MEMORY_REGION(page_of(b) + XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    return 0;
}

HARNESS static void check_accounting(const struct nf_tx *t)
{
    uint8_t seen[SLOTS] = { 0 };
    unsigned busy = 0;
    FZ_CHECK(t->nfree <= t->nbufs);
    for (unsigned i = 0; i < t->nfree; i++) {
        uint16_t id = t->free_id[i];
        FZ_CHECK(id < t->nbufs && !seen[id] && t->busy[id] == NF_TX_IDLE);
        seen[id] = 1;
    }
    for (unsigned i = 0; i < t->nbufs; i++)
        if (t->busy[i] != NF_TX_IDLE)
            busy++;
    FZ_CHECK(t->nfree + busy == t->nbufs);
    FZ_CHECK(nf_tx_inflight(t) <= SLOTS);
}

HARNESS static void make_frame(uint8_t *frame, uint32_t len, uint8_t seed)
{
    for (uint32_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(seed + i * 3);
}

static void put(struct nf_tx *t, struct fz *in)
{
    uint32_t len = fz_u16(in);
    struct nf_tx_meta m = { .flags = fz_u8(in), .gso_type = fz_u8(in) % 3 };
    m.gso_size = fz_u16(in);
    uint16_t pp = fz_u16(in);
    m.patch_pos = pp == 0xffff ? -1 : pp;
    m.patch[0] = 0xa5;
    m.patch[1] = 0x5a;
    uint8_t seed = fz_u8(in);
    uint8_t *frame = malloc(len ? len : 1), *expect = malloc(len ? len : 1);
    make_frame(frame, len, seed);
    /* What the pages must hold: the frame with the patch applied. */
    memcpy(expect, frame, len);
    for (int k = 0; k < 2 && m.patch_pos >= 0; k++)
        if ((uint32_t)m.patch_pos + (uint32_t)k < len)
            expect[m.patch_pos + k] = m.patch[k];

    unsigned npages = (len + XNV_PAGE_SIZE - 1) / XNV_PAGE_SIZE;
    bool gso = m.gso_type != XEN_NETIF_GSO_TYPE_NONE;
    RING_IDX p0 = t->ring.req_prod_pvt;
    unsigned free0 = t->nfree, ring_free0 = RING_FREE_REQUESTS(&t->ring);
    int rc = nf_tx_put(t, frame, len, &m);
    int want = 0;
    if (len < XNV_ETH_HLEN || len > XEN_NETIF_MAX_TX_SIZE || npages > t->max_pages)
        want = -EINVAL;
    else if (ring_free0 < npages + gso || free0 < npages)
        want = -ENOSPC;
    FZ_CHECK(rc == want);
    if (rc) {
        FZ_CHECK(t->ring.req_prod_pvt == p0 && t->nfree == free0);
        free(frame);
        free(expect);
        return;
    }
    FZ_CHECK(t->ring.req_prod_pvt - p0 == npages + gso && t->nfree == free0 - npages);
    uint32_t done = 0;
    RING_IDX idx = p0;
    for (unsigned i = 0; i < npages; i++) {
        netif_tx_request_t req = *RING_GET_REQUEST(&t->ring, idx++);
        uint32_t chunk = len - done > XNV_PAGE_SIZE ? XNV_PAGE_SIZE : len - done;
        FZ_CHECK(req.id < t->nbufs && req.gref == t->buf[req.id].gref && req.offset == 0);
        FZ_CHECK(req.size == (i == 0 ? len : chunk));
        FZ_CHECK(t->busy[req.id] == (i == 0 ? NF_TX_HEAD : NF_TX_DATA));
        FZ_CHECK(!!(req.flags & NETTXF_more_data) == (i + 1 < npages));
        if (i == 0) {
            FZ_CHECK(!!(req.flags & NETTXF_extra_info) == gso);
            FZ_CHECK((req.flags & (NETTXF_csum_blank | NETTXF_data_validated)) ==
                     (m.flags & (NETTXF_csum_blank | NETTXF_data_validated)));
            if (gso) {
                netif_extra_info_t e;
                memcpy(&e, RING_GET_REQUEST(&t->ring, idx++), sizeof e);
                FZ_CHECK(e.type == XEN_NETIF_EXTRA_TYPE_GSO && e.flags == 0);
                FZ_CHECK(e.u.gso.type == m.gso_type && e.u.gso.size == m.gso_size);
            }
        }
        const uint8_t *page = t->buf[req.id].addr;
        FZ_CHECK(memcmp(page, expect + done, chunk) == 0);
        /* Rule 28: an untrusted backend sees nothing of an older frame. */
        if (t->scrub)
            FZ_CHECK(memcmp(page + chunk, zero_page, XNV_PAGE_SIZE - chunk) == 0);
        used[req.id] = true;
        done += chunk;
    }
    (void)nf_tx_push(t);
    FZ_CHECK(t->ring.sring->req_prod == t->ring.req_prod_pvt);
    free(frame);
    free(expect);
}

/* Returns false when the backend broke the ring. */
static bool reclaim(struct nf_tx *t)
{
    static netif_tx_response_t snap[SLOTS];
    static uint8_t busy0[SLOTS];
    RING_IDX cons = t->ring.rsp_cons, prod = t->ring.sring->rsp_prod;
    RING_IDX outstanding = t->ring.req_prod_pvt - cons;
    for (unsigned i = 0; i < SLOTS; i++)
        snap[i] = t->ring.sring->ring[i].rsp;
    memcpy(busy0, t->busy, sizeof busy0);

    /* The model: every response in order must name an outstanding buffer
     * (or be the NULL answer of an extra slot; a NULL beyond the extras sent
     * answers a data slot, as an error). */
    unsigned extras = t->extras_out;
    bool want_ok = (RING_IDX)(prod - cons) <= SLOTS && (RING_IDX)(prod - cons) <= outstanding;
    unsigned frames = 0, errors = 0, consumed = 0;
    RING_IDX stop = prod;
    if (want_ok) {
        for (RING_IDX i = cons; i != prod; i++) {
            netif_tx_response_t rsp = snap[i & (SLOTS - 1)];
            const netif_tx_response_t *r = &rsp;
            if (r->status == NETIF_RSP_NULL) {
                if (extras) {
                    extras--;
                    consumed++;
                    continue;
                }
                rsp.status = NETIF_RSP_ERROR;
            }
            if (r->id >= t->nbufs || busy0[r->id] == NF_TX_IDLE) {
                want_ok = false;
                stop = i;
                break;
            }
            if (busy0[r->id] == NF_TX_HEAD) {
                frames++;
                errors += r->status != NETIF_RSP_OKAY;
            }
            busy0[r->id] = NF_TX_IDLE;
            consumed++;
        }
    }

    struct nf_tx_done d = { 0 };
    int rc = nf_tx_reclaim(t, &d);
    check_accounting(t);
    if (!want_ok) {
        FZ_CHECK(rc == -EPROTO && d.why != NULL);
        FZ_CHECK(t->ring.rsp_cons == ((RING_IDX)(prod - cons) <= SLOTS &&
                                      (RING_IDX)(prod - cons) <= outstanding ? stop : cons));
        return false;
    }
    FZ_CHECK(rc >= 0 && (unsigned)rc == consumed);
    FZ_CHECK(d.frames == frames && d.errors == errors && t->extras_out == extras);
    FZ_CHECK(t->ring.rsp_cons == prod);
    FZ_CHECK(t->ring.sring->rsp_event == prod + 1);
    FZ_CHECK(memcmp(busy0, t->busy, sizeof busy0) == 0);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    unsigned nbufs = 1 + fz_u8(&in);
    uint8_t mode = fz_u8(&in);
    RING_IDX start = fz_u32(&in);

    struct nf_tx *t = calloc(1, sizeof *t);
    netif_tx_sring_t *sring = aligned_alloc(XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    memset(sring, 0, XNV_PAGE_SIZE);
    for (unsigned b = 0; b < SLOTS; b++) {
        if (used[b])                            /* shared pages start zeroed */
            memset(page_of(b), 0, XNV_PAGE_SIZE);
        used[b] = false;
        if (b < nbufs)
            t->buf[b] = (struct nf_page){ .addr = page_of(b), .gref = 2000 + b };
    }
    nf_tx_init(t, sring, nbufs, mode & 1, mode & 2);
    /* A ring that has been running a while: indices anywhere. */
    t->ring.req_prod_pvt = t->ring.rsp_cons = start;
    sring->req_prod = sring->rsp_prod = start;
    sring->rsp_event = start + 1;
    check_accounting(t);

    RING_IDX bprod = start;
    for (unsigned ops = 0; !fz_empty(&in) && ops < 1024; ops++) {
        uint8_t op = fz_u8(&in) % 4;
        if (op == 0) {
            put(t, &in);
        } else if (op == 1) {
            unsigned k = fz_u8(&in);
            for (unsigned j = 0; j < k; j++)
                fz_bytes(&in, &sring->ring[bprod++ & (SLOTS - 1)].rsp, sizeof(netif_tx_response_t));
            sring->rsp_prod = bprod;
        } else if (op == 2) {
            bprod += (RING_IDX)(int32_t)(int16_t)fz_u16(&in);
            sring->rsp_prod = bprod;
        } else if (!reclaim(t)) {
            break;
        }
        check_accounting(t);
    }
    free(sring);
    free(t);
    return 0;
}
