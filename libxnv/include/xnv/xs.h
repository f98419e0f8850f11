/* One layer over the xenstore calls of hv.h for the control planes: keys
 * named as dir/key, numbers parsed strictly (xnv/parse.h: every value may
 * come from another domain), and transactions retried when they lose.
 * key may be NULL wherever it appears: then dir is the whole path. */
#ifndef XNV_XS_H
#define XNV_XS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "xnv/hv.h"

/* dir/key, malloc'd; NULL + errno (ENAMETOOLONG: the path is over
 * xenstore's limit).  len, when not NULL, gets the value's length. */
char *xnv_xs_read_key(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                      unsigned *len);

/* dir/key as a decimal number up to max (no sign, no spaces, no NUL inside).
 * 0; -ENOENT when absent; -EINVAL when malformed or above max; another
 * -errno when it cannot be read (-EACCES, -ENAMETOOLONG...). */
int xnv_xs_read_uint(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                     uint64_t max, uint64_t *out);
/* The same, and err says why it failed: "<path> is missing" (absent or
 * unreadable) or "<path>: \"<value>\" is not a number up to <max>". */
int xnv_xs_read_uint_why(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                         uint64_t max, uint64_t *out, char *err, size_t errlen);

/* The node can be read (it exists and we may read it). */
bool xnv_xs_exists(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key);

/* dir/key = the formatted value.  0 or -errno. */
int xnv_xs_printf(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *dir, const char *key,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Runs fn in a new transaction, up to tries times: fn < 0 aborts and is
 * returned; fn > 0 aborts (nothing to write) and is returned; fn == 0
 * commits, and a commit that lost to a concurrent change (-EAGAIN) runs fn
 * again in a fresh transaction.  Returns the commit's result, a failed
 * start's, or -EAGAIN once every try lost.  fn may run several times: it
 * must not change anything outside xenstore before the commit. */
typedef int (*xnv_xs_tx_fn)(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg);
int xnv_xs_transact(struct xnv_hv *hv, unsigned tries, xnv_xs_tx_fn fn, void *arg);

#endif
