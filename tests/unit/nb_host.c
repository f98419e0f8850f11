/* The simulated host's network interfaces (see nb_host.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "nb_host.h"

static struct nb_host_if *if_of(struct xnv_port *p) { return (struct nb_host_if *)p; }
static struct xnv_port *mem_of(struct xnv_port *p) { return if_of(p)->mem; }

static int hi_send(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh, const struct iovec *iov,
                   unsigned iovcnt)
{
    return xnv_port_send(mem_of(p), q, vh, iov, iovcnt);
}
static int hi_recv(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh, uint8_t *buf, uint32_t cap)
{
    return xnv_port_recv(mem_of(p), q, vh, buf, cap);
}
static int hi_fd(struct xnv_port *p, unsigned q) { return xnv_port_fd(mem_of(p), q); }
static int hi_backlog(struct xnv_port *p, unsigned q) { return xnv_port_backlog(mem_of(p), q); }
static int hi_set_queues(struct xnv_port *p, unsigned n)
{
    int rc = xnv_port_set_queues(mem_of(p), n);
    if (rc == 0)
        p->nqueues = n;
    return rc;
}
static int hi_set_offload(struct xnv_port *p, uint32_t f) { return xnv_port_set_offload(mem_of(p), f); }
static int hi_set_carrier(struct xnv_port *p, bool up) { return xnv_port_set_carrier(mem_of(p), up); }

/* The engine's control plane calls the ops below; the lock keeps the
 * tests' lookups (from another thread, at times) consistent. */
static struct nb_host *host_of(struct nb_host_if *i) { return i->host; }

static int hi_set_persist(struct xnv_port *p, bool on)
{
    struct nb_host *h = host_of(if_of(p));
    pthread_mutex_lock(&h->lock);
    if_of(p)->persistent = on;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static void hi_close(struct xnv_port *p)
{
    struct nb_host_if *i = if_of(p);
    struct nb_host *h = host_of(i);
    pthread_mutex_lock(&h->lock);
    i->attached = false;
    if (!i->persistent) {             /* the last queue went: so does the interface */
        xnv_port_close(i->mem);
        i->mem = NULL;
    }
    pthread_mutex_unlock(&h->lock);
}

static int hi_sync_name(struct xnv_port *p)
{
    struct nb_host *h = host_of(if_of(p));
    pthread_mutex_lock(&h->lock);
    snprintf(p->name, sizeof p->name, "%s", if_of(p)->name);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

static const struct xnv_port_ops host_if_ops = {
    .send = hi_send, .recv = hi_recv, .fd = hi_fd, .set_queues = hi_set_queues,
    .set_offload = hi_set_offload, .set_carrier = hi_set_carrier, .set_persist = hi_set_persist,
    .close = hi_close, .sync_name = hi_sync_name, .backlog = hi_backlog,
};

void nb_host_init(struct nb_host *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->lock, NULL);
}

void nb_host_free(struct nb_host *h)
{
    for (unsigned k = 0; k < h->n; k++)
        xnv_port_close(h->ifs[k].mem);
    pthread_mutex_destroy(&h->lock);
}

static struct nb_host_if *find(struct nb_host *h, const char *name)
{
    for (unsigned k = 0; k < h->n; k++)
        if (h->ifs[k].mem && strcmp(h->ifs[k].name, name) == 0)
            return &h->ifs[k];
    return NULL;
}

struct xnv_port *nb_host_open(struct nb_host *h, const char *name, char *err, size_t errlen)
{
    pthread_mutex_lock(&h->lock);
    struct nb_host_if *i = find(h, name);
    if (i && i->attached) {
        /* The kernel would add a queue to it; the engine never asks that. */
        snprintf(err, errlen, "%s is in use", name);
        i = NULL;
    } else if (i) {
        i->attached = true;
        i->base.nqueues = 1;
        snprintf(i->base.name, sizeof i->base.name, "%s", name);
    } else {
        unsigned k = 0;
        while (k < h->n && (h->ifs[k].mem || h->ifs[k].attached))
            k++;                      /* the place of one that went, or a new one */
        i = k < NB_HOST_IFACES ? &h->ifs[k] : NULL;
        if (i)
            memset(i, 0, sizeof *i);
        if (!i || !(i->mem = xnv_memport_open(name, 512))) {
            snprintf(err, errlen, i ? "cannot open a memory port" : "too many interfaces");
            i = NULL;
        } else {
            if (k == h->n)
                h->n++;
            i->host = h;
            i->base.ops = &host_if_ops;
            i->base.nqueues = 1;
            snprintf(i->base.name, sizeof i->base.name, "%s", name);
            snprintf(i->name, sizeof i->name, "%s", name);
            i->attached = true;
        }
    }
    pthread_mutex_unlock(&h->lock);
    return i ? &i->base : NULL;
}

bool nb_host_exists(struct nb_host *h, const char *name)
{
    pthread_mutex_lock(&h->lock);
    bool yes = find(h, name) != NULL;
    pthread_mutex_unlock(&h->lock);
    return yes;
}

struct xnv_port *nb_host_port(struct nb_host *h, const char *name)
{
    pthread_mutex_lock(&h->lock);
    struct nb_host_if *i = find(h, name);
    pthread_mutex_unlock(&h->lock);
    return i ? i->mem : NULL;
}

const char *nb_host_bridge(struct nb_host *h, const char *name)
{
    pthread_mutex_lock(&h->lock);
    struct nb_host_if *i = find(h, name);
    pthread_mutex_unlock(&h->lock);
    return i ? i->bridge : NULL;
}

unsigned nb_host_count(struct nb_host *h)
{
    unsigned n = 0;
    pthread_mutex_lock(&h->lock);
    for (unsigned k = 0; k < h->n; k++)
        n += h->ifs[k].mem != NULL;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int nb_host_hotplug_online(struct nb_host *h, const char *dev, const char *vifname, const char *bridge,
                           char *err, size_t errlen)
{
    int rc = 0;
    pthread_mutex_lock(&h->lock);
    struct nb_host_if *i = find(h, dev);
    if (vifname) {
        if (find(h, vifname)) {
            snprintf(err, errlen, "Cannot rename interface %s. An interface with name %s already exists.", dev,
                     vifname);
            rc = -1;
        } else if (!i) {
            snprintf(err, errlen, "ip link set %s name %s failed", dev, vifname);
            rc = -1;
        } else {
            snprintf(i->name, sizeof i->name, "%s", vifname);
        }
    }
    /* vif-bridge does not fail on a device it cannot put on the bridge */
    if (rc == 0 && i && bridge)
        snprintf(i->bridge, sizeof i->bridge, "%s", bridge);
    pthread_mutex_unlock(&h->lock);
    return rc;
}
