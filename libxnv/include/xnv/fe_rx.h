/* The frontend half of a netif RX ring, and the pages it shares: what the
 * netfront's queues (netfront/) and the direct channels' receiving side
 * (interdomain/) both run.  The other end (a netback, or a peer sending
 * over a channel) places frames into the buffers posted here (xnv/rx.h is
 * that end).
 *
 *   fe_pool.c     sharing pages with the other end, one grant each, and
 *                 revoking them (hypervisor calls);
 *   fe_rx.c       the ring: buffers posted, responses read back, checked
 *                 on a private copy (pure functions over ring memory and
 *                 private bookkeeping);
 *   fe_deliver.c  a received frame handed on: its offloads decided on a
 *                 private copy of its headers, adapted to the receiver;
 *   fe_offload.c  a caller's frame on its way out: its offloads, checked.
 *
 * The names keep the netfront's nf_ prefix: the netfront is where this
 * code began, and the channels reuse it as it is. */
#ifndef XNV_FE_RX_H
#define XNV_FE_RX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include "xnv/hv.h"
#include "xnv/netif.h"
#include "xnv/nf_frame.h"
#include "xnv/offload.h"

#define NF_RX_RING      XNV_NETIF_RX_RING_SIZE      /* 256 */
#define NF_MAX_SLOTS    XEN_NETIF_NR_SLOTS_MIN      /* data slots of one frame */

/* One page shared with the other end (a backend, or a peer sending over a
 * direct channel). */
struct nf_page {
    uint8_t *addr;
    grant_ref_t gref;
};

/* ---- fe_pool.c: sharing pages ------------------------------------------------ */

/* Share n pages with peer, one grant each (so that each can be revoked, and
 * lost, on its own).  zero: clear them before anybody learns their grant.
 * 0, or -errno with nothing left shared (-ENOSPC: the grant limit). */
int nf_share(struct xnv_hv *hv, xnv_domid_t peer, struct nf_page *pg, unsigned n,
             bool writable, bool zero);
/* Revoke and release every page in pg[0..n) that is shared; returns how
 * many the peer still held (lost: the memory stays with it, never reused). */
unsigned nf_unshare(struct xnv_hv *hv, struct nf_page *pg, unsigned n);

/* ---- fe_rx.c: the receive ring ---------------------------------------------- */

struct nf_rx {
    netif_rx_front_ring_t ring;
    unsigned nbufs;
    struct nf_page buf[NF_RX_RING];
    uint16_t slot_buf[NF_RX_RING];  /* which buffer each ring slot holds */
    uint16_t free_buf[NF_RX_RING];
    unsigned nfree;
};

enum nf_rx_verdict { NF_RX_NONE = 0, NF_RX_FRAME, NF_RX_DROP };

struct nf_rx_frame {
    uint32_t len;
    uint16_t flags;                 /* NETRXF_* of the first slot */
    uint8_t gso_type;
    uint16_t gso_size;
    unsigned slots;                 /* ring slots consumed */
    bool fault;                     /* dropped for what the backend sent (else: too
                                       large for the caller's buffer) */
    const char *why;                /* NF_RX_DROP: what was wrong */
    /* nf_rx_gather, NF_RX_FRAME: the frame's bytes where the backend put
     * them, in the receive buffers (held until nf_rx_release). */
    unsigned nseg;
    struct iovec seg[NF_MAX_SLOTS];
    uint16_t seg_buf[NF_MAX_SLOTS];  /* the buffer each segment lies in */
};

void nf_rx_init(struct nf_rx *r, void *ring_page, unsigned nbufs);
/* Post every free buffer the ring has room for (not pushed); how many. */
unsigned nf_rx_refill(struct nf_rx *r);
bool nf_rx_push(struct nf_rx *r);
/* Read the response producer once: 0, or -EPROTO (why) when it runs ahead of
 * the requests posted or went backwards. */
int nf_rx_prod(const struct nf_rx *r, RING_IDX *prod, const char **why);
/* Ask for a notification on the next response; then re-read the producer
 * (0 / -EPROTO as nf_rx_prod). */
int nf_rx_arm(struct nf_rx *r, RING_IDX *prod, const char **why);
/* Read one frame (every response copied out once, every rule checked on
 * that copy), at most cap bytes long.  NF_RX_FRAME: f->seg[0..nseg) point
 * into the receive buffers, which stay out of the free list until
 * nf_rx_release(r, f); they are the frontend's own pages, but the backend
 * may still write into them, so only what the caller copies out is stable.
 * NF_RX_DROP / NF_RX_NONE: nothing is held. */
enum nf_rx_verdict nf_rx_gather(struct nf_rx *r, RING_IDX prod, uint32_t cap, struct nf_rx_frame *f);
/* Give the buffers of a gathered frame back (to be reposted by
 * nf_rx_refill); a second call does nothing. */
void nf_rx_release(struct nf_rx *r, struct nf_rx_frame *f);
/* Copy bytes [from, from + n) of a gathered frame to dst; how many there were. */
uint32_t nf_rx_copy_out(const struct nf_rx_frame *f, uint32_t from, uint8_t *dst, uint32_t n);
/* The segments of a gathered frame from byte `from` on, into out[] (room
 * for NF_MAX_SLOTS); how many. */
unsigned nf_rx_tail_iov(const struct nf_rx_frame *f, uint32_t from, struct iovec *out);
/* fe_deliver.c.  Hand a gathered frame to sink (it stays held: the caller
 * releases it after): NF_RX_HEAD bytes of headers copied and offloads
 * decided on that copy, adapted to what the receiver takes (peer_flags,
 * XNV_F_*), the rest straight from the buffers; the whole frame is copied
 * into scratch (XNV_NF_MAX_FRAME bytes) only when its offloads need more.
 * 0 (handed to sink); -EINVAL (why) when its offloads are refused. */
#define NF_RX_HEAD 256u
int nf_rx_deliver(const struct nf_rx_frame *f, uint32_t peer_flags, uint8_t *scratch,
                  xnv_nf_rx_sink sink, void *ctx, const char **why);
/* Where received frames go: copied into the caller's frames f, or handed
 * to a sink straight from the receive buffers. */
struct nf_rx_dest {
    struct xnv_nf_frame *f;
    xnv_nf_rx_sink sink;
    void *ctx;
};
/* A gathered frame to d (to the sink, or copied into d->f[i]) with its
 * offloads adapted to peer_flags; released either way.  false (rf->why)
 * when its offloads are refused. */
bool nf_rx_hand_over(struct nf_rx *r, struct nf_rx_frame *rf, uint32_t peer_flags, uint8_t *scratch,
                     const struct nf_rx_dest *d, unsigned i);
/* nf_rx_gather, then the frame copied into dst[0..cap) and released. */
enum nf_rx_verdict nf_rx_read(struct nf_rx *r, RING_IDX prod, uint8_t *dst, uint32_t cap,
                              struct nf_rx_frame *f);

/* ---- fe_offload.c: a frame on its way out --------------------------------------- */
/* Its offloads (from the virtio-net header or f->off), checked: a GSO frame
 * of a known type with a segment size, a partial checksum inside the frame.
 * 0; -EINVAL (why) otherwise. */
int nf_frame_offload(const struct xnv_nf_frame *f, struct xnv_offload *o, const char **why);

#endif
