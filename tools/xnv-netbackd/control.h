/* The daemon's local control socket: one request line, one JSON answer. */
#ifndef XNV_NETBACKD_CONTROL_H
#define XNV_NETBACKD_CONTROL_H

#include "xnv/netback.h"

#define XNV_CONTROL_DEFAULT "/run/xnv/netbackd.sock"

/* Listening socket at path (its directory is created); fd or -errno. */
int control_listen(const char *path);
/* Accept and answer one client (requests: "list", "stats"). */
void control_serve(int lfd, struct xnv_netback *nb);

#endif
