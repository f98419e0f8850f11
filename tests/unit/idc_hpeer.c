/* A hostile peer on a direct channel, built by hand (see idc_hpeer.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idc_hpeer.h"

void hpeer_world_up(struct idc_world *W, struct hpeer *h, void (*vic_log)(void *, int, const char *))
{
    struct idc_guest *vic = &W->g[0], *good = &W->g[1], *bad = &W->g[2];
    void (*log)(void *, int, const char *) = W->opt.log;
    if (vic_log)
        W->opt.log = vic_log;
    idcw_open(W, vic);
    W->opt.log = log;
    idcw_open(W, good);
    ck_assert(idcw_pump_until_up(W, vic, good));
    hpeer_init(h, bad->hv, bad->dom, vic->dom);
    ck_assert(idcw_pump_until_rx(W, vic, bad, XNV_IDC_UP));
}

void hpeer_init(struct hpeer *h, struct xnv_hv *hv, int dom, int vic)
{
    memset(h, 0, sizeof *h);
    h->hv = hv;
    h->dom = (xnv_domid_t)dom;
    h->vic = (xnv_domid_t)vic;
    h->port = -1;
    h->ch = xnv_evtchn_open(hv);
    ck_assert_ptr_nonnull(h->ch);
    hpeer_optin(h, true);
}

void hpeer_free(struct hpeer *h)
{
    xnv_evtchn_close(h->ch);
    h->ch = NULL;
}

void hpeer_optin(struct hpeer *h, bool on)
{
    ck_assert_int_eq(xnv_xs_write(h->hv, XNV_XS_NO_TX, "device/vif/0/request-xnv-channels", on ? "1" : "0", 1), 0);
}

static void dir_of(const struct hpeer *h, char *dir, size_t len)
{
    snprintf(dir, len, "data/xnv-channel/%u", h->vic);
}

void hpeer_withdraw(struct hpeer *h)
{
    char dir[64];
    dir_of(h, dir, sizeof dir);
    xnv_xs_rm(h->hv, XNV_XS_NO_TX, dir);
}

void hpeer_publish(struct hpeer *h, const char *ref, const char *port, const char *serial)
{
    char dir[64], path[96];
    dir_of(h, dir, sizeof dir);
    hpeer_withdraw(h);
    ck_assert_int_eq(xnv_xs_mkdir(h->hv, XNV_XS_NO_TX, dir), 0);
    struct xs_permissions perms[2] = { { h->dom, XS_PERM_NONE }, { h->vic, XS_PERM_READ } };
    ck_assert_int_eq(xnv_xs_set_perms(h->hv, XNV_XS_NO_TX, dir, perms, 2), 0);
    const char *k[3] = { "ring-ref", "event-channel", "serial" }, *v[3] = { ref, port, serial };
    for (int i = 0; i < 3; i++) {
        if (!v[i])
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, k[i]);
        ck_assert_int_eq(xnv_xs_write(h->hv, XNV_XS_NO_TX, path, v[i], (unsigned)strlen(v[i])), 0);
        ck_assert_int_eq(xnv_xs_set_perms(h->hv, XNV_XS_NO_TX, path, perms, 2), 0);
    }
}

void hpeer_ring(struct hpeer *h, unsigned nreq, xnv_gref_t bogus)
{
    h->ring = xnv_gnt_share(h->hv, h->vic, 1, &h->ring_ref, true);
    ck_assert_ptr_nonnull(h->ring);
    SHARED_RING_INIT((netif_rx_sring_t *)h->ring);
    FRONT_RING_INIT(&h->front, (netif_rx_sring_t *)h->ring, XNV_PAGE_SIZE);
    ck_assert_ptr_nonnull(xnv_gnt_share(h->hv, h->vic, HPEER_BUFS, h->buf_ref, true));
    for (unsigned i = 0; i < nreq; i++) {
        netif_rx_request_t *q = RING_GET_REQUEST(&h->front, h->front.req_prod_pvt++);
        q->id = (uint16_t)(0xff00 + i);       /* ids mean nothing: slots do */
        q->gref = bogus ? bogus : h->buf_ref[i % HPEER_BUFS];
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&h->front, notify);
    (void)notify;
    h->port = xnv_evtchn_bind_unbound(h->ch, h->vic);
    char r[16], p[16], s[24];
    snprintf(r, sizeof r, "%u", h->ring_ref);
    snprintf(p, sizeof p, "%d", h->port);
    snprintf(s, sizeof s, "%llu", (unsigned long long)++h->serial);
    hpeer_publish(h, r, p, s);
}

char *hpeer_victim_key(struct hpeer *h, const char *key)
{
    char path[128];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/%u/data/xnv-channel/%u/%s", h->vic, h->dom, key);
    return xnv_xs_read(h->hv, XNV_XS_NO_TX, path, &len);
}

/* Map one grant of the victim unless it holds it already; the ring page's
 * mapping is returned (NULL when held already or refused). */
static void *map_once(struct hpeer *h, xnv_gref_t ref)
{
    for (unsigned i = 0; i < h->nmapped; i++)
        if (h->mapped[i] == ref)
            return NULL;
    void *p = xnv_gnt_map(h->hv, h->vic, &ref, 1, true);
    if (p && h->nmapped < HPEER_MAPS)
        h->mapped[h->nmapped++] = ref;
    return p;
}

unsigned hpeer_map_victim(struct hpeer *h)
{
    char *v = hpeer_victim_key(h, "ring-ref");
    ck_assert_ptr_nonnull(v);
    xnv_gref_t ref = (xnv_gref_t)strtoul(v, NULL, 10);
    free(v);
    /* The ring is mapped once per grant; to read it, once more. */
    map_once(h, ref);
    netif_rx_sring_t *s = xnv_gnt_map(h->hv, h->vic, &ref, 1, false);
    ck_assert_ptr_nonnull(s);
    netif_rx_back_ring_t back;
    BACK_RING_INIT(&back, s, XNV_PAGE_SIZE);
    RING_IDX prod = s->req_prod, n = prod < RING_SIZE(&back) ? prod : RING_SIZE(&back);
    for (RING_IDX i = prod - n; i != prod; i++)
        map_once(h, RING_GET_REQUEST(&back, i)->gref);
    xnv_gnt_unmap(h->hv, s, 1);
    return h->nmapped;
}
