/* Offload metadata (checksum and GSO) carried between the netif protocol and
 * the virtio-net header of a TAP device, in either direction, plus the header
 * parsing and checksum arithmetic it needs.  Pure functions over a frame in
 * private memory. */
#ifndef XNV_OFFLOAD_H
#define XNV_OFFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_net.h>
#include "xnv/netif.h"
#include "xnv/rx.h"

/* Where the headers of an Ethernet frame are. */
struct xnv_hdrs {
    uint16_t ethertype;   /* after at most one VLAN tag */
    uint16_t l3_off;
    uint16_t l4_off;
    uint16_t l4_end;      /* end of the TCP/UDP header */
    uint8_t l4_proto;     /* IPPROTO_TCP / IPPROTO_UDP / other */
    bool ipv6;
    bool fragment;        /* an IP fragment: no L4 checksum possible */
};
/* 0, or -EINVAL when the headers are truncated or malformed. */
int xnv_parse_headers(const uint8_t *f, uint32_t len, struct xnv_hdrs *h);
/* The same up to the IP header and its extensions (l4_end left 0): a
 * fragment after the first, which has no TCP/UDP header, parses too. */
int xnv_parse_l3(const uint8_t *f, uint32_t len, struct xnv_hdrs *h);

/* The neutral form of one frame's offload state. */
struct xnv_offload {
    bool csum_partial;    /* L4 checksum still to be completed */
    bool csum_valid;      /* checksum already verified */
    uint8_t gso_type;     /* XEN_NETIF_GSO_TYPE_* */
    uint16_t gso_size;
    uint16_t csum_start;  /* valid when csum_partial */
    uint16_t csum_offset;
    uint16_t hdr_len;     /* valid when gso_type != NONE */
};

/* From netif (TX flags NETTXF_* and a GSO extra): locate the L4 header for a
 * partial checksum or GSO and store the pseudo-header sum in the checksum
 * field.  -EINVAL (drop) with *why when the headers do not allow it. */
int xnv_offload_from_netif(uint8_t *f, uint32_t len, uint16_t nettxf_flags,
                           uint8_t gso_type, uint16_t gso_size,
                           struct xnv_offload *o, const char **why);
/* The same for a frame of len bytes whose first head_len bytes only are
 * contiguous at f: the headers are looked for there alone (-EINVAL when
 * they do not end within head_len). */
int xnv_offload_from_netif_head(uint8_t *f, uint32_t head_len, uint32_t len,
                                uint16_t nettxf_flags, uint8_t gso_type, uint16_t gso_size,
                                struct xnv_offload *o, const char **why);
/* From a virtio-net header (as a TAP device hands it over).  -EINVAL with
 * *why for a header that does not fit the frame or an unsupported GSO type. */
int xnv_offload_from_vnet(const struct virtio_net_hdr *vh, uint32_t len,
                          struct xnv_offload *o, const char **why);
void xnv_offload_to_vnet(const struct xnv_offload *o, struct virtio_net_hdr *vh);
/* netif flags for each direction. */
uint16_t xnv_offload_rx_flags(const struct xnv_offload *o);   /* NETRXF_* */
uint16_t xnv_offload_tx_flags(const struct xnv_offload *o);   /* NETTXF_* */
/* What a frame with these offloads carries onto an RX ring (xnv/rx.h): its
 * RX flags, and its GSO type and size.  The one conversion every sender
 * onto a guest's RX ring uses: netback's receive path and switch fast
 * path, and the direct channels. */
struct xnv_rx_meta xnv_offload_rx_meta(const struct xnv_offload *o);
/* What xnv_offload_from_netif would decide for a frame of len bytes, from
 * its first `have` bytes at f, changing nothing: 0 when it would take the
 * flags (*h then holds the headers, unless the flags ask for nothing),
 * -EINVAL with *why when it would refuse them, -EAGAIN when the headers run
 * past those bytes (too few to tell). */
int xnv_offload_check_netif(const uint8_t *f, uint32_t have, uint32_t len, uint16_t nettxf_flags,
                            uint8_t gso_type, struct xnv_hdrs *h, const char **why);
/* From netif RX flags (a frontend receiving) and its GSO extra. */
int xnv_offload_from_netif_rx(uint8_t *f, uint32_t len, uint16_t netrxf_flags,
                              uint8_t gso_type, uint16_t gso_size,
                              struct xnv_offload *o, const char **why);

/* Adapt o to what the receiving side negotiated (XNV_F_* flags of
 * features.h): a partial checksum it cannot take is completed in software
 * here.  -EOPNOTSUPP when the frame is GSO of a type the peer cannot take
 * (the sender must not have produced it). */
int xnv_offload_for_peer(uint8_t *f, uint32_t len, struct xnv_offload *o, uint32_t peer_flags);

/* Does a netif peer, which finds the L4 header itself, find this partial
 * checksum where o says?  True for an unfragmented TCP/UDP frame whose L4
 * header starts at csum_start with its checksum field at csum_offset; *h
 * then holds the headers. */
bool xnv_offload_csum_findable(const uint8_t *f, uint32_t len, const struct xnv_offload *o,
                               struct xnv_hdrs *h);

/* Checksum arithmetic (RFC 1071). */
uint32_t xnv_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t xnv_csum_fold(uint32_t sum);
/* Sum of the IPv4/IPv6 pseudo header for an L4 segment of l4_len bytes. */
uint32_t xnv_pseudo_sum(const uint8_t *f, const struct xnv_hdrs *h, uint32_t l4_len);
/* Complete the checksum of f[start..len) into f[start + offset]. */
int xnv_csum_complete(uint8_t *f, uint32_t len, uint16_t start, uint16_t offset);
/* Verify the L4 checksum of a complete frame: true when it is right. */
bool xnv_csum_verify_l4(const uint8_t *f, uint32_t len);

#endif
