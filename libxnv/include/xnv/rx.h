/* Guest receive: placing one frame into the buffers the frontend posted on
 * its RX ring.  Each frame fills whole pages from offset 0; a GSO frame
 * takes one extra slot right after its first data slot.  Responses land in
 * the slots of their requests (frontends find buffers by slot, not by id). */
#ifndef XNV_RX_H
#define XNV_RX_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/netif.h"

struct xnv_copy_batch;

/* Largest frame accepted from the host side (a 64 KiB GSO frame + header). */
#define XNV_RX_MAX_LEN 65535u

struct xnv_rx_meta {
    uint16_t flags;      /* NETRXF_csum_blank | NETRXF_data_validated */
    uint8_t gso_type;    /* XEN_NETIF_GSO_TYPE_*, NONE when not GSO */
    uint16_t gso_size;
};

struct xnv_rx_placed {
    RING_IDX first;      /* ring index of the first slot used */
    unsigned nr_slots;   /* slots used, the extra included */
    bool extra;          /* slot first + 1 holds the GSO extra */
};

/* RX ring slots a frame of len bytes needs. */
unsigned xnv_rx_slots(uint32_t len, const struct xnv_rx_meta *m);

/* Place one frame: consume its requests, add the copy segments (local data
 * -> frontend buffers) to b, write the responses (status = bytes per slot),
 * not yet pushed.  Returns 0; -EAGAIN when the frontend has not posted enough
 * buffers; -ENOSPC when b lacks room; -EPROTO when the frontend's producer
 * runs more than a ring ahead (fatal).  Nothing is consumed on error. */
int xnv_rx_place(netif_rx_back_ring_t *ring, RING_IDX prod, xnv_domid_t dom,
                 const uint8_t *data, uint32_t len, const struct xnv_rx_meta *m,
                 struct xnv_copy_batch *b, uint16_t pkt_index, struct xnv_rx_placed *out);

/* One piece of a frame to place: local memory, or part of a grant of
 * domain dom (the switch fast path copies guest to guest directly). */
struct xnv_rx_src {
    const uint8_t *local;        /* NULL: the grant below */
    xnv_domid_t dom;
    xnv_gref_t ref;
    uint16_t offset;
    uint32_t len;                /* a grant piece stays within its page */
};

/* xnv_rx_place() for a frame made of nsrc pieces (len bytes in all). */
int xnv_rx_place_sg(netif_rx_back_ring_t *ring, RING_IDX prod, xnv_domid_t dom,
                    const struct xnv_rx_src *src, unsigned nsrc, uint32_t len,
                    const struct xnv_rx_meta *m, struct xnv_copy_batch *b,
                    uint16_t pkt_index, struct xnv_rx_placed *out);

/* After a failed copy: mark the frame's data responses as errors. */
void xnv_rx_fail(netif_rx_back_ring_t *ring, const struct xnv_rx_placed *p);

#endif
