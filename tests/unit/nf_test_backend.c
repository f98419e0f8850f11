/* A small scripted netif backend over the simulated hypervisor (see
 * nf_test_backend.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "copy_helpers.h"
#include "nf_test_backend.h"
#include "xnv/parse.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int write_key(struct xnv_hv *hv, const char *dir, const char *key, const char *val)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    return xnv_xs_write(hv, XNV_XS_NO_TX, path, val, (unsigned)strlen(val));
}

static char *read_key(struct xnv_hv *hv, const char *dir, const char *key)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "%s/%s", dir, key);
    return xnv_xs_read(hv, XNV_XS_NO_TX, path, &len);
}

static int read_uint(struct xnv_hv *hv, const char *dir, const char *key, uint64_t max, uint64_t *out)
{
    char *v = read_key(hv, dir, key);
    if (!v)
        return -ENOENT;
    int rc = xnv_parse_uint(v, max, out);
    free(v);
    return rc;
}

char *nftb_read(struct nftb *b, const char *dir, const char *key) { return read_key(b->tool, dir, key); }
int nftb_write(struct nftb *b, const char *dir, const char *key, const char *val)
{
    return write_key(b->tool, dir, key, val);
}

int nftb_front_state(struct nftb *b)
{
    uint64_t s;
    return read_uint(b->tool, b->fe_path, "state", 255, &s) == 0 ? (int)s : 0;
}

static void set_state(struct nftb *b, int s)
{
    char v[4];
    snprintf(v, sizeof v, "%d", s);
    write_key(b->hv, b->be_path, "state", v);
    b->state = s;
}

void nftb_lock(struct nftb *b) { pthread_mutex_lock(&b->lock); }
void nftb_unlock(struct nftb *b) { pthread_mutex_unlock(&b->lock); }

/* ---- connection ---------------------------------------------------------- */

static void disconnect(struct nftb *b)
{
    for (unsigned i = 0; i < NFTB_MAX_QUEUES; i++) {
        struct nftb_queue *q = &b->q[i];
        if (q->tx_map)
            xnv_gnt_unmap(b->hv, q->tx_map, 1);
        if (q->rx_map)
            xnv_gnt_unmap(b->hv, q->rx_map, 1);
        if (q->port_rx > 0 && q->port_rx != q->port_tx)
            xnv_evtchn_unbind(b->ch, (xnv_port_t)q->port_rx);
        if (q->port_tx > 0)
            xnv_evtchn_unbind(b->ch, (xnv_port_t)q->port_tx);
        memset(q, 0, sizeof *q);
    }
    if (b->connected)
        b->disconnects++;
    b->connected = false;
}

static int connect_queue(struct nftb *b, struct nftb_queue *q, const char *dir)
{
    uint64_t txr, rxr, ptx, prx;
    if (read_uint(b->hv, dir, "tx-ring-ref", UINT32_MAX, &txr) ||
        read_uint(b->hv, dir, "rx-ring-ref", UINT32_MAX, &rxr)) {
        b->connect_error = "missing ring references";
        return -EINVAL;
    }
    if (read_uint(b->hv, dir, "event-channel-tx", 4095, &ptx) == 0) {
        if (read_uint(b->hv, dir, "event-channel-rx", 4095, &prx)) {
            b->connect_error = "event-channel-tx without event-channel-rx";
            return -EINVAL;
        }
        b->split = true;
    } else if (read_uint(b->hv, dir, "event-channel", 4095, &ptx) == 0) {
        prx = ptx;
        b->split = false;
    } else {
        b->connect_error = "no event channel";
        return -EINVAL;
    }
    xnv_gref_t r = (xnv_gref_t)txr;
    if (!(q->tx_map = xnv_gnt_map(b->hv, b->fdom, &r, 1, true))) {
        b->connect_error = "cannot map the TX ring";
        return -EINVAL;
    }
    r = (xnv_gref_t)rxr;
    if (!(q->rx_map = xnv_gnt_map(b->hv, b->fdom, &r, 1, true))) {
        b->connect_error = "cannot map the RX ring";
        return -EINVAL;
    }
    BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_map, XNV_PAGE_SIZE);
    BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_map, XNV_PAGE_SIZE);
    q->port_tx = xnv_evtchn_bind_interdomain(b->ch, b->fdom, (xnv_port_t)ptx);
    q->port_rx = ptx == prx ? q->port_tx : xnv_evtchn_bind_interdomain(b->ch, b->fdom, (xnv_port_t)prx);
    if (q->port_tx < 0 || q->port_rx < 0) {
        b->connect_error = "cannot bind the event channel(s)";
        return -EINVAL;
    }
    return 0;
}

static int connect_rings(struct nftb *b)
{
    char err[128];
    if (xnv_features_read(b->hv, XNV_XS_NO_TX, b->fe_path, XNV_SIDE_FRONT, NFTB_MAX_QUEUES,
                          &b->fe, err, sizeof err) < 0) {
        b->connect_error = "bad frontend feature keys";
        return -EINVAL;
    }
    b->nq = b->fe.queues;
    for (unsigned i = 0; i < b->nq; i++) {
        char dir[128];
        if (b->nq == 1)
            snprintf(dir, sizeof dir, "%s", b->fe_path);
        else
            snprintf(dir, sizeof dir, "%s/queue-%u", b->fe_path, i);
        if (connect_queue(b, &b->q[i], dir) < 0) {
            disconnect(b);
            return -EINVAL;
        }
    }
    b->connected = true;
    b->connects++;
    b->connect_error = NULL;
    return 0;
}

static bool online(struct nftb *b)
{
    uint64_t v;
    return read_uint(b->hv, b->be_path, "online", 1, &v) == 0 && v == 1;
}

/* Lock held: what Linux's netback does on the frontend's state. */
static void react(struct nftb *b, int fs)
{
    if (fs != XenbusStateConnected)
        b->fresh = false;
    switch (fs) {
    case XenbusStateConnected:
        if (b->refuse && b->state == XenbusStateInitWait) {
            b->refusals++;
            set_state(b, XenbusStateClosing);
            break;
        }
        /* After a restart, only a Connected that follows our InitWait. */
        if (b->state == XenbusStateInitWait && !b->connected && !b->fresh && connect_rings(b) == 0)
            set_state(b, XenbusStateConnected);
        break;
    case XenbusStateClosing:
        disconnect(b);
        if (b->state != XenbusStateClosing && b->state != XenbusStateClosed)
            set_state(b, XenbusStateClosing);
        break;
    case XenbusStateClosed:
        disconnect(b);
        if (b->state != XenbusStateClosed)
            set_state(b, XenbusStateClosed);
        break;
    case XenbusStateInitialising:
        if (b->state == XenbusStateClosed && online(b) && !b->hold)
            set_state(b, XenbusStateInitWait);
        break;
    case XenbusStateUnknown:
        disconnect(b);
        break;
    default:
        break;
    }
}

static void *run(void *arg)
{
    struct nftb *b = arg;
    int wfd = xnv_xs_watch_fd(b->hv);
    for (;;) {
        struct pollfd p[2] = { { .fd = wfd, .events = POLLIN }, { .fd = b->stopfd, .events = POLLIN } };
        poll(p, 2, 100);
        if (p[1].revents & POLLIN)
            break;
        char **ev;
        while ((ev = xnv_xs_read_watch(b->hv)))
            free(ev);
        int fs = nftb_front_state(b);
        if (b->hook)
            b->hook(b, fs, b->hook_arg);
        nftb_lock(b);
        react(b, nftb_front_state(b));
        nftb_unlock(b);
    }
    return NULL;
}

/* ---- setup ----------------------------------------------------------------- */

static void probe(struct nftb *b)
{
    struct xnv_features f = { .flags = b->cfg.features ? b->cfg.features : NFTB_ALL_FEATURES,
                              .queues = b->cfg.max_queues };
    if (b->cfg.split)
        f.flags |= XNV_F_SPLIT_EVTCHN;
    if (b->cfg.no_rx_copy)
        f.flags &= ~(uint32_t)XNV_F_RX_COPY;
    xnv_features_write(b->hv, XNV_XS_NO_TX, b->be_path, XNV_SIDE_BACK, &f);
    if (!b->cfg.max_queues) {
        char path[160];
        snprintf(path, sizeof path, "%s/multi-queue-max-queues", b->be_path);
        xnv_xs_rm(b->hv, XNV_XS_NO_TX, path);
    }
    set_state(b, XenbusStateInitWait);
}

static void toolstack_create(struct nftb *b)
{
    char v[64], mac[24];
    snprintf(mac, sizeof mac, "00:16:3e:00:%02x:%02x", b->fdom & 0xff, b->cfg.devid & 0xff);
    struct xs_permissions fe_perms[2] = { { .id = b->fdom, .perms = XS_PERM_NONE },
                                          { .id = b->bdom, .perms = XS_PERM_READ } };
    struct xs_permissions be_perms[2] = { { .id = b->bdom, .perms = XS_PERM_NONE },
                                          { .id = b->fdom, .perms = XS_PERM_READ } };
    xnv_xs_mkdir(b->tool, XNV_XS_NO_TX, b->fe_path);
    xnv_xs_set_perms(b->tool, XNV_XS_NO_TX, b->fe_path, fe_perms, 2);
    xnv_xs_mkdir(b->tool, XNV_XS_NO_TX, b->be_path);
    xnv_xs_set_perms(b->tool, XNV_XS_NO_TX, b->be_path, be_perms, 2);

    write_key(b->tool, b->fe_path, "backend", b->be_path);
    snprintf(v, sizeof v, "%u", b->bdom);
    write_key(b->tool, b->fe_path, "backend-id", v);
    write_key(b->tool, b->fe_path, "state", "1");
    snprintf(v, sizeof v, "%u", b->cfg.devid);
    write_key(b->tool, b->fe_path, "handle", v);
    write_key(b->tool, b->fe_path, "mac", mac);
    if (b->cfg.trusted >= 0)
        write_key(b->tool, b->fe_path, "trusted", b->cfg.trusted ? "1" : "0");

    write_key(b->tool, b->be_path, "frontend", b->fe_path);
    snprintf(v, sizeof v, "%u", b->fdom);
    write_key(b->tool, b->be_path, "frontend-id", v);
    write_key(b->tool, b->be_path, "online", "1");
    write_key(b->tool, b->be_path, "state", "1");
    write_key(b->tool, b->be_path, "mac", mac);
    snprintf(v, sizeof v, "%u", b->cfg.devid);
    write_key(b->tool, b->be_path, "handle", v);
    write_key(b->tool, b->be_path, "type", "vif");
    b->state = XenbusStateInitialising;
}

int nftb_start(struct nftb *b, struct xnv_sim *sim, xnv_domid_t bdom, xnv_domid_t fdom,
               const struct nftb_config *cfg)
{
    memset(b, 0, sizeof *b);
    b->sim = sim;
    b->bdom = bdom;
    b->fdom = fdom;
    b->cfg = *cfg;
    pthread_mutex_init(&b->lock, NULL);
    snprintf(b->be_path, sizeof b->be_path, "/local/domain/%u/backend/vif/%u/%u", bdom, fdom, cfg->devid);
    snprintf(b->fe_path, sizeof b->fe_path, "/local/domain/%u/device/vif/%u", fdom, cfg->devid);
    if (!(b->tool = xnv_sim_hv_open(sim, 0)) || !(b->hv = xnv_sim_hv_open(sim, bdom)) ||
        !(b->ch = xnv_evtchn_open(b->hv)) || xnv_copy_batch_init(&b->batch, 64) < 0)
        return -ENOMEM;
    b->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    toolstack_create(b);
    probe(b);
    xnv_xs_watch(b->hv, b->fe_path, "nftb");
    return -pthread_create(&b->th, NULL, run, b);
}

void nftb_stop(struct nftb *b)
{
    uint64_t one = 1;
    ssize_t r = write(b->stopfd, &one, sizeof one);
    (void)r;
    pthread_join(b->th, NULL);
    nftb_lock(b);
    disconnect(b);
    nftb_unlock(b);
    xnv_xs_unwatch(b->hv, b->fe_path, "nftb");
    close(b->stopfd);
    xnv_copy_batch_free(&b->batch);
    xnv_evtchn_close(b->ch);
    xnv_hv_close(b->hv);
    xnv_hv_close(b->tool);
    pthread_mutex_destroy(&b->lock);
}

bool nftb_wait_connected(struct nftb *b, bool connected, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    do {
        nftb_lock(b);
        bool c = b->connected && b->state == XenbusStateConnected;
        nftb_unlock(b);
        if (c == connected)
            return true;
        usleep(1000);
    } while (now_ms() < end);
    return false;
}

/* ---- data ------------------------------------------------------------------- */

void nftb_notify(struct nftb *b, unsigned q, bool rx)
{
    int port = rx ? b->q[q].port_rx : b->q[q].port_tx;
    if (port > 0)
        xnv_evtchn_notify(b->ch, (xnv_port_t)port);
}

void nftb_push_rx(struct nftb *b, unsigned q)
{
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->q[q].rx, notify);
    if (notify)
        nftb_notify(b, q, true);
}

void nftb_push_tx(struct nftb *b, unsigned q)
{
    int notify;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b->q[q].tx, notify);
    if (notify)
        nftb_notify(b, q, false);
}

int nftb_rx_send(struct nftb *b, unsigned qi, const uint8_t *frame, uint32_t len,
                 const struct xnv_rx_meta *m)
{
    nftb_lock(b);
    if (!b->connected || qi >= b->nq) {
        nftb_unlock(b);
        return -ENOTCONN;
    }
    struct nftb_queue *q = &b->q[qi];
    RING_IDX prod = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);
    struct xnv_rx_placed placed;
    xnv_copy_batch_reset(&b->batch);
    int rc = xnv_rx_place(&q->rx, prod, b->fdom, frame, len, m, &b->batch, 0, &placed);
    if (rc == 0) {
        if (xnv_gnt_copy(b->hv, b->batch.seg, b->batch.n) < 0 || !copy_batch_pkt_ok(&b->batch, 0))
            xnv_rx_fail(&q->rx, &placed);
        nftb_push_rx(b, qi);
    } else if (rc == -EAGAIN) {
        /* Ask to be told when buffers come. */
        q->rx.sring->req_event = q->rx.req_cons + 1;
    }
    nftb_unlock(b);
    return rc;
}

int nftb_tx_take(struct nftb *b, unsigned qi, uint8_t *buf, uint32_t cap, struct xnv_tx_pkt *out)
{
    struct xnv_tx_pkt pkt;
    nftb_lock(b);
    if (!b->connected || qi >= b->nq) {
        nftb_unlock(b);
        return -ENOTCONN;
    }
    struct nftb_queue *q = &b->q[qi];
    RING_IDX prod = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE);
    int rc;
    switch (xnv_tx_read(&q->tx, prod, &pkt)) {
    case XNV_TX_NONE: {
        int more;
        RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
        rc = -EAGAIN;
        break;
    }
    case XNV_TX_FATAL:
        rc = -EPROTO;
        break;
    case XNV_TX_DROP:
        xnv_tx_respond(&q->tx, &pkt, NETIF_RSP_ERROR);
        nftb_push_tx(b, qi);
        rc = -EBADMSG;
        break;
    case XNV_TX_MCAST:
        xnv_tx_respond(&q->tx, &pkt, NETIF_RSP_OKAY);
        nftb_push_tx(b, qi);
        rc = -EAGAIN;
        break;
    default:
        xnv_copy_batch_reset(&b->batch);
        rc = (int)pkt.len;
        if (pkt.len > cap || !tx_add_copies(&b->batch, &pkt, b->fdom, buf, 0) ||
            xnv_gnt_copy(b->hv, b->batch.seg, b->batch.n) < 0 || !copy_batch_pkt_ok(&b->batch, 0))
            rc = -EIO;
        xnv_tx_respond(&q->tx, &pkt, rc < 0 ? NETIF_RSP_ERROR : NETIF_RSP_OKAY);
        nftb_push_tx(b, qi);
        break;
    }
    nftb_unlock(b);
    if (out)
        *out = pkt;
    return rc;
}

int nftb_peek_gref(struct nftb *b, grant_ref_t gref, uint8_t *buf, uint32_t len)
{
    struct xnv_copy_batch cb;
    if (xnv_copy_batch_init(&cb, 1) < 0)
        return -ENOMEM;
    int rc = -EIO;
    if (xnv_copy_from_gref(&cb, b->fdom, gref, 0, (uint16_t)len, buf, 0) &&
        xnv_gnt_copy(b->hv, cb.seg, cb.n) == 0 && copy_batch_pkt_ok(&cb, 0))
        rc = 0;
    xnv_copy_batch_free(&cb);
    return rc;
}

/* ---- scripted events ---------------------------------------------------------- */

void nftb_leave(struct nftb *b)
{
    nftb_lock(b);
    b->hold = true;
    disconnect(b);
    set_state(b, XenbusStateClosing);
    set_state(b, XenbusStateClosed);
    nftb_unlock(b);
}

void nftb_return(struct nftb *b)
{
    nftb_lock(b);
    b->hold = false;
    probe(b);
    nftb_unlock(b);
}

void nftb_restart(struct nftb *b)
{
    nftb_lock(b);
    disconnect(b);
    b->fresh = true;
    probe(b);
    nftb_unlock(b);
}

void nftb_restore(struct nftb *b)
{
    nftb_lock(b);
    disconnect(b);
    write_key(b->tool, b->be_path, "state", "1");
    write_key(b->tool, b->fe_path, "state", "1");
    b->state = XenbusStateInitialising;
    probe(b);
    nftb_unlock(b);
}

void nftb_remove(struct nftb *b)
{
    nftb_lock(b);
    disconnect(b);
    xnv_xs_rm(b->tool, XNV_XS_NO_TX, b->fe_path);
    xnv_xs_rm(b->tool, XNV_XS_NO_TX, b->be_path);
    b->state = XenbusStateUnknown;
    nftb_unlock(b);
}

/* ---- the scene ------------------------------------------------------------------ */

#include "xnv/netfront.h"

static void env_log(void *arg, int level, const char *msg)
{
    struct nf_env *e = arg;
    (void)level;
    pthread_mutex_lock(&e->log_lock);
    size_t used = strlen(e->log);
    if (used + strlen(msg) + 2 < sizeof e->log)
        snprintf(e->log + used, sizeof e->log - used, "%s\n", msg);
    pthread_mutex_unlock(&e->log_lock);
}

void nf_env_start(struct nf_env *e, const struct nftb_config *cfg)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->log_lock, NULL);
    e->sim = xnv_sim_new();
    e->bdom = (xnv_domid_t)xnv_sim_domain_create(e->sim, "driver");
    e->fdom = (xnv_domid_t)xnv_sim_domain_create(e->sim, "guest");
    e->fhv = xnv_sim_hv_open(e->sim, e->fdom);
    struct nftb_config c = *cfg;
    if (nftb_start(&e->be, e->sim, e->bdom, e->fdom, &c) != 0)
        abort();
}

struct xnv_netfront *nf_env_open(struct nf_env *e, const struct xnv_nf_options *o)
{
    struct xnv_nf_options d;
    if (o) {
        d = *o;
    } else {
        xnv_nf_options_default(&d);
        d.connect_timeout_ms = 5000;
    }
    d.log = env_log;
    d.log_arg = e;
    e->nf = xnv_nf_open(e->fhv, e->be.cfg.devid, &d, e->err, sizeof e->err);
    return e->nf;
}

void nf_env_stop(struct nf_env *e)
{
    if (e->nf)
        xnv_nf_close(e->nf);
    e->nf = NULL;
    nftb_stop(&e->be);
    xnv_hv_close(e->fhv);
    xnv_sim_free(e->sim);
    pthread_mutex_destroy(&e->log_lock);
}

bool nf_env_log_has(struct nf_env *e, const char *needle)
{
    pthread_mutex_lock(&e->log_lock);
    bool has = strstr(e->log, needle) != NULL;
    pthread_mutex_unlock(&e->log_lock);
    return has;
}

int nf_env_recv(struct nf_env *e, unsigned q, struct xnv_nf_frame *f, unsigned n, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        int rc = xnv_nf_recv(e->nf, q, f, n);
        if (rc != 0)
            return rc;
        uint64_t now = now_ms();
        if (now >= end)
            return 0;
        struct pollfd p = { .fd = xnv_nf_queue_fd(e->nf, q), .events = POLLIN };
        poll(&p, 1, (int)(end - now));
    }
}

int nf_env_take(struct nf_env *e, unsigned q, uint8_t *buf, uint32_t cap, struct xnv_tx_pkt *pkt,
                unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        int rc = nftb_tx_take(&e->be, q, buf, cap, pkt);
        if (rc != -EAGAIN || now_ms() >= end)
            return rc;
        usleep(500);
    }
}

bool nf_env_guest_can_share(struct nf_env *e, unsigned pages)
{
    struct xnv_hv *hv = xnv_sim_hv_open(e->sim, e->fdom);
    xnv_gref_t *refs = calloc(pages, sizeof *refs);
    void *p = xnv_gnt_share(hv, e->bdom, pages, refs, false);
    if (p)
        xnv_gnt_unshare(hv, p, pages);
    free(refs);
    xnv_hv_close(hv);
    return p != NULL;
}
