/* The simulated host's network interfaces, as the kernel keeps TAP devices:
 * opening a name creates the interface or attaches to it again; closing it
 * removes it unless it was made persistent; a persistent one stays, with
 * its name and its bridge, until opened and closed again without the flag.
 * The hotplug script's part (vif-common.sh, vif-bridge) renames one and puts
 * it on a bridge.  Behind each interface is an in-memory port (memport.c),
 * which the tests use to inject and take frames. */
#ifndef XNV_TEST_NB_HOST_H
#define XNV_TEST_NB_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include "xnv/port.h"

#define NB_HOST_IFACES 32

struct nb_host;

struct nb_host_if {
    struct xnv_port base;       /* what the engine holds while attached */
    struct nb_host *host;
    struct xnv_port *mem;       /* the in-memory port behind it; NULL: gone */
    char name[16];              /* its name now (base.name: as the engine last read it) */
    char bridge[16];            /* "": on no bridge */
    bool attached, persistent;
};

struct nb_host {
    pthread_mutex_t lock;
    struct nb_host_if ifs[NB_HOST_IFACES];
    unsigned n;
};

void nb_host_init(struct nb_host *h);
/* Removes every interface left (persistent ones). */
void nb_host_free(struct nb_host *h);

/* The port factory of the engine (xnv_netback_config.open_port/port_exists). */
struct xnv_port *nb_host_open(struct nb_host *h, const char *name, char *err, size_t errlen);
bool nb_host_exists(struct nb_host *h, const char *name);

/* The in-memory port of the interface called name now (NULL: none). */
struct xnv_port *nb_host_port(struct nb_host *h, const char *name);
/* Its bridge ("" for none), NULL when there is no such interface. */
const char *nb_host_bridge(struct nb_host *h, const char *name);
/* Interfaces that exist. */
unsigned nb_host_count(struct nb_host *h);

/* What the vif hotplug script does on "online" for interface dev: with a
 * vifname, rename dev to it (refused when the name is taken, as
 * vif-common.sh refuses); then put it on bridge.  0, or -1 with the
 * script's error message in err. */
int nb_host_hotplug_online(struct nb_host *h, const char *dev, const char *vifname, const char *bridge,
                           char *err, size_t errlen);

#endif
