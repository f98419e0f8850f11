/* xnv-probe: page contents that the guest writes and the host checks (and
 * the other way round), a pure function of (domain, page, offset). */
#include <stdio.h>
#include <string.h>
#include "probe.h"

uint8_t pat_byte(unsigned dom, unsigned page, unsigned off)
{
    uint32_t x = dom * 2654435761u ^ page * 40503u ^ (off + 1u) * 2246822519u;
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    return (uint8_t)x;
}

void pat_fill(uint8_t *p, unsigned dom, unsigned page, unsigned off, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        p[i] = pat_byte(dom, page, off + i);
}

long pat_mismatch(const uint8_t *p, unsigned dom, unsigned page, unsigned off, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        if (p[i] != pat_byte(dom, page, off + i))
            return (long)(off + i);
    return -1;
}

long zero_mismatch(const uint8_t *p, unsigned len)
{
    for (unsigned i = 0; i < len; i++)
        if (p[i])
            return (long)i;
    return -1;
}

void host_message(char out[RX_MSG_LEN], unsigned host, unsigned guest)
{
    memset(out, 0, RX_MSG_LEN);
    snprintf(out, RX_MSG_LEN, "xnv-probe: dom%u copied this to dom%u", host, guest);
}

void host_block(uint8_t out[RX_HOST_LEN], unsigned host, unsigned guest)
{
    host_message((char *)out, host, guest);
    pat_fill(out + RX_MSG_LEN, host, HOST_PAGE_TAG, RX_MSG_LEN, RX_HOST_LEN - RX_MSG_LEN);
}
