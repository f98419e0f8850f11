/* A vif's host interface, as the kernel's backend has it: created as
 * vif<dom>.<dev>; when the vif line names a vifname, the hotplug script
 * (vif-common.sh) renames it to that name, and refuses when the name is
 * already taken.  An open TAP keeps working across the rename.
 *
 * The TAP is persistent from its creation, so that it outlives a daemon
 * killed without its exit path, with its name, bridge and addresses; a
 * restarted daemon attaches to it again under whichever name it has by
 * then.  Only a vif that really goes takes its TAP with it. */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "nb.h"

static bool iface_exists(struct nb_vif *v, const char *name)
{
    const struct xnv_netback_config *cfg = &v->nb->cfg;
    if (cfg->port_exists)
        return cfg->port_exists(cfg->port_arg, name);
    return cfg->open_port ? false : xnv_tap_exists(name);
}

/* script_ran: the hotplug script reported success for this device (in a
 * previous run), so a TAP named vifname is the one it renamed. */
int nb_iface_open(struct nb_vif *v, const char *vifname, bool script_ran, char *err, size_t errlen)
{
    char base[16], why[256];
    snprintf(base, sizeof base, "vif%u.%u", v->domid, v->devid);
    bool base_there = iface_exists(v, base);
    bool renamed = vifname && script_ran && !base_there && iface_exists(v, vifname);
    const char *name = renamed ? vifname : base;
    const struct xnv_netback_config *cfg = &v->nb->cfg;
    v->port = cfg->open_port ? cfg->open_port(cfg->port_arg, name, why, sizeof why)
                             : xnv_tap_open(name, why, sizeof why);
    if (!v->port) {
        snprintf(err, errlen, "cannot create %s: %s", name, why);
        return -1;
    }
    int rc = xnv_port_set_persist(v->port, true);
    if (rc)
        nb_log(v->nb, LOG_WARNING, "vif%u.%u: cannot make %s persistent (%s): it will not outlive a crash of "
               "the daemon", v->domid, v->devid, name, strerror(-rc));
    if (renamed || base_there)
        nb_log(v->nb, LOG_INFO, "vif%u.%u: %s attached again", v->domid, v->devid, name);
    else if (script_ran)
        nb_log(v->nb, LOG_WARNING, "vif%u.%u: %s created anew: the interface the hotplug script set up "
               "for it (%s) is gone, so this one is on no bridge until the vif is attached again", v->domid,
               v->devid, base, vifname ? vifname : base);
    return 0;
}

/* After the hotplug script: the name it gave (for logs and xnvctl). */
void nb_iface_sync_name(struct nb_vif *v)
{
    char was[sizeof v->port->name];
    snprintf(was, sizeof was, "%s", v->port->name);
    if (xnv_port_sync_name(v->port) == 0 && strcmp(was, v->port->name) != 0)
        nb_log(v->nb, LOG_INFO, "vif%u.%u: %s is now %s (the vif's vifname)", v->domid, v->devid, was,
               v->port->name);
}

void nb_iface_close(struct nb_vif *v, enum nb_iface_fate fate)
{
    if (!v->port)
        return;
    if (fate != NB_IFACE_ABANDON) {
        xnv_port_set_persist(v->port, fate == NB_IFACE_KEEP);
        nb_log(v->nb, LOG_INFO, "vif%u.%u: %s %s", v->domid, v->devid, v->port->name,
               fate == NB_IFACE_REMOVE ? "removed" : "left for a restart");
    }
    xnv_port_close(v->port);
    v->port = NULL;
}
