/* Test fixtures: a netif TX/RX ring pair in private memory seen from both
 * ends, and builders for Ethernet/IP/TCP frames. */
#ifndef XNV_TEST_RING_FIXTURE_H
#define XNV_TEST_RING_FIXTURE_H

#include <stdint.h>
#include "xnv/netif.h"

struct tx_fixture {
    void *page;
    netif_tx_front_ring_t front;
    netif_tx_back_ring_t back;
};
void tx_fixture_init(struct tx_fixture *t);
void tx_fixture_free(struct tx_fixture *t);
/* Queue one request (not yet pushed). */
void tx_put(struct tx_fixture *t, uint16_t id, grant_ref_t gref, uint16_t off,
            uint16_t size, uint16_t flags);
void tx_put_extra(struct tx_fixture *t, const netif_extra_info_t *e);
/* Make queued requests visible; returns the producer the backend reads. */
RING_IDX tx_push(struct tx_fixture *t);

struct rx_fixture {
    void *page;
    netif_rx_front_ring_t front;
    netif_rx_back_ring_t back;
};
void rx_fixture_init(struct rx_fixture *r);
void rx_fixture_free(struct rx_fixture *r);
/* Post n buffers with ids/grefs base..base+n-1; returns the producer. */
RING_IDX rx_post(struct rx_fixture *r, unsigned n, uint16_t base);

/* An Ethernet + IPv4 (or IPv6) + TCP frame with payload_len bytes of
 * pattern payload; returns the frame length (buf must be large enough). */
uint32_t build_tcp_frame(uint8_t *buf, int ipv6, uint32_t payload_len);
uint32_t build_udp_frame(uint8_t *buf, uint32_t payload_len);

#endif
