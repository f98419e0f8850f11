/* Real Xen: domain information.
 *
 * With the privilege to ask the hypervisor (dom0, or a domain given it),
 * libxenctrl answers: existence, dying, shutdown and its reason, paused,
 * HVM.  In an ordinary domU the privcmd device may open but the domctl and
 * sysctl hypercalls fail with EPERM; there the answers come from xenstore:
 * a domain exists iff /local/domain/<id> exists, and the flags are unknown
 * and reported false.  xenstored answers EACCES both for a node we may not
 * read and for a missing node below a directory we may not read, so an
 * EACCES is settled by listing /local/domain; when that is denied too the
 * answer is -EACCES (cannot tell), and dom_list fails the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include "xen_internal.h"

#define LIST_CHUNK 64u

static void fill_from_xc(struct xnv_dominfo *o, const xc_domaininfo_t *i)
{
    memset(o, 0, sizeof *o);
    o->domid = i->domain;
    o->dying = i->flags & XEN_DOMINF_dying;
    o->shutdown = i->flags & XEN_DOMINF_shutdown;
    o->shutdown_reason = (i->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
    o->paused = i->flags & XEN_DOMINF_paused;
    o->hvm = i->flags & XEN_DOMINF_hvm_guest;
}

void xnv_xen_dom_open(struct xen_hv *x)
{
    xc_interface *xc = xc_interface_open(xnv_xen_logger(), xnv_xen_logger(), 0);
    if (!xc)
        return;
    /* Keep libxenctrl only if a domain-info hypercall actually works. */
    xc_domaininfo_t info;
    if (xc_domain_getinfolist(xc, x->base.domid, 1, &info) != 1) {
        xc_interface_close(xc);
        return;
    }
    x->xc = xc;
}

void xnv_xen_dom_close(struct xen_hv *x)
{
    if (x->xc)
        xc_interface_close(x->xc);
    x->xc = NULL;
}

/* Up to max entries starting at domid first; -errno on failure. */
static int xc_list(struct xen_hv *x, xnv_domid_t first, xc_domaininfo_t *buf, unsigned max)
{
    pthread_mutex_lock(&x->xc_lock);
    int n = xc_domain_getinfolist(x->xc, first, max, buf);
    int rc = n < 0 ? xnv_xen_neg_errno() : n;
    pthread_mutex_unlock(&x->xc_lock);
    return rc;
}

static int info_xc(struct xen_hv *x, xnv_domid_t dom, struct xnv_dominfo *out)
{
    xc_domaininfo_t info;
    int n = xc_list(x, dom, &info, 1);
    if (n < 0)
        return n;
    /* The hypervisor answers with the first domain >= dom. */
    if (n == 0 || info.domain != dom)
        return -ESRCH;
    fill_from_xc(out, &info);
    return 0;
}

static int list_xc(struct xen_hv *x, struct xnv_dominfo *out, unsigned max)
{
    xc_domaininfo_t *buf = malloc(LIST_CHUNK * sizeof *buf);
    if (!buf)
        return -ENOMEM;
    unsigned total = 0, first = 0;
    int n;
    do {
        n = xc_list(x, (xnv_domid_t)first, buf, LIST_CHUNK);
        for (int i = 0; i < n; i++, total++)
            if (total < max)
                fill_from_xc(&out[total], &buf[i]);
        if (n > 0)
            first = buf[n - 1].domain + 1u;
    } while (n == (int)LIST_CHUNK && first < DOMID_FIRST_RESERVED);
    free(buf);
    return n < 0 ? n : (int)total;
}

static int parse_domid(const char *s, xnv_domid_t *out)
{
    char *end;
    errno = 0;
    unsigned long d = strtoul(s, &end, 10);
    if (errno || end == s || *end || d >= DOMID_FIRST_RESERVED)
        return -1;
    *out = (xnv_domid_t)d;
    return 0;
}

static int cmp_domid(const void *a, const void *b)
{
    return (int)*(const xnv_domid_t *)a - (int)*(const xnv_domid_t *)b;
}

static int list_xs(struct xen_hv *x, struct xnv_dominfo *out, unsigned max)
{
    unsigned num = 0;
    char **names = xs_directory(x->xs, XBT_NULL, "/local/domain", &num);
    if (!names)
        return xnv_xen_neg_errno();
    xnv_domid_t *ids = malloc((num ? num : 1) * sizeof *ids);
    if (!ids) {
        free(names);
        return -ENOMEM;
    }
    unsigned n = 0;
    for (unsigned i = 0; i < num; i++)
        if (parse_domid(names[i], &ids[n]) == 0)
            n++;
    free(names);
    qsort(ids, n, sizeof *ids, cmp_domid);
    for (unsigned i = 0; i < n && i < max; i++) {
        memset(&out[i], 0, sizeof out[i]);
        out[i].domid = ids[i];
    }
    free(ids);
    return (int)n;
}

/* 0 when dom is listed under /local/domain, -ESRCH when not, -errno when
 * the directory cannot be read. */
static int listed_xs(struct xen_hv *x, xnv_domid_t dom)
{
    unsigned num = 0;
    char **names = xs_directory(x->xs, XBT_NULL, "/local/domain", &num);
    if (!names)
        return xnv_xen_neg_errno();
    int rc = -ESRCH;
    xnv_domid_t d;
    for (unsigned i = 0; i < num && rc; i++)
        if (parse_domid(names[i], &d) == 0 && d == dom)
            rc = 0;
    free(names);
    return rc;
}

static int info_xs(struct xen_hv *x, xnv_domid_t dom, struct xnv_dominfo *out)
{
    char path[40];
    snprintf(path, sizeof path, "/local/domain/%u", (unsigned)dom);
    char *v = xs_read(x->xs, XBT_NULL, path, NULL);
    int rc = 0;
    if (!v)
        rc = errno == ENOENT ? -ESRCH : errno == EACCES ? listed_xs(x, dom) : xnv_xen_neg_errno();
    free(v);
    if (rc == 0) {
        memset(out, 0, sizeof *out);
        out->domid = dom;
    }
    return rc;
}

int xnv_xen_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out)
{
    struct xen_hv *x = xen_hv_of(hv);
    return x->xc ? info_xc(x, dom, out) : info_xs(x, dom, out);
}

int xnv_xen_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max)
{
    struct xen_hv *x = xen_hv_of(hv);
    return x->xc ? list_xc(x, out, max) : list_xs(x, out, max);
}
