/* One xnv-netbackd per domain (instance_lock.c). */
#ifndef XNV_NETBACKD_INSTANCE_LOCK_H
#define XNV_NETBACKD_INSTANCE_LOCK_H

#include <stddef.h>

#define XNV_NETBACKD_LOCK_PATH "/run/xnv/netbackd.lock"

/* Take the lock at path for the life of the process: its descriptor (kept
 * open), or -1 with the reason in err when another daemon holds it after
 * wait_ms (one that is still exiting gets that long to let go), or -2 with
 * the reason when the lock file cannot be opened at all, so that nothing
 * can be told either way. */
int xnv_netbackd_lock(const char *path, unsigned wait_ms, char *err, size_t errlen);

#endif
