/* The public hypervisor API: thin dispatch to the implementation behind the
 * handle (real Xen or the simulation). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "hv_impl.h"

void xnv_hv_close(struct xnv_hv *hv) { if (hv) hv->ops->close(hv); }
xnv_domid_t xnv_hv_domid(const struct xnv_hv *hv) { return hv->domid; }
const char *xnv_hv_kind(const struct xnv_hv *hv) { return hv->ops->kind; }

int xnv_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n)
{
    return n ? hv->ops->gnt_copy(hv, segs, n) : 0;
}
void *xnv_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs, unsigned n, bool writable)
{
    if (n == 0) { errno = EINVAL; return NULL; }
    return hv->ops->gnt_map(hv, dom, refs, n, writable);
}
int xnv_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n) { return hv->ops->gnt_unmap(hv, addr, n); }
void *xnv_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n, xnv_gref_t *refs_out, bool writable)
{
    if (n == 0) { errno = EINVAL; return NULL; }
    return hv->ops->gnt_share(hv, dom, n, refs_out, writable);
}
int xnv_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n) { return hv->ops->gnt_unshare(hv, addr, n); }

struct xnv_evtchn *xnv_evtchn_open(struct xnv_hv *hv) { return hv->ops->evtchn_open(hv); }
void xnv_evtchn_close(struct xnv_evtchn *ch) { if (ch) ch->ops->evtchn_close(ch); }
int xnv_evtchn_fd(const struct xnv_evtchn *ch) { return ch->ops->evtchn_fd(ch); }
int xnv_evtchn_bind_unbound(struct xnv_evtchn *ch, xnv_domid_t remote)
{
    return ch->ops->evtchn_bind_unbound(ch, remote);
}
int xnv_evtchn_bind_interdomain(struct xnv_evtchn *ch, xnv_domid_t remote, xnv_port_t rport)
{
    return ch->ops->evtchn_bind_interdomain(ch, remote, rport);
}
int xnv_evtchn_unbind(struct xnv_evtchn *ch, xnv_port_t port) { return ch->ops->evtchn_unbind(ch, port); }
int xnv_evtchn_notify(struct xnv_evtchn *ch, xnv_port_t port) { return ch->ops->evtchn_notify(ch, port); }
int xnv_evtchn_pending(struct xnv_evtchn *ch) { return ch->ops->evtchn_pending(ch); }
int xnv_evtchn_unmask(struct xnv_evtchn *ch, xnv_port_t port) { return ch->ops->evtchn_unmask(ch, port); }
bool xnv_evtchn_stale(struct xnv_evtchn *ch) { return ch->ops->evtchn_stale(ch); }

char *xnv_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len)
{
    return hv->ops->xs_read(hv, tx, path, len);
}
int xnv_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, const void *val, unsigned len)
{
    return hv->ops->xs_write(hv, tx, path, val, len);
}
int xnv_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path) { return hv->ops->xs_mkdir(hv, tx, path); }
int xnv_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path) { return hv->ops->xs_rm(hv, tx, path); }
char **xnv_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num)
{
    return hv->ops->xs_directory(hv, tx, path, num);
}
struct xs_permissions *xnv_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num)
{
    return hv->ops->xs_get_perms(hv, tx, path, num);
}
int xnv_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const struct xs_permissions *perms, unsigned num)
{
    return hv->ops->xs_set_perms(hv, tx, path, perms, num);
}
int xnv_xs_watch(struct xnv_hv *hv, const char *path, const char *token)
{
    return hv->ops->xs_watch(hv, path, token);
}
int xnv_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token)
{
    return hv->ops->xs_unwatch(hv, path, token);
}
int xnv_xs_watch_fd(struct xnv_hv *hv) { return hv->ops->xs_watch_fd(hv); }
char **xnv_xs_read_watch(struct xnv_hv *hv) { return hv->ops->xs_read_watch(hv); }
int xnv_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *tx) { return hv->ops->xs_tx_start(hv, tx); }
int xnv_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort) { return hv->ops->xs_tx_end(hv, tx, abort); }
char *xnv_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom) { return hv->ops->xs_domain_path(hv, dom); }

int xnv_xs_write_state(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, int state)
{
    char path[256], val[12];
    snprintf(path, sizeof path, "%s/state", dir);
    snprintf(val, sizeof val, "%d", state);
    return xnv_xs_write(hv, tx, path, val, (unsigned)strlen(val));
}

int xnv_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out)
{
    return hv->ops->dom_info(hv, dom, out);
}
int xnv_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max)
{
    return hv->ops->dom_list(hv, out, max);
}
