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
#include "xnv/xs.h"

#define NB_PEERS_TRIES 8   /* commits of one list lost to others before giving up */
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
    char *s = xnv_xs_read_key(v->nb->hv, XNV_XS_NO_TX, v->fe_path, OPTIN_KEY, NULL);
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

struct peer_list {
    struct nb_vif *v, **set;
    unsigned n;
    bool listed;
};

/* Bring v's list to what the set says, in one transaction that first
 * checks that v's directory still exists (never recreates a removed
 * device): 1 when it does not (nothing to write). */
static int publish_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct peer_list *l = arg;
    struct nb_vif *v = l->v;
    char dir[200], path[240];
    snprintf(dir, sizeof dir, "%s/xnv-peers", v->be_path);
    if (!xnv_xs_exists(hv, tx, v->be_path, "state"))
        return 1;
    unsigned ne = 0;
    int rc = 0;
    char **names = xnv_xs_directory(hv, tx, dir, &ne);
    for (unsigned i = 0; i < ne && rc == 0; i++) {
        if (!l->listed || !peer_by_dom(l->set, l->n, v, names[i])) {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            rc = xnv_xs_rm(hv, tx, path);
        }
    }
    bool had = names != NULL;
    free(names);
    if (!l->listed && had)
        rc = rc ? rc : xnv_xs_rm(hv, tx, dir);
    for (unsigned i = 0; l->listed && i < l->n && rc == 0; i++) {
        struct nb_vif *u = l->set[i];
        if (u->domid == v->domid || strcmp(u->bridge, v->bridge) != 0)
            continue;
        char mac[18], key[12];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", u->mac[0], u->mac[1], u->mac[2],
                 u->mac[3], u->mac[4], u->mac[5]);
        snprintf(key, sizeof key, "%u", u->domid);
        char *old = xnv_xs_read_key(hv, tx, dir, key, NULL);
        if (!old || strcmp(old, mac) != 0)
            rc = xnv_xs_printf(hv, tx, dir, key, "%s", mac);
        free(old);
    }
    return rc;
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
        struct peer_list l = { v, set, n, listed };
        int rc = xnv_xs_transact(nb->hv, NB_PEERS_TRIES, publish_tx, &l);
        if (rc < 0)
            nb_log(nb, LOG_WARNING, "vif%u.%u: cannot update xnv-peers", v->domid, v->devid);
        v->peers_published = listed;
    }
    free(set);
}
