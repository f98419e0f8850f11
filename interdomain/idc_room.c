/* Senders that find a peer's ring full sleep (or are called back) until
 * that peer posts buffers.
 * A full ring arms the ring's request event (idc_ring_arm), so the peer's
 * next buffers come with a notification on our sending port; idc_events
 * counts it here and wakes every sleeper.  The generation read before the
 * send closes the race with a notification that comes between the failed
 * send and the sleep.  Sleeping, rather than retrying on a short timer,
 * leaves the CPU to the peer that has to drain the ring: on a host where
 * all domains share few CPUs, a retrying sender slows the very receiver it
 * waits for. */
#include <errno.h>
#include <time.h>
#include "idc_int.h"

void idc_room_init(struct xnv_idc *idc)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&idc->room_cond, &a);
    pthread_condattr_destroy(&a);
    pthread_mutex_init(&idc->room_lock, NULL);
}

void idc_room_destroy(struct xnv_idc *idc)
{
    pthread_cond_destroy(&idc->room_cond);
    pthread_mutex_destroy(&idc->room_lock);
}

void idc_room_signal(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->room_lock);
    idc->room_gen++;
    pthread_cond_broadcast(&idc->room_cond);
    if (idc->room_fn)
        idc->room_fn(idc->room_ctx);
    pthread_mutex_unlock(&idc->room_lock);
}

void xnv_idc_on_room(struct xnv_idc *idc, void (*fn)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&idc->room_lock);
    idc->room_fn = fn;
    idc->room_ctx = ctx;
    pthread_mutex_unlock(&idc->room_lock);
}

uint64_t xnv_idc_room_seen(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->room_lock);
    uint64_t g = idc->room_gen;
    pthread_mutex_unlock(&idc->room_lock);
    return g;
}

bool xnv_idc_wait_room(struct xnv_idc *idc, uint64_t seen, unsigned ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&idc->room_lock);
    idc->room_waits++;
    int rc = 0;
    while (idc->room_gen == seen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&idc->room_cond, &idc->room_lock, &until);
    bool woken = idc->room_gen != seen;
    idc->room_wakeups += woken;
    pthread_mutex_unlock(&idc->room_lock);
    return woken;
}
