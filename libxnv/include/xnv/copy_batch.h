/* A batch of grant-copy segments built by the data path and handed to
 * xnv_gnt_copy() in one call.  Each segment remembers which packet it
 * belongs to, so that per-segment failures map back to packets. */
#ifndef XNV_COPY_BATCH_H
#define XNV_COPY_BATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"

/* Pages of this process granted to its own domain (xnv_gnt_share to
 * xnv_hv_domid()).  A segment whose local side lies within one of them goes
 * to the hypervisor as that grant instead of an address, so gntdev pins no
 * page for it: on the rig's PV dom0 a pin cost a quarter of a 4 KiB copy
 * segment (docs/netback-profile.md). */
struct xnv_self_grants {
    uint8_t *base;
    unsigned pages;
    xnv_gref_t *refs;       /* one per page */
    xnv_domid_t self;
};

struct xnv_copy_batch {
    xengnttab_grant_copy_segment_t *seg;
    uint16_t *pkt;          /* packet index of each segment */
    unsigned n, cap;
    const struct xnv_self_grants *own;   /* NULL: local sides are addresses */
    unsigned n_own;         /* segments of this batch with a local side given as a grant */
};

/* Allocates room for cap segments; 0 or -ENOMEM. */
int xnv_copy_batch_init(struct xnv_copy_batch *b, unsigned cap);
void xnv_copy_batch_free(struct xnv_copy_batch *b);
static inline void xnv_copy_batch_reset(struct xnv_copy_batch *b) { b->n = b->n_own = 0; }
/* Local sides within g's pages go as grants from now on (NULL: none). */
static inline void xnv_copy_batch_own(struct xnv_copy_batch *b, const struct xnv_self_grants *g) { b->own = g; }
static inline unsigned xnv_copy_batch_room(const struct xnv_copy_batch *b) { return b->cap - b->n; }

/* Each returns false (adding nothing) when the batch is full. */
bool xnv_copy_from_gref(struct xnv_copy_batch *b, xnv_domid_t dom, xnv_gref_t ref,
                        uint16_t offset, uint16_t len, void *dst, uint16_t pkt);
bool xnv_copy_to_gref(struct xnv_copy_batch *b, const void *src, xnv_domid_t dom,
                      xnv_gref_t ref, uint16_t offset, uint16_t len, uint16_t pkt);
bool xnv_copy_gref_to_gref(struct xnv_copy_batch *b,
                           xnv_domid_t sdom, xnv_gref_t sref, uint16_t soff,
                           xnv_domid_t ddom, xnv_gref_t dref, uint16_t doff,
                           uint16_t len, uint16_t pkt);

/* After the copy: marks failed[p] = true for each packet with a failed segment (npkts bound). */
void xnv_copy_batch_failures(const struct xnv_copy_batch *b, bool *failed, unsigned npkts);

#endif
