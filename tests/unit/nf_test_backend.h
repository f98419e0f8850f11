/* A small scripted netif backend over the simulated hypervisor, built on
 * the protocol core (tx.h / rx.h), for testing the netfront on its own and
 * for playing a hostile backend.
 *
 * It writes what `xl create` writes (both device directories, as the
 * toolstack in domain 0), then acts like Linux's netback on the frontend's
 * state changes, from a thread of its own: InitWait after probing, connect
 * on the frontend's Connected, Closing/Closed after the frontend's, and
 * InitWait again when a Closed frontend re-initialises (unless held).
 * Data moves only when a test asks (nftb_rx_send, nftb_tx_take), and tests
 * may also write the rings directly (nftb_lock + the back rings). */
#ifndef XNV_NF_TEST_BACKEND_H
#define XNV_NF_TEST_BACKEND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "xnv/copy_batch.h"
#include "xnv/features.h"
#include "xnv/hv.h"
#include "xnv/netif.h"
#include "xnv/rx.h"
#include "xnv/sim.h"
#include "xnv/tx.h"

#define NFTB_MAX_QUEUES 8
#define NFTB_ALL_FEATURES (XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM | \
                           XNV_F_RX_COPY)

struct nftb_config {
    unsigned max_queues;        /* 0: no multi-queue-max-queues key */
    bool split;                 /* feature-split-event-channels */
    uint32_t features;          /* XNV_F_* advertised; 0: NFTB_ALL_FEATURES */
    bool no_rx_copy;            /* leave feature-rx-copy out */
    int trusted;                /* the frontend's `trusted` key: -1 absent, 0 or 1 */
    unsigned devid;
};

struct nftb_queue {
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    void *tx_map, *rx_map;
    int port_tx, port_rx;
};

struct nftb {
    struct xnv_sim *sim;
    xnv_domid_t bdom, fdom;
    struct nftb_config cfg;
    struct xnv_hv *tool;        /* domain 0, the toolstack */
    struct xnv_hv *hv;          /* the backend domain */
    struct xnv_evtchn *ch;
    char be_path[96], fe_path[96];

    pthread_mutex_t lock;
    pthread_t th;
    int stopfd;
    int state;                  /* our xenbus state */
    bool connected;
    bool hold;                  /* do not go back to InitWait on our own */
    bool fresh;                 /* restarted: ignore a frontend already Connected */
    bool refuse;                /* fail every connection (Closing), as a broken backend */
    unsigned refusals;
    unsigned nq;
    struct xnv_features fe;     /* what the frontend asked for */
    bool split;
    struct nftb_queue q[NFTB_MAX_QUEUES];
    struct xnv_copy_batch batch;
    unsigned connects, disconnects;
    const char *connect_error;
    /* Called (lock not held) with the frontend's state on each change. */
    void (*hook)(struct nftb *b, int front_state, void *arg);
    void *hook_arg;
};

/* Create the toolstack's entries for vif cfg->devid of fdom served by bdom,
 * probe (features, InitWait) and start following the frontend. */
int nftb_start(struct nftb *b, struct xnv_sim *sim, xnv_domid_t bdom, xnv_domid_t fdom,
               const struct nftb_config *cfg);
void nftb_stop(struct nftb *b);
void nftb_lock(struct nftb *b);
void nftb_unlock(struct nftb *b);

/* Wait (up to timeout_ms) until connected / not connected. */
bool nftb_wait_connected(struct nftb *b, bool connected, unsigned timeout_ms);

/* Guest receive: place one frame on queue q, copy, push, notify.
 * 0, -EAGAIN (not enough buffers posted), -ENOTCONN. */
int nftb_rx_send(struct nftb *b, unsigned q, const uint8_t *frame, uint32_t len,
                 const struct xnv_rx_meta *m);
/* Guest transmit: read one packet from queue q, copy it into buf, answer
 * it, push, notify.  Its length; -EAGAIN when none; -EPROTO (fatal);
 * -EBADMSG (a drop); pkt_out (optional) describes it. */
int nftb_tx_take(struct nftb *b, unsigned q, uint8_t *buf, uint32_t cap, struct xnv_tx_pkt *pkt_out);
/* Copy len bytes at offset 0 of the frontend's grant gref (read as the backend). */
int nftb_peek_gref(struct nftb *b, grant_ref_t gref, uint8_t *buf, uint32_t len);
/* Notify the frontend on queue q's RX (rx=true) or TX port (lock held or not). */
void nftb_notify(struct nftb *b, unsigned q, bool rx);
/* Push responses written straight into the rings (lock held). */
void nftb_push_tx(struct nftb *b, unsigned q);
void nftb_push_rx(struct nftb *b, unsigned q);

/* The backend leaves: disconnect, Closing, Closed (and stays Closed while held). */
void nftb_leave(struct nftb *b);
/* The backend comes back: InitWait. */
void nftb_return(struct nftb *b);
/* A new backend instance: forget the connection without a word, InitWait. */
void nftb_restart(struct nftb *b);
/* xl save / restore: the toolstack resets both states to Initialising, then
 * the backend probes again. */
void nftb_restore(struct nftb *b);
/* The toolstack removes both directories. */
void nftb_remove(struct nftb *b);

/* Xenstore helpers as the toolstack. */
char *nftb_read(struct nftb *b, const char *dir, const char *key);   /* malloc'd or NULL */
int nftb_write(struct nftb *b, const char *dir, const char *key, const char *val);
int nftb_front_state(struct nftb *b);

/* ---- a whole scene: simulation, a driver domain, a guest, the backend ---- */

struct xnv_netfront;
struct xnv_nf_options;
struct xnv_nf_frame;

struct nf_env {
    struct xnv_sim *sim;
    xnv_domid_t bdom, fdom;
    struct xnv_hv *fhv;         /* the guest's handle, given to the netfront */
    struct nftb be;
    struct xnv_netfront *nf;
    char err[256];
    pthread_mutex_t log_lock;
    char log[4096];             /* messages of the netfront, one per line */
};

/* Simulation with domains "driver" and "guest", backend started. */
void nf_env_start(struct nf_env *e, const struct nftb_config *cfg);
/* Open the netfront (defaults + connect timeout 5 s, unless o given);
 * its messages go to e->log.  NULL with e->err on failure. */
struct xnv_netfront *nf_env_open(struct nf_env *e, const struct xnv_nf_options *o);
void nf_env_stop(struct nf_env *e);
bool nf_env_log_has(struct nf_env *e, const char *needle);
/* Receive on queue q until at least one frame arrived (or timeout). */
int nf_env_recv(struct nf_env *e, unsigned q, struct xnv_nf_frame *f, unsigned n, unsigned timeout_ms);
/* Take one packet from the frontend's TX ring (or timeout: -EAGAIN). */
int nf_env_take(struct nf_env *e, unsigned q, uint8_t *buf, uint32_t cap, struct xnv_tx_pkt *pkt,
                unsigned timeout_ms);
/* Could the guest share `pages` pages right now?  (Nothing else shared.) */
bool nf_env_guest_can_share(struct nf_env *e, unsigned pages);

#endif
