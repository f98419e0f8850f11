/* Xenstore watches: registration, firing, and the per-handle event queue
 * behind xnv_xs_watch_fd() (an eventfd readable while events are queued). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sim_internal.h"

/* Queues (path, token) for w.  The queue is bounded: past the bound, new
 * events are dropped, so a watcher that never reads costs bounded memory. */
static void queue_event(struct sim_hv *h, const struct sim_watch *w, const char *path)
{
    if (h->nevents >= SIM_XS_MAX_EVENTS)
        return;
    size_t pl = strlen(path) + 1, tl = strlen(w->token) + 1;
    struct sim_wevent *e = malloc(sizeof(*e));
    char **vec = malloc(2 * sizeof(char *) + pl + tl);
    if (!e || !vec) {
        free(e);
        free(vec);
        return;
    }
    vec[XS_WATCH_PATH] = memcpy((char *)(vec + 2), path, pl);
    vec[XS_WATCH_TOKEN] = memcpy((char *)(vec + 2) + pl, w->token, tl);
    e->vec = vec;
    e->watch_id = w->id;
    e->next = NULL;
    if (h->evq_tail)
        h->evq_tail->next = e;
    else
        h->evq_head = e;
    h->evq_tail = e;
    if (h->nevents++ == 0)
        sim_efd_raise(h->watch_efd);
}

/* The event path a watch reports: relative watches see relative paths. */
static const char *event_path(const struct sim_hv *h, const struct sim_watch *w, const char *path)
{
    if (w->relative) {
        char home[32];
        int hl = snprintf(home, sizeof(home), "/local/domain/%u/", h->dom->id);
        if (strncmp(path, home, (size_t)hl) == 0)
            return path + hl;
    }
    return path;
}

/* Lock held.  path changed (n: the node, before removal when removed); an
 * unprivileged watcher only hears about nodes it may read. */
void sim_xs_fire(struct xnv_sim *sim, const char *path, const struct xs_node *n, bool removed)
{
    bool special = path[0] == '@';
    for (struct sim_hv *h = sim->handles; h; h = h->next) {
        if (!h->dom->alive)
            continue;
        bool may_read = !n || (sim_xs_access(n, h->dom->id) & XS_PERM_READ);
        for (struct sim_watch *w = h->watches; w; w = w->next) {
            if (special || w->path[0] == '@') {
                if (strcmp(w->path, path) == 0)
                    queue_event(h, w, path);
            } else if (sim_xs_is_under(path, w->path)) {
                if (may_read)
                    queue_event(h, w, event_path(h, w, path));
            } else if (removed && sim_xs_is_under(w->path, path)) {
                /* A watched node inside the removed subtree went too: it
                 * fires if it existed and the watcher could read it. */
                const char *rest = w->path + strlen(path);
                const struct xs_node *wn = sim_xs_lookup(n, rest, strlen(rest));
                if (wn && (sim_xs_access(wn, h->dom->id) & XS_PERM_READ))
                    queue_event(h, w, w->given);
            }
        }
    }
}

static void drop_events(struct sim_hv *h, uint64_t watch_id)
{
    struct sim_wevent **pp = &h->evq_head, *last = NULL;
    while (*pp) {
        struct sim_wevent *e = *pp;
        if (e->watch_id == watch_id) {
            *pp = e->next;
            free(e->vec);
            free(e);
            h->nevents--;
        } else {
            last = e;
            pp = &e->next;
        }
    }
    h->evq_tail = last;
    if (!h->evq_head)
        sim_efd_clear(h->watch_efd);
}

static void watch_free(struct sim_watch *w)
{
    free(w->path);
    free(w->given);
    free(w->token);
    free(w);
}

void sim_xs_watches_drop(struct sim_hv *h)
{
    while (h->watches) {
        struct sim_watch *w = h->watches;
        h->watches = w->next;
        watch_free(w);
    }
    h->nwatches = 0;
    while (h->evq_head) {
        struct sim_wevent *e = h->evq_head;
        h->evq_head = e->next;
        free(e->vec);
        free(e);
    }
    h->evq_tail = NULL;
    h->nevents = 0;
    sim_efd_clear(h->watch_efd);
}

/* Fires once at once, like xenstored. */
int sim_xs_watch(struct xnv_hv *hv, const char *path, const char *token)
{
    struct sim_hv *h = sim_hv_of(hv);
    struct sim_watch *w = NULL;
    char *abs;
    bool rel;
    if (!token)
        return -EINVAL;
    int rc = sim_xs_canon(hv->domid, path, true, &abs, &rel);
    if (rc < 0)
        return rc;
    sim_lock(h->sim);
    if (!h->dom->alive) {
        rc = -ESRCH;
        goto out;
    }
    if (h->dom->id != 0 && h->nwatches >= SIM_XS_MAX_WATCHES) {
        rc = -E2BIG;
        goto out;
    }
    for (struct sim_watch *o = h->watches; o; o = o->next) {
        if (strcmp(o->path, abs) == 0 && strcmp(o->token, token) == 0) {
            rc = -EEXIST;
            goto out;
        }
    }
    if (!(w = calloc(1, sizeof(*w))) || !(w->given = strdup(path)) || !(w->token = strdup(token))) {
        rc = -ENOMEM;
        goto out;
    }
    w->path = abs;
    abs = NULL;
    w->relative = rel;
    w->id = ++h->sim->next_watch_id;
    struct sim_watch **pp = &h->watches;
    while (*pp)
        pp = &(*pp)->next;
    *pp = w;
    h->nwatches++;
    queue_event(h, w, w->given);
    w = NULL;
out:
    sim_unlock(h->sim);
    if (w)
        watch_free(w);
    free(abs);
    return rc;
}

/* Also drops the events of that watch still queued, as libxenstore does. */
int sim_xs_unwatch(struct xnv_hv *hv, const char *path, const char *token)
{
    struct sim_hv *h = sim_hv_of(hv);
    char *abs;
    bool rel;
    if (!token)
        return -EINVAL;
    int rc = sim_xs_canon(hv->domid, path, true, &abs, &rel);
    if (rc < 0)
        return rc;
    sim_lock(h->sim);
    rc = h->dom->alive ? -ENOENT : -ESRCH;
    for (struct sim_watch **pp = &h->watches; *pp && rc == -ENOENT; pp = &(*pp)->next) {
        struct sim_watch *w = *pp;
        if (strcmp(w->path, abs) == 0 && strcmp(w->token, token) == 0) {
            *pp = w->next;
            h->nwatches--;
            drop_events(h, w->id);
            watch_free(w);
            rc = 0;
            break;
        }
    }
    sim_unlock(h->sim);
    free(abs);
    return rc;
}

int sim_xs_watch_fd(struct xnv_hv *hv)
{
    return sim_hv_of(hv)->watch_efd;
}

char **sim_xs_read_watch(struct xnv_hv *hv)
{
    struct sim_hv *h = sim_hv_of(hv);
    char **vec = NULL;
    sim_lock(h->sim);
    struct sim_wevent *e = h->evq_head;
    if (e) {
        h->evq_head = e->next;
        if (!h->evq_head) {
            h->evq_tail = NULL;
            sim_efd_clear(h->watch_efd);
        }
        h->nevents--;
        vec = e->vec;
        free(e);
    } else {
        errno = h->dom->alive ? EAGAIN : ESRCH;
    }
    sim_unlock(h->sim);
    return vec;
}
