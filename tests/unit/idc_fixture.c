/* Guests with direct inter-VM channels over the simulated hypervisor. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "idc_fixture.h"
#include "xnv/parse.h"

static void quiet(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)level;
    (void)msg;
}

void idcw_add(struct idc_world *W, const char *bridge)
{
    unsigned i = W->n++;
    struct idc_guest *g = &W->g[i];
    char name[16];
    snprintf(name, sizeof name, "g%u", i);
    snprintf(g->mac, sizeof g->mac, "00:16:3e:00:01:%02x", (uint8_t)(i + 1));
    xnv_parse_mac(g->mac, g->macb);
    if (!bridge) {
        world_guest_up(&W->w, &g->f, &g->dom, name, g->mac, true);
    } else {
        /* As world_guest_up, with the vif line's bridge changed before the
         * backend looks at it (it runs only when pumped). */
        char path[96];
        g->dom = xnv_sim_domain_create(W->w.sim, name);
        xl_add_vif(&W->w, (xnv_domid_t)g->dom, 0, g->mac, NULL);
        snprintf(path, sizeof path, "backend/vif/%d/0/bridge", g->dom);
        if (xnv_xs_write(W->w.dom0, XNV_XS_NO_TX, path, bridge, (unsigned)strlen(bridge)))
            abort();
        tfe_init(&g->f, &W->w, (xnv_domid_t)g->dom, 0);
        if (!wait_be_state(&W->w, (xnv_domid_t)g->dom, 0, XenbusStateInitWait, 2000))
            abort();
        xl_hotplug_connected(&W->w, (xnv_domid_t)g->dom, 0);
        if (tfe_connect(&g->f, 1, NULL, NULL) ||
            !wait_be_state(&W->w, (xnv_domid_t)g->dom, 0, XenbusStateConnected, 2000))
            abort();
    }
    xnv_sim_set_share_limit(W->w.sim, (xnv_domid_t)g->dom, 4096);
    g->hv = xnv_sim_hv_open(W->w.sim, (xnv_domid_t)g->dom);
}

void idcw_init(struct idc_world *W, const char *bridges, unsigned n)
{
    memset(W, 0, sizeof *W);
    world_init_channels(&W->w, 1, bridges);
    xnv_idc_options_default(&W->opt);
    W->opt.log = quiet;
    for (unsigned i = 0; i < n; i++)
        idcw_add(W, NULL);
}

void idcw_close(struct idc_guest *g)
{
    xnv_idc_close(g->idc);
    g->idc = NULL;
}

void idcw_free(struct idc_world *W)
{
    for (unsigned i = 0; i < W->n; i++) {
        idcw_close(&W->g[i]);
        if (W->g[i].hv)
            xnv_hv_close(W->g[i].hv);
        tfe_free(&W->g[i].f);
    }
    world_free(&W->w);
}

void idcw_open(struct idc_world *W, struct idc_guest *g)
{
    char err[256];
    g->idc = xnv_idc_open(g->hv, 0, &W->opt, err, sizeof err);
    if (!g->idc) {
        fprintf(stderr, "xnv_idc_open: %s\n", err);
        abort();
    }
}

static void pump_once(struct idc_world *W)
{
    xnv_netback_process(W->w.nb);
    for (unsigned i = 0; i < W->n; i++)
        if (W->g[i].idc)
            xnv_idc_process(W->g[i].idc);
}

void idcw_pump(struct idc_world *W, unsigned ms)
{
    for (unsigned i = 0; i < ms * 5; i++) {
        pump_once(W);
        usleep(200);
    }
}

static enum xnv_idc_dir_state tx_state(struct idc_guest *a, struct idc_guest *b, enum xnv_idc_dir_state *rx)
{
    struct xnv_idc_peer_info pi;
    if (!a->idc || xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pi))
        return *rx = XNV_IDC_DOWN;
    *rx = pi.rx;
    return pi.tx;
}

static bool pump_until_dir(struct idc_world *W, struct idc_guest *a, struct idc_guest *b, bool tx,
                           enum xnv_idc_dir_state st)
{
    enum xnv_idc_dir_state rx;
    for (unsigned i = 0; i < 15000; i++) {
        pump_once(W);
        enum xnv_idc_dir_state t = tx_state(a, b, &rx);
        if ((tx ? t : rx) == st)
            return true;
        usleep(200);
    }
    return false;
}

bool idcw_pump_until_tx(struct idc_world *W, struct idc_guest *a, struct idc_guest *b,
                        enum xnv_idc_dir_state tx)
{
    return pump_until_dir(W, a, b, true, tx);
}

bool idcw_pump_until_rx(struct idc_world *W, struct idc_guest *a, struct idc_guest *b,
                        enum xnv_idc_dir_state rx)
{
    return pump_until_dir(W, a, b, false, rx);
}

bool idcw_pump_until_listed(struct idc_world *W, struct idc_guest *a, struct idc_guest *b, bool listed)
{
    struct xnv_idc_peer_info pi;
    for (unsigned i = 0; i < 15000; i++) {
        pump_once(W);
        if ((xnv_idc_peer(a->idc, (xnv_domid_t)b->dom, &pi) == 0) == listed)
            return true;
        usleep(200);
    }
    return false;
}

bool idcw_pump_until_up(struct idc_world *W, struct idc_guest *a, struct idc_guest *b)
{
    enum xnv_idc_dir_state r1, r2;
    for (unsigned i = 0; i < 15000; i++) {
        pump_once(W);
        if (tx_state(a, b, &r1) == XNV_IDC_UP && tx_state(b, a, &r2) == XNV_IDC_UP &&
            r1 == XNV_IDC_UP && r2 == XNV_IDC_UP)
            return true;
        usleep(200);
    }
    return false;
}

char *idcw_peer_entry(struct idc_world *W, struct idc_guest *g, struct idc_guest *peer)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/0/xnv-peers/%d", g->dom, peer->dom);
    return xnv_xs_read(W->w.dom0, XNV_XS_NO_TX, path, &len);
}

void idcw_frame(uint8_t *buf, uint32_t len, const struct idc_guest *dst, const struct idc_guest *src)
{
    build_tcp_frame(buf, 0, len > 54 ? len - 54 : 0);
    memcpy(buf, dst->macb, 6);
    memcpy(buf + 6, src->macb, 6);
}

void idcw_works(struct idc_world *W, struct idc_guest *a, struct idc_guest *b)
{
    static uint8_t frame[1514], got[2048];
    idcw_frame(frame, sizeof frame, b, a);
    struct xnv_nf_frame f = { .data = frame, .len = sizeof frame };
    if (xnv_idc_send(a->idc, &f) != 1)
        ck_abort_msg("the channel %d -> %d took no frame", a->dom, b->dom);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    if (idcw_recv(W, b, &r) != 1 || r.len != sizeof frame || memcmp(got, frame, sizeof frame) != 0)
        ck_abort_msg("the frame %d -> %d did not arrive whole", a->dom, b->dom);
}

int idcw_recv(struct idc_world *W, struct idc_guest *g, struct xnv_nf_frame *f)
{
    for (unsigned i = 0; i < 10000; i++) {
        int n = xnv_idc_recv(g->idc, f, 1);
        if (n)
            return n;
        pump_once(W);
        usleep(200);
    }
    return 0;
}
