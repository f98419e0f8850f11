/* The channel set's event channel: every pending port drained, and a peer
 * that notifies in a loop without work paused as the netback pauses a
 * storming frontend (xnv/storm.h): once its wakeups in a row that brought
 * nothing pass XNV_STORM_EMPTY_WAKEUPS, its ports stay masked for 1 ms,
 * then 2, 4 ... 64 ms (notifications meanwhile are latched, not lost); a
 * frame from or to it ends the storm.  Per peer: the other peers' ports
 * are never held back.  A timer makes the channel set's fd readable when
 * the next pause ends. */
#include <stdint.h>
#include <sys/timerfd.h>
#include "idc_int.h"
#include "xnv/storm.h"

static struct idc_peer *owner(struct xnv_idc *idc, int port, bool **masked)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (!p->used)
            continue;
        if (p->rx.port == port) {
            *masked = &p->rx.masked;
            return p;
        }
        if (p->tx.port == port) {
            *masked = &p->tx.masked;
            return p;
        }
    }
    return NULL;
}

/* Work on p's channels: frames both ways, and frames refused. */
static uint64_t work(const struct idc_peer *p)
{
    return p->tx_frames + p->rx_frames + p->rx_errors;
}

/* p woke us (once per wakeup, however many of its ports fired): may its
 * ports be unmasked now? */
static bool wakeup(struct xnv_idc *idc, struct idc_peer *p, uint64_t now)
{
    if (p->gen != idc->gen) {
        p->gen = idc->gen;
        uint64_t w = work(p);
        p->empty = xnv_storm_count(p->empty, w != p->work_seen);
        p->work_seen = w;
        unsigned ms = xnv_storm_pause_ms(p->empty, XNV_STORM_EMPTY_WAKEUPS);
        if (ms) {
            p->pause_until_ns = now + (uint64_t)ms * 1000000u;
            idc->st.throttled++;
        }
    }
    return now >= p->pause_until_ns;
}

static void unmask(struct xnv_idc *idc, int port, bool *masked)
{
    if (port >= 0)
        xnv_evtchn_unmask(idc->ch, (xnv_port_t)port);
    *masked = false;
}

/* Pauses that ended: their ports again (an event latched meanwhile is
 * pending at once, and taken in this same wakeup). */
static void resume(struct xnv_idc *idc, uint64_t now)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (!p->used || now < p->pause_until_ns)
            continue;
        if (p->rx.masked)
            unmask(idc, p->rx.port, &p->rx.masked);
        if (p->tx.masked)
            unmask(idc, p->tx.port, &p->tx.masked);
    }
}

/* The timer for the end of the next pause (disarmed when none).  Set only
 * when that changes: with no pause (nearly always) a wakeup makes no timer
 * call at all, where each used to cost two system calls (a read and a
 * setting). */
static void arm(struct xnv_idc *idc, uint64_t now)
{
    uint64_t next = 0;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        const struct idc_peer *p = &idc->peer[i];
        if (p->used && (p->rx.masked || p->tx.masked) && (!next || p->pause_until_ns < next))
            next = p->pause_until_ns;
    }
    if (next == idc->timer_at)
        return;
    idc->timer_at = next;
    uint64_t in = next > now ? next - now : next ? 1 : 0;
    struct itimerspec its = { .it_value = { .tv_sec = (time_t)(in / 1000000000u),
                                            .tv_nsec = (long)(in % 1000000000u) } };
    timerfd_settime(idc->timerfd, 0, &its, NULL);
}

void idc_events(struct xnv_idc *idc, uint64_t now)
{
    /* A timer that fired is not read: the pause it ends is over (its
     * deadline is past `now`), so arm() below sets the timer anew, which
     * clears the expiry that makes the fd readable. */
    resume(idc, now);
    idc->gen++;
    int port;
    bool room = false;
    while ((port = xnv_evtchn_pending(idc->ch)) >= 0) {
        bool *masked;
        struct idc_peer *p = owner(idc, port, &masked);
        /* On our sending port a peer says it posted buffers. */
        room |= p && masked == &p->tx.masked;
        if (!p || wakeup(idc, p, now))
            xnv_evtchn_unmask(idc->ch, (xnv_port_t)port);
        else
            *masked = true;
    }
    if (room)
        idc_room_signal(idc);
    arm(idc, now);
}
