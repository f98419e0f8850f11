/* Private to the netback engine: the daemon, its vifs and their queues.
 *
 * One job per file:
 *   daemon.c            the control plane: the vifs under backend/vif, watch
 *                       events, protocol violations reported by the queues;
 *   xenbus.c            one vif's xenbus state machine (probe -> InitWait ->
 *                       Connected -> Closed);
 *   iface.c             the vif's TAP: created as vif<dom>.<dev>, persistent,
 *                       found again after a restart (renamed to vifname too);
 *   connect.c           the frontend's keys -> rings, event channels,
 *                       features; the teardown;
 *   recover.c           rings left half answered by a daemon that was killed;
 *   queue.c             one data-path thread per queue, the event-storm pause;
 *   arena.c             its buffers: ordinary memory, self-granted once busy;
 *   tx.c / rx.c         one batch of guest transmit / guest receive;
 *   rx_order.c          which waiting frames go to the guest first;
 *   switch.c            the switch fast path: its table (vifs by bridge and MAC)
 *                       and its part of a transmit batch (tx_batch.h);
 *   ctrl.c              the control ring (hashing), from queue 0's thread;
 *   credit.c            the `rate` token bucket;
 *   peers.c             the peer lists of the direct channels (interdomain/);
 *   log.c               logging through the configured sink;
 *   control_socket.c    xnvctl's socket: list, statistics (JSON, tables);
 *   daemon_config.c     xnv-netbackd's configuration file. */
#ifndef XNV_NB_H
#define XNV_NB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "xnv/clock.h"
#include "xnv/copy_batch.h"
#include "xnv/ctrl.h"
#include "xnv/features.h"
#include "xnv/log_limit.h"
#include "xnv/mcast.h"
#include "xnv/netback.h"
#include "xnv/netif.h"
#include "xnv/rx.h"
#include "xnv/tx.h"
#include "xnv/counter.h"

#define NB_MAX_QUEUES      XNV_PORT_MAX_QUEUES
#define NB_TX_BATCH        64     /* packets per TX grant-copy call */
#define NB_RX_BATCH        64     /* frames per RX grant-copy call */
#define NB_PORT_SKIPS_MAX  32     /* reads left out in a row on a port's count (nb_queue.port_skips) */
#define NB_FLOW_BUCKETS    256    /* flows told apart among waiting frames (rx_order.c) */
#define NB_ARENA_BYTES     ((1u << 20) + NB_FRAME_MAX)   /* 256 page-aligned frames and one more of the largest */
#define NB_FRAME_MAX       65536u
#define NB_OWN_ARENA_AFTER (8u << 20)   /* bytes a connection's queue carries before its arenas
                                          * become self-granted (arena.c) */
/* Empty wakeups in a row before a storming frontend's queue pauses, and
 * between each doubling of the pause (xnv/storm.h).  A stock netfront
 * notifies for new requests only, so that each of its wakeups but a raced
 * one brings work and resets the count (the kernel's netback delays the end
 * of interrupt of events that bring no work from the first few on). */
#define NB_STORM_EMPTY_WAKEUPS 16u

struct nb_vif;

/* A token bucket for the vif's `rate` (guest transmit). */
struct nb_credit {
    uint64_t bytes_per_period;    /* 0: unlimited */
    uint64_t period_ns;
    uint64_t remaining;
    uint64_t next_refill_ns;
};
/* The time of one pass of a queue's thread, read only when something needs
 * it (a rate limit, frames waiting for buffers): in a PV domain the clock is
 * a system call, and most passes need none. */
struct nb_clock {
    uint64_t ns;                  /* 0: not read yet */
    unsigned reads;               /* how often it was read (tests) */
};
static inline uint64_t nb_clock_now(struct nb_clock *c)
{
    if (!c->ns) {
        c->ns = xnv_now_ns();
        c->reads++;
    }
    return c->ns;
}

void nb_credit_init(struct nb_credit *c, uint64_t bytes, uint64_t usec);
/* May a packet of len bytes go now?  If not, *wait_ns says how long until it may. */
bool nb_credit_take(struct nb_credit *c, uint32_t len, struct nb_clock *now, uint64_t *wait_ns);

struct nb_pending_rx {            /* a frame read from the port, not yet placed */
    uint32_t off, len;            /* in the RX arena */
    struct xnv_rx_meta m;         /* its offloads for the guest, decided once */
    uint8_t queue;                /* the guest queue it is steered to */
    uint8_t bucket;               /* its flow's bucket in q->flow_waiting */
    bool sparse;                  /* goes ahead of the frames of busy flows (rx_order.c) */
    bool gone;                    /* placed: leaves the queue at the end of the batch */
};

struct nb_queue {
    struct nb_vif *vif;
    unsigned id;
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    void *tx_page, *rx_page;
    struct xnv_evtchn *ch;
    int port_tx, port_rx;         /* equal without split event channels */
    bool notify_tx_due, notify_rx_due;   /* this pass's notifications (nb_queue_flush_notify) */
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int wake_fd;                  /* eventfd: wakes the thread to stop, or to place
                                   * frames into another queue's ring; -1: none */

    /* TX */
    struct xnv_copy_batch txb;
    struct xnv_tx_pkt *txp;       /* NB_TX_BATCH descriptors */
    uint8_t *tx_arena;
    struct xnv_self_grants tx_own;   /* pages 0: tx_arena is ordinary memory (arena.c) */
    uint8_t *tx_gather;           /* one packet made contiguous (NB_FRAME_MAX) */
    struct nb_credit credit;
    /* RX */
    struct xnv_copy_batch rxb;
    uint8_t *rx_arena;
    struct xnv_self_grants rx_own;
    bool own_done;                /* both arenas self-granted, or refused */
    uint64_t own_from;            /* bytes carried when this connection's queue started */
    struct nb_pending_rx *pend;   /* frames waiting for guest buffers */
    unsigned npend;
    unsigned nsparse;             /* of them, marked sparse */
    uint16_t flow_waiting[NB_FLOW_BUCKETS];   /* waiting frames per flow bucket */
    /* The last read of the port found nothing, and since then this thread
     * wrote nothing to it (a frame written can queue dom0's answer at once)
     * and no poll saw it readable: fill() skips the read, which would find
     * nothing too (a system call saved per pass).  Frames put there by other
     * threads meanwhile keep the port readable, and the poll before any
     * sleep watches it. */
    bool port_dry;
    bool port_polled;             /* the last poll saw the port readable (xnv_port_may_read) */
    /* Reads skipped in a row on the port's count.  A count can miss a frame
     * without knowing it (one the kernel queued on the TAP by a path that
     * leaves no entry, e.g. XDP); a thread kept busy by the guest's
     * transmits would then not poll, and that frame would wait: after
     * NB_PORT_SKIPS_MAX skips the port is read all the same. */
    unsigned port_skips;
    uint64_t stall_since_ns;      /* 0: not stalled */
    bool carrier_off;
    unsigned empty_wakeups;       /* events that brought no work (storm throttle) */

    /* Threads of this vif's other queues whose frames, steered here by the
     * frontend's hash mapping, wait for buffers on this ring: the slots each
     * one's first frame needs (0: not waiting).  The guest notifies this
     * queue when it posts them, so this queue's thread wakes those. */
    atomic_uint rx_wait_need[NB_MAX_QUEUES];

    struct xnv_queue_stats stats;
    const char *fatal_why;
    /* Guards the RX ring from placing to pushing: the queue's own thread
     * and, on a fast-path bridge, other vifs' threads place frames here. */
    pthread_mutex_t rx_lock;
};

enum nb_vif_phase {
    NB_PROBING,       /* directory incomplete, nothing created yet */
    NB_INITWAIT,      /* TAP exists, features advertised, waiting for the frontend */
    NB_CONNECTED,     /* data path running */
    NB_CLOSED,        /* data path stopped */
};

/* budget.c: a token bucket of looks at one device (control thread only) */
struct nb_budget {
    bool primed;
    uint64_t milli;                 /* looks left, in thousandths */
    uint64_t at_ms;                 /* when milli was last brought up to date */
};
/* One look if the bucket holds one (true); else false and *wait_ms until it
 * will.  per_s 0: no limit. */
bool nb_budget_take(struct nb_budget *b, uint64_t now_ms, unsigned burst, unsigned per_s, uint64_t *wait_ms);

struct nb_vif {
    struct xnv_netback *nb;
    xnv_domid_t domid;
    unsigned devid;
    char be_path[128];            /* /local/domain/<self>/backend/vif/<dom>/<dev> */
    char fe_path[128];            /* frontend directory */
    char fe_state_path[160];
    char hp_path[160];            /* hotplug-status */
    char token[48];
    enum nb_vif_phase phase;
    int be_state;                 /* what we last wrote */
    struct xnv_features advertised;   /* the feature keys we last wrote ... */
    bool advertised_valid;            /* ... if any: written once, not at each InitWait */
    struct xnv_port *port;
    uint8_t mac[6];
    struct xnv_features neg;      /* negotiated */
    unsigned nqueues;
    struct nb_queue q[NB_MAX_QUEUES];
    struct xnv_mcast_filter mcast;
    bool mcast_on;
    pthread_mutex_t mcast_lock;
    uint64_t rate_bytes, rate_usec;
    /* control ring (feature-ctrl-ring), served by queue 0's thread */
    void *ctrl_page;
    xen_netif_ctrl_back_ring_t ctrl;
    int ctrl_port;                /* bound on q[0].ch; -1 without a control ring */
    struct xnv_hash_cfg hash;     /* written by queue 0 under hash_lock */
    pthread_rwlock_t hash_lock;
    atomic_bool hashing;          /* steering by hash is configured */
    char bridge[32];              /* from the vif line */
    bool fastpath;                /* its bridge has the switch fast path */
    bool in_switch;               /* reachable by other vifs (under sw_lock) */
    bool optin_watched;           /* request-xnv-channels (peers.c) */
    bool peers_published;         /* xnv-peers written (peers.c) */
    bool data_running;
    /* what a previous run left (recover.c) */
    bool resuming;                /* it served these rings: kick the guest at connect */
    bool recover;                 /* ... and did not stop cleanly: answer what it left */
    bool rings_marked;            /* our xenstore mark of a running data path is set */
    /* watch events of this pass named it (control thread only): its own
     * xenstore directory (look whether it still exists), or its frontend */
    bool event_be, event_fe;
    bool looks_wait;              /* ... and must wait for its budget */
    struct nb_budget looks;
    uint64_t failed_at_ms;        /* when nb_vif_fail closed it last (0: never) */
    /* refusals and connections logged: a burst per window, then only counted */
    struct xnv_log_limit log_limit;
    atomic_bool broken;
    _Atomic(const char *) broken_why;   /* the first protocol violation found */
    struct nb_vif *next;
};

struct xnv_netback {
    struct xnv_hv *hv;
    struct xnv_netback_config cfg;
    atomic_bool own_refused_said;   /* arena.c's notice, once per service */
    pthread_mutex_t own_lock;       /* arena.c: gntalloc's limit, raised once */
    bool own_limit_tried;
    char home[64];                /* /local/domain/<self> */
    char root[96];                /* <home>/backend/vif */
    int epfd;                     /* watch fd + wake fd */
    int wake_fd;                  /* queue threads report fatal errors here */
    int timer_fd;                 /* a device's looks that had to wait are due */
    uint64_t timer_due_ms;        /* when it fires (0: not armed) */
    struct nb_vif *vifs;          /* changed under sw_lock (written) */
    /* The switch: data-path threads look up destination vifs under the read
     * lock and hold it while they place frames into them. */
    pthread_rwlock_t sw_lock;
};

/* arena.c */
int nb_arenas_alloc(struct nb_queue *q);
uint64_t nb_arenas_carried(const struct nb_queue *q);
void nb_arenas_promote(struct nb_queue *q);
void nb_arenas_free(struct nb_queue *q);

/* log.c: through the configured sink, from any thread */
void nb_log(struct xnv_netback *nb, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* the control plane's clock, in ms */
static inline uint64_t nb_now_ms(void) { return xnv_now_ns() / 1000000u; }
/* daemon.c: a look at a device at (or soon after) at_ms whatever its events */
void nb_vif_look_at(struct nb_vif *v, uint64_t at_ms);

/* xenbus.c: the per-device state machine */
void nb_vif_evaluate(struct nb_vif *v);
void nb_vif_fail(struct nb_vif *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nb_write_state(struct nb_vif *v, int state);
/* Write one key of the device directory, never creating the directory again. */
int nb_be_write(struct nb_vif *v, const char *key, const char *val);

/* iface.c: the host interface */
int nb_iface_open(struct nb_vif *v, const char *vifname, bool script_ran, char *err, size_t errlen);
void nb_iface_sync_name(struct nb_vif *v);
/* keep: leave it for a restart; remove: it goes; abandon: as it is (a crash) */
enum nb_iface_fate { NB_IFACE_KEEP, NB_IFACE_REMOVE, NB_IFACE_ABANDON };
void nb_iface_close(struct nb_vif *v, enum nb_iface_fate fate);

/* connect.c: frontend keys -> rings, event channels, features */
/* Advertise our features, unless the same are written already ... */
int nb_advertise(struct nb_vif *v, xnv_xs_tx_t tx);
/* ... and the transaction that wrote them committed. */
void nb_advertised(struct nb_vif *v);
int nb_connect(struct nb_vif *v, char *err, size_t errlen);
/* Stop the data path and release the rings; the running mark goes too. */
void nb_disconnect(struct nb_vif *v);
/* The same without a word to xenstore (what a killed process leaves). */
void nb_release(struct nb_vif *v);

/* recover.c: what a previous run left on the rings */
void nb_recover_check(struct nb_vif *v, int fe_state);
int nb_rings_mark(struct nb_vif *v);
void nb_rings_unmark(struct nb_vif *v);
void nb_recover_rings(struct nb_vif *v);
void nb_kick(struct nb_vif *v);

/* Notify q's frontend on port (of q's event channel handle), counted. */
static inline void nb_queue_notify(struct nb_queue *q, int port)
{
    xnv_evtchn_notify(q->ch, (xnv_port_t)port);
    XNV_STAT_ADD(q->stats.notify_sent, 1);
}

/* The notifications this pass of q's thread owes its own guest, sent once
 * each at the end of the pass: without split event channels both rings
 * share one port, and one hypercall (and one guest interrupt) serves both. */
static inline void nb_queue_flush_notify(struct nb_queue *q)
{
    if (q->notify_tx_due)
        nb_queue_notify(q, q->port_tx);
    if (q->notify_rx_due && !(q->notify_tx_due && q->port_rx == q->port_tx))
        nb_queue_notify(q, q->port_rx);
    q->notify_tx_due = q->notify_rx_due = false;
}

/* queue.c: the data-path threads */
int nb_queue_start(struct nb_queue *q);
/* The queue's name, vif<dom>.<dev>-q<n> (its thread's and its interrupts'). */
void nb_queue_name(const struct nb_queue *q, char *buf, size_t len);
void nb_queue_stop(struct nb_queue *q);
void nb_queue_release(struct nb_queue *q);
#define NB_WHY_RX_AHEAD "RX request producer more than a ring ahead of the consumer"
/* A protocol violation by v's frontend, found by any data-path thread: the
 * daemon disconnects v with why (the first one found) in its error node. */
void nb_vif_break(struct nb_vif *v, const char *why);

/* switch.c: the fast path between vifs on one bridge */
bool nb_bridge_has_fastpath(const struct xnv_netback *nb, const char *bridge);
void nb_switch_join(struct nb_vif *v);
void nb_switch_leave(struct nb_vif *v);
/* Under the read lock: the connected vif with this MAC on this bridge. */
struct nb_vif *nb_switch_lookup(struct xnv_netback *nb, const char *bridge, const uint8_t mac[6]);

/* A bridge named in a comma-separated list. */
bool nb_bridge_listed(const char *list, const char *bridge);

/* peers.c: the direct-channel peer lists (tier 2 discovery) */
void nb_peers_refresh(struct xnv_netback *nb);
void nb_peers_forget(struct nb_vif *v);

/* rx.c: tq's RX lock held: push its responses, unlock, and notify the
 * guest if it asked: at the end of self's pass when tq is self, at once when
 * tq is another thread's queue. */
void nb_rx_push_unlock(struct nb_queue *self, struct nb_queue *tq);
/* tx.c / rx.c: one batch each; return packets handled */
unsigned nb_tx_batch(struct nb_queue *q, struct nb_clock *now, uint64_t *wait_ns);
unsigned nb_rx_batch(struct nb_queue *q, struct nb_clock *now);
/* ctrl.c: the control ring, from queue 0's thread; returns requests handled */
unsigned nb_ctrl_poll(struct nb_queue *q);
bool nb_rx_port_wanted(const struct nb_queue *q);
/* For each queue of the vif: the RX ring slots (GSO extra included) that
 * the next of q's waiting frames to be placed there needs (rx_order.c
 * decides which is next); 0: none waits. */
void nb_rx_needs(const struct nb_queue *q, unsigned need[NB_MAX_QUEUES]);

/* rx_order.c: a frame read from the port joins the waiting frames (pr->len
 * and pr->m set; f its bytes), or leaves them; reset: none waits.  pick:
 * the waiting frames to offer the guest next, by index into q->pend, in the
 * order to place them; returns how many. */
void nb_rx_order_admit(struct nb_queue *q, struct nb_pending_rx *pr, const uint8_t *f);
void nb_rx_order_leave(struct nb_queue *q, const struct nb_pending_rx *pr);
void nb_rx_order_reset(struct nb_queue *q);
unsigned nb_rx_order_pick(const struct nb_queue *q, unsigned sel[NB_RX_BATCH]);


/* Make the last directory of path if it is missing (its parents must exist:
 * /run/xnv for the control socket and the instance lock). */
void nb_make_parent_dir(const char *path);

#endif
