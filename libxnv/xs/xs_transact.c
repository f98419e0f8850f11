/* A xenstore transaction run again when a concurrent change made its
 * commit lose, a bounded number of times. */
#include <errno.h>
#include "xnv/xs.h"

int xnv_xs_transact(struct xnv_hv *hv, unsigned tries, xnv_xs_tx_fn fn, void *arg)
{
    for (unsigned i = 0; i < tries; i++) {
        xnv_xs_tx_t tx;
        int rc = xnv_xs_tx_start(hv, &tx);
        if (rc)
            return rc;
        rc = fn(hv, tx, arg);
        if (rc) {
            xnv_xs_tx_end(hv, tx, true);
            return rc;
        }
        rc = xnv_xs_tx_end(hv, tx, false);
        if (rc != -EAGAIN)
            return rc;
    }
    return -EAGAIN;
}
