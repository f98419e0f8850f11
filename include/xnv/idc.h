/* The direct inter-VM channel (tier 2 of the fast path): guests that run
 * xnv-netfront and share a bridge exchange frames with each other directly,
 * by grant copy, without their backend in the path.
 *
 * Discovery: the backend service lists, under the backend directory of a
 * vif whose frontend opted in (device/vif/<N>/request-xnv-channels = 1),
 * the other opted-in guests on the same bridge: xnv-peers/<domid> = <mac>.
 *
 * One channel per direction, owned by its receiver B: B shares a netif RX
 * ring and buffer pages with the sender A, allocates an event channel for A
 * and publishes /local/domain/B/data/xnv-channel/<A>/{ring-ref,
 * event-channel,serial} readable by A only.  A maps the ring and places
 * frames into B's buffers as a netback places them into a netfront's.
 *
 * Frames for a MAC with a live channel take it (xnv_idc_send returns 1);
 * everything else, and every frame when a channel cannot take it, is the
 * caller's to send through the vif (xnv_idc_send returns 0).  The peer is
 * never trusted: its xenstore values and ring contents are checked, and a
 * misbehaving or vanished peer only costs its own channels.
 *
 * Threads: every call takes the channel set's lock; one thread runs
 * xnv_idc_process() (the control plane and event channel), others may send
 * and receive. */
#ifndef XNV_IDC_H
#define XNV_IDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/nf_frame.h"   /* struct xnv_nf_frame, xnv_nf_rx_sink */

struct xnv_idc;

#define XNV_IDC_MAX_PEERS   64u
#define XNV_IDC_MIN_BUFS    18u     /* one largest frame (XEN_NETIF_NR_SLOTS_MIN) */
#define XNV_IDC_MAX_BUFS    256u    /* a netif RX ring's slots */

struct xnv_idc_options {
    unsigned bufs;              /* receive buffer pages per peer (18..256) */
    unsigned stall_ms;          /* a peer that leaves its ring full this long while
                                   frames wait loses the channel (they take the vif) */
    unsigned retry_ms;          /* after a fault or stall: wait before attaching again,
                                   whatever the peer publishes meanwhile */
    unsigned park_ms;           /* a peer that leaves the list gets the same receive
                                   pages back if listed again within this; after it they
                                   are revoked, and a peer that still held some gets no
                                   receive ring again (0: revoked at once) */
    void (*log)(void *arg, int level, const char *msg);   /* NULL: stderr */
    void *log_arg;
};
/* 256 buffers, 1 s stall, 5 s retry, 60 s parking. */
void xnv_idc_options_default(struct xnv_idc_options *o);

/* Channels for device/vif/<devid> of hv's domain.  The set reads every
 * watch event of hv: give it a handle of its own.  Writes the opt-in key. */
struct xnv_idc *xnv_idc_open(struct xnv_hv *hv, unsigned devid, const struct xnv_idc_options *o,
                             char *err, size_t errlen);
/* Close every channel (publications removed, grants revoked) and free. */
void xnv_idc_close(struct xnv_idc *idc);
/* Drop every channel and start over from the peer list: after this guest's
 * own netfront reconnected (save/restore, migration: new domid, new grants). */
void xnv_idc_reset(struct xnv_idc *idc);

/* Readable when the control plane or a channel has work. */
int xnv_idc_fd(const struct xnv_idc *idc);
/* Handle pending xenstore and event-channel work; never blocks. */
void xnv_idc_process(struct xnv_idc *idc);

/* Send one frame (its metadata as in xnv_nf_send; a partial checksum the
 * peer cannot find may be completed in f->data).  1: it went over a
 * channel; 0: no live channel for its destination MAC, send it through the
 * vif; -EAGAIN: the peer's ring is full, try again later (after stall_ms
 * the channel closes and the answer becomes 0).  Malformed frames: -EINVAL. */
int xnv_idc_send(struct xnv_idc *idc, struct xnv_nf_frame *f);
/* Up to XNV_IDC_SEND_MAX frames at once, in one grant-copy call: verdict[i]
 * as xnv_idc_send() answers for f[i] (frames for one peer keep their order:
 * after one answered -EAGAIN the later ones are too).  Returns how many
 * went over channels, or -EINVAL when n is too large. */
#define XNV_IDC_SEND_MAX 16u
int xnv_idc_send_many(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n, int *verdict);
/* The same, from a caller with more frames at hand (more = true): the
 * peers are not notified of these frames yet, so that a peer wakes once
 * for several batches; xnv_idc_notify_owed(), or the next call with
 * more = false, notifies every peer owed.  A peer whose ring fills, or
 * whose channel closes, is notified at once. */
int xnv_idc_send_batch(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n, int *verdict, bool more);
void xnv_idc_notify_owed(struct xnv_idc *idc);
/* Waiting for a full ring without spinning: fn(ctx) is called from
 * xnv_idc_process's thread each time a peer posts buffers on a ring that
 * was full (after a -EAGAIN), so the sender tries again then (and now and
 * then anyway: the stall check needs a retry).  NULL: no more calls; it
 * returns after any call under way. */
void xnv_idc_on_room(struct xnv_idc *idc, void (*fn)(void *ctx), void *ctx);
/* Receive up to n frames from every channel into the caller's buffers
 * (f[i].data, f[i].cap); fills len, off and vh.  Returns how many. */
int xnv_idc_recv(struct xnv_idc *idc, struct xnv_nf_frame *f, unsigned n);
/* As xnv_idc_recv(), without the copy into caller buffers: up to n frames
 * handed to sink straight from the receive buffers (xnv_nf_rx_sink). */
int xnv_idc_recv_to(struct xnv_idc *idc, xnv_nf_rx_sink sink, void *ctx, unsigned n);

enum xnv_idc_dir_state {
    XNV_IDC_DOWN = 0,
    XNV_IDC_UP,
    XNV_IDC_FAILED,             /* closed for a fault or a stall; retried later */
};
struct xnv_idc_peer_info {
    xnv_domid_t dom;
    uint8_t mac[6];
    enum xnv_idc_dir_state rx, tx;  /* our ring for it / its ring for us */
    uint64_t tx_frames, rx_frames, rx_errors, fallbacks, notifies;
    const char *last_error;     /* static text, NULL if none */
};
/* -ENOENT when dom is not a listed peer. */
int xnv_idc_peer(struct xnv_idc *idc, xnv_domid_t dom, struct xnv_idc_peer_info *out);
/* Listed peers now. */
unsigned xnv_idc_npeers(struct xnv_idc *idc);

struct xnv_idc_stats {
    uint64_t tx_frames, tx_bytes, rx_frames, rx_bytes;
    uint64_t rx_errors;         /* malformed frames from a peer, dropped */
    uint64_t fallbacks;         /* channels closed for a fault, stall or peer loss */
    uint64_t lost_pages;        /* pages a peer still held when revoked */
    uint64_t throttled;         /* storm pauses: a peer's wakeups brought no work */
    uint64_t full;              /* frames answered -EAGAIN: a peer's ring was full */
    uint64_t room_signals;      /* a peer's new buffers on a ring that was full */
    uint64_t wakeups;           /* calls of xnv_idc_process (the channel thread's wakeups) */
    uint64_t notifies;          /* notifications sent to peers (frames sent, buffers posted) */
};
void xnv_idc_stats(struct xnv_idc *idc, struct xnv_idc_stats *out);

#endif
