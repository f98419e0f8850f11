/* Pages a frontend shares with the other end (gntalloc), one grant per
 * page: the netfront's with its backend, a direct channel's with the peer
 * that sends over it.
 *
 * Every page of a connection (rings and buffers) is shared when the
 * connection is set up and revoked when it ends; in between the same pages
 * carry every frame.  A page the other end still holds when it is revoked
 * is left to it: its memory is never handed out again.  The one part of
 * the frontend side that calls the hypervisor. */
#include <errno.h>
#include <string.h>
#include "xnv/fe_rx.h"

int nf_share(struct xnv_hv *hv, xnv_domid_t peer, struct nf_page *pg, unsigned n,
             bool writable, bool zero)
{
    for (unsigned i = 0; i < n; i++) {
        xnv_gref_t ref;
        void *p = xnv_gnt_share(hv, peer, 1, &ref, writable);
        if (!p) {
            int e = errno ? errno : ENOMEM;
            nf_unshare(hv, pg, i);
            return -e;
        }
        /* The backend learns the grant only through the rings or xenstore,
         * later: clearing now is clearing before it can look. */
        if (zero)
            memset(p, 0, XNV_PAGE_SIZE);
        pg[i].addr = p;
        pg[i].gref = ref;
    }
    return 0;
}

unsigned nf_unshare(struct xnv_hv *hv, struct nf_page *pg, unsigned n)
{
    unsigned lost = 0;
    /* Newest first: the order the simulation (and gntalloc) find them fastest. */
    for (unsigned i = n; i-- > 0;) {
        if (!pg[i].addr)
            continue;
        if (xnv_gnt_unshare(hv, pg[i].addr, 1) == -EBUSY)
            lost++;
        pg[i].addr = NULL;
        pg[i].gref = 0;
    }
    return lost;
}
