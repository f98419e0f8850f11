/* The simulated hypervisor: several domains in one process, behind the same
 * API as real Xen (hv.h).  Domain 0 exists from the start and is privileged
 * (it may read and write every xenstore node, like a toolstack domain).
 *
 * Semantics follow Xen and Linux where callers can observe them:
 *   - grant tables per domain: a grant names one grantee domid, may be
 *     read-only, bounds every copy to its page, reports per-segment GNTST_*
 *     codes, and cannot be ended while another domain has it mapped or a
 *     copy on it is in flight;
 *   - grant copy between any two domains' grants, including grant-to-grant;
 *   - event channels with a pollable fd per handle and mask-on-delivery;
 *   - a xenstore with owners and permissions, watches with tokens (fired once
 *     on registration), @introduceDomain/@releaseDomain, and transactions
 *     that fail with -EAGAIN on conflict;
 *   - domain creation and destruction (grants revoked, event channels closed,
 *     /local/domain/<id> removed, @releaseDomain fired); a new guest's grant
 *     refs 0 and 1 (its console and xenstore rings) are granted writable to
 *     domain 0, as the toolstack seeds them. */
#ifndef XNV_SIM_H
#define XNV_SIM_H

#include "xnv/hv.h"

struct xnv_sim;

struct xnv_sim *xnv_sim_new(void);
void xnv_sim_free(struct xnv_sim *sim);

/* Create a domain with /local/domain/<id>/{name,domid} owned by it.
 * Returns the new domid (>= 1) or -errno. */
int xnv_sim_domain_create(struct xnv_sim *sim, const char *name);
int xnv_sim_domain_destroy(struct xnv_sim *sim, xnv_domid_t dom);
/* What a Linux guest's userspace sees after the domain was saved and
 * restored: every event channel binding is gone (the peers' ends become
 * unbound) and every handle open so far is stale (xnv_evtchn_stale); a
 * bind or unbind asked of one fails with -ESTALE and is counted in
 * stale_ops (the guest kernel would BUG() on the unbind).  Grants and
 * xenstore stay as they are. */
int xnv_sim_domain_resume(struct xnv_sim *sim, xnv_domid_t dom);
/* The domain stopped (SCHEDOP_shutdown: reason SHUTDOWN_suspend before a
 * save, poweroff, ...): xnv_dom_info() says so and @releaseDomain fires,
 * as xenstored fires it; a resume ends it. */
int xnv_sim_domain_shutdown(struct xnv_sim *sim, xnv_domid_t dom, unsigned reason);
/* A handle that acts as domain dom (close it with xnv_hv_close()). */
struct xnv_hv *xnv_sim_hv_open(struct xnv_sim *sim, xnv_domid_t dom);

/* ---- toolstack emulation ------------------------------------------------- */

/* What `xl create` writes for vif = ['mac=<mac>,bridge=xenbr0[,vifname=..]']
 * of domain dom served by domain backend: the backend and frontend
 * directories with their keys and permissions, in one transaction. */
int xnv_sim_xl_add_vif(struct xnv_sim *sim, xnv_domid_t backend, xnv_domid_t dom, unsigned devid,
                       const char *mac, const char *vifname);
/* What the vif-bridge hotplug script writes: hotplug-status (e.g. "connected"). */
int xnv_sim_xl_hotplug(struct xnv_sim *sim, xnv_domid_t backend, xnv_domid_t dom, unsigned devid,
                       const char *status);

/* gntalloc's limit on shared pages per domain (default 1024, as Linux). */
void xnv_sim_set_share_limit(struct xnv_sim *sim, xnv_domid_t dom, unsigned pages);

/* ---- hooks for hostile-input tests ------------------------------------- */

/* The granting domain ends access to ref behind everybody's back, as a
 * hostile guest would (later copies and maps of it fail). */
int xnv_sim_gnt_revoke(struct xnv_sim *sim, xnv_domid_t owner, xnv_gref_t ref);
/* Called inside xnv_gnt_copy() after the segments were validated and before
 * data moves (for "grant revoked during the copy"); NULL to remove. */
typedef void (*xnv_sim_copy_hook)(void *arg);
void xnv_sim_set_copy_hook(struct xnv_sim *sim, xnv_sim_copy_hook hook, void *arg);

/* ---- counters (for tests and benchmarks) -------------------------------- */

struct xnv_sim_counters {
    uint64_t copy_calls;        /* xnv_gnt_copy() calls */
    uint64_t copy_hypercalls;   /* as gntdev would issue them: ceil(n / 16) */
    uint64_t copy_segments;
    uint64_t copy_ops;          /* the hypervisor's operations: gntdev cuts each segment
                                   at the edges of its local side's pages */
    uint64_t copy_bytes;
    uint64_t copy_pins;         /* local pages gntdev pins: one per page an address side
                                   touches (a side given as a grant pins none) */
    uint64_t maps;
    uint64_t notifies;          /* event notifications sent */
    uint64_t evtchn_reads;      /* reads of the event channel device (xnv_evtchn_pending()),
                                   those that found nothing included */
    uint64_t stale_ops;         /* binds/unbinds asked of stale event channel handles */
    uint64_t xs_requests;       /* xenstore requests (reads, writes, directories, removals,
                                   permissions, transaction starts and ends) */
};
/* Counters of what domain dom did (as the caller of those operations). */
void xnv_sim_counters(struct xnv_sim *sim, xnv_domid_t dom, struct xnv_sim_counters *out);

/* The name of the handle that serves the other end of domain dom's port
 * (its peer's, on an interdomain channel), as Linux names its interrupt:
 * "evtchn:<name of the thread that opened the handle>".  False: no such
 * bound port, or nobody on the other end. */
bool xnv_sim_evtchn_peer_name(struct xnv_sim *sim, xnv_domid_t dom, xnv_port_t port, char *buf, size_t len);

/* What domain dom holds right now (for leak checks). */
struct xnv_sim_usage {
    unsigned mapped_pages;      /* other domains' grants it has mapped */
    unsigned shared_pages;      /* its pages inside share regions */
    unsigned bound_ports;       /* event channel ports not free */
};
void xnv_sim_usage(struct xnv_sim *sim, xnv_domid_t dom, struct xnv_sim_usage *out);

#endif
