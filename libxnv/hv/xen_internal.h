/* Private to the real-Xen implementation of the hypervisor interface
 * (xen_*.c): the handle layout and the functions behind its ops table. */
#ifndef XNV_XEN_INTERNAL_H
#define XNV_XEN_INTERNAL_H

#include <pthread.h>
#include <xenevtchn.h>
#include "hv_impl.h"

struct xc_interface_core;           /* libxenctrl's handle (xenctrl.h) */
struct xentoollog_logger;

struct xen_hv {
    struct xnv_hv base;             /* first: the generic wrappers see this */
    xengnttab_handle *gnt;          /* /dev/xen/gntdev: copy and map */
    struct xs_handle *xs;           /* xenstored socket or /dev/xen/xenbus */

    /* /dev/xen/gntalloc, opened on first share: dom0 often runs without
     * xen-gntalloc, and only a frontend needs it. */
    pthread_mutex_t shr_lock;
    xengntshr_handle *shr;
    int shr_errno;                  /* why the last open failed, or 0 */

    /* libxenctrl, kept only when domain-info hypercalls work (dom0 or a
     * domain with the privilege); NULL means "answer from xenstore". */
    pthread_mutex_t xc_lock;
    struct xc_interface_core *xc;
};

struct xen_evtchn {
    struct xnv_evtchn base;         /* first: the generic wrappers see this */
    xenevtchn_handle *xe;
    int fd;
    struct xen_hv *x;
    xnv_domid_t domid;              /* this domain's id when opened */
    bool stale;                     /* a restore or migration came since */
};

static inline struct xen_hv *xen_hv_of(struct xnv_hv *hv)
{
    return (struct xen_hv *)hv;
}

/* A logger for the Xen libraries: silent unless XNV_XEN_LOG is set in the
 * environment (then it prints to stderr).  Errors reach callers as -errno. */
struct xentoollog_logger *xnv_xen_logger(void);
/* errno as a negative return value, never 0 (EIO when errno was not set). */
int xnv_xen_neg_errno(void);

/* xen_grant.c */
int xnv_xen_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n);
void *xnv_xen_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs,
                      unsigned n, bool writable);
int xnv_xen_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n);
void *xnv_xen_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n,
                        xnv_gref_t *refs_out, bool writable);
int xnv_xen_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n);
void xnv_xen_gnt_close_shr(struct xen_hv *x);

/* xen_evtchn.c */
struct xnv_evtchn *xnv_xen_evtchn_open(struct xnv_hv *hv);
void xnv_xen_evtchn_close(struct xnv_evtchn *ch);
int xnv_xen_evtchn_fd(const struct xnv_evtchn *ch);
int xnv_xen_evtchn_bind_unbound(struct xnv_evtchn *ch, xnv_domid_t remote);
int xnv_xen_evtchn_bind_interdomain(struct xnv_evtchn *ch, xnv_domid_t remote,
                                    xnv_port_t rport);
int xnv_xen_evtchn_unbind(struct xnv_evtchn *ch, xnv_port_t port);
int xnv_xen_evtchn_notify(struct xnv_evtchn *ch, xnv_port_t port);
int xnv_xen_evtchn_pending(struct xnv_evtchn *ch);
int xnv_xen_evtchn_unmask(struct xnv_evtchn *ch, xnv_port_t port);
bool xnv_xen_evtchn_stale(struct xnv_evtchn *ch);

/* xen_xenstore.c */
char *xnv_xen_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len);
int xnv_xen_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const void *val, unsigned len);
int xnv_xen_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
int xnv_xen_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
char **xnv_xen_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                            unsigned *num);
struct xs_permissions *xnv_xen_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx,
                                            const char *path, unsigned *num);
int xnv_xen_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                         const struct xs_permissions *perms, unsigned num);
int xnv_xen_xs_watch(struct xnv_hv *hv, const char *path, const char *token);
int xnv_xen_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token);
int xnv_xen_xs_watch_fd(struct xnv_hv *hv);
char **xnv_xen_xs_read_watch(struct xnv_hv *hv);
int xnv_xen_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *tx);
int xnv_xen_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort);
char *xnv_xen_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom);
/* Own domid from the relative node "domid"; -errno on failure. */
int xnv_xen_xs_own_domid(struct xs_handle *xs, xnv_domid_t *out);

/* xen_domain.c */
void xnv_xen_dom_open(struct xen_hv *x);     /* best effort: may leave x->xc NULL */
void xnv_xen_dom_close(struct xen_hv *x);
int xnv_xen_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out);
int xnv_xen_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max);

#endif
