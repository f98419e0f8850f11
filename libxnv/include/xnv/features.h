/* The netif feature record: one description of the xenbus feature keys,
 * written and read the same way by the backend and the frontend.
 *
 * Each key belongs to one side: the backend advertises in its directory
 * (feature-rx-copy, multi-queue-max-queues, ...), the frontend requests in
 * its own (request-rx-copy, multi-queue-num-queues, ...).  Keys both sides
 * write (feature-sg, feature-gso-tcpv4, ...) mean "I can" on each side; the
 * negotiated set is their intersection. */
#ifndef XNV_FEATURES_H
#define XNV_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xnv/hv.h"

enum xnv_side { XNV_SIDE_BACK = 1, XNV_SIDE_FRONT = 2 };

enum xnv_feature {
    XNV_F_SG                = 1u << 0,   /* feature-sg */
    XNV_F_GSO_TCPV4         = 1u << 1,   /* feature-gso-tcpv4 */
    XNV_F_GSO_TCPV6         = 1u << 2,   /* feature-gso-tcpv6 */
    XNV_F_IPV6_CSUM         = 1u << 3,   /* feature-ipv6-csum-offload */
    XNV_F_NO_CSUM           = 1u << 4,   /* feature-no-csum-offload (IPv4 csum off) */
    XNV_F_RX_COPY           = 1u << 5,   /* back: feature-rx-copy; front: request-rx-copy */
    XNV_F_RX_FLIP           = 1u << 6,   /* back: feature-rx-flip (always 0 here) */
    XNV_F_RX_NOTIFY         = 1u << 7,   /* front: feature-rx-notify */
    XNV_F_MCAST_CTRL        = 1u << 8,   /* back: feature-multicast-control; front: request-... */
    XNV_F_DYN_MCAST_CTRL    = 1u << 9,   /* back: feature-dynamic-multicast-control */
    XNV_F_SPLIT_EVTCHN      = 1u << 10,  /* back: feature-split-event-channels */
    XNV_F_CTRL_RING         = 1u << 11,  /* back: feature-ctrl-ring */
};

struct xnv_features {
    uint32_t flags;       /* enum xnv_feature bits */
    uint32_t queues;      /* back: multi-queue-max-queues; front: multi-queue-num-queues */
};

/* One key of the record. */
struct xnv_feature_key {
    const char *name;
    uint32_t flag;        /* 0 for the queue count */
    unsigned sides;       /* XNV_SIDE_* that write it */
    bool absent_means_on; /* e.g. feature-no-csum-offload is "off" when absent */
};
/* The table itself, terminated by a NULL name. */
extern const struct xnv_feature_key xnv_feature_keys[];

/* key=value pairs as a side writes them. */
struct xnv_kv { const char *key; char val[12]; };
#define XNV_FEATURES_MAX_KV 20

/* Pure encode: the pairs `side` writes for f; returns how many. */
unsigned xnv_features_encode(const struct xnv_features *f, enum xnv_side side,
                             struct xnv_kv *out);
/* Pure decode: lookup(key) returns the value or NULL if absent.  Absent keys
 * take their default; a malformed value is an error naming the key.
 * max_queues bounds the queue count (0 or above is an error). */
typedef const char *(*xnv_kv_lookup)(void *arg, const char *key);
int xnv_features_decode(enum xnv_side side, xnv_kv_lookup lookup, void *arg,
                        uint32_t max_queues, struct xnv_features *f,
                        char *err, size_t errlen);

/* What both ends can do: backend advertisement x frontend request. */
struct xnv_features xnv_features_negotiate(const struct xnv_features *back,
                                           const struct xnv_features *front);

/* xenstore wrappers over a device directory (one transaction if tx given). */
int xnv_features_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir,
                       enum xnv_side side, const struct xnv_features *f);
int xnv_features_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir,
                      enum xnv_side side, uint32_t max_queues,
                      struct xnv_features *f, char *err, size_t errlen);

#endif
