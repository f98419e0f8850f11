/* What another domain wrote into xenstore for the channels, parsed
 * strictly: the backend's peer entries (a peer's publication values are
 * numbers, read through xnv/xs.h).  Pure functions (fuzzed by
 * tests/fuzz/fuzz_idc_setup.c). */
#include <errno.h>
#include <string.h>
#include "idc_int.h"
#include "xnv/parse.h"

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
