/* Fuzz target: the netif control ring of a hostile frontend
 * (xnv_ctrl_ring_process / xnv_ctrl_handle) and the steering it configures
 * (xnv_hash_queue).
 *
 * Input: u8 queues (1..16), u32 first ring index, then operations until the
 * input ends, each one byte op:
 *   op % 5 == 0  post: u8 k, then k requests (16 bytes each,
 *                struct xen_netif_ctrl_request) written at the producer
 *   op % 5 == 1  producer jump: u16 d
 *   op % 5 == 2  the backend processes the ring (one call: at most
 *                XNV_CTRL_BUDGET requests)
 *   op % 5 == 3  the guest writes one of its grant pages: u8 p (refs 0..3
 *                are valid grants, anything else fails to copy; bit 7 set:
 *                raw u32 entries, else one byte each), u8 first entry,
 *                u8 n, then the entries
 *   op % 5 == 4  steer a frame: u16 len, then the frame (exactly sized)
 *
 * Every response is compared with an independent model of the requests as
 * xen/io/netif.h and hostile-input item 15 define them: status, echoed id
 * and type, data, the configuration after it (unchanged on failure), and
 * one grant copy per key or table request that passed its size checks.  The
 * guest rewrites its page right after each copy: only the copy may count.
 * Item 16: a producer beyond the ring is refused, and one call handles at
 * most the budget. */
#include <errno.h>
#include "fuzz_common.h"
#include "xnv/ctrl.h"

#define NPAGES 4

struct guest {
    uint32_t page[NPAGES][XNV_PAGE_SIZE / 4];
    unsigned fetches;
};

/* The grant copy: ref r of the guest, into the backend's private memory;
 * afterwards the guest scribbles over what was copied. */
static int fetch(void *arg, xnv_gref_t ref, void *buf, uint32_t len)
{
    struct guest *g = arg;
    g->fetches++;
    FZ_CHECK(len > 0 && len <= XNV_PAGE_SIZE);
    if (ref >= NPAGES)
        return -1;
    memcpy(buf, g->page[ref], len);
    memset(g->page[ref], 0xee, len);
    return 0;
}

struct model {
    struct xnv_hash_cfg cfg;
    struct guest *g;            /* the guest memory as the model reads it */
};

/* What one request must do; returns the status, sets *data and *fetches. */
static uint32_t model_handle(struct model *m, unsigned nq, const struct xen_netif_ctrl_request *r,
                             uint32_t *data, unsigned *fetches)
{
    struct xnv_hash_cfg *c = &m->cfg;
    bool toeplitz = c->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    *data = 0;
    *fetches = 0;
    switch (r->type) {
    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (r->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
            r->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        if (!toeplitz)
            c->types = 0;              /* types are chosen under an algorithm */
        c->algorithm = r->data[0];
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        if (!toeplitz)
            return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        *data = XNV_HASH_TYPES_SUPPORTED;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (!toeplitz || (r->data[0] & ~(uint32_t)XNV_HASH_TYPES_SUPPORTED))
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        c->types = r->data[0];
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY: {
        uint32_t len = r->data[1];
        if (len > XNV_HASH_KEY_MAX)
            return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
        uint8_t key[XNV_HASH_KEY_MAX] = { 0 };
        if (len) {
            *fetches = 1;
            if (r->data[0] >= NPAGES)
                return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            memcpy(key, m->g->page[r->data[0]], len);
            memset(m->g->page[r->data[0]], 0xee, len);    /* as the guest does */
        }
        memcpy(c->key, key, sizeof key);
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    }
    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        *data = XNV_HASH_MAPPING_MAX;
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (r->data[0] > XNV_HASH_MAPPING_MAX)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        c->mapping_size = r->data[0];
        memset(c->mapping, 0, sizeof c->mapping);
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING: {
        uint64_t len = r->data[1], off = r->data[2];
        if (len > XNV_HASH_MAPPING_MAX)
            return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
        if (off + len > c->mapping_size)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        if (len == 0)
            return XEN_NETIF_CTRL_STATUS_SUCCESS;
        *fetches = 1;
        if (r->data[0] >= NPAGES)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        uint32_t t[XNV_HASH_MAPPING_MAX];
        memcpy(t, m->g->page[r->data[0]], len * 4);
        memset(m->g->page[r->data[0]], 0xee, len * 4);    /* as the guest does */
        for (uint64_t i = 0; i < len; i++)
            if (t[i] >= nq)
                return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
        memcpy(c->mapping + off, t, len * 4);
        return XEN_NETIF_CTRL_STATUS_SUCCESS;
    }
    default:
        return XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
    }
}

static void check_cfg(const struct xnv_hash_cfg *a, const struct xnv_hash_cfg *b)
{
    FZ_CHECK(a->algorithm == b->algorithm);
    if (a->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ)
        FZ_CHECK(a->types == b->types);
    FZ_CHECK(memcmp(a->key, b->key, sizeof a->key) == 0);
    FZ_CHECK(a->mapping_size == b->mapping_size && a->mapping_size <= XNV_HASH_MAPPING_MAX);
    FZ_CHECK(memcmp(a->mapping, b->mapping, sizeof a->mapping) == 0);
}

static void process(xen_netif_ctrl_back_ring_t *ring, RING_IDX prod, struct xnv_hash_cfg *cfg,
                    unsigned nq, struct guest *g, struct model *m)
{
    static struct xen_netif_ctrl_request snap[XNV_PAGE_SIZE / sizeof(struct xen_netif_ctrl_request)];
    static struct guest before;
    unsigned size = RING_SIZE(ring);
    RING_IDX cons = ring->req_cons;
    for (unsigned i = 0; i < size; i++)
        snap[i] = ring->sring->ring[i].req;
    before = *g;                         /* the model reads the guest as it was */
    m->g = &before;
    g->fetches = 0;
    int n = xnv_ctrl_ring_process(ring, prod, cfg, nq, fetch, g);
    if ((RING_IDX)(prod - cons) > size) {
        FZ_CHECK(n == -EPROTO && ring->req_cons == cons && g->fetches == 0);
        return;
    }
    unsigned want = prod - cons < XNV_CTRL_BUDGET ? prod - cons : XNV_CTRL_BUDGET;
    FZ_CHECK(n == (int)want);
    FZ_CHECK(ring->req_cons == cons + want && ring->rsp_prod_pvt == ring->req_cons);
    unsigned fetches = 0;
    for (unsigned i = 0; i < want; i++) {
        const struct xen_netif_ctrl_request *r = &snap[(cons + i) & (size - 1)];
        const struct xen_netif_ctrl_response *rsp = &ring->sring->ring[(cons + i) & (size - 1)].rsp;
        uint32_t data;
        unsigned f;
        uint32_t status = model_handle(m, nq, r, &data, &f);
        fetches += f;
        if (rsp->status != status || rsp->data != data) {
            fprintf(stderr, "xnv fuzz: control request type %u data %u/%u/%u: status %u data %u, "
                    "model %u / %u\n", r->type, r->data[0], r->data[1], r->data[2], rsp->status,
                    rsp->data, status, data);
            FZ_CHECK(!"control response differs from the model");
        }
        FZ_CHECK(rsp->id == r->id && rsp->type == r->type);
    }
    FZ_CHECK(g->fetches == fetches);     /* each table or key copied once */
    check_cfg(cfg, &m->cfg);
}

static void steer(struct fz *in, const struct xnv_hash_cfg *cfg, unsigned nq)
{
    uint16_t len = fz_u16(in) % 2048;
    uint8_t *f = malloc(len ? len : 1);
    fz_bytes(in, f, len);
    int q = xnv_hash_queue(cfg, nq, f, len);
    uint32_t hash;
    uint8_t type;
    int want = -1;
    if (cfg->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ && cfg->types &&
        xnv_hash_frame(f, len, cfg->types, cfg->key, XNV_HASH_KEY_MAX, &hash, &type))
        want = (int)((cfg->mapping_size ? cfg->mapping[hash % cfg->mapping_size] : hash) % nq);
    FZ_CHECK(q == want && q < (int)nq);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    unsigned nq = 1 + fz_u8(&in) % 16;
    xen_netif_ctrl_sring_t *sring = aligned_alloc(XNV_PAGE_SIZE, XNV_PAGE_SIZE);
    memset(sring, 0, XNV_PAGE_SIZE);
    SHARED_RING_INIT(sring);
    xen_netif_ctrl_back_ring_t ring;
    BACK_RING_INIT(&ring, sring, XNV_PAGE_SIZE);
    RING_IDX prod = fz_u32(&in);
    ring.req_cons = ring.rsp_prod_pvt = prod;

    struct xnv_hash_cfg *cfg = calloc(1, sizeof *cfg);
    static struct guest g;
    static struct model m;
    memset(&g, 0, sizeof g);
    memset(&m, 0, sizeof m);

    for (unsigned ops = 0; !fz_empty(&in) && ops < 256; ops++) {
        uint8_t op = fz_u8(&in) % 5;
        if (op == 0) {
            unsigned k = fz_u8(&in);
            for (unsigned j = 0; j < k; j++) {
                struct xen_netif_ctrl_request r;
                fz_bytes(&in, &r, sizeof r);
                *RING_GET_REQUEST(&ring, prod) = r;
                prod++;
            }
        } else if (op == 1) {
            prod += fz_u16(&in);
        } else if (op == 2) {
            process(&ring, prod, cfg, nq, &g, &m);
        } else if (op == 3) {
            uint8_t p = fz_u8(&in);
            unsigned first = fz_u8(&in), n = fz_u8(&in);
            for (unsigned i = 0; i < n; i++) {
                uint32_t v = (p & 0x80) ? fz_u32(&in) : fz_u8(&in);
                if ((p & 0x7f) < NPAGES && first + i < XNV_PAGE_SIZE / 4)
                    g.page[p & 0x7f][first + i] = v;
            }
        } else {
            steer(&in, cfg, nq);
        }
    }
    free(cfg);
    free(sring);
    return 0;
}
