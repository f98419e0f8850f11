/* The host side of a virtual interface: where frames leave to and come from.
 * Either a TAP device (multi-queue, with a virtio-net header so that GSO and
 * checksum offload cross it) or an in-memory port for tests and benchmarks.
 * Each queue has its own pollable fd; queue q is used by one thread. */
#ifndef XNV_PORT_H
#define XNV_PORT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#define XNV_PORT_MAX_QUEUES 16u

struct xnv_port;

struct xnv_port_ops {
    /* Hand one frame (vh describes its offloads) to the host side.
     * 0, -EAGAIN when the host side cannot take it now, or -errno. */
    int (*send)(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                const struct iovec *iov, unsigned iovcnt);
    /* Take one frame from the host side into buf: its length, -EAGAIN when
     * none is waiting, or -errno. */
    int (*recv)(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                uint8_t *buf, uint32_t cap);
    int (*fd)(struct xnv_port *p, unsigned q);          /* POLLIN: a frame waits */
    int (*set_queues)(struct xnv_port *p, unsigned n);  /* 1..XNV_PORT_MAX_QUEUES */
    /* The offloads the guest side can take (XNV_F_* of features.h): frames
     * handed over by recv() will only use these. */
    int (*set_offload)(struct xnv_port *p, uint32_t xnv_flags);
    int (*set_carrier)(struct xnv_port *p, bool up);
    /* Keep the interface (and its bridge membership) after close, so that a
     * restarted service finds it again; false: it goes away on close. */
    int (*set_persist)(struct xnv_port *p, bool on);
    void (*close)(struct xnv_port *p);
    /* Optional: read the interface's name into name[] again (a hotplug
     * script may have renamed it; the open port keeps working). */
    int (*sync_name)(struct xnv_port *p);
    /* Optional: how many frames recv() on queue q would find now, told
     * without a system call; -1 when the port cannot tell (then only a
     * recv() finds out).  Only queue q's thread asks. */
    int (*backlog)(struct xnv_port *p, unsigned q);
};

struct xnv_port {
    const struct xnv_port_ops *ops;
    char name[16];          /* interface name (IFNAMSIZ) */
    unsigned nqueues;
};

/* The most pieces a frame may come in to send() (the virtio-net header
 * aside): a receiver hands a frame over straight from its buffers, its
 * head copied apart plus up to 18 ring slots (XEN_NETIF_NR_SLOTS_MIN). */
#define XNV_PORT_MAX_IOV 32u

static inline int xnv_port_send(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                                const struct iovec *iov, unsigned iovcnt)
{
    return p->ops->send(p, q, vh, iov, iovcnt);
}
static inline int xnv_port_recv(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                                uint8_t *buf, uint32_t cap)
{
    return p->ops->recv(p, q, vh, buf, cap);
}
static inline int xnv_port_fd(struct xnv_port *p, unsigned q) { return p->ops->fd(p, q); }
static inline int xnv_port_set_queues(struct xnv_port *p, unsigned n) { return p->ops->set_queues(p, n); }
static inline int xnv_port_set_offload(struct xnv_port *p, uint32_t f) { return p->ops->set_offload(p, f); }
static inline int xnv_port_set_carrier(struct xnv_port *p, bool up) { return p->ops->set_carrier(p, up); }
static inline int xnv_port_set_persist(struct xnv_port *p, bool on) { return p->ops->set_persist(p, on); }
static inline void xnv_port_close(struct xnv_port *p) { if (p) p->ops->close(p); }
static inline int xnv_port_sync_name(struct xnv_port *p) { return p->ops->sync_name ? p->ops->sync_name(p) : 0; }
static inline int xnv_port_backlog(struct xnv_port *p, unsigned q) { return p->ops->backlog ? p->ops->backlog(p, q) : -1; }
/* Whether a read of queue q may find a frame (a caller spares the read
 * that would find nothing): yes when the last poll saw the port readable
 * (*polled, cleared here: a count that missed a frame must not leave a
 * thread polling a readable port in a loop), else when the port's count
 * is not 0 or cannot tell. */
static inline bool xnv_port_may_read(struct xnv_port *p, unsigned q, bool *polled)
{
    if (*polled) {
        *polled = false;
        return true;
    }
    return xnv_port_backlog(p, q) != 0;
}

/* A TAP device named `name` (created if absent, removed when closed unless
 * made persistent; an existing persistent one is attached again), one queue
 * to start with.  NULL with a reason in err on failure. */
struct xnv_port *xnv_tap_open(const char *name, char *err, size_t errlen);
/* Whether an interface of that name exists on the host (of any kind). */
bool xnv_tap_exists(const char *name);

/* ---- in-memory port ------------------------------------------------------ */

/* Frames the engine sends are kept (up to `depth` per queue) for the test to
 * take, or counted and discarded in sink mode; frames the test injects are
 * what recv() returns. */
struct xnv_port *xnv_memport_open(const char *name, unsigned depth);
/* Test side: a frame for the guest (0, or -EAGAIN when the queue is full). */
int xnv_memport_inject(struct xnv_port *p, unsigned q, const struct virtio_net_hdr *vh,
                       const uint8_t *frame, uint32_t len);
/* Test side: the next frame the engine sent (length, or -EAGAIN). */
int xnv_memport_take(struct xnv_port *p, unsigned q, struct virtio_net_hdr *vh,
                     uint8_t *buf, uint32_t cap);
/* Counted mode: backlog() tells how many frames recv() would find (as a
 * TAP with its doorbell does); otherwise the port cannot tell (-1).  A
 * blind count always says 0 (a count that misses every frame). */
void xnv_memport_set_counted(struct xnv_port *p, bool counted, bool blind);
/* Sink mode: sent frames are only counted. */
void xnv_memport_set_sink(struct xnv_port *p, bool sink);
/* Source mode: recv() on every queue returns copies of this frame until
 * `count` frames were handed out in all (benchmarks). */
void xnv_memport_set_source(struct xnv_port *p, const struct virtio_net_hdr *vh,
                            const uint8_t *frame, uint32_t len, uint64_t count);
/* After poll() returned `ready` with a port's fd watched (or not): true when
 * it saw the port empty, so that a read now would find nothing; false when
 * the fd was not watched, poll failed, or it was readable (or in error). */
static inline bool xnv_port_seen_empty(bool watched, int ready, short revents)
{
    return watched && ready >= 0 && !(revents & (POLLIN | POLLERR | POLLHUP));
}

/* empty_reads: recv() calls that found no frame */
struct xnv_memport_stats { uint64_t sent, sent_bytes, received, empty_reads; uint32_t offload; bool carrier; };
void xnv_memport_stats(struct xnv_port *p, struct xnv_memport_stats *out);

#endif
