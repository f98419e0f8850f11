/* The sending side of the channel set: each frame routed by its destination
 * MAC to a live channel, placed into that peer's posted buffers, and the
 * whole batch copied in one grant-copy call.  A frame is the peer's (verdict
 * 1) only once it was copied and its responses pushed; otherwise the caller
 * sends it through the vif. */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include "idc_int.h"

static struct idc_peer *route(struct xnv_idc *idc, const uint8_t *dst)
{
    if (dst[0] & 1)             /* broadcast and multicast: the bridge's job */
        return NULL;
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (p->used && p->tx.state == XNV_IDC_UP && memcmp(p->mac, dst, 6) == 0)
            return p;
    }
    return NULL;
}

/* Lock held.  The notification p is owed for frames pushed earlier. */
static void owed_notify(struct xnv_idc *idc, struct idc_peer *p)
{
    p->tx.notify_owed = false;
    idc_notify(idc, p, p->tx.port);
}

/* Lock held. */
static void notify_all_owed(struct xnv_idc *idc)
{
    for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++) {
        struct idc_peer *p = &idc->peer[i];
        if (p->used && p->tx.state == XNV_IDC_UP && p->tx.notify_owed)
            owed_notify(idc, p);
    }
}

/* Lock held.  No room: wait, unless the peer has kept us waiting too long.
 * A peer that was not told of the frames it holds would post no buffers. */
static int no_room(struct xnv_idc *idc, struct idc_peer *p)
{
    if (p->tx.notify_owed)
        owed_notify(idc, p);
    uint64_t now = xnv_now_ns();
    if (!p->tx.full_since_ns) {
        p->tx.full_since_ns = now;
        return -EAGAIN;
    }
    if (now - p->tx.full_since_ns < (uint64_t)idc->opt.stall_ms * 1000000u)
        return -EAGAIN;
    idc_tx_close(idc, p, true, "the peer posted no buffers for too long");
    return 0;
}

/* One batch under way: the frames placed so far, copied in one call. */
struct send_batch {
    struct idc_peer *peer[IDC_SEND_MAX];
    struct xnv_rx_placed placed[IDC_SEND_MAX];
    unsigned idx[IDC_SEND_MAX];         /* the caller's frame index */
    unsigned n;
};

/* Lock held.  Copy what was placed, then answer each ring once.  Every
 * segment carries its frame's index in the batch, so a failed copy is blamed
 * on its own frame: that peer's channel closes and its frames from that one
 * on take the vif (their slots go back answered with errors, and its frames
 * keep their order); the other peers' frames stand.  A frame whose channel
 * closed after it was placed was never pushed: it takes the vif too. */
static void flush(struct xnv_idc *idc, struct send_batch *sb, const struct xnv_nf_frame *f, int *verdict)
{
    if (!sb->n)
        return;
    bool failed[IDC_SEND_MAX] = { false }, bad[XNV_IDC_MAX_PEERS] = { false };
    if (xnv_gnt_copy(idc->hv, idc->cb.seg, idc->cb.n) < 0)
        memset(failed, 1, sizeof failed);   /* the call itself failed: nothing was copied */
    else
        xnv_copy_batch_failures(&idc->cb, failed, sb->n);
    for (unsigned i = 0; i < sb->n; i++) {
        struct idc_peer *p = sb->peer[i];
        unsigned pi = (unsigned)(p - idc->peer);
        if (p->tx.state != XNV_IDC_UP) {
            verdict[sb->idx[i]] = 0;
            continue;
        }
        bad[pi] |= failed[i];
        if (bad[pi]) {
            xnv_rx_fail(&p->tx.ring, &sb->placed[i]);   /* the slots go back, empty */
            verdict[sb->idx[i]] = 0;
        } else {
            p->tx_frames++;
            idc->st.tx_frames++;
            idc->st.tx_bytes += f[sb->idx[i]].len;
        }
    }
    for (unsigned i = 0; i < sb->n; i++) {
        struct idc_peer *p = sb->peer[i];
        if (p->tx.state != XNV_IDC_UP)
            continue;                   /* not this ring, or pushed already */
        if (XNV_RING_PUSH_RESPONSES(&p->tx.ring))
            p->tx.notify_owed = true;   /* told at the end of the call, or later */
        if (bad[p - idc->peer])   /* the peer revoked or never granted its buffer */
            idc_tx_close(idc, p, true, "grant copy into the peer's buffer failed");
    }
    sb->n = 0;
    xnv_copy_batch_reset(&idc->cb);
}

/* Frame fr into p's ring, its segments tagged with its place in the batch. */
static int put(struct xnv_idc *idc, const struct send_batch *sb, struct idc_peer *p,
               const struct xnv_nf_frame *fr, const struct xnv_rx_meta *m, struct xnv_rx_placed *pl)
{
    return idc_ring_put(&p->tx.ring, p->dom, fr->data, fr->len, m, &idc->cb, (uint16_t)sb->n, pl);
}

/* Lock held.  Place frame i for its peer (verdict set unless placed). */
static void place(struct xnv_idc *idc, struct send_batch *sb, struct xnv_nf_frame *f, unsigned i,
                  int *verdict, bool *blocked)
{
    if (f[i].len < XNV_ETH_HLEN) {
        verdict[i] = -EINVAL;
        return;
    }
    struct idc_peer *p = route(idc, f[i].data);
    if (!p) {
        verdict[i] = 0;
        return;
    }
    unsigned pi = (unsigned)(p - idc->peer);
    if (blocked[pi]) {              /* keep the order of frames to one peer */
        verdict[i] = -EAGAIN;
        return;
    }
    struct xnv_rx_meta m;
    const char *why = NULL;
    if (idc_frame_meta(&f[i], &m, &why)) {
        verdict[i] = -EINVAL;
        return;
    }
    struct idc_tx *t = &p->tx;
    struct xnv_rx_placed pl;
    int rc = put(idc, sb, p, &f[i], &m, &pl);
    if (rc == -ENOSPC) {            /* the segments of the frames before it first */
        flush(idc, sb, f, verdict);
        if (p->tx.state != XNV_IDC_UP) {
            verdict[i] = 0;
            return;
        }
        rc = put(idc, sb, p, &f[i], &m, &pl);
    }
    if (rc == -EAGAIN && idc_ring_arm(&t->ring, xnv_rx_slots(f[i].len, &m)))
        rc = put(idc, sb, p, &f[i], &m, &pl);
    if (rc == -EAGAIN) {
        verdict[i] = no_room(idc, p);
        blocked[pi] = verdict[i] == -EAGAIN;
        return;
    }
    if (rc) {
        idc_tx_close(idc, p, true, "the peer's ring producer runs more than a ring ahead");
        verdict[i] = 0;
        return;
    }
    t->full_since_ns = 0;
    verdict[i] = 1;
    sb->peer[sb->n] = p;
    sb->placed[sb->n] = pl;
    sb->idx[sb->n] = i;
    sb->n++;
}

int xnv_idc_send_many(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n, int *verdict)
{
    return xnv_idc_send_batch(idc, f, n, verdict, false);
}

void xnv_idc_notify_owed(struct xnv_idc *idc)
{
    pthread_mutex_lock(&idc->lock);
    notify_all_owed(idc);
    pthread_mutex_unlock(&idc->lock);
}

int xnv_idc_send_batch(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n, int *verdict, bool more)
{
    if (n > IDC_SEND_MAX)
        return -EINVAL;
    struct send_batch sb = { .n = 0 };
    bool blocked[XNV_IDC_MAX_PEERS] = { false };
    unsigned sent = 0;
    pthread_mutex_lock(&idc->lock);
    xnv_copy_batch_reset(&idc->cb);
    sigjmp_buf jb;
    if (idc->guarded && sigsetjmp(jb, 1)) {
        /* A peer ring vanished (this guest was restored or migrated): every
         * sending direction closes, every frame of this call takes the vif
         * (one already delivered may then arrive twice). */
        for (unsigned i = 0; i < XNV_IDC_MAX_PEERS; i++)
            if (idc->peer[i].used && idc->peer[i].tx.state == XNV_IDC_UP)
                idc_tx_close(idc, &idc->peer[i], true, "a peer's ring vanished (restored or migrated?)");
        for (unsigned i = 0; i < n; i++)
            if (verdict[i] != -EINVAL)
                verdict[i] = 0;
        xnv_copy_batch_reset(&idc->cb);
        pthread_mutex_unlock(&idc->lock);
        return 0;
    }
    if (idc->guarded)
        idc_guard_enter(&jb);
    for (unsigned i = 0; i < n; i++)
        verdict[i] = 0;
    for (unsigned i = 0; i < n; i++)
        place(idc, &sb, f, i, verdict, blocked);
    flush(idc, &sb, f, verdict);
    if (!more)                          /* this call's peers, and those owed from earlier calls */
        notify_all_owed(idc);
    idc_guard_leave();
    for (unsigned i = 0; i < n; i++)
        idc->st.full += verdict[i] == -EAGAIN;
    pthread_mutex_unlock(&idc->lock);
    for (unsigned i = 0; i < n; i++)
        sent += verdict[i] == 1;
    return (int)sent;
}

int xnv_idc_send(struct xnv_idc *idc, struct xnv_nf_frame *f)
{
    int verdict;
    xnv_idc_send_many(idc, f, 1, &verdict);
    return verdict;
}
