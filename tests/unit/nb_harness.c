/* Test harness for the netback engine (see nb_harness.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "xnv/features.h"
#include "xnv/parse.h"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct xnv_port *world_open_port(void *arg, const char *ifname, char *err, size_t errlen)
{
    struct world *w = arg;
    struct xnv_port *p = nb_host_open(&w->host, ifname, err, errlen);
    if (p && w->nports < 16) {
        w->ports[w->nports] = nb_host_port(&w->host, ifname);
        snprintf(w->port_names[w->nports], 16, "%s", ifname);
        w->nports++;
    }
    return p;
}

bool world_port_exists(void *arg, const char *ifname)
{
    struct world *w = arg;
    return nb_host_exists(&w->host, ifname);
}

static void quiet_log(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)level;
    if (getenv("XNV_TEST_LOG"))
        fprintf(stderr, "netback: %s\n", msg);
}

static void world_start(struct world *w, unsigned max_queues, unsigned stall_ms, const char *fastpath);

void world_init(struct world *w, unsigned max_queues, unsigned stall_ms)
{
    world_start(w, max_queues, stall_ms, NULL);
}

void world_init_fastpath(struct world *w, unsigned max_queues, const char *bridges)
{
    world_start(w, max_queues, 60000, bridges);
}

static void start_netback(struct world *w, unsigned max_queues, unsigned stall_ms, const char *fastpath)
{
    struct xnv_netback_config cfg;
    xnv_netback_config_default(&cfg);
    cfg.max_queues = max_queues;
    cfg.stall_timeout_ms = stall_ms;
    cfg.open_port = world_open_port;
    cfg.port_exists = world_port_exists;
    cfg.port_arg = w;
    cfg.log = quiet_log;
    cfg.fastpath_bridges = fastpath;
    cfg.channel_bridges = w->channels;
    cfg.split_event_channels = w->split_evtchn;
    char err[256];
    w->nb = xnv_netback_new(w->dom0, &cfg, err, sizeof err);
    if (!w->nb) {
        fprintf(stderr, "xnv_netback_new: %s\n", err);
        abort();
    }
    xnv_netback_process(w->nb);
    w->max_queues = max_queues;
    w->stall_ms = stall_ms;
    w->fastpath = fastpath;
}

/* An empty world: the simulator, dom0, its interfaces; no engine yet. */
static void world_base(struct world *w)
{
    memset(w, 0, sizeof *w);
    nb_host_init(&w->host);
    w->sim = xnv_sim_new();
    w->dom0 = xnv_sim_hv_open(w->sim, 0);
}

static void world_start(struct world *w, unsigned max_queues, unsigned stall_ms, const char *fastpath)
{
    world_base(w);
    start_netback(w, max_queues, stall_ms, fastpath);
}

/* An engine with the settings a world keeps beside its arguments. */
static void world_start_with(struct world *w, unsigned max_queues, const char *channels, bool split)
{
    world_base(w);
    w->channels = channels;
    w->split_evtchn = split;
    start_netback(w, max_queues, 60000, NULL);
}

void world_init_channels(struct world *w, unsigned max_queues, const char *bridges)
{
    world_start_with(w, max_queues, bridges, false);
}

void world_init_split(struct world *w, unsigned max_queues)
{
    world_start_with(w, max_queues, NULL, true);
}

void world_restart_netback(struct world *w)
{
    start_netback(w, w->max_queues, w->stall_ms, w->fastpath);
}

void world_kill_netback(struct world *w)
{
    xnv_netback_abandon(w->nb);
    w->nb = NULL;
}

void world_free(struct world *w)
{
    xnv_netback_free(w->nb);
    nb_host_free(&w->host);
    xnv_hv_close(w->dom0);
    xnv_sim_free(w->sim);
}

bool world_pump(struct world *w, bool (*cond)(void *), void *arg, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    for (;;) {
        xnv_netback_process(w->nb);
        if (cond && cond(arg))
            return true;
        if (now_ms() >= end)
            return false;
        usleep(500);
    }
}

struct xnv_port *world_port(struct world *w, const char *ifname)
{
    return nb_host_port(&w->host, ifname);
}

static int wr(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key, const char *val)
{
    char path[192];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    return xnv_xs_write(hv, tx, path, val, (unsigned)strlen(val));
}

int xl_add_vif(struct world *w, xnv_domid_t dom, unsigned devid, const char *mac, const char *vifname)
{
    return xnv_sim_xl_add_vif(w->sim, 0, dom, devid, mac, vifname);
}

/* vif-bridge online: rename to the vifname if any, join the bridge, then
 * report (or fail as the script does, with hotplug-error). */
void xl_hotplug_connected(struct world *w, xnv_domid_t dom, unsigned devid)
{
    char dev[16], err[160];
    snprintf(dev, sizeof dev, "vif%u.%u", dom, devid);
    char *vifname = be_read(w, dom, devid, "vifname");
    char *bridge = be_read(w, dom, devid, "bridge");
    int rc = nb_host_hotplug_online(&w->host, dev, vifname, bridge, err, sizeof err);
    free(vifname);
    free(bridge);
    if (rc == 0) {
        xnv_sim_xl_hotplug(w->sim, 0, dom, devid, "connected");
        return;
    }
    char path[160];
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%u/%u/hotplug-error", dom, devid);
    xnv_xs_write(w->dom0, XNV_XS_NO_TX, path, err, (unsigned)strlen(err));
    xnv_sim_xl_hotplug(w->sim, 0, dom, devid, "error");
}

char *be_read(struct world *w, xnv_domid_t dom, unsigned devid, const char *key)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%u/%u/%s", dom, devid, key);
    return xnv_xs_read(w->dom0, XNV_XS_NO_TX, path, &len);
}

int be_state(struct world *w, xnv_domid_t dom, unsigned devid)
{
    char *s = be_read(w, dom, devid, "state");
    int st = s ? atoi(s) : -1;
    free(s);
    return st;
}

struct state_wait { struct world *w; xnv_domid_t dom; unsigned devid; int state; };
static bool state_reached(void *arg)
{
    struct state_wait *s = arg;
    return be_state(s->w, s->dom, s->devid) == s->state;
}

bool wait_be_state(struct world *w, xnv_domid_t dom, unsigned devid, int state, unsigned ms)
{
    struct state_wait s = { w, dom, devid, state };
    return world_pump(w, state_reached, &s, ms);
}

int tfe_init(struct tfe *f, struct world *w, xnv_domid_t dom, unsigned devid)
{
    memset(f, 0, sizeof *f);
    f->sim = w->sim;
    f->dom = dom;
    f->devid = devid;
    f->hv = xnv_sim_hv_open(w->sim, dom);
    f->ch = xnv_evtchn_open(f->hv);
    xnv_sim_set_share_limit(w->sim, dom, 8192);
    snprintf(f->fe, sizeof f->fe, "/local/domain/%u/device/vif/%u", dom, devid);
    snprintf(f->be, sizeof f->be, "/local/domain/0/backend/vif/%u/%u", dom, devid);
    return f->hv && f->ch ? 0 : -1;
}

static int be_uint(struct tfe *f, const char *key, unsigned dflt)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "%s/%s", f->be, key);
    char *s = xnv_xs_read(f->hv, XNV_XS_NO_TX, path, &len);
    unsigned v = s ? (unsigned)atoi(s) : dflt;
    free(s);
    return (int)v;
}

static int wr_q(struct tfe *f, xnv_xs_tx_t tx, const char *dir, const char *key, const char *val)
{
    if (f->omit_key && strcmp(f->omit_key, key) == 0)
        return 0;
    return wr(f->hv, tx, dir, key, val);
}

static void share_queue(struct tfe *f, struct tfe_queue *q, bool split)
{
    q->tx_sring = xnv_gnt_share(f->hv, 0, 1, &q->tx_ref, true);
    q->rx_sring = xnv_gnt_share(f->hv, 0, 1, &q->rx_ref, true);
    SHARED_RING_INIT((netif_tx_sring_t *)q->tx_sring);
    SHARED_RING_INIT((netif_rx_sring_t *)q->rx_sring);
    FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, 4096);
    FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, 4096);
    q->tx.sring->req_prod = f->initial_tx_req_prod;
    q->txbuf = xnv_gnt_share(f->hv, 0, TFE_BUFS, q->txref, false);
    q->rxbuf = xnv_gnt_share(f->hv, 0, TFE_BUFS, q->rxref, true);
    q->port_tx = xnv_evtchn_bind_unbound(f->ch, 0);
    q->port_rx = split ? xnv_evtchn_bind_unbound(f->ch, 0) : q->port_tx;
}

int tfe_connect(struct tfe *f, unsigned nq, const char *extra_key, const char *extra_val)
{
    bool split = be_uint(f, "feature-split-event-channels", 0) == 1;
    f->nq = nq;
    for (unsigned i = 0; i < nq; i++)
        share_queue(f, &f->q[i], split);
    if (f->want_ctrl) {
        f->ctrl_sring = xnv_gnt_share(f->hv, 0, 1, &f->ctrl_ref, true);
        SHARED_RING_INIT((xen_netif_ctrl_sring_t *)f->ctrl_sring);
        FRONT_RING_INIT(&f->ctrl, (xen_netif_ctrl_sring_t *)f->ctrl_sring, 4096);
        f->ctrl_data = xnv_gnt_share(f->hv, 0, 1, &f->ctrl_data_ref, false);
        f->ctrl_port = xnv_evtchn_bind_unbound(f->ch, 0);
    }
    for (int tries = 0; tries < 10; tries++) {
        xnv_xs_tx_t tx;
        xnv_xs_tx_start(f->hv, &tx);
        char dir[128], num[16];
        for (unsigned i = 0; i < nq; i++) {
            struct tfe_queue *q = &f->q[i];
            if (nq == 1)
                snprintf(dir, sizeof dir, "%s", f->fe);
            else
                snprintf(dir, sizeof dir, "%s/queue-%u", f->fe, i);
            snprintf(num, sizeof num, "%u", q->tx_ref);
            wr_q(f, tx, dir, "tx-ring-ref", num);
            snprintf(num, sizeof num, "%u", q->rx_ref);
            wr_q(f, tx, dir, "rx-ring-ref", num);
            if (split) {
                snprintf(num, sizeof num, "%d", q->port_tx);
                wr_q(f, tx, dir, "event-channel-tx", num);
                snprintf(num, sizeof num, "%d", q->port_rx);
                wr_q(f, tx, dir, "event-channel-rx", num);
            } else {
                snprintf(num, sizeof num, "%d", q->port_tx);
                wr_q(f, tx, dir, "event-channel", num);
            }
        }
        struct xnv_features fe = { .flags = XNV_F_RX_COPY | XNV_F_RX_NOTIFY | XNV_F_SG | XNV_F_GSO_TCPV4 |
                                            XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM,
                                   .queues = nq };
        xnv_features_write(f->hv, tx, f->fe, XNV_SIDE_FRONT, &fe);
        if (f->want_ctrl) {
            snprintf(num, sizeof num, "%u", f->ctrl_ref);
            wr(f->hv, tx, f->fe, "ctrl-ring-ref", num);
            snprintf(num, sizeof num, "%d", f->ctrl_port);
            wr(f->hv, tx, f->fe, "event-channel-ctrl", num);
        }
        if (extra_key)
            wr(f->hv, tx, f->fe, extra_key, extra_val);
        wr(f->hv, tx, f->fe, "state", "4");
        if (xnv_xs_tx_end(f->hv, tx, false) != -EAGAIN)
            return 0;
    }
    return -1;
}

void tfe_set_state(struct tfe *f, int state)
{
    char v[4];
    snprintf(v, sizeof v, "%d", state);
    wr(f->hv, XNV_XS_NO_TX, f->fe, "state", v);
}

static void kick(struct tfe *f, int port) { xnv_evtchn_notify(f->ch, (xnv_port_t)port); }

void tfe_unshare_queues(struct tfe *f)
{
    for (unsigned i = 0; i < f->nq; i++) {
        struct tfe_queue *q = &f->q[i];
        xnv_gnt_unshare(f->hv, q->tx_sring, 1);
        xnv_gnt_unshare(f->hv, q->rx_sring, 1);
        xnv_gnt_unshare(f->hv, q->txbuf, TFE_BUFS);
        xnv_gnt_unshare(f->hv, q->rxbuf, TFE_BUFS);
    }
    f->nq = 0;
}

void tfe_free(struct tfe *f)
{
    tfe_unshare_queues(f);
    if (f->ctrl_sring) {
        xnv_gnt_unshare(f->hv, f->ctrl_sring, 1);
        xnv_gnt_unshare(f->hv, f->ctrl_data, 1);
    }
    xnv_evtchn_close(f->ch);
    xnv_hv_close(f->hv);
}

int tfe_ctrl_call(struct tfe *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t *data)
{
    static uint16_t next_id;
    uint16_t id = ++next_id;
    struct xen_netif_ctrl_request *r = RING_GET_REQUEST(&f->ctrl, f->ctrl.req_prod_pvt++);
    *r = (struct xen_netif_ctrl_request){ .id = id, .type = type, .data = { d0, d1, d2 } };
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ctrl, notify);
    if (notify)
        kick(f, f->ctrl_port);
    for (int i = 0; i < 20000; i++, usleep(100)) {
        if (f->ctrl.rsp_cons == f->ctrl.sring->rsp_prod)
            continue;
        struct xen_netif_ctrl_response rsp = *RING_GET_RESPONSE(&f->ctrl, f->ctrl.rsp_cons);
        f->ctrl.rsp_cons++;
        if (rsp.id != id)
            return -2;
        if (data)
            *data = rsp.data;
        return (int)rsp.status;
    }
    return -1;
}

int tfe_steer_all(struct tfe *f, unsigned queue)
{
    for (int i = 0; i < 40; i++)
        f->ctrl_data[i] = (uint8_t)(i + 1);
    uint32_t table[4] = { queue, queue, queue, queue };
    const uint32_t req[][3] = {
        { XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0 },
        { XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, f->ctrl_data_ref, 40 },
        { XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4, 0 },
        { XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, f->ctrl_data_ref, 4 },
        { XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0 },
    };
    for (unsigned i = 0; i < sizeof req / sizeof *req; i++) {
        if (req[i][0] == XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING)
            memcpy(f->ctrl_data, table, sizeof table);   /* the key was read: the page is free */
        int st = tfe_ctrl_call(f, (uint16_t)req[i][0], req[i][1], req[i][2], 0, NULL);
        if (st != XEN_NETIF_CTRL_STATUS_SUCCESS)
            return st;
    }
    return 0;
}

void tfe_push_tx(struct tfe *f, unsigned q)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->q[q].tx, notify);
    if (notify && !f->no_kick)
        kick(f, f->q[q].port_tx);
}

void tfe_raw_tx(struct tfe *f, unsigned q, const netif_tx_request_t *r)
{
    netif_tx_front_ring_t *tx = &f->q[q].tx;
    *RING_GET_REQUEST(tx, tx->req_prod_pvt) = *r;
    tx->req_prod_pvt++;
}

/* Consume the TX responses there are now, each but NULL ones through fn. */
static void each_tx_response(struct tfe *f, unsigned q, void (*fn)(void *, const netif_tx_response_t *),
                             void *arg)
{
    netif_tx_front_ring_t *tx = &f->q[q].tx;
    RING_IDX prod = tx->sring->rsp_prod;
    rmb();
    for (; tx->rsp_cons != prod; tx->rsp_cons++) {
        netif_tx_response_t r = *RING_GET_RESPONSE(tx, tx->rsp_cons);
        if (r.status != NETIF_RSP_NULL)
            fn(arg, &r);
    }
    tx->sring->rsp_event = tx->rsp_cons + 1;
}

struct status_count { int16_t status; unsigned n, *others; };
static void count_status(void *arg, const netif_tx_response_t *r)
{
    struct status_count *c = arg;
    if (r->status == c->status)
        c->n++;
    else if (c->others)
        (*c->others)++;
}

unsigned tfe_tx_responses(struct tfe *f, unsigned q, int16_t status, unsigned *others)
{
    struct status_count c = { status, 0, others };
    each_tx_response(f, q, count_status, &c);
    return c.n;
}

struct id_count { unsigned *seen, *errors; };
static void count_id(void *arg, const netif_tx_response_t *r)
{
    struct id_count *c = arg;
    if (r->id < TFE_BUFS)
        c->seen[r->id]++;
    if (c->errors && r->status == NETIF_RSP_ERROR)
        (*c->errors)++;
}

void tfe_tx_response_ids(struct tfe *f, unsigned q, unsigned seen[TFE_BUFS], unsigned *errors)
{
    struct id_count c = { seen, errors };
    each_tx_response(f, q, count_id, &c);
}

static void wait_tx_room(struct tfe *f, unsigned q, unsigned need)
{
    netif_tx_front_ring_t *tx = &f->q[q].tx;
    for (int i = 0; i < 20000 && RING_SIZE(tx) - (tx->req_prod_pvt - tx->rsp_cons) < need; i++) {
        tfe_tx_responses(f, q, 0, NULL);
        usleep(100);
    }
}

unsigned tfe_send(struct tfe *f, unsigned qi, const uint8_t *frame, uint32_t len, uint32_t slot,
                  uint16_t flags, uint8_t gso_type, uint16_t gso_size)
{
    struct tfe_queue *q = &f->q[qi];
    unsigned chunks = (len + slot - 1) / slot;
    bool gso = gso_type != XEN_NETIF_GSO_TYPE_NONE;
    wait_tx_room(f, qi, chunks + 1);
    for (unsigned c = 0; c < chunks; c++) {
        RING_IDX idx = q->tx.req_prod_pvt;
        unsigned buf = idx % TFE_BUFS;
        uint32_t n = len - c * slot < slot ? len - c * slot : slot;
        memcpy(q->txbuf + buf * 4096u, frame + c * slot, n);
        netif_tx_request_t *r = RING_GET_REQUEST(&q->tx, idx);
        r->id = (uint16_t)buf;
        r->gref = q->txref[buf];
        r->offset = 0;
        r->size = (uint16_t)(c == 0 ? len : n);
        r->flags = (uint16_t)((c == 0 ? flags : 0) | (c + 1 < chunks ? NETTXF_more_data : 0) |
                              (c == 0 && gso ? NETTXF_extra_info : 0));
        q->tx.req_prod_pvt++;
        if (c == 0 && gso) {
            netif_extra_info_t e;
            memset(&e, 0, sizeof e);
            e.type = XEN_NETIF_EXTRA_TYPE_GSO;
            e.u.gso.type = gso_type;
            e.u.gso.size = gso_size;
            memcpy(RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt), &e, sizeof e);
            q->tx.req_prod_pvt++;
        }
    }
    tfe_push_tx(f, qi);
    return chunks + (gso ? 1 : 0);
}

void tfe_post_rx(struct tfe *f, unsigned qi, unsigned n)
{
    struct tfe_queue *q = &f->q[qi];
    for (unsigned i = 0; i < n; i++) {
        RING_IDX idx = q->rx.req_prod_pvt++;
        netif_rx_request_t *r = RING_GET_REQUEST(&q->rx, idx);
        r->id = (uint16_t)(idx % TFE_BUFS);
        r->gref = q->rxref[idx % TFE_BUFS];
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        kick(f, q->port_rx);
}

int tfe_recv(struct tfe *f, unsigned qi, uint8_t *buf, uint32_t cap, uint16_t *flags,
             uint8_t *gso_type, uint16_t *gso_size)
{
    unsigned used = 0;
    int n = tfe_take(f, qi, buf, cap, flags, gso_type, gso_size, &used);
    if (used)
        tfe_post_rx(f, qi, used);
    return n;
}

int tfe_take(struct tfe *f, unsigned qi, uint8_t *buf, uint32_t cap, uint16_t *flags,
             uint8_t *gso_type, uint16_t *gso_size, unsigned *slots)
{
    struct tfe_queue *q = &f->q[qi];
    RING_IDX prod = q->rx.sring->rsp_prod;
    rmb();
    if (q->rx.rsp_cons == prod)
        return -1;
    uint32_t len = 0;
    unsigned used = 0;
    bool more = true, first = true;
    *gso_type = XEN_NETIF_GSO_TYPE_NONE;
    while (more && q->rx.rsp_cons != prod) {
        RING_IDX idx = q->rx.rsp_cons++;
        used++;
        netif_rx_response_t r = *RING_GET_RESPONSE(&q->rx, idx);
        if (r.status < 0)
            return -2;
        if (r.id != idx % TFE_BUFS || (uint32_t)r.offset + (uint32_t)r.status > 4096 || len + (uint32_t)r.status > cap)
            return -3;
        memcpy(buf + len, q->rxbuf + (idx % TFE_BUFS) * 4096u + r.offset, (size_t)r.status);
        len += (uint32_t)r.status;
        more = r.flags & NETRXF_more_data;
        if (first) {
            *flags = r.flags;
            first = false;
            if (r.flags & NETRXF_extra_info) {
                netif_extra_info_t e;
                memcpy(&e, RING_GET_RESPONSE(&q->rx, q->rx.rsp_cons), sizeof e);
                q->rx.rsp_cons++;
                used++;
                *gso_type = e.u.gso.type;
                *gso_size = e.u.gso.size;
            }
        }
    }
    q->rx.sring->rsp_event = q->rx.rsp_cons + 1;
    *slots += used;
    return (int)len;
}

int tfe_recv_wait(struct tfe *f, unsigned q, uint8_t *buf, uint32_t cap, unsigned ms, unsigned *errors)
{
    uint16_t fl, gs;
    uint8_t gt;
    for (unsigned i = 0; i < ms * 10; i++) {
        int n = tfe_recv(f, q, buf, cap, &fl, &gt, &gs);
        if (n >= 0)
            return n;
        if (n == -2) {                /* consumed, not posted again by tfe_recv */
            if (errors)
                (*errors)++;
            tfe_post_rx(f, q, 1);
            continue;
        }
        usleep(100);
    }
    return -1;
}

uint64_t port_wait_received(struct xnv_port *p, uint64_t want, unsigned ms)
{
    struct xnv_memport_stats st = { 0 };
    for (unsigned i = 0; i < ms * 10; i++) {
        xnv_memport_stats(p, &st);
        if (st.received >= want)
            break;
        usleep(100);
    }
    return st.received;
}

bool tfe_wait_tx_done(struct tfe *f, unsigned q, unsigned ms)
{
    netif_tx_front_ring_t *tx = &f->q[q].tx;
    for (unsigned i = 0; i < ms * 10; i++) {
        if (tx->sring->rsp_prod == tx->req_prod_pvt)
            return true;
        usleep(100);
    }
    return false;
}

struct xnv_port *world_vif_port(struct world *w, int dom)
{
    char name[16];
    snprintf(name, sizeof name, "vif%d.0", dom);
    return world_port(w, name);
}

void world_guest_up(struct world *w, struct tfe *f, int *dom, const char *name, const char *mac, bool connect)
{
    *dom = xnv_sim_domain_create(w->sim, name);
    xl_add_vif(w, (xnv_domid_t)*dom, 0, mac, NULL);
    tfe_init(f, w, (xnv_domid_t)*dom, 0);
    if (!wait_be_state(w, (xnv_domid_t)*dom, 0, XenbusStateInitWait, 2000))
        abort();
    xl_hotplug_connected(w, (xnv_domid_t)*dom, 0);
    if (connect && (tfe_connect(f, 1, NULL, NULL) ||
                    !wait_be_state(w, (xnv_domid_t)*dom, 0, XenbusStateConnected, 2000)))
        abort();
}

void world_two_guests(struct world *w, struct tfe *bad, int *bad_dom, struct tfe *good, int *good_dom,
                      bool connect_bad)
{
    world_guest_up(w, bad, bad_dom, "hostile", "00:16:3e:00:00:0b", connect_bad);
    world_guest_up(w, good, good_dom, "honest", "00:16:3e:00:00:0c", true);
}

int tfe_frame_to_port(struct world *w, struct tfe *f, int dom, const uint8_t *frame, uint32_t len,
                      uint8_t *got, uint32_t cap)
{
    tfe_send(f, 0, frame, len, 4096, 0, 0, 0);
    struct xnv_port *p = world_vif_port(w, dom);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++) {
        xnv_netback_process(w->nb);
        if ((n = xnv_memport_take(p, 0, &vh, got, cap)) < 0)
            usleep(100);
    }
    return n;
}
