/* xnv-probe, host role: xenstore checks on nodes the host owns (under its
 * own data/xnv-probe): transactions, a forced conflict, permissions, and
 * the @releaseDomain watch. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host.h"

#define KEY_TX   KEY_DIR "/tx"
#define KEY_PERM KEY_DIR "/perm"

/* Value of path as seen in tx, "" when absent; "(err)" on other errors. */
static void read_in(struct host *h, xnv_xs_tx_t tx, const char *path, char *out, size_t len)
{
    char *v = xnv_xs_read(h->hv, tx, path, NULL);
    snprintf(out, len, "%s", v ? v : errno == ENOENT ? "" : "(err)");
    free(v);
}

static int put_in(struct host *h, xnv_xs_tx_t tx, const char *path, const char *val)
{
    return xnv_xs_write(h->hv, tx, path, val, (unsigned)strlen(val));
}

static void check_home(struct host *h)
{
    char want[40], *home = xnv_xs_domain_path(h->hv, h->me);
    snprintf(want, sizeof want, "/local/domain/%u", h->me);
    check(h->r, home && !strcmp(home, want), "xs-home", "domain path of dom%u: %s", h->me,
          home ? home : strerror(errno));
    free(home);
    int rc = xnv_xs_mkdir(h->hv, XNV_XS_NO_TX, KEY_DIR);
    check(h->r, rc == 0, "xs-mkdir", "%s: %s", KEY_DIR, rc ? strerror(-rc) : "ok");
}

static void check_tx_commit(struct host *h)
{
    char in[32] = "", out[32] = "", after[32] = "";
    xnv_xs_tx_t tx = XNV_XS_NO_TX;
    int rc = put_in(h, XNV_XS_NO_TX, KEY_TX, "before");
    if (rc == 0)
        rc = xnv_xs_tx_start(h->hv, &tx);
    if (rc == 0 && (rc = put_in(h, tx, KEY_TX, "committed")) == 0) {
        read_in(h, tx, KEY_TX, in, sizeof in);
        read_in(h, XNV_XS_NO_TX, KEY_TX, out, sizeof out);
        rc = xnv_xs_tx_end(h->hv, tx, false);
    }
    read_in(h, XNV_XS_NO_TX, KEY_TX, after, sizeof after);
    check(h->r, rc == 0 && !strcmp(in, "committed") && !strcmp(out, "before") &&
                    !strcmp(after, "committed"),
          "xs-tx-commit", "rc=%d; inside '%s', outside before commit '%s', after '%s'", rc,
          in, out, after);
}

static void check_tx_abort(struct host *h)
{
    char after[32] = "";
    xnv_xs_tx_t tx = XNV_XS_NO_TX;
    int rc = xnv_xs_tx_start(h->hv, &tx);
    if (rc == 0 && (rc = put_in(h, tx, KEY_TX, "aborted")) == 0)
        rc = xnv_xs_tx_end(h->hv, tx, true);
    read_in(h, XNV_XS_NO_TX, KEY_TX, after, sizeof after);
    check(h->r, rc == 0 && !strcmp(after, "committed"), "xs-tx-abort",
          "rc=%d; value after the abort '%s'", rc, after);
}

/* Two transactions read and write the same node: the first commit wins,
 * the second must be told to retry. */
static void check_tx_conflict(struct host *h)
{
    char tmp[32], after[32] = "";
    xnv_xs_tx_t t1 = XNV_XS_NO_TX, t2 = XNV_XS_NO_TX;
    int rc1 = -EIO, rc2 = -EIO;
    int rc = xnv_xs_tx_start(h->hv, &t1);
    if (rc == 0)
        rc = xnv_xs_tx_start(h->hv, &t2);
    if (rc == 0) {
        read_in(h, t1, KEY_TX, tmp, sizeof tmp);
        read_in(h, t2, KEY_TX, tmp, sizeof tmp);
        rc = put_in(h, t1, KEY_TX, "first");
        if (rc == 0)
            rc = put_in(h, t2, KEY_TX, "second");
        rc1 = xnv_xs_tx_end(h->hv, t1, false);
        rc2 = xnv_xs_tx_end(h->hv, t2, false);
    } else if (t1 != XNV_XS_NO_TX)
        xnv_xs_tx_end(h->hv, t1, true);
    read_in(h, XNV_XS_NO_TX, KEY_TX, after, sizeof after);
    check(h->r, rc == 0 && rc1 == 0 && rc2 == -EAGAIN && !strcmp(after, "first"),
          "xs-tx-conflict", "first commit %d, second commit %d (%s), value '%s'", rc1, rc2,
          rc2 == -EAGAIN ? "EAGAIN" : "expected EAGAIN", after);
}

static void check_perms(struct host *h)
{
    /* Owner: us, nobody else has access, except read for the first guest. */
    xnv_domid_t reader = h->ng ? h->g[0].dom : (xnv_domid_t)(h->me + 1u);
    struct xs_permissions want[2] = {
        { .id = h->me, .perms = XS_PERM_NONE },
        { .id = reader, .perms = XS_PERM_READ },
    };
    unsigned n = 0;
    int rc = put_in(h, XNV_XS_NO_TX, KEY_PERM, "x");
    if (rc == 0)
        rc = xnv_xs_set_perms(h->hv, XNV_XS_NO_TX, KEY_PERM, want, 2);
    struct xs_permissions *got = rc ? NULL : xnv_xs_get_perms(h->hv, XNV_XS_NO_TX, KEY_PERM, &n);
    bool same = got && n == 2 && got[0].id == want[0].id && got[0].perms == want[0].perms &&
                got[1].id == want[1].id && got[1].perms == want[1].perms;
    check(h->r, same, "xs-perms", "%s set to [dom%u none, dom%u read]: %s", KEY_PERM, h->me,
          reader, rc ? strerror(-rc) : !got ? strerror(errno) : same ? "read back the same"
                                                                      : "READ BACK DIFFERENT");
    free(got);

    rc = xnv_xs_rm(h->hv, XNV_XS_NO_TX, KEY_PERM);
    char *v = xnv_xs_read_key(h->hv, XNV_XS_NO_TX, KEY_PERM, NULL, NULL);
    int e = errno;
    check(h->r, rc == 0 && !v && e == ENOENT, "xs-rm", "%s: rm %s, then read %s", KEY_PERM,
          rc ? strerror(-rc) : "ok", v ? "STILL THERE" : strerror(e));
    free(v);
}

void host_xs_checks(struct host *h)
{
    check_home(h);
    check_tx_commit(h);
    check_tx_abort(h);
    check_tx_conflict(h);
    check_perms(h);
}

static bool release_fired(void *arg)
{
    struct host *h = arg;
    return ws_fired(&h->ws, TOKEN_RELEASE) > 0;
}

/* A netback learns of a guest's death from @releaseDomain.  The watch fires
 * once at registration; deaths are not provoked here. */
void host_release_watch(struct host *h)
{
    int rc = ws_add(&h->ws, "@releaseDomain", TOKEN_RELEASE);
    if (rc == 0)
        rc = ws_wait(&h->ws, -1, 5000, release_fired, h);
    check(h->r, rc == 0, "watch-release", "@releaseDomain: %s",
          rc == 0 ? "registered, fired at registration"
                  : rc == -ETIMEDOUT ? "registered, DID NOT fire within 5 s" : strerror(-rc));
}
