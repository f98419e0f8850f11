/* The Xen netif protocol headers, as libxen-dev ships them, made usable from
 * userspace: <xen/io/ring.h> expects the includer to supply the integer
 * types and the memory barriers. */
#ifndef XNV_NETIF_H
#define XNV_NETIF_H

#include <stdint.h>

#ifndef mb
#define mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <xen/io/netif.h>

#define XNV_ETH_HLEN 14u

/* Publish what was written on a ring (requests on a front ring, responses
 * on a back ring) and say whether the other end asked to be notified of it:
 * xen/io/ring.h's push-and-check as one expression, true when the caller
 * must send the notification. */
#define XNV_RING_PUSH_REQUESTS(r) __extension__({ \
        int xnv_notify_; RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, xnv_notify_); xnv_notify_ != 0; })
#define XNV_RING_PUSH_RESPONSES(r) __extension__({ \
        int xnv_notify_; RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, xnv_notify_); xnv_notify_ != 0; })

/* RING_SIZE() of the netif rings on one 4 KiB page (256 for TX and RX). */
#define XNV_NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, 4096)
#define XNV_NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, 4096)

#endif
