/* Event channels: per-domain port numbers, a ready queue and an eventfd per
 * handle, and mask-on-delivery as Linux's evtchn device does it.
 *
 * A notification on an unmasked port queues it once (later ones collapse
 * until it is read).  xnv_evtchn_pending() hands the port out masked;
 * notifications while masked are latched in `pending` and the port is
 * queued again by xnv_evtchn_unmask().
 *
 * A domain that resumes (xnv_sim_domain_resume) loses every binding, as a
 * restored Linux guest does: its handles turn stale and, where Linux would
 * BUG() or let port numbers collide, refuse to bind or unbind (counted in
 * stale_ops). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>
#include "sim_internal.h"

static void q_push(struct sim_dom *d, struct sim_evtchn *ch, xnv_port_t port)
{
    d->ports[port].queued = true;
    d->ports[port].qnext = 0;
    if (ch->qtail) {
        d->ports[ch->qtail].qnext = port;
    } else {
        ch->qhead = port;
        sim_efd_raise(ch->efd);
    }
    ch->qtail = port;
}

static void q_remove(struct sim_dom *d, struct sim_evtchn *ch, xnv_port_t port)
{
    xnv_port_t prev = 0;
    for (xnv_port_t p = ch->qhead; p; prev = p, p = d->ports[p].qnext) {
        if (p != port)
            continue;
        if (prev)
            d->ports[prev].qnext = d->ports[p].qnext;
        else
            ch->qhead = d->ports[p].qnext;
        if (ch->qtail == port)
            ch->qtail = prev;
        break;
    }
    d->ports[port].queued = false;
    d->ports[port].qnext = 0;
    if (!ch->qhead)
        sim_efd_clear(ch->efd);
}

/* Raise the event of port in domain d (lock held). */
static void port_raise(struct sim_dom *d, xnv_port_t port)
{
    struct sim_port *sp = &d->ports[port];
    if (sp->masked)
        sp->pending = true;
    else if (!sp->queued && sp->owner)
        q_push(d, sp->owner, port);
}

static int port_alloc(struct sim_dom *d, xnv_port_t *out)
{
    for (xnv_port_t p = 1; p < d->nports; p++) {
        if (d->ports[p].state == PORT_FREE) {
            *out = p;
            return 0;
        }
    }
    if (d->nports >= SIM_EVTCHN_MAX_PORTS)
        return -ENOSPC;
    uint32_t cap = d->nports ? d->nports * 2 : 64;
    if (cap > SIM_EVTCHN_MAX_PORTS)
        cap = SIM_EVTCHN_MAX_PORTS;
    struct sim_port *np = realloc(d->ports, cap * sizeof(*np));
    if (!np)
        return -ENOMEM;
    memset(np + d->nports, 0, (cap - d->nports) * sizeof(*np));
    *out = d->nports ? d->nports : 1;
    d->ports = np;
    d->nports = cap;
    return 0;
}

/* Closing an interdomain port leaves the peer's port unbound, waiting for
 * this domain again (as EVTCHNOP_close does). */
static void port_close(struct xnv_sim *sim, struct sim_dom *d, xnv_port_t port)
{
    struct sim_port *sp = &d->ports[port];
    if (sp->state == PORT_INTERDOMAIN) {
        struct sim_dom *r = sim_dom_get(sim, sp->remote_dom);
        if (r && sp->remote_port < r->nports) {
            struct sim_port *rp = &r->ports[sp->remote_port];
            rp->state = PORT_UNBOUND;
            rp->remote_dom = d->id;
            rp->remote_port = 0;
        }
    }
    if (sp->queued)
        q_remove(d, sp->owner, port);
    memset(sp, 0, sizeof(*sp));
}

/* The port as bound through ch, or NULL. */
static struct sim_port *own_port(struct sim_evtchn *ch, xnv_port_t port)
{
    struct sim_dom *d = ch->dom;
    if (port == 0 || port >= d->nports || d->ports[port].owner != ch)
        return NULL;
    return &d->ports[port];
}

/* Lock held: a bind or unbind asked of a stale handle (counted). */
static bool stale_op(struct sim_evtchn *ch)
{
    if (ch->incarnation == ch->dom->incarnation)
        return false;
    ch->dom->ctr.stale_ops++;
    return true;
}

bool sim_evtchn_stale(struct xnv_evtchn *base)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    sim_lock(ch->sim);
    bool stale = ch->incarnation != ch->dom->incarnation;
    sim_unlock(ch->sim);
    return stale;
}

struct xnv_evtchn *sim_evtchn_open(struct xnv_hv *hv)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct sim_evtchn *ch = calloc(1, sizeof(*ch));
    if (!ch)
        return NULL;
    ch->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ch->efd < 0) {
        free(ch);
        return NULL;
    }
    sim_lock(h->sim);
    if (!h->dom->alive) {
        sim_unlock(h->sim);
        close(ch->efd);
        free(ch);
        errno = ESRCH;
        return NULL;
    }
    ch->base.ops = hv->ops;
    char comm[16] = "";
    if (prctl(PR_GET_NAME, comm, 0, 0, 0) != 0)
        comm[0] = '\0';
    snprintf(ch->name, sizeof ch->name, "evtchn:%s", comm);
    ch->sim = h->sim;
    ch->dom = h->dom;
    ch->incarnation = h->dom->incarnation;
    h->sim->refs++;
    sim_unlock(h->sim);
    return &ch->base;
}

void sim_evtchn_close(struct xnv_evtchn *base)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct xnv_sim *sim = ch->sim;
    struct sim_dom *d = ch->dom;
    sim_lock(sim);
    for (xnv_port_t p = 1; p < d->nports && ch->incarnation == d->incarnation; p++)
        if (d->ports[p].owner == ch)
            port_close(sim, d, p);
    sim_unlock(sim);
    close(ch->efd);
    free(ch);
    sim_put(sim);
}

int sim_evtchn_fd(const struct xnv_evtchn *base)
{
    return ((const struct sim_evtchn *)base)->efd;
}

int sim_evtchn_bind_unbound(struct xnv_evtchn *base, xnv_domid_t remote)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct sim_dom *d = ch->dom;
    xnv_port_t port;
    sim_lock(ch->sim);
    int rc = !d->alive ? -ESRCH : stale_op(ch) ? -ESTALE : port_alloc(d, &port);
    if (rc == 0) {
        struct sim_port *sp = &d->ports[port];
        sp->state = PORT_UNBOUND;
        sp->remote_dom = remote == DOMID_SELF ? d->id : remote;
        sp->owner = ch;
        rc = (int)port;
    }
    sim_unlock(ch->sim);
    return rc;
}

int sim_evtchn_bind_interdomain(struct xnv_evtchn *base, xnv_domid_t remote, xnv_port_t rport)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct sim_dom *d = ch->dom, *r;
    xnv_port_t lp;
    int rc;

    sim_lock(ch->sim);
    if (!d->alive || !(r = sim_dom_alive(ch->sim, remote == DOMID_SELF ? d->id : remote))) {
        rc = -ESRCH;
    } else if (stale_op(ch)) {
        rc = -ESTALE;
    } else if (rport == 0 || rport >= r->nports || r->ports[rport].state != PORT_UNBOUND ||
               r->ports[rport].remote_dom != d->id) {
        rc = -EINVAL;
    } else if ((rc = port_alloc(d, &lp)) == 0) {
        struct sim_port *sp = &d->ports[lp];
        sp->state = PORT_INTERDOMAIN;
        sp->remote_dom = r->id;
        sp->remote_port = rport;
        sp->owner = ch;
        struct sim_port *rp = &r->ports[rport];   /* after port_alloc: may have moved */
        rp->state = PORT_INTERDOMAIN;
        rp->remote_port = lp;
        /* Xen sets the new local port pending, as notifications sent to the
         * unbound remote port may have been lost: callers see one event. */
        port_raise(d, lp);
        rc = (int)lp;
    }
    sim_unlock(ch->sim);
    return rc;
}

int sim_evtchn_unbind(struct xnv_evtchn *base, xnv_port_t port)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    sim_lock(ch->sim);
    int rc = -ENOTCONN;
    if (!ch->dom->alive)
        rc = -ESRCH;
    else if (stale_op(ch))
        rc = -ESTALE;
    else if (own_port(ch, port)) {
        port_close(ch->sim, ch->dom, port);
        rc = 0;
    }
    sim_unlock(ch->sim);
    return rc;
}

/* Like Linux: -ENOTCONN for a port not bound through this handle; on a port
 * whose peer has gone (now unbound) Xen drops the event and reports success. */
int sim_evtchn_notify(struct xnv_evtchn *base, xnv_port_t port)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct sim_port *sp;
    int rc = 0;
    sim_lock(ch->sim);
    if (!ch->dom->alive) {
        rc = -ESRCH;
    } else if (!(sp = own_port(ch, port))) {
        rc = -ENOTCONN;
    } else {
        if (sp->state == PORT_INTERDOMAIN) {
            struct sim_dom *r = sim_dom_alive(ch->sim, sp->remote_dom);
            if (r && sp->remote_port < r->nports)
                port_raise(r, sp->remote_port);
        }
        ch->dom->ctr.notifies++;
    }
    sim_unlock(ch->sim);
    return rc;
}

int sim_evtchn_pending(struct xnv_evtchn *base)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct sim_dom *d = ch->dom;
    int rc;
    sim_lock(ch->sim);
    d->ctr.evtchn_reads++;
    if (!d->alive) {
        rc = -ESRCH;
    } else if (!ch->qhead) {
        rc = -EAGAIN;
    } else {
        xnv_port_t port = ch->qhead;
        q_remove(d, ch, port);
        d->ports[port].masked = true;
        d->ports[port].pending = false;
        rc = (int)port;
    }
    sim_unlock(ch->sim);
    return rc;
}

int sim_evtchn_unmask(struct xnv_evtchn *base, xnv_port_t port)
{
    struct sim_evtchn *ch = sim_ch_of(base);
    struct sim_port *sp;
    int rc = 0;
    sim_lock(ch->sim);
    if (!ch->dom->alive) {
        rc = -ESRCH;
    } else if (!(sp = own_port(ch, port))) {
        rc = -ENOTCONN;
    } else if (sp->masked) {
        sp->masked = false;
        if (sp->pending) {
            sp->pending = false;
            port_raise(ch->dom, port);
        }
    }
    sim_unlock(ch->sim);
    return rc;
}

/* Lock held: every port of the dead domain is closed, its peers' ports
 * become unbound. */
void sim_evtchn_domain_destroyed(struct xnv_sim *sim, struct sim_dom *d)
{
    for (xnv_port_t p = 1; p < d->nports; p++)
        if (d->ports[p].state != PORT_FREE)
            port_close(sim, d, p);
    free(d->ports);
    d->ports = NULL;
    d->nports = 0;
}

/* Lock held: every port of the domain is gone (its peers' ends become
 * unbound), every handle open so far is stale. */
void sim_evtchn_domain_resumed(struct xnv_sim *sim, struct sim_dom *d)
{
    for (xnv_port_t p = 1; p < d->nports; p++)
        if (d->ports[p].state != PORT_FREE)
            port_close(sim, d, p);
    d->incarnation++;
}

bool xnv_sim_evtchn_peer_name(struct xnv_sim *sim, xnv_domid_t dom, xnv_port_t port, char *buf, size_t len)
{
    bool found = false;
    sim_lock(sim);
    struct sim_dom *d = sim_dom_get(sim, dom);
    if (d && port > 0 && port < d->nports && d->ports[port].state != PORT_FREE) {
        struct sim_dom *r = sim_dom_get(sim, d->ports[port].remote_dom);
        xnv_port_t rp = d->ports[port].remote_port;
        if (r && rp > 0 && rp < r->nports && r->ports[rp].owner) {
            snprintf(buf, len, "%s", r->ports[rp].owner->name);
            found = true;
        }
    }
    sim_unlock(sim);
    return found;
}
