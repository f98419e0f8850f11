/* Connect/disconnect churn against the netback engine over the simulated
 * hypervisor: guest after guest connects, passes traffic both ways and goes
 * away again (frontend close, xl-style device removal, domain destroyed with
 * traffic in flight, domain destroyed after its devices were removed), and
 * afterwards the engine holds nothing of any of them: no xenstore node, no
 * grant mapping, no event channel, no port, no file descriptor, and its heap
 * does not grow with the number of cycles.
 *
 * XNV_CHURN_CYCLES overrides the number of cycles (200; fewer under valgrind). */
#include <check.h>
#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"

#define WARMUP_CYCLES 10
/* Heap growth allowed from cycle WARMUP_CYCLES to the last.  Not zero: the
 * simulation keeps a record of every domain ever created (domids are never
 * reused), about 230 bytes each, 43 KiB over 190 cycles, and malloc's caches
 * shift (a trace of 50 cycles found no other block left allocated).  A leaked
 * vif (struct nb_vif with its 16 queues, tens of KiB), port or queue arena
 * (1 MiB, mmapped: hence hblkhd) overshoots the bound at once; so does any
 * per-cycle leak above ~800 bytes.  (Under valgrind mallinfo2 sees nothing;
 * its leak check stands in there.) */
#define HEAP_BOUND_BYTES (192u * 1024u)

static unsigned error_lines, connected_lines;

static void quiet(void *arg, int level, const char *msg)
{
    (void)arg;
    /* queue threads may log too (netback/arena.c) */
    __atomic_add_fetch(&error_lines, level == LOG_ERR, __ATOMIC_RELAXED);
    __atomic_add_fetch(&connected_lines, strstr(msg, ": connected") != NULL, __ATOMIC_RELAXED);
    if (getenv("XNV_TEST_LOG"))
        fprintf(stderr, "netback: %s\n", msg);
}

/* ---- the world ------------------------------------------------------------ */

static struct world w;
static uint8_t frame[2048], got[2048];

/* The harness's world, its engine replaced by one that counts error lines
 * and looks at a device as often as it is asked to. */
static void setup(void)
{
    world_init(&w, 2, 60000);
    xnv_netback_free(w.nb);
    struct xnv_netback_config cfg;
    xnv_netback_config_default(&cfg);
    cfg.max_queues = 2;
    cfg.open_port = world_open_port;
    cfg.port_exists = world_port_exists;
    cfg.port_arg = &w;
    cfg.log = quiet;
    /* These guests cycle faster than any real one: what is tested here is
     * what is left and what is logged, not the budget of looks at a device
     * and the hold after a failure (netback_xs_cost tests those), which
     * would spread the cycles out. */
    cfg.device_looks_per_s = 0;
    cfg.fail_hold_ms = 0;
    char err[256];
    w.nb = xnv_netback_new(w.dom0, &cfg, err, sizeof err);
    ck_assert_msg(w.nb, "xnv_netback_new: %s", err);
}

static void teardown(void) { world_free(&w); }

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static unsigned vifs(void) { return xnv_netback_list(w.nb, NULL, 0); }

/* Nodes in the backend's vif tree (the directory itself not counted). */
static unsigned xs_nodes_under(const char *path)
{
    unsigned n = 0, count = 0;
    char **kids = xnv_xs_directory(w.dom0, XNV_XS_NO_TX, path, &count);
    for (unsigned i = 0; i < count; i++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%s", path, kids[i]);
        n += 1 + xs_nodes_under(sub);
    }
    free(kids);
    return n;
}

static bool all_gone(void *arg)
{
    (void)arg;
    return vifs() == 0 && nb_host_count(&w.host) == 0;
}

/* ---- one guest's life ---------------------------------------------------- */

enum leave { LEAVE_FRONTEND_CLOSE, LEAVE_XL_DETACH, LEAVE_DESTROY_MID_TRAFFIC, LEAVE_XL_DESTROY, LEAVE_WAYS };

static void rm_node(const char *fmt, int dom)
{
    char path[128];
    snprintf(path, sizeof path, fmt, dom);
    xnv_xs_rm(w.dom0, XNV_XS_NO_TX, path);
}
static void rm_backend(int dom) { rm_node("/local/domain/0/backend/vif/%d", dom); }

static void guest_to_host(struct tfe *f, struct xnv_port *port, uint32_t payload)
{
    uint32_t len = build_udp_frame(frame, payload);
    tfe_send(f, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++) {
        xnv_netback_process(w.nb);
        if ((n = xnv_memport_take(port, 0, &vh, got, sizeof got)) < 0)
            usleep(100);
    }
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, frame, len);
}

static void host_to_guest(struct tfe *f, struct xnv_port *port, uint32_t payload)
{
    uint32_t len = build_udp_frame(frame, payload);
    struct virtio_net_hdr vh = { 0 };
    ck_assert_int_eq(xnv_memport_inject(port, 0, &vh, frame, len), 0);
    uint16_t fl, gs;
    uint8_t gt;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100))
        n = tfe_recv(f, 0, got, sizeof got, &fl, &gt, &gs);
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, frame, len);
}

/* Frames both ways that nobody waits for: the guest goes while they move. */
static void traffic_in_flight(struct tfe *f, struct xnv_port *port)
{
    uint32_t len = build_udp_frame(frame, 1000);
    struct virtio_net_hdr vh = { 0 };
    for (int i = 0; i < 16; i++) {
        tfe_send(f, 0, frame, len, 512, 0, 0, 0);
        xnv_memport_inject(port, 0, &vh, frame, len);
    }
}

static void cycle(unsigned i)
{
    struct tfe f;
    int dom;
    char name[32], mac[24];
    snprintf(name, sizeof name, "churn%u", i);
    snprintf(mac, sizeof mac, "00:16:3e:01:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
    world_guest_up(&w, &f, &dom, name, mac, false);
    ck_assert_int_eq(tfe_connect(&f, 1 + i % 2, NULL, NULL), 0);
    ck_assert_msg(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 3000), "cycle %u: not Connected", i);
    struct xnv_port *port = world_vif_port(&w, dom);
    ck_assert_ptr_nonnull(port);
    tfe_post_rx(&f, 0, 16);
    guest_to_host(&f, port, 100 + i);
    host_to_guest(&f, port, 200 + i);

    switch ((enum leave)(i % LEAVE_WAYS)) {
    case LEAVE_FRONTEND_CLOSE:      /* netfront unloaded, then the guest shuts down */
        tfe_set_state(&f, XenbusStateClosing);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosing, 3000));
        tfe_set_state(&f, XenbusStateClosed);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 3000));
        rm_backend(dom);
        xnv_sim_domain_destroy(w.sim, (xnv_domid_t)dom);
        break;
    case LEAVE_XL_DETACH: {         /* xl network-detach, then xl destroy */
        char path[128];
        snprintf(path, sizeof path, "%s/online", f.be);
        xnv_xs_write(w.dom0, XNV_XS_NO_TX, path, "0", 1);
        snprintf(path, sizeof path, "%s/state", f.be);
        xnv_xs_write(w.dom0, XNV_XS_NO_TX, path, "5", 1);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 3000));
        rm_backend(dom);
        rm_node("/local/domain/%d/device/vif/0", dom);
        world_pump(&w, NULL, NULL, 2);
        xnv_sim_domain_destroy(w.sim, (xnv_domid_t)dom);
        break;
    }
    case LEAVE_DESTROY_MID_TRAFFIC: /* the domain dies under traffic; the toolstack cleans up after */
        traffic_in_flight(&f, port);
        xnv_sim_domain_destroy(w.sim, (xnv_domid_t)dom);
        rm_backend(dom);
        break;
    case LEAVE_XL_DESTROY:          /* xl destroy: devices removed, then the domain */
    default:
        traffic_in_flight(&f, port);
        rm_backend(dom);
        xnv_sim_domain_destroy(w.sim, (xnv_domid_t)dom);
        break;
    }
    ck_assert_msg(world_pump(&w, all_gone, NULL, 3000), "cycle %u: %u vif(s), %u port(s) left", i, vifs(),
                  nb_host_count(&w.host));
    tfe_free(&f);
}

static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

START_TEST(churn_leaves_nothing_behind)
{
    const char *env = getenv("XNV_CHURN_CYCLES");
    unsigned cycles = env ? (unsigned)atoi(env) : 200;
    ck_assert_uint_gt(cycles, WARMUP_CYCLES);
    unsigned fds0 = open_fds();
    size_t heap0 = 0;
    for (unsigned i = 0; i < cycles; i++) {
        cycle(i);
        if (i + 1 == WARMUP_CYCLES)
            heap0 = heap_in_use();
    }
    size_t heap1 = heap_in_use();
    world_pump(&w, NULL, NULL, 20);

    ck_assert_uint_eq(vifs(), 0);
    ck_assert_uint_eq(nb_host_count(&w.host), 0);
    unsigned nodes = xs_nodes_under("/local/domain/0/backend/vif");
    ck_assert_msg(nodes == 0, "%u xenstore node(s) left under backend/vif", nodes);
    struct xnv_sim_usage u;
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_msg(u.mapped_pages == 0, "dom0 still maps %u guest page(s)", u.mapped_pages);
    ck_assert_msg(u.bound_ports == 0, "dom0 still has %u event channel port(s)", u.bound_ports);
    ck_assert_uint_eq(open_fds(), fds0);
    long growth = (long)heap1 - (long)heap0;
    ck_assert_msg(growth <= (long)HEAP_BOUND_BYTES, "heap grew by %ld bytes over %u cycles (bound %u)", growth,
                  cycles - WARMUP_CYCLES, HEAP_BOUND_BYTES);
    if (getenv("XNV_TEST_LOG"))
        fprintf(stderr, "churn: %u cycles, heap growth %ld bytes, fds %u\n", cycles, growth, fds0);
}
END_TEST

/* xl destroy removes the device directory while the domain dies; when the
 * engine sees the domain's death first, closing the vif must not write its
 * state into a directory that is gone (that would create it again, for
 * good, and keep the vif alive). */
START_TEST(destroyed_guest_directory_is_not_recreated)
{
    struct tfe f;
    int dom;
    world_guest_up(&w, &f, &dom, "gone", "00:16:3e:01:ff:fe", true);
    xnv_sim_domain_destroy(w.sim, (xnv_domid_t)dom);
    rm_backend(dom);
    ck_assert(world_pump(&w, all_gone, NULL, 3000));
    char path[64];
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d", dom);
    ck_assert_uint_eq(xs_nodes_under(path), 0);
    unsigned len;
    char *v = xnv_xs_read(w.dom0, XNV_XS_NO_TX, path, &len);
    ck_assert_msg(v == NULL, "%s exists again", path);
    tfe_free(&f);
}
END_TEST

/* A frontend flipping between Connected (with no ring keys) and
 * Initialising has its vif refused every time; the error node says why each
 * time, the log only a few times. */
START_TEST(state_flipping_frontend_cannot_flood_the_log)
{
    struct tfe f;
    int dom;
    world_guest_up(&w, &f, &dom, "flipper", "00:16:3e:01:ff:fd", false);
    error_lines = 0;
    for (int i = 0; i < 100; i++) {
        tfe_set_state(&f, XenbusStateConnected);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
        tfe_set_state(&f, XenbusStateInitialising);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
    }
    ck_assert_msg(error_lines >= 1 && error_lines <= 5, "%u error lines for 100 refusals", error_lines);
    char *e = be_read(&w, (xnv_domid_t)dom, 0, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, "request-rx-copy"), "error node: %s", e);
    free(e);
    tfe_free(&f);
}
END_TEST

/* A frontend that connects, closes and connects again, 50 times: the
 * connection is logged a few times, not once per cycle. */
START_TEST(connect_cycles_cannot_flood_the_log)
{
    struct tfe f;
    int dom;
    connected_lines = 0;
    world_guest_up(&w, &f, &dom, "cycler", "00:16:3e:01:ff:fc", true);
    for (int i = 0; i < 50; i++) {
        tfe_set_state(&f, XenbusStateClosing);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosing, 2000));
        tfe_set_state(&f, XenbusStateClosed);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 2000));
        tfe_unshare_queues(&f);
        tfe_set_state(&f, XenbusStateInitialising);
        ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateInitWait, 2000));
        ck_assert_int_eq(tfe_connect(&f, 1, NULL, NULL), 0);
        ck_assert_msg(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000), "cycle %d", i);
    }
    ck_assert_msg(connected_lines >= 1 && connected_lines <= 5, "%u lines for 51 connections", connected_lines);
    tfe_free(&f);
}
END_TEST

/* The accessor the churn test relies on sees what it should. */
START_TEST(sim_usage_counts_maps_and_ports)
{
    struct tfe f;
    int dom;
    world_guest_up(&w, &f, &dom, "usage", "00:16:3e:01:ff:ff", true);
    struct xnv_sim_usage u;
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_uint_ge(u.mapped_pages, 2);       /* at least the two rings */
    ck_assert_uint_ge(u.bound_ports, 1);
    xnv_sim_usage(w.sim, (xnv_domid_t)dom, &u);
    ck_assert_uint_ge(u.shared_pages, 2 + 2 * TFE_BUFS);
    tfe_set_state(&f, XenbusStateClosed);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateClosed, 3000));
    xnv_sim_usage(w.sim, 0, &u);
    ck_assert_uint_eq(u.mapped_pages, 0);
    ck_assert_uint_eq(u.bound_ports, 0);
    tfe_free(&f);
}
END_TEST

Suite *xnv_suite_churn(void)
{
    Suite *s = suite_create("churn");
    TCase *c = tcase_create("churn");
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_set_timeout(c, 300);
    tcase_add_test(c, sim_usage_counts_maps_and_ports);
    tcase_add_test(c, destroyed_guest_directory_is_not_recreated);
    tcase_add_test(c, state_flipping_frontend_cannot_flood_the_log);
    tcase_add_test(c, connect_cycles_cannot_flood_the_log);
    tcase_add_test(c, churn_leaves_nothing_behind);
    suite_add_tcase(s, c);
    return s;
}
