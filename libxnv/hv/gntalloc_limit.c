/* gntalloc's limit (see gntalloc_limit.h). */
#include <errno.h>
#include <stdio.h>
#include "xnv/gntalloc_limit.h"

int xnv_gntalloc_limit_read(const char *path, unsigned *limit)
{
    FILE *f = fopen(path ? path : XNV_GNTALLOC_LIMIT, "r");
    if (!f)
        return -errno;
    int rc = fscanf(f, "%u", limit) == 1 ? 0 : -EINVAL;
    fclose(f);
    return rc;
}

int xnv_gntalloc_limit_write(const char *path, unsigned limit)
{
    FILE *f = fopen(path ? path : XNV_GNTALLOC_LIMIT, "w");
    if (!f)
        return -errno;
    int rc = fprintf(f, "%u\n", limit) < 0 ? -errno : 0;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
