/* The frontend xnv-hostile abuses: the netif handshake and rings through
 * libxnv's hypervisor interface, with every step exposed so that a mode can
 * do it wrongly. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xen/io/xenbus.h>
#include "hostile.h"

uint64_t hfe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void hfe_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

int hfe_be_state(struct hfe *h)
{
    uint64_t st;
    return xnv_xs_read_uint(h->hv, XNV_XS_NO_TX, h->be, "state", 255, &st) == 0 ? (int)st : -1;
}

char *hfe_be_error(struct hfe *h) { return xnv_xs_read_key(h->hv, XNV_XS_NO_TX, h->be, "error", NULL); }

/* Waiting blocks on a watch of the backend's state, as a stock frontend's
 * does: a tool that read the state 20 times a second while it waited loaded
 * xenstored (the rig's dom0) whatever the backend, and blurred what the
 * backend itself costs under attack. */
bool hfe_be_changed(struct hfe *h, unsigned ms)
{
    if (!h->watching) {
        hfe_sleep_ms(ms);
        return true;
    }
    struct pollfd p = { .fd = xnv_xs_watch_fd(h->hv), .events = POLLIN };
    if (poll(&p, 1, (int)ms) <= 0)
        return false;
    bool changed = false;
    char **ev;
    while ((ev = xnv_xs_read_watch(h->hv))) {
        free(ev);
        changed = true;
    }
    return changed;
}

/* The state now, or after its next change within the time left of end. */
static int be_state_by(struct hfe *h, uint64_t end)
{
    uint64_t now = hfe_now_ms();
    if (now < end)
        hfe_be_changed(h, (unsigned)(end - now < 1000 ? end - now : 1000));
    return hfe_be_state(h);
}

/* The backend's state once it is a or b, or -1 when ms passed first. */
static int wait_be_either(struct hfe *h, int a, int b, unsigned ms)
{
    uint64_t end = hfe_now_ms() + ms;
    for (int st = hfe_be_state(h);; st = be_state_by(h, end)) {
        if (st == a || st == b)
            return st;
        if (hfe_now_ms() >= end)
            return -1;
    }
}

bool hfe_wait_be(struct hfe *h, int state, unsigned ms) { return wait_be_either(h, state, state, ms) == state; }

int hfe_fe_write(struct hfe *h, const char *key, const char *val)
{
    return xnv_xs_printf(h->hv, XNV_XS_NO_TX, h->fe, key, "%s", val);
}

int hfe_open(struct hfe *h, struct xnv_hv *hv, unsigned device, char *err, size_t errlen)
{
    memset(h, 0, sizeof *h);
    h->port = -1;
    h->device = device;
    h->hv = hv;
    snprintf(h->fe, sizeof h->fe, "device/vif/%u", device);
    char *be = xnv_xs_read_key(hv, XNV_XS_NO_TX, h->fe, "backend", NULL);
    uint64_t bid;
    int rc = xnv_xs_read_uint(hv, XNV_XS_NO_TX, h->fe, "backend-id", DOMID_FIRST_RESERVED - 1, &bid);
    if (!be || rc || strlen(be) >= sizeof h->be) {
        snprintf(err, errlen, "no usable %s/backend and backend-id: is a vif %u configured?", h->fe, device);
        free(be);
        return -1;
    }
    snprintf(h->be, sizeof h->be, "%s", be);
    h->backend = (xnv_domid_t)bid;
    free(be);
    char state[160];
    snprintf(state, sizeof state, "%s/state", h->be);
    h->watching = xnv_xs_watch(hv, state, "xnv-hostile") == 0;
    h->ch = xnv_evtchn_open(h->hv);
    h->txbuf = xnv_gnt_share(h->hv, h->backend, HFE_BUFS, h->txref, false);
    h->rxbuf = xnv_gnt_share(h->hv, h->backend, HFE_BUFS, h->rxref, true);
    h->robuf = xnv_gnt_share(h->hv, h->backend, HFE_BUFS, h->roref, false);
    if (!h->ch || !h->txbuf || !h->rxbuf || !h->robuf) {
        snprintf(err, errlen, "cannot open an event channel or share %u pages: %s", 3 * HFE_BUFS, strerror(errno));
        return -1;
    }
    return 0;
}

static void release_connection(struct hfe *h)
{
    /* -EBUSY: the backend still maps the page; it is lost, not reused. */
    if (h->tx_page)
        xnv_gnt_unshare(h->hv, h->tx_page, 1);
    if (h->rx_page)
        xnv_gnt_unshare(h->hv, h->rx_page, 1);
    h->tx_page = h->rx_page = NULL;
    if (h->port >= 0)
        xnv_evtchn_unbind(h->ch, (xnv_port_t)h->port);
    h->port = -1;
}

void hfe_close(struct hfe *h)
{
    release_connection(h);
    if (h->txbuf)
        xnv_gnt_unshare(h->hv, h->txbuf, HFE_BUFS);
    if (h->rxbuf)
        xnv_gnt_unshare(h->hv, h->rxbuf, HFE_BUFS);
    if (h->robuf)
        xnv_gnt_unshare(h->hv, h->robuf, HFE_BUFS);
    if (h->ch)
        xnv_evtchn_close(h->ch);
    if (h->hv)
        xnv_hv_close(h->hv);
}

static const char *const fe_keys[] = {
    "tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx",
    "request-rx-copy", "feature-rx-notify", "feature-sg", "feature-gso-tcpv4", "feature-no-csum-offload",
    "multi-queue-num-queues", "queue-0", "queue-1", "ctrl-ring-ref", "event-channel-ctrl",
};

struct handshake {
    struct hfe *h;
    const struct hfe_kv *keys;
    unsigned nkeys;
    const struct hfe_kv *over;
    unsigned n;
    const char *state;
};

/* The usual keys, each unless a mode replaces it (a NULL value leaves it
 * out), the mode's own, then the state; write errors are the mode's. */
static int handshake_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct handshake *hs = arg;
    const char *fe = hs->h->fe;
    for (unsigned i = 0; i < hs->nkeys; i++) {
        bool replaced = false;
        for (unsigned j = 0; j < hs->n; j++)
            replaced |= strcmp(hs->over[j].key, hs->keys[i].key) == 0;
        if (!replaced)
            xnv_xs_printf(hv, tx, fe, hs->keys[i].key, "%s", hs->keys[i].val);
    }
    for (unsigned j = 0; j < hs->n; j++)
        if (hs->over[j].val)
            xnv_xs_printf(hv, tx, fe, hs->over[j].key, "%s", hs->over[j].val);
    xnv_xs_printf(hv, tx, fe, "state", "%s", hs->state);
    return 0;
}

int hfe_connect(struct hfe *h, const struct hfe_kv *over, unsigned n, const char *state)
{
    release_connection(h);
    h->tx_page = xnv_gnt_share(h->hv, h->backend, 1, &h->tx_ref, true);
    h->rx_page = xnv_gnt_share(h->hv, h->backend, 1, &h->rx_ref, true);
    int port = xnv_evtchn_bind_unbound(h->ch, h->backend);
    if (!h->tx_page || !h->rx_page || port < 0)
        return -1;
    h->port = port;
    SHARED_RING_INIT((netif_tx_sring_t *)h->tx_page);
    SHARED_RING_INIT((netif_rx_sring_t *)h->rx_page);
    FRONT_RING_INIT(&h->tx, (netif_tx_sring_t *)h->tx_page, XNV_PAGE_SIZE);
    FRONT_RING_INIT(&h->rx, (netif_rx_sring_t *)h->rx_page, XNV_PAGE_SIZE);
    char txr[16], rxr[16], ev[16];
    snprintf(txr, sizeof txr, "%u", h->tx_ref);
    snprintf(rxr, sizeof rxr, "%u", h->rx_ref);
    snprintf(ev, sizeof ev, "%d", port);
    struct hfe_kv keys[] = {
        { "tx-ring-ref", txr }, { "rx-ring-ref", rxr }, { "event-channel", ev }, { "request-rx-copy", "1" },
        { "feature-rx-notify", "1" }, { "feature-sg", "1" }, { "feature-gso-tcpv4", "1" },
    };
    struct handshake hs = { h, keys, sizeof keys / sizeof keys[0], over, n, state };
    int rc = xnv_xs_transact(h->hv, 10, handshake_tx, &hs);
    if (rc && rc != -EAGAIN)          /* still lost after 10 tries: see what the backend does */
        return -1;
    return wait_be_either(h, XenbusStateConnected, XenbusStateClosed, 5000);
}

int hfe_reset(struct hfe *h)
{
    hfe_fe_write(h, "state", "6");
    hfe_wait_be(h, XenbusStateClosed, 5000);
    release_connection(h);
    char path[128];
    for (unsigned i = 0; i < sizeof fe_keys / sizeof fe_keys[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", h->fe, fe_keys[i]);
        xnv_xs_rm(h->hv, XNV_XS_NO_TX, path);
    }
    hfe_fe_write(h, "state", "1");
    return hfe_wait_be(h, XenbusStateInitWait, 5000) ? 0 : -1;
}

void hfe_kick(struct hfe *h)
{
    if (h->port >= 0)
        xnv_evtchn_notify(h->ch, (xnv_port_t)h->port);
}

void hfe_tx_put(struct hfe *h, uint16_t id, xnv_gref_t ref, uint16_t off, uint16_t size, uint16_t flags)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&h->tx, h->tx.req_prod_pvt);
    *r = (netif_tx_request_t){ .gref = ref, .offset = off, .flags = flags, .id = id, .size = size };
    h->tx.req_prod_pvt++;
}

void hfe_tx_push(struct hfe *h)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->tx, notify);
    (void)notify;
    hfe_kick(h);
}

void hfe_rx_post(struct hfe *h, unsigned n, bool readonly)
{
    for (unsigned i = 0; i < n; i++) {
        RING_IDX idx = h->rx.req_prod_pvt++;
        netif_rx_request_t *r = RING_GET_REQUEST(&h->rx, idx);
        r->id = (uint16_t)(idx % HFE_BUFS);
        r->gref = readonly ? h->roref[idx % HFE_BUFS] : h->rxref[idx % HFE_BUFS];
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->rx, notify);
    (void)notify;
    hfe_kick(h);
}

unsigned hfe_tx_errors(struct hfe *h)
{
    unsigned n = 0;
    RING_IDX prod = h->tx.sring->rsp_prod;
    rmb();
    for (; h->tx.rsp_cons != prod; h->tx.rsp_cons++)
        n += RING_GET_RESPONSE(&h->tx, h->tx.rsp_cons)->status == NETIF_RSP_ERROR;
    h->tx.sring->rsp_event = h->tx.rsp_cons + 1;
    return n;
}

uint16_t hfe_frame(struct hfe *h, unsigned i, uint16_t len)
{
    uint8_t *f = h->txbuf + (size_t)(i % HFE_BUFS) * XNV_PAGE_SIZE;
    memset(f, 0xff, 6);                                     /* broadcast */
    memcpy(f + 6, "\x00\x16\x3e\x7f\x00\x01", 6);
    f[12] = 0x88;                                           /* local experimental ethertype */
    f[13] = 0xb5;
    for (unsigned k = 14; k < len && k < XNV_PAGE_SIZE; k++)
        f[k] = (uint8_t)k;
    return len;
}
