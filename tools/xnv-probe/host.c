/* xnv-probe, host role (dom0, or the domain the guests share with): domain
 * info, waiting for the guests, reading their keys, then the xenstore and
 * grant checks (host_xs.c, host_grant.c), the kick, and the guests' verdict. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define LIST_MAX 256u

/* ---- domains ------------------------------------------------------------ */

static bool listed(const struct xnv_dominfo *l, int n, xnv_domid_t d)
{
    for (int i = 0; i < n && i < (int)LIST_MAX; i++)
        if (l[i].domid == d)
            return true;
    return false;
}

static void host_domains(struct host *h)
{
    struct xnv_dominfo l[LIST_MAX];
    int n = xnv_dom_list(h->hv, l, LIST_MAX);
    bool all = n > 0 && listed(l, n, h->me);
    for (unsigned i = 0; i < h->ng; i++)
        all = all && listed(l, n, h->g[i].dom);
    check(h->r, all, "dom-list", "%d domain(s)%s", n,
          n < 0 ? " (error)" : all ? ", self and every guest listed" : ", A GUEST IS MISSING");

    for (unsigned i = 0; i < h->ng; i++) {
        struct xnv_dominfo d;
        char name[32];
        snprintf(name, sizeof name, "dom-info.%u", h->g[i].dom);
        int rc = xnv_dom_info(h->hv, h->g[i].dom, &d);
        check(h->r, rc == 0 && d.domid == h->g[i].dom && !d.dying && !d.shutdown, name,
              "%s dying=%d shutdown=%d reason=%u paused=%d hvm=%d",
              rc ? strerror(-rc) : "exists", rc ? 0 : d.dying, rc ? 0 : d.shutdown,
              rc ? 0 : d.shutdown_reason, rc ? 0 : d.paused, rc ? 0 : d.hvm);
    }

    unsigned absent = 1;
    for (int i = 0; i < n && i < (int)LIST_MAX; i++)
        if (l[i].domid >= absent)
            absent = l[i].domid + 1u;
    struct xnv_dominfo d;
    int rc = xnv_dom_info(h->hv, (xnv_domid_t)absent, &d);
    check(h->r, rc == -ESRCH, "dom-info-absent", "dom%u (above every listed one): %s",
          absent, rc ? strerror(-rc) : "EXISTS");
}

/* ---- the guests become ready -------------------------------------------- */

static void read_state(struct host *h, struct host_guest *g)
{
    char *v = xnv_xs_read_key(h->hv, XNV_XS_NO_TX, g->dir, "state", NULL);
    snprintf(g->state, sizeof g->state, "%s", v ? v : "");
    free(v);
}

static bool all_ready(void *arg)
{
    struct host *h = arg;
    bool done = true;
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        if (!g->ready)
            read_state(h, g);
        g->ready = g->ready || !strcmp(g->state, "ready");
        done = done && (g->ready || !strcmp(g->state, "fail"));
    }
    return done;
}

static bool all_watches_fired(void *arg)
{
    struct host *h = arg;
    for (unsigned i = 0; i < h->ng; i++)
        if (ws_fired(&h->ws, h->g[i].token) == 0)
            return false;
    return true;
}

static void host_wait_ready(struct host *h)
{
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        char *home = xnv_xs_domain_path(h->hv, g->dom), name[32], path[128];
        snprintf(name, sizeof name, "xs-domain-path.%u", g->dom);
        check(h->r, home != NULL, name, "%s", home ? home : strerror(errno));
        snprintf(g->dir, sizeof g->dir, "%s/%s", home ? home : "/local/domain/?", KEY_DIR);
        free(home);
        snprintf(g->token, sizeof g->token, "xnv-probe-state-%u", g->dom);
        snprintf(path, sizeof path, "%s/state", g->dir);
        int rc = ws_add(&h->ws, path, g->token);
        snprintf(name, sizeof name, "watch-add.%u", g->dom);
        check(h->r, rc == 0, name, "%s: %s", path, rc ? strerror(-rc) : "registered");
    }
    uint64_t t0 = now_ms();
    ws_wait(&h->ws, -1, h->o->timeout_s * 1000u, all_ready, h);
    /* Readiness may be seen by reading before the registration event of a
     * watch is delivered: give those events a bounded moment to arrive. */
    ws_wait(&h->ws, -1, 3000, all_watches_fired, h);
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        char name[32];
        snprintf(name, sizeof name, "guest-ready.%u", g->dom);
        check(h->r, g->ready, name, "%s/state='%s' after %llu ms", g->dir, g->state,
              (unsigned long long)(now_ms() - t0));
        snprintf(name, sizeof name, "watch-initial.%u", g->dom);
        check(h->r, ws_fired(&h->ws, g->token) > 0, name, "state watch fired %u time(s)",
              ws_fired(&h->ws, g->token));
    }
}

/* ---- the guests' keys --------------------------------------------------- */

static bool has_child(char **v, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (!strcmp(v[i], name))
            return true;
    return false;
}

static void host_read_guest(struct host *h, struct host_guest *g)
{
    char name[32], *refs;
    uint64_t pages, port = 0;
    int rc = xnv_xs_read_uint(h->hv, XNV_XS_NO_TX, g->dir, "pages", UINT32_MAX, &pages);
    if (rc == 0) {
        g->n = (unsigned)pages;
        rc = xnv_xs_read_uint(h->hv, XNV_XS_NO_TX, g->dir, "event-channel", UINT32_MAX, &port);
    }
    refs = rc == 0 ? xnv_xs_read_key(h->hv, XNV_XS_NO_TX, g->dir, "refs", NULL) : NULL;
    int nrefs = refs ? parse_uint_list(refs, g->refs, PROBE_MAX_PAGES) : -1;
    g->port = (unsigned)port;
    g->usable = rc == 0 && g->n >= 2 && g->n <= PROBE_MAX_PAGES && nrefs == (int)g->n;
    snprintf(name, sizeof name, "xs-read.%u", g->dom);
    check(h->r, g->usable, name, "pages=%u refs='%s' event-channel=%u", g->n,
          refs ? refs : "?", g->port);
    free(refs);

    unsigned num = 0;
    char **v = xnv_xs_directory(h->hv, XNV_XS_NO_TX, g->dir, &num);
    bool ok = v && has_child(v, num, "pages") && has_child(v, num, "refs") &&
              has_child(v, num, "event-channel") && has_child(v, num, "state") &&
              has_child(v, num, "command");
    snprintf(name, sizeof name, "xs-directory.%u", g->dom);
    check(h->r, ok, name, "%s: %u entries%s", g->dir, num, ok ? "" : ", SOME MISSING");
    free(v);
}

/* ---- the kick: command, then event -------------------------------------- */

static void host_kick(struct host *h)
{
    struct xnv_evtchn *ch = xnv_evtchn_open(h->hv);
    check(h->r, ch != NULL, "evtchn-open", "%s", ch ? "ok" : strerror(errno));
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        if (!g->usable)
            continue;
        char path[160], name[32];
        snprintf(path, sizeof path, "%s/command", g->dir);
        g->fired_seen = ws_fired(&h->ws, g->token);
        int rc = g->g2g_from >= 0
                     ? xnv_xs_printf(h->hv, XNV_XS_NO_TX, path, NULL, CMD_VERIFY " g2g-from=%d", g->g2g_from)
                     : xnv_xs_printf(h->hv, XNV_XS_NO_TX, path, NULL, "%s", CMD_VERIFY);
        snprintf(name, sizeof name, "xs-command.%u", g->dom);
        check(h->r, rc == 0, name, "%s: %s", path, rc ? strerror(-rc) : "written");
        if (!ch)
            continue;
        int lport = xnv_evtchn_bind_interdomain(ch, g->dom, g->port);
        int nrc = lport >= 0 ? xnv_evtchn_notify(ch, (xnv_port_t)lport) : lport;
        snprintf(name, sizeof name, "evtchn-notify.%u", g->dom);
        check(h->r, nrc == 0, name, "bound local port %d to dom%u:%u, notify %s", lport,
              g->dom, g->port, nrc ? strerror(-nrc) : "ok");
    }
    /* Keep the channels bound until the guests answered: closing unbinds. */
    h->kick_ch = ch;
}

/* ---- the guests' verdict ------------------------------------------------ */

static bool verdict_final(const struct host_guest *g)
{
    return !strcmp(g->state, "pass") || !strcmp(g->state, "fail");
}

static bool all_verdicts(void *arg)
{
    struct host *h = arg;
    bool done = true;
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        if (!g->ready)
            continue;
        unsigned f = ws_fired(&h->ws, g->token);
        read_state(h, g);
        if (f != g->fired_seen && verdict_final(g))
            g->verdict_by_watch = true;
        g->fired_seen = f;
        done = done && g->verdict_by_watch;
    }
    return done;
}

static bool all_final(void *arg)
{
    struct host *h = arg;
    all_verdicts(h);
    for (unsigned i = 0; i < h->ng; i++)
        if (h->g[i].ready && !verdict_final(&h->g[i]))
            return false;
    return true;
}

static void host_wait_verdicts(struct host *h)
{
    uint64_t t0 = now_ms();
    ws_wait(&h->ws, -1, h->o->timeout_s * 1000u, all_final, h);
    ws_wait(&h->ws, -1, 5000, all_verdicts, h);     /* the watch may lag a poll */
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        if (!g->ready)
            continue;
        char name[40], *detail = xnv_xs_read_key(h->hv, XNV_XS_NO_TX, g->dir, "detail", NULL);
        snprintf(name, sizeof name, "guest-verdict.%u", g->dom);
        check(h->r, !strcmp(g->state, "pass"), name, "state='%s' after %llu ms (%s)",
              g->state, (unsigned long long)(now_ms() - t0), detail ? detail : "no detail");
        free(detail);
        snprintf(name, sizeof name, "watch-change.%u", g->dom);
        check(h->r, g->verdict_by_watch, name, "state watch %s the change to '%s'",
              g->verdict_by_watch ? "signalled" : "DID NOT signal", g->state);
    }
}

void probe_host(struct xnv_hv *hv, const struct probe_opts *o, struct probe_report *r)
{
    struct host h = { .hv = hv, .o = o, .r = r, .me = xnv_hv_domid(hv), .ng = o->nguests };
    ws_init(&h.ws, hv);
    for (unsigned i = 0; i < h.ng; i++)
        h.g[i] = (struct host_guest){ .dom = o->guests[i], .g2g_from = -1 };
    report_line(r->role, "info dom%u, %u guest(s), timeout %u s", h.me, h.ng, o->timeout_s);

    host_domains(&h);
    host_xs_checks(&h);
    host_release_watch(&h);
    host_wait_ready(&h);
    for (unsigned i = 0; i < h.ng; i++)
        if (h.g[i].ready)
            host_read_guest(&h, &h.g[i]);
    host_grant_checks(&h);
    host_bench(&h);
    host_kick(&h);
    host_wait_verdicts(&h);

    xnv_evtchn_close(h.kick_ch);
    ws_remove_all(&h.ws);
    xnv_xs_rm(hv, XNV_XS_NO_TX, KEY_DIR);
}
