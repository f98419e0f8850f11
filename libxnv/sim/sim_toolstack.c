/* Toolstack emulation for the simulation: what `xl` writes into xenstore
 * for a vif line, and what the vif-bridge hotplug script reports. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xen/io/xenbus.h>
#include "xnv/sim.h"

static int wr(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key, const char *val)
{
    char path[192];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    return xnv_xs_write(hv, tx, path, val, (unsigned)strlen(val));
}

static int write_vif(struct xnv_hv *hv, xnv_xs_tx_t tx, xnv_domid_t backend, xnv_domid_t dom,
                     unsigned devid, const char *mac, const char *vifname)
{
    char be[96], fe[96], num[16];
    snprintf(be, sizeof be, "/local/domain/%u/backend/vif/%u/%u", backend, dom, devid);
    snprintf(fe, sizeof fe, "/local/domain/%u/device/vif/%u", dom, devid);
    struct xs_permissions bp[2] = { { backend, XS_PERM_NONE }, { dom, XS_PERM_READ } };
    struct xs_permissions fp[2] = { { dom, XS_PERM_NONE }, { backend, XS_PERM_READ } };
    int rc = xnv_xs_mkdir(hv, tx, be);
    rc = rc ? rc : xnv_xs_set_perms(hv, tx, be, bp, 2);
    rc = rc ? rc : wr(hv, tx, be, "frontend", fe);
    snprintf(num, sizeof num, "%u", dom);
    rc = rc ? rc : wr(hv, tx, be, "frontend-id", num);
    rc = rc ? rc : wr(hv, tx, be, "online", "1");
    rc = rc ? rc : xnv_xs_write_state(hv, tx, be, XenbusStateInitialising);
    rc = rc ? rc : wr(hv, tx, be, "script", "/etc/xen/scripts/vif-bridge");
    rc = rc ? rc : wr(hv, tx, be, "mac", mac);
    rc = rc ? rc : wr(hv, tx, be, "bridge", "xenbr0");
    snprintf(num, sizeof num, "%u", devid);
    rc = rc ? rc : wr(hv, tx, be, "handle", num);
    rc = rc ? rc : wr(hv, tx, be, "type", "vif");
    rc = rc ? rc : wr(hv, tx, be, "hotplug-status", "");
    if (vifname)
        rc = rc ? rc : wr(hv, tx, be, "vifname", vifname);
    rc = rc ? rc : xnv_xs_mkdir(hv, tx, fe);
    rc = rc ? rc : xnv_xs_set_perms(hv, tx, fe, fp, 2);
    rc = rc ? rc : wr(hv, tx, fe, "backend", be);
    snprintf(num, sizeof num, "%u", backend);
    rc = rc ? rc : wr(hv, tx, fe, "backend-id", num);
    rc = rc ? rc : xnv_xs_write_state(hv, tx, fe, XenbusStateInitialising);
    snprintf(num, sizeof num, "%u", devid);
    rc = rc ? rc : wr(hv, tx, fe, "handle", num);
    rc = rc ? rc : wr(hv, tx, fe, "mac", mac);
    return rc;
}

int xnv_sim_xl_add_vif(struct xnv_sim *sim, xnv_domid_t backend, xnv_domid_t dom, unsigned devid,
                       const char *mac, const char *vifname)
{
    struct xnv_hv *hv = xnv_sim_hv_open(sim, 0);
    if (!hv)
        return -ESRCH;
    int rc = -EAGAIN;
    for (int tries = 0; tries < 10 && rc == -EAGAIN; tries++) {
        xnv_xs_tx_t tx;
        rc = xnv_xs_tx_start(hv, &tx);
        if (rc)
            break;
        rc = write_vif(hv, tx, backend, dom, devid, mac, vifname);
        int end = xnv_xs_tx_end(hv, tx, rc != 0);
        if (rc == 0)
            rc = end;
    }
    xnv_hv_close(hv);
    return rc;
}

int xnv_sim_xl_hotplug(struct xnv_sim *sim, xnv_domid_t backend, xnv_domid_t dom, unsigned devid,
                       const char *status)
{
    struct xnv_hv *hv = xnv_sim_hv_open(sim, 0);
    if (!hv)
        return -ESRCH;
    char be[96];
    snprintf(be, sizeof be, "/local/domain/%u/backend/vif/%u/%u", backend, dom, devid);
    int rc = wr(hv, XNV_XS_NO_TX, be, "hotplug-status", status);
    xnv_hv_close(hv);
    return rc;
}
