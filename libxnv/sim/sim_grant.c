/* Grant sharing (gntalloc) and mapping (gntdev), revocation, and what a
 * domain's death does to its grants and mappings.
 *
 * A grant's page is freed only when all of these hold: access was ended
 * (unshare, revoke or death), the owner's share region is gone, no grantee
 * maps it and no copy has it pinned.  Until then the page stays valid for
 * whoever still holds it, as with Linux's deferred grant release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "sim_internal.h"

/* Reserves n pages of address space to map grants into. */
static char *reserve(unsigned n)
{
    void *p = mmap(NULL, (size_t)n * XNV_PAGE_SIZE, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static int map_page(char *at, const struct sim_dom *owner, uint32_t page, bool writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *p = mmap(at, XNV_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, owner->memfd,
                   (off_t)page * XNV_PAGE_SIZE);
    return p == MAP_FAILED ? -errno : 0;
}

static struct sim_region *region_new(int kind, unsigned n, xnv_domid_t peer)
{
    struct sim_region *r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->refs[0]));
    if (r) {
        r->kind = kind;
        r->n = n;
        r->peer = peer;
    }
    return r;
}

/* Unlinks and returns the region of kind at addr spanning exactly n pages. */
static struct sim_region *region_take(struct sim_dom *d, int kind, const void *addr, unsigned n)
{
    for (struct sim_region **pp = &d->regions; *pp; pp = &(*pp)->next) {
        struct sim_region *r = *pp;
        if (r->kind == kind && r->addr == addr && r->n == n) {
            *pp = r->next;
            return r;
        }
    }
    return NULL;
}

/* Ends access of a grant of d that leaves its owner's share region. */
static bool unshare_one(struct sim_dom *d, xnv_gref_t ref)
{
    struct sim_grant *g = sim_grant_lookup(d, ref);
    if (!g || !g->shared)
        return false;
    g->shared = false;
    d->shared_pages--;
    if (g->state == GNT_ACTIVE)
        g->state = GNT_ENDED;
    bool busy = g->maps || g->pins;
    sim_grant_maybe_free(d, ref);
    return busy;
}

/* Drops one mapping held on a grant of o. */
static void unmap_one(struct sim_dom *o, xnv_gref_t ref)
{
    struct sim_grant *g = sim_grant_lookup(o, ref);
    if (g && g->maps) {
        g->maps--;
        sim_grant_maybe_free(o, ref);
    }
}

/* The end of a share or a map: unlock, and on failure release the
 * half-built region and report err. */
static void *region_done(struct sim_hv *h, struct sim_region *r, unsigned n, int err)
{
    sim_unlock(h->sim);
    if (err) {
        if (r && r->addr)
            munmap(r->addr, (size_t)n * XNV_PAGE_SIZE);
        free(r);
        errno = err;
        return NULL;
    }
    return r->addr;
}

void *sim_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n, xnv_gref_t *refs, bool writable)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct sim_dom *d = h->dom;
    struct sim_region *r = NULL;
    unsigned done = 0;
    int err = 0;

    sim_lock(h->sim);
    if (!d->alive) {
        err = ESRCH;
        goto out;
    }
    if (n > d->share_limit || d->shared_pages > d->share_limit - n) {
        err = ENOSPC;
        goto out;
    }
    if (!(r = region_new(REGION_SHARE, n, dom)) || !(r->addr = reserve(n))) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    for (; done < n; done++) {
        xnv_gref_t ref;
        uint32_t page;
        int rc = sim_ref_alloc(d, &ref);
        if (rc == 0 && (rc = sim_page_alloc(d, &page)) < 0)
            d->free_refs[d->nfree_refs++] = ref;
        if (rc < 0) {
            err = -rc;
            break;
        }
        d->gnt[ref] = (struct sim_grant){ .state = GNT_ACTIVE, .readonly = !writable,
                                          .shared = true, .grantee = dom, .page = page };
        d->shared_pages++;
        r->refs[done] = ref;
        if ((rc = map_page(r->addr + (size_t)done * XNV_PAGE_SIZE, d, page, true)) < 0) {
            done++;
            err = -rc;
            break;
        }
    }
    if (err) {
        for (unsigned i = 0; i < done; i++)
            unshare_one(d, r->refs[i]);
        goto out;
    }
    memcpy(refs, r->refs, (size_t)n * sizeof(*refs));
    r->next = d->regions;
    d->regions = r;
out:
    return region_done(h, r, n, err);
}

/* Also releases the address space of a destroyed domain's regions. */
int sim_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct sim_dom *d = h->dom;
    bool busy = false;

    sim_lock(h->sim);
    struct sim_region *r = region_take(d, REGION_SHARE, addr, n);
    if (!r) {
        sim_unlock(h->sim);
        return -EINVAL;
    }
    munmap(r->addr, (size_t)n * XNV_PAGE_SIZE);
    if (!r->detached)
        for (unsigned i = 0; i < n; i++)
            busy |= unshare_one(d, r->refs[i]);
    sim_unlock(h->sim);
    free(r);
    return busy ? -EBUSY : 0;
}

/* errno: ESRCH unknown domain, EINVAL ref not granted, EPERM granted to
 * somebody else, EACCES read-only grant mapped writable. */
void *sim_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs, unsigned n, bool writable)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct sim_dom *me = h->dom, *o;
    struct sim_region *r = NULL;
    int err = 0;

    sim_lock(h->sim);
    if (!me->alive || !(o = sim_dom_alive(h->sim, dom))) {
        err = ESRCH;
        goto out;
    }
    if (n > SIM_GNT_MAX_ENTRIES) {
        err = EINVAL;
        goto out;
    }
    for (unsigned i = 0; i < n && !err; i++) {
        const struct sim_grant *g = sim_grant_lookup(o, refs[i]);
        if (!g || g->state != GNT_ACTIVE)
            err = EINVAL;
        else if (g->grantee != me->id)
            err = EPERM;
        else if (writable && g->readonly)
            err = EACCES;
    }
    if (err)
        goto out;
    if (!(r = region_new(REGION_MAP, n, dom)) || !(r->addr = reserve(n))) {
        err = errno ? errno : ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        int rc = map_page(r->addr + (size_t)i * XNV_PAGE_SIZE, o, o->gnt[refs[i]].page, writable);
        if (rc < 0) {
            err = -rc;
            goto out;
        }
    }
    for (unsigned i = 0; i < n; i++)
        o->gnt[refs[i]].maps++;
    memcpy(r->refs, refs, (size_t)n * sizeof(*refs));
    r->next = me->regions;
    me->regions = r;
    me->ctr.maps += n;
out:
    return region_done(h, r, n, err);
}

int sim_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n)
{
    struct sim_hv *h = sim_hv_of(hv);

    sim_lock(h->sim);
    struct sim_region *r = region_take(h->dom, REGION_MAP, addr, n);
    if (!r) {
        sim_unlock(h->sim);
        return -EINVAL;
    }
    munmap(r->addr, (size_t)n * XNV_PAGE_SIZE);
    if (!r->detached) {
        struct sim_dom *o = sim_dom_get(h->sim, r->peer);
        for (unsigned i = 0; i < n; i++)
            unmap_one(o, r->refs[i]);
    }
    sim_unlock(h->sim);
    free(r);
    return 0;
}

/* A hostile owner ends access behind everybody's back.  Like real Xen, a
 * copy already holding the grant pinned completes; every later copy or map
 * of it fails.  The page stays the owner's until it unshares. */
int xnv_sim_gnt_revoke(struct xnv_sim *sim, xnv_domid_t owner, xnv_gref_t ref)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, owner);
    struct sim_grant *g = sim_grant_lookup(d, ref);
    int rc = -ESRCH;
    if (d) {
        rc = -EINVAL;
        if (g && g->state == GNT_ACTIVE) {
            g->state = GNT_ENDED;
            sim_grant_maybe_free(d, ref);
            rc = 0;
        }
    }
    sim_unlock(sim);
    return rc;
}

/* Lock held.  The dead domain's own mappings are swapped for private
 * anonymous memory at the same address: code still running "inside" it
 * cannot fault, and it no longer touches anybody's pages.  Then every grant
 * of it is ended; pages others still map stay until they let go. */
void sim_grant_domain_destroyed(struct xnv_sim *sim, struct sim_dom *d)
{
    for (struct sim_region *r = d->regions; r; r = r->next) {
        if (r->detached)
            continue;
        mmap(r->addr, (size_t)r->n * XNV_PAGE_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        r->detached = true;
        if (r->kind == REGION_SHARE) {
            for (unsigned i = 0; i < r->n; i++) {
                struct sim_grant *g = sim_grant_lookup(d, r->refs[i]);
                if (g && g->shared) {
                    g->shared = false;
                    d->shared_pages--;
                }
            }
        } else {
            struct sim_dom *o = sim_dom_get(sim, r->peer);
            for (unsigned i = 0; i < r->n; i++)
                unmap_one(o, r->refs[i]);
        }
    }
    /* sim_grant_maybe_free() may release the table: re-read it each turn. */
    for (xnv_gref_t ref = 0; ref < d->gnt_cap; ref++) {
        if (d->gnt[ref].state == GNT_ACTIVE)
            d->gnt[ref].state = GNT_ENDED;
        sim_grant_maybe_free(d, ref);
    }
    if (d->live_pages == 0)
        sim_mem_release(d);
}

void sim_regions_free_all(struct sim_dom *d)
{
    while (d->regions) {
        struct sim_region *r = d->regions;
        d->regions = r->next;
        munmap(r->addr, (size_t)r->n * XNV_PAGE_SIZE);
        free(r);
    }
}
