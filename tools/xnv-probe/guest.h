/* xnv-probe: state of the guest role, shared by guest.c and guest_wait.c. */
#ifndef XNV_PROBE_GUEST_H
#define XNV_PROBE_GUEST_H

#include "probe.h"

#define TOKEN_COMMAND "xnv-probe-command"

struct guest {
    struct xnv_hv *hv;
    const struct probe_opts *o;
    struct probe_report *r;
    xnv_domid_t me, backend;
    int peer;                       /* peer guest domid, -1 when none */
    unsigned n;                     /* pages shared: n - 1 pattern + 1 receive */
    uint8_t *pat;                   /* n - 1 read-only pattern pages */
    uint8_t *rx;                    /* the writable receive page */
    xnv_gref_t refs[PROBE_MAX_PAGES];
    struct xnv_evtchn *ch;
    int port;
    struct watch_set ws;
    /* what the wait for the host saw */
    bool got_event;
    int event_port;
    unsigned cmd_fired_seen;        /* command watch events already read */
    bool cmd_by_watch;
    char command[128];
};

/* guest_wait.c */
void guest_peer_checks(struct guest *g);
void guest_wait_host(struct guest *g);
void guest_verify(struct guest *g);
void guest_finish(struct guest *g);

#endif
