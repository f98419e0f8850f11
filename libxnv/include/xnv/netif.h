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

/* RING_SIZE() of the netif rings on one 4 KiB page (256 for TX and RX). */
#define XNV_NETIF_TX_RING_SIZE __CONST_RING_SIZE(netif_tx, 4096)
#define XNV_NETIF_RX_RING_SIZE __CONST_RING_SIZE(netif_rx, 4096)

#endif
