/* Strict parsing of values that come from the other side (xenstore keys,
 * configuration): no sign, no spaces, no trailing garbage, bounded. */
#ifndef XNV_PARSE_H
#define XNV_PARSE_H

#include <stdbool.h>
#include <stdint.h>

/* Decimal unsigned integer in [0, max]; returns 0 or -EINVAL / -ERANGE. */
int xnv_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* The same for a value of len bytes as xenstore hands it over: a NUL
 * inside is not the number before it.  0 or -EINVAL (also above max). */
int xnv_parse_uint_n(const char *s, unsigned len, uint64_t max, uint64_t *out);
/* "0" or "1" only. */
int xnv_parse_bool(const char *s, bool *out);
/* "aa:bb:cc:dd:ee:ff" (hex, either case); returns 0 or -EINVAL. */
int xnv_parse_mac(const char *s, uint8_t mac[6]);
/* A unicast, non-zero MAC (the only kind a vif may have). */
bool xnv_mac_is_valid_unicast(const uint8_t mac[6]);
/* Xen vif `rate`: "<bytes>,<usec>" (libxl's form); 0 or -EINVAL. */
int xnv_parse_rate(const char *s, uint64_t *bytes, uint64_t *usec);

#endif
