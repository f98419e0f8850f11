/* Fuzz target: what another domain writes into xenstore for the direct
 * channels: the backend's peer entries (xnv-peers/<domid> = <mac>) and a
 * peer's publication values (ring-ref, event-channel, serial), as the
 * channel code parses them (interdomain/idc_parse.c, and xnv_parse_uint_n
 * under xnv_xs_read_uint).
 *
 * Input: u8 selector, u16 self domid, then two NUL-separated strings (name,
 * value) with the value's length as xenstore reports it (it may hold NULs).
 *
 * Checked against an independent model: a value is accepted exactly when
 * it is 1 to 20 decimal digits without a NUL inside, whose number is at
 * most the bound, and then that number is the result; a peer entry exactly
 * when its name is such a number up to 0x7fef other than self and its value
 * is six two-digit hex bytes joined by ':', unicast and not all zero. */
#include <errno.h>
#include "fuzz_common.h"
#include "../../interdomain/idc_int.h"
#include "xnv/parse.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The model of a strict decimal: false when rejected. */
static bool model_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20 || strlen(s) != len)
        return false;
    unsigned __int128 v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

static bool model_mac(const char *s, size_t len, uint8_t mac[6])
{
    if (len != 17 || strlen(s) != 17)
        return false;
    bool nonzero = false;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
        nonzero |= mac[i] != 0;
    }
    return nonzero && !(mac[0] & 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    uint8_t sel = fz_u8(&in);
    xnv_domid_t self = (xnv_domid_t)(fz_u16(&in) % (IDC_MAX_DOMID + 2));
    size_t rest;
    const uint8_t *p = fz_rest(&in, &rest);
    const uint8_t *nul = memchr(p, 0, rest);
    size_t nlen = nul ? (size_t)(nul - p) : rest;
    /* NUL-terminated, exactly sized copies (as xenstore reads hand them over). */
    char *name = malloc(nlen + 1);
    size_t vlen = nul ? rest - nlen - 1 : 0;
    char *val = malloc(vlen + 1);
    if (!name || !val)
        abort();
    memcpy(name, p, nlen);
    name[nlen] = '\0';
    if (vlen)
        memcpy(val, nul + 1, vlen);
    val[vlen] = '\0';

    static const uint64_t bounds[] = { UINT32_MAX, INT32_MAX, UINT64_MAX, IDC_MAX_DOMID, 0 };
    uint64_t max = bounds[sel % 5], got = 12345, want = 0;
    int rc = xnv_parse_uint_n(val, (unsigned)vlen, max, &got);
    bool ok = model_uint(val, vlen, max, &want);
    FZ_CHECK((rc == 0) == ok);
    FZ_CHECK(rc == 0 || rc == -EINVAL);
    if (ok)
        FZ_CHECK(got == want);
    FZ_CHECK(xnv_parse_uint_n(NULL, 0, max, &got) == -EINVAL);

    xnv_domid_t dom = 0;
    uint8_t mac[6], wmac[6];
    rc = idc_parse_peer(name, val, (unsigned)vlen, self, &dom, mac);
    uint64_t d = 0;
    ok = model_uint(name, nlen, IDC_MAX_DOMID, &d) && d != self && model_mac(val, vlen, wmac);
    FZ_CHECK((rc == 0) == ok);
    if (ok) {
        FZ_CHECK(dom == d);
        FZ_CHECK(memcmp(mac, wmac, 6) == 0);
    }
    free(name);
    free(val);
    return 0;
}
