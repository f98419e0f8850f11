/* Real Xen: xenstore through libxenstore.  The library is thread-safe; it
 * starts its own reader thread at the first watch, and relative paths are
 * resolved by xenstored against the caller's /local/domain/<domid>. */
#include <errno.h>
#include <stdlib.h>
#include "xen_internal.h"
#include <xen/xen.h>                /* DOMID_FIRST_RESERVED */

static struct xs_handle *xs_of(struct xnv_hv *hv) { return xen_hv_of(hv)->xs; }

static int ok_or_errno(bool ok) { return ok ? 0 : xnv_xen_neg_errno(); }

char *xnv_xen_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len)
{
    unsigned l = 0;
    char *v = xs_read(xs_of(hv), tx, path, &l);   /* NUL-terminated by the library */
    if (v && len)
        *len = l;
    return v;
}

int xnv_xen_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const void *val, unsigned len)
{
    return ok_or_errno(xs_write(xs_of(hv), tx, path, val, len));
}

int xnv_xen_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path)
{
    return ok_or_errno(xs_mkdir(xs_of(hv), tx, path));
}

int xnv_xen_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path)
{
    return ok_or_errno(xs_rm(xs_of(hv), tx, path));
}

char **xnv_xen_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                            unsigned *num)
{
    unsigned n = 0;
    char **v = xs_directory(xs_of(hv), tx, path, &n);
    if (v && num)
        *num = n;
    return v;
}

struct xs_permissions *xnv_xen_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx,
                                            const char *path, unsigned *num)
{
    unsigned n = 0;
    struct xs_permissions *p = xs_get_permissions(xs_of(hv), tx, path, &n);
    if (p && num)
        *num = n;
    return p;
}

int xnv_xen_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                         const struct xs_permissions *perms, unsigned num)
{
    if (!perms || num == 0)
        return -EINVAL;
    /* libxenstore only reads perms; its prototype is not const. */
    return ok_or_errno(xs_set_permissions(xs_of(hv), tx, path,
                                          (struct xs_permissions *)perms, num));
}

int xnv_xen_xs_watch(struct xnv_hv *hv, const char *path, const char *token)
{
    return ok_or_errno(xs_watch(xs_of(hv), path, token));
}

int xnv_xen_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token)
{
    return ok_or_errno(xs_unwatch(xs_of(hv), path, token));
}

int xnv_xen_xs_watch_fd(struct xnv_hv *hv)
{
    int fd = xs_fileno(xs_of(hv));
    return fd < 0 ? xnv_xen_neg_errno() : fd;
}

char **xnv_xen_xs_read_watch(struct xnv_hv *hv)
{
    /* Never blocks: NULL (errno EAGAIN) when nothing is queued. */
    return xs_check_watch(xs_of(hv));
}

int xnv_xen_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *tx)
{
    xs_transaction_t t = xs_transaction_start(xs_of(hv));
    if (t == XBT_NULL)
        return xnv_xen_neg_errno();
    *tx = t;
    return 0;
}

int xnv_xen_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort)
{
    if (tx == XNV_XS_NO_TX)
        return -EINVAL;
    /* A commit that lost against a concurrent change fails with EAGAIN. */
    return ok_or_errno(xs_transaction_end(xs_of(hv), tx, abort));
}

char *xnv_xen_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom)
{
    return xs_get_domain_path(xs_of(hv), dom);
}

int xnv_xen_xs_own_domid(struct xs_handle *xs, xnv_domid_t *out)
{
    unsigned len = 0;
    char *v = xs_read(xs, XBT_NULL, "domid", &len);
    if (!v)
        return xnv_xen_neg_errno();
    char *end;
    errno = 0;
    unsigned long d = strtoul(v, &end, 10);
    int rc = (errno || end == v || *end || d >= DOMID_FIRST_RESERVED) ? -EINVAL : 0;
    free(v);
    if (rc == 0)
        *out = (xnv_domid_t)d;
    return rc;
}
