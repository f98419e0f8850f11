/* vifname as with the kernel's backend: the TAP is vif<dom>.<dev> until the
 * hotplug script (vif-common.sh) renames it to the vifname, which it refuses
 * when the name is taken; a restarted engine finds the renamed TAP again; an
 * attached vif with a vifname comes and goes; nothing is left after. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"

static struct world w;
static struct tfe fe, fe1;
static bool fe1_used;
static int dom;
static char base[16];
static uint8_t frame[4096], got[4096];

static void setup(void)
{
    world_init(&w, 2, 60000);
    dom = xnv_sim_domain_create(w.sim, "guest1");
    ck_assert_int_gt(dom, 0);
    snprintf(base, sizeof base, "vif%d.0", dom);
    ck_assert_int_eq(tfe_init(&fe, &w, (xnv_domid_t)dom, 0), 0);
    fe1_used = false;
}

static void teardown(void)
{
    tfe_free(&fe);
    if (fe1_used)
        tfe_free(&fe1);
    world_free(&w);
}

/* The guest's device devid with that vifname, through the hotplug script
 * (optional here) to Connected. */
static void add_vif(unsigned devid, const char *mac, const char *vifname)
{
    ck_assert_int_eq(xl_add_vif(&w, (xnv_domid_t)dom, devid, mac, vifname), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, devid, XenbusStateInitWait, 2000));
}

static void connect_vif(struct tfe *f, unsigned devid)
{
    xl_hotplug_connected(&w, (xnv_domid_t)dom, devid);
    char *hs = be_read(&w, (xnv_domid_t)dom, devid, "hotplug-status");
    ck_assert_str_eq(hs, "connected");
    free(hs);
    ck_assert_int_eq(tfe_connect(f, 1, NULL, NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, devid, XenbusStateConnected, 2000));
}

/* Both ways through dom0's interface ifname; marker tells the frames apart. */
static void traffic_through(const char *ifname, struct tfe *f, uint8_t marker)
{
    struct xnv_port *p = world_port(&w, ifname);
    ck_assert_msg(p, "no interface %s", ifname);
    uint32_t len = build_udp_frame(frame, 200);
    frame[60] = marker;
    tfe_send(f, 0, frame, len, 4096, 0, 0, 0);
    struct virtio_net_hdr vh;
    int n = -1;
    for (int i = 0; i < 20000 && n < 0; i++, usleep(100)) {
        xnv_netback_process(w.nb);
        n = xnv_memport_take(p, 0, &vh, got, sizeof got);
    }
    ck_assert_int_eq(n, (int)len);
    ck_assert_mem_eq(got, frame, len);

    tfe_post_rx(f, 0, 1);
    frame[60] = (uint8_t)(marker + 1);
    vh = (struct virtio_net_hdr){ 0 };
    ck_assert_int_eq(xnv_memport_inject(p, 0, &vh, frame, len), 0);
    /* after a kill, the buffer the dead engine held comes back first */
    ck_assert_int_eq(tfe_recv_wait(f, 0, got, sizeof got, 2000, NULL), (int)len);
    ck_assert_mem_eq(got, frame, len);
}

static const char *ifname_listed(void)
{
    static struct xnv_vif_info info[4];
    ck_assert_uint_ge(xnv_netback_list(w.nb, info, 4), 1);
    return info[0].ifname;
}

START_TEST(tap_is_vif_until_the_hotplug_script_renames_it)
{
    add_vif(0, "00:16:3e:00:00:01", "web0");
    ck_assert_ptr_nonnull(world_port(&w, base));     /* before InitWait, as the kernel's vif */
    ck_assert_ptr_null(world_port(&w, "web0"));
    connect_vif(&fe, 0);
    ck_assert_ptr_null(world_port(&w, base));
    ck_assert_str_eq(nb_host_bridge(&w.host, "web0"), "xenbr0");
    ck_assert_str_eq(ifname_listed(), "web0");        /* what xnvctl shows */
    traffic_through("web0", &fe, 1);
}
END_TEST

/* The name is another guest's: the script refuses (vif-common.sh), as with
 * the kernel's backend (xl create then fails and removes the device), and
 * the other guest keeps its interface. */
START_TEST(vifname_taken_fails_as_with_the_kernel_backend)
{
    add_vif(0, "00:16:3e:00:00:01", "web0");
    connect_vif(&fe, 0);
    int d2 = xnv_sim_domain_create(w.sim, "guest2");
    ck_assert_int_eq(xl_add_vif(&w, (xnv_domid_t)d2, 0, "00:16:3e:00:00:02", "web0"), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)d2, 0, XenbusStateInitWait, 2000));
    xl_hotplug_connected(&w, (xnv_domid_t)d2, 0);
    char *hs = be_read(&w, (xnv_domid_t)d2, 0, "hotplug-status");
    char *e = be_read(&w, (xnv_domid_t)d2, 0, "hotplug-error");
    ck_assert_str_eq(hs, "error");
    ck_assert_ptr_nonnull(e);
    ck_assert_msg(strstr(e, "An interface with name web0 already exists"), "%s", e);
    free(hs);
    free(e);
    traffic_through("web0", &fe, 3);
    char path[96], b2[16];
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/0", d2);
    snprintf(b2, sizeof b2, "vif%d.0", d2);
    ck_assert_ptr_nonnull(world_port(&w, b2));
    ck_assert_int_eq(xnv_xs_rm(w.dom0, XNV_XS_NO_TX, path), 0);
    for (int i = 0; i < 4000 && world_port(&w, b2); i++)
        world_pump(&w, NULL, NULL, 1);
    ck_assert_ptr_null(world_port(&w, b2));
    ck_assert_uint_eq(nb_host_count(&w.host), 1);
    traffic_through("web0", &fe, 5);
}
END_TEST

static bool no_vifs(void *arg)
{
    return xnv_netback_list(arg, NULL, 0) == 0;
}

struct vif_key { xnv_domid_t dom; unsigned devid; };

static bool vif_gone(void *arg)
{
    const struct vif_key *k = arg;
    struct xnv_vif_info info[8];
    unsigned n = xnv_netback_list(w.nb, info, 8);
    for (unsigned i = 0; i < n && i < 8; i++)
        if (info[i].domid == k->dom && info[i].devid == k->devid)
            return false;
    return true;
}

/* What xl network-detach (or destroy) does with the device. */
static void remove_vif(unsigned devid)
{
    char path[96];
    snprintf(path, sizeof path, "/local/domain/0/backend/vif/%d/%u", dom, devid);
    char online[112];
    snprintf(online, sizeof online, "%s/online", path);
    ck_assert_int_eq(xnv_xs_write(w.dom0, XNV_XS_NO_TX, online, "0", 1), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, devid, XenbusStateClosed, 2000));
    ck_assert_int_eq(xnv_xs_rm(w.dom0, XNV_XS_NO_TX, path), 0);
    struct vif_key k = { (xnv_domid_t)dom, devid };
    ck_assert(world_pump(&w, vif_gone, &k, 2000));
}

/* A kill and a stop: the new engine attaches to web0 again (no fresh
 * vif<dom>.0 off the bridge), resumes the rings, and removal takes it. */
START_TEST(restart_finds_the_renamed_tap)
{
    add_vif(0, "00:16:3e:00:00:01", "web0");
    connect_vif(&fe, 0);
    traffic_through("web0", &fe, 1);
    struct xnv_port *p0 = world_port(&w, "web0");
    for (int round = 0; round < 2; round++) {
        unsigned opened = w.nports;
        if (round == 0)
            world_kill_netback(&w);            /* first: nothing set it persistent but its creation */
        else
            xnv_netback_shutdown(w.nb, false);
        w.nb = NULL;
        ck_assert_ptr_eq(world_port(&w, "web0"), p0);
        ck_assert_str_eq(nb_host_bridge(&w.host, "web0"), "xenbr0");
        world_restart_netback(&w);
        ck_assert_uint_eq(w.nports, opened + 1);
        ck_assert_str_eq(w.port_names[opened], "web0");
        ck_assert_ptr_null(world_port(&w, base));
        ck_assert_int_eq(be_state(&w, (xnv_domid_t)dom, 0), XenbusStateConnected);
        traffic_through("web0", &fe, (uint8_t)(10 + 2 * round));
        ck_assert_str_eq(ifname_listed(), "web0");
    }
    remove_vif(0);
    ck_assert(no_vifs(w.nb));
    ck_assert_uint_eq(nb_host_count(&w.host), 0);
}
END_TEST

/* Stopped after the script renamed the TAP but before the guest connected:
 * the TAP stays (the script is not run again) and is found again. */
START_TEST(restart_between_the_script_and_the_guest)
{
    add_vif(0, "00:16:3e:00:00:01", "web0");
    xl_hotplug_connected(&w, (xnv_domid_t)dom, 0);
    struct xnv_port *p0 = world_port(&w, "web0");
    ck_assert_ptr_nonnull(p0);
    xnv_netback_shutdown(w.nb, false);
    w.nb = NULL;
    ck_assert_ptr_eq(world_port(&w, "web0"), p0);
    world_restart_netback(&w);
    ck_assert_int_eq(tfe_connect(&fe, 1, NULL, NULL), 0);
    ck_assert(wait_be_state(&w, (xnv_domid_t)dom, 0, XenbusStateConnected, 2000));
    ck_assert_ptr_null(world_port(&w, base));
    traffic_through("web0", &fe, 20);
}
END_TEST

/* xl network-attach with a vifname, then network-detach. */
START_TEST(network_attach_with_vifname_then_detach)
{
    add_vif(0, "00:16:3e:00:00:01", NULL);
    connect_vif(&fe, 0);
    ck_assert_int_eq(tfe_init(&fe1, &w, (xnv_domid_t)dom, 1), 0);
    fe1_used = true;
    add_vif(1, "00:16:3e:00:00:11", "web1");
    connect_vif(&fe1, 1);
    char b1[16];
    snprintf(b1, sizeof b1, "vif%d.1", dom);
    ck_assert_ptr_null(world_port(&w, b1));
    ck_assert_str_eq(nb_host_bridge(&w.host, "web1"), "xenbr0");
    traffic_through("web1", &fe1, 30);
    traffic_through(base, &fe, 32);
    remove_vif(1);
    ck_assert_ptr_null(world_port(&w, "web1"));
    ck_assert_ptr_null(world_port(&w, b1));
    ck_assert_uint_eq(nb_host_count(&w.host), 1);
    traffic_through(base, &fe, 34);
    remove_vif(0);
    ck_assert(no_vifs(w.nb));
    ck_assert_uint_eq(nb_host_count(&w.host), 0);
}
END_TEST

Suite *xnv_suite_netback_vifname(void)
{
    Suite *s = suite_create("netback_vifname");
    TCase *c = tcase_create("vifname");
    tcase_set_timeout(c, 60);
    tcase_add_checked_fixture(c, setup, teardown);
    tcase_add_test(c, tap_is_vif_until_the_hotplug_script_renames_it);
    tcase_add_test(c, vifname_taken_fails_as_with_the_kernel_backend);
    tcase_add_test(c, restart_finds_the_renamed_tap);
    tcase_add_test(c, restart_between_the_script_and_the_guest);
    tcase_add_test(c, network_attach_with_vifname_then_detach);
    suite_add_tcase(s, c);
    return s;
}
