/* The TAP port on a real TAP of this host (root and /dev/net/tun needed):
 * its count of waiting frames (the doorbell, libxnv/port/tap_doorbell.h)
 * must say what a read finds, queue by queue, and must not count the
 * frames the port itself hands to the kernel. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ring_fixture.h"
#include "skip.h"
#include "xnv/port.h"

static char name[IFNAMSIZ];
static struct xnv_port *port;
static int sender = -1;
static uint8_t buf[65536];

static void quiet_ipv6(void)
{
    if (access("/proc/sys/net/ipv6", F_OK) != 0)
        return;                 /* no IPv6 here: nothing to quiet */
    char path[96];
    snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    int fd = open(path, O_WRONLY);
    ck_assert_msg(fd >= 0 && write(fd, "1", 1) == 1, "cannot turn IPv6 off on %s", name);
    close(fd);
}

static void setup(void)
{
    snprintf(name, sizeof name, "xnvdb%u", (unsigned)getpid() % 100000u);
    char err[160];
    port = xnv_tap_open(name, err, sizeof err);
    ck_assert_msg(port != NULL, "%s", err);
    quiet_ipv6();   /* no router solicitations of its own in the counts */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ck_assert_int_eq(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    ck_assert_int_eq(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    close(s);
    /* the kernel's side: frames sent on the interface are what the kernel
     * transmits to the TAP, as a bridge forwards a frame to a vif */
    sender = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(sender, 0);
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = (int)if_nametoindex(name) };
    ck_assert_int_eq(bind(sender, (struct sockaddr *)&sll, sizeof sll), 0);
}

static void teardown(void)
{
    if (sender >= 0)
        close(sender);
    sender = -1;
    xnv_port_close(port);
    port = NULL;
}

/* A UDP/IPv4 frame of flow `flow` (its source port). */
static uint32_t frame_of_flow(uint8_t *f, unsigned flow)
{
    uint32_t len = build_udp_frame(f, 32);
    uint8_t *udp = f + len - 32 - 8;
    udp[0] = (uint8_t)((1024 + flow) >> 8);
    udp[1] = (uint8_t)(1024 + flow);
    return len;
}

static void kernel_sends(unsigned n, unsigned flow0)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[128];
        uint32_t len = frame_of_flow(f, flow0 + i);
        ck_assert_int_eq(send(sender, f, len, 0), (int)len);
    }
}

/* Read queue q until it is empty; the frames read. */
static unsigned drain(unsigned q)
{
    unsigned n = 0;
    struct virtio_net_hdr vh;
    while (xnv_port_recv(port, q, &vh, buf, sizeof buf) >= 0)
        n++;
    return n;
}

/* The count is trusted once a read found the queue empty. */
static void settle(unsigned q)
{
    xnv_port_backlog(port, q);
    drain(q);
    ck_assert_int_eq(xnv_port_backlog(port, q), 0);
}

START_TEST(count_says_what_a_read_finds)
{
    ck_assert_int_eq(xnv_port_backlog(port, 0), -1);   /* frames before it are unknown */
    settle(0);
    kernel_sends(3, 0);
    int b = xnv_port_backlog(port, 0);
    ck_assert_int_ge(b, 3);
    struct virtio_net_hdr vh;
    for (int i = 0; i < b; i++)
        ck_assert_int_gt(xnv_port_recv(port, 0, &vh, buf, sizeof buf), 0);
    ck_assert_int_eq(xnv_port_backlog(port, 0), 0);
    ck_assert_int_eq(xnv_port_recv(port, 0, &vh, buf, sizeof buf), -EAGAIN);
}
END_TEST

START_TEST(frames_the_port_sends_are_not_counted)
{
    settle(0);
    uint8_t f[128];
    uint32_t len = frame_of_flow(f, 7);
    struct virtio_net_hdr vh = { 0 };
    struct iovec v = { f, len };
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(xnv_port_send(port, 0, &vh, &v, 1), 0);
    ck_assert_int_eq(xnv_port_backlog(port, 0), 0);
    ck_assert_int_eq(xnv_port_recv(port, 0, &vh, buf, sizeof buf), -EAGAIN);
}
END_TEST

START_TEST(each_queue_counts_its_own_frames)
{
    ck_assert_int_eq(xnv_port_set_queues(port, 2), 0);
    settle(0);
    settle(1);
    kernel_sends(32, 100);      /* 32 flows: the TAP spreads them by hash */
    int b0 = xnv_port_backlog(port, 0), b1 = xnv_port_backlog(port, 1);
    ck_assert_int_ge(b0 + b1, 32);
    ck_assert_uint_eq(drain(0), (unsigned)b0);
    ck_assert_uint_eq(drain(1), (unsigned)b1);
    ck_assert_int_eq(xnv_port_backlog(port, 0), 0);
    ck_assert_int_eq(xnv_port_backlog(port, 1), 0);
}
END_TEST

START_TEST(a_frame_the_tap_dropped_costs_one_read)
{
    settle(0);
    /* a TAP whose queue holds 4 frames drops the rest after the doorbell
     * counted them: the count is more than a read finds, and is trusted
     * again once a read found the queue empty while it said nothing */
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_qlen = 4;
    ck_assert_int_eq(ioctl(s, SIOCSIFTXQLEN, &ifr), 0);
    close(s);
    kernel_sends(10, 0);
    ck_assert_int_ge(xnv_port_backlog(port, 0), 10);
    ck_assert_uint_eq(drain(0), 4);
    ck_assert_int_eq(xnv_port_backlog(port, 0), -1);
    struct virtio_net_hdr vh;
    ck_assert_int_eq(xnv_port_recv(port, 0, &vh, buf, sizeof buf), -EAGAIN);
    ck_assert_int_eq(xnv_port_backlog(port, 0), 0);
}
END_TEST

START_TEST(more_frames_than_the_count_holds_are_all_read)
{
    settle(0);
    /* more than the doorbell's ring holds and than the TAP queues (500):
     * the count knows it lost some and is not trusted until a read finds
     * the queue empty */
    kernel_sends(600, 0);
    ck_assert_int_eq(xnv_port_backlog(port, 0), -1);
    ck_assert_uint_ge(drain(0), 256);
    ck_assert_int_eq(xnv_port_backlog(port, 0), 0);
    kernel_sends(2, 0);
    ck_assert_int_ge(xnv_port_backlog(port, 0), 2);
}
END_TEST

Suite *xnv_suite_tap_port(void)
{
    Suite *s = suite_create("tap_port");
    TCase *c = tcase_create("doorbell");
    /* a TAP and a packet socket can be made here (root in a container
     * may lack CAP_NET_ADMIN or CAP_NET_RAW) */
    char err[160];
    snprintf(name, sizeof name, "xnvdp%u", (unsigned)getpid() % 100000u);
    struct xnv_port *probe = geteuid() == 0 ? xnv_tap_open(name, err, sizeof err) : NULL;
    int fd = probe ? socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0) : -1;
    if (fd >= 0)
        close(fd);
    xnv_port_close(probe);
    /* an interface with IPv6 sends frames of its own (neighbour discovery)
     * that would count: it must be possible to turn IPv6 off on it */
    bool v6_stays = access("/proc/sys/net/ipv6", F_OK) == 0 &&
                    access("/proc/sys/net/ipv6/conf/default/disable_ipv6", W_OK) != 0;
    if (geteuid() != 0 || fd < 0 || v6_stays) {
        const char *why = geteuid() != 0 ? "needs root for a TAP and a packet socket"
                        : fd < 0 ? "needs a TAP (/dev/net/tun) and a packet socket"
                                 : "needs IPv6 turned off on a test interface (/proc/sys read-only)";
        xnv_test_skip("tap_port", "count_says_what_a_read_finds", why);
        xnv_test_skip("tap_port", "frames_the_port_sends_are_not_counted", why);
        xnv_test_skip("tap_port", "each_queue_counts_its_own_frames", why);
        xnv_test_skip("tap_port", "more_frames_than_the_count_holds_are_all_read", why);
        xnv_test_skip("tap_port", "a_frame_the_tap_dropped_costs_one_read", why);
    } else {
        tcase_add_checked_fixture(c, setup, teardown);
        tcase_add_test(c, count_says_what_a_read_finds);
        tcase_add_test(c, frames_the_port_sends_are_not_counted);
        tcase_add_test(c, each_queue_counts_its_own_frames);
        tcase_add_test(c, more_frames_than_the_count_holds_are_all_read);
        tcase_add_test(c, a_frame_the_tap_dropped_costs_one_read);
    }
    suite_add_tcase(s, c);
    return s;
}
