/* Control-ring requests (see ctrl.h). */
#include <errno.h>
#include <string.h>
#include "xnv/ctrl.h"
#include "xnv/tx.h"   /* xnv_ring_indices_ok */

static uint32_t set_key(struct xnv_hash_cfg *cfg, const struct xen_netif_ctrl_request *req,
                        xnv_ctrl_fetch fetch, void *arg)
{
    uint32_t len = req->data[1];
    if (len > XNV_HASH_KEY_MAX)
        return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
    uint8_t key[XNV_HASH_KEY_MAX] = { 0 };
    if (len && fetch(arg, req->data[0], key, len))
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    memcpy(cfg->key, key, sizeof key);   /* octets not given are zero */
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

static uint32_t set_mapping(struct xnv_hash_cfg *cfg, unsigned nqueues,
                            const struct xen_netif_ctrl_request *req, xnv_ctrl_fetch fetch, void *arg)
{
    uint32_t len = req->data[1], off = req->data[2];
    if (len > XNV_HASH_MAPPING_MAX || (uint64_t)len * 4 > XNV_PAGE_SIZE)
        return XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW;
    if ((uint64_t)off + len > cfg->mapping_size)          /* 64-bit: no wrap */
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    uint32_t table[XNV_HASH_MAPPING_MAX];
    if (len && fetch(arg, req->data[0], table, len * 4))
        return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    /* Validated in private memory, after the copy: the guest cannot change it now. */
    for (uint32_t i = 0; i < len; i++)
        if (table[i] >= nqueues)
            return XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
    memcpy(cfg->mapping + off, table, len * 4);
    return XEN_NETIF_CTRL_STATUS_SUCCESS;
}

void xnv_ctrl_handle(struct xnv_hash_cfg *cfg, unsigned nqueues,
                     const struct xen_netif_ctrl_request *req, xnv_ctrl_fetch fetch,
                     void *fetch_arg, struct xen_netif_ctrl_response *rsp)
{
    rsp->id = req->id;
    rsp->type = req->type;
    rsp->data = 0;
    bool toeplitz = cfg->algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ;
    switch (req->type) {
    case XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM:
        if (req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_NONE &&
            req->data[0] != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            return;
        }
        cfg->algorithm = req->data[0];
        if (!toeplitz)
            cfg->types = 0;
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        return;
    case XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS:
        rsp->status = toeplitz ? XEN_NETIF_CTRL_STATUS_SUCCESS : XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        rsp->data = toeplitz ? XNV_HASH_TYPES_SUPPORTED : 0;
        return;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS:
        if (!toeplitz || (req->data[0] & ~XNV_HASH_TYPES_SUPPORTED)) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            return;
        }
        cfg->types = req->data[0];
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        return;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_KEY:
        rsp->status = set_key(cfg, req, fetch, fetch_arg);
        return;
    case XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE:
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        rsp->data = XNV_HASH_MAPPING_MAX;
        return;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE:
        if (req->data[0] > XNV_HASH_MAPPING_MAX) {
            rsp->status = XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER;
            return;
        }
        cfg->mapping_size = req->data[0];
        memset(cfg->mapping, 0, sizeof cfg->mapping);     /* a new table is zero filled */
        rsp->status = XEN_NETIF_CTRL_STATUS_SUCCESS;
        return;
    case XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING:
        rsp->status = set_mapping(cfg, nqueues, req, fetch, fetch_arg);
        return;
    default:
        rsp->status = XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED;
        return;
    }
}

int xnv_ctrl_ring_process(xen_netif_ctrl_back_ring_t *ring, RING_IDX prod,
                          struct xnv_hash_cfg *cfg, unsigned nqueues,
                          xnv_ctrl_fetch fetch, void *fetch_arg)
{
    if (!xnv_ring_indices_ok(prod, ring->req_cons, RING_SIZE(ring)))
        return -EPROTO;
    int n = 0;
    while (ring->req_cons != prod && n < (int)XNV_CTRL_BUDGET) {
        struct xen_netif_ctrl_request req;
        RING_COPY_REQUEST(ring, ring->req_cons, &req);
        ring->req_cons++;
        struct xen_netif_ctrl_response rsp;
        xnv_ctrl_handle(cfg, nqueues, &req, fetch, fetch_arg, &rsp);
        *RING_GET_RESPONSE(ring, ring->rsp_prod_pvt) = rsp;
        ring->rsp_prod_pvt++;
        n++;
    }
    return n;
}

int xnv_hash_queue(const struct xnv_hash_cfg *cfg, unsigned nqueues, const uint8_t *f, uint32_t len)
{
    uint32_t hash;
    uint8_t type;
    if (cfg->algorithm != XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ || cfg->types == 0 || nqueues == 0 ||
        !xnv_hash_frame(f, len, cfg->types, cfg->key, XNV_HASH_KEY_MAX, &hash, &type))
        return -1;
    if (cfg->mapping_size)
        return (int)(cfg->mapping[hash % cfg->mapping_size] % nqueues);
    return (int)(hash % nqueues);
}
