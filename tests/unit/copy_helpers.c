/* Grant-copy helpers of the test backends and checks (copy_helpers.h). */
#include "copy_helpers.h"

bool tx_add_copies(struct xnv_copy_batch *b, const struct xnv_tx_pkt *pkt, xnv_domid_t dom,
                   uint8_t *dst, uint16_t pkt_index)
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

bool copy_batch_pkt_ok(const struct xnv_copy_batch *b, uint16_t pkt)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->pkt[i] == pkt && b->seg[i].status != GNTST_okay)
            return false;
    return true;
}
