/* Grant copy, as gntdev + GNTTABOP_copy do it.
 *
 * Segments go in batches of XNV_GNT_COPY_PER_HYPERCALL, one simulated
 * hypercall each: under the lock every grant side is checked and pinned and
 * its address taken, then the lock is dropped, the copy hook runs, the data
 * moves, and the lock is retaken only to unpin and count.  A pinned grant
 * cannot be freed, so the memcpy needs no lock and nothing allocates. */
#include <errno.h>
#include <string.h>
#include "sim_internal.h"

#define BATCH XNV_GNT_COPY_PER_HYPERCALL

static bool malformed(const xengnttab_grant_copy_segment_t *s)
{
    /* gntdev refuses local-to-local copies and any grant side that would
     * leave its page. */
    if (s->len == 0 || !(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
        return true;
    if ((s->flags & GNTCOPY_source_gref) && s->source.foreign.offset + s->len > XNV_PAGE_SIZE)
        return true;
    if ((s->flags & GNTCOPY_dest_gref) && s->dest.foreign.offset + s->len > XNV_PAGE_SIZE)
        return true;
    return false;
}

static const void *local_side(const xengnttab_grant_copy_segment_t *s)
{
    return !(s->flags & GNTCOPY_source_gref) ? s->source.virt
         : !(s->flags & GNTCOPY_dest_gref) ? s->dest.virt : NULL;
}

/* The operations gntdev makes of a segment: one per local page it touches
 * (each pinned), one when both sides are grants. */
static unsigned ops_of(const xengnttab_grant_copy_segment_t *s)
{
    const void *local = local_side(s);
    if (!local || s->len == 0)
        return 1;
    uintptr_t a = (uintptr_t)local;
    return (unsigned)((a + s->len - 1) / XNV_PAGE_SIZE - a / XNV_PAGE_SIZE + 1);
}

/* Lock held.  Pins one grant side; on success *p is where its data is. */
static int16_t pin(struct xnv_sim *sim, xnv_domid_t caller, const union xengnttab_copy_ptr *side,
                   bool write, char **p)
{
    struct sim_dom *o = sim_dom_alive(sim, side->foreign.domid);
    if (!o)
        return GNTST_bad_domain;
    struct sim_grant *g = sim_grant_lookup(o, side->foreign.ref);
    if (!g)
        return GNTST_bad_gntref;
    if (g->state != GNT_ACTIVE)
        return SIM_GNTST_NOT_GRANTED;
    if (g->grantee != caller)
        return SIM_GNTST_WRONG_DOMAIN;
    if (write && g->readonly)
        return SIM_GNTST_READ_ONLY;
    g->pins++;
    *p = o->mem + (size_t)g->page * XNV_PAGE_SIZE + side->foreign.offset;
    return GNTST_okay;
}

/* Lock held.  The owner may have died meanwhile: its table stays while pinned. */
static void unpin(struct xnv_sim *sim, const union xengnttab_copy_ptr *side)
{
    struct sim_dom *o = sim_dom_get(sim, side->foreign.domid);
    struct sim_grant *g = sim_grant_lookup(o, side->foreign.ref);
    if (g && g->pins) {
        g->pins--;
        sim_grant_maybe_free(o, side->foreign.ref);
    }
}

static void unpin_seg(struct xnv_sim *sim, const xengnttab_grant_copy_segment_t *s)
{
    if (s->flags & GNTCOPY_source_gref)
        unpin(sim, &s->source);
    if (s->flags & GNTCOPY_dest_gref)
        unpin(sim, &s->dest);
}

/* Lock held. */
static int16_t pin_seg(struct xnv_sim *sim, xnv_domid_t me, const xengnttab_grant_copy_segment_t *s,
                       char **src, char **dst)
{
    int16_t st = GNTST_okay;
    *src = s->source.virt;
    *dst = s->dest.virt;
    if (s->flags & GNTCOPY_source_gref)
        st = pin(sim, me, &s->source, false, src);
    if (st == GNTST_okay && (s->flags & GNTCOPY_dest_gref)) {
        st = pin(sim, me, &s->dest, true, dst);
        if (st != GNTST_okay && (s->flags & GNTCOPY_source_gref))
            unpin(sim, &s->source);
    }
    return st;
}

int sim_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xnv_sim *sim = h->sim;
    struct sim_dom *me = h->dom;

    for (unsigned i = 0; i < n; i++)
        if (malformed(&segs[i]))
            return -EINVAL;

    for (unsigned base = 0; base < n; base += BATCH) {
        xengnttab_grant_copy_segment_t *b = segs + base;
        unsigned m = n - base < BATCH ? n - base : BATCH;
        char *src[BATCH], *dst[BATCH];

        sim_lock(sim);
        if (!me->alive) {
            /* Died between two batches: the rest is not done. */
            sim_unlock(sim);
            if (base == 0)
                return -ESRCH;
            for (unsigned i = base; i < n; i++)
                segs[i].status = GNTST_general_error;
            return 0;
        }
        for (unsigned i = 0; i < m; i++)
            b[i].status = pin_seg(sim, me->id, &b[i], &src[i], &dst[i]);
        xnv_sim_copy_hook hook = sim->hook;
        void *arg = sim->hook_arg;
        sim_unlock(sim);

        if (hook)
            hook(arg);
        uint64_t bytes = 0, ops = 0, pins = 0;
        for (unsigned i = 0; i < m; i++) {
            unsigned o = ops_of(&b[i]);
            ops += o;
            pins += local_side(&b[i]) ? o : 0;
            if (b[i].status == GNTST_okay) {
                memmove(dst[i], src[i], b[i].len);
                bytes += b[i].len;
            }
        }

        sim_lock(sim);
        for (unsigned i = 0; i < m; i++)
            if (b[i].status == GNTST_okay)
                unpin_seg(sim, &b[i]);
        me->ctr.copy_calls += base == 0;
        me->ctr.copy_hypercalls++;
        me->ctr.copy_segments += m;
        me->ctr.copy_ops += ops;
        me->ctr.copy_bytes += bytes;
        me->ctr.copy_pins += pins;
        sim_unlock(sim);
    }
    return 0;
}
