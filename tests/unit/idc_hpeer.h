/* A hostile peer on a direct channel, built by hand: a guest with a vif
 * that asks for channels and publishes rings for its victim without running
 * any channel code, and may map whatever the victim shares with it. */
#ifndef XNV_TEST_IDC_HPEER_H
#define XNV_TEST_IDC_HPEER_H

#include <stdbool.h>
#include "idc_fixture.h"
#include "xnv/hv.h"
#include "xnv/netif.h"

#define HPEER_BUFS 32
#define HPEER_MAPS 512

struct hpeer {
    struct xnv_hv *hv;              /* the hostile guest's (not owned) */
    xnv_domid_t dom, vic;
    struct xnv_evtchn *ch;
    /* its ring for the victim (it receives on it) */
    void *ring;
    netif_rx_front_ring_t front;
    xnv_gref_t ring_ref, buf_ref[HPEER_BUFS];
    int port;
    uint64_t serial;
    /* the victim's pages it mapped (hpeer_map_victim), by grant */
    xnv_gref_t mapped[HPEER_MAPS];
    unsigned nmapped;
};

/* W (idcw_init'ed with 3 guests, W->opt set): g0, the victim, and g1 with
 * channel sets and channels up between them (the victim's messages to
 * vic_log when not NULL); g2 hostile (h), asking for channels by hand, the
 * victim's ring for it up. */
void hpeer_world_up(struct idc_world *W, struct hpeer *h, void (*vic_log)(void *, int, const char *));
/* Opens its event channel handle and asks for channels. */
void hpeer_init(struct hpeer *h, struct xnv_hv *hv, int dom, int vic);
void hpeer_free(struct hpeer *h);
/* request-xnv-channels = 1 or 0 (the backend lists it, or stops). */
void hpeer_optin(struct hpeer *h, bool on);
/* Its publication for the victim: any value, NULL leaves a key out. */
void hpeer_publish(struct hpeer *h, const char *ref, const char *port, const char *serial);
void hpeer_withdraw(struct hpeer *h);
/* A ring of its own with nreq buffers posted (its real grants, or bogus for
 * each when not 0), published with a new serial. */
void hpeer_ring(struct hpeer *h, unsigned nreq, xnv_gref_t bogus);
/* What the victim publishes for it (malloc'd), or NULL. */
char *hpeer_victim_key(struct hpeer *h, const char *key);
/* Map the ring the victim publishes for it and every buffer posted there,
 * those not mapped yet; returns how many it holds in all. */
unsigned hpeer_map_victim(struct hpeer *h);

#endif
