/* Reading one TX packet out of the shared ring (see tx.h). */
#include <string.h>
#include "xnv/tx.h"

bool xnv_ring_indices_ok(RING_IDX prod, RING_IDX cons, unsigned size)
{
    return (RING_IDX)(prod - cons) <= size;
}

/* The only access to request memory: one volatile copy per slot. */
static void copy_slot(netif_tx_back_ring_t *ring, RING_IDX idx, netif_tx_request_t *out)
{
    RING_COPY_REQUEST(ring, idx, out);
}

static enum xnv_tx_verdict fatal(struct xnv_tx_pkt *pkt, const char *why)
{
    pkt->why = why;
    return XNV_TX_FATAL;
}

static void note_slot(struct xnv_tx_pkt *pkt, uint16_t id, enum xnv_tx_slot_kind kind)
{
    pkt->slot[pkt->nr_consumed].id = id;
    pkt->slot[pkt->nr_consumed].kind = (uint8_t)kind;
    pkt->nr_consumed++;
}

/* Extra-info slots following the first request. */
static enum xnv_tx_verdict read_extras(netif_tx_back_ring_t *ring, RING_IDX prod,
                                       RING_IDX *idx, struct xnv_tx_pkt *pkt)
{
    unsigned n = 0;
    netif_extra_info_t extra;
    do {
        if (*idx == prod)
            return fatal(pkt, "extra info announced but no slot posted for it");
        if (++n > XNV_TX_MAX_EXTRAS)
            return fatal(pkt, "too many extra info slots");
        netif_tx_request_t raw;
        copy_slot(ring, (*idx)++, &raw);
        memcpy(&extra, &raw, sizeof extra);
        note_slot(pkt, 0, XNV_TX_SLOT_EXTRA);
        switch (extra.type) {
        case XEN_NETIF_EXTRA_TYPE_GSO:
            if (extra.u.gso.size == 0)
                return fatal(pkt, "GSO extra with size 0");
            if (extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
                extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
                return fatal(pkt, "GSO extra of unknown type");
            pkt->gso_type = extra.u.gso.type;
            pkt->gso_size = extra.u.gso.size;
            break;
        case XEN_NETIF_EXTRA_TYPE_MCAST_ADD:
        case XEN_NETIF_EXTRA_TYPE_MCAST_DEL:
            pkt->mcast_op = extra.type;
            memcpy(pkt->mcast_addr, extra.u.mcast.addr, 6);
            break;
        case XEN_NETIF_EXTRA_TYPE_HASH:
            pkt->has_hash = true;
            pkt->hash_type = extra.u.hash.type;
            memcpy(&pkt->hash_value, extra.u.hash.value, 4);
            break;
        default:
            return fatal(pkt, "extra info of type 0 or beyond the known maximum");
        }
    } while (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
    return XNV_TX_PACKET;
}

/* The data slots after the first: sizes are subtracted from the first
 * slot's total; returns what remains for the first slot itself. */
static enum xnv_tx_verdict read_frags(netif_tx_back_ring_t *ring, RING_IDX prod, RING_IDX *idx,
                                      struct xnv_tx_pkt *pkt, uint16_t first_total,
                                      uint16_t *first_len)
{
    unsigned data_slots = 1;
    uint16_t remaining = first_total;
    netif_tx_request_t req;
    do {
        if (*idx == prod)
            return fatal(pkt, "more_data chain runs past the posted requests");
        if (++data_slots >= XNV_TX_FATAL_SLOTS)
            return fatal(pkt, "packet uses 20 or more slots");
        copy_slot(ring, (*idx)++, &req);
        if ((uint32_t)req.offset + req.size > XNV_PAGE_SIZE)
            return fatal(pkt, "slot crosses its page (offset + size > 4096)");
        if (req.size == 0) {
            note_slot(pkt, req.id, XNV_TX_SLOT_EMPTY);
            continue;
        }
        note_slot(pkt, req.id, XNV_TX_SLOT_DATA);
        if (pkt->why)
            continue;            /* already dropping: just consume */
        if (data_slots > XNV_TX_MAX_FRAGS) {
            pkt->why = "packet uses more than 18 slots";
            continue;
        }
        if (req.size > remaining) {
            pkt->why = "slot larger than what remains of the packet size";
            continue;
        }
        remaining = (uint16_t)(remaining - req.size);
        pkt->frag[pkt->nr_frags++] = (struct xnv_tx_frag){ req.gref, req.offset, req.size };
        pkt->len += req.size;
    } while (req.flags & NETTXF_more_data);
    *first_len = remaining;
    return XNV_TX_PACKET;
}

enum xnv_tx_verdict xnv_tx_read(netif_tx_back_ring_t *ring, RING_IDX prod, struct xnv_tx_pkt *pkt)
{
    pkt->nr_consumed = 0;
    pkt->nr_frags = 0;
    pkt->len = 0;
    pkt->flags = 0;
    pkt->gso_type = XEN_NETIF_GSO_TYPE_NONE;
    pkt->gso_size = 0;
    pkt->mcast_op = 0;
    pkt->has_hash = false;
    pkt->why = NULL;

    RING_IDX idx = ring->req_cons;
    if (!xnv_ring_indices_ok(prod, idx, RING_SIZE(ring)))
        return fatal(pkt, "request producer more than a ring ahead of the consumer");
    if (idx == prod)
        return XNV_TX_NONE;

    netif_tx_request_t first;
    copy_slot(ring, idx++, &first);
    note_slot(pkt, first.id, XNV_TX_SLOT_DATA);
    pkt->flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);

    enum xnv_tx_verdict v;
    if (first.flags & NETTXF_extra_info) {
        v = read_extras(ring, prod, &idx, pkt);
        if (v != XNV_TX_PACKET)
            return v;
    }
    if (pkt->mcast_op) {
        /* A filter update: the request carries no packet. */
        ring->req_cons = idx;
        return XNV_TX_MCAST;
    }

    /* Slot 0 goes first in the frag list; its length is known at the end. */
    pkt->nr_frags = 1;
    uint16_t first_len = first.size;
    if (first.flags & NETTXF_more_data) {
        v = read_frags(ring, prod, &idx, pkt, first.size, &first_len);
        if (v != XNV_TX_PACKET)
            return v;
    }
    /* A chain already being dropped says nothing reliable about the first
     * slot's own length: the drop stands (every slot is consumed). */
    if (!pkt->why && (uint32_t)first.offset + first_len > XNV_PAGE_SIZE)
        return fatal(pkt, "first slot crosses its page (offset + size > 4096)");
    ring->req_cons = idx;

    if (!pkt->why && first_len < XNV_ETH_HLEN)
        pkt->why = "first slot smaller than an Ethernet header";
    if (pkt->why)
        return XNV_TX_DROP;
    pkt->frag[0] = (struct xnv_tx_frag){ first.gref, first.offset, first_len };
    pkt->len += first_len;
    return XNV_TX_PACKET;
}
