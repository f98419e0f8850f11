/* What a frontend's connect and disconnect cycles cost the netback's control
 * plane in xenstore requests.  Each request is a round trip to xenstored in
 * dom0, so a guest that reconnects in a loop (or breaks the protocol, is
 * closed, and starts over) must cost dom0 a bounded, small number of them
 * per cycle: the engine's own writes under backend/vif come back to it as
 * watch events, and reacting to each of them alone multiplied the work. */
#include <check.h>
#include <stdio.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "../../netback/nb.h"

static struct world w;
static struct tfe bad, good;
static int bad_dom, good_dom;
static uint64_t engine_requests;    /* dom0's requests made inside xnv_netback_process */

static void setup(void)
{
    world_init(&w, 4, 200);
    world_two_guests(&w, &bad, &bad_dom, &good, &good_dom, false);
}

static void teardown(void)
{
    tfe_free(&bad);
    tfe_free(&good);
    world_free(&w);
}

static uint64_t dom0_requests(void)
{
    struct xnv_sim_counters c;
    xnv_sim_counters(w.sim, 0, &c);
    return c.xs_requests;
}

/* Runs the control plane until the hostile vif's backend reaches state,
 * counting only the requests the engine makes (not the test's own reads). */
static bool engine_until(int state, unsigned ms)
{
    for (unsigned waited = 0; waited < ms * 2; waited++) {
        uint64_t before = dom0_requests();
        xnv_netback_process(w.nb);
        engine_requests += dom0_requests() - before;
        if (be_state(&w, (xnv_domid_t)bad_dom, 0) == state)
            return true;
        usleep(500);
    }
    return false;
}

/* The cycle xnv-hostile's fatal modes make: connect, break the ring, be
 * closed with an error, go back to Closed and Initialising, wait for
 * InitWait. */
static void fatal_cycle(void)
{
    ck_assert_int_eq(tfe_connect(&bad, 1, NULL, NULL), 0);
    ck_assert(engine_until(XenbusStateConnected, 2000));
    bad.q[0].tx.sring->req_prod += 1000;
    xnv_evtchn_notify(bad.ch, (xnv_port_t)bad.q[0].port_tx);
    ck_assert(engine_until(XenbusStateClosed, 3000));
    tfe_set_state(&bad, XenbusStateClosed);
    tfe_unshare_queues(&bad);
    tfe_set_state(&bad, XenbusStateInitialising);
    ck_assert(engine_until(XenbusStateInitWait, 3000));
}

START_TEST(a_fatal_reconnect_cycle_costs_few_xenstore_requests)
{
    fatal_cycle();      /* the first one opens what later ones reuse */
    engine_requests = 0;
    const unsigned cycles = 5;
    for (unsigned i = 0; i < cycles; i++)
        fatal_cycle();
    double per_cycle = (double)engine_requests / cycles;
    printf("netback_xs_cost: %.1f xenstore requests per fatal reconnect cycle\n", per_cycle);
    /* 113 when every event was handled alone; 64 with one look per device
     * and pass (the connect reads, the features at InitWait, the states);
     * 54 with the features written at the first InitWait only (the guest
     * cannot remove them) */
    ck_assert_msg(per_cycle <= 58, "%.1f xenstore requests per cycle (bound 58)", per_cycle);
}
END_TEST

/* A guest writing its state as fast as it can (xnv-hostile's state-flip)
 * for a second: what its device costs the control plane in that second is
 * bounded by the budget of looks, and the state it ends with is still
 * answered. */
START_TEST(a_state_flood_is_looked_at_within_the_budget)
{
    static const int states[] = { 1, 3, 4, 5, 6, 2, 7, 8, 4 };
    unsigned writes = 0;
    uint64_t t0 = nb_now_ms();
    engine_requests = 0;
    do {
        tfe_set_state(&bad, states[writes++ % (sizeof states / sizeof states[0])]);
        uint64_t before = dom0_requests();
        xnv_netback_process(w.nb);
        engine_requests += dom0_requests() - before;
    } while (nb_now_ms() - t0 < 1000);
    printf("netback_xs_cost: %u state writes in 1 s cost %llu xenstore requests\n", writes,
           (unsigned long long)engine_requests);
    ck_assert_uint_ge(writes, 500);
    /* 451119 requests for 47765 writes without the budget; 336 with it */
    ck_assert_msg(engine_requests <= 600, "%llu requests for %u state writes (bound 600)", (unsigned long long)engine_requests, writes);
    /* the last word counts: a frontend starting over gets InitWait */
    tfe_set_state(&bad, XenbusStateClosed);
    tfe_set_state(&bad, XenbusStateInitialising);
    ck_assert(engine_until(XenbusStateInitWait, 3000));
}
END_TEST

/* A look reads the state a frontend is in now: one that went Closing,
 * Closed and Initialising between two looks is seen going from Closing
 * straight to Initialising, and gets InitWait all the same (here before it
 * ever connected, as xnv-hostile's state-flip does). */
START_TEST(a_closed_state_missed_between_two_looks_still_reconnects)
{
    ck_assert_int_eq(be_state(&w, (xnv_domid_t)bad_dom, 0), XenbusStateInitWait);
    tfe_set_state(&bad, XenbusStateClosing);
    ck_assert(engine_until(XenbusStateClosing, 2000));
    tfe_set_state(&bad, XenbusStateClosed);
    tfe_set_state(&bad, XenbusStateInitialising);
    ck_assert(engine_until(XenbusStateInitWait, 2000));
}
END_TEST

/* A frontend closed for breaking the protocol that starts over at once gets
 * InitWait back only after the engine's hold (2 s by default), not at once:
 * a reconnect loop through protocol violations maps, binds and starts
 * threads in dom0 at most that often. */
START_TEST(a_vif_closed_for_a_violation_waits_before_initwait)
{
    ck_assert_int_eq(tfe_connect(&bad, 1, NULL, NULL), 0);
    ck_assert(engine_until(XenbusStateConnected, 2000));
    bad.q[0].tx.sring->req_prod += 1000;
    xnv_evtchn_notify(bad.ch, (xnv_port_t)bad.q[0].port_tx);
    ck_assert(engine_until(XenbusStateClosed, 3000));
    uint64_t closed = nb_now_ms();
    tfe_set_state(&bad, XenbusStateClosed);
    tfe_unshare_queues(&bad);
    tfe_set_state(&bad, XenbusStateInitialising);
    ck_assert(engine_until(XenbusStateInitWait, 6000));
    uint64_t held = nb_now_ms() - closed;
    ck_assert_msg(held >= 1900, "InitWait again %llu ms after the violation (hold 2000)", (unsigned long long)held);
}
END_TEST

START_TEST(the_budget_gives_a_burst_then_the_rate)
{
    struct nb_budget b = { 0 };
    uint64_t wait = 0;
    for (unsigned i = 0; i < 32; i++)
        ck_assert(nb_budget_take(&b, 1000, 32, 4, &wait));
    ck_assert(!nb_budget_take(&b, 1000, 32, 4, &wait));
    ck_assert_uint_eq(wait, 250);
    ck_assert(!nb_budget_take(&b, 1249, 32, 4, &wait));
    ck_assert_uint_eq(wait, 1);
    ck_assert(nb_budget_take(&b, 1250, 32, 4, &wait));
    /* a quiet minute fills it up to the burst, not beyond */
    for (unsigned i = 0; i < 32; i++)
        ck_assert(nb_budget_take(&b, 61250, 32, 4, &wait));
    ck_assert(!nb_budget_take(&b, 61250, 32, 4, &wait));
    /* 0: no limit */
    struct nb_budget u = { 0 };
    for (unsigned i = 0; i < 1000; i++)
        ck_assert(nb_budget_take(&u, 5, 32, 0, &wait));
}
END_TEST

Suite *xnv_suite_netback_xs_cost(void)
{
    Suite *s = suite_create("netback_xs_cost");
    TCase *c = tcase_create("xs_cost");
    tcase_set_timeout(c, 60);     /* six fatal cycles, each held 2 s */
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, a_fatal_reconnect_cycle_costs_few_xenstore_requests);
    tcase_add_test(c, a_state_flood_is_looked_at_within_the_budget);
    tcase_add_test(c, a_closed_state_missed_between_two_looks_still_reconnects);
    tcase_add_test(c, a_vif_closed_for_a_violation_waits_before_initwait);
    tcase_add_test(c, the_budget_gives_a_burst_then_the_rate);
    suite_add_tcase(s, c);
    return s;
}
