/* A Linux TAP device as a port: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and
 * IFF_MULTI_QUEUE so that every guest queue gets its own fd. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "xnv/features.h"
#include "xnv/port.h"

struct tap {
    struct xnv_port port;
    int fd[XNV_PORT_MAX_QUEUES];
};

static int open_queue(const char *name, char *err, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s (is the tun module loaded?)", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    int hdr = sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
        snprintf(err, errlen, "cannot create TAP %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int tap_send(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                    const struct iovec *iov, unsigned iovcnt)
{
    struct tap *t = (struct tap *)p;
    struct iovec v[1 + XNV_PORT_MAX_IOV];
    if (iovcnt > XNV_PORT_MAX_IOV)
        return -EINVAL;
    v[0].iov_base = (void *)vh;
    v[0].iov_len = sizeof *vh;
    memcpy(v + 1, iov, iovcnt * sizeof *iov);
    ssize_t n = writev(t->fd[q], v, (int)iovcnt + 1);
    if (n < 0)
        return errno == EAGAIN || errno == ENOBUFS ? -EAGAIN : -errno;
    return 0;
}

static int tap_recv(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                    uint8_t *buf, uint32_t cap)
{
    struct tap *t = (struct tap *)p;
    struct iovec v[2] = { { vh, sizeof *vh }, { buf, cap } };
    ssize_t n = readv(t->fd[q], v, 2);
    if (n < 0)
        return errno == EAGAIN ? -EAGAIN : -errno;
    if ((size_t)n < sizeof *vh)
        return -EIO;
    return (int)(n - (ssize_t)sizeof *vh);
}

static int tap_fd(struct xnv_port *p, unsigned q) { return ((struct tap *)p)->fd[q]; }

static int tap_sync_name(struct xnv_port *p)
{
    struct tap *t = (struct tap *)p;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(t->fd[0], TUNGETIFF, &ifr) < 0)
        return -errno;
    snprintf(p->name, sizeof p->name, "%s", ifr.ifr_name);
    return 0;
}

static int tap_set_queues(struct xnv_port *p, unsigned n)
{
    struct tap *t = (struct tap *)p;
    char err[128];
    if (n < 1 || n > XNV_PORT_MAX_QUEUES)
        return -EINVAL;
    tap_sync_name(p);          /* the queues join it under its current name */
    for (unsigned q = p->nqueues; q < n; q++) {
        t->fd[q] = open_queue(p->name, err, sizeof err);
        if (t->fd[q] < 0) {
            for (unsigned k = p->nqueues; k < q; k++)
                close(t->fd[k]);
            return -EIO;
        }
    }
    for (unsigned q = n; q < p->nqueues; q++)
        close(t->fd[q]);
    p->nqueues = n;
    return 0;
}

static int tap_set_offload(struct xnv_port *p, uint32_t f)
{
    struct tap *t = (struct tap *)p;
    unsigned off = 0;
    /* Checksum offload towards the guest needs both IPv4 and IPv6 support:
     * the kernel offers a single switch for both. */
    if (!(f & XNV_F_NO_CSUM) && (f & XNV_F_IPV6_CSUM))
        off |= TUN_F_CSUM;
    if ((off & TUN_F_CSUM) && (f & XNV_F_GSO_TCPV4))
        off |= TUN_F_TSO4;
    if ((off & TUN_F_CSUM) && (f & XNV_F_GSO_TCPV6))
        off |= TUN_F_TSO6;
    if ((off & (TUN_F_TSO4 | TUN_F_TSO6)))
        off |= TUN_F_TSO_ECN;
    for (unsigned q = 0; q < p->nqueues; q++)
        if (ioctl(t->fd[q], TUNSETOFFLOAD, off) < 0)
            return -errno;
    return 0;
}

static int tap_set_carrier(struct xnv_port *p, bool up)
{
    struct tap *t = (struct tap *)p;
    int on = up;
    return ioctl(t->fd[0], TUNSETCARRIER, &on) < 0 ? -errno : 0;
}

static int tap_set_persist(struct xnv_port *p, bool on)
{
    struct tap *t = (struct tap *)p;
    return ioctl(t->fd[0], TUNSETPERSIST, on ? 1 : 0) < 0 ? -errno : 0;
}

static void tap_close(struct xnv_port *p)
{
    struct tap *t = (struct tap *)p;
    for (unsigned q = 0; q < p->nqueues; q++)
        close(t->fd[q]);
    free(t);
}

static const struct xnv_port_ops tap_ops = {
    .send = tap_send, .recv = tap_recv, .fd = tap_fd, .set_queues = tap_set_queues,
    .set_offload = tap_set_offload, .set_carrier = tap_set_carrier,
    .set_persist = tap_set_persist, .close = tap_close, .sync_name = tap_sync_name,
};

bool xnv_tap_exists(const char *name) { return if_nametoindex(name) != 0; }

struct xnv_port *xnv_tap_open(const char *name, char *err, size_t errlen)
{
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "interface name \"%s\" longer than %d characters", name, IFNAMSIZ - 1);
        return NULL;
    }
    struct tap *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->port.ops = &tap_ops;
    snprintf(t->port.name, sizeof t->port.name, "%s", name);
    t->fd[0] = open_queue(name, err, errlen);
    if (t->fd[0] < 0) {
        free(t);
        return NULL;
    }
    t->port.nqueues = 1;
    return &t->port;
}
