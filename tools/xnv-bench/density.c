/* xnv-bench --density: one netback engine serving many guests' vifs over the
 * simulated hypervisor.  What each vif costs the backend (the guests live in
 * the same process, so their part is measured apart and left out), then the
 * aggregate rate with a few vifs busy and with all of them, each direction. */
#include <errno.h>
#include <string.h>
#include "density.h"

static void per_vif(const struct density_setup *s, const struct self_usage *after_traffic, unsigned n,
                    struct density_costs *c)
{
    double d = n;
    /* the frontends' part: sharing their pages, then taking Connected */
    long guest_kib = (s->frontends.rss_kib - s->initwait.rss_kib) + (s->frontends_up.rss_kib - s->connected.rss_kib);
    c->rss_initwait_kib = (double)(s->initwait.rss_kib - s->base.rss_kib) / d;
    c->rss_connect_kib = (double)(s->connected.rss_kib - s->frontends.rss_kib) / d;
    c->rss_idle_kib = c->rss_initwait_kib + (double)(s->idle.rss_kib - s->frontends.rss_kib) / d;
    c->rss_busy_kib = (double)(after_traffic->rss_kib - s->base.rss_kib - guest_kib) / d;
    c->rss_guest_kib = (double)guest_kib / d;
    c->threads = (double)(s->connected.threads - s->frontends.threads) / d;
    c->fds_port = (double)(s->initwait.fds - s->base.fds) / d;
    c->fds_connect = (double)(s->connected.fds - s->frontends.fds) / d;
    c->mapped_pages = s->mapped_pages / d;
    c->shared_pages = s->shared_pages / d;
    c->connect_ms = s->connect_s * 1e3 / d;
}

int density_main(const struct density_opts *o)
{
    static struct density_world w;
    static struct density_report rp;
    char err[256] = "";
    rp.o = o;
    if (density_setup(&w, o->vifs, o->queues, &rp.setup, err, sizeof err)) {
        fprintf(stderr, "xnv-bench: --density %u: %s\n", o->vifs, err);
        density_teardown(&w);
        return 1;
    }
    /* Few and all busy take turns, round after round, so that the
     * machine's other load falls on both alike; the report compares the
     * medians.  The costs come after (RSS after traffic is one of them). */
    for (int to_guest = 0; to_guest < 2; to_guest++)
        for (unsigned round = 0; round < o->rounds; round++)
            for (int all = 0; all < 2; all++) {
                rp.tc[to_guest][all][round] = (struct traffic_case){ .busy = all ? o->vifs : o->few,
                                                                     .to_guest = to_guest,
                                                                     .frame_bytes = o->frame_bytes,
                                                                     .seconds = o->seconds };
                traffic_run(&w, &rp.tc[to_guest][all][round], &rp.tr[to_guest][all][round]);
            }
    struct self_usage after;
    self_usage(&after);
    per_vif(&rp.setup, &after, o->vifs, &rp.costs);
    density_teardown(&w);
    density_print(stdout, o->json, &rp);
    if (o->json_path) {
        FILE *f = fopen(o->json_path, "w");
        if (!f) {
            fprintf(stderr, "xnv-bench: %s: %s\n", o->json_path, strerror(errno));
            return 1;
        }
        density_print(f, true, &rp);
        if (fclose(f)) {
            fprintf(stderr, "xnv-bench: %s: %s\n", o->json_path, strerror(errno));
            return 1;
        }
    }
    return 0;
}
