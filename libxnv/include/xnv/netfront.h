/* The userspace netfront: the guest side of the netif protocol, speaking to
 * any backend (the stock Linux netback or xnv-netbackd).
 *
 * One struct xnv_netfront drives one device/vif/<devid> of the calling
 * domain: it runs the xenbus handshake, shares its rings and a pool of
 * buffer pages once per connection (gntalloc), and moves frames by copying
 * them into and out of that pool.  When the backend goes away and comes back
 * (restart, xl save/restore) it tears the connection down and connects again
 * by itself; callers only see the state change.
 *
 * Threads: the control plane (xnv_nf_ctrl_process) runs in one thread; each
 * queue may be used by its own thread (xnv_nf_send / xnv_nf_recv on queue q).
 * The netfront reads every xenstore watch event of the hv handle it is given:
 * give it a handle of its own. */
#ifndef XNV_NETFRONT_H
#define XNV_NETFRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>
#include "xnv/features.h"
#include "xnv/hv.h"
#include "xnv/offload.h"

struct xnv_port;
struct xnv_netfront;

#define XNV_NF_MAX_QUEUES   16u
/* Largest frame either way (the 16-bit size of a netif TX request). */
#define XNV_NF_MAX_FRAME    65535u
/* Shared pages one queue needs at least: two rings, then buffers for one
 * frame of XEN_NETIF_NR_SLOTS_MIN (18) slots in each direction. */
#define XNV_NF_MIN_QUEUE_PAGES (2u + 18u + 18u)
/* Offloads a caller can take on receive (XNV_F_* of features.h). */
#define XNV_NF_OFFLOAD_ALL  (XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM)

enum xnv_nf_state {
    XNV_NF_CONNECTING = 1,   /* handshake under way, or waiting for the backend to return */
    XNV_NF_CONNECTED,        /* rings up and the backend Connected */
    XNV_NF_BROKEN,           /* the backend broke the protocol: disconnected until
                                xnv_nf_reconnect() or a reset by the toolstack */
    XNV_NF_REMOVED,          /* device/vif/<devid> is gone (it may come back) */
};
const char *xnv_nf_state_name(enum xnv_nf_state s);

enum xnv_nf_trust {
    XNV_NF_TRUST_XENSTORE = 0,  /* the frontend's `trusted` key decides (absent: trusted) */
    XNV_NF_TRUST_NEVER,         /* always treat the backend as untrusted */
    XNV_NF_TRUST_ALWAYS,
};

struct xnv_nf_options {
    unsigned queues;            /* queues wanted, 1..XNV_NF_MAX_QUEUES (the backend
                                   may allow fewer: see xnv_nf_info) */
    uint32_t offload;           /* XNV_F_SG / GSO_TCPV4 / GSO_TCPV6 / IPV6_CSUM the
                                   caller takes on receive, plus XNV_F_NO_CSUM when it
                                   cannot take partial IPv4 checksums */
    unsigned grant_limit;       /* pages this frontend may share; 0: gntalloc's limit
                                   (its module parameter on Xen, else 1024) */
    unsigned connect_timeout_ms;/* xnv_nf_open() waits this long for Connected;
                                   0: it returns at once, still connecting */
    enum xnv_nf_trust trust;
    /* Messages (syslog LOG_* levels); NULL: stderr. */
    void (*log)(void *arg, int level, const char *msg);
    void *log_arg;
};
/* One queue, every offload, the gntalloc limit, 10 s, trust from xenstore. */
void xnv_nf_options_default(struct xnv_nf_options *o);

/* Open device/vif/<devid> of hv's domain and start the handshake.  NULL with
 * a one-line reason in err when the device does not exist, the options are
 * wrong, or the connection did not come up within connect_timeout_ms. */
struct xnv_netfront *xnv_nf_open(struct xnv_hv *hv, unsigned devid,
                                 const struct xnv_nf_options *opt, char *err, size_t errlen);
/* Leave cleanly: state Closing, wait (bounded) for the backend to let go,
 * revoke every grant, unbind, state Closed.  Stop every thread using the
 * queues (and the bridge) first. */
void xnv_nf_close(struct xnv_netfront *nf);

/* ---- control plane --------------------------------------------------------- */

/* Readable when xenstore changed or the data path found the backend broken. */
int xnv_nf_ctrl_fd(const struct xnv_netfront *nf);
/* Handle what is pending (never blocks); returns the state afterwards. */
enum xnv_nf_state xnv_nf_ctrl_process(struct xnv_netfront *nf);
/* Run the control plane until the state is `want` (or timeout_ms passed):
 * 0, or -ETIMEDOUT. */
int xnv_nf_wait_state(struct xnv_netfront *nf, enum xnv_nf_state want, unsigned timeout_ms);
/* Disconnect and run the handshake again (also the way out of BROKEN). */
int xnv_nf_reconnect(struct xnv_netfront *nf);

enum xnv_nf_state xnv_nf_state(const struct xnv_netfront *nf);
/* Connected and the backend's `carrier` says up (absent means up). */
bool xnv_nf_carrier(const struct xnv_netfront *nf);
/* The last error of the control plane ("" if none), e.g. why connecting failed. */
const char *xnv_nf_last_error(const struct xnv_netfront *nf);

struct xnv_nf_info {
    unsigned devid;
    unsigned queues;            /* queues the caller uses (as asked) */
    unsigned active_queues;     /* queues of the current connection */
    xnv_domid_t backend_id;
    char backend[128];          /* backend directory */
    uint8_t mac[6];             /* the vif's MAC (00:00:00:00:00:00 if unreadable) */
    unsigned mtu;               /* the frontend's `mtu` key, 1500 when absent */
    uint32_t tx_offload;        /* XNV_F_* the backend takes from us */
    uint32_t rx_offload;        /* XNV_F_* we asked the backend for */
    bool split_evtchn;
    bool trusted;
    unsigned tx_bufs, rx_bufs;  /* buffer pages per queue */
    unsigned shared_pages;      /* pages shared now, rings included */
    unsigned grant_limit;
    uint64_t connections;       /* handshakes completed */
};
void xnv_nf_info(const struct xnv_netfront *nf, struct xnv_nf_info *out);

/* ---- data path --------------------------------------------------------------- */

/* Which metadata of a frame xnv_nf_send() reads. */
enum xnv_nf_meta { XNV_NF_META_OFFLOAD = 0, XNV_NF_META_VNET = 1 };

struct xnv_nf_frame {
    uint8_t *data;              /* send: the frame; recv: where to put it */
    uint32_t len;               /* send: its length; recv: set to the frame length */
    uint32_t cap;               /* recv: room at data (XNV_NF_MAX_FRAME takes any) */
    uint8_t meta;               /* send: enum xnv_nf_meta */
    /* Offloads.  A partial checksum holds the pseudo-header sum in its field,
     * as with VIRTIO_NET_HDR_F_NEEDS_CSUM.  recv fills both forms. */
    struct xnv_offload off;
    struct virtio_net_hdr vh;
};

/* Queue q's own fd: readable when the backend signalled it (received frames,
 * transmit room), when its throttle timer expires, or on a state change.
 * Then call xnv_nf_recv() (and retry a held-back xnv_nf_send()). */
int xnv_nf_queue_fd(const struct xnv_netfront *nf, unsigned q);

/* Copy up to n frames into queue q's ring.  Returns how many were consumed
 * (sent, or dropped and counted in tx_errors when malformed or using an
 * offload the backend does not take); fewer than n when the ring or the pool
 * is full: wait for the queue fd.  -ENOTCONN while not connected, -EIO when
 * the backend broke the protocol, -EINVAL for a bad q. */
int xnv_nf_send(struct xnv_netfront *nf, unsigned q, const struct xnv_nf_frame *f, unsigned n);
/* Receive up to n frames from queue q into the caller's buffers.  Returns
 * how many were filled (0: none waiting); when it returns n, call it again.
 * Also services the queue's events and reclaims transmit buffers.  Errors as
 * for xnv_nf_send(). */
int xnv_nf_recv(struct xnv_netfront *nf, unsigned q, struct xnv_nf_frame *f, unsigned n);
/* Where xnv_nf_recv_to() and xnv_idc_recv_to() put each frame: its
 * virtio-net header and its bytes, iov[0..n) pointing into the receive
 * buffers themselves (valid only during the call; the sender may still be
 * writing into them: copy what you decide on). */
typedef void (*xnv_nf_rx_sink)(void *ctx, const struct virtio_net_hdr *vh,
                              const struct iovec *iov, unsigned n);
/* As xnv_nf_recv(), without the copy into caller buffers: up to n frames
 * handed to sink (e.g. a TAP's writev), each buffer reposted after it. */
int xnv_nf_recv_to(struct xnv_netfront *nf, unsigned q, xnv_nf_rx_sink sink, void *ctx,
                   unsigned n);

struct xnv_nf_stats {
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_errors;         /* dropped before the ring, or answered with an error */
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_errors;         /* malformed responses from the backend, dropped */
    uint64_t rx_dropped;        /* frames larger than the caller's buffer */
    uint64_t notifies;          /* notifications sent to the backend */
    uint64_t events;            /* notifications received */
    uint64_t throttled;         /* times an event storm was throttled */
    uint64_t lost_pages;        /* pages still held by a backend at revoke time */
};
#define XNV_NF_ALL_QUEUES (~0u)
/* Counters of queue q, or of all queues with XNV_NF_ALL_QUEUES. */
void xnv_nf_stats(const struct xnv_netfront *nf, unsigned q, struct xnv_nf_stats *out);

/* ---- bridge to a host-side port (the guest agent's TAP) ---------------------- */

/* One thread per queue moving frames port <-> rings with virtio-net
 * headers.  The port gets one queue per netfront queue. */
struct xnv_nf_bridge;
struct xnv_nf_bridge *xnv_nf_bridge_start(struct xnv_netfront *nf, struct xnv_port *port,
                                          char *err, size_t errlen);
/* After xnv_nf_ctrl_process(): carry carrier and the backend's offloads over
 * to the port. */
void xnv_nf_bridge_sync(struct xnv_nf_bridge *b);
struct xnv_nf_bridge_stats {
    uint64_t to_port, to_port_dropped;     /* frames from the rings */
    uint64_t from_port, from_port_dropped; /* frames from the port */
};
void xnv_nf_bridge_stats(const struct xnv_nf_bridge *b, struct xnv_nf_bridge_stats *out);
/* Direct channels (xnv/idc.h): frames for a peer with a live channel take
 * it; what the channels receive goes to the port (queue 0), from a thread
 * of the bridge that also runs the channels' control plane.  Once, after
 * start; the set must outlive the bridge.  0 or -errno (err). */
struct xnv_idc;
int xnv_nf_bridge_set_channels(struct xnv_nf_bridge *b, struct xnv_idc *idc, char *err, size_t errlen);
/* Frames each queue holds for peers whose ring is full while it goes on
 * with other destinations (default and most XNV_NF_BRIDGE_MAX_HOLD); with
 * 0 the port is not read while a frame waits for a channel. */
#define XNV_NF_BRIDGE_MAX_HOLD 48u
void xnv_nf_bridge_set_hold(struct xnv_nf_bridge *b, unsigned frames);
void xnv_nf_bridge_stop(struct xnv_nf_bridge *b);

#endif
