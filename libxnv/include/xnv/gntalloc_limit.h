/* gntalloc's limit: how many grants all of a domain's userspace may hold
 * through gntalloc together (1024 by default), a module parameter root may
 * raise.  Read and written by xnv-netfront (its rings and channels) and by
 * xnv-netbackd (its busy queues' self-granted buffers). */
#ifndef XNV_GNTALLOC_LIMIT_H
#define XNV_GNTALLOC_LIMIT_H

#define XNV_GNTALLOC_LIMIT "/sys/module/xen_gntalloc/parameters/limit"

/* From path (NULL: XNV_GNTALLOC_LIMIT); 0 or -errno (-EINVAL: no number). */
int xnv_gntalloc_limit_read(const char *path, unsigned *limit);
/* 0 or -errno. */
int xnv_gntalloc_limit_write(const char *path, unsigned limit);

#endif
