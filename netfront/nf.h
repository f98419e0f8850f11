/* Private to the netfront engine (netfront/nf_*.c).
 *
 * Layers, each in its own file:
 *   nf_tx.c             the transmit ring: pure functions over ring memory
 *                       and the queue's private bookkeeping (no hypervisor
 *                       calls);
 *   nf_queue.c          one queue's resources per connection, its event
 *                       channel and the event-storm throttle;
 *   nf_data.c           the public send/recv on top of those;
 *   nf_xs.c             the state keys (xenstore itself through xnv/xs.h);
 *   nf_connect.c        the handshake and the teardown;
 *   nf_ctrl.c           the xenbus state machine (watch -> evaluate);
 *   nf_api.c            open/close, info, statistics, logging.
 * The receive ring and the page sharing, which the direct channels run too,
 * are in libxnv/proto (fe_rx.c, fe_deliver.c, fe_offload.c, fe_pool.c;
 * xnv/fe_rx.h).  The bridge between the queues and a TAP is the guest
 * agent's (agent/nf_bridge.c). */
#ifndef XNV_NF_H
#define XNV_NF_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "xnv/clock.h"
#include "xnv/features.h"
#include "xnv/fe_rx.h"
#include "xnv/netfront.h"
#include "xnv/netif.h"
#include "xnv/counter.h"
#include "xnv/xs.h"
#include <xen/io/xenbus.h>

#define NF_TX_RING      XNV_NETIF_TX_RING_SIZE      /* 256 */
#define NF_MIN_BUFS     XEN_NETIF_NR_SLOTS_MIN      /* buffers per direction, at least */
#define NF_PATH_MAX     256
#define NF_CLOSE_WAIT_MS 3000u                      /* for the backend to let go */
/* Connections that fail before Connected: after this many in a row, wait
 * 1, 2, 4 ... 30 s before the next attempt (a backend failing every time
 * costs bounded work). */
#define NF_RETRY_FREE   3u
#define NF_RETRY_MAX_MS 30000u

/* Event storm throttle: after this many events in a row that brought no
 * work, the queue's ports stay masked for 1, 2, 4 ... 64 ms. */
#define NF_STORM_FREE       32u
#define NF_STORM_MAX_SHIFT  6u

/* ---- nf_tx.c: the transmit ring ---------------------------------------------- */

enum { NF_TX_IDLE = 0, NF_TX_DATA, NF_TX_HEAD };

/* Buffer i (its page and grant) travels as request id i. */
struct nf_tx {
    netif_tx_front_ring_t ring;
    unsigned nbufs;
    struct nf_page buf[NF_TX_RING];
    uint16_t free_id[NF_TX_RING];
    unsigned nfree;
    uint8_t busy[NF_TX_RING];       /* NF_TX_* per id */
    uint16_t dirty[NF_TX_RING];     /* bytes of an older frame left in each page */
    bool scrub;                     /* clear those bytes (untrusted backend) */
    unsigned max_pages;             /* pages per frame: 1 without feature-sg */
    unsigned extras_out;            /* extra-info slots awaiting their NULL response */
};

/* How one frame goes on the ring. */
struct nf_tx_meta {
    uint16_t flags;                 /* NETTXF_csum_blank / NETTXF_data_validated */
    uint8_t gso_type;
    uint16_t gso_size;
    int32_t patch_pos;              /* >= 0: write patch[0..1] there (a completed checksum) */
    uint8_t patch[2];
};

struct nf_tx_done {
    unsigned frames;                /* frames whose first slot was answered */
    unsigned errors;                /* of which answered with an error */
    const char *why;                /* set with -EPROTO */
};

/* buf[0..nbufs) must be filled in already; the ring page is initialised. */
void nf_tx_init(struct nf_tx *t, void *ring_page, unsigned nbufs, bool scrub, bool sg);
/* Copy one frame into free buffers and queue its requests (not pushed).
 * 0; -ENOSPC (no room now); -EINVAL (cannot go: too short, too long, too
 * many pages for the backend). */
int nf_tx_put(struct nf_tx *t, const uint8_t *frame, uint32_t len, const struct nf_tx_meta *m);
/* Make queued requests visible; true when the backend wants a notification. */
bool nf_tx_push(struct nf_tx *t);
/* Consume the responses: frees their buffers.  Returns the responses
 * consumed, or -EPROTO (d->why) when the backend broke the protocol.  Asks
 * for a notification on the next response. */
int nf_tx_reclaim(struct nf_tx *t, struct nf_tx_done *d);
/* Slots in flight (requests not yet answered). */
static inline unsigned nf_tx_inflight(const struct nf_tx *t)
{
    return (unsigned)(t->ring.req_prod_pvt - t->ring.rsp_cons);
}

/* ---- nf_queue.c --------------------------------------------------------------- */

struct nf_queue {
    pthread_mutex_t lock;           /* send/recv of this queue vs. the control plane */
    struct xnv_netfront *nf;
    unsigned id;
    /* for the lifetime of the netfront */
    struct xnv_evtchn *ch;
    int epfd;                       /* the queue fd: ch + timer + kick */
    int timerfd;                    /* end of a throttle period */
    int kickfd;                     /* state changes */
    /* per connection */
    bool up;
    atomic_bool broken;
    const char *broken_why;
    int port_tx, port_rx;           /* equal without split event channels */
    struct nf_page ring_pg[2];      /* TX ring, RX ring */
    struct nf_tx tx;
    struct nf_rx rx;
    /* event handling */
    uint64_t work;                  /* responses consumed, ever */
    uint64_t work_seen;             /* ... at the last event */
    unsigned storm;
    bool deferred;                  /* ports left masked until the timer fires */
    int masked[4];
    unsigned nmasked;
    uint64_t last_drop_log_ns;
    struct xnv_nf_stats st;
    uint8_t rx_scratch[XNV_NF_MAX_FRAME];   /* nf_rx_deliver's rare whole copy */
};

int nf_queue_open(struct nf_queue *q, struct xnv_netfront *nf, unsigned id);
void nf_queue_close(struct nf_queue *q);
/* Share and initialise the rings and buffers, bind the event channel(s).
 * The queue stays down (not usable) until nf_queue_start(). */
int nf_queue_setup(struct nf_queue *q, xnv_domid_t backend, bool split, unsigned ntx,
                   unsigned nrx, bool scrub, bool sg, char *err, size_t errlen);
/* Post the receive buffers and let send/recv in. */
void nf_queue_start(struct nf_queue *q);
/* Take the queue down: unbind, revoke everything; returns the pages lost. */
unsigned nf_queue_teardown(struct nf_queue *q);
void nf_queue_kick(struct nf_queue *q);
/* Lock held.  Drain the event channel, apply the storm throttle. */
void nf_queue_service(struct nf_queue *q);
/* Lock held.  Notify the backend on port. */
void nf_queue_notify(struct nf_queue *q, int port);
/* Lock held.  The backend broke the protocol: stop using the queue. */
void nf_queue_break(struct nf_queue *q, const char *why);
/* Lock held.  Log a dropped frame, at most once a second per queue. */
void nf_queue_log_drop(struct nf_queue *q, const char *dir, const char *why);

/* ---- the netfront ------------------------------------------------------------- */

enum nf_phase {
    NF_IDLE,            /* nothing shared; following the backend towards InitWait */
    NF_WAIT_BACK,       /* rings shared, our state Connected, backend not yet */
    NF_CONNECTED,
    NF_CLOSING,         /* our state Closing, waiting (bounded) for the backend */
    NF_BROKEN,          /* torn down after a protocol violation */
    NF_REMOVED,         /* our device directory is gone */
};

struct xnv_netfront {
    struct xnv_hv *hv;
    struct xnv_nf_options opt;
    unsigned devid;
    char dir[48];                   /* device/vif/<devid>, relative to our home */
    char tok_front[48], tok_back[48];
    char be_path[NF_PATH_MAX];      /* "" while unknown */
    bool be_watched;
    xnv_domid_t be_dom;
    int ctrl_epfd;                  /* watch fd + wake + timer */
    int wakefd;                     /* the data path found a queue broken */
    int ctrl_timerfd;               /* closing timeout, retry back-off */
    bool close_timed_out;           /* the timer fired */

    enum nf_phase phase;
    bool closing_broken;            /* NF_CLOSING ends in NF_BROKEN */
    bool shutdown;                  /* closing for good: no new connection */
    int my_state;                   /* our state key as we last wrote it (or XenbusStateUnknown) */
    unsigned fail_streak;           /* connections that failed before Connected */
    uint64_t retry_at_ns;
    int be_state;                   /* as last read */

    unsigned nq_want;               /* queues the caller uses */
    atomic_uint nq;                 /* queues of this connection */
    uint32_t tx_flags, rx_flags;
    bool split, trusted;
    unsigned ntx, nrx;
    uint8_t mac[6];
    unsigned mtu;
    unsigned grant_limit;
    unsigned lost_pages;
    uint64_t connections;

    atomic_int pub_state;
    atomic_bool carrier;
    char err[256];
    char last_logged[256];

    struct nf_queue q[XNV_NF_MAX_QUEUES];
};

/* nf_api.c (messages: xnv_nf_log of xnv/netfront.h) */
/* Record the control plane's last error (logged when it changes). */
void nf_error(struct xnv_netfront *nf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* nf_xs.c (every other key through xnv/xs.h) */
/* Write our state key, in a transaction that first checks the directory
 * still exists (never recreates a removed device).  0 or -errno. */
int nf_xs_write_state(struct xnv_netfront *nf, int state);
/* The backend's state (XenbusStateUnknown when absent or unreadable). */
int nf_xs_backend_state(struct xnv_netfront *nf);

/* nf_connect.c */
int nf_connect(struct xnv_netfront *nf);
/* Take every queue down; counts lost pages. */
void nf_teardown(struct xnv_netfront *nf);
/* Remove the keys a connection wrote (best effort, only if the directory exists). */
void nf_remove_keys(struct xnv_netfront *nf);

/* nf_ctrl.c */
void nf_evaluate(struct xnv_netfront *nf);
void nf_set_phase(struct xnv_netfront *nf, enum nf_phase p);
int nf_start_closing(struct xnv_netfront *nf, bool broken);

#endif
