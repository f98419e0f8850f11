/* The simulation object: its lock and lifetime, domains, handles, counters. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "sim_internal.h"

void sim_lock(struct xnv_sim *sim) { pthread_mutex_lock(&sim->lock); }
void sim_unlock(struct xnv_sim *sim) { pthread_mutex_unlock(&sim->lock); }

struct sim_dom *sim_dom_get(struct xnv_sim *sim, xnv_domid_t id)
{
    return id < sim->ndoms ? sim->doms[id] : NULL;
}

struct sim_dom *sim_dom_alive(struct xnv_sim *sim, xnv_domid_t id)
{
    struct sim_dom *d = sim_dom_get(sim, id);
    return d && d->alive ? d : NULL;
}

/* Everything is gone: no handle is open any more. */
static void sim_teardown(struct xnv_sim *sim)
{
    for (unsigned i = 0; i < sim->ndoms; i++) {
        struct sim_dom *d = sim->doms[i];
        sim_regions_free_all(d);
        sim_mem_release(d);
        free(d->ports);
        free(d);
    }
    free(sim->doms);
    sim_xs_node_free(sim->xs_root);
    pthread_mutex_destroy(&sim->lock);
    free(sim);
}

void sim_put(struct xnv_sim *sim)
{
    sim_lock(sim);
    bool last = --sim->refs == 0;
    sim_unlock(sim);
    if (last)
        sim_teardown(sim);
}

static int home_path(char *buf, size_t len, xnv_domid_t id, const char *leaf)
{
    int n = snprintf(buf, len, "/local/domain/%u%s%s", id, leaf ? "/" : "", leaf ? leaf : "");
    return n > 0 && (size_t)n < len ? 0 : -EINVAL;
}

/* Lock held.  Returns the new domid or -errno. */
static int dom_new(struct xnv_sim *sim, const char *name)
{
    if (sim->ndoms > SIM_MAX_DOMID)
        return -ENOSPC;
    if (sim->ndoms == sim->doms_cap) {
        unsigned cap = sim->doms_cap ? sim->doms_cap * 2 : 16;
        struct sim_dom **nd = realloc(sim->doms, cap * sizeof(*nd));
        if (!nd)
            return -ENOMEM;
        sim->doms = nd;
        sim->doms_cap = cap;
    }
    struct sim_dom *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->id = (xnv_domid_t)sim->ndoms;
    d->memfd = -1;
    d->share_limit = SIM_DEFAULT_SHARE_LIMIT;
    int rc = sim_mem_init(d);
    if (rc < 0) {
        free(d);
        return rc;
    }
    if (d->id != 0 && (rc = sim_seed_toolstack_grants(d)) < 0) {
        sim_mem_release(d);
        free(d);
        return rc;
    }
    d->alive = true;
    sim->doms[sim->ndoms++] = d;

    /* The home directory belongs to the domain; name and domid inherit. */
    char path[64], id[8];
    struct xs_permissions own = { .id = d->id, .perms = XS_PERM_NONE };
    snprintf(id, sizeof(id), "%u", d->id);
    if ((rc = home_path(path, sizeof(path), d->id, NULL)) < 0 ||
        (rc = sim_xs_sys_write(sim, path, "")) < 0 ||
        (rc = sim_xs_sys_set_perms(sim, path, &own, 1)) < 0 ||
        (rc = home_path(path, sizeof(path), d->id, "name")) < 0 ||
        (rc = sim_xs_sys_write(sim, path, name)) < 0 ||
        (rc = home_path(path, sizeof(path), d->id, "domid")) < 0 ||
        (rc = sim_xs_sys_write(sim, path, id)) < 0)
        return rc;      /* the domain exists; only its xenstore entries are short */
    sim_xs_fire(sim, "@introduceDomain", NULL, false);
    return d->id;
}

struct xnv_sim *xnv_sim_new(void)
{
    struct xnv_sim *sim = calloc(1, sizeof(*sim));
    if (!sim)
        return NULL;
    pthread_mutex_init(&sim->lock, NULL);
    sim->refs = 1;
    if (sim_xs_init(sim) < 0 || dom_new(sim, "Domain-0") != 0) {
        int e = errno ? errno : ENOMEM;
        sim_teardown(sim);
        errno = e;
        return NULL;
    }
    return sim;
}

/* Resources go when the last user lets go: the simulation itself here, or
 * the last handle closed after this call. */
void xnv_sim_free(struct xnv_sim *sim)
{
    if (sim)
        sim_put(sim);
}

int xnv_sim_domain_create(struct xnv_sim *sim, const char *name)
{
    if (!name || strlen(name) > XENSTORE_PAYLOAD_MAX)
        return -EINVAL;
    sim_lock(sim);
    int rc = dom_new(sim, name);
    sim_unlock(sim);
    return rc;
}

int xnv_sim_domain_destroy(struct xnv_sim *sim, xnv_domid_t dom)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, dom);
    int rc = 0;
    if (!d) {
        rc = -ESRCH;
    } else if (dom == 0) {
        rc = -EPERM;
    } else {
        d->alive = false;
        sim_grant_domain_destroyed(sim, d);
        sim_evtchn_domain_destroyed(sim, d);
        for (struct sim_hv *h = sim->handles; h; h = h->next)
            if (h->dom == d)
                sim_xs_watches_drop(h);
        char path[64];
        home_path(path, sizeof(path), dom, NULL);
        sim_xs_sys_rm(sim, path);
        sim_xs_fire(sim, "@releaseDomain", NULL, false);
    }
    sim_unlock(sim);
    return rc;
}

int xnv_sim_domain_resume(struct xnv_sim *sim, xnv_domid_t dom)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, dom);
    if (d) {
        sim_evtchn_domain_resumed(sim, d);
        d->shutdown = false;
    }
    sim_unlock(sim);
    return d ? 0 : -ESRCH;
}

int xnv_sim_domain_shutdown(struct xnv_sim *sim, xnv_domid_t dom, unsigned reason)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, dom);
    if (d && !d->shutdown) {
        d->shutdown = true;
        d->shutdown_reason = reason;
        sim_xs_fire(sim, "@releaseDomain", NULL, false);
    }
    sim_unlock(sim);
    return d ? 0 : -ESRCH;
}

struct xnv_hv *xnv_sim_hv_open(struct xnv_sim *sim, xnv_domid_t dom)
{
    struct sim_hv *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->watch_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->watch_efd < 0) {
        free(h);
        return NULL;
    }
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, dom);
    if (!d) {
        sim_unlock(sim);
        close(h->watch_efd);
        free(h);
        errno = ESRCH;
        return NULL;
    }
    h->base.ops = &sim_hv_ops;
    h->base.domid = dom;
    h->sim = sim;
    h->dom = d;
    h->next = sim->handles;
    if (sim->handles)
        sim->handles->prev = h;
    sim->handles = h;
    sim->refs++;
    sim_unlock(sim);
    return &h->base;
}

void sim_hv_close(struct xnv_hv *hv)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xnv_sim *sim = h->sim;
    sim_lock(sim);
    if (h->prev)
        h->prev->next = h->next;
    else
        sim->handles = h->next;
    if (h->next)
        h->next->prev = h->prev;
    sim_xs_watches_drop(h);
    sim_xs_tx_free_all(h);
    sim_unlock(sim);
    close(h->watch_efd);
    free(h);
    sim_put(sim);
}

void xnv_sim_set_share_limit(struct xnv_sim *sim, xnv_domid_t dom, unsigned pages)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_alive(sim, dom);
    if (d)
        d->share_limit = pages;
    sim_unlock(sim);
}

void xnv_sim_set_copy_hook(struct xnv_sim *sim, xnv_sim_copy_hook hook, void *arg)
{
    sim_lock(sim);
    sim->hook = hook;
    sim->hook_arg = arg;
    sim_unlock(sim);
}

/* Counters stay readable after the domain is destroyed. */
void xnv_sim_counters(struct xnv_sim *sim, xnv_domid_t dom, struct xnv_sim_counters *out)
{
    sim_lock(sim);
    struct sim_dom *d = sim_dom_get(sim, dom);
    if (d)
        *out = d->ctr;
    else
        memset(out, 0, sizeof(*out));
    sim_unlock(sim);
}

void xnv_sim_usage(struct xnv_sim *sim, xnv_domid_t dom, struct xnv_sim_usage *out)
{
    memset(out, 0, sizeof(*out));
    sim_lock(sim);
    struct sim_dom *d = sim_dom_get(sim, dom);
    if (d) {
        for (const struct sim_region *r = d->regions; r; r = r->next)
            if (r->kind == REGION_MAP && !r->detached)
                out->mapped_pages += r->n;
        out->shared_pages = d->shared_pages;
        for (xnv_port_t p = 1; p < d->nports; p++)
            if (d->ports[p].state != PORT_FREE)
                out->bound_ports++;
    }
    sim_unlock(sim);
}

static void fill_info(const struct sim_dom *d, struct xnv_dominfo *out)
{
    memset(out, 0, sizeof(*out));
    out->domid = d->id;
    out->shutdown = d->shutdown;
    out->shutdown_reason = d->shutdown_reason;
}

/* Real Xen lets only privileged domains ask; the simulation lets anyone. */
int sim_dom_info(struct xnv_hv *hv, xnv_domid_t dom, struct xnv_dominfo *out)
{
    struct sim_hv *h = sim_hv_of(hv);
    sim_lock(h->sim);
    struct sim_dom *d = h->dom->alive ? sim_dom_alive(h->sim, dom) : NULL;
    if (d)
        fill_info(d, out);
    sim_unlock(h->sim);
    return d ? 0 : -ESRCH;
}

int sim_dom_list(struct xnv_hv *hv, struct xnv_dominfo *out, unsigned max)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct xnv_sim *sim = h->sim;
    int count = 0;
    sim_lock(sim);
    if (!h->dom->alive) {
        sim_unlock(sim);
        return -ESRCH;
    }
    for (unsigned i = 0; i < sim->ndoms; i++) {
        if (!sim->doms[i]->alive)
            continue;
        if ((unsigned)count < max)
            fill_info(sim->doms[i], &out[count]);
        count++;
    }
    sim_unlock(sim);
    return count;
}
