/* Real Xen: event channels through libxenevtchn (/dev/xen/evtchn).  One
 * library handle, hence one fd, per xnv_evtchn handle.
 *
 * After this domain is saved and restored (or migrated) Linux has dropped
 * the bindings of every port bound through the device, but the device
 * still lists them: unbinding one, or closing the device, then hits a
 * BUG_ON in the kernel (drivers/xen/evtchn.c, "irq < 0") and kills the
 * process.  A new incarnation has a new domain id in xenstore: a handle
 * opened under another id is stale: it binds and unbinds nothing more and
 * is never closed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "xen_internal.h"
#include "xnv/rawsys.h"

/* Every event channel device fd open in this process (fd + 1; 0: a free
 * slot), for xnv_xen_evtchn_keep_across_exec(), which reads it from a
 * signal handler: no lock there, only whole-word loads. */
#define TRACKED_MAX 64
static int tracked[TRACKED_MAX];
static pthread_mutex_t tracked_lock = PTHREAD_MUTEX_INITIALIZER;

static void track(int fd, bool on)
{
    pthread_mutex_lock(&tracked_lock);
    for (unsigned i = 0; i < TRACKED_MAX; i++)
        if (__atomic_load_n(&tracked[i], __ATOMIC_RELAXED) == (on ? 0 : fd + 1)) {
            __atomic_store_n(&tracked[i], on ? fd + 1 : 0, __ATOMIC_RELEASE);
            break;
        }
    pthread_mutex_unlock(&tracked_lock);
}

void xnv_xen_evtchn_keep_across_exec(void)
{
    for (unsigned i = 0; i < TRACKED_MAX; i++) {
        int v = __atomic_load_n(&tracked[i], __ATOMIC_ACQUIRE);
        if (v)
            xnv_raw_syscall(SYS_fcntl, v - 1, F_SETFD, 0, 0);
    }
}

static struct xen_evtchn *ev_of(struct xnv_evtchn *ch) { return (struct xen_evtchn *)ch; }

struct xnv_evtchn *xnv_xen_evtchn_open(struct xnv_hv *hv)
{
    struct xen_evtchn *ch = calloc(1, sizeof *ch);
    if (!ch)
        return NULL;
    ch->base.ops = hv->ops;
    ch->x = xen_hv_of(hv);
    if (xnv_xen_xs_own_domid(ch->x->xs, &ch->domid) < 0)
        ch->domid = hv->domid;
    ch->xe = xenevtchn_open(xnv_xen_logger(), 0);
    if (!ch->xe) {
        int e = errno ? errno : ENODEV;
        free(ch);
        errno = e;
        return NULL;
    }
    ch->fd = xenevtchn_fd(ch->xe);
    /* Non-blocking reads: xenevtchn_pending() then fails with EAGAIN
     * instead of sleeping when no event is queued. */
    int fl = fcntl(ch->fd, F_GETFL);
    if (fl < 0 || fcntl(ch->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = errno;
        xenevtchn_close(ch->xe);
        free(ch);
        errno = e;
        return NULL;
    }
    track(ch->fd, true);
    return &ch->base;
}

bool xnv_xen_evtchn_stale(struct xnv_evtchn *ch)
{
    struct xen_evtchn *e = ev_of(ch);
    xnv_domid_t now;
    if (!__atomic_load_n(&e->stale, __ATOMIC_ACQUIRE) && xnv_xen_xs_own_domid(e->x->xs, &now) == 0 &&
        now != e->domid) {
        __atomic_store_n(&e->stale, true, __ATOMIC_RELEASE);
        if (getenv("XNV_XEN_LOG"))
            fprintf(stderr, "xnv-xen: event channel handle of domain %u outlived it (now %u): "
                            "its ports are left alone\n", e->domid, now);
    }
    return __atomic_load_n(&e->stale, __ATOMIC_ACQUIRE);
}

void xnv_xen_evtchn_close(struct xnv_evtchn *ch)
{
    /* Closing the device unbinds every port bound through it: of a stale
     * handle it stays open (one fd) until the process ends. */
    if (!xnv_xen_evtchn_stale(ch)) {
        track(ev_of(ch)->fd, false);
        xenevtchn_close(ev_of(ch)->xe);
    }
    free(ch);
}

int xnv_xen_evtchn_fd(const struct xnv_evtchn *ch)
{
    return ((const struct xen_evtchn *)ch)->fd;
}

static int port_or_errno(xenevtchn_port_or_error_t p)
{
    return p < 0 ? xnv_xen_neg_errno() : (int)p;
}

/* Binds through a stale handle are refused too: a new port may get the
 * number of a stale one, which the device cannot tell apart. */
int xnv_xen_evtchn_bind_unbound(struct xnv_evtchn *ch, xnv_domid_t remote)
{
    if (xnv_xen_evtchn_stale(ch))
        return -ESTALE;
    return port_or_errno(xenevtchn_bind_unbound_port(ev_of(ch)->xe, remote));
}

int xnv_xen_evtchn_bind_interdomain(struct xnv_evtchn *ch, xnv_domid_t remote,
                                    xnv_port_t rport)
{
    if (xnv_xen_evtchn_stale(ch))
        return -ESTALE;
    return port_or_errno(xenevtchn_bind_interdomain(ev_of(ch)->xe, remote, rport));
}

int xnv_xen_evtchn_unbind(struct xnv_evtchn *ch, xnv_port_t port)
{
    if (xnv_xen_evtchn_stale(ch))
        return -ESTALE;
    return xenevtchn_unbind(ev_of(ch)->xe, port) < 0 ? xnv_xen_neg_errno() : 0;
}

int xnv_xen_evtchn_notify(struct xnv_evtchn *ch, xnv_port_t port)
{
    return xenevtchn_notify(ev_of(ch)->xe, port) < 0 ? xnv_xen_neg_errno() : 0;
}

int xnv_xen_evtchn_pending(struct xnv_evtchn *ch)
{
    errno = 0;
    xenevtchn_port_or_error_t p = xenevtchn_pending(ev_of(ch)->xe);
    if (p >= 0)
        return (int)p;
    /* A short read leaves errno untouched: treat it as "nothing yet". */
    if (errno == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
        return -EAGAIN;
    return -errno;
}

int xnv_xen_evtchn_unmask(struct xnv_evtchn *ch, xnv_port_t port)
{
    return xenevtchn_unmask(ev_of(ch)->xe, port) < 0 ? xnv_xen_neg_errno() : 0;
}
