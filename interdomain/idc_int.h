/* Private to the inter-VM channel (interdomain/idc_*.c).
 *
 *   idc_ring.c   the data path: pure functions over ring memory (the sender
 *                side; the receiver side is the frontend half of a netif RX
 *                ring, libxnv/proto/fe_rx.c, xnv/fe_rx.h);
 *   idc_chan.c   one channel direction's resources: share/publish, map/attach,
 *                teardown;
 *   idc_ctrl.c   the control plane: peer list, watches, @releaseDomain;
 *   idc_park.c   an unlisted peer's receive pages, kept for its return;
 *   idc_events.c the event channel and the per-peer storm pause;
 *   idc_room.c   the sender called back when a peer posts buffers on a full ring;
 *   idc_send.c   the batch sender;
 *   idc_api.c    open/close, the event loop step, recv, statistics. */
#ifndef XNV_IDC_INT_H
#define XNV_IDC_INT_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include "xnv/clock.h"
#include "xnv/copy_batch.h"
#include "xnv/fe_rx.h"            /* struct nf_rx, nf_share: the frontend half of the RX ring */
#include "xnv/idc.h"
#include "xnv/log_limit.h"
#include "xnv/rx.h"
#include "xnv/xs.h"

#define IDC_DIR         "data/xnv-channel"    /* relative to a domain's home */
#define IDC_TOKEN_PEERS "xnv-idc-peers"
#define IDC_TOKEN_REL   "xnv-idc-release"
#define IDC_TOKEN_CH    "xnv-idc-ch/"         /* + peer domid */
#define IDC_SEND_MAX    XNV_IDC_SEND_MAX
/* Segments of IDC_SEND_MAX frames of the largest size (17 pages each, cut
 * at page boundaries only: the source is one piece of local memory). */
#define IDC_COPY_SEGS   (IDC_SEND_MAX * 17u)
#define IDC_MAX_DOMID   0x7fefu               /* DOMID_FIRST_RESERVED - 1 */
#define IDC_PATH_MAX    256

/* Our ring for the peer: frames from it.  Its pages (ring_pg.addr set) may
 * outlive a listing: kept while the peer is parked (idc_park.c). */
struct idc_rx {
    enum xnv_idc_dir_state state;
    struct nf_page ring_pg;
    struct nf_rx rx;
    int port;
    bool masked;                    /* port left masked: a storm pause */
    uint64_t serial;
};

/* The peer's ring for us: frames to it. */
struct idc_tx {
    enum xnv_idc_dir_state state;
    void *ring_page;
    netif_rx_back_ring_t ring;
    int port;
    bool masked;                    /* port left masked: a storm pause */
    bool notify_owed;               /* frames pushed by a call that had more at hand */
    /* the publication attached to (or that failed) */
    xnv_gref_t ref;
    unsigned evtchn;
    uint64_t serial;
    uint64_t full_since_ns;         /* 0: not waiting for room */
    uint64_t failed_at_ns;
};

/* A slot is used while the peer is listed, and after that while it is
 * parked: its receive pages kept for its return, or a refusal remembered. */
struct idc_peer {
    bool used;
    bool listed;                    /* in the backend's list now */
    uint64_t parked_at_ns;          /* when it left the list */
    unsigned kept;                  /* our pages it still held when we took them back */
    const char *refused;            /* set: no receive ring for it, and why */
    xnv_domid_t dom;
    uint8_t mac[6];
    bool watching;
    char token[32];
    char ch_path[IDC_PATH_MAX];     /* its publication for us */
    struct idc_rx rx;
    struct idc_tx tx;
    const char *last_error;
    uint64_t tx_frames, rx_frames, rx_errors, fallbacks, notifies;
    /* storm pause (idc_events.c) */
    unsigned empty;                 /* wakeups in a row that brought no work */
    uint64_t work_seen;             /* its frames and errors at the last wakeup */
    uint64_t pause_until_ns;        /* its ports stay masked until then */
    uint64_t gen;                   /* the last wakeup that counted it */
    struct xnv_log_limit log;       /* lines about it */
};

struct xnv_idc {
    pthread_mutex_t lock;
    struct xnv_hv *hv;
    struct xnv_idc_options opt;
    unsigned devid;
    xnv_domid_t self;
    char fe_dir[48];                /* device/vif/<devid> */
    char peers_path[IDC_PATH_MAX];  /* <backend>/xnv-peers, "" while unknown */
    bool peers_watched;
    bool release_watched;
    bool guarded;                   /* peer ring accesses under idc_guard */
    bool holders_hidden;            /* unsharing never says who still maps a page (Xen) */
    struct xnv_evtchn *ch;
    int epfd;
    int timerfd;                    /* the end of the next storm pause */
    uint64_t timer_at;              /* the deadline it is armed for (0: disarmed) */
    uint64_t gen;                   /* wakeups of xnv_idc_process (its stats' `wakeups`) */
    uint64_t serial;                /* of our publications */
    unsigned rr;                    /* receive round robin */
    struct xnv_copy_batch cb;
    struct idc_peer peer[XNV_IDC_MAX_PEERS];
    struct xnv_idc_stats st;
    /* The sender's hook for a peer's new buffers on a ring that was full
     * (xnv_idc_on_room), and how often it fired.  Apart from lock: called
     * by idc_events under it, set by a sender that must not take it. */
    pthread_mutex_t room_lock;
    void (*room_fn)(void *ctx);
    void *room_ctx;
    uint64_t room_signals;
    uint8_t rx_scratch[XNV_NF_MAX_FRAME];   /* nf_rx_deliver's rare whole copy */
};

/* idc_api.c */
void idc_log(struct xnv_idc *idc, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A line about peer p ("peer <dom>: " prefixed), at most a burst per window
 * (xnv/log_limit.h): a peer can make its channels come and go at will. */
void idc_peer_log(struct xnv_idc *idc, struct idc_peer *p, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* idc_guard.c: faults on mapped peer rings (see there).  Install once per
 * process (false when it cannot); between enter and leave a SIGSEGV or
 * SIGBUS returns through siglongjmp(jb, 1). */
bool idc_guard_install(void);
void idc_guard_enter(sigjmp_buf *jb);
void idc_guard_leave(void);

/* idc_parse.c: a peer entry <name> = <mac>: a domid other than self, a unicast MAC. */
int idc_parse_peer(const char *name, const char *mac, unsigned maclen, xnv_domid_t self,
                   xnv_domid_t *dom, uint8_t macb[6]);

/* idc_ring.c: sender side of a peer's ring. */
/* Attach to a ring another sender may have used before: the requests
 * consumed so far are the responses produced. */
void idc_ring_attach(netif_rx_back_ring_t *ring, void *page);
/* Place one frame (not pushed), its copy segments tagged pkt (its index in
 * the batch, to tell which frame a failed segment belongs to).  0; -EAGAIN:
 * not enough buffers posted; -ENOSPC: batch full; -EPROTO: the receiver's
 * producer is bogus. */
int idc_ring_put(netif_rx_back_ring_t *ring, xnv_domid_t peer, const uint8_t *data, uint32_t len,
                 const struct xnv_rx_meta *m, struct xnv_copy_batch *b, uint16_t pkt,
                 struct xnv_rx_placed *out);
/* Ask to be notified once the receiver has posted `need` buffers beyond
 * those consumed (what the first waiting frame needs); true when they are
 * there already. */
bool idc_ring_arm(netif_rx_back_ring_t *ring, unsigned need);
/* Netif RX metadata of a frame for the channel; may complete a partial
 * checksum in f->data.  -EINVAL (why) for a malformed frame. */
int idc_frame_meta(struct xnv_nf_frame *f, struct xnv_rx_meta *m, const char **why);

/* idc_chan.c */
/* Share (or take back the kept) pages, post the buffers, publish. */
int idc_rx_open(struct xnv_idc *idc, struct idc_peer *p);
/* Withdraw the publication and the event channel; the pages stay shared. */
void idc_rx_withdraw(struct xnv_idc *idc, struct idc_peer *p);
/* Revoke the pages; how many the peer still held (lost to it). */
unsigned idc_rx_release(struct xnv_idc *idc, struct idc_peer *p);
/* Both. */
void idc_rx_close(struct xnv_idc *idc, struct idc_peer *p);
/* Read the peer's publication and attach, re-attach or detach as it says. */
void idc_tx_evaluate(struct xnv_idc *idc, struct idc_peer *p);
/* Close the sending direction; failed: for a fault (retried after retry_ms). */
void idc_tx_close(struct xnv_idc *idc, struct idc_peer *p, bool failed, const char *why);
void idc_notify(struct xnv_idc *idc, struct idc_peer *p, int port);

/* idc_ctrl.c */
void idc_ctrl_start(struct xnv_idc *idc);
void idc_ctrl_event(struct xnv_idc *idc, const char *path, const char *token);
void idc_drop_peer(struct xnv_idc *idc, struct idc_peer *p);
void idc_drop_all(struct xnv_idc *idc);
void idc_sync_peers(struct xnv_idc *idc);
void idc_check_domains(struct xnv_idc *idc);
/* Any used slot of dom, listed or parked. */
struct idc_peer *idc_find_peer(struct xnv_idc *idc, xnv_domid_t dom);
bool idc_domain_alive(struct xnv_idc *idc, xnv_domid_t dom);

/* idc_park.c */
/* p left the list (alive, or we cannot tell): channels closed, receive
 * pages kept for park_ms. */
void idc_park(struct xnv_idc *idc, struct idc_peer *p);
/* p listed again: the kept pages (or a refusal) serve its new channel. */
void idc_unpark(struct xnv_idc *idc, struct idc_peer *p, const uint8_t mac[6]);
/* Release what was kept past park_ms; a peer that still held some of it
 * is refused from then on. */
void idc_park_expire(struct xnv_idc *idc, uint64_t now);

/* idc_events.c */
/* Drain the event channel; a peer whose wakeups bring no work has its ports
 * left masked for the storm pause. */
void idc_events(struct xnv_idc *idc, uint64_t now);
/* Forget the masks of p's ports (before they are unbound). */
static inline void idc_events_forget(struct idc_peer *p) { p->rx.masked = p->tx.masked = false; }

/* idc_room.c */
void idc_room_init(struct xnv_idc *idc);
void idc_room_destroy(struct xnv_idc *idc);
/* A peer notified our sending direction (it posted buffers): wake senders. */
void idc_room_signal(struct xnv_idc *idc);

#endif
