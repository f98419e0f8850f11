/* The hypervisor interface: grants, event channels, xenstore and domain info.
 *
 * One API, two implementations that callers cannot tell apart:
 *   - xnv_hv_open_xen(): real Xen through libxengnttab/gntshr, libxenevtchn,
 *     libxenstore and libxenctrl;
 *   - xnv_sim_hv_open() (see sim.h): a simulated hypervisor with several
 *     domains in one process, for tests and benchmarks.
 *
 * Conventions: functions returning int give 0 (or a non-negative value) on
 * success and -errno on failure.  Pointers returned as "malloc'd" are freed
 * by the caller with free().  A handle may be used from several threads for
 * grant copies and xenstore calls; an event-channel handle belongs to one
 * thread at a time. */
#ifndef XNV_HV_H
#define XNV_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <xengnttab.h>          /* xengnttab_grant_copy_segment_t */
#include <xenstore.h>           /* struct xs_permissions, XS_PERM_*, XS_WATCH_* */
#include <xen/grant_table.h>    /* GNTCOPY_*, GNTST_* */

typedef uint16_t xnv_domid_t;
typedef uint32_t xnv_gref_t;
typedef uint32_t xnv_port_t;

#define XNV_PAGE_SIZE 4096u
/* Linux gntdev issues at most this many GNTTABOP_copy per hypercall; a longer
 * batch is still one xnv_gnt_copy() call. */
#define XNV_GNT_COPY_PER_HYPERCALL 16u

struct xnv_hv;
struct xnv_evtchn;

/* ---- lifetime ---------------------------------------------------------- */

/* Open the real hypervisor as the domain this process runs in.  On failure
 * returns NULL and writes a one-line reason into err. */
struct xnv_hv *xnv_hv_open_xen(char *err, size_t errlen);
/* Real Xen: whether what a backend needs beyond xenstore is there (gntdev,
 * which xnv_hv_open_xen opens only on first use, and evtchn); 0, or -1 with
 * a one-line reason naming the module to load. */
int xnv_hv_xen_backend_check(char *err, size_t errlen);
void xnv_hv_close(struct xnv_hv *hv);
xnv_domid_t xnv_hv_domid(const struct xnv_hv *hv);
const char *xnv_hv_kind(const struct xnv_hv *hv);   /* "xen" or "sim" */

/* ---- grant copy -------------------------------------------------------- */

/* Perform n copy segments in one call.  Returns 0 when the call was made:
 * each segment's status is then a GNTST_* code of its own.  Returns -EINVAL
 * for the whole call when a segment is malformed (len 0 or a grant side with
 * offset + len > XNV_PAGE_SIZE), as gntdev does; no segment is copied then. */
int xnv_gnt_copy(struct xnv_hv *hv, xengnttab_grant_copy_segment_t *segs, unsigned n);

/* ---- grant map (backend side) ------------------------------------------ */

/* Map n grants of domain dom contiguously.  NULL + errno on failure. */
void *xnv_gnt_map(struct xnv_hv *hv, xnv_domid_t dom, const xnv_gref_t *refs,
                  unsigned n, bool writable);
int xnv_gnt_unmap(struct xnv_hv *hv, void *addr, unsigned n);

/* ---- grant share (frontend side, gntalloc) ----------------------------- */

/* Allocate n zeroed pages, grant them to dom, return their contiguous
 * mapping and the grant references in refs_out.  NULL + errno on failure
 * (ENOSPC when the grant allocation limit is reached). */
void *xnv_gnt_share(struct xnv_hv *hv, xnv_domid_t dom, unsigned n,
                    xnv_gref_t *refs_out, bool writable);
/* End access and release the pages.  -EBUSY when the implementation knows
 * that the peer still holds one of them: the release then completes only
 * once the peer lets go, and the caller must treat those pages as lost. */
int xnv_gnt_unshare(struct xnv_hv *hv, void *addr, unsigned n);

/* ---- event channels ---------------------------------------------------- */

/* One handle = one pollable fd for all ports bound through it.  After an
 * event is returned by xnv_evtchn_pending() its port stays masked until
 * xnv_evtchn_unmask(); notifications meanwhile are latched, not lost. */
struct xnv_evtchn *xnv_evtchn_open(struct xnv_hv *hv);
void xnv_evtchn_close(struct xnv_evtchn *ch);
int xnv_evtchn_fd(const struct xnv_evtchn *ch);
int xnv_evtchn_bind_unbound(struct xnv_evtchn *ch, xnv_domid_t remote);   /* -> local port */
int xnv_evtchn_bind_interdomain(struct xnv_evtchn *ch, xnv_domid_t remote,
                                xnv_port_t remote_port);                  /* -> local port */
int xnv_evtchn_unbind(struct xnv_evtchn *ch, xnv_port_t port);
int xnv_evtchn_notify(struct xnv_evtchn *ch, xnv_port_t port);
int xnv_evtchn_pending(struct xnv_evtchn *ch);   /* port, or -EAGAIN when none */
int xnv_evtchn_unmask(struct xnv_evtchn *ch, xnv_port_t port);
/* The handle's bindings belong to an earlier incarnation of this domain
 * (it was saved and restored, or migrated, since the handle was opened):
 * the ports are gone, and Linux's evtchn device BUG()s on unbinding them,
 * also when the device is closed.  Such a handle refuses to unbind
 * (-ESTALE, nothing asked of the kernel) and xnv_evtchn_close() keeps the
 * device open for the rest of the process; bind nothing more through it
 * (a port number may come back and collide), open a new handle instead. */
bool xnv_evtchn_stale(struct xnv_evtchn *ch);
/* Async-signal-safe: every event channel device fd this process opened on
 * real Xen stays open across a later execve (the close-on-exec flag goes).
 * For a process that starts itself again after a crash: closing a device
 * whose ports a restore left stale kills the process in the kernel (see
 * libxnv/hv/xen_evtchn.c); kept open, they are never closed. */
void xnv_xen_evtchn_keep_across_exec(void);

/* ---- xenstore ---------------------------------------------------------- */

/* Paths not starting with '/' (and not '@') are relative to the calling
 * domain's home, /local/domain/<domid>. */
typedef uint32_t xnv_xs_tx_t;
#define XNV_XS_NO_TX ((xnv_xs_tx_t)0)

char *xnv_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len);
int xnv_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                 const void *val, unsigned len);
int xnv_xs_mkdir(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
int xnv_xs_rm(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path);
/* Children names in one malloc'd block (free the array only); NULL + errno. */
char **xnv_xs_directory(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *num);
/* perms[0] is the owner and the access of everybody else; malloc'd. */
struct xs_permissions *xnv_xs_get_perms(struct xnv_hv *hv, xnv_xs_tx_t tx,
                                        const char *path, unsigned *num);
int xnv_xs_set_perms(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path,
                     const struct xs_permissions *perms, unsigned num);
/* A new watch fires once at once, then on every change at or below path
 * ("@releaseDomain" / "@introduceDomain" fire on domain death / birth). */
int xnv_xs_watch(struct xnv_hv *hv, const char *path, const char *token);
int xnv_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token);
int xnv_xs_watch_fd(struct xnv_hv *hv);
/* Non-blocking: the next event as vec[XS_WATCH_PATH], vec[XS_WATCH_TOKEN]
 * in one malloc'd block, or NULL when none is queued. */
char **xnv_xs_read_watch(struct xnv_hv *hv);
int xnv_xs_tx_start(struct xnv_hv *hv, xnv_xs_tx_t *tx);
/* 0 on commit (or abort), -EAGAIN when a conflicting change won: retry. */
int xnv_xs_tx_end(struct xnv_hv *hv, xnv_xs_tx_t tx, bool abort);
char *xnv_xs_domain_path(struct xnv_hv *hv, xnv_domid_t dom);   /* malloc'd */
/* Write dir/state = a xenbus state (XenbusState*), as xenstore holds it. */
int xnv_xs_write_state(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, int state);

/* ---- domains ----------------------------------------------------------- */

struct xnv_dominfo {
    xnv_domid_t domid;
    bool dying;
    bool shutdown;
    unsigned shutdown_reason;
    bool paused;
    bool hvm;
};
int xnv_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out); /* -ESRCH */
/* Fills up to max entries, returns how many domains exist (may exceed max). */
int xnv_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max);

#endif
