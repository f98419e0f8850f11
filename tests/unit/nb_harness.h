/* Test harness for the netback engine over the simulated hypervisor: plays
 * the toolstack (xl's xenstore entries, the hotplug script) and a frontend
 * that behaves like Linux xen-netfront, with raw access to its rings for
 * hostile inputs. */
#ifndef XNV_TEST_NB_HARNESS_H
#define XNV_TEST_NB_HARNESS_H

#include <stdbool.h>
#include "nb_host.h"
#include "xnv/netback.h"
#include "xnv/netif.h"
#include "xnv/sim.h"

#define TFE_BUFS 256

struct tfe_queue {
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    void *tx_sring, *rx_sring;
    xnv_gref_t tx_ref, rx_ref;
    int port_tx, port_rx;
    uint8_t *txbuf, *rxbuf;         /* TFE_BUFS pages each, granted to dom0 */
    xnv_gref_t txref[TFE_BUFS], rxref[TFE_BUFS];
    uint16_t next_tx_id;
};

struct tfe {
    struct xnv_sim *sim;
    struct xnv_hv *hv;              /* the guest */
    struct xnv_evtchn *ch;
    xnv_domid_t dom;
    unsigned devid;
    char fe[96], be[96];
    unsigned nq;
    struct tfe_queue q[4];
    /* control ring, set up by tfe_connect when want_ctrl */
    bool want_ctrl;
    xen_netif_ctrl_front_ring_t ctrl;
    void *ctrl_sring;
    uint8_t *ctrl_data;              /* one page for keys and tables, granted read-only */
    xnv_gref_t ctrl_ref, ctrl_data_ref;
    int ctrl_port;
    /* hostile knobs for tfe_connect */
    RING_IDX initial_tx_req_prod;   /* the TX ring's producer at connect */
    const char *omit_key;           /* a per-queue key left out */
    bool no_kick;                   /* push requests without notifying the backend */
};

struct world {
    struct xnv_sim *sim;
    struct xnv_hv *dom0;
    struct xnv_netback *nb;
    struct nb_host host;            /* dom0's network interfaces */
    struct xnv_port *ports[16];     /* memports the engine opened (or attached again), the first 16 */
    char port_names[16][16];
    unsigned nports;
    unsigned max_queues, stall_ms;  /* the engine's settings, for a restart */
    const char *fastpath;
    const char *channels;           /* channel_bridges */
    bool split_evtchn;              /* the engine offers split event channels */
};

void world_init(struct world *w, unsigned max_queues, unsigned stall_ms);
/* ... with the switch fast path on these bridges (comma-separated). */
void world_init_fastpath(struct world *w, unsigned max_queues, const char *bridges);
/* ... with direct-channel discovery on these bridges (comma-separated). */
void world_init_channels(struct world *w, unsigned max_queues, const char *bridges);
/* world_init with an engine that offers split event channels */
void world_init_split(struct world *w, unsigned max_queues);
void world_free(struct world *w);
/* A new netback engine on the same simulated host (after a shutdown). */
void world_restart_netback(struct world *w);
/* The engine goes as a process killed by SIGKILL goes (xnv_netback_abandon). */
void world_kill_netback(struct world *w);
/* Run the control plane until cond(arg) holds or timeout_ms passes. */
bool world_pump(struct world *w, bool (*cond)(void *), void *arg, unsigned timeout_ms);
/* The engine's port factory (xnv_netback_config open_port, port_exists;
 * port_arg: the world): dom0's interfaces, w->host. */
struct xnv_port *world_open_port(void *w, const char *ifname, char *err, size_t errlen);
bool world_port_exists(void *w, const char *ifname);
/* The memport of dom0's interface called ifname now (NULL: none). */
struct xnv_port *world_port(struct world *w, const char *ifname);

/* What `xl create` writes for vif = ['mac=...'] (vifname optional). */
int xl_add_vif(struct world *w, xnv_domid_t dom, unsigned devid, const char *mac, const char *vifname);
/* The vif-bridge hotplug script, "online": renames vif<dom>.<devid> to the
 * vif's vifname if it has one (hotplug-status error if that name is taken),
 * puts it on the vif's bridge, writes hotplug-status. */
void xl_hotplug_connected(struct world *w, xnv_domid_t dom, unsigned devid);
int be_state(struct world *w, xnv_domid_t dom, unsigned devid);
char *be_read(struct world *w, xnv_domid_t dom, unsigned devid, const char *key);
bool wait_be_state(struct world *w, xnv_domid_t dom, unsigned devid, int state, unsigned ms);

/* The in-memory port of vif<dom>.0. */
struct xnv_port *world_vif_port(struct world *w, int dom);
/* A guest `name` with one vif (MAC mac) at InitWait, the hotplug script
 * done; with connect, its frontend Connected with one queue. */
void world_guest_up(struct world *w, struct tfe *f, int *dom, const char *name, const char *mac, bool connect);
/* A hostile and an honest guest (MACs 00:16:3e:00:00:0b and :0c) with one
 * vif each, the honest one Connected with one queue, the hostile one too
 * when connect_bad (else at InitWait, for tests that connect it themselves). */
void world_two_guests(struct world *w, struct tfe *bad, int *bad_dom, struct tfe *good, int *good_dom,
                      bool connect_bad);

/* The frontend. */
int tfe_init(struct tfe *f, struct world *w, xnv_domid_t dom, unsigned devid);
/* Handshake like Linux netfront: nq queues, split channels if offered,
 * writes the keys and goes Connected.  extra_key/extra_val (may be NULL)
 * override one key to inject bad values. */
int tfe_connect(struct tfe *f, unsigned nq, const char *extra_key, const char *extra_val);
void tfe_set_state(struct tfe *f, int state);
/* Revoke the queues' rings and buffers (before connecting again). */
void tfe_unshare_queues(struct tfe *f);
void tfe_free(struct tfe *f);
/* Send a frame over slots of at most slot bytes; flags NETTXF_*; gso_type
 * XEN_NETIF_GSO_TYPE_* (NONE: no extra).  Returns slots used. */
unsigned tfe_send(struct tfe *f, unsigned q, const uint8_t *frame, uint32_t len, uint32_t slot,
                  uint16_t flags, uint8_t gso_type, uint16_t gso_size);
/* Raw request into the TX ring (hostile tests); push with tfe_push_tx. */
void tfe_raw_tx(struct tfe *f, unsigned q, const netif_tx_request_t *r);
void tfe_push_tx(struct tfe *f, unsigned q);
/* Count TX responses with the given status now available (consumes them). */
unsigned tfe_tx_responses(struct tfe *f, unsigned q, int16_t status, unsigned *others);
/* Consume the TX responses available: seen[id] counts each id answered,
 * *errors (may be NULL) the NETIF_RSP_ERROR ones. */
void tfe_tx_response_ids(struct tfe *f, unsigned q, unsigned seen[TFE_BUFS], unsigned *errors);
void tfe_post_rx(struct tfe *f, unsigned q, unsigned n);
/* Receive one frame: length, or -1 if none; *flags NETRXF_* of the first slot. */
int tfe_recv(struct tfe *f, unsigned q, uint8_t *buf, uint32_t cap, uint16_t *flags,
             uint8_t *gso_type, uint16_t *gso_size);
/* tfe_recv without posting the buffers again: *slots grows by the slots
 * the frame used, for the caller to post in a batch, as Linux netfront
 * refills its ring once per poll. */
int tfe_take(struct tfe *f, unsigned q, uint8_t *buf, uint32_t cap, uint16_t *flags,
             uint8_t *gso_type, uint16_t *gso_size, unsigned *slots);
/* One frame within ms, taken as Linux netfront takes them: a response with
 * an error status (a buffer handed back unused) is counted in *errors (may
 * be NULL) and its buffer posted again.  Length, or -1 when none came. */
int tfe_recv_wait(struct tfe *f, unsigned q, uint8_t *buf, uint32_t cap, unsigned ms, unsigned *errors);
/* One control-ring request; returns its status (-1: no answer), *data its data. */
int tfe_ctrl_call(struct tfe *f, uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2, uint32_t *data);
/* Over the control ring (want_ctrl): Toeplitz hashing of TCP/IPv4 with a
 * 4-entry mapping naming `queue` for every flow.  0, or the first failing
 * request's status. */
int tfe_steer_all(struct tfe *f, unsigned queue);
/* Send `len` bytes of frame on queue 0 of f and take what comes out of
 * vif<dom>.0's port into got: its length, or -1 when nothing came. */
int tfe_frame_to_port(struct world *w, struct tfe *f, int dom, const uint8_t *frame, uint32_t len,
                      uint8_t *got, uint32_t cap);
/* Poll until frames or responses show up. */
bool tfe_wait_tx_done(struct tfe *f, unsigned q, unsigned ms);
/* Poll until the engine has read want frames in all from port p (within
 * ms); returns how many it had read. */
uint64_t port_wait_received(struct xnv_port *p, uint64_t want, unsigned ms);

#endif
