/* xnv-netfront: the TAP interface's MAC and MTU (the vif's), and its largest
 * segment kept below what one netif request can describe (64 KiB - 1). */
#include <errno.h>
#include <net/if_arp.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent.h"

/* Headroom for the headers of a segment, below XEN_NETIF_MAX_TX_SIZE. */
#define AGENT_GSO_MAX_SIZE (65535u - 320u)

static int set_gso_max_size(const char *ifname, uint32_t size)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return -errno;
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return -errno;
    struct {
        struct nlmsghdr nh;
        struct ifinfomsg ifi;
        char attrs[32];
    } req;
    memset(&req, 0, sizeof req);
    req.nh.nlmsg_len = NLMSG_LENGTH(sizeof req.ifi);
    req.nh.nlmsg_type = RTM_NEWLINK;
    req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.nh.nlmsg_seq = 1;
    req.ifi.ifi_family = AF_UNSPEC;
    req.ifi.ifi_index = (int)idx;
    struct rtattr *rta = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nh.nlmsg_len));
    rta->rta_type = IFLA_GSO_MAX_SIZE;
    rta->rta_len = RTA_LENGTH(sizeof size);
    memcpy(RTA_DATA(rta), &size, sizeof size);
    req.nh.nlmsg_len = NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
    int rc = 0;
    if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
        rc = -errno;
    } else {
        char buf[512];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        if (n < 0)
            rc = -errno;
        else if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && h->nlmsg_type == NLMSG_ERROR)
            rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    }
    close(fd);
    return rc;
}

int agent_link_setup(const char *ifname, const uint8_t mac[6], unsigned mtu, char *err, size_t errlen)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -errno;
    }
    struct ifreq ifr;
    int rc = 0;
    static const uint8_t none[6];
    if (memcmp(mac, none, 6) != 0) {
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
        ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
        memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
        if (ioctl(fd, SIOCSIFHWADDR, &ifr) < 0) {
            rc = -errno;
            snprintf(err, errlen, "cannot set the MAC address of %s: %s", ifname, strerror(errno));
        }
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_mtu = (int)mtu;
    if (rc == 0 && ioctl(fd, SIOCSIFMTU, &ifr) < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot set the MTU of %s to %u: %s", ifname, mtu, strerror(errno));
    }
    close(fd);
    int g = set_gso_max_size(ifname, AGENT_GSO_MAX_SIZE);
    if (rc == 0 && g < 0) {
        rc = g;
        snprintf(err, errlen, "cannot limit the segment size of %s to %u bytes (%s): larger "
                 "segments from the guest's stack will be dropped", ifname, AGENT_GSO_MAX_SIZE,
                 strerror(-g));
    }
    return rc;
}
