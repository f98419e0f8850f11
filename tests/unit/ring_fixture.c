/* Test fixtures (see ring_fixture.h). */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "ring_fixture.h"
#include "xnv/frame.h"

void tx_fixture_init(struct tx_fixture *t)
{
    t->page = aligned_alloc(4096, 4096);
    memset(t->page, 0, 4096);
    netif_tx_sring_t *s = t->page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&t->front, s, 4096);
    BACK_RING_INIT(&t->back, s, 4096);
}

void tx_fixture_free(struct tx_fixture *t) { free(t->page); }

void tx_put(struct tx_fixture *t, uint16_t id, grant_ref_t gref, uint16_t off,
            uint16_t size, uint16_t flags)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&t->front, t->front.req_prod_pvt++);
    r->id = id;
    r->gref = gref;
    r->offset = off;
    r->size = size;
    r->flags = flags;
}

void tx_put_extra(struct tx_fixture *t, const netif_extra_info_t *e)
{
    netif_tx_request_t *r = RING_GET_REQUEST(&t->front, t->front.req_prod_pvt++);
    memcpy(r, e, sizeof *e);
}

RING_IDX tx_push(struct tx_fixture *t)
{
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&t->front, notify);
    (void)notify;
    return t->back.sring->req_prod;
}

void rx_fixture_init(struct rx_fixture *r)
{
    r->page = aligned_alloc(4096, 4096);
    memset(r->page, 0, 4096);
    netif_rx_sring_t *s = r->page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&r->front, s, 4096);
    BACK_RING_INIT(&r->back, s, 4096);
}

void rx_fixture_free(struct rx_fixture *r) { free(r->page); }

RING_IDX rx_post(struct rx_fixture *r, unsigned n, uint16_t base)
{
    for (unsigned i = 0; i < n; i++) {
        netif_rx_request_t *q = RING_GET_REQUEST(&r->front, r->front.req_prod_pvt++);
        q->id = (uint16_t)(base + i);
        q->gref = base + i;
    }
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->front, notify);
    (void)notify;
    return r->back.sring->req_prod;
}

uint32_t build_tcp_frame(uint8_t *buf, int ipv6, uint32_t payload_len)
{
    return xnv_frame_tcp(buf, ipv6 != 0, payload_len);
}

uint32_t build_udp_frame(uint8_t *buf, uint32_t payload_len)
{
    return xnv_frame_udp(buf, payload_len);
}
