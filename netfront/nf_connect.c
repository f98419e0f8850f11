/* The frontend's part of the handshake, once the backend is in InitWait:
 * read its features, size the page pool to the grant limit, share rings and
 * buffers, bind event channels, and publish everything in one xenstore
 * transaction.  And the reverse: take every queue down. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "nf.h"
#include "xnv/parse.h"

#define NF_TX_RETRIES 16
#define GNTALLOC_LIMIT_PATH "/sys/module/xen_gntalloc/parameters/limit"

static const char *const ring_keys[] = {
    "tx-ring-ref", "rx-ring-ref", "event-channel", "event-channel-tx", "event-channel-rx",
};

/* gntalloc's limit: the option, else its module parameter on Xen, else
 * Linux's default. */
static unsigned grant_limit(const struct xnv_netfront *nf)
{
    if (nf->opt.grant_limit)
        return nf->opt.grant_limit;
    unsigned limit = 1024;
    if (strcmp(xnv_hv_kind(nf->hv), "xen") == 0) {
        FILE *f = fopen(GNTALLOC_LIMIT_PATH, "re");
        char buf[32];
        uint64_t v;
        if (f && fgets(buf, sizeof buf, f)) {
            buf[strcspn(buf, "\n")] = '\0';
            if (xnv_parse_uint(buf, 1u << 30, &v) == 0 && v > 0)
                limit = (unsigned)v;
        }
        if (f)
            fclose(f);
    }
    return limit;
}

static bool read_trusted(struct xnv_netfront *nf)
{
    if (nf->opt.trust == XNV_NF_TRUST_NEVER)
        return false;
    if (nf->opt.trust == XNV_NF_TRUST_ALWAYS)
        return true;
    char *v = xnv_xs_read_key(nf->hv, XNV_XS_NO_TX, nf->dir, "trusted", NULL);
    if (!v)
        return true;                    /* absent: trusted, as netif.h says */
    bool t;
    if (xnv_parse_bool(v, &t)) {
        xnv_nf_log(nf, LOG_WARNING, "`trusted` is \"%.16s\", not 0 or 1: treating the backend as untrusted", v);
        t = false;
    }
    free(v);
    return t;
}

static void read_identity(struct xnv_netfront *nf)
{
    char *v = xnv_xs_read_key(nf->hv, XNV_XS_NO_TX, nf->dir, "mac", NULL);
    if (!v || xnv_parse_mac(v, nf->mac) || !xnv_mac_is_valid_unicast(nf->mac)) {
        memset(nf->mac, 0, sizeof nf->mac);
        xnv_nf_log(nf, LOG_WARNING, "no valid `mac` in %s", nf->dir);
    }
    free(v);
    uint64_t mtu;
    nf->mtu = xnv_xs_read_uint(nf->hv, XNV_XS_NO_TX, nf->dir, "mtu", 65535, &mtu) == 0 && mtu >= 68
              ? (unsigned)mtu : 1500;
}

/* Queues and buffers per queue for this connection, within the limit. */
static int plan(struct xnv_netfront *nf, const struct xnv_features *bf)
{
    unsigned nq = nf->nq_want < bf->queues ? nf->nq_want : bf->queues;
    unsigned limit = grant_limit(nf);
    unsigned budget = limit > nf->lost_pages ? limit - nf->lost_pages : 0;
    nf->grant_limit = limit;
    if (budget / nq < XNV_NF_MIN_QUEUE_PAGES) {
        nf_error(nf, "the grant limit is too low: gntalloc allows %u grants%s, and %u queue(s) "
                 "need at least %u (each: 2 rings, %u transmit and %u receive buffers); raise "
                 GNTALLOC_LIMIT_PATH " or ask for fewer queues", limit,
                 nf->lost_pages ? " (some lost to the backend)" : "", nq,
                 nq * XNV_NF_MIN_QUEUE_PAGES, NF_MIN_BUFS, NF_MIN_BUFS);
        return -ENOSPC;
    }
    unsigned bufs = (budget / nq - 2) / 2;
    if (bufs > NF_TX_RING)
        bufs = NF_TX_RING;
    atomic_store(&nf->nq, nq);
    nf->ntx = nf->nrx = bufs;
    return 0;
}

static int write_queue_keys(struct xnv_netfront *nf, xnv_xs_tx_t tx, const struct nf_queue *q,
                            unsigned nq)
{
    char dir[sizeof nf->dir + 16];
    if (nq == 1)
        snprintf(dir, sizeof dir, "%s", nf->dir);
    else
        snprintf(dir, sizeof dir, "%s/queue-%u", nf->dir, q->id);
    int rc;
    if ((rc = xnv_xs_printf(nf->hv, tx, dir, "tx-ring-ref", "%u", q->ring_pg[0].gref)) < 0 ||
        (rc = xnv_xs_printf(nf->hv, tx, dir, "rx-ring-ref", "%u", q->ring_pg[1].gref)) < 0)
        return rc;
    if (nf->split) {
        if ((rc = xnv_xs_printf(nf->hv, tx, dir, "event-channel-tx", "%d", q->port_tx)) < 0 ||
            (rc = xnv_xs_printf(nf->hv, tx, dir, "event-channel-rx", "%d", q->port_rx)) < 0)
            return rc;
        return 0;
    }
    return xnv_xs_printf(nf->hv, tx, dir, "event-channel", "%d", q->port_tx);
}

/* Inside tx: remove what an earlier connection wrote. */
static int remove_keys_tx(struct xnv_netfront *nf, xnv_xs_tx_t tx)
{
    char path[sizeof nf->dir + 64];
    for (size_t i = 0; i < sizeof ring_keys / sizeof ring_keys[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", nf->dir, ring_keys[i]);
        int rc = xnv_xs_rm(nf->hv, tx, path);
        if (rc < 0 && rc != -ENOENT)
            return rc;
    }
    unsigned n = 0;
    char **kids = xnv_xs_directory(nf->hv, tx, nf->dir, &n);
    int rc = 0;
    for (unsigned i = 0; kids && i < n && rc == 0; i++) {
        if (strncmp(kids[i], "queue-", 6) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%.40s", nf->dir, kids[i]);
        rc = xnv_xs_rm(nf->hv, tx, path);
        if (rc == -ENOENT)
            rc = 0;
    }
    free(kids);
    return rc;
}

struct publication {
    struct xnv_netfront *nf;
    struct xnv_features f;
};

static int publish_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    const struct publication *p = arg;
    struct xnv_netfront *nf = p->nf;
    int rc = xnv_xs_exists(hv, tx, nf->dir, NULL) ? remove_keys_tx(nf, tx) : -ENOENT;
    for (unsigned i = 0; i < p->f.queues && rc == 0; i++)
        rc = write_queue_keys(nf, tx, &nf->q[i], p->f.queues);
    return rc ? rc : xnv_features_write(hv, tx, nf->dir, XNV_SIDE_FRONT, &p->f);
}

/* Everything the backend needs, in one transaction. */
static int publish(struct xnv_netfront *nf)
{
    struct publication p = {
        .nf = nf,
        .f = { .flags = XNV_F_RX_COPY | XNV_F_RX_NOTIFY | nf->rx_flags, .queues = atomic_load(&nf->nq) },
    };
    return xnv_xs_transact(nf->hv, NF_TX_RETRIES, publish_tx, &p);
}

int nf_connect(struct xnv_netfront *nf)
{
    struct xnv_features bf;
    char err[200];
    if (xnv_features_read(nf->hv, XNV_XS_NO_TX, nf->be_path, XNV_SIDE_BACK, UINT16_MAX, &bf,
                          err, sizeof err) < 0) {
        nf_error(nf, "backend %s: %s", nf->be_path, err);
        return -EINVAL;
    }
    if (!(bf.flags & XNV_F_RX_COPY)) {
        nf_error(nf, "backend %s does not offer feature-rx-copy, which this frontend requires",
                 nf->be_path);
        return -EOPNOTSUPP;
    }
    int rc = plan(nf, &bf);
    if (rc < 0)
        return rc;
    const uint32_t offloads = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM |
                              XNV_F_NO_CSUM;
    nf->tx_flags = bf.flags & offloads;
    if (!(nf->tx_flags & XNV_F_SG))
        nf->tx_flags &= ~(uint32_t)(XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6);
    nf->rx_flags = nf->opt.offload & offloads;
    nf->split = bf.flags & XNV_F_SPLIT_EVTCHN;
    nf->trusted = read_trusted(nf);
    read_identity(nf);

    unsigned nq = atomic_load(&nf->nq);
    for (unsigned i = 0; i < nq; i++) {
        rc = nf_queue_setup(&nf->q[i], nf->be_dom, nf->split, nf->ntx, nf->nrx, !nf->trusted,
                            nf->tx_flags & XNV_F_SG, err, sizeof err);
        if (rc < 0) {
            nf_error(nf, "%s", err);
            nf_teardown(nf);
            return rc;
        }
    }
    if ((rc = publish(nf)) < 0) {
        nf_error(nf, "writing the ring references to %s failed: %s", nf->dir, strerror(-rc));
        nf_teardown(nf);
        return rc;
    }
    for (unsigned i = 0; i < nq; i++)
        nf_queue_start(&nf->q[i]);
    nf->connections++;
    nf->err[0] = '\0';
    nf->last_logged[0] = '\0';
    xnv_nf_log(nf, LOG_INFO, "rings published to %s: %u queue(s), %s event channel%s, %u+%u buffers "
           "per queue, backend %s", nf->be_path, nq, nf->split ? "split" : "one",
           nf->split ? "s" : "", nf->ntx, nf->nrx, nf->trusted ? "trusted" : "untrusted (bounce, scrub)");
    return 0;
}

void nf_teardown(struct xnv_netfront *nf)
{
    unsigned lost = 0;
    for (unsigned i = 0; i < XNV_NF_MAX_QUEUES; i++)
        if (nf->q[i].nf)
            lost += nf_queue_teardown(&nf->q[i]);
    atomic_store(&nf->carrier, false);
    if (lost) {
        nf->lost_pages += lost;
        xnv_nf_log(nf, LOG_WARNING, "the backend still held %u shared page(s) when they were revoked: "
               "they are left to it and never used again", lost);
    }
}

static int remove_tx(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    struct xnv_netfront *nf = arg;
    return xnv_xs_exists(hv, tx, nf->dir, NULL) ? remove_keys_tx(nf, tx) : -ENOENT;
}

void nf_remove_keys(struct xnv_netfront *nf)
{
    xnv_xs_transact(nf->hv, NF_TX_RETRIES, remove_tx, nf);
}
