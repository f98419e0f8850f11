/* Rings left by a daemon that died without stopping its queues (SIGKILL, the
 * OOM killer, a crash).
 *
 * A response takes the place of the request it answers in the shared ring,
 * and the guest sees it only once rsp_prod moves, at the end of a batch.  A
 * daemon killed within a batch thus leaves, past rsp_prod, slots that may
 * hold a request or a response written but never published.  Read again as
 * a request, such a slot carries bytes of the response where the grant
 * reference was: a transmit slot names grant <id> (some other page of the
 * guest), and a receive slot that held a GSO extra names grant 1, the
 * guest's xenstore ring, which the toolstack grants to domain 0 writable;
 * placing a frame there would corrupt it and hang the guest.
 *
 * So a device that a previous run served and did not stop cleanly (its
 * mark, written before the data path starts and removed once every queue
 * stopped between batches, is still there) gets every request in flight
 * answered without touching a buffer: transmit packets with an error,
 * receive buffers with an error (the guest posts them again).  The guest
 * loses those frames, as with a NIC reset, and gets every slot back.
 * Control ring requests are served again: reading a stale one only ever
 * reads the guest's own pages, and the hash settings start over anyway. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <xen/io/xenbus.h>
#include "nb.h"
#include "xnv/xs.h"

#define MARK "xnv-rings-in-use"

/* At probe: a mark means a predecessor ran a data path here and did not
 * stop it.  Only while the frontend still has the rings it had then
 * (Initialised or Connected: a frontend starts over only through the
 * backend's InitWait, which nobody wrote meanwhile) are they ours to fix. */
void nb_recover_check(struct nb_vif *v, int fe_state)
{
    if (!xnv_xs_exists(v->nb->hv, XNV_XS_NO_TX, v->be_path, MARK))
        return;
    v->rings_marked = true;
    if (fe_state == XenbusStateInitialised || fe_state == XenbusStateConnected) {
        v->recover = true;
        nb_log(v->nb, LOG_WARNING, "vif%u.%u: the previous run stopped without closing the rings: the "
               "requests it left in flight will be answered as dropped", v->domid, v->devid);
    } else {
        nb_rings_unmark(v);
    }
}

int nb_rings_mark(struct nb_vif *v)
{
    int rc = nb_be_write(v, MARK, "1");
    if (rc == 0)
        v->rings_marked = true;
    return rc;
}

void nb_rings_unmark(struct nb_vif *v)
{
    if (v->rings_marked) {
        char path[192];
        snprintf(path, sizeof path, "%s/" MARK, v->be_path);
        xnv_xs_rm(v->nb->hv, XNV_XS_NO_TX, path);   /* gone with its directory: as good */
        v->rings_marked = false;
    }
    v->recover = v->resuming = false;
}

/* The request producer, read once; false when it runs more than a ring
 * ahead (the data path refuses such a ring, and so do we). */
static bool producer(const volatile RING_IDX *req_prod, RING_IDX cons, unsigned size, RING_IDX *prod)
{
    *prod = *req_prod;
    rmb();
    return xnv_ring_indices_ok(*prod, cons, size);
}

/* Every transmit packet past rsp_prod, answered with an error.  The packet's
 * shape survives a response written over it (a data slot's response covers
 * its grant reference only, its flags and id stay; an extra slot's covers
 * only what follows its type and flags: see xnv_tx_respond), so each slot
 * is answered as the guest expects: its id, or NETIF_RSP_NULL for an extra.
 * A packet not complete yet, or longer than any the data path accepts, is
 * left to the data path.  Returns the packets answered. */
static unsigned recover_tx(struct nb_queue *q)
{
    netif_tx_back_ring_t *r = &q->tx;
    RING_IDX prod;
    if (!producer(&r->sring->req_prod, r->req_cons, RING_SIZE(r), &prod))
        return 0;
    unsigned n = 0;
    while (r->req_cons != prod) {
        struct xnv_tx_pkt p = { .nr_consumed = 0 };
        RING_IDX i = r->req_cons;
        bool more = true, first = true, whole = true;
        while (more && whole) {
            netif_tx_request_t req;
            if (i == prod || p.nr_consumed == XNV_TX_MAX_CONSUMED) {
                whole = false;
                break;
            }
            RING_COPY_REQUEST(r, i++, &req);
            p.slot[p.nr_consumed].id = req.id;
            p.slot[p.nr_consumed++].kind = XNV_TX_SLOT_DATA;
            for (bool extra = first && (req.flags & NETTXF_extra_info); extra && whole;) {
                netif_tx_request_t raw;
                netif_extra_info_t e;
                if (i == prod || p.nr_consumed == XNV_TX_MAX_CONSUMED) {
                    whole = false;
                    break;
                }
                RING_COPY_REQUEST(r, i++, &raw);
                memcpy(&e, &raw, sizeof e);
                p.slot[p.nr_consumed].id = 0;
                p.slot[p.nr_consumed++].kind = XNV_TX_SLOT_EXTRA;
                extra = e.flags & XEN_NETIF_EXTRA_FLAG_MORE;
            }
            first = false;
            more = req.flags & NETTXF_more_data;
        }
        if (!whole)
            break;
        r->req_cons = i;
        xnv_tx_respond(r, &p, NETIF_RSP_ERROR);
        n++;
    }
    RING_PUSH_RESPONSES(r);
    return n;
}

/* Every posted receive buffer past rsp_prod, answered with an error and no
 * data (the guest recycles the buffer).  Its id is kept: a data response
 * carries the request's id where the request has it. */
static unsigned recover_rx(struct nb_queue *q)
{
    netif_rx_back_ring_t *r = &q->rx;
    RING_IDX prod;
    if (!producer(&r->sring->req_prod, r->req_cons, RING_SIZE(r), &prod))
        return 0;
    unsigned n = 0;
    for (; r->req_cons != prod; r->req_cons++, n++) {
        netif_rx_request_t req;
        RING_COPY_REQUEST(r, r->req_cons, &req);
        netif_rx_response_t *rsp = RING_GET_RESPONSE(r, r->rsp_prod_pvt++);
        *rsp = (netif_rx_response_t){ .id = req.id, .offset = 0, .flags = 0, .status = NETIF_RSP_ERROR };
    }
    RING_PUSH_RESPONSES(r);
    return n;
}

void nb_recover_rings(struct nb_vif *v)
{
    for (unsigned i = 0; i < v->nqueues; i++) {
        struct nb_queue *q = &v->q[i];
        unsigned tx = recover_tx(q), rx = recover_rx(q);
        XNV_STAT_ADD(q->stats.tx_drops, tx);
        nb_log(v->nb, LOG_WARNING, "vif%u.%u: queue %u: %u transmit packet(s) dropped, %u receive buffer(s) "
               "handed back, as left by the previous run", v->domid, v->devid, i, tx, rx);
    }
}

/* The guest may wait for an event that went with the previous run (its own
 * went unheard too: the queue threads look at the rings first anyway). */
void nb_kick(struct nb_vif *v)
{
    for (unsigned i = 0; i < v->nqueues; i++) {
        struct nb_queue *q = &v->q[i];
        nb_queue_notify(q, q->port_tx);
        if (q->port_rx != q->port_tx)
            nb_queue_notify(q, q->port_rx);
    }
}
