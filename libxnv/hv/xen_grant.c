/* Real Xen: grant copy and map through libxengnttab (/dev/xen/gntdev) and
 * page sharing through libxengntshr (/dev/xen/gntalloc). */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include "xen_internal.h"

/* ---- grant copy -------------------------------------------------------- */

/* What gntdev refuses with EINVAL.  gntdev checks segment by segment while it
 * copies, so a bad segment late in a long batch would fail the call after
 * earlier ones were done; checking all of them first makes the call all or
 * nothing, exactly as the simulation behaves.  gntdev also refuses a
 * segment with no grant side at all (a local-to-local copy). */
/* libxengnttab's handle, opened on first use (double-checked: the grant
 * copy path reads it without the lock once it exists). */
static xengnttab_handle *gnt_handle(struct xen_hv *x)
{
    xengnttab_handle *h = __atomic_load_n(&x->gnt, __ATOMIC_ACQUIRE);
    if (h)
        return h;
    pthread_mutex_lock(&x->shr_lock);
    if (!x->gnt)
        __atomic_store_n(&x->gnt, xengnttab_open(xnv_xen_logger(), 0), __ATOMIC_RELEASE);
    h = x->gnt;
    int saved = errno;
    pthread_mutex_unlock(&x->shr_lock);
    errno = h ? 0 : (saved ? saved : ENODEV);
    return h;
}

static bool seg_malformed(const xengnttab_grant_copy_segment_t *s)
{
    if (s->len == 0)
        return true;
    if (!(s->flags & (GNTCOPY_source_gref | GNTCOPY_dest_gref)))
        return true;
    if ((s->flags & GNTCOPY_source_gref) &&
        (unsigned)s->source.foreign.offset + s->len > XNV_PAGE_SIZE)
        return true;
    if ((s->flags & GNTCOPY_dest_gref) &&
        (unsigned)s->dest.foreign.offset + s->len > XNV_PAGE_SIZE)
        return true;
    return false;
}

int xnv_xen_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (seg_malformed(&segs[i]))
            return -EINVAL;
    xengnttab_handle *gh = gnt_handle(xen_hv_of(hv));
    if (!gh)
        return xnv_xen_neg_errno();
    /* One ioctl for the whole batch; gntdev splits it into hypercalls of
     * XNV_GNT_COPY_PER_HYPERCALL operations and fills every status. */
    if (xengnttab_grant_copy(gh, n, segs) != 0)
        return xnv_xen_neg_errno();
    return 0;
}

/* ---- grant map --------------------------------------------------------- */

void *xnv_xen_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs,
                      unsigned n, bool writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    xengnttab_handle *gh = gnt_handle(xen_hv_of(hv));
    if (!gh)
        return NULL;
    /* libxengnttab only reads refs; its prototype is not const. */
    return xengnttab_map_domain_grant_refs(gh, n, dom,
                                           (uint32_t *)refs, prot);
}

int xnv_xen_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n)
{
    xengnttab_handle *gh = gnt_handle(xen_hv_of(hv));
    if (!addr || n == 0 || !gh)
        return -EINVAL;
    if (xengnttab_unmap(gh, addr, n) != 0)
        return xnv_xen_neg_errno();
    return 0;
}

/* ---- grant share ------------------------------------------------------- */

/* The gntalloc handle, opened on first use.  NULL + errno when the device
 * is missing (typical in a dom0 that did not load xen-gntalloc). */
static xengntshr_handle *shr_handle(struct xen_hv *x)
{
    pthread_mutex_lock(&x->shr_lock);
    if (!x->shr) {
        x->shr = xengntshr_open(xnv_xen_logger(), 0);
        x->shr_errno = x->shr ? 0 : (errno ? errno : ENODEV);
    }
    xengntshr_handle *h = x->shr;
    int e = x->shr_errno;
    pthread_mutex_unlock(&x->shr_lock);
    if (!h)
        errno = e;
    return h;
}

void *xnv_xen_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n,
                        xnv_gref_t *refs_out, bool writable)
{
    if (n > INT_MAX / XNV_PAGE_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    xengntshr_handle *h = shr_handle(xen_hv_of(hv));
    if (!h)
        return NULL;
    void *p = xengntshr_share_pages(h, dom, (int)n, refs_out, writable);
    if (!p)
        return NULL;
    /* gntalloc hands out zeroed pages already; the API promises it, and
     * clearing them here costs little next to the ioctl and mmap. */
    memset(p, 0, (size_t)n * XNV_PAGE_SIZE);
    return p;
}

int xnv_xen_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n)
{
    struct xen_hv *x = xen_hv_of(hv);
    pthread_mutex_lock(&x->shr_lock);
    xengntshr_handle *h = x->shr;
    pthread_mutex_unlock(&x->shr_lock);
    if (!h || !addr || n == 0)
        return -EINVAL;
    /* Unmapping drops our reference.  When the peer still maps a page the
     * kernel ends the grant and frees the page later, on its own: from the
     * caller's side the release is complete, hence 0 and never -EBUSY. */
    if (xengntshr_unshare(h, addr, n) != 0)
        return xnv_xen_neg_errno();
    return 0;
}

void xnv_xen_gnt_close_shr(struct xen_hv *x)
{
    if (x->shr)
        xengntshr_close(x->shr);
    x->shr = NULL;
}
