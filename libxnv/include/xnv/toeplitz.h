/* Toeplitz hashing for multi-queue steering, as the netif control ring
 * defines it (hash types and inputs of xen/io/netif.h). */
#ifndef XNV_TOEPLITZ_H
#define XNV_TOEPLITZ_H

#include <stdbool.h>
#include <stdint.h>

#define XNV_HASH_KEY_MAX 40u      /* bytes; the usual RSS key size */

/* The reference algorithm of netif.h. */
uint32_t xnv_toeplitz(const uint8_t *key, unsigned keylen, const uint8_t *buf, unsigned buflen);

/* Hash a frame by the first of the enabled XEN_NETIF_CTRL_HASH_TYPE_* that
 * applies (TCP 4-tuple before the address pair).  Returns false when none
 * applies; *type receives the _XEN_NETIF_CTRL_HASH_TYPE_* bit number used. */
bool xnv_hash_frame(const uint8_t *f, uint32_t len, uint32_t enabled_types,
                    const uint8_t *key, unsigned keylen, uint32_t *hash, uint8_t *type);

#endif
