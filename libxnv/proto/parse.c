/* Strict parsers for values written by an untrusted peer. */
#include <errno.h>
#include <string.h>
#include "xnv/parse.h"

int xnv_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strlen(s) > 20)
        return -EINVAL;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -ERANGE;
        v = v * 10 + d;
    }
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int xnv_parse_uint_n(const char *s, unsigned len, uint64_t max, uint64_t *out)
{
    if (!s || strlen(s) != len)
        return -EINVAL;
    return xnv_parse_uint(s, max, out) == 0 ? 0 : -EINVAL;
}

int xnv_parse_bool(const char *s, bool *out)
{
    if (s && s[0] == '0' && s[1] == '\0') { *out = false; return 0; }
    if (s && s[0] == '1' && s[1] == '\0') { *out = true; return 0; }
    return -EINVAL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int xnv_parse_mac(const char *s, uint8_t mac[6])
{
    if (!s || strlen(s) != 17)
        return -EINVAL;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
            return -EINVAL;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

bool xnv_mac_is_valid_unicast(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

int xnv_parse_rate(const char *s, uint64_t *bytes, uint64_t *usec)
{
    const char *comma = s ? strchr(s, ',') : NULL;
    char num[24];
    if (!comma || (size_t)(comma - s) >= sizeof num)
        return -EINVAL;
    memcpy(num, s, (size_t)(comma - s));
    num[comma - s] = '\0';
    if (xnv_parse_uint(num, UINT64_MAX, bytes) || xnv_parse_uint(comma + 1, UINT64_MAX, usec))
        return -EINVAL;
    return *usec ? 0 : -EINVAL;
}
