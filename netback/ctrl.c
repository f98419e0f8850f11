/* The control ring of a vif, served by its queue 0 thread: hash algorithm,
 * key, types and the mapping table that steers received frames to queues. */
#include <errno.h>
#include "nb.h"

struct fetch_ctx { struct nb_queue *q; };

/* Key and table bytes: copied from the guest's grant into private memory. */
static int fetch(void *arg, xnv_gref_t ref, void *buf, uint32_t len)
{
    struct nb_queue *q = ((struct fetch_ctx *)arg)->q;
    if (len == 0 || len > XNV_PAGE_SIZE)
        return -1;
    xengnttab_grant_copy_segment_t seg = {
        .source.foreign = { .ref = ref, .offset = 0, .domid = q->vif->domid },
        .dest.virt = buf, .len = (uint16_t)len, .flags = GNTCOPY_source_gref,
    };
    XNV_STAT_ADD(q->stats.copy_calls, 1);
    XNV_STAT_ADD(q->stats.copy_segments, 1);
    return xnv_gnt_copy(q->vif->nb->hv, &seg, 1) == 0 && seg.status == GNTST_okay ? 0 : -1;
}

unsigned nb_ctrl_poll(struct nb_queue *q)
{
    struct nb_vif *v = q->vif;
    if (q->id != 0 || !v->ctrl_page || !RING_HAS_UNCONSUMED_REQUESTS(&v->ctrl))
        return 0;
    RING_IDX prod = v->ctrl.sring->req_prod;
    rmb();
    struct fetch_ctx ctx = { q };
    pthread_rwlock_wrlock(&v->hash_lock);
    int n = xnv_ctrl_ring_process(&v->ctrl, prod, &v->hash, v->nqueues, fetch, &ctx);
    atomic_store(&v->hashing, v->hash.algorithm == XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ && v->hash.types);
    pthread_rwlock_unlock(&v->hash_lock);
    if (n < 0) {
        q->fatal_why = "control ring request producer more than a ring ahead";
        return 0;
    }
    if (XNV_RING_PUSH_RESPONSES(&v->ctrl))
        xnv_evtchn_notify(q->ch, (xnv_port_t)v->ctrl_port);
    return (unsigned)n;
}
