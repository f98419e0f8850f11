/* What another domain wrote into xenstore for the channels, parsed
 * strictly: the backend's peer entries and a peer's publication values.
 * Pure functions (fuzzed by tests/fuzz/fuzz_idc_setup.c). */
#include <errno.h>
#include <string.h>
#include "idc_int.h"
#include "xnv/parse.h"

int idc_parse_value(const char *v, unsigned len, uint64_t max, uint64_t *out)
{
    /* A value with a NUL inside is not the number before it. */
    if (!v || strlen(v) != len)
        return -EINVAL;
    return xnv_parse_uint(v, max, out) == 0 ? 0 : -EINVAL;
}

int idc_parse_peer(const char *name, const char *mac, unsigned maclen, xnv_domid_t self,
                   xnv_domid_t *dom, uint8_t macb[6])
{
    uint64_t d;
    if (xnv_parse_uint(name, IDC_MAX_DOMID, &d) || d == self)
        return -EINVAL;
    if (!mac || strlen(mac) != maclen || xnv_parse_mac(mac, macb) || !xnv_mac_is_valid_unicast(macb))
        return -EINVAL;
    *dom = (xnv_domid_t)d;
    return 0;
}
