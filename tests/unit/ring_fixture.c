/* Test fixtures (see ring_fixture.h). */
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "ring_fixture.h"

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

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint32_t eth(uint8_t *b, uint16_t type)
{
    static const uint8_t dst[6] = { 0x00, 0x16, 0x3e, 0, 0, 2 }, src[6] = { 0x00, 0x16, 0x3e, 0, 0, 1 };
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    put16(b + 12, type);
    return 14;
}

static uint32_t ip4(uint8_t *b, uint8_t proto, uint32_t l4len)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    put16(b + 2, (uint16_t)(20 + l4len));
    b[8] = 64;
    b[9] = proto;
    const uint8_t a[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
    memcpy(b + 12, a, 8);
    return 20;
}

uint32_t build_tcp_frame(uint8_t *buf, int ipv6, uint32_t payload_len)
{
    uint32_t off = eth(buf, ipv6 ? 0x86dd : 0x0800);
    uint32_t l4len = 20 + payload_len;
    if (ipv6) {
        uint8_t *ip = buf + off;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)l4len);
        ip[6] = IPPROTO_TCP;
        ip[7] = 64;
        ip[8 + 15] = 1;
        ip[24 + 15] = 2;
        off += 40;
    } else {
        off += ip4(buf + off, IPPROTO_TCP, l4len);
    }
    uint8_t *tcp = buf + off;
    memset(tcp, 0, 20);
    put16(tcp, 40000);
    put16(tcp + 2, 5201);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    off += 20;
    for (uint32_t i = 0; i < payload_len; i++)
        buf[off + i] = (uint8_t)(i * 7 + 3);
    return off + payload_len;
}

uint32_t build_udp_frame(uint8_t *buf, uint32_t payload_len)
{
    uint32_t off = eth(buf, 0x0800);
    off += ip4(buf + off, IPPROTO_UDP, 8 + payload_len);
    uint8_t *udp = buf + off;
    put16(udp, 5000);
    put16(udp + 2, 6000);
    put16(udp + 4, (uint16_t)(8 + payload_len));
    put16(udp + 6, 0);
    off += 8;
    for (uint32_t i = 0; i < payload_len; i++)
        buf[off + i] = (uint8_t)i;
    return off + payload_len;
}
