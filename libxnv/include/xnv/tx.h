/* Guest transmit: reading one packet (request chain + extra infos) out of the
 * shared TX ring into a private descriptor, validating everything, and
 * answering the slots it consumed.
 *
 * Each request is copied out of shared memory exactly once; decisions are
 * made on the private copy only (a frontend may rewrite the ring at any time).
 *
 * Slot limits follow the netif contract: a backend must accept packets of up
 * to XEN_NETIF_NR_SLOTS_MIN (18) data slots.  A packet of 19 data slots is
 * dropped (all its slots consumed and answered with an error); 20 or more is a
 * protocol violation that disconnects the vif. */
#ifndef XNV_TX_H
#define XNV_TX_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/netif.h"

#define XNV_TX_MAX_FRAGS    XEN_NETIF_NR_SLOTS_MIN       /* data slots accepted */
#define XNV_TX_FATAL_SLOTS  (XEN_NETIF_NR_SLOTS_MIN + 2) /* data slots that disconnect */
#define XNV_TX_MAX_EXTRAS   8   /* extra-info slots per packet (one per type is normal) */
#define XNV_TX_MAX_CONSUMED (XNV_TX_FATAL_SLOTS + XNV_TX_MAX_EXTRAS)
/* Largest packet: the 16-bit size field, so 64 KiB - 1. */
#define XNV_TX_MAX_LEN      XEN_NETIF_MAX_TX_SIZE

enum xnv_tx_verdict {
    XNV_TX_NONE = 0,   /* no request pending */
    XNV_TX_PACKET,     /* a well-formed packet: copy its frags, then respond */
    XNV_TX_MCAST,      /* a multicast filter update carrying no data */
    XNV_TX_DROP,       /* consumed; answer every slot with an error */
    XNV_TX_FATAL,      /* protocol violation: disconnect this vif */
};

/* How each consumed slot is answered. */
enum xnv_tx_slot_kind {
    XNV_TX_SLOT_DATA,  /* gets the packet's status */
    XNV_TX_SLOT_EXTRA, /* NETIF_RSP_NULL */
    XNV_TX_SLOT_EMPTY, /* zero-size fragment: NETIF_RSP_OKAY at once */
};

struct xnv_tx_frag {
    grant_ref_t gref;
    uint16_t offset;
    uint16_t len;
};

struct xnv_tx_pkt {
    unsigned nr_consumed;                       /* ring slots consumed */
    struct { uint16_t id; uint8_t kind; } slot[XNV_TX_MAX_CONSUMED];
    unsigned nr_frags;                          /* non-empty data slots, first included */
    struct xnv_tx_frag frag[XNV_TX_MAX_FRAGS];
    uint32_t len;                               /* packet length (sum of frags) */
    uint16_t flags;                             /* NETTXF_csum_blank / NETTXF_data_validated */
    uint8_t gso_type;                           /* XEN_NETIF_GSO_TYPE_*, NONE if absent */
    uint16_t gso_size;
    uint8_t mcast_op;                           /* XEN_NETIF_EXTRA_TYPE_MCAST_{ADD,DEL} or 0 */
    uint8_t mcast_addr[6];
    bool has_hash;
    uint8_t hash_type;
    uint32_t hash_value;
    const char *why;                            /* for DROP / FATAL: what was wrong */
};

/* Before attaching to a ring: are its indices consistent?  (A ring whose
 * producer already runs more than a ring ahead of the consumer is refused.) */
bool xnv_ring_indices_ok(RING_IDX prod, RING_IDX cons, unsigned size);

/* Read the next packet.  prod is the request producer the caller read once
 * (followed by a read barrier).  Advances ring->req_cons past every slot it
 * consumed, except after FATAL (the ring is abandoned then). */
enum xnv_tx_verdict xnv_tx_read(netif_tx_back_ring_t *ring, RING_IDX prod,
                                struct xnv_tx_pkt *pkt);

/* Write the responses for every slot the packet consumed, in ring order:
 * data slots get `status` (NETIF_RSP_*), extra slots NETIF_RSP_NULL, empty
 * slots NETIF_RSP_OKAY.  The caller pushes them (RING_PUSH_RESPONSES_*). */
void xnv_tx_respond(netif_tx_back_ring_t *ring, const struct xnv_tx_pkt *pkt, int16_t status);

#endif
