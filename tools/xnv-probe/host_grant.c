/* xnv-probe, host role: grant copy in every direction (foreign to local,
 * local to foreign, grant to grant), the error cases, grant map, and a
 * copy micro-benchmark, all against the pages the guests shared. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define BAD_REF 0x0ffffff0u     /* far beyond any grant table */
#define PG XNV_PAGE_SIZE

static void seg_from(xengnttab_grant_copy_segment_t *s, const struct host_guest *g,
                     unsigned page, unsigned off, void *dst, unsigned len)
{
    memset(s, 0, sizeof *s);
    s->source.foreign.ref = g->refs[page];
    s->source.foreign.domid = g->dom;
    s->source.foreign.offset = (uint16_t)off;
    s->dest.virt = dst;
    s->len = (uint16_t)len;
    s->flags = GNTCOPY_source_gref;
}

static void seg_to(xengnttab_grant_copy_segment_t *s, const struct host_guest *g,
                   unsigned page, unsigned off, const void *src, unsigned len)
{
    memset(s, 0, sizeof *s);
    s->source.virt = (void *)src;
    s->dest.foreign.ref = g->refs[page];
    s->dest.foreign.domid = g->dom;
    s->dest.foreign.offset = (uint16_t)off;
    s->len = (uint16_t)len;
    s->flags = GNTCOPY_dest_gref;
}

static unsigned statuses_bad(const xengnttab_grant_copy_segment_t *s, unsigned n)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < n; i++)
        bad += s[i].status != GNTST_okay;
    return bad;
}

/* ---- foreign -> local: every page of every guest in one call ------------ */

static bool verify_guest_pages(const struct host_guest *g, const uint8_t *buf)
{
    for (unsigned p = 0; p + 1 < g->n; p++)
        if (pat_mismatch(buf + (size_t)p * PG, g->dom, p, 0, PG) >= 0)
            return false;
    return zero_mismatch(buf + (size_t)(g->n - 1) * PG, PG) < 0;    /* receive page */
}

static void copy_in(struct host *h)
{
    unsigned total = 0;
    for (unsigned i = 0; i < h->ng; i++)
        total += h->g[i].usable ? h->g[i].n : 0;
    uint8_t *buf = calloc(total, PG);
    xengnttab_grant_copy_segment_t *s = calloc(total, sizeof *s);
    unsigned k = 0;
    for (unsigned i = 0; buf && s && i < h->ng; i++)
        for (unsigned p = 0; h->g[i].usable && p < h->g[i].n; p++, k++)
            seg_from(&s[k], &h->g[i], p, 0, buf + (size_t)k * PG, PG);
    int rc = buf && s ? xnv_gnt_copy(h->hv, s, total) : -ENOMEM;
    bool ok = rc == 0 && statuses_bad(s, total) == 0;
    k = 0;
    for (unsigned i = 0; ok && i < h->ng; i++) {
        if (h->g[i].usable && !verify_guest_pages(&h->g[i], buf + (size_t)k * PG))
            ok = false;
        k += h->g[i].usable ? h->g[i].n : 0;
    }
    check(h->r, ok, "copy-in", "%u x 4 KiB foreign->local in one call: rc=%d, %u bad status, "
          "contents %s", total, rc, rc ? 0 : statuses_bad(s, total),
          ok ? "match the pattern (receive pages zero)" : "DO NOT MATCH");
    free(buf);
    free(s);
}

/* ---- malformed batch: -EINVAL and nothing copied ------------------------ */

static void copy_einval(struct host *h, const struct host_guest *g)
{
    static uint8_t dst[PG];
    memset(dst, 0xaa, sizeof dst);
    xengnttab_grant_copy_segment_t s[2];
    seg_from(&s[0], g, 0, 0, dst, PG);
    seg_from(&s[1], g, 0, 4000, dst, 200);          /* crosses the page end */
    int rc1 = xnv_gnt_copy(h->hv, s, 2);
    bool untouched = dst[0] == 0xaa && dst[PG - 1] == 0xaa;
    seg_from(&s[0], g, 0, 0, dst, PG);
    s[0].len = 0;
    int rc2 = xnv_gnt_copy(h->hv, s, 1);
    check(h->r, rc1 == -EINVAL && untouched && rc2 == -EINVAL, "copy-einval",
          "offset+len>4096 in a batch: %d, valid segment %s; len 0: %d", rc1,
          untouched ? "not copied" : "COPIED", rc2);
}

/* ---- per-segment errors do not fail the call ---------------------------- */

static void copy_badref(struct host *h, const struct host_guest *g)
{
    static uint8_t dst[2][PG];
    xengnttab_grant_copy_segment_t s[2];
    seg_from(&s[0], g, 0, 0, dst[0], PG);
    seg_from(&s[1], g, 0, 0, dst[1], PG);
    s[1].source.foreign.ref = BAD_REF;
    int rc = xnv_gnt_copy(h->hv, s, 2);
    bool ok = rc == 0 && s[0].status == GNTST_okay && s[1].status < 0 &&
              pat_mismatch(dst[0], g->dom, 0, 0, PG) < 0;
    check(h->r, ok, "copy-badref", "[good ref, ref %#x]: rc=%d, statuses %d, %d "
          "(expect 0 and negative, e.g. GNTST_bad_gntref=%d)", BAD_REF, rc, s[0].status,
          s[1].status, GNTST_bad_gntref);
}

static void copy_readonly(struct host *h, const struct host_guest *g)
{
    static const uint8_t junk[64] = "must not land in a read-only grant";
    xengnttab_grant_copy_segment_t s;
    seg_to(&s, g, 0, 0, junk, sizeof junk);
    int rc = xnv_gnt_copy(h->hv, &s, 1);
    check(h->r, rc == 0 && s.status < 0, "copy-readonly",
          "local->foreign into dom%u's read-only page 0: rc=%d status=%d (expect a "
          "negative GNTST_* code)", g->dom, rc, s.status);
}

/* ---- grant map ---------------------------------------------------------- */

static void map_guest(struct host *h, const struct host_guest *g)
{
    char name[32];
    unsigned np = g->n - 1;
    uint8_t *m = xnv_gnt_map(h->hv, g->dom, g->refs, np, false);
    int e = errno;
    long bad = -1;
    for (unsigned p = 0; m && p < np && bad < 0; p++)
        bad = pat_mismatch(m + (size_t)p * PG, g->dom, p, 0, PG);
    snprintf(name, sizeof name, "map.%u", g->dom);
    check(h->r, m && bad < 0, name, "%u read-only page(s) mapped contiguously: %s", np,
          !m ? strerror(e) : bad < 0 ? "contents match" : "CONTENTS DIFFER");
    if (!m)
        return;
    int rc = xnv_gnt_unmap(h->hv, m, np);
    snprintf(name, sizeof name, "unmap.%u", g->dom);
    check(h->r, rc == 0, name, "%s", rc ? strerror(-rc) : "ok");
}

/* ---- local -> foreign, and grant -> grant between two guests ------------ */

static void copy_out(struct host *h)
{
    static uint8_t blk[PROBE_MAX_GUESTS][RX_HOST_LEN];
    xengnttab_grant_copy_segment_t s[PROBE_MAX_GUESTS];
    unsigned n = 0;
    for (unsigned i = 0; i < h->ng; i++) {
        struct host_guest *g = &h->g[i];
        if (!g->usable)
            continue;
        host_block(blk[n], h->me, g->dom);
        seg_to(&s[n], g, g->n - 1, RX_HOST_OFF, blk[n], RX_HOST_LEN);
        n++;
    }
    int rc = n ? xnv_gnt_copy(h->hv, s, n) : -ENODEV;
    check(h->r, rc == 0 && statuses_bad(s, n) == 0, "copy-out",
          "%u x %u bytes local->foreign into the receive page(s): rc=%d, statuses %d %d", n,
          RX_HOST_LEN, rc, n ? s[0].status : 0, n > 1 ? s[1].status : 0);
}

static void copy_g2g(struct host *h)
{
    struct host_guest *a = &h->g[0], *b = &h->g[1];
    if (h->ng < 2 || !a->usable || !b->usable)
        return;
    xengnttab_grant_copy_segment_t s[2];
    struct host_guest *src[2] = { a, b }, *dst[2] = { b, a };
    for (unsigned i = 0; i < 2; i++) {
        memset(&s[i], 0, sizeof s[i]);
        s[i].source.foreign.ref = src[i]->refs[0];
        s[i].source.foreign.domid = src[i]->dom;
        s[i].source.foreign.offset = 0;
        s[i].dest.foreign.ref = dst[i]->refs[dst[i]->n - 1];
        s[i].dest.foreign.domid = dst[i]->dom;
        s[i].dest.foreign.offset = RX_G2G_OFF;
        s[i].len = RX_G2G_LEN;
        s[i].flags = GNTCOPY_source_gref | GNTCOPY_dest_gref;
    }
    int rc = xnv_gnt_copy(h->hv, s, 2);
    bool ok = rc == 0 && statuses_bad(s, 2) == 0;
    if (ok) {
        b->g2g_from = a->dom;
        a->g2g_from = b->dom;
    }
    check(h->r, ok, "copy-g2g", "dom%u page 0 -> dom%u receive page and back, one call: "
          "rc=%d statuses %d %d (the guests verify the bytes)", a->dom, b->dom, rc,
          s[0].status, s[1].status);
}

void host_grant_checks(struct host *h)
{
    bool any = false;
    for (unsigned i = 0; i < h->ng; i++)
        any = any || h->g[i].usable;
    if (!check(h->r, any, "grant-targets", "%s", any ? "guest pages available"
                                                     : "NO GUEST READY: grant checks skipped"))
        return;
    copy_in(h);
    const struct host_guest *g0 = h->g[0].usable ? &h->g[0] : &h->g[1];
    copy_einval(h, g0);
    copy_badref(h, g0);
    copy_readonly(h, g0);
    for (unsigned i = 0; i < h->ng; i++)
        if (h->g[i].usable)
            map_guest(h, &h->g[i]);
    copy_out(h);
    copy_g2g(h);
}
