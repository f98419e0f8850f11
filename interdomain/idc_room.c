/* Senders that find a peer's ring full are called back when that peer posts
 * buffers.  A full ring arms the ring's request event (idc_ring_arm) for
 * as many buffers as the first waiting frame needs, so the peer's buffers
 * come with one notification on our sending port once they are enough;
 * idc_events counts it here and calls the sender's hook (the agent wakes
 * its queue threads, which hold the frames meanwhile).  Waiting for that,
 * rather than retrying on a short timer, leaves the CPU to the peer that
 * has to drain the ring: on a host where all domains share few CPUs, a
 * retrying sender slows the very receiver it waits for. */
#include "idc_int.h"

void idc_room_init(struct xnv_idc *idc) { pthread_mutex_init(&idc->room_lock, NULL); }

void idc_room_destroy(struct xnv_idc *idc) { pthread_mutex_destroy(&idc->room_lock); }

void idc_room_signal(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->room_lock);
    idc->room_signals++;
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
