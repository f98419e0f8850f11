/* The control plane: who the peers are (the backend's xnv-peers list under
 * our vif's backend directory), their publications for us, and their death
 * (@releaseDomain).  Everything read here comes from another domain and is
 * parsed strictly; a bad entry is skipped, never fatal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "idc_int.h"
#include "xnv/parse.h"

struct idc_peer *idc_find_peer(struct xnv_idc *idc, xnv_domid_t dom)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++)
        if (idc->peer[i].used && idc->peer[i].dom == dom)
            return &idc->peer[i];
    return NULL;
}

/* Gone for sure: no such domain, or dying or shut down.  An ordinary guest
 * often cannot tell (-EACCES: no domctl, another domain's xenstore home not
 * readable): then the backend's peer list decides. */
bool idc_domain_alive(struct xnv_idc *idc, xnv_domid_t dom)
{
    struct xnv_dominfo di;
    int rc = xnv_dom_info(idc->hv, dom, &di);
    if (rc == 0)
        return !di.dying && !di.shutdown;
    return rc != -ESRCH;
}

void idc_drop_peer(struct xnv_idc *idc, struct idc_peer *p)
{
    if (p->watching)
        xnv_xs_unwatch(idc->hv, p->ch_path, p->token);
    idc_tx_close(idc, p, false, NULL);
    idc_rx_close(idc, p);
    memset(p, 0, sizeof *p);
}

void idc_drop_all(struct xnv_idc *idc)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++)
        if (idc->peer[i].used)
            idc_drop_peer(idc, &idc->peer[i]);
}

static void add_peer(struct xnv_idc *idc, xnv_domid_t dom, const uint8_t mac[6])
{
    struct idc_peer *p = NULL;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS && !p; i++)
        if (!idc->peer[i].used)
            p = &idc->peer[i];
    if (!p) {
        idc_log(idc, LOG_WARNING, "more than %u peers listed or parked: peer %u reached through the vif",
                XNV_IDC_MAX_PEERS, dom);
        return;
    }
    memset(p, 0, sizeof *p);
    p->used = true;
    p->dom = dom;
    p->rx.port = p->tx.port = -1;
    snprintf(p->ch_path, sizeof p->ch_path, "/local/domain/%u/" IDC_DIR "/%u", dom, idc->self);
    snprintf(p->token, sizeof p->token, IDC_TOKEN_CH "%u", dom);
    idc_unpark(idc, p, mac);
}

/* One entry of the list: <domid> = <mac>.  false: skip it. */
static bool read_entry(struct xnv_idc *idc, const char *name, xnv_domid_t *dom, uint8_t mac[6])
{
    unsigned len = 0;
    char *v = xnv_xs_read_key(idc->hv, XNV_XS_NO_TX, idc->peers_path, name, &len);
    bool ok = idc_parse_peer(name, v, len, idc->self, dom, mac) == 0;
    free(v);
    return ok;
}

void idc_sync_peers(struct xnv_idc *idc)
{
    bool listed[XNV_IDC_MAX_PEERS] = { false };
    unsigned n = 0;
    char **names = idc->peers_path[0] ? xnv_xs_directory(idc->hv, XNV_XS_NO_TX, idc->peers_path, &n)
                                      : NULL;
    for (unsigned i = 0; i < n; i++) {
        xnv_domid_t dom;
        uint8_t mac[6];
        if (!read_entry(idc, names[i], &dom, mac) || !idc_domain_alive(idc, dom))
            continue;
        struct idc_peer *p = idc_find_peer(idc, dom);
        if (p && p->listed)
            memcpy(p->mac, mac, 6);
        else if (p)
            idc_unpark(idc, p, mac);
        else
            add_peer(idc, dom, mac);
        if ((p = idc_find_peer(idc, dom)) != NULL)
            listed[p - idc->peer] = true;
    }
    free(names);
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (!p->used || !p->listed || listed[i])
            continue;
        if (idc_domain_alive(idc, p->dom))
            idc_park(idc, p);
        else
            idc_drop_peer(idc, p);
    }
}

void idc_check_domains(struct xnv_idc *idc)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (!p->used || idc_domain_alive(idc, p->dom))
            continue;
        if (p->tx.state == XNV_IDC_UP)
            idc_tx_close(idc, p, false, "the peer domain is gone");
        idc_drop_peer(idc, p);
    }
}

void idc_ctrl_start(struct xnv_idc *idc)
{
    unsigned len = 0;
    uint64_t d;
    idc->self = xnv_xs_read_uint(idc->hv, XNV_XS_NO_TX, "domid", NULL, IDC_MAX_DOMID, &d) == 0
                ? (xnv_domid_t)d : xnv_hv_domid(idc->hv);

    char path[IDC_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/backend", idc->fe_dir);
    char *be = xnv_xs_read_key(idc->hv, XNV_XS_NO_TX, idc->fe_dir, "backend", &len);
    if (idc->peers_watched)
        xnv_xs_unwatch(idc->hv, idc->peers_path, IDC_TOKEN_PEERS);
    idc->peers_watched = false;
    idc->peers_path[0] = '\0';
    if (be && strlen(be) == len && len > 0 && len < IDC_PATH_MAX - 16)
        snprintf(idc->peers_path, sizeof idc->peers_path, "%s/xnv-peers", be);
    else
        idc_log(idc, LOG_WARNING, "%s: no backend: no peers", path);
    free(be);

    /* Whatever an earlier run (or incarnation) published is stale. */
    xnv_xs_rm(idc->hv, XNV_XS_NO_TX, IDC_DIR);
    const struct xs_permissions own = { idc->self, XS_PERM_NONE };
    if (xnv_xs_mkdir(idc->hv, XNV_XS_NO_TX, IDC_DIR) || xnv_xs_set_perms(idc->hv, XNV_XS_NO_TX, IDC_DIR, &own, 1))
        idc_log(idc, LOG_WARNING, "cannot create %s: no channel can be offered", IDC_DIR);
    snprintf(path, sizeof path, "%s/request-xnv-channels", idc->fe_dir);
    if (xnv_xs_write(idc->hv, XNV_XS_NO_TX, path, "1", 1))
        idc_log(idc, LOG_WARNING, "cannot write %s: the backend will not list this guest", path);
    if (idc->peers_path[0])
        idc->peers_watched = xnv_xs_watch(idc->hv, idc->peers_path, IDC_TOKEN_PEERS) == 0;
}

void idc_ctrl_event(struct xnv_idc *idc, const char *path, const char *token)
{
    (void)path;
    if (strcmp(token, IDC_TOKEN_PEERS) == 0) {
        idc_sync_peers(idc);
    } else if (strcmp(token, IDC_TOKEN_REL) == 0) {
        idc_check_domains(idc);
    } else if (strncmp(token, IDC_TOKEN_CH, strlen(IDC_TOKEN_CH)) == 0) {
        uint64_t d;
        if (xnv_parse_uint(token + strlen(IDC_TOKEN_CH), IDC_MAX_DOMID, &d) == 0) {
            struct idc_peer *p = idc_find_peer(idc, (xnv_domid_t)d);
            if (p && p->listed)     /* an event queued before it was parked: not for us */
                idc_tx_evaluate(idc, p);
        }
    }
}
