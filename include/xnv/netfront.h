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
#include "xnv/features.h"
#include "xnv/hv.h"
#include "xnv/nf_frame.h"   /* struct xnv_nf_frame, xnv_nf_rx_sink, XNV_NF_MAX_FRAME */
#include "xnv/offload.h"

struct xnv_netfront;

#define XNV_NF_MAX_QUEUES   16u
/* Shared pages one queue needs at least: two rings, then buffers for one
 * frame of XEN_NETIF_NR_SLOTS_MIN (18) slots in each direction. */
#define XNV_NF_MIN_QUEUE_PAGES (2u + 18u + 18u)

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
 * queues (and the bridge, xnv/nf_bridge.h) first. */
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
/* A message through the netfront's log (options.log, else stderr), prefixed
 * with its device directory as its own are: for code built on the netfront,
 * such as the guest agent's bridge (xnv/nf_bridge.h). */
void xnv_nf_log(struct xnv_netfront *nf, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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

#endif
