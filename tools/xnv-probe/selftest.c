/* xnv-probe, selftest-sim: the host and guest roles, unchanged, each in its
 * own thread with its own handle on one simulated hypervisor.  Proves the
 * choreography before the rig runs it on real Xen. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe.h"
#include "xnv/sim.h"

struct role_run {
    pthread_t thread;
    bool is_guest;
    struct xnv_hv *hv;
    struct probe_opts o;
    struct probe_report r;
    char label[32];
};

static void *role_main(void *arg)
{
    struct role_run *rr = arg;
    if (rr->is_guest)
        probe_guest(rr->hv, &rr->o, &rr->r);
    else
        probe_host(rr->hv, &rr->o, &rr->r);
    report_result(&rr->r);
    return NULL;
}

/* One handle per role, acting as domain dom. */
static bool open_role(struct xnv_sim *sim, struct role_run *rr, xnv_domid_t dom)
{
    report_init(&rr->r, rr->label);
    rr->o.role = rr->label;
    rr->hv = xnv_sim_hv_open(sim, dom);
    return check(&rr->r, rr->hv && !strcmp(xnv_hv_kind(rr->hv), "sim") &&
                             xnv_hv_domid(rr->hv) == dom,
                 "open", "sim handle for dom%u: %s", dom,
                 rr->hv ? xnv_hv_kind(rr->hv) : strerror(errno));
}

/* Guest 1 learns its peer the way the rig tells it (data/xnv-probe-peer,
 * written by dom0); guest 2 gets it on the command line. */
static void setup_guests(struct role_run *rr, const int *dom, unsigned ng,
                         const struct probe_opts *base, unsigned scen)
{
    for (unsigned i = 0; i < ng; i++) {
        struct role_run *g = &rr[1 + i];
        g->is_guest = true;
        g->o = *base;
        g->o.backend = 0;
        g->o.peer = ng == 2 && i == 1 ? dom[0] : -1;
        g->o.peer_from_xs = ng == 2 && i == 0;
        snprintf(g->label, sizeof g->label, "sim%u-guest%d", scen, dom[i]);
    }
}

static int xs_tell_peer(struct xnv_hv *dom0, int dom, int peer)
{
    char path[64];
    snprintf(path, sizeof path, "/local/domain/%d/%s", dom, KEY_PEER);
    return xnv_xs_printf(dom0, XNV_XS_NO_TX, path, NULL, "%d", peer);
}

static void run_threads(struct role_run *rr, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (rr[i].hv && pthread_create(&rr[i].thread, NULL, role_main, &rr[i]) != 0) {
            check(&rr[i].r, false, "thread", "pthread_create failed");
            xnv_hv_close(rr[i].hv);
            rr[i].hv = NULL;
        }
    for (unsigned i = 0; i < n; i++)
        if (rr[i].hv)
            pthread_join(rr[i].thread, NULL);
}

static void scenario(const struct probe_opts *base, unsigned ng, struct probe_report *total)
{
    struct role_run rr[1 + PROBE_MAX_GUESTS];
    memset(rr, 0, sizeof rr);
    struct xnv_sim *sim = xnv_sim_new();
    if (!check(total, sim != NULL, "sim-new", "%s", sim ? "ok" : strerror(errno)))
        return;
    int dom[PROBE_MAX_GUESTS];
    bool ok = true;
    for (unsigned i = 0; i < ng; i++) {
        char name[32];
        snprintf(name, sizeof name, "xnv-probe-guest%u", i + 1);
        dom[i] = xnv_sim_domain_create(sim, name);
        ok = check(total, dom[i] > 0, "sim-domain-create", "%s: %d", name, dom[i]) && ok;
    }
    if (ok) {
        rr[0].o = *base;
        rr[0].o.nguests = ng;
        for (unsigned i = 0; i < ng; i++)
            rr[0].o.guests[i] = (xnv_domid_t)dom[i];
        snprintf(rr[0].label, sizeof rr[0].label, "sim%u-host", ng);
        setup_guests(rr, dom, ng, base, ng);
        for (unsigned i = 0; i <= ng; i++)
            open_role(sim, &rr[i], i ? (xnv_domid_t)dom[i - 1] : 0);
        if (ng == 2 && rr[0].hv)
            check(total, xs_tell_peer(rr[0].hv, dom[0], dom[1]) == 0, "sim-tell-peer",
                  "dom0 wrote /local/domain/%d/%s", dom[0], KEY_PEER);
        run_threads(rr, 1 + ng);
    }
    for (unsigned i = 0; i <= ng; i++) {
        total->n_pass += rr[i].r.n_pass;
        total->n_fail += rr[i].r.n_fail;
        xnv_hv_close(rr[i].hv);
    }
    xnv_sim_free(sim);
}

int probe_selftest_sim(const struct probe_opts *o, unsigned nguests_min, unsigned nguests_max)
{
    struct probe_report total;
    report_init(&total, "selftest-sim");
    for (unsigned ng = nguests_min; ng <= nguests_max; ng++) {
        report_line(total.role, "info scenario: host + %u guest(s)", ng);
        scenario(o, ng, &total);
    }
    return report_result(&total);
}
