/* Real Xen: opening and closing the hypervisor handle, the library logger,
 * and the ops table that the generic wrappers (hv.c) dispatch through. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xengnttab.h>
#include <xentoollog.h>
#include "xen_internal.h"

/* ---- logger ----------------------------------------------------------- */

static void quiet_vmessage(struct xentoollog_logger *lg, xentoollog_level level,
                           int errnoval, const char *context, const char *fmt, va_list ap)
{
    (void)lg;
    int saved = errno;
    if (getenv("XNV_XEN_LOG") && level >= XTL_WARN) {
        char line[512];
        vsnprintf(line, sizeof line, fmt, ap);
        fprintf(stderr, "xnv-xen: %s: %s%s%s\n", context ? context : "xen", line,
                errnoval >= 0 ? ": " : "", errnoval >= 0 ? strerror(errnoval) : "");
    }
    errno = saved;
}

static void quiet_destroy(struct xentoollog_logger *lg) { (void)lg; }

static struct xentoollog_logger quiet_logger = {
    .vmessage = quiet_vmessage,
    .progress = NULL,
    .destroy = quiet_destroy,
};

struct xentoollog_logger *xnv_xen_logger(void) { return &quiet_logger; }

int xnv_xen_neg_errno(void) { return errno > 0 ? -errno : -EIO; }

/* ---- lifetime ---------------------------------------------------------- */

static void xen_close(struct xnv_hv *hv)
{
    struct xen_hv *x = xen_hv_of(hv);
    xnv_xen_dom_close(x);
    xnv_xen_gnt_close_shr(x);
    if (x->xs)
        xs_close(x->xs);
    if (x->gnt)
        xengnttab_close(x->gnt);
    pthread_mutex_destroy(&x->shr_lock);
    pthread_mutex_destroy(&x->xc_lock);
    free(x);
}

static const struct xnv_hv_ops xen_ops = {
    .kind = "xen",
    .close = xen_close,
    .gnt_copy = xnv_xen_gnt_copy,
    .gnt_map = xnv_xen_gnt_map,
    .gnt_unmap = xnv_xen_gnt_unmap,
    .gnt_share = xnv_xen_gnt_share,
    .gnt_unshare = xnv_xen_gnt_unshare,
    .evtchn_open = xnv_xen_evtchn_open,
    .evtchn_close = xnv_xen_evtchn_close,
    .evtchn_fd = xnv_xen_evtchn_fd,
    .evtchn_bind_unbound = xnv_xen_evtchn_bind_unbound,
    .evtchn_bind_interdomain = xnv_xen_evtchn_bind_interdomain,
    .evtchn_unbind = xnv_xen_evtchn_unbind,
    .evtchn_notify = xnv_xen_evtchn_notify,
    .evtchn_pending = xnv_xen_evtchn_pending,
    .evtchn_unmask = xnv_xen_evtchn_unmask,
    .evtchn_stale = xnv_xen_evtchn_stale,
    .xs_read = xnv_xen_xs_read,
    .xs_write = xnv_xen_xs_write,
    .xs_mkdir = xnv_xen_xs_mkdir,
    .xs_rm = xnv_xen_xs_rm,
    .xs_directory = xnv_xen_xs_directory,
    .xs_get_perms = xnv_xen_xs_get_perms,
    .xs_set_perms = xnv_xen_xs_set_perms,
    .xs_watch = xnv_xen_xs_watch,
    .xs_unwatch = xnv_xen_xs_unwatch,
    .xs_watch_fd = xnv_xen_xs_watch_fd,
    .xs_read_watch = xnv_xen_xs_read_watch,
    .xs_tx_start = xnv_xen_xs_tx_start,
    .xs_tx_end = xnv_xen_xs_tx_end,
    .xs_domain_path = xnv_xen_xs_domain_path,
    .dom_info = xnv_xen_dom_info,
    .dom_list = xnv_xen_dom_list,
};

static struct xen_hv *xen_alloc(void)
{
    struct xen_hv *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->base.ops = &xen_ops;
    pthread_mutex_init(&x->shr_lock, NULL);
    pthread_mutex_init(&x->xc_lock, NULL);
    return x;
}

static int open_xenstore(struct xen_hv *x, char *err, size_t errlen)
{
    x->xs = xs_open(0);
    if (!x->xs) {
        snprintf(err, errlen, "cannot connect to xenstore: %s (is xenstored running in "
                 "dom0 / xenfs mounted and /dev/xen/xenbus present in a domU?)",
                 strerror(errno ? errno : ENODEV));
        return -1;
    }
    int rc = xnv_xen_xs_own_domid(x->xs, &x->base.domid);
    if (rc < 0) {
        snprintf(err, errlen, "cannot read own domid from xenstore (relative node "
                 "\"domid\"): %s", strerror(-rc));
        return -1;
    }
    return 0;
}

struct xnv_hv *xnv_hv_open_xen(char *err, size_t errlen)
{
    char dummy[1];
    if (!err || errlen == 0) {
        err = dummy;
        errlen = sizeof dummy;
    }
    struct xen_hv *x = xen_alloc();
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* gntdev (grant copy and map) is opened on first use: a guest that only
     * shares pages (a frontend) needs gntalloc, not gntdev. */
    if (open_xenstore(x, err, errlen) < 0) {
        int saved = errno;
        xen_close(&x->base);
        errno = saved;
        return NULL;
    }
    xnv_xen_dom_open(x);
    return &x->base;
}

int xnv_hv_xen_backend_check(char *err, size_t errlen)
{
    xengnttab_handle *g = xengnttab_open(xnv_xen_logger(), 0);
    if (!g) {
        snprintf(err, errlen, "cannot open /dev/xen/gntdev: %s (load it: modprobe xen-gntdev)", strerror(errno));
        return -1;
    }
    xengnttab_close(g);
    xenevtchn_handle *e = xenevtchn_open(xnv_xen_logger(), 0);
    if (!e) {
        snprintf(err, errlen, "cannot open /dev/xen/evtchn: %s (load it: modprobe xen-evtchn)", strerror(errno));
        return -1;
    }
    xenevtchn_close(e);
    return 0;
}
