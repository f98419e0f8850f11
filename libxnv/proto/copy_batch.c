/* Grant-copy batches (see copy_batch.h). */
#include <errno.h>
#include <stdlib.h>
#include "xnv/copy_batch.h"

int xnv_copy_batch_init(struct xnv_copy_batch *b, unsigned cap)
{
    b->seg = calloc(cap, sizeof *b->seg);
    b->pkt = calloc(cap, sizeof *b->pkt);
    b->n = b->n_own = 0;
    b->cap = cap;
    b->own = NULL;
    if (!b->seg || !b->pkt) {
        xnv_copy_batch_free(b);
        return -ENOMEM;
    }
    return 0;
}

void xnv_copy_batch_free(struct xnv_copy_batch *b)
{
    free(b->seg);
    free(b->pkt);
    b->seg = NULL;
    b->pkt = NULL;
    b->n = b->cap = 0;
}

static xengnttab_grant_copy_segment_t *next(struct xnv_copy_batch *b, uint16_t pkt)
{
    if (b->n == b->cap)
        return NULL;
    b->pkt[b->n] = pkt;
    xengnttab_grant_copy_segment_t *s = &b->seg[b->n++];
    s->status = GNTST_general_error;   /* until the hypervisor says otherwise */
    return s;
}

/* Names a local range within b's own grants as that grant in *side; false
 * when it is outside them or crosses a page (gntdev cuts an address side at
 * page edges; a grant side must stay within its page). */
static bool own_side(struct xnv_copy_batch *b, const void *p, uint16_t len, union xengnttab_copy_ptr *side)
{
    const struct xnv_self_grants *g = b->own;
    if (!g)
        return false;
    uintptr_t a = (uintptr_t)p, base = (uintptr_t)g->base;
    if (a < base || a - base >= (uintptr_t)g->pages * XNV_PAGE_SIZE)
        return false;
    size_t o = a - base;
    if (o % XNV_PAGE_SIZE + len > XNV_PAGE_SIZE)
        return false;
    side->foreign.ref = g->refs[o / XNV_PAGE_SIZE];
    side->foreign.domid = g->self;
    side->foreign.offset = (uint16_t)(o % XNV_PAGE_SIZE);
    b->n_own++;
    return true;
}

bool xnv_copy_from_gref(struct xnv_copy_batch *b, xnv_domid_t dom, xnv_gref_t ref,
                        uint16_t offset, uint16_t len, void *dst, uint16_t pkt)
{
    xengnttab_grant_copy_segment_t *s = next(b, pkt);
    if (!s)
        return false;
    s->source.foreign.ref = ref;
    s->source.foreign.domid = dom;
    s->source.foreign.offset = offset;
    s->len = len;
    if (own_side(b, dst, len, &s->dest)) {
        s->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    } else {
        s->dest.virt = dst;
        s->flags = GNTCOPY_source_gref;
    }
    return true;
}

bool xnv_copy_to_gref(struct xnv_copy_batch *b, const void *src, xnv_domid_t dom,
                      xnv_gref_t ref, uint16_t offset, uint16_t len, uint16_t pkt)
{
    xengnttab_grant_copy_segment_t *s = next(b, pkt);
    if (!s)
        return false;
    s->dest.foreign.ref = ref;
    s->dest.foreign.domid = dom;
    s->dest.foreign.offset = offset;
    s->len = len;
    if (own_side(b, src, len, &s->source)) {
        s->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    } else {
        s->source.virt = (void *)src;   /* the library's type is not const-qualified */
        s->flags = GNTCOPY_dest_gref;
    }
    return true;
}

bool xnv_copy_gref_to_gref(struct xnv_copy_batch *b,
                           xnv_domid_t sdom, xnv_gref_t sref, uint16_t soff,
                           xnv_domid_t ddom, xnv_gref_t dref, uint16_t doff,
                           uint16_t len, uint16_t pkt)
{
    xengnttab_grant_copy_segment_t *s = next(b, pkt);
    if (!s)
        return false;
    s->source.foreign.ref = sref;
    s->source.foreign.domid = sdom;
    s->source.foreign.offset = soff;
    s->dest.foreign.ref = dref;
    s->dest.foreign.domid = ddom;
    s->dest.foreign.offset = doff;
    s->len = len;
    s->flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    return true;
}

void xnv_copy_batch_failures(const struct xnv_copy_batch *b, bool *failed, unsigned npkts)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->seg[i].status != GNTST_okay && b->pkt[i] < npkts)
            failed[b->pkt[i]] = true;
}
