/* Several vifs on one netback engine, all busy at once: each moves as many
 * frames as the others, and together they move no fewer per CPU-second
 * than one alone.
 *
 * One test thread plays every guest and visits them in turn, handing each
 * at most VISIT_BUDGET frames per visit (or taking as many), so the guests'
 * side is even by construction: a vif falls behind only when the engine
 * serves its queue less often.  Shares are counted at a fixed total of
 * frames, not over a time window, and the engine is compared with itself
 * per CPU-second of this process.
 *
 * The whole test runs on one CPU (the engine's threads inherit the test
 * thread's affinity).  On two, which queue thread runs beside the guest
 * thread, and for how long, is the kernel scheduler's choice, and on a
 * loaded machine a thread can wait several milliseconds: over a fraction
 * of a second that alone moved one vif's share by more than half in either
 * direction, different vifs each time.  On one CPU the guest fills every
 * ring, then the queue threads take turns, each until its ring is done:
 * what is left to tell the vifs apart is the engine (a lock one vif holds
 * against the others, a lost wakeup, a storm pause that should not be).
 * That CPU is the idlest one when the test starts: `make check` runs these
 * tests at nice 10 beside the rig's emulator, and a test pinned to the
 * emulator's CPU got a tenth of it and ran out of time. */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "nb_harness.h"
#include "xnv/clock.h"
#include "xnv/frame.h"

#define GUESTS 4
#define VISIT_BUDGET 64
#define FRAMES_PER_VIF 200000u

static struct world w;
static struct tfe fe[GUESTS];
static int dom[GUESTS];
static struct xnv_port *port[GUESTS];
static uint64_t received[GUESTS];      /* frames each guest took in */

static cpu_set_t all_cpus;

/* Idle time of each CPU so far (/proc/stat, idle + iowait), 0 when unknown. */
static void idle_ticks(unsigned long long *idle, unsigned n)
{
    memset(idle, 0, n * sizeof *idle);
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned cpu;
        unsigned long long v[5];
        if (sscanf(line, "cpu%u %llu %llu %llu %llu %llu", &cpu, &v[0], &v[1], &v[2], &v[3], &v[4]) == 6 &&
            cpu < n)
            idle[cpu] = v[3] + v[4];
    }
    fclose(f);
}

/* Of the CPUs allowed, the one most idle over the next 200 ms (the current
 * one when /proc/stat says nothing). */
static int idlest_cpu(const cpu_set_t *allowed)
{
    unsigned long long a[CPU_SETSIZE], b[CPU_SETSIZE];
    idle_ticks(a, CPU_SETSIZE);
    nanosleep(&(struct timespec){ .tv_nsec = 200000000 }, NULL);
    idle_ticks(b, CPU_SETSIZE);
    int best = sched_getcpu();
    unsigned long long most = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, allowed) && b[c] - a[c] > most) {
            most = b[c] - a[c];
            best = c;
        }
    return best;
}

static void setup(void)
{
    sched_getaffinity(0, sizeof all_cpus, &all_cpus);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(idlest_cpu(&all_cpus), &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
    memset(received, 0, sizeof received);
    world_init(&w, 1, 60000);
    for (unsigned g = 0; g < GUESTS; g++) {
        char name[16], mac[32];
        snprintf(name, sizeof name, "guest%u", g);
        snprintf(mac, sizeof mac, "00:16:3e:00:01:%02x", g);
        world_guest_up(&w, &fe[g], &dom[g], name, mac, true);
        port[g] = world_vif_port(&w, dom[g]);
        ck_assert_ptr_nonnull(port[g]);
        /* every transmit buffer holds the same small frame from the start */
        uint8_t frame[128];
        uint32_t len = xnv_frame_udp(frame, 64 - 42);
        for (unsigned b = 0; b < TFE_BUFS; b++)
            memcpy(fe[g].q[0].txbuf + b * 4096u, frame, len);
    }
}

static void teardown(void)
{
    for (unsigned g = 0; g < GUESTS; g++)
        tfe_free(&fe[g]);
    world_free(&w);
    sched_setaffinity(0, sizeof all_cpus, &all_cpus);
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

/* Guest g: take the answered slots back, then fill free ones (64-byte frames). */
static unsigned tx_visit(unsigned g)
{
    struct tfe *f = &fe[g];
    netif_tx_front_ring_t *tx = &f->q[0].tx;
    tfe_tx_responses(f, 0, NETIF_RSP_OKAY, NULL);
    unsigned n = 0;
    for (; n < VISIT_BUDGET && RING_FREE_REQUESTS(tx) > 0; n++) {
        unsigned buf = tx->req_prod_pvt % TFE_BUFS;
        netif_tx_request_t r = { .gref = f->q[0].txref[buf], .offset = 0, .flags = 0,
                                 .id = (uint16_t)buf, .size = 64 };
        tfe_raw_tx(f, 0, &r);
    }
    if (n)
        tfe_push_tx(f, 0);
    return n;
}

/* Guest g: take what arrived, then post the buffers again in one push, as
 * Linux netfront refills its ring once per poll (posting each buffer as it
 * is taken would wake the engine for every frame, and measure that). */
static unsigned rx_visit(unsigned g)
{
    uint8_t buf[2048];
    uint16_t flags, gso_size;
    uint8_t gso_type;
    unsigned n = 0, slots = 0;
    while (n < VISIT_BUDGET && tfe_take(&fe[g], 0, buf, sizeof buf, &flags, &gso_type, &gso_size, &slots) >= 0)
        n++;
    if (slots)
        tfe_post_rx(&fe[g], 0, slots);
    received[g] += n;
    return n;
}

/* Frames vif g has moved so far: out of its port, or into its guest. */
static uint64_t moved(unsigned g, bool to_guest)
{
    if (to_guest)
        return received[g];
    struct xnv_memport_stats s;
    xnv_memport_stats(port[g], &s);
    return s.sent;
}

struct run { uint64_t frames[GUESTS], total; double cpu_s; };

/* Keep the first `busy` vifs busy until they moved `total` frames together. */
static void run_until(unsigned busy, bool to_guest, uint64_t total, struct run *r)
{
    uint64_t start[GUESTS];
    for (unsigned g = 0; g < busy; g++)
        start[g] = moved(g, to_guest);
    double cpu0 = cpu_seconds();
    unsigned idle_passes = 0;
    r->total = 0;
    for (unsigned pass = 0; r->total < total; pass++) {
        unsigned n = 0;
        for (unsigned k = 0; k < busy; k++) {          /* each pass starts one guest further */
            unsigned g = (pass + k) % busy;
            n += to_guest ? rx_visit(g) : tx_visit(g);
        }
        r->total = 0;
        for (unsigned g = 0; g < busy; g++)
            r->total += r->frames[g] = moved(g, to_guest) - start[g];
        idle_passes = n ? 0 : idle_passes + 1;
        ck_assert_msg(idle_passes < 200000, "nothing moved for a long while (%llu of %llu frames)",
                      (unsigned long long)r->total, (unsigned long long)total);
        if (!n)
            usleep(20);      /* the engine's threads have the CPU meanwhile */
    }
    r->cpu_s = cpu_seconds() - cpu0;
}

static void start_traffic(bool to_guest)
{
    for (unsigned g = 0; g < GUESTS; g++) {
        if (!to_guest) {
            xnv_memport_set_sink(port[g], true);
            continue;
        }
        uint8_t frame[128];
        uint32_t len = xnv_frame_udp(frame, 64 - 42);
        xnv_memport_set_source(port[g], &(struct virtio_net_hdr){ 0 }, frame, len, UINT64_MAX);
        tfe_post_rx(&fe[g], 0, TFE_BUFS);
    }
}

/* The least frames a vif moved, as a share of the most; *desc says them all. */
static double least_share(const struct run *r, char *desc, size_t len)
{
    uint64_t lo = r->frames[0], hi = r->frames[0];
    size_t at = 0;
    for (unsigned g = 0; g < GUESTS; g++) {
        lo = r->frames[g] < lo ? r->frames[g] : lo;
        hi = r->frames[g] > hi ? r->frames[g] : hi;
        at += (size_t)snprintf(desc + at, len - at, "%s%llu", g ? " " : "", (unsigned long long)r->frames[g]);
    }
    return hi ? (double)lo / (double)hi : 0;
}

/* When a test stops starting new attempts: half of the time Check gives it
 * (CK_DEFAULT_TIMEOUT, 4 s unless set, times CK_TIMEOUT_MULTIPLIER), so that
 * a slow build or a busy machine ends with a verdict, not a timeout. */
static uint64_t attempts_end_ns(void)
{
    const char *t = getenv("CK_DEFAULT_TIMEOUT"), *m = getenv("CK_TIMEOUT_MULTIPLIER");
    double limit = (t && atof(t) > 0 ? atof(t) : 4) * (m && atof(m) > 0 ? atof(m) : 1);
    return xnv_now_ns() + (uint64_t)(limit / 2 * 1e9);
}

/* Up to three attempts: a vif the engine serves less fails every one of
 * them, a moment when the machine's scheduler favoured one thread does not. */
static void check_even_shares(bool to_guest)
{
    uint64_t end = attempts_end_ns();
    start_traffic(to_guest);
    struct run r;
    run_until(GUESTS, to_guest, 2000, &r);                  /* warm up: arenas faulted in */
    char seen[3][128] = { "", "", "" };
    double share = 0;
    for (int attempt = 0; attempt < 3 && share < 0.9 && (attempt == 0 || xnv_now_ns() < end); attempt++) {
        run_until(GUESTS, to_guest, (uint64_t)GUESTS * FRAMES_PER_VIF, &r);
        share = least_share(&r, seen[attempt], sizeof seen[attempt]);
    }
    ck_assert_msg(share >= 0.9, "%s: frames per vif %s; then %s; then %s (least %.2f of most)",
                  to_guest ? "backend to guest" : "guest to backend", seen[0], seen[1], seen[2], share);
}

START_TEST(guest_to_backend_shares_are_even)
{
    check_even_shares(false);
}
END_TEST

START_TEST(backend_to_guest_shares_are_even)
{
    check_even_shares(true);
}
END_TEST

/* Frames per CPU-second of this process, one vif busy alone, then all of
 * them, back to back: the ratio all / one of each round, up to 12 rounds
 * until one reaches AGGREGATE_FLOOR.  An engine whose cost per frame grows
 * with the vifs that are busy (a lock they contend for, a pass that serves
 * one and makes the others wait) stays below it.  A cost that grows with
 * the vifs connected, busy or not, is the same in both halves (all four
 * are connected throughout) and is not what this measures: an injected
 * wakeup of every queue after each pass left the ratio at 1.10-1.43.
 * Equality itself is not the floor: at nice 10 with the other CPU busy,
 * as `make check` runs it, the first round measured 0.92-1.25 (12 runs of
 * the plain and ASan builds).  Before the guests refilled their rings in
 * batches (rx_visit), backend to guest measured a wakeup per frame:
 * 0.57-1.20 a round there, one process in twelve below 0.8 in every
 * round. */
#define AGGREGATE_FLOOR 0.8

static void check_aggregate(bool to_guest)
{
    uint64_t end = attempts_end_ns();
    start_traffic(to_guest);
    struct run r;
    run_until(GUESTS, to_guest, 40000, &r);
    double best = 0, one = 0, all = 0;
    int rounds = 0;
    for (; rounds < 12 && best < AGGREGATE_FLOOR && (rounds == 0 || xnv_now_ns() < end); rounds++) {
        run_until(1, to_guest, FRAMES_PER_VIF, &r);
        double o = (double)r.total / r.cpu_s;
        run_until(GUESTS, to_guest, FRAMES_PER_VIF, &r);
        double a = (double)r.total / r.cpu_s;
        if (o > 0 && a / o > best) {
            best = a / o;
            one = o;
            all = a;
        }
    }
    ck_assert_msg(best >= AGGREGATE_FLOOR, "%s: %d vifs moved %.0f frames per CPU-second, one alone %.0f (best of %d rounds)",
                  to_guest ? "backend to guest" : "guest to backend", GUESTS, all, one, rounds);
}

START_TEST(guest_to_backend_together_not_below_one)
{
    check_aggregate(false);
}
END_TEST

START_TEST(backend_to_guest_together_not_below_one)
{
    check_aggregate(true);
}
END_TEST

Suite *xnv_suite_netback_fairness(void)
{
    Suite *s = suite_create("netback_fairness");
    TCase *c = tcase_create("core");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, guest_to_backend_shares_are_even);
    tcase_add_test(c, backend_to_guest_shares_are_even);
    tcase_add_test(c, guest_to_backend_together_not_below_one);
    tcase_add_test(c, backend_to_guest_together_not_below_one);
    suite_add_tcase(s, c);
    return s;
}
