/* A frame as a program in a guest hands it to the netfront (xnv/netfront.h)
 * or to the direct channels (xnv/idc.h), and gets it back from them: its
 * bytes, its offloads in both forms, and the sink that takes received
 * frames straight from the receive buffers.  Shared by both engines and by
 * the frontend side of the RX ring they both use (xnv/fe_rx.h). */
#ifndef XNV_NF_FRAME_H
#define XNV_NF_FRAME_H

#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>
#include "xnv/features.h"
#include "xnv/offload.h"

/* Largest frame either way (the 16-bit size of a netif TX request). */
#define XNV_NF_MAX_FRAME    65535u
/* Offloads a caller can take on receive (XNV_F_* of features.h). */
#define XNV_NF_OFFLOAD_ALL  (XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM)

/* Which metadata of a frame xnv_nf_send() reads. */
enum xnv_nf_meta { XNV_NF_META_OFFLOAD = 0, XNV_NF_META_VNET = 1 };

struct xnv_nf_frame {
    uint8_t *data;              /* send: the frame; recv: where to put it */
    uint32_t len;               /* send: its length; recv: set to the frame length */
    uint32_t cap;               /* recv: room at data (XNV_NF_MAX_FRAME takes any) */
    uint8_t meta;               /* send: enum xnv_nf_meta */
    /* Offloads.  A partial checksum holds the pseudo-header sum in its field,
     * as with VIRTIO_NET_HDR_F_NEEDS_CSUM.  recv fills both forms. */
    struct xnv_offload off;
    struct virtio_net_hdr vh;
};

/* Where xnv_nf_recv_to() and xnv_idc_recv_to() put each frame: its
 * virtio-net header and its bytes, iov[0..n) pointing into the receive
 * buffers themselves (valid only during the call; the sender may still be
 * writing into them: copy what you decide on). */
typedef void (*xnv_nf_rx_sink)(void *ctx, const struct virtio_net_hdr *vh,
                              const struct iovec *iov, unsigned n);

#endif
