/* xnv-probe, guest role: the xenstore permission checks against the peer
 * guest, the wait for the host's command and event, the verification of
 * what the host copied, and the final report into xenstore. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

/* ---- peer guest: may read one key of the peer, not another -------------- */

struct peer_read {
    struct xnv_hv *hv;
    char path[160];
    char *val;
    int err;
};

static bool peer_key_readable(void *arg)
{
    struct peer_read *p = arg;
    p->val = xnv_xs_read_key(p->hv, XNV_XS_NO_TX, p->path, NULL, NULL);
    p->err = p->val ? 0 : errno;
    return p->val != NULL;
}

void guest_peer_checks(struct guest *g)
{
    if (g->peer < 0)
        return;
    char want[64], *home = xnv_xs_domain_path(g->hv, (xnv_domid_t)g->peer);
    snprintf(want, sizeof want, "/local/domain/%d", g->peer);
    check(g->r, home && !strcmp(home, want), "xs-domain-path", "dom%d: %s", g->peer,
          home ? home : strerror(errno));

    struct peer_read p = { .hv = g->hv };
    snprintf(p.path, sizeof p.path, "%s/%s", want, KEY_VISIBLE);
    uint64_t t0 = now_ms();
    ws_wait(&g->ws, -1, g->o->timeout_s * 1000u, peer_key_readable, &p);
    snprintf(want, sizeof want, "xnv-probe peer-visible dom%d", g->peer);
    check(g->r, p.val && !strcmp(p.val, want), "peer-read", "%s after %llu ms: %s", p.path,
          (unsigned long long)(now_ms() - t0), p.val ? p.val : strerror(p.err));
    free(p.val);

    snprintf(p.path, sizeof p.path, "/local/domain/%d/%s", g->peer, KEY_PRIVATE);
    char *v = xnv_xs_read_key(g->hv, XNV_XS_NO_TX, p.path, NULL, NULL);
    int e = errno;
    check(g->r, !v && e == EACCES, "peer-denied", "%s: %s", p.path,
          v ? "READABLE (should be denied)" : strerror(e));
    free(v);
    free(home);
}

/* ---- waiting for the host ----------------------------------------------- */

static void take_events(struct guest *g)
{
    int p;
    while ((p = xnv_evtchn_pending(g->ch)) >= 0) {
        if (!g->got_event || p == g->port)
            g->event_port = p;
        g->got_event = true;
        int rc = xnv_evtchn_unmask(g->ch, (xnv_port_t)p);
        if (rc < 0)
            check(g->r, false, "evtchn-unmask", "port %d: %s", p, strerror(-rc));
    }
}

static void take_command(struct guest *g)
{
    unsigned f = ws_fired(&g->ws, TOKEN_COMMAND);
    if (f == g->cmd_fired_seen)
        return;
    g->cmd_fired_seen = f;
    char *v = xnv_xs_read_key(g->hv, XNV_XS_NO_TX, KEY_COMMAND, NULL, NULL);
    if (v && !strncmp(v, CMD_VERIFY, strlen(CMD_VERIFY))) {
        g->cmd_by_watch = true;
        snprintf(g->command, sizeof g->command, "%s", v);
    }
    free(v);
}

static bool have_event(void *arg)
{
    struct guest *g = arg;
    take_events(g);
    take_command(g);
    return g->got_event;
}

static bool have_command(void *arg)
{
    struct guest *g = arg;
    take_events(g);
    take_command(g);
    return g->cmd_by_watch;
}

void guest_wait_host(struct guest *g)
{
    uint64_t t0 = now_ms();
    int rc = ws_wait(&g->ws, xnv_evtchn_fd(g->ch), g->o->timeout_s * 1000u, have_event, g);
    check(g->r, rc == 0 && g->event_port == g->port, "evtchn-event",
          "from dom%u on port %d: %s after %llu ms", g->backend, g->port,
          rc ? "NOTHING" : g->event_port == g->port ? "received" : "WRONG PORT",
          (unsigned long long)(now_ms() - t0));
    if (g->got_event)
        check(g->r, xnv_evtchn_pending(g->ch) == -EAGAIN, "evtchn-drained",
              "pending() says -EAGAIN once the event was taken and unmasked");

    /* The host writes the command before it notifies; the watch event may
     * still be on its way when the event channel fires. */
    ws_wait(&g->ws, -1, g->got_event ? 5000u : 0u, have_command, g);
    if (!g->cmd_by_watch) {
        char *v = xnv_xs_read_key(g->hv, XNV_XS_NO_TX, KEY_COMMAND, NULL, NULL);
        snprintf(g->command, sizeof g->command, "%s", v ? v : "");
        free(v);
    }
    check(g->r, g->cmd_by_watch, "watch-command", "%s='%s' %s", KEY_COMMAND, g->command,
          g->cmd_by_watch ? "seen through the watch" : "NOT signalled by the watch");
}

/* ---- what the host left in our pages ------------------------------------ */

void guest_verify(struct guest *g)
{
    uint8_t want[RX_HOST_LEN];
    host_block(want, g->backend, g->me);
    size_t m = 0;
    while (m < RX_HOST_LEN && g->rx[RX_HOST_OFF + m] == want[m])
        m++;
    check(g->r, m == RX_HOST_LEN, "rx-host-copy", "receive page [%u,%u) %s%.40s'",
          RX_HOST_OFF, RX_HOST_OFF + RX_HOST_LEN,
          m == RX_HOST_LEN ? "holds the host's bytes: '" : "DIFFERS, starts '",
          (const char *)g->rx);

    if (g->peer >= 0) {
        char tag[32];
        snprintf(tag, sizeof tag, "g2g-from=%d", g->peer);
        bool told = strstr(g->command, tag) != NULL;
        long bad = pat_mismatch(g->rx + RX_G2G_OFF, (unsigned)g->peer, 0, 0, RX_G2G_LEN);
        check(g->r, told && bad < 0, "rx-g2g", "receive page [%u,%u) %s dom%d's page 0",
              RX_G2G_OFF, RX_G2G_OFF + RX_G2G_LEN,
              !told ? "not written: the host did no grant-to-grant copy from"
                    : bad < 0 ? "holds" : "DIFFERS from", g->peer);
    }

    long bad = -1;
    for (unsigned p = 0; p + 1 < g->n && bad < 0; p++)
        bad = pat_mismatch(g->pat + (size_t)p * XNV_PAGE_SIZE, g->me, p, 0, XNV_PAGE_SIZE);
    check(g->r, bad < 0, "pages-intact", "read-only pattern pages %s", bad < 0 ? "unchanged"
                                                                          : "WERE MODIFIED");
}

/* ---- teardown and the verdict in xenstore ------------------------------- */

void guest_finish(struct guest *g)
{
    int rc1 = 0, rc2 = 0;
    if (g->pat)
        rc1 = xnv_gnt_unshare(g->hv, g->pat, g->n - 1);
    if (g->rx)
        rc2 = xnv_gnt_unshare(g->hv, g->rx, 1);
    if (g->pat || g->rx)
        check(g->r, rc1 == 0 && rc2 == 0, "unshare", "pattern pages: %s, receive page: %s",
              rc1 ? strerror(-rc1) : "ok", rc2 ? strerror(-rc2) : "ok");
    xnv_evtchn_close(g->ch);
    ws_remove_all(&g->ws);

    bool pass = g->r->n_fail == 0;
    int rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_DETAIL, NULL, "%s",
                           pass ? "all checks passed" : g->r->failed);
    if (rc == 0)
        rc = xnv_xs_printf(g->hv, XNV_XS_NO_TX, KEY_STATE, NULL, "%s", pass ? "pass" : "fail");
    check(g->r, rc == 0, "xs-report", "%s=%s: %s", KEY_STATE, pass ? "pass" : "fail",
          rc ? strerror(-rc) : "written");
}
