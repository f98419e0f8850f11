/* Many guests on one netback engine, built phase by phase so that what the
 * backend costs can be told apart from what the guests (in the same process,
 * over the simulated hypervisor) cost: the vifs come up to InitWait with the
 * engine alone, then every guest's frontend shares its pages and writes its
 * keys with the engine held back, then the engine connects them all. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "density.h"
#include "xnv/netback.h"
#include "xnv/netfront.h"
#include "xnv/sim.h"

#define GUEST_SHARE_LIMIT 4096
/* Every page a simulated guest shares is a mapping of its own in this
 * process: keep the guests' total under the kernel's limit on mappings. */
#define MAPS_KEPT_FREE 8192
#define PHASE_TIMEOUT_S 60

/* The port of vif<dom>.0, found by the domain in its name. */
static struct xnv_port *open_port(void *arg, const char *ifname, char *err, size_t errlen)
{
    struct density_world *w = arg;
    int dom = -1;
    sscanf(ifname, "vif%d.", &dom);
    for (unsigned i = 0; i < w->nguests; i++)
        if (w->g[i].domid == dom) {
            w->g[i].port = xnv_memport_open(ifname, 64);
            if (!w->g[i].port)
                snprintf(err, errlen, "cannot open an in-memory port");
            return w->g[i].port;
        }
    snprintf(err, errlen, "%s: no such guest", ifname);
    return NULL;
}

static int xs_state(struct density_world *w, const char *path)
{
    unsigned len;
    char *s = xnv_xs_read(w->dom0, XNV_XS_NO_TX, path, &len);
    int st = s ? atoi(s) : -1;
    free(s);
    return st;
}

/* Number of guests whose backend (or frontend) directory says state. */
static unsigned count_state(struct density_world *w, bool frontend, int state)
{
    unsigned n = 0;
    char path[128];
    for (unsigned i = 0; i < w->nguests; i++) {
        if (frontend)
            snprintf(path, sizeof path, "/local/domain/%d/device/vif/0/state", w->g[i].domid);
        else
            snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/0/state", w->g[i].domid);
        n += xs_state(w, path) == state;
    }
    return n;
}

static unsigned count_connected(struct density_world *w)
{
    unsigned n = 0;
    for (unsigned i = 0; i < w->nguests; i++)
        n += xnv_nf_state(w->g[i].nf) == XNV_NF_CONNECTED;
    return n;
}

/* One pass of the control planes asked for. */
static void pump(struct density_world *w, bool backend, bool frontends)
{
    if (backend)
        xnv_netback_process(w->nb);
    for (unsigned i = 0; frontends && i < w->nguests; i++)
        xnv_nf_ctrl_process(w->g[i].nf);
}

enum until { BACKENDS_INITWAIT, FRONTENDS_CONNECTED, BACKENDS_CONNECTED, ALL_CONNECTED };

static bool reached(struct density_world *w, enum until u)
{
    switch (u) {
    case BACKENDS_INITWAIT: return count_state(w, false, 2) == w->nguests;     /* XenbusStateInitWait */
    case FRONTENDS_CONNECTED: return count_state(w, true, 4) == w->nguests;    /* XenbusStateConnected */
    case BACKENDS_CONNECTED: return count_state(w, false, 4) == w->nguests;
    default: return count_connected(w) == w->nguests;
    }
}

/* Run the control planes asked for until u; 0, or -1 with err set. */
static int phase(struct density_world *w, enum until u, bool backend, bool frontends, char *err, size_t errlen)
{
    static const char *what[] = { "every vif at InitWait", "every frontend's keys written",
                                  "every vif Connected", "every frontend Connected" };
    double give_up = bench_now() + PHASE_TIMEOUT_S;
    while (!reached(w, u)) {
        if (bench_now() > give_up) {
            snprintf(err, errlen, "no %s within %d s", what[u], PHASE_TIMEOUT_S);
            return -1;
        }
        pump(w, backend, frontends);
        usleep(200);
    }
    return 0;
}

/* Both control planes from now on, as the daemon's loop and the guests'
 * kernels would run them. */
static void *ctrl_main(void *arg)
{
    struct density_world *w = arg;
    while (!atomic_load(&w->stop_ctrl)) {
        struct pollfd p = { xnv_netback_fd(w->nb), POLLIN, 0 };
        poll(&p, 1, 20);
        pthread_mutex_lock(&w->fe_lock);
        pump(w, true, w->pump_frontends);
        pthread_mutex_unlock(&w->fe_lock);
    }
    return NULL;
}

static unsigned guest_share_limit(unsigned guests)
{
    unsigned long max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%lu", &max_maps) != 1)
            max_maps = 65530;
        fclose(f);
    }
    unsigned long each = max_maps > MAPS_KEPT_FREE ? (max_maps - MAPS_KEPT_FREE) / guests : 0;
    return each < GUEST_SHARE_LIMIT ? (unsigned)each : GUEST_SHARE_LIMIT;
}

static int add_guests(struct density_world *w, char *err, size_t errlen)
{
    w->share_limit = guest_share_limit(w->nguests);
    for (unsigned i = 0; i < w->nguests; i++) {
        char name[32], mac[32];
        snprintf(name, sizeof name, "guest%u", i);
        snprintf(mac, sizeof mac, "00:16:3e:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
        int dom = xnv_sim_domain_create(w->sim, name);
        if (dom < 0) {
            snprintf(err, errlen, "cannot create guest %u", i);
            return -1;
        }
        w->g[i].domid = dom;
        xnv_sim_set_share_limit(w->sim, (xnv_domid_t)dom, w->share_limit);
        if (xnv_sim_xl_add_vif(w->sim, 0, (xnv_domid_t)dom, 0, mac, NULL) ||
            xnv_sim_xl_hotplug(w->sim, 0, (xnv_domid_t)dom, 0, "connected")) {
            snprintf(err, errlen, "cannot write guest %u's vif", i);
            return -1;
        }
    }
    return 0;
}

static int open_frontends(struct density_world *w, char *err, size_t errlen)
{
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = w->queues;
    o.grant_limit = w->share_limit;
    o.connect_timeout_ms = 0;
    o.log = bench_log;
    for (unsigned i = 0; i < w->nguests; i++) {
        w->g[i].hv = xnv_sim_hv_open(w->sim, (xnv_domid_t)w->g[i].domid);
        w->g[i].nf = w->g[i].hv ? xnv_nf_open(w->g[i].hv, 0, &o, err, errlen) : NULL;
        if (!w->g[i].nf)
            return -1;
    }
    return 0;
}

int density_setup(struct density_world *w, unsigned guests, unsigned queues, struct density_setup *s,
                  char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    w->nguests = guests;
    w->queues = queues;
    pthread_mutex_init(&w->fe_lock, NULL);
    w->sim = xnv_sim_new();
    w->dom0 = xnv_sim_hv_open(w->sim, 0);
    w->nb = bench_netback_new(w->dom0, queues, open_port, w, err, errlen);
    if (!w->nb)
        return -1;
    self_usage(&s->base);
    if (add_guests(w, err, errlen) || phase(w, BACKENDS_INITWAIT, true, false, err, errlen))
        return -1;
    self_usage(&s->initwait);
    if (open_frontends(w, err, errlen) || phase(w, FRONTENDS_CONNECTED, false, true, err, errlen))
        return -1;
    self_usage(&s->frontends);
    double t0 = bench_now();
    if (phase(w, BACKENDS_CONNECTED, true, false, err, errlen))
        return -1;
    s->connect_s = bench_now() - t0;
    self_usage(&s->connected);
    /* the frontends see Connected: what they allocate then is theirs */
    if (phase(w, ALL_CONNECTED, true, true, err, errlen))
        return -1;
    self_usage(&s->frontends_up);
    w->pump_frontends = true;
    pthread_create(&w->ctrl, NULL, ctrl_main, w);
    usleep(500000);              /* the queue threads settle into their idle wait */
    self_usage(&s->idle);
    s->idle.rss_kib -= s->frontends_up.rss_kib - s->connected.rss_kib;
    struct xnv_sim_usage u;
    xnv_sim_usage(w->sim, 0, &u);
    s->mapped_pages = u.mapped_pages;
    s->share_limit = w->share_limit;
    for (unsigned i = 0; i < guests; i++) {
        xnv_sim_usage(w->sim, (xnv_domid_t)w->g[i].domid, &u);
        s->shared_pages += u.shared_pages;
    }
    return 0;
}

void density_teardown(struct density_world *w)
{
    /* The frontends leave first, each waiting for the engine to let go:
     * the control thread keeps the engine going meanwhile. */
    pthread_mutex_lock(&w->fe_lock);
    w->pump_frontends = false;
    pthread_mutex_unlock(&w->fe_lock);
    if (!w->ctrl && w->nb)          /* setup failed before it started */
        pthread_create(&w->ctrl, NULL, ctrl_main, w);
    for (unsigned i = 0; i < w->nguests; i++)
        if (w->g[i].nf)
            xnv_nf_close(w->g[i].nf);
    atomic_store(&w->stop_ctrl, true);
    if (w->ctrl)
        pthread_join(w->ctrl, NULL);
    if (w->nb)
        xnv_netback_free(w->nb);
    for (unsigned i = 0; i < w->nguests; i++)
        if (w->g[i].hv)
            xnv_hv_close(w->g[i].hv);
    if (w->dom0)
        xnv_hv_close(w->dom0);
    if (w->sim)
        xnv_sim_free(w->sim);
}
