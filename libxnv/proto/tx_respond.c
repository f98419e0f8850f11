/* Answering the slots a TX packet consumed, in ring order. */
#include "xnv/tx.h"

void xnv_tx_respond(netif_tx_back_ring_t *ring, const struct xnv_tx_pkt *pkt, int16_t status)
{
    for (unsigned i = 0; i < pkt->nr_consumed; i++) {
        netif_tx_response_t *rsp = RING_GET_RESPONSE(ring, ring->rsp_prod_pvt);
        switch (pkt->slot[i].kind) {
        case XNV_TX_SLOT_EXTRA:
            rsp->status = NETIF_RSP_NULL;
            break;
        case XNV_TX_SLOT_EMPTY:
            rsp->id = pkt->slot[i].id;
            rsp->status = NETIF_RSP_OKAY;
            break;
        default:
            rsp->id = pkt->slot[i].id;
            rsp->status = status;
            break;
        }
        ring->rsp_prod_pvt++;
    }
}
