/* The engine's control plane: the set of vifs under backend/vif, driven by
 * xenstore watch events; queue threads report protocol violations through an
 * eventfd so that they are handled here too. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb.h"
#include "xnv/parse.h"
#include "xnv/xs.h"

#define TOKEN_ROOT    "xnv-vif"
#define TOKEN_RELEASE "xnv-release"
#define TOKEN_FE      "xnv-fe/"
#define LOOKS_BURST   32

void xnv_netback_config_default(struct xnv_netback_config *cfg)
{
    *cfg = (struct xnv_netback_config){
        .max_queues = 4,
        .stall_timeout_ms = 60000,
        .rx_queue_frames = 256,
        .device_looks_per_s = 4,
        .fail_hold_ms = 2000,
        .self_granted_arenas = true,
    };
}

static struct nb_vif *find_vif(struct xnv_netback *nb, xnv_domid_t dom, unsigned dev)
{
    for (struct nb_vif *v = nb->vifs; v; v = v->next)
        if (v->domid == dom && v->devid == dev)
            return v;
    return NULL;
}

static struct nb_vif *add_vif(struct xnv_netback *nb, xnv_domid_t dom, unsigned dev)
{
    struct nb_vif *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->nb = nb;
    v->domid = dom;
    v->devid = dev;
    snprintf(v->be_path, sizeof v->be_path, "%s/%u/%u", nb->root, dom, dev);
    snprintf(v->token, sizeof v->token, TOKEN_FE "%u/%u", dom, dev);
    pthread_mutex_init(&v->mcast_lock, NULL);
    pthread_rwlock_init(&v->hash_lock, NULL);
    v->ctrl_port = -1;
    for (unsigned i = 0; i < NB_MAX_QUEUES; i++) {
        pthread_mutex_init(&v->q[i].rx_lock, NULL);
        v->q[i].wake_fd = -1;     /* none yet (0 is a valid descriptor) */
    }
    pthread_rwlock_wrlock(&nb->sw_lock);
    v->next = nb->vifs;
    nb->vifs = v;
    pthread_rwlock_unlock(&nb->sw_lock);
    return v;
}

/* fate: NB_IFACE_REMOVE when the device went, KEEP when the service stops
 * and leaves it to a restart, ABANDON for a crash (nothing said to anyone). */
static void destroy_vif(struct xnv_netback *nb, struct nb_vif *v, enum nb_iface_fate fate)
{
    if (fate == NB_IFACE_ABANDON)
        nb_release(v);
    else
        nb_disconnect(v);
    pthread_rwlock_wrlock(&nb->sw_lock);
    for (struct nb_vif **pp = &nb->vifs; *pp; pp = &(*pp)->next)
        if (*pp == v) {
            *pp = v->next;
            break;
        }
    pthread_rwlock_unlock(&nb->sw_lock);
    if (v->fe_state_path[0])
        xnv_xs_unwatch(nb->hv, v->fe_state_path, v->token);
    nb_peers_forget(v);
    nb_iface_close(v, fate);
    pthread_mutex_destroy(&v->mcast_lock);
    pthread_rwlock_destroy(&v->hash_lock);
    for (unsigned i = 0; i < NB_MAX_QUEUES; i++)
        pthread_mutex_destroy(&v->q[i].rx_lock);
    free(v);
}

/* Parse "<root>/<dom>/<dev>[/...]"; returns how many numbers were found. */
static int parse_vif_path(struct xnv_netback *nb, const char *path, xnv_domid_t *dom, unsigned *dev)
{
    size_t rl = strlen(nb->root);
    if (strncmp(path, nb->root, rl) != 0 || (path[rl] != '/' && path[rl] != '\0'))
        return -1;
    char buf[64];
    uint64_t d, n;
    const char *p = path + rl + (path[rl] == '/');
    size_t k = strcspn(p, "/");
    if (k == 0 || k >= sizeof buf)
        return 0;
    memcpy(buf, p, k);
    buf[k] = '\0';
    if (xnv_parse_uint(buf, 0x7fef, &d))
        return 0;
    *dom = (xnv_domid_t)d;
    p += k;
    if (*p != '/')
        return 1;
    p++;
    k = strcspn(p, "/");
    if (k == 0 || k >= sizeof buf)
        return 1;
    memcpy(buf, p, k);
    buf[k] = '\0';
    if (xnv_parse_uint(buf, 0xffff, &n))
        return 1;
    *dev = (unsigned)n;
    return 2;
}

static void touch_vif(struct xnv_netback *nb, xnv_domid_t dom, unsigned dev)
{
    struct nb_vif *v = find_vif(nb, dom, dev);
    char path[160];
    snprintf(path, sizeof path, "%s/%u/%u", nb->root, dom, dev);
    if (!xnv_xs_exists(nb->hv, XNV_XS_NO_TX, path, NULL)) {
        if (v)
            destroy_vif(nb, v, NB_IFACE_REMOVE);
        return;
    }
    if (!v && !(v = add_vif(nb, dom, dev)))
        return;
    nb_vif_evaluate(v);
}

/* Reconcile every device with the directory tree. */
static void scan_all(struct xnv_netback *nb)
{
    unsigned nd = 0;
    char **doms = xnv_xs_directory(nb->hv, XNV_XS_NO_TX, nb->root, &nd);
    for (unsigned i = 0; i < nd; i++) {
        uint64_t dom;
        if (xnv_parse_uint(doms[i], 0x7fef, &dom))
            continue;
        char path[160];
        snprintf(path, sizeof path, "%s/%s", nb->root, doms[i]);
        unsigned nv = 0;
        char **devs = xnv_xs_directory(nb->hv, XNV_XS_NO_TX, path, &nv);
        for (unsigned j = 0; j < nv; j++) {
            uint64_t dev;
            if (xnv_parse_uint(devs[j], 0xffff, &dev) == 0)
                touch_vif(nb, (xnv_domid_t)dom, (unsigned)dev);
        }
        free(devs);
    }
    free(doms);
    for (struct nb_vif *v = nb->vifs, *next; v; v = next) {
        next = v->next;
        if (!xnv_xs_exists(nb->hv, XNV_XS_NO_TX, v->be_path, NULL))
            destroy_vif(nb, v, NB_IFACE_REMOVE);
    }
}

/* The watch events one pass drained, reduced to what they ask for.  The
 * engine's own writes under backend/vif come back as one event per node
 * written, a dozen for one change of state; looking at a device once per
 * event cost over a hundred xenstore requests per connect cycle, and a
 * guest that reconnects in a loop could make dom0 spend that on it. */
#define NB_NEW_DEVICES 16
struct nb_events {
    bool scan;                      /* the whole tree */
    unsigned nnew;                  /* devices without a vif yet */
    struct { xnv_domid_t dom; unsigned dev; } added[NB_NEW_DEVICES];
};

static void note_device(struct xnv_netback *nb, struct nb_events *e, xnv_domid_t dom, unsigned dev)
{
    struct nb_vif *v = find_vif(nb, dom, dev);
    if (v) {
        v->event_be = true;
        return;
    }
    for (unsigned i = 0; i < e->nnew; i++)
        if (e->added[i].dom == dom && e->added[i].dev == dev)
            return;
    if (e->nnew == NB_NEW_DEVICES) {
        e->scan = true;
        return;
    }
    e->added[e->nnew].dom = dom;
    e->added[e->nnew++].dev = dev;
}

static void note_event(struct xnv_netback *nb, struct nb_events *e, const char *path, const char *token)
{
    xnv_domid_t dom = 0;
    unsigned dev = 0;
    if (strcmp(token, TOKEN_ROOT) == 0) {
        if (parse_vif_path(nb, path, &dom, &dev) == 2)
            note_device(nb, e, dom, dev);
        else
            e->scan = true;
    } else if (strncmp(token, TOKEN_FE, strlen(TOKEN_FE)) == 0) {
        unsigned d;
        if (sscanf(token + strlen(TOKEN_FE), "%u/%u", &d, &dev) == 2) {
            struct nb_vif *v = find_vif(nb, (xnv_domid_t)d, dev);
            if (v)
                v->event_fe = true;
        }
    } else if (strcmp(token, TOKEN_RELEASE) == 0) {
        for (struct nb_vif *v = nb->vifs; v; v = v->next)
            v->event_fe = true;
    }
}

/* The timer at now + wait_ms, unless it fires earlier already. */
static void timer_arm(struct xnv_netback *nb, uint64_t now, uint64_t wait_ms)
{
    uint64_t ms = wait_ms ? wait_ms : 1, due = now + ms;
    if (nb->timer_due_ms && nb->timer_due_ms <= due)
        return;
    struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 } };
    if (timerfd_settime(nb->timer_fd, 0, &its, NULL) == 0)
        nb->timer_due_ms = due;
}

void nb_vif_look_at(struct nb_vif *v, uint64_t at_ms)
{
    uint64_t now = nb_now_ms();
    v->event_fe = true;
    v->looks_wait = true;
    timer_arm(v->nb, now, at_ms > now ? at_ms - now : 0);
}

/* Each device the events named, looked at once, within its budget. */
static void handle_events(struct xnv_netback *nb, struct nb_events *e)
{
    if (e->scan) {
        for (struct nb_vif *v = nb->vifs; v; v = v->next)
            v->event_be = v->event_fe = false;
        scan_all(nb);          /* looks at every device */
        return;
    }
    for (unsigned i = 0; i < e->nnew; i++)
        touch_vif(nb, e->added[i].dom, e->added[i].dev);
    uint64_t now = 0, wait = 0;
    /* touch_vif may destroy a vif: start over from the head after each */
    for (struct nb_vif *v = nb->vifs; v;) {
        if ((!v->event_be && !v->event_fe) || v->looks_wait) {
            v = v->next;
            continue;
        }
        if (!now)
            now = nb_now_ms();
        if (!nb_budget_take(&v->looks, now, LOOKS_BURST, nb->cfg.device_looks_per_s, &wait)) {
            v->looks_wait = true;       /* the events stay noted until then */
            timer_arm(nb, now, wait);
            v = v->next;
            continue;
        }
        bool be = v->event_be;
        v->event_be = v->event_fe = false;
        if (be)
            touch_vif(nb, v->domid, v->devid);
        else
            nb_vif_evaluate(v);
        v = nb->vifs;
    }
}

int xnv_netback_process(struct xnv_netback *nb)
{
    int handled = 0;
    uint64_t n;
    if (read(nb->wake_fd, &n, sizeof n) == sizeof n) {
        for (struct nb_vif *v = nb->vifs; v; v = v->next)
            if (atomic_load(&v->broken))
                nb_vif_evaluate(v);
        handled++;
    }
    if (read(nb->timer_fd, &n, sizeof n) == sizeof n) {
        nb->timer_due_ms = 0;
        for (struct nb_vif *v = nb->vifs; v; v = v->next)
            v->looks_wait = false;
        handled++;
    }
    struct nb_events e = { 0 };
    char **ev;
    while ((ev = xnv_xs_read_watch(nb->hv)) != NULL) {
        note_event(nb, &e, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
        free(ev);
        handled++;
    }
    handle_events(nb, &e);
    if (handled)
        nb_peers_refresh(nb);
    return handled;
}

int xnv_netback_fd(struct xnv_netback *nb) { return nb->epfd; }

struct xnv_netback *xnv_netback_new(struct xnv_hv *hv, const struct xnv_netback_config *cfg,
                                    char *err, size_t errlen)
{
    struct xnv_netback *nb = calloc(1, sizeof *nb);
    if (!nb) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    nb->hv = hv;
    nb->cfg = *cfg;
    pthread_rwlock_init(&nb->sw_lock, NULL);
    pthread_mutex_init(&nb->own_lock, NULL);
    if (nb->cfg.max_queues < 1 || nb->cfg.max_queues > NB_MAX_QUEUES || nb->cfg.rx_queue_frames < 1) {
        snprintf(err, errlen, "max_queues must be 1..%u and rx_queue_frames at least 1", NB_MAX_QUEUES);
        free(nb);
        return NULL;
    }
    char *home = xnv_xs_domain_path(hv, xnv_hv_domid(hv));
    snprintf(nb->home, sizeof nb->home, "%s", home ? home : "");
    free(home);
    snprintf(nb->root, sizeof nb->root, "%s/backend/vif", nb->home);
    nb->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    nb->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    nb->epfd = epoll_create1(EPOLL_CLOEXEC);
    int xsfd = xnv_xs_watch_fd(hv);
    struct epoll_event e1 = { .events = EPOLLIN, .data.fd = xsfd };
    struct epoll_event e2 = { .events = EPOLLIN, .data.fd = nb->wake_fd };
    struct epoll_event e3 = { .events = EPOLLIN, .data.fd = nb->timer_fd };
    int rc = 0;
    if (nb->wake_fd < 0 || nb->timer_fd < 0 || nb->epfd < 0 || xsfd < 0 ||
        epoll_ctl(nb->epfd, EPOLL_CTL_ADD, xsfd, &e1) || epoll_ctl(nb->epfd, EPOLL_CTL_ADD, nb->wake_fd, &e2) ||
        epoll_ctl(nb->epfd, EPOLL_CTL_ADD, nb->timer_fd, &e3))
        rc = -EIO;
    if (!rc)
        rc = xnv_xs_watch(hv, nb->root, TOKEN_ROOT);
    if (!rc)
        rc = xnv_xs_watch(hv, "@releaseDomain", TOKEN_RELEASE);
    if (rc) {
        snprintf(err, errlen, "cannot watch %s: %s", nb->root, strerror(-rc));
        xnv_netback_free(nb);
        return NULL;
    }
    return nb;
}

void xnv_netback_free(struct xnv_netback *nb) { xnv_netback_shutdown(nb, true); }

static void free_engine(struct xnv_netback *nb)
{
    xnv_xs_unwatch(nb->hv, nb->root, TOKEN_ROOT);
    xnv_xs_unwatch(nb->hv, "@releaseDomain", TOKEN_RELEASE);
    if (nb->epfd >= 0)
        close(nb->epfd);
    if (nb->wake_fd >= 0)
        close(nb->wake_fd);
    if (nb->timer_fd >= 0)
        close(nb->timer_fd);
    pthread_rwlock_destroy(&nb->sw_lock);
    pthread_mutex_destroy(&nb->own_lock);
    free(nb);
}

/* Without close_guests every TAP stays, whatever the phase of its device:
 * the hotplug script may have put it on its bridge (and renamed it), and
 * only the toolstack runs that script, once. */
void xnv_netback_shutdown(struct xnv_netback *nb, bool close_guests)
{
    if (!nb)
        return;
    while (nb->vifs) {
        struct nb_vif *v = nb->vifs;
        if (close_guests && v->phase != NB_PROBING)
            nb_write_state(v, XenbusStateClosed);
        destroy_vif(nb, v, close_guests ? NB_IFACE_REMOVE : NB_IFACE_KEEP);
    }
    free_engine(nb);
}

void xnv_netback_abandon(struct xnv_netback *nb)
{
    if (!nb)
        return;
    while (nb->vifs)
        destroy_vif(nb, nb->vifs, NB_IFACE_ABANDON);
    free_engine(nb);
}

unsigned xnv_netback_list(struct xnv_netback *nb, struct xnv_vif_info *out, unsigned max)
{
    unsigned n = 0;
    for (struct nb_vif *v = nb->vifs; v; v = v->next, n++) {
        if (n >= max)
            continue;
        struct xnv_vif_info *i = &out[n];
        *i = (struct xnv_vif_info){ .domid = v->domid, .devid = v->devid, .state = v->be_state,
                                    .queues = v->data_running ? v->nqueues : 0,
                                    .features = v->neg.flags, .broken = atomic_load(&v->broken) };
        snprintf(i->ifname, sizeof i->ifname, "%s", v->port ? v->port->name : "");
        memcpy(i->mac, v->mac, 6);
        i->carrier = v->data_running;
        for (unsigned q = 0; q < v->nqueues; q++)
            if (v->q[q].carrier_off)
                i->carrier = false;
    }
    return n;
}

/* xnv_netback_stats sums the counters as an array of uint64_t: the struct
 * must hold nothing else (a new last field must be named here too). */
_Static_assert(sizeof(struct xnv_queue_stats) % sizeof(uint64_t) == 0 &&
               offsetof(struct xnv_queue_stats, port_reads_skipped) + sizeof(uint64_t) ==
                   sizeof(struct xnv_queue_stats),
               "struct xnv_queue_stats must be made only of uint64_t counters");

int xnv_netback_stats(struct xnv_netback *nb, xnv_domid_t domid, unsigned devid, int queue,
                      struct xnv_queue_stats *out)
{
    struct nb_vif *v = find_vif(nb, domid, devid);
    if (!v || queue >= (int)NB_MAX_QUEUES)
        return -ENOENT;
    memset(out, 0, sizeof *out);
    for (unsigned i = 0; i < NB_MAX_QUEUES; i++) {
        if (queue >= 0 && (unsigned)queue != i)
            continue;
        const uint64_t *src = (const uint64_t *)&v->q[i].stats;
        uint64_t *dst = (uint64_t *)out;
        for (size_t k = 0; k < sizeof *out / sizeof(uint64_t); k++)
            dst[k] += __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    }
    return 0;
}
