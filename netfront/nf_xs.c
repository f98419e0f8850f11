/* Small xenstore helpers of the control plane: keys of a directory, strict
 * numbers, and our state key written only while our directory exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nf.h"
#include "xnv/parse.h"

#define NF_XS_RETRIES 16

char *nf_xs_read(struct xnv_netfront *nf, xnv_xs_tx_t tx, const char *dir, const char *key)
{
    char path[NF_PATH_MAX + 64];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, key) >= sizeof path) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    unsigned len;
    return xnv_xs_read(nf->hv, tx, path, &len);
}

int nf_xs_read_uint(struct xnv_netfront *nf, xnv_xs_tx_t tx, const char *dir, const char *key,
                    uint64_t max, uint64_t *out)
{
    char *v = nf_xs_read(nf, tx, dir, key);
    if (!v)
        return errno == ENOENT ? -ENOENT : -(errno ? errno : EIO);
    int rc = xnv_parse_uint(v, max, out) ? -EINVAL : 0;
    free(v);
    return rc;
}

int nf_xs_write_uint(struct xnv_netfront *nf, xnv_xs_tx_t tx, const char *dir, const char *key,
                     uint64_t v)
{
    char path[NF_PATH_MAX + 64], val[24];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, key) >= sizeof path)
        return -ENAMETOOLONG;
    int n = snprintf(val, sizeof val, "%llu", (unsigned long long)v);
    return xnv_xs_write(nf->hv, tx, path, val, (unsigned)n);
}

bool nf_xs_dir_exists(struct xnv_netfront *nf, xnv_xs_tx_t tx)
{
    unsigned len;
    char *v = xnv_xs_read(nf->hv, tx, nf->dir, &len);
    free(v);
    return v != NULL;
}

int nf_xs_write_state(struct xnv_netfront *nf, int state)
{
    for (int i = 0; i < NF_XS_RETRIES; i++) {
        xnv_xs_tx_t tx;
        int rc = xnv_xs_tx_start(nf->hv, &tx);
        if (rc < 0)
            return rc;
        if (!nf_xs_dir_exists(nf, tx)) {
            xnv_xs_tx_end(nf->hv, tx, true);
            return -ENOENT;
        }
        rc = nf_xs_write_uint(nf, tx, nf->dir, "state", (uint64_t)state);
        if (rc < 0) {
            xnv_xs_tx_end(nf->hv, tx, true);
            return rc;
        }
        rc = xnv_xs_tx_end(nf->hv, tx, false);
        if (rc == 0) {
            nf->my_state = state;
            return 0;
        }
        if (rc != -EAGAIN)
            return rc;
    }
    return -EAGAIN;
}

int nf_xs_backend_state(struct xnv_netfront *nf)
{
    uint64_t s;
    if (!nf->be_path[0] || nf_xs_read_uint(nf, XNV_XS_NO_TX, nf->be_path, "state", 255, &s) < 0)
        return XenbusStateUnknown;
    return (int)s;
}
