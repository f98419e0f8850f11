/* Discovery for the direct inter-VM channels (interdomain/): under the
 * backend directory of each connected vif whose frontend asked for channels
 * (request-xnv-channels = 1) on a bridge in channel_bridges, the list of
 * the other such guests on that bridge: xnv-peers/<domid> = <mac>.  The
 * backend directory is ours and readable by its guest only, so each guest
 * learns only its own list.  Reconciled after every batch of events: an
 * entry appears when both sides are connected and vanishes when either
 * side goes away, or the guest stops (suspended for xl save or migration,
 * shut down, crashed: xenstored fires @releaseDomain then). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "nb.h"

#define OPTIN_KEY "request-xnv-channels"

static void optin_path(const struct nb_vif *v, char *buf, size_t len)
{
    snprintf(buf, len, "%s/" OPTIN_KEY, v->fe_path);
}

/* The frontend's answer changes while connected too: watch it (events come
 * with the vif's token and re-evaluate it; the refresh follows). */
static void watch_optin(struct nb_vif *v)
{
    char path[200];
    if (v->optin_watched || !v->fe_path[0])
        return;
    optin_path(v, path, sizeof path);
    v->optin_watched = xnv_xs_watch(v->nb->hv, path, v->token) == 0;
}

void nb_peers_forget(struct nb_vif *v)
{
    char path[200];
    if (!v->optin_watched)
        return;
    optin_path(v, path, sizeof path);
    xnv_xs_unwatch(v->nb->hv, path, v->token);
    v->optin_watched = false;
}

/* A stopped guest leaves every list at once: its peers then send through
 * the vif rather than into rings that go with it (its own agent is frozen
 * by then and cannot withdraw them).  Unknown (no privilege): running. */
static bool stopped(const struct nb_vif *v)
{
    struct xnv_dominfo di;
    return xnv_dom_info(v->nb->hv, v->domid, &di) == 0 && (di.shutdown || di.dying);
}

static bool eligible(struct nb_vif *v)
{
    if (!v->data_running || atomic_load(&v->broken) || !nb_bridge_listed(v->nb->cfg.channel_bridges, v->bridge) ||
        stopped(v))
        return false;
    char path[200];
    unsigned len;
    optin_path(v, path, sizeof path);
    char *s = xnv_xs_read(v->nb->hv, XNV_XS_NO_TX, path, &len);
    bool yes = s && strcmp(s, "1") == 0;
    free(s);
    return yes;
}

static struct nb_vif *peer_by_dom(struct nb_vif **set, unsigned n, const struct nb_vif *v, const char *name)
{
    for (unsigned i = 0; i < n; i++) {
        char d[12];
        snprintf(d, sizeof d, "%u", set[i]->domid);
        if (set[i]->domid != v->domid && strcmp(set[i]->bridge, v->bridge) == 0 && strcmp(d, name) == 0)
            return set[i];
    }
    return NULL;
}

/* Bring v's list to what set says, in one transaction that first checks
 * that v's directory still exists (never recreates a removed device). */
static int publish(struct nb_vif *v, struct nb_vif **set, unsigned n, bool listed)
{
    struct xnv_hv *hv = v->nb->hv;
    char dir[200], path[240];
    snprintf(dir, sizeof dir, "%s/xnv-peers", v->be_path);
    xnv_xs_tx_t tx;
    int rc = xnv_xs_tx_start(hv, &tx);
    if (rc)
        return rc;
    unsigned len, ne = 0;
    snprintf(path, sizeof path, "%s/state", v->be_path);
    char *st = xnv_xs_read(hv, tx, path, &len);
    if (!st) {
        xnv_xs_tx_end(hv, tx, true);
        return 0;
    }
    free(st);
    char **names = xnv_xs_directory(hv, tx, dir, &ne);
    for (unsigned i = 0; i < ne && rc == 0; i++) {
        if (!listed || !peer_by_dom(set, n, v, names[i])) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            rc = xnv_xs_rm(hv, tx, path);
        }
    }
    bool had = names != NULL;
    free(names);
    if (!listed && had)
        rc = rc ? rc : xnv_xs_rm(hv, tx, dir);
    for (unsigned i = 0; listed && i < n && rc == 0; i++) {
        struct nb_vif *u = set[i];
        if (u->domid == v->domid || strcmp(u->bridge, v->bridge) != 0)
            continue;
        char mac[18];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", u->mac[0], u->mac[1], u->mac[2],
                 u->mac[3], u->mac[4], u->mac[5]);
        snprintf(path, sizeof path, "%s/%u", dir, u->domid);
        char *old = xnv_xs_read(hv, tx, path, &len);
        if (!old || strcmp(old, mac) != 0)
            rc = xnv_xs_write(hv, tx, path, mac, (unsigned)strlen(mac));
        free(old);
    }
    if (rc) {
        xnv_xs_tx_end(hv, tx, true);
        return rc;
    }
    return xnv_xs_tx_end(hv, tx, false);
}

void nb_peers_refresh(struct xnv_netback *nb)
{
    if (!nb->cfg.channel_bridges || !nb->cfg.channel_bridges[0])
        return;
    unsigned n = 0, cap = 0;
    for (struct nb_vif *v = nb->vifs; v; v = v->next)
        cap++;
    struct nb_vif **set = calloc(cap ? cap : 1, sizeof *set);
    if (!set)
        return;
    for (struct nb_vif *v = nb->vifs; v; v = v->next) {
        watch_optin(v);
        if (eligible(v))
            set[n++] = v;
    }
    for (struct nb_vif *v = nb->vifs; v; v = v->next) {
        bool listed = false;
        for (unsigned i = 0; i < n && !listed; i++)
            listed = set[i] == v;
        if (!listed && !v->peers_published)
            continue;
        int rc = -1;
        for (int attempt = 0; attempt < 8 && rc != 0; attempt++)
            rc = publish(v, set, n, listed);
        if (rc)
            nb_log(nb, LOG_WARNING, "vif%u.%u: cannot update xnv-peers", v->domid, v->devid);
        v->peers_published = listed;
    }
    free(set);
}
