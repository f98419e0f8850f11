/* The channel set's public face: open/close, the event loop step, receive,
 * statistics (sending: idc_send.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "idc_int.h"
#include "xnv/offload.h"

void xnv_idc_options_default(struct xnv_idc_options *o)
{
    *o = (struct xnv_idc_options){ .bufs = 256, .stall_ms = 1000, .retry_ms = 5000, .park_ms = 60000 };
}

static void log_msg(struct xnv_idc *idc, int level, const char *msg)
{
    if (idc->opt.log)
        idc->opt.log(idc->opt.log_arg, level, msg);
    else
        fprintf(stderr, "xnv-idc: %s\n", msg);
}

void idc_log(struct xnv_idc *idc, int level, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg(idc, level, msg);
}

void idc_peer_log(struct xnv_idc *idc, struct idc_peer *p, int level, const char *fmt, ...)
{
    unsigned missed;
    bool ok = xnv_log_limit_take(&p->log, xnv_now_ns(), &missed);
    if (missed)
        idc_log(idc, LOG_WARNING, "peer %u: %u more line(s) not logged in the last %u s", p->dom, missed,
                XNV_LOG_WINDOW_S);
    if (!ok)
        return;
    char msg[320];
    int n = snprintf(msg, sizeof msg, "peer %u: ", p->dom);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    log_msg(idc, level, msg);
}

struct xnv_idc *xnv_idc_open(struct xnv_hv *hv, unsigned devid, const struct xnv_idc_options *o,
                             char *err, size_t errlen)
{
    struct xnv_idc_options def;
    if (!o) {
        xnv_idc_options_default(&def);
        o = &def;
    }
    if (o->bufs < XNV_IDC_MIN_BUFS || o->bufs > XNV_IDC_MAX_BUFS || o->stall_ms == 0) {
        snprintf(err, errlen, "bufs must be %u..%u and stall_ms positive", XNV_IDC_MIN_BUFS,
                 XNV_IDC_MAX_BUFS);
        return NULL;
    }
    struct xnv_idc *idc = calloc(1, sizeof *idc);
    if (!idc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&idc->lock, NULL);
    idc_room_init(idc);
    idc->hv = hv;
    idc->opt = *o;
    idc->devid = devid;
    idc->epfd = idc->timerfd = -1;
    snprintf(idc->fe_dir, sizeof idc->fe_dir, "device/vif/%u", devid);
    idc->ch = xnv_evtchn_open(hv);
    if (!idc->ch || xnv_copy_batch_init(&idc->cb, IDC_COPY_SEGS)) {
        snprintf(err, errlen, "cannot open an event channel handle");
        goto fail;
    }
    idc->epfd = epoll_create1(EPOLL_CLOEXEC);
    idc->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event ev = { .events = EPOLLIN };
    if (idc->epfd < 0 || idc->timerfd < 0 || epoll_ctl(idc->epfd, EPOLL_CTL_ADD, xnv_xs_watch_fd(hv), &ev) ||
        epoll_ctl(idc->epfd, EPOLL_CTL_ADD, xnv_evtchn_fd(idc->ch), &ev) ||
        epoll_ctl(idc->epfd, EPOLL_CTL_ADD, idc->timerfd, &ev)) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        goto fail;
    }
    if (!xnv_xs_exists(hv, XNV_XS_NO_TX, idc->fe_dir, "backend")) {
        snprintf(err, errlen, "this domain has no device/vif/%u", devid);
        goto fail;
    }
    /* An ordinary guest may not be told of other domains' deaths: then the
     * backend's peer list (and failing grant copies) tell. */
    idc->release_watched = xnv_xs_watch(hv, "@releaseDomain", IDC_TOKEN_REL) == 0;
    if (!idc->release_watched)
        idc_log(idc, LOG_INFO, "cannot watch @releaseDomain: peers leave through the backend's list");
    bool xen = strcmp(xnv_hv_kind(hv), "xen") == 0;
    /* Real mappings can vanish (save/restore, migration); simulated ones cannot. */
    if (xen && !(idc->guarded = idc_guard_install()))
        idc_log(idc, LOG_WARNING, "cannot install the fault guard: a restore may kill this process");
    /* gntalloc never says whether a peer still maps a page we revoke. */
    idc->holders_hidden = xen;
    idc_ctrl_start(idc);
    return idc;
fail:
    if (idc->epfd >= 0)
        close(idc->epfd);
    if (idc->timerfd >= 0)
        close(idc->timerfd);
    if (idc->ch)
        xnv_evtchn_close(idc->ch);
    xnv_copy_batch_free(&idc->cb);
    idc_room_destroy(idc);
    pthread_mutex_destroy(&idc->lock);
    free(idc);
    return NULL;
}

/* Lock held.  After this domain was restored or migrated every port bound
 * through our handle is gone and may not be unbound (xnv_evtchn_stale):
 * the channels forget them and a new handle takes the old one's place.
 * true when that happened. */
static bool renew_if_restored(struct xnv_idc *idc)
{
    if (!xnv_evtchn_stale(idc->ch))
        return false;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        idc->peer[i].rx.port = idc->peer[i].tx.port = -1;
        idc_events_forget(&idc->peer[i]);
    }
    struct xnv_evtchn *ch = xnv_evtchn_open(idc->hv);
    if (!ch) {
        idc_log(idc, LOG_ERR, "this domain was restored and no new event channel handle can be "
                "opened: no channel until the agent restarts");
        return true;
    }
    epoll_ctl(idc->epfd, EPOLL_CTL_DEL, xnv_evtchn_fd(idc->ch), NULL);
    xnv_evtchn_close(idc->ch);
    idc->ch = ch;
    struct epoll_event ev = { .events = EPOLLIN };
    if (epoll_ctl(idc->epfd, EPOLL_CTL_ADD, xnv_evtchn_fd(ch), &ev))
        idc_log(idc, LOG_WARNING, "cannot poll the new event channel handle: %s", strerror(errno));
    idc_log(idc, LOG_NOTICE, "this domain was restored: every channel starts over");
    return true;
}

/* Lock held: every channel dropped, rebuilt from the peer list. */
static void start_over(struct xnv_idc *idc)
{
    idc_drop_all(idc);
    idc_ctrl_start(idc);
}

void xnv_idc_close(struct xnv_idc *idc)
{
    if (!idc)
        return;
    pthread_mutex_lock(&idc->lock);
    renew_if_restored(idc);
    idc_drop_all(idc);
    if (idc->peers_watched)
        xnv_xs_unwatch(idc->hv, idc->peers_path, IDC_TOKEN_PEERS);
    if (idc->release_watched)
        xnv_xs_unwatch(idc->hv, "@releaseDomain", IDC_TOKEN_REL);
    char path[96];
    snprintf(path, sizeof path, "%s/request-xnv-channels", idc->fe_dir);
    xnv_xs_rm(idc->hv, XNV_XS_NO_TX, path);
    xnv_xs_rm(idc->hv, XNV_XS_NO_TX, IDC_DIR);
    pthread_mutex_unlock(&idc->lock);
    close(idc->epfd);
    close(idc->timerfd);
    xnv_evtchn_close(idc->ch);
    xnv_copy_batch_free(&idc->cb);
    idc_room_destroy(idc);
    pthread_mutex_destroy(&idc->lock);
    free(idc);
}

void xnv_idc_reset(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->lock);
    renew_if_restored(idc);
    start_over(idc);
    pthread_mutex_unlock(&idc->lock);
}

int xnv_idc_fd(const struct xnv_idc *idc) { return idc->epfd; }

void xnv_idc_process(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->lock);
    char **ev = xnv_xs_read_watch(idc->hv);
    /* A resume fires every watch: before anything is torn down, make sure
     * no port of the old incarnation is touched (the agent's reset on its
     * netfront's reconnection may come later). */
    if (ev && renew_if_restored(idc))
        start_over(idc);
    for (; ev; ev = xnv_xs_read_watch(idc->hv)) {
        idc_ctrl_event(idc, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
        free(ev);
    }
    uint64_t now = xnv_now_ns(), wait = (uint64_t)idc->opt.retry_ms * 1000000u;
    idc_events(idc, now);
    idc_park_expire(idc, now);
    /* Faults and stalls are retried after retry_ms. */
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (p->used && p->listed && p->tx.state == XNV_IDC_FAILED && now - p->tx.failed_at_ns >= wait)
            idc_tx_evaluate(idc, p);
    }
    pthread_mutex_unlock(&idc->lock);
}

/* Lock held.  Frames from one peer to d, from number `got` on, up to n; how many. */
static unsigned recv_peer(struct xnv_idc *idc, struct idc_peer *p, const struct nf_rx_dest *d,
                          unsigned got, unsigned n)
{
    struct nf_rx *r = &p->rx.rx;
    const char *why = NULL;
    RING_IDX prod;
    unsigned first = got;
    int rc = nf_rx_prod(r, &prod, &why);
    while (rc == 0 && got < n) {
        if (r->ring.rsp_cons == prod && ((rc = nf_rx_arm(r, &prod, &why)) < 0 || r->ring.rsp_cons == prod))
            break;
        struct nf_rx_frame rf;
        enum nf_rx_verdict v = nf_rx_gather(r, prod, d->sink ? XNV_NF_MAX_FRAME : d->f[got].cap, &rf);
        if (v == NF_RX_FRAME && nf_rx_hand_over(r, &rf, XNV_NF_OFFLOAD_ALL, idc->rx_scratch, d, got)) {
            p->rx_frames++;
            idc->st.rx_frames++;
            idc->st.rx_bytes += rf.len;
            got++;
        } else {
            p->rx_errors++;
            idc->st.rx_errors++;
            p->last_error = rf.why;
        }
        /* A sink writes straight from the buffers, slowly: each frame's go
         * back to the sender at once, or a batch of writes empties the ring
         * and the sender's frames take the vif meanwhile. */
        if (d->sink && nf_rx_refill(r) && nf_rx_push(r))
            idc_notify(idc, p, p->rx.port);
    }
    if (rc < 0) {
        /* For good: a new listing does not bring it back (idc_park.c). */
        p->last_error = p->refused = why;
        idc_peer_log(idc, p, LOG_WARNING, "channel from it closed: %s", why);
        idc_rx_close(idc, p);
        p->rx.state = XNV_IDC_FAILED;
        return got - first;
    }
    if (nf_rx_refill(r) && nf_rx_push(r))
        idc_notify(idc, p, p->rx.port);
    return got - first;
}

static int recv_into(struct xnv_idc *idc, const struct nf_rx_dest *d, unsigned n)
{
    pthread_mutex_lock(&idc->lock);
    volatile unsigned got = 0;
    sigjmp_buf jb;
    if (idc->guarded && sigsetjmp(jb, 1)) {
        /* Our own shared pages faulted: seen after a restore, when the
         * pages the peer had mapped or copied into came back without their
         * mappings.  Every channel starts over (nothing of the old ones is
         * touched again); the frames read so far are the caller's. */
        idc_log(idc, LOG_WARNING, "a receive ring vanished (restored or migrated?): every channel "
                "starts over");
        renew_if_restored(idc);
        start_over(idc);
        pthread_mutex_unlock(&idc->lock);
        return (int)got;
    }
    if (idc->guarded)
        idc_guard_enter(&jb);
    for (unsigned k = 0; k < XNV_IDC_MAX_PEERS && got < n; k++) {
        struct idc_peer *p = &idc->peer[(idc->rr + k) % XNV_IDC_MAX_PEERS];
        if (p->used && p->rx.state == XNV_IDC_UP)
            got += recv_peer(idc, p, d, got, n);
    }
    idc_guard_leave();
    idc->rr++;
    pthread_mutex_unlock(&idc->lock);
    return (int)got;
}

int xnv_idc_recv(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n)
{
    return recv_into(idc, &(struct nf_rx_dest){ .f = f }, n);
}

int xnv_idc_recv_to(struct xnv_idc *idc, xnv_nf_rx_sink sink, void *ctx, unsigned n)
{
    return recv_into(idc, &(struct nf_rx_dest){ .sink = sink, .ctx = ctx }, n);
}

int xnv_idc_peer(struct xnv_idc *idc, xnv_domid_t dom, struct xnv_idc_peer_info *out)
{
    pthread_mutex_lock(&idc->lock);
    struct idc_peer *p = idc_find_peer(idc, dom);
    if (p && !p->listed)
        p = NULL;                   /* parked: not a peer now */
    if (p)
        *out = (struct xnv_idc_peer_info){
            .dom = p->dom, .rx = p->rx.state, .tx = p->tx.state,
            .tx_frames = p->tx_frames, .rx_frames = p->rx_frames, .rx_errors = p->rx_errors,
            .fallbacks = p->fallbacks, .notifies = p->notifies, .last_error = p->last_error,
        };
    if (p)
        memcpy(out->mac, p->mac, 6);
    pthread_mutex_unlock(&idc->lock);
    return p ? 0 : -ENOENT;
}

unsigned xnv_idc_npeers(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->lock);
    unsigned n = 0;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++)
        n += idc->peer[i].used && idc->peer[i].listed;
    pthread_mutex_unlock(&idc->lock);
    return n;
}

void xnv_idc_stats(struct xnv_idc *idc, struct xnv_idc_stats *out)
{
    pthread_mutex_lock(&idc->lock);
    *out = idc->st;
    out->wakeups = idc->gen;
    pthread_mutex_unlock(&idc->lock);
    pthread_mutex_lock(&idc->room_lock);
    out->room_signals = idc->room_signals;
    pthread_mutex_unlock(&idc->room_lock);
}
