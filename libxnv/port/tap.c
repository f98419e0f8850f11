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
#include "tap_doorbell.h"

/* What a queue's doorbell says is waiting on the TAP, less what was read
 * since.  Opened on the first backlog() call, by the queue's own thread: a
 * user of the port that never asks costs the kernel no doorbell entries. */
struct tap_count {
    struct tap_doorbell bell;
    bool tried;
    bool unsure;            /* entries were lost, or a counted frame was not there */
    unsigned owed;
};

struct tap {
    struct xnv_port port;
    int fd[XNV_PORT_MAX_QUEUES];
    struct tap_count cnt[XNV_PORT_MAX_QUEUES];
};

static void count_take(struct tap_count *c)
{
    bool lost = false;
    c->owed += tap_doorbell_take(&c->bell, &lost);
    if (lost)
        c->unsure = true;
}

static void count_init(struct tap_count *c) { *c = (struct tap_count){ .bell = { .fd = -1 } }; }

static void count_reset(struct tap_count *c)
{
    tap_doorbell_close(&c->bell);
    count_init(c);
}

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
    int err = n < 0 ? errno : 0;
    struct tap_count *c = &t->cnt[q];
    if (c->bell.fd >= 0) {
        /* a queued frame left its entry before it was queued: take the
         * entries first, so that the frame just read is among them */
        count_take(c);
        if (n >= 0 && c->owed)
            c->owed--;
        else if (err == EAGAIN) {
            /* a counted frame missing (dropped by the TAP, or still on its
             * way in from another CPU): read once more before trusting
             * the count again */
            c->unsure = c->owed > 0;
            c->owed = 0;
        }
    }
    if (n < 0)
        return -err;
    if ((size_t)n < sizeof *vh)
        return -EIO;
    return (int)(n - (ssize_t)sizeof *vh);
}

static int tap_fd(struct xnv_port *p, unsigned q) { return ((struct tap *)p)->fd[q]; }

static int tap_backlog(struct xnv_port *p, unsigned q)
{
    struct tap *t = (struct tap *)p;
    struct tap_count *c = &t->cnt[q];
    if (!c->tried) {
        c->tried = true;
        /* the queue's interface by its name now (a hotplug script may have
         * renamed it), and again once the doorbell is bound: a rename in
         * between could have given another interface's index, whose
         * frames would count here */
        struct ifreq ifr;
        char now[IF_NAMESIZE];
        memset(&ifr, 0, sizeof ifr);
        unsigned ifindex = ioctl(t->fd[q], TUNGETIFF, &ifr) == 0 ? if_nametoindex(ifr.ifr_name) : 0;
        if (!ifindex || tap_doorbell_open(&c->bell, (int)ifindex, q) < 0)
            return -1;
        if (ioctl(t->fd[q], TUNGETIFF, &ifr) < 0 || !if_indextoname(ifindex, now) ||
            strcmp(now, ifr.ifr_name) != 0) {
            tap_doorbell_close(&c->bell);
            return -1;
        }
        c->unsure = true;   /* frames queued before the doorbell left no entry */
    }
    if (c->bell.fd < 0)
        return -1;
    count_take(c);
    return c->unsure ? -1 : (int)(c->owed > 0x7fffffffu ? 0x7fffffffu : c->owed);
}

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
    for (unsigned q = n; q < p->nqueues; q++) {
        close(t->fd[q]);
        count_reset(&t->cnt[q]);
    }
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
    for (unsigned q = 0; q < XNV_PORT_MAX_QUEUES; q++)
        count_reset(&t->cnt[q]);
    free(t);
}

static const struct xnv_port_ops tap_ops = {
    .send = tap_send, .recv = tap_recv, .fd = tap_fd, .set_queues = tap_set_queues,
    .set_offload = tap_set_offload, .set_carrier = tap_set_carrier,
    .set_persist = tap_set_persist, .close = tap_close, .sync_name = tap_sync_name,
    .backlog = tap_backlog,
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
    for (unsigned q = 0; q < XNV_PORT_MAX_QUEUES; q++)
        count_init(&t->cnt[q]);
    t->fd[0] = open_queue(name, err, errlen);
    if (t->fd[0] < 0) {
        free(t);
        return NULL;
    }
    t->port.nqueues = 1;
    return &t->port;
}
