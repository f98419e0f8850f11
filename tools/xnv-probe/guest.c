/* xnv-probe, guest role (a domU): share pages and an event channel with the
 * host, publish them in xenstore, then let guest_wait.c take over. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

static bool peer_key_present(void *arg)
{
    struct guest *g = arg;
    uint64_t d;
    int rc = xnv_xs_read_uint(g->hv, XNV_XS_NO_TX, KEY_PEER, NULL, 0x7fefu, &d);
    char *v = rc == -EINVAL ? xnv_xs_read_key(g->hv, XNV_XS_NO_TX, KEY_PEER, NULL, NULL) : NULL;
    if (rc && !v)
        return false;
    g->peer = rc == 0 ? (int)d : !strcmp(v, "none") ? -1 : -2;
    free(v);
    return true;
}

/* --peer xs: the toolstack names the peer (or "none") in KEY_PEER. */
static int guest_resolve_peer(struct guest *g)
{
    if (!g->o->peer_from_xs)
        return 0;
    uint64_t t0 = now_ms();
    int rc = ws_wait(&g->ws, -1, g->o->timeout_s * 1000u, peer_key_present, g);
    bool ok = rc == 0 && g->peer >= -1;
    char what[16];
    snprintf(what, sizeof what, "dom%d", g->peer);
    check(g->r, ok, "peer-from-xs", "%s: %s after %llu ms", KEY_PEER,
          rc ? "absent" : g->peer == -1 ? "none" : g->peer < 0 ? "malformed" : what,
          (unsigned long long)(now_ms() - t0));
    return ok ? 0 : -1;
}

static int guest_share(struct guest *g)
{
    unsigned np = g->n - 1;
    /* Results of an earlier run must not mislead the host. */
    xnv_xs_rm(g->hv, XNV_XS_NO_TX, KEY_DIR);

    g->pat = xnv_gnt_share(g->hv, g->backend, np, g->refs, false);
    int e = errno;
    long z = g->pat ? zero_mismatch(g->pat, np * XNV_PAGE_SIZE) : 0;
    if (!check(g->r, g->pat && z < 0, "share-ro", "%u read-only page(s) to dom%u: %s",
               np, g->backend, g->pat ? (z < 0 ? "zeroed" : "NOT ZEROED") : strerror(e)))
        return -1;
    for (unsigned p = 0; p < np; p++)
        pat_fill(g->pat + (size_t)p * XNV_PAGE_SIZE, g->me, p, 0, XNV_PAGE_SIZE);

    g->rx = xnv_gnt_share(g->hv, g->backend, 1, &g->refs[np], true);
    e = errno;
    z = g->rx ? zero_mismatch(g->rx, XNV_PAGE_SIZE) : 0;
    return check(g->r, g->rx && z < 0, "share-rw", "receive page to dom%u: %s ref=%u",
                 g->backend, g->rx ? (z < 0 ? "zeroed" : "NOT ZEROED") : strerror(e),
                 g->rx ? g->refs[np] : 0) ? 0 : -1;
}

static int guest_evtchn(struct guest *g)
{
    g->ch = xnv_evtchn_open(g->hv);
    if (!check(g->r, g->ch != NULL, "evtchn-open", "%s", g->ch ? "ok" : strerror(errno)))
        return -1;
    g->port = xnv_evtchn_bind_unbound(g->ch, g->backend);
    if (!check(g->r, g->port >= 0, "evtchn-unbound", "for dom%u: %s%d", g->backend,
               g->port >= 0 ? "port " : "error ", g->port))
        return -1;
    uint64_t t0 = now_ms();
    int p = xnv_evtchn_pending(g->ch);
    uint64_t dt = now_ms() - t0;
    check(g->r, p == -EAGAIN && dt < 1000, "evtchn-nonblock",
          "pending() with nothing queued: %d (%s) in %llu ms", p,
          p < 0 ? strerror(-p) : "a port", (unsigned long long)dt);
    return 0;
}

/* owner = us (no access for others), the host may read, and the peer too
 * when with_peer. */
static unsigned guest_perms(const struct guest *g, bool with_peer, struct xs_permissions p[3])
{
    unsigned n = 0;
    p[n++] = (struct xs_permissions){ .id = g->me, .perms = XS_PERM_NONE };
    p[n++] = (struct xs_permissions){ .id = g->backend, .perms = XS_PERM_READ };
    if (with_peer && g->peer >= 0)
        p[n++] = (struct xs_permissions){ .id = (unsigned)g->peer, .perms = XS_PERM_READ };
    return n;
}

static int set_perms(struct guest *g, const char *path, bool with_peer)
{
    struct xs_permissions p[3];
    unsigned n = guest_perms(g, with_peer, p);
    return xnv_xs_set_perms(g->hv, XNV_XS_NO_TX, path, p, n);
}

static bool perms_equal(const struct xs_permissions *a, unsigned na,
                        const struct xs_permissions *b, unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (a[i].id != b[i].id || a[i].perms != b[i].perms)
            return false;
    return true;
}

static void guest_check_perms(struct guest *g)
{
    struct xs_permissions want[3];
    unsigned nw = guest_perms(g, true, want), ng = 0;
    struct xs_permissions *got = xnv_xs_get_perms(g->hv, XNV_XS_NO_TX, KEY_VISIBLE, &ng);
    int e = errno;
    bool ok = got && perms_equal(got, ng, want, nw);
    check(g->r, ok, "xs-perms", "%s: %s (%u entries, owner dom%u)", KEY_VISIBLE,
          got ? (ok ? "as set" : "DIFFERENT from what was set") : strerror(e), ng,
          got && ng ? got[0].id : 0);
    free(got);
}

static int write_keys(struct guest *g)
{
    char refs[PROBE_MAX_PAGES * 11 + 1];
    size_t used = 0;
    for (unsigned i = 0; i < g->n; i++)
        used += (size_t)snprintf(refs + used, sizeof refs - used, "%s%u", i ? " " : "", g->refs[i]);
    int rc;
    if ((rc = xnv_xs_mkdir(g->hv, XNV_XS_NO_TX, KEY_DIR)) ||
        (rc = set_perms(g, KEY_DIR, false)) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_PAGES, NULL, "%u", g->n)) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_REFS, NULL, "%s", refs)) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_PORT, NULL, "%d", g->port)) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_COMMAND, NULL, "%s", "")) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_PRIVATE, NULL, "xnv-probe private dom%u", g->me)) ||
        (rc = set_perms(g, KEY_PRIVATE, false)) ||
        (rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_VISIBLE, NULL, "xnv-probe peer-visible dom%u", g->me)) ||
        (rc = set_perms(g, KEY_VISIBLE, true)))
        return rc;
    return 0;
}

static bool command_watch_fired(void *arg)
{
    struct guest *g = arg;
    return ws_fired(&g->ws, TOKEN_COMMAND) > 0;
}

static int guest_publish(struct guest *g)
{
    int rc = write_keys(g);
    if (!check(g->r, rc == 0, "xs-publish", "%s/{pages,refs,event-channel,command,private,"
               "peer-visible}: %s", KEY_DIR, rc ? strerror(-rc) : "written"))
        return -1;
    guest_check_perms(g);

    rc = ws_add(&g->ws, KEY_COMMAND, TOKEN_COMMAND);
    if (rc == 0)
        rc = ws_wait(&g->ws, -1, 5000, command_watch_fired, g);
    g->cmd_fired_seen = ws_fired(&g->ws, TOKEN_COMMAND);
    check(g->r, rc == 0, "watch-initial", "watch on %s: %s", KEY_COMMAND,
          rc == 0 ? "fired at registration" : rc == -ETIMEDOUT ? "did not fire within 5 s"
                                                               : strerror(-rc));
    rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_STATE, NULL, "%s", "ready");
    return check(g->r, rc == 0, "xs-ready", "%s=ready: %s", KEY_STATE,
                 rc ? strerror(-rc) : "written") ? 0 : -1;
}

void probe_guest(struct xnv_hv *hv, const struct probe_opts *o, struct probe_report *r)
{
    struct guest g = {
        .hv = hv, .o = o, .r = r, .me = xnv_hv_domid(hv), .backend = o->backend,
        .peer = o->peer, .n = o->pages, .port = -1, .event_port = -1,
    };
    ws_init(&g.ws, hv);
    report_line(r->role, "info dom%u, host dom%u, %u page(s), timeout %u s", g.me,
                g.backend, g.n, o->timeout_s);
    if (guest_resolve_peer(&g) == 0 && guest_share(&g) == 0 && guest_evtchn(&g) == 0 &&
        guest_publish(&g) == 0) {
        guest_peer_checks(&g);
        guest_wait_host(&g);
        guest_verify(&g);
    }
    guest_finish(&g);
}
