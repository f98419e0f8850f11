/* xnv-netfront: room in the guest kernel's gntalloc.  gntalloc gives all of
 * userspace at most `limit` grants together (1024 by default), and this
 * agent shares every page of its rings and buffers through it: 514 a queue
 * for the vif, and 257 more for each peer's channel receive ring.  With the
 * default, a guest with two queues has no room for a single channel, and
 * one with one queue for one peer: its later channels fail to share their
 * rings and those peers' frames stay on the vif.  The limit is a module
 * parameter root may raise; the grant table itself (the hypervisor's
 * max_grant_frames for the domain) stays the real bound. */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include "agent.h"
#include "xnv/gntalloc_limit.h"
#include "xnv/idc.h"
#include "xnv/netif.h"

/* Channel peers planned for (more are served while grants last). */
#define AGENT_PLANNED_PEERS 16u

unsigned agent_grants_needed(unsigned queues, bool channels)
{
    unsigned vif = queues * (XNV_NETIF_TX_RING_SIZE + XNV_NETIF_RX_RING_SIZE + 2);
    return vif + (channels ? AGENT_PLANNED_PEERS * (XNV_IDC_MAX_BUFS + 1) : 0) + 64;
}

int agent_grants_reserve(unsigned queues, bool channels, const char *path)
{
    if (!path)
        path = XNV_GNTALLOC_LIMIT;
    unsigned need = agent_grants_needed(queues, channels), limit = 0;
    int rc = xnv_gntalloc_limit_read(path, &limit);
    if (rc < 0) {
        agent_logf(LOG_WARNING, "cannot read %s (%s): if gntalloc allows fewer than %u grants, some rings "
                   "cannot be shared", path, strerror(-rc), need);
        return rc;
    }
    if (limit >= need)
        return 0;
    rc = xnv_gntalloc_limit_write(path, need);
    if (rc < 0) {
        agent_logf(LOG_WARNING, "gntalloc allows %u grants, %u wanted (%u queue(s)%s), and %s cannot be "
                   "raised (%s): some rings may not be shared", limit, need, queues,
                   channels ? ", channels" : "", path, strerror(-rc));
        return rc;
    }
    agent_logf(LOG_NOTICE, "raised gntalloc's limit from %u to %u grants (%u queue(s)%s)", limit, need,
               queues, channels ? " and channels to 16 peers" : "");
    return 1;
}
