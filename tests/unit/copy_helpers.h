/* Grant-copy helpers of the test backends and checks, not of the product:
 * the engines lay out and check their copies their own way (netback's
 * guest transmit gives each slot a page of its own, nb_tx_add_copies, and
 * reads failures batch-wide, xnv_copy_batch_failures).  Used by the
 * netfront's test backend (nf_test_backend.c), the unit tests and the
 * fuzz targets tx_read and rx_place. */
#ifndef XNV_TEST_COPY_HELPERS_H
#define XNV_TEST_COPY_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/copy_batch.h"
#include "xnv/hv.h"
#include "xnv/tx.h"

/* Add one copy segment per fragment of pkt (from domain dom's grants) into
 * the contiguous private buffer dst (at least pkt->len bytes).  Returns false,
 * adding nothing, when the batch has no room for all of them. */
bool tx_add_copies(struct xnv_copy_batch *b, const struct xnv_tx_pkt *pkt, xnv_domid_t dom,
                   uint8_t *dst, uint16_t pkt_index);

/* After the copy: did every segment of packet pkt succeed? */
bool copy_batch_pkt_ok(const struct xnv_copy_batch *b, uint16_t pkt);

#endif
