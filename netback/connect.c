/* Connecting a vif once its frontend is ready: read and validate the
 * frontend's keys, map the rings, bind the event channels, start the queues.
 * Every refusal says which key was wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include "nb.h"
#include "xnv/parse.h"
#include "xnv/xs.h"

static int read_backend_config(struct nb_vif *v, char *err, size_t errlen)
{
    struct xnv_hv *hv = v->nb->hv;
    char *mac = xnv_xs_read_key(hv, XNV_XS_NO_TX, v->be_path, "mac", NULL);
    int rc = mac ? xnv_parse_mac(mac, v->mac) : -ENOENT;
    if (rc == 0 && !xnv_mac_is_valid_unicast(v->mac))
        rc = -EINVAL;
    if (rc)
        snprintf(err, errlen, "%s/mac: \"%.32s\" is not a unicast MAC address", v->be_path, mac ? mac : "");
    free(mac);
    if (rc)
        return rc;
    char *bridge = xnv_xs_read_key(hv, XNV_XS_NO_TX, v->be_path, "bridge", NULL);
    snprintf(v->bridge, sizeof v->bridge, "%s", bridge ? bridge : "");
    free(bridge);
    v->fastpath = nb_bridge_has_fastpath(v->nb, v->bridge);
    v->rate_bytes = v->rate_usec = 0;
    char *rate = xnv_xs_read_key(hv, XNV_XS_NO_TX, v->be_path, "rate", NULL);
    if (rate && xnv_parse_rate(rate, &v->rate_bytes, &v->rate_usec)) {
        snprintf(err, errlen, "%s/rate: \"%.32s\" is not <bytes>,<usec>", v->be_path, rate);
        rc = -EINVAL;
    }
    free(rate);
    return rc;
}

static int map_ring(struct nb_vif *v, const char *dir, const char *key, void **page,
                    char *err, size_t errlen)
{
    uint64_t ref;
    int rc = xnv_xs_read_uint_why(v->nb->hv, XNV_XS_NO_TX, dir, key, UINT32_MAX, &ref, err, errlen);
    if (rc)
        return rc;
    xnv_gref_t g = (xnv_gref_t)ref;
    *page = xnv_gnt_map(v->nb->hv, v->domid, &g, 1, true);
    if (!*page) {
        snprintf(err, errlen, "%s/%s: cannot map grant %u: %s", dir, key, g, strerror(errno));
        return -errno;
    }
    return 0;
}

static int bind_port(struct nb_queue *q, const char *dir, const char *key, int *port,
                     char *err, size_t errlen)
{
    uint64_t remote;
    int rc = xnv_xs_read_uint_why(q->vif->nb->hv, XNV_XS_NO_TX, dir, key, UINT32_MAX, &remote, err,
                                  errlen);
    if (rc)
        return rc;
    *port = xnv_evtchn_bind_interdomain(q->ch, q->vif->domid, (xnv_port_t)remote);
    if (*port < 0) {
        snprintf(err, errlen, "%s/%s: cannot bind event channel %llu: %s", dir, key,
                 (unsigned long long)remote, strerror(-*port));
        return *port;
    }
    return 0;
}

/* Linux names the interrupts of an event-channel handle after the thread
 * that opened it ("evtchn:<comm>"): opened by a short-lived thread under
 * the queue's name, they show as evtchn:vif<dom>.<dev>-q<n> in
 * /proc/interrupts (as the kernel's backend names its own
 * vif<dom>.<dev>-q<n>-tx and -rx), not all as evtchn:xnv-netbackd: an
 * operator sees which guest's events arrive on which CPU and places them
 * (/proc/irq/N/smp_affinity_list).  A thread of its own, not this one
 * renamed for a moment: this one's name is the process's, which pidof and
 * scripts look for. */
struct named_open {
    struct xnv_hv *hv;
    char name[16];
    struct xnv_evtchn *ch;
    int err;
};

static void *open_as(void *arg)
{
    struct named_open *o = arg;
    prctl(PR_SET_NAME, o->name, 0, 0, 0);
    o->ch = xnv_evtchn_open(o->hv);
    o->err = errno;
    return NULL;
}

static struct xnv_evtchn *open_named_evtchn(struct xnv_hv *hv, const struct nb_queue *q)
{
    struct named_open o = { .hv = hv };
    nb_queue_name(q, o.name, sizeof o.name);
    pthread_t t;
    if (pthread_create(&t, NULL, open_as, &o) != 0)
        return xnv_evtchn_open(hv);            /* unnamed, as before */
    pthread_join(t, NULL);
    errno = o.err;
    return o.ch;
}

static int attach_queue(struct nb_vif *v, unsigned i, char *err, size_t errlen)
{
    struct nb_queue *q = &v->q[i];
    char dir[200];
    if (v->nqueues == 1)
        snprintf(dir, sizeof dir, "%s", v->fe_path);
    else
        snprintf(dir, sizeof dir, "%s/queue-%u", v->fe_path, i);
    q->vif = v;
    q->id = i;
    q->port_tx = q->port_rx = -1;
    int rc = map_ring(v, dir, "tx-ring-ref", &q->tx_page, err, errlen);
    if (!rc)
        rc = map_ring(v, dir, "rx-ring-ref", &q->rx_page, err, errlen);
    if (rc)
        return rc;
    netif_tx_sring_t *ts = q->tx_page;
    netif_rx_sring_t *rs = q->rx_page;
    /* Attach where the rings stand: a restarted daemon resumes a live ring. */
    BACK_RING_ATTACH(&q->tx, ts, ts->rsp_prod, XNV_PAGE_SIZE);
    BACK_RING_ATTACH(&q->rx, rs, rs->rsp_prod, XNV_PAGE_SIZE);
    if (!xnv_ring_indices_ok(ts->req_prod, q->tx.req_cons, RING_SIZE(&q->tx)) ||
        !xnv_ring_indices_ok(rs->req_prod, q->rx.req_cons, RING_SIZE(&q->rx))) {
        snprintf(err, errlen, "%s: ring indices are inconsistent (producer beyond the ring)", dir);
        return -EPROTO;
    }
    q->ch = open_named_evtchn(v->nb->hv, q);
    if (!q->ch) {
        snprintf(err, errlen, "cannot open the event channel device: %s", strerror(errno));
        return -errno;
    }
    bool split = (v->neg.flags & XNV_F_SPLIT_EVTCHN) &&
                 xnv_xs_exists(v->nb->hv, XNV_XS_NO_TX, dir, "event-channel-tx");
    if (split) {
        rc = bind_port(q, dir, "event-channel-tx", &q->port_tx, err, errlen);
        if (!rc)
            rc = bind_port(q, dir, "event-channel-rx", &q->port_rx, err, errlen);
    } else {
        rc = bind_port(q, dir, "event-channel", &q->port_tx, err, errlen);
        q->port_rx = q->port_tx;
    }
    if (rc)
        return rc;
    nb_credit_init(&q->credit, v->rate_bytes, v->rate_usec);
    return 0;
}

static struct xnv_features advertised(const struct xnv_netback *nb)
{
    return (struct xnv_features){
        .flags = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM | XNV_F_RX_COPY |
                 XNV_F_MCAST_CTRL | XNV_F_DYN_MCAST_CTRL | XNV_F_CTRL_RING |
                 (nb->cfg.split_event_channels ? XNV_F_SPLIT_EVTCHN : 0),
        .queues = nb->cfg.max_queues,
    };
}

/* The guest cannot write under our backend directory, so keys written once
 * stay: a frontend that reconnects in a loop costs xenstored one state write
 * a cycle, not a dozen feature writes (each also a watch event back to us). */
int nb_advertise(struct nb_vif *v, xnv_xs_tx_t tx)
{
    struct xnv_features f = advertised(v->nb);
    if (v->advertised_valid && v->advertised.flags == f.flags && v->advertised.queues == f.queues)
        return 0;
    return xnv_features_write(v->nb->hv, tx, v->be_path, XNV_SIDE_BACK, &f);
}

void nb_advertised(struct nb_vif *v)
{
    v->advertised = advertised(v->nb);
    v->advertised_valid = true;
}

/* The optional control ring: both keys or neither. */
static int attach_ctrl(struct nb_vif *v, char *err, size_t errlen)
{
    bool have_ref = xnv_xs_exists(v->nb->hv, XNV_XS_NO_TX, v->fe_path, "ctrl-ring-ref");
    bool have_port = xnv_xs_exists(v->nb->hv, XNV_XS_NO_TX, v->fe_path, "event-channel-ctrl");
    memset(&v->hash, 0, sizeof v->hash);
    atomic_store(&v->hashing, false);
    if (!have_ref && !have_port)
        return 0;
    if (!have_ref || !have_port) {
        snprintf(err, errlen, "%s: ctrl-ring-ref and event-channel-ctrl must come together", v->fe_path);
        return -EINVAL;
    }
    int rc = map_ring(v, v->fe_path, "ctrl-ring-ref", &v->ctrl_page, err, errlen);
    if (rc)
        return rc;
    xen_netif_ctrl_sring_t *cs = v->ctrl_page;
    BACK_RING_ATTACH(&v->ctrl, cs, cs->rsp_prod, XNV_PAGE_SIZE);
    if (!xnv_ring_indices_ok(cs->req_prod, v->ctrl.req_cons, RING_SIZE(&v->ctrl))) {
        snprintf(err, errlen, "%s: control ring indices are inconsistent", v->fe_path);
        return -EPROTO;
    }
    return bind_port(&v->q[0], v->fe_path, "event-channel-ctrl", &v->ctrl_port, err, errlen);
}

int nb_connect(struct nb_vif *v, char *err, size_t errlen)
{
    struct xnv_features fe, be = advertised(v->nb);
    int rc = xnv_features_read(v->nb->hv, XNV_XS_NO_TX, v->fe_path, XNV_SIDE_FRONT,
                               v->nb->cfg.max_queues, &fe, err, errlen);
    if (rc)
        return rc;
    if (!(fe.flags & XNV_F_RX_COPY)) {
        snprintf(err, errlen, "%s/request-rx-copy must be 1 (receive by flipping is not supported)",
                 v->fe_path);
        return -EINVAL;
    }
    rc = read_backend_config(v, err, errlen);
    if (rc)
        return rc;
    v->neg = xnv_features_negotiate(&be, &fe);
    v->nqueues = fe.queues;
    memset(&v->mcast, 0, sizeof v->mcast);
    v->mcast_on = v->neg.flags & XNV_F_MCAST_CTRL;
    for (unsigned i = 0; i < v->nqueues; i++) {
        rc = attach_queue(v, i, err, errlen);
        if (rc) {
            nb_disconnect(v);
            return rc;
        }
    }
    rc = attach_ctrl(v, err, errlen);
    if (rc) {
        nb_disconnect(v);
        return rc;
    }
    if (xnv_port_set_queues(v->port, v->nqueues) || xnv_port_set_offload(v->port, v->neg.flags)) {
        snprintf(err, errlen, "%s: cannot set up %u queues with the negotiated offloads",
                 v->port->name, v->nqueues);
        nb_disconnect(v);
        return -EIO;
    }
    xnv_port_set_carrier(v->port, true);
    atomic_store(&v->broken_why, NULL);
    atomic_store(&v->broken, false);
    if (v->recover)
        nb_recover_rings(v);
    if (v->resuming || v->recover)
        nb_kick(v);
    v->resuming = v->recover = false;
    rc = nb_rings_mark(v);
    if (rc) {
        snprintf(err, errlen, "%s: cannot record the data path in xenstore: %s", v->be_path, strerror(-rc));
        nb_disconnect(v);
        return rc;
    }
    for (unsigned i = 0; i < v->nqueues; i++) {
        rc = nb_queue_start(&v->q[i]);
        if (rc) {
            snprintf(err, errlen, "cannot start queue %u: %s", i, strerror(-rc));
            nb_disconnect(v);
            return rc;
        }
    }
    v->data_running = true;
    nb_switch_join(v);
    return 0;
}

void nb_disconnect(struct nb_vif *v)
{
    nb_release(v);
    nb_rings_unmark(v);   /* every batch ended: the rings are consistent */
}

void nb_release(struct nb_vif *v)
{
    nb_switch_leave(v);   /* no other vif's thread touches our rings after this */
    for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
        nb_queue_stop(&v->q[i]);
    if (v->ctrl_port >= 0)
        xnv_evtchn_unbind(v->q[0].ch, (xnv_port_t)v->ctrl_port);
    v->ctrl_port = -1;
    if (v->ctrl_page)
        xnv_gnt_unmap(v->nb->hv, v->ctrl_page, 1);
    v->ctrl_page = NULL;
    atomic_store(&v->hashing, false);
    for (unsigned i = 0; i < NB_MAX_QUEUES; i++) {
        struct nb_queue *q = &v->q[i];
        nb_queue_release(q);
        if (q->ch) {
            if (q->port_rx >= 0 && q->port_rx != q->port_tx)
                xnv_evtchn_unbind(q->ch, (xnv_port_t)q->port_rx);
            if (q->port_tx >= 0)
                xnv_evtchn_unbind(q->ch, (xnv_port_t)q->port_tx);
            xnv_evtchn_close(q->ch);
        }
        if (q->tx_page)
            xnv_gnt_unmap(v->nb->hv, q->tx_page, 1);
        if (q->rx_page)
            xnv_gnt_unmap(v->nb->hv, q->rx_page, 1);
        struct xnv_queue_stats keep = q->stats;
        pthread_mutex_t lock = q->rx_lock;   /* unheld: nobody can reach the queue now */
        memset(q, 0, sizeof *q);
        q->stats = keep;
        q->rx_lock = lock;
        q->wake_fd = -1;
    }
    v->data_running = false;
}
