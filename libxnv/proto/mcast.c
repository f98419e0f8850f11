/* A bounded multicast address filter. */
#include <errno.h>
#include <string.h>
#include "xnv/mcast.h"

static int find(const struct xnv_mcast_filter *m, const uint8_t addr[6])
{
    for (unsigned i = 0; i < m->n; i++)
        if (memcmp(m->addr[i], addr, 6) == 0)
            return (int)i;
    return -1;
}

int xnv_mcast_add(struct xnv_mcast_filter *m, const uint8_t addr[6])
{
    if (!(addr[0] & 1))
        return -EINVAL;
    if (find(m, addr) >= 0)
        return 0;
    if (m->n == XNV_MCAST_MAX)
        return -ENOSPC;
    memcpy(m->addr[m->n++], addr, 6);
    return 0;
}

int xnv_mcast_del(struct xnv_mcast_filter *m, const uint8_t addr[6])
{
    int i = find(m, addr);
    if (i < 0)
        return -ENOENT;
    memmove(m->addr[i], m->addr[i + 1], (m->n - (unsigned)i - 1) * 6u);
    m->n--;
    return 0;
}

bool xnv_mcast_match(const struct xnv_mcast_filter *m, const uint8_t addr[6])
{
    return find(m, addr) >= 0;
}
