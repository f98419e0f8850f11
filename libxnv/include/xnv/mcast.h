/* The multicast filter a frontend programs with MCAST_ADD/DEL extras. */
#ifndef XNV_MCAST_H
#define XNV_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#define XNV_MCAST_MAX 64u

struct xnv_mcast_filter {
    unsigned n;
    uint8_t addr[XNV_MCAST_MAX][6];
};

/* 0; -EINVAL for a non-multicast address; -ENOSPC when the filter is full. */
int xnv_mcast_add(struct xnv_mcast_filter *m, const uint8_t addr[6]);
/* 0, or -ENOENT when absent. */
int xnv_mcast_del(struct xnv_mcast_filter *m, const uint8_t addr[6]);
bool xnv_mcast_match(const struct xnv_mcast_filter *m, const uint8_t addr[6]);

#endif
