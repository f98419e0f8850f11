/* Simulated hypervisor: grant share, map and copy, with every failure the
 * real hypervisor reports (codes as Xen's grant-copy path gives them). */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/hv.h"
#include "xnv/sim.h"

static struct xnv_sim *sim;
static xnv_domid_t A, B, C;
static struct xnv_hv *ha, *hb, *hc;

static void setup(void)
{
    sim = xnv_sim_new();
    ck_assert_ptr_nonnull(sim);
    A = (xnv_domid_t)xnv_sim_domain_create(sim, "a");
    B = (xnv_domid_t)xnv_sim_domain_create(sim, "b");
    C = (xnv_domid_t)xnv_sim_domain_create(sim, "c");
    ha = xnv_sim_hv_open(sim, A);
    hb = xnv_sim_hv_open(sim, B);
    hc = xnv_sim_hv_open(sim, C);
    ck_assert(ha && hb && hc);
}

static void teardown(void)
{
    xnv_hv_close(ha);
    xnv_hv_close(hb);
    xnv_hv_close(hc);
    xnv_sim_set_copy_hook(sim, NULL, NULL);
    xnv_sim_free(sim);
}

static xengnttab_grant_copy_segment_t from_gref(xnv_domid_t dom, xnv_gref_t ref, uint16_t off,
                                                void *dst, uint16_t len)
{
    xengnttab_grant_copy_segment_t s = { .len = len, .flags = GNTCOPY_source_gref };
    s.source.foreign.domid = dom;
    s.source.foreign.ref = ref;
    s.source.foreign.offset = off;
    s.dest.virt = dst;
    return s;
}

static xengnttab_grant_copy_segment_t to_gref(const void *src, xnv_domid_t dom, xnv_gref_t ref,
                                              uint16_t off, uint16_t len)
{
    xengnttab_grant_copy_segment_t s = { .len = len, .flags = GNTCOPY_dest_gref };
    s.source.virt = (void *)src;
    s.dest.foreign.domid = dom;
    s.dest.foreign.ref = ref;
    s.dest.foreign.offset = off;
    return s;
}

START_TEST(share_aliases_map_and_copy)
{
    xnv_gref_t refs[2];
    char *pa = xnv_gnt_share(ha, B, 2, refs, true);
    ck_assert_ptr_nonnull(pa);
    ck_assert_uint_ne(refs[0], refs[1]);
    for (unsigned i = 0; i < 2 * XNV_PAGE_SIZE; i++)
        ck_assert_int_eq(pa[i], 0);

    char *pb = xnv_gnt_map(hb, A, refs, 2, true);
    ck_assert_ptr_nonnull(pb);
    strcpy(pa + 100, "from A");
    ck_assert_str_eq(pb + 100, "from A");
    strcpy(pb + XNV_PAGE_SIZE + 7, "from B");
    ck_assert_str_eq(pa + XNV_PAGE_SIZE + 7, "from B");

    /* B's grant copies see the same bytes, in both directions. */
    char buf[16] = { 0 };
    xengnttab_grant_copy_segment_t s[2] = {
        from_gref(A, refs[0], 100, buf, 7),
        to_gref("copied", A, refs[1], 500, 7),
    };
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), 0);
    ck_assert_int_eq(s[0].status, GNTST_okay);
    ck_assert_int_eq(s[1].status, GNTST_okay);
    ck_assert_str_eq(buf, "from A");
    ck_assert_str_eq(pa + XNV_PAGE_SIZE + 500, "copied");
    ck_assert_str_eq(pb + XNV_PAGE_SIZE + 500, "copied");

    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 2), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), 0);
}
END_TEST

START_TEST(virt_side_crosses_pages)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    char *local = aligned_alloc(XNV_PAGE_SIZE, 2 * XNV_PAGE_SIZE);
    for (unsigned i = 0; i < 2 * XNV_PAGE_SIZE; i++)
        local[i] = (char)(i * 7);
    /* 3000 bytes starting 1000 before a page boundary of the caller's buffer. */
    xengnttab_grant_copy_segment_t s = to_gref(local + XNV_PAGE_SIZE - 1000, A, ref, 1000, 3000);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_okay);
    ck_assert_int_eq(memcmp(pa + 1000, local + XNV_PAGE_SIZE - 1000, 3000), 0);
    free(local);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(copy_by_wrong_domain_is_refused)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    strcpy(pa, "secret");
    char buf[8] = { 0 };
    xengnttab_grant_copy_segment_t s[2] = {
        from_gref(A, ref, 0, buf, 7),
        to_gref("xxxxxx", A, ref, 0, 7),
    };
    /* C is not the grantee: Xen reports GNTST_general_error ("bad dom"). */
    ck_assert_int_eq(xnv_gnt_copy(hc, s, 2), 0);
    ck_assert_int_eq(s[0].status, GNTST_general_error);
    ck_assert_int_eq(s[1].status, GNTST_general_error);
    ck_assert_str_eq(buf, "");
    ck_assert_str_eq(pa, "secret");
    /* Nor may C map it. */
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hc, A, &ref, 1, false));
    ck_assert_int_eq(errno, EPERM);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(read_only_grant)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, false);
    ck_assert_ptr_nonnull(pa);
    strcpy(pa, "ro data");
    char buf[8] = { 0 };
    xengnttab_grant_copy_segment_t s[2] = {
        to_gref("written", A, ref, 0, 8),
        from_gref(A, ref, 0, buf, 8),
    };
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), 0);
    ck_assert_int_eq(s[0].status, GNTST_general_error);     /* write-pin of r/o */
    ck_assert_int_eq(s[1].status, GNTST_okay);
    ck_assert_str_eq(pa, "ro data");
    ck_assert_str_eq(buf, "ro data");

    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hb, A, &ref, 1, true));
    ck_assert_int_eq(errno, EACCES);
    char *pb = xnv_gnt_map(hb, A, &ref, 1, false);
    ck_assert_ptr_nonnull(pb);
    ck_assert_str_eq(pb, "ro data");
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 1), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(malformed_segment_fails_whole_call)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    xengnttab_grant_copy_segment_t s[2] = {
        to_gref("good", A, ref, 0, 5),
        to_gref("oob", A, ref, 4000, 200),      /* 4200 > 4096 */
    };
    s[0].status = s[1].status = 99;
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), -EINVAL);
    ck_assert_str_eq(pa, "");                  /* not even the good one */
    ck_assert_int_eq(s[0].status, 99);

    char buf[300];
    s[1] = from_gref(A, ref, 3900, buf, 197);  /* 4097 */
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), -EINVAL);
    s[1] = from_gref(A, ref, 0, buf, 0);       /* zero length */
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), -EINVAL);
    s[1].flags = 0;                            /* local to local */
    s[1].len = 4;
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), -EINVAL);
    ck_assert_str_eq(pa, "");

    /* Exactly up to the end of the page is fine. */
    s[1] = from_gref(A, ref, 3896, buf, 200);
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 2), 0);
    ck_assert_int_eq(s[1].status, GNTST_okay);
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.copy_calls, 1);        /* refused calls are not counted */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(bad_ref_and_bad_domain)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    char buf[8];
    xengnttab_grant_copy_segment_t s[4] = {
        from_gref(A, 1000000, 0, buf, 4),      /* beyond the grant table */
        from_gref(A, 3, 0, buf, 4),            /* reserved, never granted */
        from_gref(A, ref + 1, 0, buf, 4),      /* inside the table, not granted */
        from_gref(999, ref, 0, buf, 4),        /* no such domain */
    };
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 4), 0);
    ck_assert_int_eq(s[0].status, GNTST_bad_gntref);
    ck_assert_int_eq(s[1].status, GNTST_general_error);
    ck_assert_int_eq(s[2].status, GNTST_general_error);
    ck_assert_int_eq(s[3].status, GNTST_bad_domain);

    xnv_gref_t bad = ref + 1;
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hb, A, &bad, 1, false));
    ck_assert_int_eq(errno, EINVAL);
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hb, 999, &ref, 1, false));
    ck_assert_int_eq(errno, ESRCH);
    ck_assert_int_eq(xnv_gnt_unmap(hb, pa, 1), -EINVAL);      /* not a mapping of B */
    ck_assert_int_eq(xnv_gnt_unshare(hb, pa, 1), -EINVAL);    /* not B's share */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), -EINVAL);    /* wrong size */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(grant_to_grant_between_two_domains)
{
    /* A and B both grant to C; C moves A's bytes into B's page. */
    xnv_gref_t ra, rb;
    char *pa = xnv_gnt_share(ha, C, 1, &ra, false);
    char *pb = xnv_gnt_share(hb, C, 1, &rb, true);
    ck_assert(pa && pb);
    memcpy(pa + 10, "grant to grant", 15);
    xengnttab_grant_copy_segment_t s = { .len = 15, .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref };
    s.source.foreign.domid = A;
    s.source.foreign.ref = ra;
    s.source.foreign.offset = 10;
    s.dest.foreign.domid = B;
    s.dest.foreign.ref = rb;
    s.dest.foreign.offset = 2000;
    ck_assert_int_eq(xnv_gnt_copy(hc, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_okay);
    ck_assert_str_eq(pb + 2000, "grant to grant");

    /* Either side failing fails the segment; nothing moves. */
    memset(pb, 0, XNV_PAGE_SIZE);
    s.dest.foreign.ref = rb + 1;
    ck_assert_int_eq(xnv_gnt_copy(hc, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    s.dest.foreign.ref = rb;
    s.source.foreign.domid = B;             /* B's grant is not readable as A's */
    s.source.foreign.ref = ra + 100;
    ck_assert_int_eq(xnv_gnt_copy(hc, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    ck_assert_str_eq(pb + 2000, "");
    /* The failed pins were released: both unshares are clean. */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
    ck_assert_int_eq(xnv_gnt_unshare(hb, pb, 1), 0);
}
END_TEST

START_TEST(per_segment_status_mixes)
{
    xnv_gref_t refs[2];
    char *pa = xnv_gnt_share(ha, B, 2, refs, true);
    ck_assert_ptr_nonnull(pa);
    xengnttab_grant_copy_segment_t s[4] = {
        to_gref("one", A, refs[0], 0, 4),
        to_gref("bad", A, 77777, 0, 4),
        to_gref("two", A, refs[1], 0, 4),
        to_gref("dom", 4321, refs[1], 8, 4),
    };
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 4), 0);
    ck_assert_int_eq(s[0].status, GNTST_okay);
    ck_assert_int_eq(s[1].status, GNTST_bad_gntref);
    ck_assert_int_eq(s[2].status, GNTST_okay);
    ck_assert_int_eq(s[3].status, GNTST_bad_domain);
    ck_assert_str_eq(pa, "one");
    ck_assert_str_eq(pa + XNV_PAGE_SIZE, "two");
    ck_assert_str_eq(pa + XNV_PAGE_SIZE + 8, "");
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.copy_segments, 4);
    ck_assert_uint_eq(c.copy_bytes, 8);        /* only what moved */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), 0);
}
END_TEST

START_TEST(counters_count_hypercalls)
{
    xnv_gref_t refs[4];
    char *pa = xnv_gnt_share(ha, B, 4, refs, true);
    ck_assert_ptr_nonnull(pa);
    static char src[40][100];
    xengnttab_grant_copy_segment_t s[40];
    for (unsigned i = 0; i < 40; i++) {
        memset(src[i], 'a' + (int)(i % 26), sizeof(src[i]));
        s[i] = to_gref(src[i], A, refs[i % 4], (uint16_t)((i / 4) * 100), 100);
    }
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 40), 0);
    for (unsigned i = 0; i < 40; i++) {
        ck_assert_int_eq(s[i].status, GNTST_okay);
        ck_assert_int_eq(memcmp(pa + (i % 4) * XNV_PAGE_SIZE + (i / 4) * 100, src[i], 100), 0);
    }
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.copy_calls, 1);
    ck_assert_uint_eq(c.copy_hypercalls, 3);   /* 16 + 16 + 8 */
    ck_assert_uint_eq(c.copy_segments, 40);
    ck_assert_uint_eq(c.copy_bytes, 4000);
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 16), 0);
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.copy_calls, 2);
    ck_assert_uint_eq(c.copy_hypercalls, 4);
    /* The copier is counted, not the owner. */
    xnv_sim_counters(sim, A, &c);
    ck_assert_uint_eq(c.copy_calls, 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 4), 0);
}
END_TEST

START_TEST(share_limit)
{
    xnv_gref_t refs[1100];
    xnv_sim_set_share_limit(sim, A, 4);
    char *p3 = xnv_gnt_share(ha, B, 3, refs, true);
    ck_assert_ptr_nonnull(p3);
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_share(ha, B, 2, refs, true));
    ck_assert_int_eq(errno, ENOSPC);
    char *p1 = xnv_gnt_share(ha, B, 1, refs, true);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_null(xnv_gnt_share(ha, B, 1, refs, true));
    ck_assert_int_eq(xnv_gnt_unshare(ha, p1, 1), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, p3, 3), 0);

    /* The default is gntalloc's 1024 pages. */
    xnv_sim_set_share_limit(sim, A, 1024);
    char *big = xnv_gnt_share(ha, B, 1024, refs, true);
    ck_assert_ptr_nonnull(big);
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_share(ha, B, 1, refs + 1024, true));
    ck_assert_int_eq(errno, ENOSPC);
    /* Other domains have their own limit. */
    char *pb = xnv_gnt_share(hb, A, 1, refs + 1024, true);
    ck_assert_ptr_nonnull(pb);
    ck_assert_int_eq(xnv_gnt_unshare(hb, pb, 1), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, big, 1024), 0);
}
END_TEST

START_TEST(pages_come_back_zeroed)
{
    xnv_gref_t ref, ref2;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    memset(pa, 0xab, XNV_PAGE_SIZE);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
    pa = xnv_gnt_share(ha, B, 1, &ref2, true);
    ck_assert_ptr_nonnull(pa);
    for (unsigned i = 0; i < XNV_PAGE_SIZE; i++)
        ck_assert_int_eq(pa[i], 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(unshare_while_mapped_is_busy)
{
    xnv_gref_t refs[2];
    char *pa = xnv_gnt_share(ha, B, 2, refs, true);
    ck_assert_ptr_nonnull(pa);
    char *pb = xnv_gnt_map(hb, A, refs + 1, 1, true);
    ck_assert_ptr_nonnull(pb);
    strcpy(pa + XNV_PAGE_SIZE, "still here");

    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), -EBUSY);
    /* The mapper keeps a valid page with the data... */
    ck_assert_str_eq(pb, "still here");
    strcpy(pb, "mine now");
    ck_assert_str_eq(pb, "mine now");
    /* ...but access has ended: no new copy or map of it. */
    char buf[8];
    xengnttab_grant_copy_segment_t s = from_gref(A, refs[1], 0, buf, 4);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    ck_assert_ptr_null(xnv_gnt_map(hb, A, refs + 1, 1, true));
    /* The page is given up once the mapper lets go. */
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 1), 0);
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 1), -EINVAL);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), -EINVAL);
}
END_TEST

START_TEST(map_is_atomic)
{
    xnv_gref_t refs[3];
    char *pa = xnv_gnt_share(ha, B, 2, refs, true);
    ck_assert_ptr_nonnull(pa);
    refs[2] = refs[1] + 50;
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hb, A, refs, 3, false));
    ck_assert_int_eq(errno, EINVAL);
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.maps, 0);
    /* Nothing stayed mapped, so ending access is clean. */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 2), 0);
}
END_TEST

START_TEST(revoke_then_copy_fails)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    ck_assert_int_eq(xnv_sim_gnt_revoke(sim, A, ref), 0);
    ck_assert_int_eq(xnv_sim_gnt_revoke(sim, A, ref), -EINVAL);
    ck_assert_int_eq(xnv_sim_gnt_revoke(sim, A, 99999), -EINVAL);
    ck_assert_int_eq(xnv_sim_gnt_revoke(sim, 999, ref), -ESRCH);
    xengnttab_grant_copy_segment_t s = to_gref("late", A, ref, 0, 5);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    ck_assert_str_eq(pa, "");
    errno = 0;
    ck_assert_ptr_null(xnv_gnt_map(hb, A, &ref, 1, true));
    ck_assert_int_eq(errno, EINVAL);
    /* The owner's own mapping is untouched until it unshares. */
    strcpy(pa, "owner");
    ck_assert_str_eq(pa, "owner");
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

struct revoke_arg {
    xnv_gref_t ref;
    int calls;
    int first_rc;
};

static void revoke_hook(void *p)
{
    struct revoke_arg *r = p;
    int rc = xnv_sim_gnt_revoke(sim, A, r->ref);
    if (r->calls++ == 0)
        r->first_rc = rc;
}

START_TEST(revoke_during_copy)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    struct revoke_arg r = { .ref = ref };
    xnv_sim_set_copy_hook(sim, revoke_hook, &r);
    /* The copy in flight holds the grant pinned: it completes... */
    xengnttab_grant_copy_segment_t s = to_gref("in flight", A, ref, 0, 10);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(r.calls, 1);
    ck_assert_int_eq(r.first_rc, 0);
    ck_assert_int_eq(s.status, GNTST_okay);
    ck_assert_str_eq(pa, "in flight");
    xnv_sim_set_copy_hook(sim, NULL, NULL);
    /* ...and every later one fails, as does a map. */
    s = to_gref("later", A, ref, 0, 6);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    ck_assert_str_eq(pa, "in flight");
    ck_assert_ptr_null(xnv_gnt_map(hb, A, &ref, 1, false));
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

/* The hook runs once per simulated hypercall (16 segments): a revoke during
 * the first batch fails the segments of the later batch. */
START_TEST(revoke_between_hypercalls)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    struct revoke_arg r = { .ref = ref };
    xnv_sim_set_copy_hook(sim, revoke_hook, &r);
    xengnttab_grant_copy_segment_t s[20];
    for (unsigned i = 0; i < 20; i++)
        s[i] = to_gref("x", A, ref, (uint16_t)i, 1);
    ck_assert_int_eq(xnv_gnt_copy(hb, s, 20), 0);
    ck_assert_int_eq(r.calls, 2);
    ck_assert_int_eq(r.first_rc, 0);
    for (unsigned i = 0; i < 16; i++) {
        ck_assert_int_eq(s[i].status, GNTST_okay);
        ck_assert_int_eq(pa[i], 'x');
    }
    for (unsigned i = 16; i < 20; i++) {
        ck_assert_int_eq(s[i].status, GNTST_general_error);
        ck_assert_int_eq(pa[i], 0);
    }
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.copy_hypercalls, 2);
    ck_assert_uint_eq(c.copy_bytes, 16);
    xnv_sim_set_copy_hook(sim, NULL, NULL);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(owner_destroyed_while_mapped)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    char *pb = xnv_gnt_map(hb, A, &ref, 1, true);
    ck_assert_ptr_nonnull(pb);
    strcpy(pa, "last words");
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, A), 0);
    /* B's mapping stays valid, with the data, until B unmaps. */
    ck_assert_str_eq(pb, "last words");
    pb[0] = 'L';
    char buf[8];
    xengnttab_grant_copy_segment_t s = from_gref(A, ref, 0, buf, 4);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_bad_domain);
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 1), 0);
    /* The dead owner's handle fails, but can still give back its region. */
    ck_assert_ptr_null(xnv_gnt_share(ha, B, 1, &ref, true));
    ck_assert_int_eq(errno, ESRCH);
    pa[0] = 'x';                               /* private memory now, still mapped */
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
}
END_TEST

START_TEST(mapper_destroyed_releases_its_maps)
{
    xnv_gref_t ref;
    char *pa = xnv_gnt_share(ha, B, 1, &ref, true);
    ck_assert_ptr_nonnull(pa);
    char *pb = xnv_gnt_map(hb, A, &ref, 1, true);
    ck_assert_ptr_nonnull(pb);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, B), 0);
    /* The dead mapper no longer reaches A's page. */
    pb[0] = 'Z';
    ck_assert_int_eq(pa[0], 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 1), 0);
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 1), 0);
    char buf[4];
    xengnttab_grant_copy_segment_t s = from_gref(A, ref, 0, buf, 4);
    ck_assert_int_eq(xnv_gnt_copy(hb, &s, 1), -ESRCH);
}
END_TEST

START_TEST(map_counter_and_self_grant)
{
    xnv_gref_t refs[3];
    char *pa = xnv_gnt_share(ha, B, 3, refs, true);
    ck_assert_ptr_nonnull(pa);
    char *pb = xnv_gnt_map(hb, A, refs, 3, true);
    char *pb2 = xnv_gnt_map(hb, A, refs + 1, 1, false);
    ck_assert(pb && pb2);
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.maps, 4);
    pa[XNV_PAGE_SIZE] = 'q';
    ck_assert_int_eq(pb2[0], 'q');
    ck_assert_int_eq(pb[XNV_PAGE_SIZE], 'q');
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb, 3), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, pa, 3), -EBUSY);   /* pb2 still holds one */
    ck_assert_int_eq(xnv_gnt_unmap(hb, pb2, 1), 0);

    /* A domain may grant to itself (a loopback). */
    xnv_gref_t self;
    char *ps = xnv_gnt_share(ha, A, 1, &self, true);
    ck_assert_ptr_nonnull(ps);
    xengnttab_grant_copy_segment_t s = to_gref("me", A, self, 0, 3);
    ck_assert_int_eq(xnv_gnt_copy(ha, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_okay);
    ck_assert_str_eq(ps, "me");
    ck_assert_int_eq(xnv_gnt_unshare(ha, ps, 1), 0);
}
END_TEST

Suite *xnv_suite_sim_grant(void)
{
    Suite *s = suite_create("sim_grant");
    TCase *tc = tcase_create("grant");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, share_aliases_map_and_copy);
    tcase_add_test(tc, virt_side_crosses_pages);
    tcase_add_test(tc, copy_by_wrong_domain_is_refused);
    tcase_add_test(tc, read_only_grant);
    tcase_add_test(tc, malformed_segment_fails_whole_call);
    tcase_add_test(tc, bad_ref_and_bad_domain);
    tcase_add_test(tc, grant_to_grant_between_two_domains);
    tcase_add_test(tc, per_segment_status_mixes);
    tcase_add_test(tc, counters_count_hypercalls);
    tcase_add_test(tc, share_limit);
    tcase_add_test(tc, pages_come_back_zeroed);
    tcase_add_test(tc, unshare_while_mapped_is_busy);
    tcase_add_test(tc, map_is_atomic);
    tcase_add_test(tc, revoke_then_copy_fails);
    tcase_add_test(tc, revoke_during_copy);
    tcase_add_test(tc, revoke_between_hypercalls);
    tcase_add_test(tc, owner_destroyed_while_mapped);
    tcase_add_test(tc, mapper_destroyed_releases_its_maps);
    tcase_add_test(tc, map_counter_and_self_grant);
    suite_add_tcase(s, tc);
    return s;
}
