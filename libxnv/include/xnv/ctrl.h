/* The netif control ring (feature-ctrl-ring): the frontend configures how
 * the backend hashes received frames and steers them to queues.  Requests
 * are handled by a pure function; table and key data come through a fetch
 * callback (a grant copy into private memory) and are validated only after
 * they were copied. */
#ifndef XNV_CTRL_H
#define XNV_CTRL_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/netif.h"
#include "xnv/toeplitz.h"

#define XNV_HASH_MAPPING_MAX 128u
#define XNV_HASH_TYPES_SUPPORTED (XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP | \
                                  XEN_NETIF_CTRL_HASH_TYPE_IPV6 | XEN_NETIF_CTRL_HASH_TYPE_IPV6_TCP)
/* Requests handled per call at most, so that a producer racing ahead cannot
 * keep the handler busy. */
#define XNV_CTRL_BUDGET 64u

struct xnv_hash_cfg {
    uint32_t algorithm;                  /* XEN_NETIF_CTRL_HASH_ALGORITHM_* */
    uint32_t types;                      /* XEN_NETIF_CTRL_HASH_TYPE_* enabled */
    uint8_t key[XNV_HASH_KEY_MAX];
    uint32_t mapping[XNV_HASH_MAPPING_MAX];
    uint32_t mapping_size;               /* 0: queue = hash % queues */
};

/* Copy len bytes from the start of grant ref into buf: 0, or -1 on failure. */
typedef int (*xnv_ctrl_fetch)(void *arg, xnv_gref_t ref, void *buf, uint32_t len);

/* Handle one request against cfg (changed only on success) for a device of
 * nqueues queues; fills rsp (id and type echoed). */
void xnv_ctrl_handle(struct xnv_hash_cfg *cfg, unsigned nqueues,
                     const struct xen_netif_ctrl_request *req, xnv_ctrl_fetch fetch,
                     void *fetch_arg, struct xen_netif_ctrl_response *rsp);

/* Handle up to XNV_CTRL_BUDGET requests of the ring (prod read by the caller
 * with a barrier after), writing the responses (not pushed).  Returns how many
 * were handled, or -EPROTO when the producer is beyond the ring (fatal). */
int xnv_ctrl_ring_process(xen_netif_ctrl_back_ring_t *ring, RING_IDX prod,
                          struct xnv_hash_cfg *cfg, unsigned nqueues,
                          xnv_ctrl_fetch fetch, void *fetch_arg);

/* The queue a frame goes to under cfg: -1 when hashing is not configured
 * (or no enabled type applies to the frame). */
int xnv_hash_queue(const struct xnv_hash_cfg *cfg, unsigned nqueues, const uint8_t *f,
                   uint32_t len);

#endif
