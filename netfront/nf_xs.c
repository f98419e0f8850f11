/* The state keys: ours, written only while our directory exists, and the
 * backend's. */
#include <errno.h>
#include "nf.h"

#define NF_XS_RETRIES 16

struct state_write {
    const char *dir;
    int state;
};

static int write_state_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct state_write *w = arg;
    if (!xnv_xs_exists(hv, tx, w->dir, NULL))
        return -ENOENT;
    return xnv_xs_printf(hv, tx, w->dir, "state", "%d", w->state);
}

int nf_xs_write_state(struct xnv_netfront *nf, int state)
{
    struct state_write w = { nf->dir, state };
    int rc = xnv_xs_transact(nf->hv, NF_XS_RETRIES, write_state_tx, &w);
    if (rc == 0)
        nf->my_state = state;
    return rc;
}

int nf_xs_backend_state(struct xnv_netfront *nf)
{
    uint64_t s;
    if (!nf->be_path[0] || xnv_xs_read_uint(nf->hv, XNV_XS_NO_TX, nf->be_path, "state", 255, &s) < 0)
        return XenbusStateUnknown;
    return (int)s;
}
