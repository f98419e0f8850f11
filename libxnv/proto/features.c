/* The netif feature record (see features.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/features.h"
#include "xnv/parse.h"

#define BACK  XNV_SIDE_BACK
#define FRONT XNV_SIDE_FRONT

/* Keys whose name differs per side are listed once per side. */
const struct xnv_feature_key xnv_feature_keys[] = {
    { "feature-sg",                        XNV_F_SG,             BACK | FRONT, false },
    { "feature-gso-tcpv4",                 XNV_F_GSO_TCPV4,      BACK | FRONT, false },
    { "feature-gso-tcpv6",                 XNV_F_GSO_TCPV6,      BACK | FRONT, false },
    { "feature-ipv6-csum-offload",         XNV_F_IPV6_CSUM,      BACK | FRONT, false },
    { "feature-no-csum-offload",           XNV_F_NO_CSUM,        BACK | FRONT, false },
    { "feature-rx-copy",                   XNV_F_RX_COPY,        BACK,         false },
    { "request-rx-copy",                   XNV_F_RX_COPY,        FRONT,        false },
    { "feature-rx-flip",                   XNV_F_RX_FLIP,        BACK,         false },
    { "feature-rx-notify",                 XNV_F_RX_NOTIFY,      FRONT,        false },
    { "feature-multicast-control",         XNV_F_MCAST_CTRL,     BACK,         false },
    { "request-multicast-control",         XNV_F_MCAST_CTRL,     FRONT,        false },
    { "feature-dynamic-multicast-control", XNV_F_DYN_MCAST_CTRL, BACK,         false },
    { "feature-split-event-channels",      XNV_F_SPLIT_EVTCHN,   BACK,         false },
    { "feature-ctrl-ring",                 XNV_F_CTRL_RING,      BACK,         false },
    { "multi-queue-max-queues",            0,                    BACK,         false },
    { "multi-queue-num-queues",            0,                    FRONT,        false },
    { NULL, 0, 0, false },
};

unsigned xnv_features_encode(const struct xnv_features *f, enum xnv_side side, struct xnv_kv *out)
{
    unsigned n = 0;
    for (const struct xnv_feature_key *k = xnv_feature_keys; k->name; k++) {
        if (!(k->sides & side))
            continue;
        out[n].key = k->name;
        if (k->flag)
            snprintf(out[n].val, sizeof out[n].val, "%d", (f->flags & k->flag) ? 1 : 0);
        else
            snprintf(out[n].val, sizeof out[n].val, "%u", f->queues ? f->queues : 1);
        n++;
    }
    return n;
}

int xnv_features_decode(enum xnv_side side, xnv_kv_lookup lookup, void *arg,
                        uint32_t max_queues, struct xnv_features *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->queues = 1;
    for (const struct xnv_feature_key *k = xnv_feature_keys; k->name; k++) {
        if (!(k->sides & side))
            continue;
        const char *v = lookup(arg, k->name);
        if (!v) {
            if (k->flag && k->absent_means_on)
                f->flags |= k->flag;
            continue;
        }
        if (k->flag) {
            bool on;
            if (xnv_parse_bool(v, &on)) {
                snprintf(err, errlen, "%s: expected 0 or 1, got \"%.32s\"", k->name, v);
                return -EINVAL;
            }
            if (on)
                f->flags |= k->flag;
        } else {
            uint64_t q;
            if (xnv_parse_uint(v, max_queues, &q) || q == 0) {
                snprintf(err, errlen, "%s: expected 1..%u, got \"%.32s\"", k->name, max_queues, v);
                return -EINVAL;
            }
            f->queues = (uint32_t)q;
        }
    }
    return 0;
}

struct xnv_features xnv_features_negotiate(const struct xnv_features *back,
                                           const struct xnv_features *front)
{
    /* Offloads need both ends; "no csum" is on when either end asks. */
    const uint32_t both = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM |
                          XNV_F_RX_COPY | XNV_F_MCAST_CTRL;
    struct xnv_features n = {
        .flags = (back->flags & front->flags & both) |
                 ((back->flags | front->flags) & XNV_F_NO_CSUM) |
                 (front->flags & XNV_F_RX_NOTIFY) |
                 (back->flags & (XNV_F_SPLIT_EVTCHN | XNV_F_CTRL_RING | XNV_F_DYN_MCAST_CTRL)),
        .queues = front->queues < back->queues ? front->queues : back->queues,
    };
    return n;
}

int xnv_features_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir,
                       enum xnv_side side, const struct xnv_features *f)
{
    struct xnv_kv kv[XNV_FEATURES_MAX_KV];
    unsigned n = xnv_features_encode(f, side, kv);
    char path[256];
    for (unsigned i = 0; i < n; i++) {
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, kv[i].key) >= sizeof path)
            return -ENAMETOOLONG;
        int rc = xnv_xs_write(hv, tx, path, kv[i].val, (unsigned)strlen(kv[i].val));
        if (rc)
            return rc;
    }
    return 0;
}

struct xs_lookup {
    struct xnv_hv *hv;
    xnv_xs_tx_t tx;
    const char *dir;
    char *vals[XNV_FEATURES_MAX_KV];
    unsigned n;
};

static const char *xs_lookup(void *arg, const char *key)
{
    struct xs_lookup *l = arg;
    char path[256];
    unsigned len;
    if ((size_t)snprintf(path, sizeof path, "%s/%s", l->dir, key) >= sizeof path ||
        l->n == XNV_FEATURES_MAX_KV)
        return NULL;
    char *v = xnv_xs_read(l->hv, l->tx, path, &len);
    if (v)
        l->vals[l->n++] = v;
    return v;
}

int xnv_features_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir,
                      enum xnv_side side, uint32_t max_queues,
                      struct xnv_features *f, char *err, size_t errlen)
{
    struct xs_lookup l = { .hv = hv, .tx = tx, .dir = dir };
    int rc = xnv_features_decode(side, xs_lookup, &l, max_queues, f, err, errlen);
    for (unsigned i = 0; i < l.n; i++)
        free(l.vals[i]);
    return rc;
}
