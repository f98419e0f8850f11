/* Grant-copy segments for a validated TX packet. */
#include "xnv/copy_batch.h"
#include "xnv/tx.h"

bool xnv_tx_add_copies(struct xnv_copy_batch *b, const struct xnv_tx_pkt *pkt,
                       xnv_domid_t dom, uint8_t *dst, uint16_t pkt_index)
{
    if (xnv_copy_batch_room(b) < pkt->nr_frags)
        return false;
    for (unsigned i = 0; i < pkt->nr_frags; i++) {
        const struct xnv_tx_frag *f = &pkt->frag[i];
        xnv_copy_from_gref(b, dom, f->gref, f->offset, f->len, dst, pkt_index);
        dst += f->len;
    }
    return true;
}
