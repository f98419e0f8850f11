/* The netfront's lifetime and its public accessors: open, close, control
 * plane entry points, information, statistics, logging. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "nf.h"

static void vlog(struct xnv_netfront *nf, int level, const char *fmt, va_list ap)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s: ", nf->dir);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (nf->opt.log)
        nf->opt.log(nf->opt.log_arg, level, msg);
    else if (level <= LOG_WARNING)
        fprintf(stderr, "xnv-netfront: %s\n", msg);
}

void xnv_nf_log(struct xnv_netfront *nf, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(nf, level, fmt, ap);
    va_end(ap);
}

void nf_error(struct xnv_netfront *nf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nf->err, sizeof nf->err, fmt, ap);
    va_end(ap);
    /* The same error again (every watch event may retry) is logged once. */
    if (strcmp(nf->err, nf->last_logged) != 0) {
        snprintf(nf->last_logged, sizeof nf->last_logged, "%s", nf->err);
        xnv_nf_log(nf, LOG_ERR, "%s", nf->err);
    }
}

const char *xnv_nf_state_name(enum xnv_nf_state s)
{
    switch (s) {
    case XNV_NF_CONNECTING: return "connecting";
    case XNV_NF_CONNECTED: return "connected";
    case XNV_NF_BROKEN: return "broken";
    case XNV_NF_REMOVED: return "removed";
    }
    return "invalid";
}

void xnv_nf_options_default(struct xnv_nf_options *o)
{
    *o = (struct xnv_nf_options){
        .queues = 1,
        .offload = XNV_NF_OFFLOAD_ALL,
        .connect_timeout_ms = 10000,
        .trust = XNV_NF_TRUST_XENSTORE,
    };
}

static int ep_add(int epfd, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void free_nf(struct xnv_netfront *nf)
{
    if (nf->be_watched)
        xnv_xs_unwatch(nf->hv, nf->be_path, nf->tok_back);
    if (nf->tok_front[0])
        xnv_xs_unwatch(nf->hv, nf->dir, nf->tok_front);
    for (unsigned i = 0; i < XNV_NF_MAX_QUEUES; i++)
        if (nf->q[i].nf)
            nf_queue_close(&nf->q[i]);
    if (nf->ctrl_epfd >= 0)
        close(nf->ctrl_epfd);
    if (nf->wakefd >= 0)
        close(nf->wakefd);
    if (nf->ctrl_timerfd >= 0)
        close(nf->ctrl_timerfd);
    free(nf);
}

/* Everything that lives as long as the netfront. */
static int open_resources(struct xnv_netfront *nf, char *err, size_t errlen)
{
    for (unsigned i = 0; i < nf->nq_want; i++) {
        int rc = nf_queue_open(&nf->q[i], nf, i);
        if (rc < 0) {
            snprintf(err, errlen, "cannot open event channel handles: %s", strerror(-rc));
            return rc;
        }
    }
    nf->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    nf->ctrl_timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    nf->ctrl_epfd = epoll_create1(EPOLL_CLOEXEC);
    int wfd = xnv_xs_watch_fd(nf->hv);
    if (nf->wakefd < 0 || nf->ctrl_timerfd < 0 || nf->ctrl_epfd < 0 || wfd < 0 ||
        ep_add(nf->ctrl_epfd, wfd) < 0 || ep_add(nf->ctrl_epfd, nf->wakefd) < 0 ||
        ep_add(nf->ctrl_epfd, nf->ctrl_timerfd) < 0) {
        snprintf(err, errlen, "cannot set up the control plane's fds: %s",
                 strerror(errno ? errno : EIO));
        return -EIO;
    }
    snprintf(nf->tok_front, sizeof nf->tok_front, "xnv-nf/%u/%p/front", nf->devid, (void *)nf);
    snprintf(nf->tok_back, sizeof nf->tok_back, "xnv-nf/%u/%p/back", nf->devid, (void *)nf);
    int rc = xnv_xs_watch(nf->hv, nf->dir, nf->tok_front);
    if (rc < 0) {
        nf->tok_front[0] = '\0';
        snprintf(err, errlen, "cannot watch %s: %s", nf->dir, strerror(-rc));
        return rc;
    }
    return 0;
}

struct xnv_netfront *xnv_nf_open(struct xnv_hv *hv, unsigned devid,
                                 const struct xnv_nf_options *opt, char *err, size_t errlen)
{
    struct xnv_nf_options o;
    if (opt)
        o = *opt;
    else
        xnv_nf_options_default(&o);
    if (o.queues == 0)
        o.queues = 1;
    if (o.queues > XNV_NF_MAX_QUEUES) {
        snprintf(err, errlen, "%u queues asked for: 1 to %u are possible", o.queues, XNV_NF_MAX_QUEUES);
        return NULL;
    }
    struct xnv_netfront *nf = calloc(1, sizeof *nf);
    if (!nf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    nf->hv = hv;
    nf->opt = o;
    nf->devid = devid;
    nf->nq_want = o.queues;
    nf->ctrl_epfd = nf->wakefd = nf->ctrl_timerfd = -1;
    atomic_init(&nf->pub_state, XNV_NF_CONNECTING);
    snprintf(nf->dir, sizeof nf->dir, "device/vif/%u", devid);

    char *b = xnv_xs_read_key(nf->hv, XNV_XS_NO_TX, nf->dir, "backend", NULL);
    if (!b) {
        int e = errno;
        if (e == ENOENT)
            snprintf(err, errlen, "no %s in this domain's xenstore (/local/domain/%u/%s): "
                     "is a vif with this index configured for the guest?", nf->dir,
                     xnv_hv_domid(hv), nf->dir);
        else
            snprintf(err, errlen, "cannot read %s/backend: %s", nf->dir, strerror(e ? e : EIO));
        free_nf(nf);
        return NULL;
    }
    free(b);
    if (open_resources(nf, err, errlen) < 0) {
        free_nf(nf);
        return NULL;
    }
    nf_set_phase(nf, NF_IDLE);
    nf_evaluate(nf);
    if (o.connect_timeout_ms &&
        xnv_nf_wait_state(nf, XNV_NF_CONNECTED, o.connect_timeout_ms) < 0) {
        if (nf->err[0])
            snprintf(err, errlen, "%s", nf->err);
        else if (nf->phase == NF_REMOVED)
            snprintf(err, errlen, "%s was removed while connecting", nf->dir);
        else
            snprintf(err, errlen, "backend %s did not connect within %u ms (it is %s, state %d)",
                     nf->be_path[0] ? nf->be_path : "(none)", o.connect_timeout_ms,
                     nf->phase == NF_WAIT_BACK ? "yet to answer our Connected" : "not in InitWait",
                     nf->be_state);
        xnv_nf_close(nf);
        return NULL;
    }
    return nf;
}

void xnv_nf_close(struct xnv_netfront *nf)
{
    if (!nf)
        return;
    nf->shutdown = true;
    if (nf->phase == NF_WAIT_BACK || nf->phase == NF_CONNECTED)
        nf_start_closing(nf, false);
    uint64_t deadline = xnv_now_ns() + (uint64_t)(NF_CLOSE_WAIT_MS + 500) * 1000000u;
    while (nf->phase == NF_CLOSING && xnv_now_ns() < deadline) {
        struct pollfd p = { .fd = nf->ctrl_epfd, .events = POLLIN };
        poll(&p, 1, 100);
        xnv_nf_ctrl_process(nf);
    }
    if (nf->phase == NF_CLOSING) {
        nf_teardown(nf);
        nf_xs_write_state(nf, XenbusStateClosed);
    }
    if (nf->phase != NF_REMOVED)
        nf_remove_keys(nf);
    free_nf(nf);
}

int xnv_nf_ctrl_fd(const struct xnv_netfront *nf) { return nf->ctrl_epfd; }

enum xnv_nf_state xnv_nf_ctrl_process(struct xnv_netfront *nf)
{
    uint64_t v;
    ssize_t r = read(nf->wakefd, &v, sizeof v);
    (void)r;
    if (read(nf->ctrl_timerfd, &v, sizeof v) == (ssize_t)sizeof v)
        nf->close_timed_out = true;
    char **ev;
    while ((ev = xnv_xs_read_watch(nf->hv)))
        free(ev);
    nf_evaluate(nf);
    return (enum xnv_nf_state)atomic_load(&nf->pub_state);
}

int xnv_nf_wait_state(struct xnv_netfront *nf, enum xnv_nf_state want, unsigned timeout_ms)
{
    uint64_t deadline = xnv_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        if (xnv_nf_ctrl_process(nf) == want)
            return 0;
        uint64_t now = xnv_now_ns();
        if (now >= deadline)
            return -ETIMEDOUT;
        uint64_t left_ms = (deadline - now + 999999u) / 1000000u;
        struct pollfd p = { .fd = nf->ctrl_epfd, .events = POLLIN };
        poll(&p, 1, left_ms > 1000 ? 1000 : (int)left_ms);
    }
}

int xnv_nf_reconnect(struct xnv_netfront *nf)
{
    int rc = 0;
    if (nf->phase == NF_WAIT_BACK || nf->phase == NF_CONNECTED)
        rc = nf_start_closing(nf, false);
    else if (nf->phase == NF_BROKEN)
        nf_set_phase(nf, NF_IDLE);
    nf_evaluate(nf);
    return rc;
}

enum xnv_nf_state xnv_nf_state(const struct xnv_netfront *nf)
{
    return (enum xnv_nf_state)atomic_load(&nf->pub_state);
}

bool xnv_nf_carrier(const struct xnv_netfront *nf)
{
    return atomic_load(&nf->pub_state) == XNV_NF_CONNECTED && atomic_load(&nf->carrier);
}

const char *xnv_nf_last_error(const struct xnv_netfront *nf) { return nf->err; }

int xnv_nf_queue_fd(const struct xnv_netfront *nf, unsigned q)
{
    return q < nf->nq_want ? nf->q[q].epfd : -1;
}

void xnv_nf_info(const struct xnv_netfront *nf, struct xnv_nf_info *out)
{
    memset(out, 0, sizeof *out);
    unsigned nq = atomic_load(&nf->nq);
    out->devid = nf->devid;
    out->queues = nf->nq_want;
    out->active_queues = nq;
    out->backend_id = nf->be_dom;
    snprintf(out->backend, sizeof out->backend, "%.127s", nf->be_path);
    memcpy(out->mac, nf->mac, 6);
    out->mtu = nf->mtu ? nf->mtu : 1500;
    out->tx_offload = nf->tx_flags;
    out->rx_offload = nf->rx_flags;
    out->split_evtchn = nf->split;
    out->trusted = nf->trusted;
    out->tx_bufs = nf->ntx;
    out->rx_bufs = nf->nrx;
    out->grant_limit = nf->grant_limit;
    out->connections = nf->connections;
    bool up = nf->phase == NF_WAIT_BACK || nf->phase == NF_CONNECTED || nf->phase == NF_CLOSING;
    out->shared_pages = up ? nq * (2 + nf->ntx + nf->nrx) : 0;
}

static void add_stats(struct xnv_nf_stats *o, const struct xnv_nf_stats *s)
{
#define ADD(f) o->f += __atomic_load_n(&s->f, __ATOMIC_RELAXED)
    ADD(tx_packets); ADD(tx_bytes); ADD(tx_errors);
    ADD(rx_packets); ADD(rx_bytes); ADD(rx_errors); ADD(rx_dropped);
    ADD(notifies); ADD(events); ADD(throttled); ADD(lost_pages);
#undef ADD
}

void xnv_nf_stats(const struct xnv_netfront *nf, unsigned q, struct xnv_nf_stats *out)
{
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < nf->nq_want; i++)
        if (q == XNV_NF_ALL_QUEUES || q == i)
            add_stats(out, &nf->q[i].st);
}
