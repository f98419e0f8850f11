/* xnv-probe: state of the host role, shared by host*.c. */
#ifndef XNV_PROBE_HOST_H
#define XNV_PROBE_HOST_H

#include "probe.h"

#define TOKEN_RELEASE "xnv-probe-release"

struct host_guest {
    xnv_domid_t dom;
    char dir[96];                   /* /local/domain/<dom>/data/xnv-probe */
    char token[32];                 /* of the watch on dir/state */
    bool ready;                     /* state was "ready" */
    bool usable;                    /* its keys were read and make sense */
    unsigned n;                     /* pages: n - 1 read-only pattern + 1 receive */
    xnv_gref_t refs[PROBE_MAX_PAGES];
    xnv_port_t port;
    int g2g_from;                   /* domid copied grant-to-grant into it, or -1 */
    char state[16];                 /* last state read */
    unsigned fired_seen;            /* state watch events already looked at */
    bool verdict_by_watch;
};

struct host {
    struct xnv_hv *hv;
    const struct probe_opts *o;
    struct probe_report *r;
    xnv_domid_t me;
    unsigned ng;
    struct host_guest g[PROBE_MAX_GUESTS];
    struct watch_set ws;
    struct xnv_evtchn *kick_ch;     /* the host's ends of the guests' channels */
};

/* host_xs.c: xenstore checks on nodes the host owns. */
void host_xs_checks(struct host *h);
void host_release_watch(struct host *h);
/* host_grant.c: every grant operation against the guests' pages. */
void host_grant_checks(struct host *h);
void host_bench(struct host *h);

#endif
