/* One queue: what it keeps for the netfront's lifetime (its lock, event
 * channel handle and pollable fd), what it shares per connection (two rings
 * and its buffers), and how it takes events: drained, unmasked at once when
 * they bring work, left masked for a growing while when they keep coming
 * with none (a backend storming us costs bounded CPU). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "nf.h"

static int ep_add(int epfd, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int nf_queue_open(struct nf_queue *q, struct xnv_netfront *nf, unsigned id)
{
    memset(q, 0, sizeof *q);
    q->nf = nf;
    q->id = id;
    q->epfd = q->timerfd = q->kickfd = -1;
    q->port_tx = q->port_rx = -1;
    pthread_mutex_init(&q->lock, NULL);
    if (!(q->ch = xnv_evtchn_open(nf->hv)))
        return errno ? -errno : -ENODEV;
    q->epfd = epoll_create1(EPOLL_CLOEXEC);
    q->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    q->kickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->epfd < 0 || q->timerfd < 0 || q->kickfd < 0)
        return -errno;
    int rc;
    if ((rc = ep_add(q->epfd, xnv_evtchn_fd(q->ch))) < 0 || (rc = ep_add(q->epfd, q->timerfd)) < 0 ||
        (rc = ep_add(q->epfd, q->kickfd)) < 0)
        return rc;
    return 0;
}

void nf_queue_close(struct nf_queue *q)
{
    if (q->nf)
        nf_queue_teardown(q);
    xnv_evtchn_close(q->ch);
    q->ch = NULL;
    if (q->epfd >= 0)
        close(q->epfd);
    if (q->timerfd >= 0)
        close(q->timerfd);
    if (q->kickfd >= 0)
        close(q->kickfd);
    q->epfd = q->timerfd = q->kickfd = -1;
    if (q->nf)
        pthread_mutex_destroy(&q->lock);
    q->nf = NULL;
}

void nf_queue_kick(struct nf_queue *q)
{
    uint64_t one = 1;
    ssize_t r = write(q->kickfd, &one, sizeof one);
    (void)r;
}

static void set_timer(struct nf_queue *q, unsigned ms)
{
    struct itimerspec its = { .it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L } };
    timerfd_settime(q->timerfd, 0, &its, NULL);
}

static int bind_port(struct nf_queue *q, xnv_domid_t backend, char *err, size_t errlen)
{
    int p = xnv_evtchn_bind_unbound(q->ch, backend);
    if (p < 0)
        snprintf(err, errlen, "queue %u: cannot allocate an event channel for domain %u: %s",
                 q->id, backend, strerror(-p));
    return p;
}

int nf_queue_setup(struct nf_queue *q, xnv_domid_t backend, bool split, unsigned ntx,
                   unsigned nrx, bool scrub, bool sg, char *err, size_t errlen)
{
    struct xnv_hv *hv = q->nf->hv;
    int rc;
    pthread_mutex_lock(&q->lock);
    /* Rings and receive buffers are written by the backend; transmit
     * buffers only read. */
    if ((rc = nf_share(hv, backend, q->ring_pg, 2, true, scrub)) < 0 ||
        (rc = nf_share(hv, backend, q->tx.buf, ntx, false, scrub)) < 0 ||
        (rc = nf_share(hv, backend, q->rx.buf, nrx, true, scrub)) < 0) {
        snprintf(err, errlen, "queue %u: sharing %u pages with domain %u failed: %s%s", q->id,
                 2 + ntx + nrx, backend, strerror(-rc),
                 rc == -ENOSPC ? " (gntalloc's grant limit was reached: raise "
                                 "/sys/module/xen_gntalloc/parameters/limit or use fewer queues)" : "");
        goto fail;
    }
    nf_tx_init(&q->tx, q->ring_pg[0].addr, ntx, scrub, sg);
    nf_rx_init(&q->rx, q->ring_pg[1].addr, nrx);
    if ((q->port_tx = bind_port(q, backend, err, errlen)) < 0) {
        rc = q->port_tx;
        goto fail;
    }
    q->port_rx = q->port_tx;
    if (split && (q->port_rx = bind_port(q, backend, err, errlen)) < 0) {
        rc = q->port_rx;
        goto fail;
    }
    atomic_store(&q->broken, false);
    q->broken_why = NULL;
    pthread_mutex_unlock(&q->lock);
    return 0;
fail:
    pthread_mutex_unlock(&q->lock);
    nf_queue_teardown(q);
    return rc < 0 ? rc : -EIO;
}

void nf_queue_start(struct nf_queue *q)
{
    pthread_mutex_lock(&q->lock);
    nf_rx_refill(&q->rx);
    if (nf_rx_push(&q->rx))
        nf_queue_notify(q, q->port_rx);
    q->up = true;
    pthread_mutex_unlock(&q->lock);
    nf_queue_kick(q);
}

/* Lock held.  After this domain was restored or migrated the handle's
 * ports are gone and must not be unbound (xnv_evtchn_stale): a new handle
 * takes its place and the old one is left alone. */
static void renew_handle(struct nf_queue *q)
{
    struct xnv_evtchn *ch = xnv_evtchn_open(q->nf->hv);
    q->port_tx = q->port_rx = -1;
    if (!ch) {
        xnv_nf_log(q->nf, LOG_WARNING, "queue %u: cannot open a new event channel handle after a restore: %s",
               q->id, strerror(errno));
        return;
    }
    epoll_ctl(q->epfd, EPOLL_CTL_DEL, xnv_evtchn_fd(q->ch), NULL);
    xnv_evtchn_close(q->ch);
    q->ch = ch;
    if (ep_add(q->epfd, xnv_evtchn_fd(ch)) < 0)
        xnv_nf_log(q->nf, LOG_WARNING, "queue %u: cannot poll the new event channel handle", q->id);
    xnv_nf_log(q->nf, LOG_NOTICE, "queue %u: this domain was restored: new event channel handle", q->id);
}

unsigned nf_queue_teardown(struct nf_queue *q)
{
    struct xnv_hv *hv = q->nf->hv;
    pthread_mutex_lock(&q->lock);
    q->up = false;
    if (q->ch && xnv_evtchn_stale(q->ch))
        renew_handle(q);
    if (q->port_rx >= 0 && q->port_rx != q->port_tx)
        xnv_evtchn_unbind(q->ch, (xnv_port_t)q->port_rx);
    if (q->port_tx >= 0)
        xnv_evtchn_unbind(q->ch, (xnv_port_t)q->port_tx);
    q->port_tx = q->port_rx = -1;
    unsigned lost = nf_unshare(hv, q->rx.buf, NF_RX_RING) + nf_unshare(hv, q->tx.buf, NF_TX_RING) +
                    nf_unshare(hv, q->ring_pg, 2);
    q->rx.nbufs = q->tx.nbufs = 0;
    q->rx.nfree = q->tx.nfree = 0;
    q->deferred = false;
    q->nmasked = 0;
    q->storm = 0;
    set_timer(q, 0);
    if (lost)
        XNV_STAT_ADD(q->st.lost_pages, lost);
    pthread_mutex_unlock(&q->lock);
    nf_queue_kick(q);
    return lost;
}

void nf_queue_notify(struct nf_queue *q, int port)
{
    if (port >= 0 && xnv_evtchn_notify(q->ch, (xnv_port_t)port) == 0)
        XNV_STAT_ADD(q->st.notifies, 1);
}

void nf_queue_break(struct nf_queue *q, const char *why)
{
    if (atomic_load(&q->broken))
        return;
    q->broken_why = why;                /* before the flag the control plane reads */
    atomic_store(&q->broken, true);
    q->up = false;
    /* The control plane logs it and disconnects. */
    uint64_t one = 1;
    ssize_t r = write(q->nf->wakefd, &one, sizeof one);
    (void)r;
}

void nf_queue_log_drop(struct nf_queue *q, const char *dir, const char *why)
{
    uint64_t now = xnv_now_ns();
    if (q->last_drop_log_ns && now - q->last_drop_log_ns < 1000000000ull)
        return;
    q->last_drop_log_ns = now;
    xnv_nf_log(q->nf, LOG_WARNING, "queue %u: %s frame dropped: %s", q->id, dir, why);
}

static void unmask_all(struct nf_queue *q)
{
    for (unsigned i = 0; i < q->nmasked; i++)
        xnv_evtchn_unmask(q->ch, (xnv_port_t)q->masked[i]);
    q->nmasked = 0;
}

static void note_masked(struct nf_queue *q, int port)
{
    for (unsigned i = 0; i < q->nmasked; i++)
        if (q->masked[i] == port)
            return;
    if (q->nmasked < sizeof q->masked / sizeof q->masked[0])
        q->masked[q->nmasked++] = port;
    else
        xnv_evtchn_unmask(q->ch, (xnv_port_t)port);
}

/* Responses waiting on either ring (a hint only: the indices are re-read
 * and checked when consumed). */
static bool responses_waiting(const struct nf_queue *q)
{
    return __atomic_load_n(&q->tx.ring.sring->rsp_prod, __ATOMIC_RELAXED) != q->tx.ring.rsp_cons ||
           __atomic_load_n(&q->rx.ring.sring->rsp_prod, __ATOMIC_RELAXED) != q->rx.ring.rsp_cons;
}

/* Which of the queue's three descriptors have something, in one
 * epoll_wait: reading each in turn cost a system call apiece (in a PV
 * guest a trip through the hypervisor), most of them to find nothing. */
static void ready_fds(struct nf_queue *q, bool *kick, bool *timer, bool *events)
{
    struct epoll_event ev[3];
    int n = epoll_wait(q->epfd, ev, 3, 0);
    *kick = *timer = *events = false;
    for (int i = 0; i < n; i++) {
        if (ev[i].data.fd == q->kickfd)
            *kick = true;
        else if (ev[i].data.fd == q->timerfd)
            *timer = true;
        else
            *events = true;
    }
    if (n < 0)                  /* cannot tell: look at each */
        *kick = *timer = *events = true;
}

void nf_queue_service(struct nf_queue *q)
{
    uint64_t v;
    bool kick, timer, events;
    ready_fds(q, &kick, &timer, &events);
    if (kick && read(q->kickfd, &v, sizeof v) < 0) { /* raced: already read */ }
    timer = timer && read(q->timerfd, &v, sizeof v) == (ssize_t)sizeof v;
    unsigned nev = 0;
    int port;
    while (events && (port = xnv_evtchn_pending(q->ch)) >= 0) {
        nev++;
        note_masked(q, port);
    }
    if (nev)
        XNV_STAT_ADD(q->st.events, nev);
    if (q->deferred) {
        if (!timer)
            return;             /* still throttled: events stay latched */
        q->deferred = false;
    }
    if (!q->up) {
        unmask_all(q);
        return;
    }
    if (!nev && !timer)
        return;
    bool work = q->work != q->work_seen || responses_waiting(q);
    q->work_seen = q->work;
    if (work) {
        q->storm /= 2;
    } else if (nev && ++q->storm >= NF_STORM_FREE) {
        unsigned shift = q->storm - NF_STORM_FREE;
        if (shift > NF_STORM_MAX_SHIFT)
            shift = NF_STORM_MAX_SHIFT;
        q->deferred = true;
        set_timer(q, 1u << shift);
        XNV_STAT_ADD(q->st.throttled, 1);
        return;
    }
    unmask_all(q);
}
