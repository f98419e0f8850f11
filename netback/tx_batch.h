/* Private to guest transmit (tx.c) and its switch fast path (switch.c):
 * one batch's state, and the arena helpers both use. */
#ifndef XNV_NB_TX_BATCH_H
#define XNV_NB_TX_BATCH_H

#include <sys/uio.h>
#include "nb.h"

#define PEEK_BYTES 64u        /* enough for the Ethernet header and a VLAN tag */
/* With a partial checksum or GSO: the headers those are checked against too
 * (Ethernet, VLAN tag, IPv4 and TCP with their longest options: 138). */
#define PEEK_HDR_BYTES 256u

struct batch_state {
    enum xnv_tx_verdict verdict[NB_TX_BATCH];
    uint32_t off[NB_TX_BATCH];          /* packet's first page in the arena */
    uint32_t have[NB_TX_BATCH];         /* bytes of it already copied there */
    struct nb_vif *target[NB_TX_BATCH]; /* fast-path destination, or NULL */
    bool failed[NB_TX_BATCH];
    int16_t status[NB_TX_BATCH];
};

/* Where bytes [from, to) of a packet meet its fragment holding bytes
 * [pos, pos + len): [*a, *b) within the fragment; false when they do not. */
bool nb_tx_frag_part(uint32_t pos, uint32_t len, uint32_t from, uint32_t to, uint32_t *a, uint32_t *b);
/* Where slot f of packet i lands in the arena. */
uint8_t *nb_tx_slot_dest(struct nb_queue *q, const struct batch_state *st, unsigned i, unsigned f);
/* Bytes [from, to) of packet i as pieces of the arena, adjacent slots
 * merged; returns the count. */
unsigned nb_tx_packet_iov(struct nb_queue *q, const struct batch_state *st, unsigned i, uint32_t from,
                          uint32_t to, struct iovec *iov);
/* Gather the pieces into buf (which holds their total). */
void nb_tx_gather(uint8_t *buf, const struct iovec *iov, unsigned n);
/* One grant-copy call for the batch b; failed[] marks the packets it failed. */
void nb_tx_run_copy(struct nb_queue *q, struct xnv_copy_batch *b, bool *failed, unsigned n);
/* Copy segments for bytes [from, to) of packet i into its place in the arena. */
void nb_tx_add_copies(struct nb_queue *q, const struct batch_state *st, unsigned i, uint32_t from,
                      uint32_t to);

/* switch.c: peek at destinations, then send the batch's packets for other
 * vifs on our fast-path bridge guest to guest (st->target, st->status). */
void nb_switch_fast(struct nb_queue *q, struct batch_state *st, unsigned n);

#endif
