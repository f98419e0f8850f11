/* A queue's two arenas (frames waiting for the guest's buffers; a transmit
 * batch's packets).  They start as ordinary memory, which a quiet queue
 * never even touches.  Once the queue has carried a flow in this connection
 * (NB_OWN_ARENA_AFTER bytes) they move to pages this domain grants to
 * itself: every copy between an arena and a guest then names two grants,
 * and gntdev pins no page for it (on the rig's PV dom0 a pin cost a quarter
 * of a 4 KiB copy segment; docs/netback-profile.md).  When gntalloc or the
 * grant table has no room the queue keeps ordinary memory, and the service
 * says so once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "nb.h"
#include "xnv/gntalloc_limit.h"

#define NB_ARENA_PAGES (NB_ARENA_BYTES / XNV_PAGE_SIZE)
/* Busy queues planned for in gntalloc's limit (its default, 1024 grants for
 * all of userspace, holds one queue's two arenas); more are served while
 * the limit and the grant table last. */
#define NB_OWN_PLANNED_QUEUES 16u
#define NB_OWN_LIMIT_WANTED (NB_OWN_PLANNED_QUEUES * 2 * NB_ARENA_PAGES + 1024)

int nb_arenas_alloc(struct nb_queue *q)
{
    /* page-aligned: a frame's place in an arena decides how many pages,
     * and so hypervisor copy operations, its grant copy touches */
    q->tx_arena = aligned_alloc(XNV_PAGE_SIZE, NB_ARENA_BYTES);
    q->rx_arena = aligned_alloc(XNV_PAGE_SIZE, NB_ARENA_BYTES);
    memset(&q->tx_own, 0, sizeof q->tx_own);
    memset(&q->rx_own, 0, sizeof q->rx_own);
    q->own_done = false;
    q->own_from = nb_arenas_carried(q);
    return q->tx_arena && q->rx_arena ? 0 : -ENOMEM;
}

uint64_t nb_arenas_carried(const struct nb_queue *q)
{
    return __atomic_load_n(&q->stats.tx_bytes, __ATOMIC_RELAXED) +
           __atomic_load_n(&q->stats.rx_bytes, __ATOMIC_RELAXED);
}

static void refused(struct nb_queue *q, int err)
{
    struct xnv_netback *nb = q->vif->nb;
    q->own_done = true;
    if (atomic_exchange(&nb->own_refused_said, true))
        return;
    char name[16];
    nb_queue_name(q, name, sizeof name);
    if (err == ENOSPC)
        nb_log(nb, LOG_NOTICE, "%s: copies keep pinning local pages: no grant left for its buffers "
               "(gntalloc's limit, %s, or Xen's gnttab_max_frames for this domain)", name, XNV_GNTALLOC_LIMIT);
    else
        nb_log(nb, LOG_NOTICE, "%s: copies keep pinning local pages: its buffers cannot be granted "
               "(%s; is the xen-gntalloc module loaded?)", name, strerror(err));
}

/* On real Xen, bring gntalloc's limit up to NB_OWN_LIMIT_WANTED if it is
 * lower, once per service (xnv-netfront does the same in a guest).  Under
 * the service's lock: queues of several vifs promote at once, and each must
 * find the limit another one raised. */
static void raise_limit(struct xnv_netback *nb)
{
    if (strcmp(xnv_hv_kind(nb->hv), "xen") != 0)
        return;
    pthread_mutex_lock(&nb->own_lock);
    unsigned limit = 0;
    if (!nb->own_limit_tried && xnv_gntalloc_limit_read(NULL, &limit) == 0 &&
        limit < NB_OWN_LIMIT_WANTED) {
        nb->own_limit_tried = true;
        int rc = xnv_gntalloc_limit_write(NULL, NB_OWN_LIMIT_WANTED);
        if (rc == 0)
            nb_log(nb, LOG_NOTICE, "raised gntalloc's limit from %u to %u grants (self-granted buffers "
                   "for %u busy queues)", limit, NB_OWN_LIMIT_WANTED, NB_OWN_PLANNED_QUEUES);
        else
            nb_log(nb, LOG_WARNING, "cannot raise gntalloc's limit from %u to %u (%s): busy queues "
                   "beyond the first may keep pinning local pages", limit, NB_OWN_LIMIT_WANTED,
                   strerror(-rc));
    }
    pthread_mutex_unlock(&nb->own_lock);
}

/* Replace *arena by pages granted to this domain; false when refused. */
static bool grant_arena(struct nb_queue *q, uint8_t **arena, struct xnv_self_grants *own,
                        struct xnv_copy_batch *b)
{
    struct xnv_hv *hv = q->vif->nb->hv;
    raise_limit(q->vif->nb);
    xnv_gref_t *refs = calloc(NB_ARENA_PAGES, sizeof *refs);
    uint8_t *mem = refs ? xnv_gnt_share(hv, xnv_hv_domid(hv), NB_ARENA_PAGES, refs, true) : NULL;
    if (!mem) {
        int e = refs ? errno : ENOMEM;
        free(refs);
        refused(q, e ? e : EIO);
        return false;
    }
    free(*arena);
    *arena = mem;
    *own = (struct xnv_self_grants){ .base = mem, .pages = NB_ARENA_PAGES, .refs = refs,
                                     .self = xnv_hv_domid(hv) };
    xnv_copy_batch_own(b, own);
    return true;
}

void nb_arenas_promote(struct nb_queue *q)
{
    if (q->own_done || !q->vif->nb->cfg.self_granted_arenas ||
        nb_arenas_carried(q) - q->own_from < NB_OWN_ARENA_AFTER)
        return;
    /* the transmit arena holds nothing between passes; the receive arena
     * may hold frames waiting for buffers: it moves once it is empty */
    if (!q->tx_own.pages && !grant_arena(q, &q->tx_arena, &q->tx_own, &q->txb))
        return;
    if (q->npend)
        return;
    if (grant_arena(q, &q->rx_arena, &q->rx_own, &q->rxb))
        q->own_done = true;
}

static void release(struct nb_queue *q, uint8_t *arena, struct xnv_self_grants *own)
{
    if (own->pages)
        xnv_gnt_unshare(q->vif->nb->hv, arena, own->pages);
    else
        free(arena);
    free(own->refs);
    memset(own, 0, sizeof *own);
}

void nb_arenas_free(struct nb_queue *q)
{
    release(q, q->tx_arena, &q->tx_own);
    release(q, q->rx_arena, &q->rx_own);
    q->tx_arena = q->rx_arena = NULL;
    xnv_copy_batch_own(&q->txb, NULL);
    xnv_copy_batch_own(&q->rxb, NULL);
}
