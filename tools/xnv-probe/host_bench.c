/* xnv-probe, host role: grant-copy micro-benchmark.  4 KiB segments from
 * one guest page into distinct local pages, 16 (one gntdev hypercall) and
 * 64 segments per call, each for --bench-ms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

static void bench_one(struct host *h, const struct host_guest *g, unsigned per_call,
                      uint8_t *dst, xengnttab_grant_copy_segment_t *s)
{
    for (unsigned i = 0; i < per_call; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].source.foreign.ref = g->refs[0];
        s[i].source.foreign.domid = g->dom;
        s[i].dest.virt = dst + (size_t)i * XNV_PAGE_SIZE;
        s[i].len = XNV_PAGE_SIZE;
        s[i].flags = GNTCOPY_source_gref;
    }
    uint64_t t0 = now_ms(), t = t0, calls = 0;
    int rc = 0;
    unsigned bad = 0;
    while (rc == 0 && bad == 0 && t - t0 < h->o->bench_ms) {
        rc = xnv_gnt_copy(h->hv, s, per_call);
        for (unsigned i = 0; rc == 0 && i < per_call; i++)
            bad += s[i].status != GNTST_okay;
        calls++;
        t = now_ms();
    }
    double secs = (double)(t - t0) / 1000.0, copies = (double)(calls * per_call);
    if (secs <= 0)
        secs = 0.001;
    char name[32];
    snprintf(name, sizeof name, "bench-%u", per_call);
    check(h->r, rc == 0 && bad == 0, name, "%u x 4 KiB per call from dom%u: %.0f copies/s "
          "(%.1f MB/s, %.0f calls/s, %llu calls in %.2f s)%s", per_call, g->dom,
          copies / secs, copies * XNV_PAGE_SIZE / secs / 1e6, (double)calls / secs,
          (unsigned long long)calls, secs, rc ? " STOPPED BY AN ERROR" : bad ? " BAD STATUS" : "");
}

void host_bench(struct host *h)
{
    const struct host_guest *g = NULL;
    for (unsigned i = 0; i < h->ng && !g; i++)
        if (h->g[i].usable)
            g = &h->g[i];
    if (!g || h->o->bench_ms == 0)
        return;
    uint8_t *dst = malloc(64u * XNV_PAGE_SIZE);
    xengnttab_grant_copy_segment_t *s = calloc(64, sizeof *s);
    if (dst && s) {
        bench_one(h, g, 16, dst, s);
        bench_one(h, g, 64, dst, s);
    } else
        check(h->r, false, "bench", "%s", strerror(ENOMEM));
    free(dst);
    free(s);
}
