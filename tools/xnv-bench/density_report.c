/* xnv-bench --density: the report, as tables or as one JSON document. */
#include <stdlib.h>
#include "density.h"

static void print_costs(FILE *f, bool json, const struct density_report *rp)
{
    const struct density_opts *o = rp->o;
    const struct density_setup *s = &rp->setup;
    const struct density_costs *c = &rp->costs;
    if (json) {
        fprintf(f, "{\"vifs\":%u,\"queues\":%u,\"rss_kib_per_idle_vif\":%.1f,\"rss_kib_per_vif_at_initwait\":%.1f,"
                "\"rss_kib_per_vif_connect\":%.1f,\"rss_kib_per_vif_after_traffic\":%.1f,"
                "\"guest_rss_kib_per_vif\":%.1f,\"threads_per_vif\":%.2f,\"port_fds_per_vif\":%.2f,"
                "\"connect_fds_per_vif\":%.2f,\"mapped_grants_per_vif\":%.2f,\"guest_shared_pages_per_vif\":%.1f,"
                "\"connect_ms_per_vif\":%.3f,\"connect_ms_all\":%.1f,\"rss_kib_base\":%ld,\"threads_idle\":%ld,"
                "\"fds_idle\":%ld,\"guest_share_limit\":%u,\"rounds\":%u,\"seconds\":%.2f,\"traffic\":[",
                o->vifs, o->queues, c->rss_idle_kib, c->rss_initwait_kib, c->rss_connect_kib, c->rss_busy_kib,
                c->rss_guest_kib, c->threads, c->fds_port, c->fds_connect, c->mapped_pages, c->shared_pages,
                c->connect_ms, s->connect_s * 1e3, s->base.rss_kib, s->idle.threads, s->idle.fds, s->share_limit,
                o->rounds, o->seconds);
        return;
    }
    fprintf(f, "one netback engine, %u vifs with %u queues each (simulated hypervisor); per vif, backend only:\n"
            "  RSS idle            %8.1f KiB  (at InitWait %.1f, connecting %.1f)\n"
            "  RSS after traffic   %8.1f KiB\n"
            "  threads             %8.2f\n"
            "  file descriptors    %8.2f      (+ %.2f of the in-memory port standing in for the TAP)\n"
            "  grants mapped       %8.2f      (the guest shares %.1f pages; the backend copies, never maps them)\n"
            "  connect             %8.3f ms   (all %u together: %.1f ms)\n"
            "  the guest's own side, in the same process: %.1f KiB\n",
            o->vifs, o->queues, c->rss_idle_kib, c->rss_initwait_kib, c->rss_connect_kib, c->rss_busy_kib,
            c->threads, c->fds_connect, c->fds_port, c->mapped_pages, c->shared_pages, c->connect_ms, o->vifs,
            s->connect_s * 1e3, c->rss_guest_kib);
}

static void print_traffic(FILE *f, bool json, const struct traffic_case *tc, unsigned round,
                          const struct traffic_result *r, bool first)
{
    const char *dir = tc->to_guest ? "backend_to_guest" : "guest_to_backend";
    if (json)
        fprintf(f, "%s{\"direction\":\"%s\",\"frame_bytes\":%u,\"busy_vifs\":%u,\"round\":%u,\"mpps\":%.3f,"
                "\"cpu_s\":%.3f,\"mpps_per_cpu\":%.3f,\"min_vif_mpps\":%.4f,\"max_vif_mpps\":%.4f,"
                "\"jain\":%.4f,\"events_per_frame\":%.4f,\"notifies_per_frame\":%.4f,"
                "\"sleeps_per_frame\":%.4f,\"frames_per_copy_call\":%.1f,\"frames\":%llu}",
                first ? "" : ",", dir, tc->frame_bytes, tc->busy, round, r->mpps, r->cpu_s, r->mpps_per_cpu,
                r->min_vif_mpps, r->max_vif_mpps, r->jain, r->events_per_frame, r->notifies_per_frame,
                r->sleeps_per_frame, r->frames_per_copy_call, (unsigned long long)r->frames);
    else
        fprintf(f, "%-17s %6u %5u %5u %8.3f %8.3f %9.4f %9.4f %6.3f %8.4f %8.4f %8.4f %7.1f\n", dir,
                tc->frame_bytes, tc->busy, round, r->mpps, r->mpps_per_cpu, r->min_vif_mpps, r->max_vif_mpps,
                r->jain, r->events_per_frame, r->notifies_per_frame, r->sleeps_per_frame, r->frames_per_copy_call);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *x, unsigned n)
{
    qsort(x, n, sizeof *x, cmp_double);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/* Medians over the rounds of one direction and one number of busy vifs. */
struct summary { double mpps, mpps_per_cpu, jain; };

static struct summary summarize(const struct traffic_result *r, unsigned rounds)
{
    double a[DENSITY_MAX_ROUNDS], b[DENSITY_MAX_ROUNDS], c[DENSITY_MAX_ROUNDS];
    for (unsigned i = 0; i < rounds; i++) {
        a[i] = r[i].mpps;
        b[i] = r[i].mpps_per_cpu;
        c[i] = r[i].jain;
    }
    return (struct summary){ median(a, rounds), median(b, rounds), median(c, rounds) };
}

static void print_summary(FILE *f, bool json, const struct density_report *rp)
{
    const struct density_opts *o = rp->o;
    struct summary sm[2][2];
    for (int d = 0; d < 2; d++)
        for (int all = 0; all < 2; all++)
            sm[d][all] = summarize(rp->tr[d][all], o->rounds);
    fprintf(f, json ? "],\"summary\":[" : "\nmedians of %u rounds        Mpps  Mpps/cpu   jain\n", o->rounds);
    for (int d = 0; d < 2; d++)
        for (int all = 0; all < 2; all++) {
            const char *dir = d ? "backend_to_guest" : "guest_to_backend";
            unsigned busy = all ? o->vifs : o->few;
            if (json)
                fprintf(f, "%s{\"direction\":\"%s\",\"busy_vifs\":%u,\"mpps\":%.3f,\"mpps_per_cpu\":%.3f,"
                        "\"jain\":%.4f}", d || all ? "," : "", dir, busy, sm[d][all].mpps, sm[d][all].mpps_per_cpu,
                        sm[d][all].jain);
            else
                fprintf(f, "%-17s %3u vifs %8.3f %8.3f %6.3f\n", dir, busy, sm[d][all].mpps,
                        sm[d][all].mpps_per_cpu, sm[d][all].jain);
        }
    double ratio[2], ratio_cpu[2];
    for (int d = 0; d < 2; d++) {
        ratio[d] = sm[d][0].mpps > 0 ? sm[d][1].mpps / sm[d][0].mpps : 0;
        ratio_cpu[d] = sm[d][0].mpps_per_cpu > 0 ? sm[d][1].mpps_per_cpu / sm[d][0].mpps_per_cpu : 0;
    }
    if (json)
        fprintf(f, "],\"ratio_all_to_few_g2b\":%.3f,\"ratio_all_to_few_b2g\":%.3f,"
                "\"ratio_per_cpu_all_to_few_g2b\":%.3f,\"ratio_per_cpu_all_to_few_b2g\":%.3f}\n",
                ratio[0], ratio[1], ratio_cpu[0], ratio_cpu[1]);
    else
        fprintf(f, "aggregate with %u vifs busy / with %u: guest_to_backend %.2f (per CPU-second %.2f), "
                "backend_to_guest %.2f (per CPU-second %.2f)\n",
                o->vifs, o->few, ratio[0], ratio_cpu[0], ratio[1], ratio_cpu[1]);
}

void density_print(FILE *f, bool json, const struct density_report *rp)
{
    print_costs(f, json, rp);
    if (!json)
        fprintf(f, "\n%-17s %6s %5s %5s %8s %8s %9s %9s %6s %8s %8s %8s %7s\n", "direction", "bytes", "vifs",
                "round", "Mpps", "Mpps/cpu", "vif min", "vif max", "jain", "events/f", "notif/f", "sleeps/f",
                "f/copy");
    bool first = true;
    for (int d = 0; d < 2; d++)
        for (unsigned round = 0; round < rp->o->rounds; round++)
            for (int all = 0; all < 2; all++) {
                print_traffic(f, json, &rp->tc[d][all][round], round, &rp->tr[d][all][round], first);
                first = false;
            }
    print_summary(f, json, rp);
    fflush(f);
}
