/* One channel direction's resources.
 *
 * Receiving (ours): a netif RX ring and buffer pages shared with the peer,
 * an event channel left unbound for it, and the publication
 * data/xnv-channel/<peer>/{ring-ref,event-channel,serial} that only the
 * peer may read.  Sending (the peer's): its publication read and checked,
 * its ring mapped, its event channel bound. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "idc_int.h"

#define IDC_XS_TRIES 8   /* commits of the publication lost to others before giving up */

/* ---- receiving -------------------------------------------------------------- */

static int write_key(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key, uint64_t v,
                     const struct xs_permissions *perms)
{
    char path[IDC_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, key);
    int rc = xnv_xs_printf(hv, tx, dir, key, "%llu", (unsigned long long)v);
    return rc ? rc : xnv_xs_set_perms(hv, tx, path, perms, 2);
}

struct publication {
    char dir[IDC_PATH_MAX];
    struct xs_permissions perms[2];
    const struct idc_rx *rx;
};

static int publish_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct publication *p = arg;
    int rc;
    if ((rc = xnv_xs_mkdir(hv, tx, p->dir)) == 0 &&
        (rc = xnv_xs_set_perms(hv, tx, p->dir, p->perms, 2)) == 0 &&
        (rc = write_key(hv, tx, p->dir, "ring-ref", p->rx->ring_pg.gref, p->perms)) == 0 &&
        (rc = write_key(hv, tx, p->dir, "event-channel", (unsigned)p->rx->port, p->perms)) == 0)
        rc = write_key(hv, tx, p->dir, "serial", p->rx->serial, p->perms);
    return rc;
}

/* The publication, all keys at once: the peer never sees half of it. */
static int publish(struct xnv_idc *idc, struct idc_peer *p)
{
    struct publication pub = {
        .perms = { { idc->self, XS_PERM_NONE }, { p->dom, XS_PERM_READ } },
        .rx = &p->rx,
    };
    snprintf(pub.dir, sizeof pub.dir, IDC_DIR "/%u", p->dom);
    return xnv_xs_transact(idc->hv, IDC_XS_TRIES, publish_tx, &pub);
}

/* The receive ring and its n buffers, granted to the peer. */
static int share_rx(struct xnv_idc *idc, struct idc_peer *p, unsigned n)
{
    struct idc_rx *r = &p->rx;
    int rc = nf_share(idc->hv, p->dom, &r->ring_pg, 1, true, true);
    if (rc == 0 && (rc = nf_share(idc->hv, p->dom, r->rx.buf, n, true, false)) != 0)
        nf_unshare(idc->hv, &r->ring_pg, 1);
    return rc;
}

int idc_rx_open(struct xnv_idc *idc, struct idc_peer *p)
{
    struct idc_rx *r = &p->rx;
    if (p->refused) {
        p->last_error = p->refused;
        r->state = XNV_IDC_FAILED;
        return -EPERM;
    }
    if (!r->ring_pg.addr) {
        unsigned n = idc->opt.bufs;
        int rc = share_rx(idc, p, n);
        if (rc == -ENOSPC) {
            /* Out of grants: the pages kept for peers away (parked) go back
             * now rather than keep a peer that is here from its channel
             * (a guest restored under a new domain id while its old
             * listing's pages were kept). */
            idc_park_expire(idc, UINT64_MAX);
            rc = share_rx(idc, p, n);
        }
        if (rc) {
            p->last_error = "cannot share the receive ring and buffers";
            idc_peer_log(idc, p, LOG_WARNING, "%s: %s", p->last_error, strerror(-rc));
            r->state = XNV_IDC_FAILED;
            return rc;
        }
        nf_rx_init(&r->rx, r->ring_pg.addr, n);
    }
    /* Pages kept from its last listing serve as they are: the ring goes on
     * where it stopped (a sender attaches at its response producer). */
    nf_rx_refill(&r->rx);
    nf_rx_push(&r->rx);
    r->port = xnv_evtchn_bind_unbound(idc->ch, p->dom);
    r->serial = ++idc->serial;
    int rc = r->port < 0 ? r->port : publish(idc, p);
    if (rc) {
        p->last_error = "cannot publish the receive ring";
        idc_peer_log(idc, p, LOG_WARNING, "%s: %s", p->last_error, strerror(-rc));
        r->state = XNV_IDC_FAILED;
        idc_rx_close(idc, p);
        r->state = XNV_IDC_FAILED;
        return rc;
    }
    r->state = XNV_IDC_UP;
    return 0;
}

void idc_rx_withdraw(struct xnv_idc *idc, struct idc_peer *p)
{
    struct idc_rx *r = &p->rx;
    if (r->state == XNV_IDC_UP) {
        char dir[IDC_PATH_MAX];
        snprintf(dir, sizeof dir, IDC_DIR "/%u", p->dom);
        xnv_xs_rm(idc->hv, XNV_XS_NO_TX, dir);   /* first: the peer stops using it */
    }
    if (r->port >= 0)
        xnv_evtchn_unbind(idc->ch, (xnv_port_t)r->port);
    r->port = -1;
    r->masked = false;
    if (r->state == XNV_IDC_UP)
        r->state = XNV_IDC_DOWN;
}

unsigned idc_rx_release(struct xnv_idc *idc, struct idc_peer *p)
{
    struct idc_rx *r = &p->rx;
    unsigned lost = nf_unshare(idc->hv, r->rx.buf, r->rx.nbufs) + nf_unshare(idc->hv, &r->ring_pg, 1);
    r->rx.nbufs = 0;
    idc->st.lost_pages += lost;
    return lost;
}

void idc_rx_close(struct xnv_idc *idc, struct idc_peer *p)
{
    idc_rx_withdraw(idc, p);
    idc_rx_release(idc, p);
    p->rx.state = XNV_IDC_DOWN;
}

/* ---- sending ------------------------------------------------------------------ */

void idc_notify(struct xnv_idc *idc, struct idc_peer *p, int port)
{
    if (port >= 0 && xnv_evtchn_notify(idc->ch, (xnv_port_t)port) == 0) {
        p->notifies++;
        idc->st.notifies++;
    }
}

void idc_tx_close(struct xnv_idc *idc, struct idc_peer *p, bool failed, const char *why)
{
    struct idc_tx *t = &p->tx;
    bool was_up = t->state == XNV_IDC_UP;
    if (t->notify_owed && t->port >= 0)
        idc_notify(idc, p, t->port);    /* the frames pushed before the close are the peer's */
    if (t->port >= 0)
        xnv_evtchn_unbind(idc->ch, (xnv_port_t)t->port);
    t->port = -1;
    t->masked = false;
    t->notify_owed = false;
    if (t->ring_page)
        xnv_gnt_unmap(idc->hv, t->ring_page, 1);
    t->ring_page = NULL;
    t->full_since_ns = 0;
    t->state = failed ? XNV_IDC_FAILED : XNV_IDC_DOWN;
    if (failed)
        t->failed_at_ns = xnv_now_ns();
    if (why) {
        p->last_error = why;
        if (was_up) {
            p->fallbacks++;
            idc->st.fallbacks++;
        }
        idc_peer_log(idc, p, failed ? LOG_WARNING : LOG_INFO, "channel to it closed: %s", why);
    }
}

/* Lock held.  The direction failed less than retry_ms ago. */
static bool failed_lately(struct xnv_idc *idc, const struct idc_tx *t)
{
    return t->failed_at_ns && xnv_now_ns() - t->failed_at_ns < (uint64_t)idc->opt.retry_ms * 1000000u;
}

void idc_tx_evaluate(struct xnv_idc *idc, struct idc_peer *p)
{
    struct idc_tx *t = &p->tx;
    uint64_t ref, port, serial;
    int rc = xnv_xs_read_uint(idc->hv, XNV_XS_NO_TX, p->ch_path, "ring-ref", UINT32_MAX, &ref);
    if (rc == 0)
        rc = xnv_xs_read_uint(idc->hv, XNV_XS_NO_TX, p->ch_path, "event-channel", INT32_MAX, &port);
    if (rc == 0)
        rc = xnv_xs_read_uint(idc->hv, XNV_XS_NO_TX, p->ch_path, "serial", UINT64_MAX, &serial);
    if (rc && rc != -EINVAL)
        rc = -ENOENT;                  /* absent or unreadable: not published to us */
    if (rc == -ENOENT) {
        if (t->state == XNV_IDC_UP)
            idc_tx_close(idc, p, false, "the peer withdrew its ring");
        else
            t->state = XNV_IDC_DOWN;
        return;
    }
    /* After a fault or stall the peer waits retry_ms whatever it publishes
     * meanwhile, new serial or not (else it could make us attach again at
     * will); xnv_idc_process evaluates it again then. */
    if (t->state != XNV_IDC_UP && failed_lately(idc, t)) {
        t->state = XNV_IDC_FAILED;
        return;
    }
    if (rc) {
        idc_tx_close(idc, p, true, "the peer published a malformed ring-ref, event-channel or serial");
        return;
    }
    if (t->state == XNV_IDC_UP && t->ref == ref && t->evtchn == port && t->serial == serial)
        return;
    if (t->state == XNV_IDC_UP)
        idc_tx_close(idc, p, false, NULL);
    t->ref = (xnv_gref_t)ref;
    t->evtchn = (unsigned)port;
    t->serial = serial;
    xnv_gref_t r = (xnv_gref_t)ref;
    t->ring_page = xnv_gnt_map(idc->hv, p->dom, &r, 1, true);
    if (!t->ring_page) {
        idc_tx_close(idc, p, true, "cannot map the ring the peer published");
        return;
    }
    int lp = xnv_evtchn_bind_interdomain(idc->ch, p->dom, (xnv_port_t)port);
    if (lp < 0) {
        idc_tx_close(idc, p, true, "cannot bind the event channel the peer published");
        return;
    }
    t->port = lp;
    idc_ring_attach(&t->ring, t->ring_page);
    t->full_since_ns = 0;
    t->state = XNV_IDC_UP;
    idc_peer_log(idc, p, LOG_INFO, "channel to it up");
}
