/* One data-path thread per queue.  While there is work it keeps polling the
 * rings (no event needed); when idle it re-arms the ring events and sleeps on
 * the event channel, the port and a stop eventfd.  An event storm that brings
 * no work is throttled so that a hostile guest cannot make the thread spin. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "nb.h"
#include "xnv/storm.h"
#include "xnv/thread.h"


/* One read of the event channel per wakeup.  A queue has one channel, so
 * a second read would almost always find nothing, and every read is a
 * system call (in a PV dom0 a trip through the hypervisor).  A port still
 * pending keeps the device readable: the next poll returns at once and
 * takes it. */
static void take_event(struct nb_queue *q)
{
    int port = xnv_evtchn_pending(q->ch);
    if (port >= 0) {
        XNV_STAT_ADD(q->stats.notify_recv, 1);
        xnv_evtchn_unmask(q->ch, (xnv_port_t)port);
    }
}

static void wake(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) < 0) { /* counter full: a wakeup is pending anyway */ }
}

void nb_vif_break(struct nb_vif *v, const char *why)
{
    const char *none = NULL;
    atomic_compare_exchange_strong(&v->broken_why, &none, why);
    atomic_store(&v->broken, true);
    wake(v->nb->wake_fd);
}

/* Ask the guest to notify tq's RX channel once it has posted need buffers
 * beyond those consumed, unless an earlier notification is still asked for
 * (another queue's frame waiting there needs fewer); true when the room is
 * there already.  Under tq's lock: other threads consume tq's requests. */
static bool rx_arm(struct nb_queue *tq, unsigned need)
{
    netif_rx_back_ring_t *r = &tq->rx;
    pthread_mutex_lock(&tq->rx_lock);
    RING_IDX want = r->req_cons + need, prod = r->sring->req_prod;
    if ((RING_IDX)(r->sring->req_event - prod - 1) >= (RING_IDX)(want - prod - 1))
        r->sring->req_event = want;
    mb();   /* the event is set before the producer is read again */
    bool room = (RING_IDX)(r->sring->req_prod - r->req_cons) >= need;
    pthread_mutex_unlock(&tq->rx_lock);
    return room;
}

/* Frames wait for guest buffers, on our ring or, steered there by the
 * frontend's hash mapping, on another queue's.  Ask to be woken only once
 * each ring has room for the first frame bound for it (asking for "any new
 * request" would wake us, and spin us, on every buffer while a large frame
 * still cannot fit): the guest's event on our ring wakes us; on another
 * queue's ring it wakes that queue's thread, which wakes us (kick_waiters). */
static bool rx_room_arrived(struct nb_queue *q)
{
    unsigned need[NB_MAX_QUEUES];
    nb_rx_needs(q, need);
    bool room = false;
    for (unsigned t = 0; t < q->vif->nqueues; t++) {
        struct nb_queue *tq = &q->vif->q[t];
        if (tq != q)
            atomic_store(&tq->rx_wait_need[q->id], need[t]);   /* before the check below */
        if (need[t] && rx_arm(tq, need[t]))
            room = true;
    }
    return room;
}

/* Wake the threads of the vif's other queues whose frames wait for room on
 * our ring, once the guest posted what the first one needs; true when one
 * was woken (work done for the guest, not an empty wakeup). */
static bool kick_waiters(struct nb_queue *q)
{
    struct nb_vif *v = q->vif;
    bool woke = false, known = false;
    RING_IDX room = 0;
    for (unsigned i = 0; i < v->nqueues; i++) {
        unsigned need = atomic_load(&q->rx_wait_need[i]);
        if (!need)
            continue;
        if (!known) {
            pthread_mutex_lock(&q->rx_lock);
            room = q->rx.sring->req_prod - q->rx.req_cons;
            pthread_mutex_unlock(&q->rx_lock);
            known = true;
        }
        if (room >= need && atomic_compare_exchange_strong(&q->rx_wait_need[i], &need, 0)) {
            wake(v->q[i].wake_fd);
            woke = true;
        }
    }
    return woke;
}

/* Arm the ring events; true when work arrived meanwhile. */
static bool final_check(struct nb_queue *q)
{
    int tx_more = 0, ctrl_more = 0;
    RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, tx_more);
    if (q->id == 0 && q->vif->ctrl_page)
        RING_FINAL_CHECK_FOR_REQUESTS(&q->vif->ctrl, ctrl_more);
    bool rx_more = q->npend && rx_room_arrived(q);
    return tx_more || rx_more || ctrl_more;
}

void nb_queue_name(const struct nb_queue *q, char *buf, size_t len)
{
    snprintf(buf, len, "vif%u.%u-q%u", (unsigned)q->vif->domid, q->vif->devid, q->id);
}

static void *queue_main(void *arg)
{
    struct nb_queue *q = arg;
    char name[16];
    nb_queue_name(q, name, sizeof name);
    pthread_setname_np(pthread_self(), name);   /* for top -H, ps -L and perf */
    /* ahead of dom0's ordinary processes (xnv/thread.h); unprivileged: as is */
    xnv_thread_set_nice(0, XNV_DATA_PATH_NICE);
    unsigned stall_poll_ms = q->vif->nb->cfg.stall_timeout_ms / 4 + 1;
    while (!atomic_load(&q->stop)) {
        struct nb_clock now = { 0, 0 };
        uint64_t tx_wait = 0;
        nb_arenas_promote(q);
        unsigned work = nb_ctrl_poll(q) + kick_waiters(q);
        if (!q->fatal_why)
            work += nb_tx_batch(q, &now, &tx_wait);
        if (!q->fatal_why)
            work += nb_rx_batch(q, &now);
        nb_queue_flush_notify(q);
        if (q->fatal_why) {
            nb_vif_break(q->vif, q->fatal_why);
            break;
        }
        if (work) {
            q->empty_wakeups = 0;
            continue;
        }
        XNV_STAT_ADD(q->stats.idle_loops, 1);
        if (!tx_wait && final_check(q))
            continue;

        struct pollfd pfd[3] = {
            { .fd = xnv_evtchn_fd(q->ch), .events = POLLIN },
            { .fd = q->wake_fd, .events = POLLIN },
            { .fd = xnv_port_fd(q->vif->port, q->id), .events = POLLIN },
        };
        int nfds = nb_rx_port_wanted(q) ? 3 : 2;
        int timeout = -1;
        if (tx_wait)
            timeout = (int)(tx_wait / 1000000u) + 1;
        if (q->npend && (timeout < 0 || (unsigned)timeout > stall_poll_ms))
            timeout = (int)stall_poll_ms;
        int ready = poll(pfd, (nfds_t)nfds, timeout);
        if (ready < 0 && errno != EINTR)
            break;
        q->port_dry = xnv_port_seen_empty(nfds == 3, ready, pfd[2].revents);
        q->port_polled = nfds == 3 && !q->port_dry;
        uint64_t n;
        if ((pfd[1].revents & POLLIN) && read(q->wake_fd, &n, sizeof n) < 0) { /* raced: drained */ }
        if (pfd[0].revents & POLLIN) {
            /* A storm: pause before taking the next event (xnv/storm.h);
             * a frontend with real work ends it at once (the count resets). */
            q->empty_wakeups = xnv_storm_count(q->empty_wakeups, false);
            unsigned ms = xnv_storm_pause_ms(q->empty_wakeups, NB_STORM_EMPTY_WAKEUPS);
            if (ms)
                poll(NULL, 0, (int)ms);
            take_event(q);
        }
    }
    return NULL;
}

int nb_queue_start(struct nb_queue *q)
{
    const struct xnv_netback_config *cfg = &q->vif->nb->cfg;
    q->txp = calloc(NB_TX_BATCH, sizeof *q->txp);
    q->pend = calloc(cfg->rx_queue_frames, sizeof *q->pend);
    int arenas = nb_arenas_alloc(q);
    q->tx_gather = malloc(NB_FRAME_MAX);
    q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!q->txp || !q->pend || arenas || !q->tx_gather || q->wake_fd < 0 ||
        /* fast path: up to 17 destination pages + 19 source pieces per packet */
        xnv_copy_batch_init(&q->txb, NB_TX_BATCH * (2 * XNV_TX_MAX_FRAGS + 2)) ||
        xnv_copy_batch_init(&q->rxb, NB_RX_BATCH * (NB_FRAME_MAX / XNV_PAGE_SIZE + 1)))
        return -ENOMEM;
    atomic_store(&q->stop, false);
    q->fatal_why = NULL;
    q->npend = 0;
    nb_rx_order_reset(q);
    q->notify_tx_due = q->notify_rx_due = false;
    q->carrier_off = false;
    q->stall_since_ns = 0;
    if (pthread_create(&q->thread, NULL, queue_main, q))
        return -EAGAIN;
    q->running = true;
    return 0;
}

void nb_queue_stop(struct nb_queue *q)
{
    if (!q->running)
        return;
    atomic_store(&q->stop, true);
    wake(q->wake_fd);
    pthread_join(q->thread, NULL);
    q->running = false;
}

/* Free what nb_queue_start allocated (after nb_queue_stop). */
void nb_queue_release(struct nb_queue *q)
{
    free(q->txp);
    free(q->pend);
    nb_arenas_free(q);
    free(q->tx_gather);
    xnv_copy_batch_free(&q->txb);
    xnv_copy_batch_free(&q->rxb);
    if (q->wake_fd >= 0)
        close(q->wake_fd);
    q->txp = NULL;
    q->pend = NULL;
    q->tx_gather = NULL;
    q->wake_fd = -1;
}
