/* xnv-bench --density: many guests on one netback engine over the simulated
 * hypervisor; what each vif costs the backend and what they move together. */
#ifndef XNV_BENCH_DENSITY_H
#define XNV_BENCH_DENSITY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include "bench.h"
#include "density_traffic.h"

#define DENSITY_MAX_VIFS 256
#define DENSITY_MAX_ROUNDS 15

/* rss_kib: anonymous resident memory (the engine's); shmem_kib: resident
 * pages of the simulated domains' memory (guest pages, rings) */
struct self_usage { long rss_kib, shmem_kib, threads, fds; };
void self_usage(struct self_usage *u);

struct density_guest {
    int domid;
    struct xnv_hv *hv;
    struct xnv_netfront *nf;
    struct xnv_port *port;        /* the backend's port of this vif (the TAP's stand-in) */
};

/* One engine in dom0 serving every guest's vif 0, with `queues` queues each. */
struct density_world {
    struct xnv_sim *sim;
    struct xnv_hv *dom0;
    struct xnv_netback *nb;
    unsigned nguests, queues;
    unsigned share_limit;         /* pages each guest may share */
    struct density_guest g[DENSITY_MAX_VIFS];
    pthread_t ctrl;               /* both control planes, once connected */
    atomic_bool stop_ctrl;
    pthread_mutex_t fe_lock;      /* the frontends' control planes: the thread's */
    bool pump_frontends;          /* ... until teardown takes them (under fe_lock) */
};

/* The cost of getting there, phase by phase (each a difference of
 * self_usage() before and after it). */
struct density_setup {
    struct self_usage base;       /* engine running, no vif */
    struct self_usage initwait;   /* every vif at InitWait: the port open, keys advertised */
    struct self_usage frontends;  /* every guest's frontend shared its rings and buffers */
    struct self_usage connected;  /* the engine connected every vif */
    struct self_usage frontends_up;   /* the frontends took the news */
    struct self_usage idle;       /* a quiet while later, the frontends' part
                                   * of the step before taken out */
    double connect_s;             /* from the frontends' keys to every vif Connected */
    unsigned mapped_pages;        /* dom0's mappings of guest grants, all vifs */
    unsigned shared_pages;        /* the guests' shared pages, all of them */
    unsigned share_limit;         /* what each guest was allowed to share */
};

/* Build it; 0, or -1 with err set.  Teardown also after a failure. */
int density_setup(struct density_world *w, unsigned guests, unsigned queues, struct density_setup *s,
                  char *err, size_t errlen);
void density_teardown(struct density_world *w);

struct density_opts {
    const char *json_path;        /* also write the JSON document here (NULL: no) */
    unsigned vifs, queues, few;   /* few: the smaller set of busy vifs to compare with */
    unsigned rounds;              /* few and all busy take turns this many times */
    uint32_t frame_bytes;
    double seconds;
    bool json;
};
/* What each vif costs the backend, from the phases of density_setup. */
struct density_costs {
    double rss_idle_kib, rss_initwait_kib, rss_connect_kib, rss_busy_kib, rss_guest_kib;
    double threads, fds_port, fds_connect, mapped_pages, shared_pages, connect_ms;
};

/* Everything the mode measured, for density_print(). */
struct density_report {
    const struct density_opts *o;
    struct density_setup setup;
    struct density_costs costs;
    /* [guest_to_backend, backend_to_guest][few, all busy][round] */
    struct traffic_case tc[2][2][DENSITY_MAX_ROUNDS];
    struct traffic_result tr[2][2][DENSITY_MAX_ROUNDS];
};
/* As a table (json false) or one JSON document. */
void density_print(FILE *f, bool json, const struct density_report *rp);

/* The whole mode: setup, idle costs, traffic with `few` then all vifs busy
 * in each direction; prints a table or JSON.  Exit status. */
int density_main(const struct density_opts *o);

#endif
