/* Private: the dispatch table behind struct xnv_hv.  Each implementation
 * embeds struct xnv_hv as its first member and fills one ops table. */
#ifndef XNV_HV_IMPL_H
#define XNV_HV_IMPL_H

#include "xnv/hv.h"

struct xnv_hv_ops {
    const char *kind;
    void (*close)(struct xnv_hv *hv);
    int (*gnt_copy)(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n);
    void *(*gnt_map)(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs,
                     unsigned n, bool writable);
    int (*gnt_unmap)(struct xnv_hv *hv, void *addr, unsigned n);
    void *(*gnt_share)(struct xnv_hv *hv, xnv_domid_t dom, unsigned n,
                       xnv_gref_t *refs_out, bool writable);
    int (*gnt_unshare)(struct xnv_hv *hv, void *addr, unsigned n);

    struct xnv_evtchn *(*evtchn_open)(struct xnv_hv *hv);
    void (*evtchn_close)(struct xnv_evtchn *ch);
    int (*evtchn_fd)(const struct xnv_evtchn *ch);
    int (*evtchn_bind_unbound)(struct xnv_evtchn *ch, xnv_domid_t remote);
    int (*evtchn_bind_interdomain)(struct xnv_evtchn *ch, xnv_domid_t remote, xnv_port_t rport);
    int (*evtchn_unbind)(struct xnv_evtchn *ch, xnv_port_t port);
    int (*evtchn_notify)(struct xnv_evtchn *ch, xnv_port_t port);
    int (*evtchn_pending)(struct xnv_evtchn *ch);
    int (*evtchn_unmask)(struct xnv_evtchn *ch, xnv_port_t port);
    bool (*evtchn_stale)(struct xnv_evtchn *ch);

    char *(*xs_read)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len);
    int (*xs_write)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, const void *val, unsigned len);
    int (*xs_mkdir)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
    int (*xs_rm)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
    char **(*xs_directory)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num);
    struct xs_permissions *(*xs_get_perms)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num);
    int (*xs_set_perms)(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                        const struct xs_permissions *perms, unsigned num);
    int (*xs_watch)(struct xnv_hv *hv, const char *path, const char *token);
    int (*xs_unwatch)(struct xnv_hv *hv, const char *path, const char *token);
    int (*xs_watch_fd)(struct xnv_hv *hv);
    char **(*xs_read_watch)(struct xnv_hv *hv);
    int (*xs_tx_start)(struct xnv_hv *hv, xnv_xs_tx_t *tx);
    int (*xs_tx_end)(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort);
    char *(*xs_domain_path)(struct xnv_hv *hv, xnv_domid_t dom);

    int (*dom_info)(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out);
    int (*dom_list)(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max);
};

struct xnv_hv {
    const struct xnv_hv_ops *ops;
    xnv_domid_t domid;
};

/* Every event-channel handle starts with this, so the generic wrappers can
 * find the ops of the hypervisor it came from. */
struct xnv_evtchn {
    const struct xnv_hv_ops *ops;
};

#endif
