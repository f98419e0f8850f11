/* The order in which frames waiting for a guest's buffers are placed.
 *
 * A TAP takes frames from dom0's stack without holding on to their sockets
 * (it orphans them), so TCP small queues do not limit how much of a bulk
 * flow waits in a queue's arena: under load a queue of tens of milliseconds
 * stands there (rig, four guests receiving from dom0: 4-27 ms on average,
 * up to half a second).  A frame of a flow that has nothing else waiting
 * (a ping, a DNS answer; a flow is its hosts and protocol, flow.h) goes
 * ahead of that queue, as fq_codel's new flows do: small frames only,
 * at most half a batch while others wait, and never ahead of an older frame
 * of its own flow, so no flow is ever reordered. */
#include <string.h>
#include "nb.h"
#include "xnv/flow.h"

/* One full-size frame, a VLAN tag included, and no segmentation. */
#define NB_SPARSE_MAX_LEN (XNV_ETH_HLEN + 4u + 1500u)

void nb_rx_order_admit(struct nb_queue *q, struct nb_pending_rx *pr, const uint8_t *f)
{
    pr->bucket = (uint8_t)(xnv_flow_hash(f, pr->len) % NB_FLOW_BUCKETS);
    pr->sparse = q->flow_waiting[pr->bucket] == 0 && pr->len <= NB_SPARSE_MAX_LEN &&
                 pr->m.gso_type == XEN_NETIF_GSO_TYPE_NONE;
    pr->gone = false;
    q->flow_waiting[pr->bucket]++;
    q->nsparse += pr->sparse;
}

void nb_rx_order_leave(struct nb_queue *q, const struct nb_pending_rx *pr)
{
    q->flow_waiting[pr->bucket]--;
    q->nsparse -= pr->sparse;
}

void nb_rx_order_reset(struct nb_queue *q)
{
    memset(q->flow_waiting, 0, sizeof q->flow_waiting);
    q->nsparse = 0;
}

unsigned nb_rx_order_pick(const struct nb_queue *q, unsigned sel[NB_RX_BATCH])
{
    unsigned n = 0, ahead = 0;
    if (q->nsparse) {
        unsigned cap = q->nsparse < q->npend ? NB_RX_BATCH / 2 : NB_RX_BATCH;
        for (unsigned i = 0; i < q->npend && ahead < cap; i++)
            if (q->pend[i].sparse)
                sel[ahead++] = i;
        n = ahead;
    }
    /* the rest in arrival order; sparse frames past the cap keep theirs */
    unsigned seen = 0;
    for (unsigned i = 0; i < q->npend && n < NB_RX_BATCH; i++) {
        if (q->pend[i].sparse && seen++ < ahead)
            continue;
        sel[n++] = i;
    }
    return n;
}
