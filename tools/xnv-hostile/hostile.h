/* xnv-hostile: a guest program that drives its vif's netif frontend
 * protocol wrongly on purpose (ring indices, slot chains, grants, events,
 * xenstore), to check that the backend refuses each abuse with a clear
 * error and keeps serving everybody else.  Each mode is one round: connect
 * (honestly or not), abuse, observe what the backend did, start over. */
#ifndef XNV_HOSTILE_H
#define XNV_HOSTILE_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/netif.h"
#include "xnv/xs.h"

#define HFE_BUFS 32u                 /* pages of each buffer pool */

struct hfe {
    struct xnv_hv *hv;
    struct xnv_evtchn *ch;
    xnv_domid_t backend;
    unsigned device;
    char fe[64];                     /* device/vif/N (relative to our home) */
    char be[128];                    /* the backend's directory */
    /* per connection */
    void *tx_page, *rx_page;
    xnv_gref_t tx_ref, rx_ref;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    int port;                        /* -1: none bound */
    /* for the whole run */
    uint8_t *txbuf;                  /* granted read-only: what TX requests point at */
    xnv_gref_t txref[HFE_BUFS];
    uint8_t *rxbuf;                  /* granted writable: honest RX buffers */
    xnv_gref_t rxref[HFE_BUFS];
    uint8_t *robuf;                  /* granted read-only, posted as RX buffers */
    xnv_gref_t roref[HFE_BUFS];
    bool verbose;
    bool watching;                   /* a watch on the backend's state is set */
};

/* A key of the frontend directory: value NULL leaves it out. */
struct hfe_kv {
    const char *key, *val;
};

/* On hv (the caller's domain; closed by hfe_close). */
int hfe_open(struct hfe *h, struct xnv_hv *hv, unsigned device, char *err, size_t errlen);
void hfe_close(struct hfe *h);
/* Share fresh rings, bind a channel and write the keys (over replaces or
 * removes keys, n entries) then state; returns the backend state reached
 * (Connected, or Closed when it refused) or -1 when it did neither. */
int hfe_connect(struct hfe *h, const struct hfe_kv *over, unsigned n, const char *state);
/* Back to the start: frontend Closed, rings released, keys removed, then
 * Initialising until the backend waits again.  0, or -1 if it never did. */
int hfe_reset(struct hfe *h);
int hfe_be_state(struct hfe *h);
/* The backend's error node (malloc'd) or NULL. */
char *hfe_be_error(struct hfe *h);
/* Wait up to ms for the backend's state to change; true if it did (or,
 * without a watch, once the time passed). */
bool hfe_be_changed(struct hfe *h, unsigned ms);
/* Wait up to ms for the backend to reach state; true if it did. */
bool hfe_wait_be(struct hfe *h, int state, unsigned ms);
int hfe_fe_write(struct hfe *h, const char *key, const char *val);
void hfe_kick(struct hfe *h);
/* TX request at the producer (not pushed yet). */
void hfe_tx_put(struct hfe *h, uint16_t id, xnv_gref_t ref, uint16_t off, uint16_t size, uint16_t flags);
void hfe_tx_push(struct hfe *h);
/* Post n RX buffers from the writable (or the read-only) pool. */
void hfe_rx_post(struct hfe *h, unsigned n, bool readonly);
/* Count TX responses with an error status so far (consumes them). */
unsigned hfe_tx_errors(struct hfe *h);
/* A small valid Ethernet broadcast frame into TX buffer i; its length. */
uint16_t hfe_frame(struct hfe *h, unsigned i, uint16_t len);
void hfe_sleep_ms(unsigned ms);
uint64_t hfe_now_ms(void);

/* modes.c */
struct hostile_mode {
    const char *name;
    const char *what;
    /* One round on a frontend at InitWait; writes what happened into out. */
    void (*run)(struct hfe *h, char *out, size_t outlen);
};
extern const struct hostile_mode hostile_modes[];
extern const unsigned hostile_nmodes;

#endif
