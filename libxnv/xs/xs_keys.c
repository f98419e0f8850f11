/* Keys as dir/key: read, read a strict number, test, write formatted. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/parse.h"
#include "xnv/xs.h"

/* xenstore's own bound on an absolute path (XENSTORE_ABS_PATH_MAX). */
#define XS_PATH_MAX 3072

static int join(char path[XS_PATH_MAX + 1], const char *dir, const char *key)
{
    int n = key ? snprintf(path, XS_PATH_MAX + 1, "%s/%s", dir, key)
                : snprintf(path, XS_PATH_MAX + 1, "%s", dir);
    return n < 0 || n > XS_PATH_MAX ? -ENAMETOOLONG : 0;
}

char *xnv_xs_read_key(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                      unsigned *len)
{
    char path[XS_PATH_MAX + 1];
    unsigned n = 0;
    if (join(path, dir, key)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    char *v = xnv_xs_read(hv, tx, path, &n);
    if (v && len)
        *len = n;
    return v;
}

/* Reads and parses; *val keeps the value read (or NULL) for a message. */
static int read_uint(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, uint64_t max,
                     uint64_t *out, char **val)
{
    unsigned len = 0;
    *val = xnv_xs_read(hv, tx, path, &len);
    if (!*val)
        return errno == ENOENT ? -ENOENT : -(errno ? errno : EIO);
    return xnv_parse_uint_n(*val, len, max, out);
}

int xnv_xs_read_uint(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                     uint64_t max, uint64_t *out)
{
    char path[XS_PATH_MAX + 1], *val;
    int rc = join(path, dir, key);
    if (rc)
        return rc;
    rc = read_uint(hv, tx, path, max, out, &val);
    free(val);
    return rc;
}

int xnv_xs_read_uint_why(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                         uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    char path[XS_PATH_MAX + 1], *val = NULL;
    int rc = join(path, dir, key);
    if (rc == 0)
        rc = read_uint(hv, tx, path, max, out, &val);
    if (rc && !val)
        snprintf(err, errlen, "%s is missing", path);
    else if (rc)
        snprintf(err, errlen, "%s: \"%.32s\" is not a number up to %llu", path, val,
                 (unsigned long long)max);
    free(val);
    return rc;
}

bool xnv_xs_exists(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key)
{
    char *v = xnv_xs_read_key(hv, tx, dir, key, NULL);
    free(v);
    return v != NULL;
}

int xnv_xs_printf(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                  const char *fmt, ...)
{
    char path[XS_PATH_MAX + 1], *val;
    int rc = join(path, dir, key);
    if (rc)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -ENOMEM;
    rc = xnv_xs_write(hv, tx, path, val, (unsigned)n);
    free(val);
    return rc;
}
