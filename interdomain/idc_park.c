/* A peer that leaves the backend's list while it lives (or we cannot tell)
 * is parked: its channels close, but the pages of our receive ring stay
 * shared with it for park_ms.  Listed again meanwhile, it gets the same
 * pages back, so however often it makes the backend drop and list it again
 * (by flipping its opt-in), it never holds more than one ring's worth of
 * ours.  After park_ms the pages are revoked; a peer that still held any of
 * them then (an honest one let go of its ring mapping when our publication
 * went) keeps what it held, but gets no receive ring from us any more: its
 * frames to us take the vif.  Where the hypervisor cannot tell (real Xen),
 * every peer whose pages were revoked that way is taken to hold them.  The
 * slot stays to remember the refusal until the peer dies or we close or
 * start over. */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include "idc_int.h"

void idc_park(struct xnv_idc *idc, struct idc_peer *p)
{
    if (p->watching)
        xnv_xs_unwatch(idc->hv, p->ch_path, p->token);
    p->watching = false;
    /* A failed sending direction stays failed: it waits retry_ms whatever
     * the peer does (idc_tx_evaluate). */
    if (p->tx.state == XNV_IDC_UP)
        idc_tx_close(idc, p, false, "the peer is no longer listed");
    else
        idc_peer_log(idc, p, LOG_INFO, "no longer listed");
    idc_rx_withdraw(idc, p);
    p->listed = false;
    p->parked_at_ns = xnv_now_ns();
}

void idc_unpark(struct xnv_idc *idc, struct idc_peer *p, const uint8_t mac[6])
{
    memcpy(p->mac, mac, 6);
    p->listed = true;
    if (idc_rx_open(idc, p) == -EPERM)
        idc_peer_log(idc, p, LOG_WARNING, "no receive ring for it: %s (its frames to us take the vif)",
                     p->refused);
    /* Fires once at once: attaches if the peer published already. */
    p->watching = xnv_xs_watch(idc->hv, p->ch_path, p->token) == 0;
    if (!p->watching)
        idc_peer_log(idc, p, LOG_WARNING, "cannot watch %s", p->ch_path);
}

void idc_park_expire(struct xnv_idc *idc, uint64_t now)
{
    uint64_t park = (uint64_t)idc->opt.park_ms * 1000000u;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (!p->used || p->listed || now - p->parked_at_ns < park)
            continue;
        if (p->rx.ring_pg.addr) {
            unsigned pages = p->rx.rx.nbufs + 1, lost = idc_rx_release(idc, p);
            /* Real Xen's gntalloc never says who still maps a page: there
             * the peer may hold every one of them. */
            p->kept += idc->holders_hidden ? pages : lost;
            if (p->kept && !p->refused) {
                p->refused = idc->holders_hidden
                             ? "pages of an earlier receive ring were taken back while it was away, and it "
                               "may still hold them (this hypervisor cannot tell)"
                             : "it held pages of an earlier receive ring when we took them back";
                idc_peer_log(idc, p, LOG_WARNING, "%s (%u pages)", p->refused, p->kept);
            }
        }
        /* A refusal, or a wait after a fault, outlives the parking. */
        if (!p->refused && !(p->tx.state == XNV_IDC_FAILED &&
                             now - p->tx.failed_at_ns < (uint64_t)idc->opt.retry_ms * 1000000u))
            idc_drop_peer(idc, p);
    }
}
