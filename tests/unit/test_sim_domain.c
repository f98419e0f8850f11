/* Simulated hypervisor: domain life cycle, what handles of a dead domain do,
 * the simulation's own lifetime, and concurrent use from several threads. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/hv.h"
#include "xnv/sim.h"

static char *rd(struct xnv_hv *h, const char *path)
{
    char *v = xnv_xs_read(h, XNV_XS_NO_TX, path, NULL);
    ck_assert_msg(v != NULL, "read %s: %s", path, strerror(errno));
    return v;
}

START_TEST(create_and_info)
{
    struct xnv_sim *sim = xnv_sim_new();
    ck_assert_ptr_nonnull(sim);
    struct xnv_hv *h0 = xnv_sim_hv_open(sim, 0);
    ck_assert_ptr_nonnull(h0);
    ck_assert_str_eq(xnv_hv_kind(h0), "sim");
    ck_assert_uint_eq(xnv_hv_domid(h0), 0);

    int a = xnv_sim_domain_create(sim, "alpha");
    int b = xnv_sim_domain_create(sim, "beta");
    ck_assert_int_eq(a, 1);
    ck_assert_int_eq(b, 2);
    ck_assert_int_eq(xnv_sim_domain_create(sim, NULL), -EINVAL);

    struct xnv_dominfo info;
    ck_assert_int_eq(xnv_dom_info(h0, (xnv_domid_t)b, &info), 0);
    ck_assert_uint_eq(info.domid, b);
    ck_assert(!info.dying && !info.shutdown && !info.paused);
    ck_assert_int_eq(xnv_dom_info(h0, 0, &info), 0);
    ck_assert_int_eq(xnv_dom_info(h0, 55, &info), -ESRCH);

    struct xnv_dominfo list[2];
    ck_assert_int_eq(xnv_dom_list(h0, list, 2), 3);       /* more than fit */
    ck_assert_uint_eq(list[0].domid, 0);
    ck_assert_uint_eq(list[1].domid, 1);

    /* Home, name and domid, owned by the domain itself. */
    char *v = rd(h0, "/local/domain/1/name");
    ck_assert_str_eq(v, "alpha");
    free(v);
    v = rd(h0, "/local/domain/2/domid");
    ck_assert_str_eq(v, "2");
    free(v);
    v = rd(h0, "/local/domain/0/name");
    ck_assert_str_eq(v, "Domain-0");
    free(v);
    unsigned num;
    struct xs_permissions *p = xnv_xs_get_perms(h0, XNV_XS_NO_TX, "/local/domain/1/name", &num);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[0].id, 1);
    free(p);
    /* The domain can use its home; the other cannot read it. */
    struct xnv_hv *ha = xnv_sim_hv_open(sim, (xnv_domid_t)a);
    struct xnv_hv *hb = xnv_sim_hv_open(sim, (xnv_domid_t)b);
    ck_assert(ha && hb);
    ck_assert_int_eq(xnv_xs_write(ha, XNV_XS_NO_TX, "data/k", "v", 1), 0);
    errno = 0;
    ck_assert_ptr_null(xnv_xs_read(hb, XNV_XS_NO_TX, "/local/domain/1/name", NULL));
    ck_assert_int_eq(errno, EACCES);
    /* Any domain may ask about domains here (real Xen: only privileged). */
    ck_assert_int_eq(xnv_dom_info(hb, (xnv_domid_t)a, &info), 0);
    ck_assert_ptr_null(xnv_sim_hv_open(sim, 77));
    ck_assert_int_eq(errno, ESRCH);

    xnv_hv_close(ha);
    xnv_hv_close(hb);
    xnv_hv_close(h0);
    xnv_sim_free(sim);
}
END_TEST

START_TEST(destroy)
{
    struct xnv_sim *sim = xnv_sim_new();
    struct xnv_hv *h0 = xnv_sim_hv_open(sim, 0);
    xnv_domid_t a = (xnv_domid_t)xnv_sim_domain_create(sim, "doomed");
    struct xnv_hv *ha = xnv_sim_hv_open(sim, a);
    ck_assert(h0 && ha);
    struct xnv_evtchn *ea = xnv_evtchn_open(ha);
    ck_assert_ptr_nonnull(ea);
    int port = xnv_evtchn_bind_unbound(ea, 0);
    ck_assert_int_gt(port, 0);
    ck_assert_int_eq(xnv_xs_watch(ha, "data", "t"), 0);
    xnv_xs_tx_t tx;
    ck_assert_int_eq(xnv_xs_tx_start(ha, &tx), 0);

    ck_assert_int_eq(xnv_sim_domain_destroy(sim, a), 0);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, a), -ESRCH);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, 0), -EPERM);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, 99), -ESRCH);

    struct xnv_dominfo info;
    ck_assert_int_eq(xnv_dom_info(h0, a, &info), -ESRCH);
    ck_assert_int_eq(xnv_dom_list(h0, &info, 1), 1);
    errno = 0;
    ck_assert_ptr_null(xnv_xs_read(h0, XNV_XS_NO_TX, "/local/domain/1", NULL));
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_ptr_null(xnv_sim_hv_open(sim, a));

    /* Every operation of the dead domain's handles fails, none crashes. */
    errno = 0;
    ck_assert_ptr_null(xnv_xs_read(ha, XNV_XS_NO_TX, "data", NULL));
    ck_assert_int_eq(errno, ESRCH);
    ck_assert_int_eq(xnv_xs_write(ha, XNV_XS_NO_TX, "data", "x", 1), -ESRCH);
    ck_assert_int_eq(xnv_xs_mkdir(ha, XNV_XS_NO_TX, "data"), -ESRCH);
    ck_assert_int_eq(xnv_xs_rm(ha, XNV_XS_NO_TX, "data"), -ESRCH);
    ck_assert_int_eq(xnv_xs_watch(ha, "data", "u"), -ESRCH);
    ck_assert_int_eq(xnv_xs_unwatch(ha, "data", "t"), -ESRCH);
    ck_assert_int_eq(xnv_xs_tx_start(ha, &tx), -ESRCH);
    ck_assert_int_eq(xnv_xs_tx_end(ha, tx, false), -ESRCH);
    ck_assert_ptr_null(xnv_xs_read_watch(ha));
    ck_assert_int_eq(errno, ESRCH);
    ck_assert_int_eq(xnv_dom_info(ha, 0, &info), -ESRCH);
    ck_assert_int_eq(xnv_dom_list(ha, &info, 1), -ESRCH);
    xnv_gref_t ref;
    ck_assert_ptr_null(xnv_gnt_share(ha, 0, 1, &ref, true));
    ck_assert_ptr_null(xnv_gnt_map(ha, 0, &ref, 1, true));
    xengnttab_grant_copy_segment_t s = { .len = 1, .flags = GNTCOPY_source_gref };
    char c;
    s.dest.virt = &c;
    ck_assert_int_eq(xnv_gnt_copy(ha, &s, 1), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)port), -ESRCH);
    struct pollfd pfd = { .fd = xnv_xs_watch_fd(ha), .events = POLLIN };
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);

    /* A new domain gets a new id. */
    ck_assert_int_eq(xnv_sim_domain_create(sim, "next"), a + 1);
    xnv_evtchn_close(ea);
    xnv_hv_close(ha);
    xnv_hv_close(h0);
    xnv_sim_free(sim);
}
END_TEST

/* The simulation outlives xnv_sim_free() while handles are open; the last
 * close frees it (the sanitizers and valgrind check that nothing leaks). */
START_TEST(free_with_open_handles)
{
    struct xnv_sim *sim = xnv_sim_new();
    xnv_domid_t a = (xnv_domid_t)xnv_sim_domain_create(sim, "a");
    xnv_domid_t b = (xnv_domid_t)xnv_sim_domain_create(sim, "b");
    struct xnv_hv *ha = xnv_sim_hv_open(sim, a);
    struct xnv_hv *hb = xnv_sim_hv_open(sim, b);
    struct xnv_evtchn *eb = xnv_evtchn_open(hb);
    ck_assert(ha && hb && eb);
    xnv_gref_t refs[4];
    char *pa = xnv_gnt_share(ha, b, 4, refs, true);
    char *pb = xnv_gnt_map(hb, a, refs, 2, true);
    ck_assert(pa && pb);
    ck_assert_int_eq(xnv_xs_watch(hb, "/", "all"), 0);
    ck_assert_int_gt(xnv_evtchn_bind_unbound(eb, a), 0);
    xnv_sim_free(sim);

    /* Still fully working. */
    pa[0] = 'k';
    ck_assert_int_eq(pb[0], 'k');
    ck_assert_int_eq(xnv_xs_write(ha, XNV_XS_NO_TX, "x", "1", 1), 0);
    /* Closing leaves the regions for the final teardown to reclaim. */
    xnv_hv_close(ha);
    xnv_evtchn_close(eb);
    xnv_hv_close(hb);
}
END_TEST

START_TEST(destroy_with_everything_in_use)
{
    /* Two guests wired up like a frontend and a backend, then the frontend
     * dies with grants mapped, ports bound and watches set. */
    struct xnv_sim *sim = xnv_sim_new();
    xnv_domid_t fe = (xnv_domid_t)xnv_sim_domain_create(sim, "fe");
    xnv_domid_t be = (xnv_domid_t)xnv_sim_domain_create(sim, "be");
    struct xnv_hv *hf = xnv_sim_hv_open(sim, fe), *hb = xnv_sim_hv_open(sim, be);
    struct xnv_evtchn *ef = xnv_evtchn_open(hf), *eb = xnv_evtchn_open(hb);
    xnv_gref_t refs[8];
    char *ring = xnv_gnt_share(hf, be, 8, refs, true);
    char *map = xnv_gnt_map(hb, fe, refs, 8, true);
    ck_assert(ring && map);
    int pf = xnv_evtchn_bind_unbound(ef, be);
    int pb = xnv_evtchn_bind_interdomain(eb, fe, (xnv_port_t)pf);
    ck_assert(pf > 0 && pb > 0);
    /* The frontend lets the backend read its device directory. */
    struct xs_permissions perms[2] = { { fe, XS_PERM_NONE }, { be, XS_PERM_READ } };
    ck_assert_int_eq(xnv_xs_mkdir(hf, XNV_XS_NO_TX, "device"), 0);
    ck_assert_int_eq(xnv_xs_set_perms(hf, XNV_XS_NO_TX, "device", perms, 2), 0);
    ck_assert_int_eq(xnv_xs_watch(hb, "/local/domain/1/device", "fe"), 0);
    ck_assert_int_eq(xnv_xs_watch(hb, "@releaseDomain", "rel"), 0);
    char **v = xnv_xs_read_watch(hb);
    free(v);
    free(xnv_xs_read_watch(hb));

    memcpy(map + 3 * XNV_PAGE_SIZE, "ring", 5);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, fe), 0);
    /* The backend sees the domain go and keeps a valid mapping. */
    v = xnv_xs_read_watch(hb);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v[XS_WATCH_PATH], "/local/domain/1/device");   /* home removed */
    ck_assert_str_eq(v[XS_WATCH_TOKEN], "fe");
    free(v);
    v = xnv_xs_read_watch(hb);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v[XS_WATCH_PATH], "@releaseDomain");
    free(v);
    ck_assert_str_eq(map + 3 * XNV_PAGE_SIZE, "ring");
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), 0);
    /* Cleaning up in any order is safe. */
    ck_assert_int_eq(xnv_evtchn_unbind(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_gnt_unshare(hf, ring, 8), 0);
    ck_assert_int_eq(xnv_gnt_unmap(hb, map, 8), 0);
    xnv_evtchn_close(ef);
    xnv_evtchn_close(eb);
    xnv_hv_close(hf);
    xnv_hv_close(hb);
    xnv_sim_free(sim);
}
END_TEST

/* ---- threads: two copiers and a notifier at once, for the sanitizers ---- */

#define ROUNDS 300

struct copier {
    struct xnv_hv *h;
    xnv_domid_t owner;
    xnv_gref_t refs[16];
    unsigned seed;
    int failures;
};

static void *copy_thread(void *p)
{
    struct copier *c = p;
    static __thread char buf[16][1500];
    xengnttab_grant_copy_segment_t s[32];
    for (int r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < 32; i++) {
            memset(buf[i % 16], (int)(r + i), sizeof(buf[0]));
            s[i] = (xengnttab_grant_copy_segment_t){ .len = 1500 };
            bool out = i < 16;
            s[i].flags = out ? GNTCOPY_dest_gref : GNTCOPY_source_gref;
            union xengnttab_copy_ptr *g = out ? &s[i].dest : &s[i].source;
            g->foreign.domid = c->owner;
            g->foreign.ref = c->refs[i % 16];
            g->foreign.offset = (uint16_t)((r * 7 + i) % 2500);
            if (out)
                s[i].source.virt = buf[i % 16];
            else
                s[i].dest.virt = buf[i % 16];
        }
        if (xnv_gnt_copy(c->h, s, 32) != 0)
            c->failures++;
        for (unsigned i = 0; i < 32; i++)
            c->failures += s[i].status != GNTST_okay;
    }
    return NULL;
}

struct notifier {
    struct xnv_evtchn *ch;
    xnv_port_t port;
    int failures;
};

static void *notify_thread(void *p)
{
    struct notifier *n = p;
    for (int i = 0; i < ROUNDS * 10; i++)
        n->failures += xnv_evtchn_notify(n->ch, n->port) != 0;
    return NULL;
}

START_TEST(threads_copy_and_notify)
{
    struct xnv_sim *sim = xnv_sim_new();
    xnv_domid_t a = (xnv_domid_t)xnv_sim_domain_create(sim, "a");
    xnv_domid_t b = (xnv_domid_t)xnv_sim_domain_create(sim, "b");
    xnv_domid_t c = (xnv_domid_t)xnv_sim_domain_create(sim, "c");
    struct xnv_hv *ha = xnv_sim_hv_open(sim, a), *hb = xnv_sim_hv_open(sim, b);
    struct xnv_hv *hc = xnv_sim_hv_open(sim, c);
    struct copier c1 = { .h = hb, .owner = a }, c2 = { .h = hc, .owner = a };
    /* Both copiers work on pages of the same owner, so the same tables. */
    char *p1 = xnv_gnt_share(ha, b, 16, c1.refs, true);
    char *p2 = xnv_gnt_share(ha, c, 16, c2.refs, true);
    ck_assert(p1 && p2);
    struct xnv_evtchn *ea = xnv_evtchn_open(ha), *eb = xnv_evtchn_open(hb);
    int pa = xnv_evtchn_bind_unbound(ea, b);
    int pb = xnv_evtchn_bind_interdomain(eb, a, (xnv_port_t)pa);
    ck_assert(pa > 0 && pb > 0);
    struct notifier n = { .ch = ea, .port = (xnv_port_t)pa };

    pthread_t t1, t2, t3;
    ck_assert_int_eq(pthread_create(&t1, NULL, copy_thread, &c1), 0);
    ck_assert_int_eq(pthread_create(&t2, NULL, copy_thread, &c2), 0);
    ck_assert_int_eq(pthread_create(&t3, NULL, notify_thread, &n), 0);
    /* Meanwhile this thread consumes events and shares/unshares pages. */
    int events = 0;
    for (int i = 0; i < ROUNDS; i++) {
        int port = xnv_evtchn_pending(eb);
        if (port > 0) {
            events++;
            ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)port), 0);
        }
        xnv_gref_t r;
        char *q = xnv_gnt_share(ha, b, 1, &r, true);
        ck_assert_ptr_nonnull(q);
        ck_assert_int_eq(xnv_gnt_unshare(ha, q, 1), 0);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_join(t3, NULL);
    ck_assert_int_eq(c1.failures, 0);
    ck_assert_int_eq(c2.failures, 0);
    ck_assert_int_eq(n.failures, 0);
    ck_assert_int_gt(events, 0);

    struct xnv_sim_counters k;
    xnv_sim_counters(sim, b, &k);
    ck_assert_uint_eq(k.copy_calls, ROUNDS);
    ck_assert_uint_eq(k.copy_hypercalls, 2 * ROUNDS);
    ck_assert_uint_eq(k.copy_bytes, (uint64_t)ROUNDS * 32 * 1500);
    xnv_sim_counters(sim, a, &k);
    ck_assert_uint_eq(k.notifies, ROUNDS * 10);

    xnv_evtchn_close(ea);
    xnv_evtchn_close(eb);
    ck_assert_int_eq(xnv_gnt_unshare(ha, p1, 16), 0);
    ck_assert_int_eq(xnv_gnt_unshare(ha, p2, 16), 0);
    xnv_hv_close(ha);
    xnv_hv_close(hb);
    xnv_hv_close(hc);
    xnv_sim_free(sim);
}
END_TEST

Suite *xnv_suite_sim_domain(void)
{
    Suite *s = suite_create("sim_domain");
    TCase *tc = tcase_create("domain");
    tcase_add_test(tc, create_and_info);
    tcase_add_test(tc, destroy);
    tcase_add_test(tc, free_with_open_handles);
    tcase_add_test(tc, destroy_with_everything_in_use);
    tcase_add_test(tc, threads_copy_and_notify);
    suite_add_tcase(s, tc);
    return s;
}
