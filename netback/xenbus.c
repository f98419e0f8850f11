/* The per-device xenbus state machine (docs/protocol.md): advertise and create
 * the host interface before InitWait, connect when the frontend is ready,
 * report Connected once the hotplug script attached the interface, close on
 * frontend close or domain death, reconnect when a closed frontend starts
 * over.  Idempotent: any watch event simply re-evaluates the device. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <xen/io/xenbus.h>
#include "nb.h"
#include "xnv/xs.h"

#define NB_XS_TRIES 16   /* commits of one transaction lost to others before giving up */

static char *rd(struct nb_vif *v, const char *dir, const char *key)
{
    return xnv_xs_read_key(v->nb->hv, XNV_XS_NO_TX, dir, key, NULL);
}

/* A small number from xenstore, or -1 when absent or garbage. */
static int rd_int(struct nb_vif *v, const char *dir, const char *key)
{
    uint64_t n;
    return xnv_xs_read_uint(v->nb->hv, XNV_XS_NO_TX, dir, key, 1000000, &n) == 0 ? (int)n : -1;
}

struct be_key {
    struct nb_vif *v;
    const char *key, *val;
};

static int be_write_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct be_key *k = arg;
    if (!xnv_xs_exists(hv, tx, k->v->be_path, NULL))
        return -ENOENT;
    return xnv_xs_printf(hv, tx, k->v->be_path, k->key, "%s", k->val);
}

/* Write one key of the device directory, unless the toolstack removed the
 * directory meanwhile (xl destroy removes it while the domain dies): a plain
 * write would create it again, and nobody would ever remove that node. */
int nb_be_write(struct nb_vif *v, const char *key, const char *val)
{
    struct be_key k = { v, key, val };
    return xnv_xs_transact(v->nb->hv, NB_XS_TRIES, be_write_tx, &k);
}

int nb_write_state(struct nb_vif *v, int state)
{
    char val[4];
    snprintf(val, sizeof val, "%d", state);
    int rc = nb_be_write(v, "state", val);
    if (rc == 0)
        v->be_state = state;
    return rc;
}

/* A guest can have the same refusal or connection happen as often as it
 * likes (by flipping its state): a burst of log lines per vif and window
 * (xnv/log_limit.h); the error node still gets every reason. */
static bool vif_log_allowed(struct nb_vif *v)
{
    unsigned missed;
    bool ok = xnv_log_limit_take(&v->log_limit, xnv_now_ns(), &missed);
    if (missed)
        nb_log(v->nb, LOG_WARNING, "vif%u.%u: %u more line(s) not logged in the last %u s", v->domid,
               v->devid, missed, XNV_LOG_WINDOW_S);
    return ok;
}

void nb_vif_fail(struct nb_vif *v, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (vif_log_allowed(v))
        nb_log(v->nb, LOG_ERR, "vif%u.%u: %s", v->domid, v->devid, msg);
    nb_be_write(v, "error", msg);
    nb_disconnect(v);
    nb_write_state(v, XenbusStateClosed);
    v->phase = NB_CLOSED;
    v->failed_at_ms = nb_now_ms();
}

static bool ifname_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

static int initwait_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    struct nb_vif *v = arg;
    if (!xnv_xs_exists(hv, tx, v->be_path, NULL))
        return -ENOENT;
    int rc = nb_advertise(v, tx);
    return rc ? rc : xnv_xs_write_state(hv, tx, v->be_path, XenbusStateInitWait);
}

/* Advertise features and go to InitWait, in one transaction. */
static int enter_initwait(struct nb_vif *v)
{
    int rc = xnv_xs_transact(v->nb->hv, NB_XS_TRIES, initwait_tx, v);
    if (rc == 0) {
        nb_advertised(v);
        v->be_state = XenbusStateInitWait;
        v->phase = NB_INITWAIT;
    }
    return rc;
}

/* First sight of a complete device directory: create the interface. */
static void probe(struct nb_vif *v)
{
    char *fe = rd(v, v->be_path, "frontend");
    int fe_id = rd_int(v, v->be_path, "frontend-id");
    char prefix[48];
    snprintf(prefix, sizeof prefix, "/local/domain/%u/", v->domid);
    if (!fe || fe_id < 0) {
        free(fe);
        return;                              /* the toolstack is still writing */
    }
    if (fe_id != v->domid || strncmp(fe, prefix, strlen(prefix)) != 0 || strlen(fe) >= sizeof v->fe_path) {
        nb_vif_fail(v, "frontend \"%.64s\" (frontend-id %d) is not in domain %u", fe, fe_id, v->domid);
        free(fe);
        return;
    }
    snprintf(v->fe_path, sizeof v->fe_path, "%s", fe);
    snprintf(v->fe_state_path, sizeof v->fe_state_path, "%s/state", fe);
    free(fe);

    char err[320];
    char *name = rd(v, v->be_path, "vifname");
    if (name && !ifname_ok(name)) {
        nb_vif_fail(v, "vifname \"%.32s\" is not a valid interface name", name);
        free(name);
        return;
    }
    char *hs = rd(v, v->be_path, "hotplug-status");
    bool script_ran = hs && strcmp(hs, "connected") == 0;
    free(hs);
    int opened = nb_iface_open(v, name, script_ran, err, sizeof err);
    free(name);
    if (opened) {
        nb_vif_fail(v, "%s", err);
        return;
    }
    xnv_xs_watch(v->nb->hv, v->fe_state_path, v->token);
    int fe_state = rd_int(v, v->fe_path, "state");
    nb_recover_check(v, fe_state);
    if (rd_int(v, v->be_path, "state") == XenbusStateConnected && fe_state == XenbusStateConnected) {
        /* A restarted service: the guest is live, resume its rings as they are. */
        v->be_state = XenbusStateConnected;
        v->phase = NB_INITWAIT;
        v->resuming = true;
        nb_log(v->nb, LOG_INFO, "vif%u.%u: %s resumed from a previous run", v->domid, v->devid, v->port->name);
        return;
    }
    int rc = enter_initwait(v);
    if (rc) {
        nb_vif_fail(v, "cannot advertise features: %s", strerror(-rc));
        return;
    }
    nb_log(v->nb, LOG_INFO, "vif%u.%u: %s created, waiting for the frontend", v->domid, v->devid, v->port->name);
}

static bool hotplug_connected(struct nb_vif *v)
{
    char *s = rd(v, v->be_path, "hotplug-status");
    bool ok = s && strcmp(s, "connected") == 0;
    if (s && strcmp(s, "error") == 0 && v->be_state != XenbusStateClosed) {
        char *why = rd(v, v->be_path, "hotplug-error");
        nb_vif_fail(v, "the hotplug script failed: %s", why ? why : "(no hotplug-error)");
        free(why);
    }
    free(s);
    return ok;
}

/* In a driver domain xenstore may refuse to say whether another domain
 * exists (-EACCES): then the frontend's own state node, readable by its
 * backend while the device exists, decides alone. */
static bool frontend_domain_alive(struct nb_vif *v)
{
    struct xnv_dominfo di;
    int rc = xnv_dom_info(v->nb->hv, v->domid, &di);
    return rc == -EACCES || (rc == 0 && !di.dying);
}

static void close_device(struct nb_vif *v, int state)
{
    if (v->data_running)
        nb_disconnect(v);
    else
        nb_rings_unmark(v);      /* rings a previous run left are given up too */
    if (v->be_state != state)
        nb_write_state(v, state);
    if (state == XenbusStateClosed)
        v->phase = NB_CLOSED;
}

static void connect_device(struct nb_vif *v)
{
    char err[320];
    if (v->phase == NB_INITWAIT) {
        if (nb_connect(v, err, sizeof err)) {
            nb_vif_fail(v, "%s", err);
            return;
        }
        v->phase = NB_CONNECTED;
        if (vif_log_allowed(v))
            nb_log(v->nb, LOG_INFO, "vif%u.%u: connected, %u queue(s), features 0x%x", v->domid,
                   v->devid, v->nqueues, v->neg.flags);
    }
    if (v->phase == NB_CONNECTED && v->be_state != XenbusStateConnected && hotplug_connected(v)) {
        nb_iface_sync_name(v);
        nb_write_state(v, XenbusStateConnected);
    }
}

static const char *broken_reason(struct nb_vif *v)
{
    const char *why = atomic_load(&v->broken_why);
    return why ? why : "protocol violation";
}

void nb_vif_evaluate(struct nb_vif *v)
{
    if (v->phase == NB_PROBING) {
        probe(v);
        if (v->phase == NB_PROBING)
            return;
    }
    if (atomic_load(&v->broken) && v->data_running) {
        nb_vif_fail(v, "frontend broke the protocol: %s; vif disconnected", broken_reason(v));
        return;
    }
    int online = rd_int(v, v->be_path, "online");
    int fe = frontend_domain_alive(v) ? rd_int(v, v->fe_path, "state") : -1;
    if (online == 0) {
        close_device(v, XenbusStateClosed);
        return;
    }
    switch (fe) {
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (v->phase != NB_CLOSED)
            connect_device(v);
        break;
    case XenbusStateClosing:
        close_device(v, XenbusStateClosing);
        break;
    case XenbusStateInitialising:
    case XenbusStateInitWait:
        /* A frontend that starts over (reboot, kexec, restore): reconnect.
         * From Closing too: its Closed in between may not have been seen,
         * since a look reads the state a frontend is in now. */
        if (v->port && (v->phase == NB_CLOSED || v->phase == NB_CONNECTED || v->be_state == XenbusStateClosing)) {
            uint64_t hold_end = v->failed_at_ms + v->nb->cfg.fail_hold_ms;
            if (v->failed_at_ms && nb_now_ms() < hold_end) {
                nb_vif_look_at(v, hold_end);      /* InitWait then */
                break;
            }
            close_device(v, XenbusStateClosed);
            int rc = enter_initwait(v);
            if (rc)
                nb_vif_fail(v, "cannot advertise features: %s", strerror(-rc));
        }
        break;
    default:   /* Closed, unknown, or the frontend is gone */
        close_device(v, XenbusStateClosed);
        break;
    }
}
