/* Guests with direct inter-VM channels over the simulated hypervisor: each
 * has a vif connected to xnv-netbackd (the harness's frontend) and, once
 * opened, a channel set of its own (its own hv handle, as the agent has). */
#ifndef XNV_TEST_IDC_FIXTURE_H
#define XNV_TEST_IDC_FIXTURE_H

#include "nb_harness.h"
#include "ring_fixture.h"
#include "xnv/idc.h"

#define IDCW_MAX 4

struct idc_guest {
    int dom;
    char mac[18];
    uint8_t macb[6];
    struct tfe f;
    struct xnv_hv *hv;          /* the channel set's handle (also the guest's for tests) */
    struct xnv_idc *idc;
};

struct idc_world {
    struct world w;
    unsigned n;
    struct idc_guest g[IDCW_MAX];
    struct xnv_idc_options opt;
};

/* n guests on xenbr0 (MACs 00:16:3e:00:01:0<i>), discovery on `bridges`. */
void idcw_init(struct idc_world *W, const char *bridges, unsigned n);
/* One more guest; on `bridge` (NULL: xenbr0). */
void idcw_add(struct idc_world *W, const char *bridge);
void idcw_free(struct idc_world *W);
void idcw_open(struct idc_world *W, struct idc_guest *g);
void idcw_close(struct idc_guest *g);
/* Run netback and every open channel set for ms. */
void idcw_pump(struct idc_world *W, unsigned ms);
/* ... until a and b have channels both ways (false after 3 s). */
bool idcw_pump_until_up(struct idc_world *W, struct idc_guest *a, struct idc_guest *b);
/* ... until a's channel towards b is in state tx (false after 3 s). */
bool idcw_pump_until_tx(struct idc_world *W, struct idc_guest *a, struct idc_guest *b,
                        enum xnv_idc_dir_state tx);
/* ... until a's channel from b (a's ring for b) is in state rx (false after 3 s). */
bool idcw_pump_until_rx(struct idc_world *W, struct idc_guest *a, struct idc_guest *b,
                        enum xnv_idc_dir_state rx);
/* ... until a lists b as a peer, or no longer (false after 3 s). */
bool idcw_pump_until_listed(struct idc_world *W, struct idc_guest *a, struct idc_guest *b, bool listed);
/* The netback's xnv-peers entry for peer in g's list (malloc'd), or NULL. */
char *idcw_peer_entry(struct idc_world *W, struct idc_guest *g, struct idc_guest *peer);
/* A TCP frame of len bytes (>= 54) from src to dst. */
void idcw_frame(uint8_t *buf, uint32_t len, const struct idc_guest *dst, const struct idc_guest *src);
/* A frame from a to b goes over their channel and arrives whole (else the test fails). */
void idcw_works(struct idc_world *W, struct idc_guest *a, struct idc_guest *b);
/* Receive one frame at g (pumping meanwhile, up to 2 s): 1 or 0. */
int idcw_recv(struct idc_world *W, struct idc_guest *g, struct xnv_nf_frame *f);

#endif
