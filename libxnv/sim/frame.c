/* Frame builders (see frame.h). */
#include <string.h>
#include <netinet/in.h>
#include "xnv/frame.h"

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

uint32_t xnv_frame_tcp(uint8_t *buf, bool ipv6, uint32_t payload_len)
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

uint32_t xnv_frame_udp(uint8_t *buf, uint32_t payload_len)
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
