/* Simulated hypervisor: event channels (binding, pollable fd, mask-on-
 * delivery with latching, collapsing, unbind, peer death). */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include "xnv/hv.h"
#include "xnv/sim.h"

static struct xnv_sim *sim;
static xnv_domid_t A, B, C;
static struct xnv_hv *ha, *hb, *hc;
static struct xnv_evtchn *ea, *eb, *ec;

static void setup(void)
{
    sim = xnv_sim_new();
    ck_assert_ptr_nonnull(sim);
    A = (xnv_domid_t)xnv_sim_domain_create(sim, "front");
    B = (xnv_domid_t)xnv_sim_domain_create(sim, "back");
    C = (xnv_domid_t)xnv_sim_domain_create(sim, "other");
    ha = xnv_sim_hv_open(sim, A);
    hb = xnv_sim_hv_open(sim, B);
    hc = xnv_sim_hv_open(sim, C);
    ck_assert(ha && hb && hc);
    ea = xnv_evtchn_open(ha);
    eb = xnv_evtchn_open(hb);
    ec = xnv_evtchn_open(hc);
    ck_assert(ea && eb && ec);
}

static void teardown(void)
{
    xnv_evtchn_close(ea);
    xnv_evtchn_close(eb);
    xnv_evtchn_close(ec);
    xnv_hv_close(ha);
    xnv_hv_close(hb);
    xnv_hv_close(hc);
    xnv_sim_free(sim);
}

static bool readable(struct xnv_evtchn *ch)
{
    struct pollfd p = { .fd = xnv_evtchn_fd(ch), .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* A offers a port to B, B binds it; B's bind event is consumed. */
static void connect(int *pa, int *pb)
{
    *pa = xnv_evtchn_bind_unbound(ea, B);
    ck_assert_int_gt(*pa, 0);
    *pb = xnv_evtchn_bind_interdomain(eb, A, (xnv_port_t)*pa);
    ck_assert_int_gt(*pb, 0);
    /* Xen raises the new local port once at bind time. */
    ck_assert(readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), *pb);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)*pb), 0);
    ck_assert(!readable(ea));
    ck_assert(!readable(eb));
}

START_TEST(bind_notify_poll)
{
    int pa, pb;
    connect(&pa, &pb);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);

    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert(readable(eb));
    ck_assert(!readable(ea));
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    ck_assert(!readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);

    /* And the other way. */
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), 0);
    ck_assert(readable(ea));
    ck_assert_int_eq(xnv_evtchn_pending(ea), pa);
    ck_assert_int_eq(xnv_evtchn_unmask(ea, (xnv_port_t)pa), 0);

    struct xnv_sim_counters c;
    xnv_sim_counters(sim, A, &c);
    ck_assert_uint_eq(c.notifies, 1);
    xnv_sim_counters(sim, B, &c);
    ck_assert_uint_eq(c.notifies, 1);
}
END_TEST

START_TEST(ports_are_per_domain)
{
    /* Each domain numbers its own ports from 1. */
    int pa = xnv_evtchn_bind_unbound(ea, B);
    int pc = xnv_evtchn_bind_unbound(ec, B);
    ck_assert_int_eq(pa, 1);
    ck_assert_int_eq(pc, 1);
    int pb1 = xnv_evtchn_bind_interdomain(eb, A, 1);
    int pb2 = xnv_evtchn_bind_interdomain(eb, C, 1);
    ck_assert_int_eq(pb1, 1);
    ck_assert_int_eq(pb2, 2);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb1);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb2);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, 1), 0);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, 2), 0);
    /* C's notification arrives on the port bound to C. */
    ck_assert_int_eq(xnv_evtchn_notify(ec, 1), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), 2);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
}
END_TEST

START_TEST(mask_latch_unmask)
{
    int pa, pb;
    connect(&pa, &pb);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    /* Masked until unmasked: a notification now is latched, not lost. */
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert(!readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert(readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert(!readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    /* Unmasking twice, or a port that is not ours, changes nothing. */
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, 77), -ENOTCONN);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
}
END_TEST

START_TEST(notifications_collapse)
{
    int pa, pb;
    connect(&pa, &pb);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    /* While masked, many notifications latch into one event. */
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), pb);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_pending(eb), -EAGAIN);
    struct xnv_sim_counters c;
    xnv_sim_counters(sim, A, &c);
    ck_assert_uint_eq(c.notifies, 11);
}
END_TEST

START_TEST(bind_interdomain_checks)
{
    int pa = xnv_evtchn_bind_unbound(ea, B);
    ck_assert_int_gt(pa, 0);
    /* The port waits for B, not for C. */
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(ec, A, (xnv_port_t)pa), -EINVAL);
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(eb, A, 0), -EINVAL);
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(eb, A, 500), -EINVAL);
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(eb, 999, (xnv_port_t)pa), -ESRCH);
    int pb = xnv_evtchn_bind_interdomain(eb, A, (xnv_port_t)pa);
    ck_assert_int_gt(pb, 0);
    /* Bound already. */
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(eb, A, (xnv_port_t)pa), -EINVAL);
    /* Ports of another handle or domain are not ours to use. */
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pb + 10), -ENOTCONN);
    ck_assert_int_eq(xnv_evtchn_notify(ec, (xnv_port_t)pa), -ENOTCONN);
    ck_assert_int_eq(xnv_evtchn_notify(ea, 0), -ENOTCONN);
    struct xnv_evtchn *ea2 = xnv_evtchn_open(ha);
    ck_assert_ptr_nonnull(ea2);
    ck_assert_int_eq(xnv_evtchn_notify(ea2, (xnv_port_t)pa), -ENOTCONN);
    ck_assert_int_eq(xnv_evtchn_unbind(ea2, (xnv_port_t)pa), -ENOTCONN);
    xnv_evtchn_close(ea2);
}
END_TEST

START_TEST(two_handles_one_domain)
{
    struct xnv_evtchn *ea2 = xnv_evtchn_open(ha);
    ck_assert_ptr_nonnull(ea2);
    ck_assert_int_ne(xnv_evtchn_fd(ea), xnv_evtchn_fd(ea2));
    int p1 = xnv_evtchn_bind_unbound(ea, B);
    int p2 = xnv_evtchn_bind_unbound(ea2, B);
    ck_assert_int_ne(p1, p2);
    int q1 = xnv_evtchn_bind_interdomain(eb, A, (xnv_port_t)p1);
    int q2 = xnv_evtchn_bind_interdomain(eb, A, (xnv_port_t)p2);
    ck_assert(q1 > 0 && q2 > 0);
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)q2), 0);
    ck_assert(!readable(ea));
    ck_assert(readable(ea2));
    ck_assert_int_eq(xnv_evtchn_pending(ea), -EAGAIN);
    ck_assert_int_eq(xnv_evtchn_pending(ea2), p2);
    /* Closing a handle unbinds its ports. */
    xnv_evtchn_close(ea2);
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)q2), 0);
    ck_assert(!readable(ea));
}
END_TEST

START_TEST(unbind)
{
    int pa, pb;
    connect(&pa, &pb);
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), 0);
    ck_assert(readable(ea));
    /* Unbinding drops what was queued on the port. */
    ck_assert_int_eq(xnv_evtchn_unbind(ea, (xnv_port_t)pa), 0);
    ck_assert(!readable(ea));
    ck_assert_int_eq(xnv_evtchn_pending(ea), -EAGAIN);
    ck_assert_int_eq(xnv_evtchn_unbind(ea, (xnv_port_t)pa), -ENOTCONN);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), -ENOTCONN);
    /* B's port is unbound now: Xen drops its notifications silently. */
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), 0);
    ck_assert(!readable(ea));
    /* ...and A may bind to it again, as it now waits for A. */
    int pa2 = xnv_evtchn_bind_interdomain(ea, B, (xnv_port_t)pb);
    ck_assert_int_gt(pa2, 0);
    ck_assert_int_eq(xnv_evtchn_pending(ea), pa2);
    ck_assert_int_eq(xnv_evtchn_unmask(ea, (xnv_port_t)pa2), 0);
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_pending(ea), pa2);
    /* The freed port number is reused. */
    ck_assert_int_eq(xnv_evtchn_unbind(eb, (xnv_port_t)pb), 0);
    ck_assert_int_eq(xnv_evtchn_bind_unbound(eb, A), pb);
}
END_TEST

START_TEST(peer_destroyed)
{
    int pa, pb;
    connect(&pa, &pb);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert(readable(eb));
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, B), 0);
    /* The survivor's port is unbound: notifying it is harmless. */
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)pa), 0);
    ck_assert_int_eq(xnv_evtchn_pending(ea), -EAGAIN);
    /* The dead domain's handle fails cleanly and its queue is gone. */
    ck_assert(!readable(eb));
    ck_assert_int_eq(xnv_evtchn_pending(eb), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_notify(eb, (xnv_port_t)pb), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_bind_unbound(eb, A), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_unmask(eb, (xnv_port_t)pb), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_unbind(eb, (xnv_port_t)pb), -ESRCH);
    ck_assert_ptr_null(xnv_evtchn_open(hb));
    /* The dead domain's port cannot be bound to either. */
    ck_assert_int_eq(xnv_evtchn_bind_interdomain(ea, B, (xnv_port_t)pb), -ESRCH);
    ck_assert_int_eq(xnv_evtchn_unbind(ea, (xnv_port_t)pa), 0);
    /* And the survivor carries on with somebody else. */
    int p = xnv_evtchn_bind_unbound(ea, C);
    ck_assert_int_gt(p, 0);
    int q = xnv_evtchn_bind_interdomain(ec, A, (xnv_port_t)p);
    ck_assert_int_gt(q, 0);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)p), 0);
    ck_assert_int_eq(xnv_evtchn_pending(ec), q);
}
END_TEST

START_TEST(loopback_and_port_exhaustion)
{
    int p = xnv_evtchn_bind_unbound(ea, A);
    int q = xnv_evtchn_bind_interdomain(ea, A, (xnv_port_t)p);
    ck_assert(p > 0 && q > 0 && p != q);
    ck_assert_int_eq(xnv_evtchn_pending(ea), q);
    ck_assert_int_eq(xnv_evtchn_unmask(ea, (xnv_port_t)q), 0);
    ck_assert_int_eq(xnv_evtchn_notify(ea, (xnv_port_t)q), 0);
    ck_assert_int_eq(xnv_evtchn_pending(ea), p);
    int last = 0, rc;
    while ((rc = xnv_evtchn_bind_unbound(ec, B)) > 0)
        last = rc;
    ck_assert_int_eq(rc, -ENOSPC);
    ck_assert_int_eq(last, 4095);
}
END_TEST

Suite *xnv_suite_sim_evtchn(void)
{
    Suite *s = suite_create("sim_evtchn");
    TCase *tc = tcase_create("evtchn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bind_notify_poll);
    tcase_add_test(tc, ports_are_per_domain);
    tcase_add_test(tc, mask_latch_unmask);
    tcase_add_test(tc, notifications_collapse);
    tcase_add_test(tc, bind_interdomain_checks);
    tcase_add_test(tc, two_handles_one_domain);
    tcase_add_test(tc, unbind);
    tcase_add_test(tc, peer_destroyed);
    tcase_add_test(tc, loopback_and_port_exhaustion);
    suite_add_tcase(s, tc);
    return s;
}
