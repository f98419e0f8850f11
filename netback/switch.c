/* The switch fast path's table: which connected vifs, on which bridges, own
 * which MAC addresses.  A vif joins once its data path runs and leaves
 * before it stops, under the write lock, so that a reader holding the read
 * lock may use the vif's rings safely. */
#include <string.h>
#include "nb.h"

bool nb_bridge_has_fastpath(const struct xnv_netback *nb, const char *bridge)
{
    return nb_bridge_listed(nb->cfg.fastpath_bridges, bridge);
}

bool nb_bridge_listed(const char *list, const char *bridge)
{
    size_t n = strlen(bridge);
    if (!list || n == 0)
        return false;
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, bridge, n) == 0)
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

void nb_switch_join(struct nb_vif *v)
{
    if (!v->fastpath)
        return;
    pthread_rwlock_wrlock(&v->nb->sw_lock);
    v->in_switch = true;
    pthread_rwlock_unlock(&v->nb->sw_lock);
}

void nb_switch_leave(struct nb_vif *v)
{
    pthread_rwlock_wrlock(&v->nb->sw_lock);
    v->in_switch = false;
    pthread_rwlock_unlock(&v->nb->sw_lock);
}

struct nb_vif *nb_switch_lookup(struct xnv_netback *nb, const char *bridge, const uint8_t mac[6])
{
    for (struct nb_vif *v = nb->vifs; v; v = v->next)
        if (v->in_switch && memcmp(v->mac, mac, 6) == 0 && strcmp(v->bridge, bridge) == 0)
            return v;
    return NULL;
}
