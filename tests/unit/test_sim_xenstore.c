/* Simulated hypervisor: xenstore (nodes, permissions, watches, transactions,
 * limits), with xenstored's rules. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/hv.h"
#include "xnv/sim.h"

static struct xnv_sim *sim;
static xnv_domid_t A, B;
static struct xnv_hv *h0, *ha, *hb;
static char home_a[32], home_b[32];

static void setup(void)
{
    sim = xnv_sim_new();
    ck_assert_ptr_nonnull(sim);
    A = (xnv_domid_t)xnv_sim_domain_create(sim, "guest-a");
    B = (xnv_domid_t)xnv_sim_domain_create(sim, "guest-b");
    h0 = xnv_sim_hv_open(sim, 0);
    ha = xnv_sim_hv_open(sim, A);
    hb = xnv_sim_hv_open(sim, B);
    ck_assert(h0 && ha && hb);
    snprintf(home_a, sizeof(home_a), "/local/domain/%u", A);
    snprintf(home_b, sizeof(home_b), "/local/domain/%u", B);
}

static void teardown(void)
{
    xnv_hv_close(h0);
    xnv_hv_close(ha);
    xnv_hv_close(hb);
    xnv_sim_free(sim);
}

static char *path_of(const char *home, const char *leaf)
{
    static char buf[4][256];
    static int i;
    char *p = buf[i++ % 4];
    snprintf(p, 256, "%s/%s", home, leaf);
    return p;
}

/* Reads a value, asserting success; the caller frees. */
static char *rd(struct xnv_hv *h, xnv_xs_tx_t tx, const char *path)
{
    unsigned len = 12345;
    char *v = xnv_xs_read(h, tx, path, &len);
    ck_assert_msg(v != NULL, "read %s: %s", path, strerror(errno));
    ck_assert_uint_eq(len, strlen(v));
    return v;
}

static void expect_value(struct xnv_hv *h, xnv_xs_tx_t tx, const char *path, const char *want)
{
    char *v = rd(h, tx, path);
    ck_assert_str_eq(v, want);
    free(v);
}

static int read_errno(struct xnv_hv *h, xnv_xs_tx_t tx, const char *path)
{
    errno = 0;
    char *v = xnv_xs_read(h, tx, path, NULL);
    free(v);
    return v ? 0 : errno;
}

static int wr(struct xnv_hv *h, xnv_xs_tx_t tx, const char *path, const char *val)
{
    return xnv_xs_write(h, tx, path, val, (unsigned)strlen(val));
}

static bool watch_ready(struct xnv_hv *h)
{
    struct pollfd p = { .fd = xnv_xs_watch_fd(h), .events = POLLIN };
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Pops the next event and checks it. */
static void expect_event(struct xnv_hv *h, const char *path, const char *token)
{
    ck_assert(watch_ready(h));
    char **v = xnv_xs_read_watch(h);
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v[XS_WATCH_PATH], path);
    ck_assert_str_eq(v[XS_WATCH_TOKEN], token);
    free(v);
}

static void expect_no_event(struct xnv_hv *h)
{
    ck_assert(!watch_ready(h));
    errno = 0;
    ck_assert_ptr_null(xnv_xs_read_watch(h));
    ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(read_write_mkdir_rm_directory)
{
    ck_assert_int_eq(wr(h0, 0, "/tool/x/y", "hello"), 0);    /* creates parents */
    expect_value(h0, 0, "/tool/x/y", "hello");
    expect_value(h0, 0, "/tool/x", "");
    ck_assert_int_eq(xnv_xs_write(h0, 0, "/tool/bin", "a\0b", 3), 0);
    unsigned len;
    char *v = xnv_xs_read(h0, 0, "/tool/bin", &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(v, "a\0b", 4), 0);               /* NUL-terminated too */
    free(v);
    ck_assert_int_eq(read_errno(h0, 0, "/tool/none"), ENOENT);

    ck_assert_int_eq(xnv_xs_mkdir(h0, 0, "/tool/x/d"), 0);
    ck_assert_int_eq(xnv_xs_mkdir(h0, 0, "/tool/x/d"), 0);   /* exists: fine */
    ck_assert_int_eq(wr(h0, 0, "/tool/x/z", "2"), 0);
    unsigned num = 99;
    char **dir = xnv_xs_directory(h0, 0, "/tool/x", &num);
    ck_assert_ptr_nonnull(dir);
    ck_assert_uint_eq(num, 3);
    ck_assert_str_eq(dir[0], "y");
    ck_assert_str_eq(dir[1], "d");
    ck_assert_str_eq(dir[2], "z");
    free(dir);
    dir = xnv_xs_directory(h0, 0, "/tool/x/d", &num);
    ck_assert_ptr_nonnull(dir);
    ck_assert_uint_eq(num, 0);
    free(dir);
    errno = 0;
    ck_assert_ptr_null(xnv_xs_directory(h0, 0, "/tool/nothing", &num));
    ck_assert_int_eq(errno, ENOENT);

    ck_assert_int_eq(xnv_xs_rm(h0, 0, "/tool/x"), 0);        /* the whole subtree */
    ck_assert_int_eq(read_errno(h0, 0, "/tool/x/y"), ENOENT);
    ck_assert_int_eq(read_errno(h0, 0, "/tool/x"), ENOENT);
    ck_assert_int_eq(xnv_xs_rm(h0, 0, "/tool/x"), 0);        /* gone, parent exists */
    ck_assert_int_eq(xnv_xs_rm(h0, 0, "/tool/x/y"), -ENOENT);
    ck_assert_int_eq(xnv_xs_rm(h0, 0, "/"), -EINVAL);
}
END_TEST

START_TEST(relative_paths_and_domain_path)
{
    char *home = xnv_xs_domain_path(ha, A);
    ck_assert_str_eq(home, home_a);
    free(home);
    home = xnv_xs_domain_path(ha, 77);
    ck_assert_str_eq(home, "/local/domain/77");
    free(home);

    ck_assert_int_eq(wr(ha, 0, "data/x", "rel"), 0);
    expect_value(ha, 0, path_of(home_a, "data/x"), "rel");
    expect_value(ha, 0, "data/x", "rel");
    expect_value(ha, 0, "name", "guest-a");
    /* The same relative path means B's home for B. */
    ck_assert_int_eq(read_errno(hb, 0, "data/x"), ENOENT);
}
END_TEST

START_TEST(path_and_value_limits)
{
    char *big = malloc(5000);
    memset(big, 'v', 5000);
    ck_assert_int_eq(xnv_xs_write(ha, 0, "ok", big, 4096), 0);
    ck_assert_int_eq(xnv_xs_write(ha, 0, "big", big, 4097), -E2BIG);
    ck_assert_int_eq(read_errno(ha, 0, "big"), ENOENT);

    char path[3200] = "/local/domain/1/";
    size_t l = strlen(path);
    memset(path + l, 'p', 3072 - l);
    path[3072] = '\0';
    ck_assert_int_eq(wr(h0, 0, path, "x"), 0);                /* 3072: the maximum */
    path[3072] = 'p';
    path[3073] = '\0';
    ck_assert_int_eq(wr(h0, 0, path, "x"), -EINVAL);
    memset(big, 'r', 2049);
    big[2049] = '\0';
    ck_assert_int_eq(wr(ha, 0, big, "x"), -EINVAL);          /* relative beyond 2048 */

    ck_assert_int_eq(wr(h0, 0, "/a//b", "x"), -EINVAL);
    ck_assert_int_eq(wr(h0, 0, "/a/b/", "x"), -EINVAL);
    ck_assert_int_eq(wr(h0, 0, "/a/b.c", "x"), -EINVAL);
    ck_assert_int_eq(wr(h0, 0, "/a b", "x"), -EINVAL);
    ck_assert_int_eq(wr(h0, 0, "", "x"), -EINVAL);
    ck_assert_int_eq(wr(h0, 0, "@releaseDomain", "x"), -EINVAL);
    ck_assert_int_eq(read_errno(h0, 0, "@introduceDomain"), EINVAL);
    ck_assert_int_eq(wr(h0, 0, "/a-b_c@d/E9", "x"), 0);
    free(big);
}
END_TEST

START_TEST(permissions)
{
    /* A's home is A's: B sees nothing of it, dom0 sees everything. */
    unsigned num;
    struct xs_permissions *p = xnv_xs_get_perms(ha, 0, home_a, &num);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(num, 1);
    ck_assert_uint_eq(p[0].id, A);
    ck_assert_uint_eq(p[0].perms, XS_PERM_NONE);
    free(p);
    ck_assert_int_eq(wr(ha, 0, "device/vif/0/mac", "00:16:3e:00:00:01"), 0);
    const char *mac = path_of(home_a, "device/vif/0/mac");
    ck_assert_int_eq(read_errno(hb, 0, mac), EACCES);
    ck_assert_int_eq(wr(hb, 0, mac, "evil"), -EACCES);
    ck_assert_int_eq(wr(hb, 0, path_of(home_a, "device/new"), "evil"), -EACCES);
    ck_assert_int_eq(xnv_xs_rm(hb, 0, mac), -EACCES);
    ck_assert_int_eq(xnv_xs_mkdir(hb, 0, path_of(home_a, "x")), -EACCES);
    errno = 0;
    ck_assert_ptr_null(xnv_xs_get_perms(hb, 0, mac, &num));
    ck_assert_int_eq(errno, EACCES);
    expect_value(h0, 0, mac, "00:16:3e:00:00:01");

    /* A lets B read its device directory (as a frontend does for its backend). */
    struct xs_permissions rb[2] = { { A, XS_PERM_NONE }, { B, XS_PERM_READ } };
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, path_of(home_a, "device/vif/0"), rb, 2), 0);
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, mac, rb, 2), 0);
    expect_value(hb, 0, mac, "00:16:3e:00:00:01");
    ck_assert_int_eq(wr(hb, 0, mac, "evil"), -EACCES);
    /* Nodes A creates below inherit the permissions, owned by A. */
    ck_assert_int_eq(wr(ha, 0, "device/vif/0/state", "1"), 0);
    expect_value(hb, 0, path_of(home_a, "device/vif/0/state"), "1");
    p = xnv_xs_get_perms(hb, 0, path_of(home_a, "device/vif/0/state"), &num);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(num, 2);
    ck_assert_uint_eq(p[0].id, A);
    ck_assert_uint_eq(p[1].id, B);
    ck_assert_uint_eq(p[1].perms, XS_PERM_READ);
    free(p);

    /* Only the owner (or dom0) sets permissions; nobody else takes over. */
    struct xs_permissions take[1] = { { B, XS_PERM_READ } };
    ck_assert_int_eq(xnv_xs_set_perms(hb, 0, mac, take, 1), -EACCES);
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, mac, take, 1), -EPERM);   /* no giving away */
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, mac, take, 0), -EINVAL);
    struct xs_permissions bad[1] = { { A, 0x40 } };
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, mac, bad, 1), -EINVAL);
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, "nope", rb, 2), -ENOENT);
    ck_assert_int_eq(xnv_xs_set_perms(h0, 0, mac, take, 1), 0);         /* dom0 may */
    ck_assert_int_eq(wr(hb, 0, mac, "mine"), 0);
    ck_assert_int_eq(read_errno(ha, 0, mac), 0);            /* default READ for others */

    /* Write access through a per-domain entry; the creator owns what it makes. */
    struct xs_permissions wb[2] = { { 0, XS_PERM_NONE }, { B, XS_PERM_WRITE } };
    ck_assert_int_eq(xnv_xs_mkdir(h0, 0, "/shared"), 0);
    ck_assert_int_eq(xnv_xs_set_perms(h0, 0, "/shared", wb, 2), 0);
    ck_assert_int_eq(read_errno(hb, 0, "/shared"), EACCES);  /* write-only */
    ck_assert_int_eq(wr(hb, 0, "/shared/b/c", "x"), 0);
    expect_value(hb, 0, "/shared/b/c", "x");
    p = xnv_xs_get_perms(h0, 0, "/shared/b", &num);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[0].id, B);
    free(p);
    ck_assert_int_eq(wr(ha, 0, "/shared/a", "x"), -EACCES);
    /* dom0 creating inherits unchanged. */
    ck_assert_int_eq(wr(h0, 0, path_of(home_b, "by0"), "x"), 0);
    p = xnv_xs_get_perms(h0, 0, path_of(home_b, "by0"), &num);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[0].id, B);
    free(p);
}
END_TEST

START_TEST(watch_fires_on_registration_and_changes)
{
    expect_no_event(ha);
    ck_assert_int_eq(xnv_xs_watch(ha, "device", "tok1"), 0);
    expect_event(ha, "device", "tok1");                    /* at once, as given */
    expect_no_event(ha);
    ck_assert_int_eq(xnv_xs_watch(ha, "device", "tok1"), -EEXIST);

    ck_assert_int_eq(wr(ha, 0, "device/vif/0/state", "1"), 0);
    expect_event(ha, "device/vif/0/state", "tok1");        /* relative stays relative */
    ck_assert_int_eq(wr(h0, 0, path_of(home_a, "device"), "v"), 0);
    expect_event(ha, "device", "tok1");
    ck_assert_int_eq(wr(h0, 0, path_of(home_a, "devices"), "v"), 0);   /* not below */
    ck_assert_int_eq(wr(h0, 0, path_of(home_a, "name"), "v"), 0);
    expect_no_event(ha);

    /* Absolute watches, several handles, token per watch, queue order. */
    ck_assert_int_eq(xnv_xs_watch(h0, "/local/domain", "all"), 0);
    ck_assert_int_eq(xnv_xs_watch(h0, path_of(home_a, "device/vif"), "vif"), 0);
    expect_event(h0, "/local/domain", "all");
    expect_event(h0, path_of(home_a, "device/vif"), "vif");
    ck_assert_int_eq(wr(ha, 0, "device/vif/0/state", "2"), 0);
    expect_event(ha, "device/vif/0/state", "tok1");
    expect_event(h0, path_of(home_a, "device/vif/0/state"), "all");
    expect_event(h0, path_of(home_a, "device/vif/0/state"), "vif");
    expect_no_event(h0);

    /* mkdir of an existing node changes nothing; perms changes fire. */
    ck_assert_int_eq(xnv_xs_mkdir(ha, 0, "device"), 0);
    expect_no_event(ha);
    struct xs_permissions p[2] = { { A, XS_PERM_NONE }, { B, XS_PERM_READ } };
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, "device/vif", p, 2), 0);
    expect_event(ha, "device/vif", "tok1");
    ck_assert_int_eq(xnv_xs_rm(ha, 0, "device/vif/0"), 0);
    expect_event(ha, "device/vif/0", "tok1");
    expect_no_event(ha);
}
END_TEST

START_TEST(watch_on_removed_node)
{
    ck_assert_int_eq(wr(h0, 0, "/backend/vif/1/0/state", "4"), 0);
    ck_assert_int_eq(xnv_xs_watch(h0, "/backend/vif/1/0/state", "st"), 0);
    ck_assert_int_eq(xnv_xs_watch(h0, "/backend/vif/1/0/none", "no"), 0);
    expect_event(h0, "/backend/vif/1/0/state", "st");
    expect_event(h0, "/backend/vif/1/0/none", "no");
    /* Removing an ancestor fires for the watched node, with its own path
     * (and not for a watched node that did not exist). */
    ck_assert_int_eq(xnv_xs_rm(h0, 0, "/backend/vif"), 0);
    expect_event(h0, "/backend/vif/1/0/state", "st");
    expect_no_event(h0);
    /* The watch outlives the node and fires when it comes back. */
    ck_assert_int_eq(wr(h0, 0, "/backend/vif/1/0/other", "x"), 0);
    expect_no_event(h0);
    ck_assert_int_eq(wr(h0, 0, "/backend/vif/1/0/state", "1"), 0);
    expect_event(h0, "/backend/vif/1/0/state", "st");
    /* A watch on a node that never existed works as well. */
    ck_assert_int_eq(xnv_xs_watch(hb, "/local/domain/0/nothing/yet", "t"), 0);
    expect_event(hb, "/local/domain/0/nothing/yet", "t");
}
END_TEST

START_TEST(unwatch)
{
    ck_assert_int_eq(xnv_xs_watch(ha, "data", "t"), 0);
    ck_assert_int_eq(xnv_xs_watch(ha, "data", "u"), 0);       /* same path, other token */
    ck_assert_int_eq(wr(ha, 0, "data/a", "1"), 0);
    /* Events of the removed watch still queued are dropped with it. */
    ck_assert_int_eq(xnv_xs_unwatch(ha, "data", "t"), 0);
    expect_event(ha, "data", "u");
    expect_event(ha, "data/a", "u");
    expect_no_event(ha);
    ck_assert_int_eq(wr(ha, 0, "data/b", "1"), 0);
    expect_event(ha, "data/b", "u");
    ck_assert_int_eq(xnv_xs_unwatch(ha, "data", "t"), -ENOENT);
    ck_assert_int_eq(xnv_xs_unwatch(ha, path_of(home_a, "data"), "u"), 0);   /* same node */
    ck_assert_int_eq(wr(ha, 0, "data/c", "1"), 0);
    expect_no_event(ha);
    ck_assert_int_eq(xnv_xs_watch(ha, "@bogus", "t"), -EINVAL);
    ck_assert_int_eq(xnv_xs_watch(ha, "data//x", "t"), -EINVAL);
    ck_assert_int_eq(xnv_xs_watch(ha, "data", NULL), -EINVAL);
}
END_TEST

START_TEST(unreadable_nodes_send_no_events)
{
    ck_assert_int_eq(xnv_xs_watch(hb, home_a, "spy"), 0);
    expect_event(hb, home_a, "spy");
    ck_assert_int_eq(wr(ha, 0, "secret", "x"), 0);
    expect_no_event(hb);
    struct xs_permissions p[2] = { { A, XS_PERM_NONE }, { B, XS_PERM_READ } };
    ck_assert_int_eq(wr(ha, 0, "public", "x"), 0);
    ck_assert_int_eq(xnv_xs_set_perms(ha, 0, "public", p, 2), 0);
    expect_event(hb, path_of(home_a, "public"), "spy");
    ck_assert_int_eq(wr(ha, 0, "public", "y"), 0);
    expect_event(hb, path_of(home_a, "public"), "spy");
    expect_no_event(hb);
}
END_TEST

START_TEST(release_and_introduce_domain)
{
    ck_assert_int_eq(xnv_xs_watch(h0, "@introduceDomain", "in"), 0);
    ck_assert_int_eq(xnv_xs_watch(ha, "@releaseDomain", "out"), 0);
    expect_event(h0, "@introduceDomain", "in");
    expect_event(ha, "@releaseDomain", "out");
    int c = xnv_sim_domain_create(sim, "newcomer");
    ck_assert_int_gt(c, 0);
    expect_event(h0, "@introduceDomain", "in");
    expect_no_event(h0);
    expect_no_event(ha);
    ck_assert_int_eq(xnv_sim_domain_destroy(sim, (xnv_domid_t)c), 0);
    expect_event(ha, "@releaseDomain", "out");
    expect_no_event(ha);
    expect_no_event(h0);
}
END_TEST

START_TEST(transaction_commit_and_abort)
{
    ck_assert_int_eq(wr(ha, 0, "fe/state", "1"), 0);
    ck_assert_int_eq(xnv_xs_watch(ha, "fe", "w"), 0);
    expect_event(ha, "fe", "w");

    xnv_xs_tx_t t;
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    ck_assert_uint_ne(t, XNV_XS_NO_TX);
    expect_value(ha, t, "fe/state", "1");
    ck_assert_int_eq(wr(ha, t, "fe/state", "3"), 0);
    ck_assert_int_eq(wr(ha, t, "fe/ring-ref", "8"), 0);
    ck_assert_int_eq(xnv_xs_rm(ha, t, "fe/gone"), 0);
    expect_value(ha, t, "fe/state", "3");                    /* its own view */
    expect_value(ha, 0, "fe/state", "1");                    /* not yet outside */
    ck_assert_int_eq(read_errno(ha, 0, "fe/ring-ref"), ENOENT);
    unsigned num;
    char **d = xnv_xs_directory(ha, t, "fe", &num);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(num, 2);
    free(d);
    expect_no_event(ha);                                     /* watches fire at commit */
    /* An unrelated change elsewhere does not conflict. */
    ck_assert_int_eq(wr(hb, 0, "other", "x"), 0);
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), 0);
    expect_value(ha, 0, "fe/state", "3");
    expect_value(ha, 0, "fe/ring-ref", "8");
    expect_event(ha, "fe/state", "w");
    expect_event(ha, "fe/ring-ref", "w");
    expect_no_event(ha);
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), -ENOENT);   /* gone */
    ck_assert_int_eq(read_errno(ha, t, "fe/state"), ENOENT);

    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    ck_assert_int_eq(wr(ha, t, "fe/state", "6"), 0);
    ck_assert_int_eq(xnv_xs_mkdir(ha, t, "fe/dir"), 0);
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, true), 0);
    expect_value(ha, 0, "fe/state", "3");
    ck_assert_int_eq(read_errno(ha, 0, "fe/dir"), ENOENT);
    expect_no_event(ha);

    /* Transactions are per handle, and their permissions checks hold. */
    ck_assert_int_eq(xnv_xs_tx_start(hb, &t), 0);
    ck_assert_int_eq(wr(ha, t, "fe/state", "x"), -ENOENT);
    ck_assert_int_eq(wr(hb, t, path_of(home_a, "fe/state"), "x"), -EACCES);
    ck_assert_int_eq(xnv_xs_tx_end(hb, t, false), 0);
    expect_value(ha, 0, "fe/state", "3");
}
END_TEST

START_TEST(transaction_conflict)
{
    ck_assert_int_eq(wr(ha, 0, "fe/state", "1"), 0);
    ck_assert_int_eq(wr(ha, 0, "fe/other", "1"), 0);
    xnv_xs_tx_t t;
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    expect_value(ha, t, "fe/state", "1");
    ck_assert_int_eq(wr(ha, t, "fe/new", "tx"), 0);
    ck_assert_int_eq(wr(ha, t, "fe/other", "tx"), 0);
    /* Somebody else changes a node the transaction read. */
    ck_assert_int_eq(wr(h0, 0, path_of(home_a, "fe/state"), "5"), 0);
    ck_assert_int_eq(xnv_xs_watch(ha, "fe", "w"), 0);
    expect_event(ha, "fe", "w");
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), -EAGAIN);
    /* Nothing of it applied, no event. */
    ck_assert_int_eq(read_errno(ha, 0, "fe/new"), ENOENT);
    expect_value(ha, 0, "fe/other", "1");
    expect_value(ha, 0, "fe/state", "5");
    expect_no_event(ha);

    /* Retry wins; a node the transaction created being created meanwhile,
     * or removed, conflicts too. */
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    ck_assert_int_eq(wr(ha, t, "fe/new", "tx"), 0);
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), 0);
    expect_event(ha, "fe/new", "w");
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    ck_assert_int_eq(wr(ha, t, "fe/x/y", "tx"), 0);
    ck_assert_int_eq(wr(ha, 0, "fe/x", "outside"), 0);
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), -EAGAIN);
    ck_assert_int_eq(read_errno(ha, 0, "fe/x/y"), ENOENT);
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t), 0);
    ck_assert_int_eq(xnv_xs_rm(ha, t, "fe"), 0);
    ck_assert_int_eq(wr(ha, 0, "fe/x/deep", "outside"), 0);  /* inside the removed tree */
    ck_assert_int_eq(xnv_xs_tx_end(ha, t, false), -EAGAIN);
    expect_value(ha, 0, "fe/x/deep", "outside");
}
END_TEST

START_TEST(transaction_limits)
{
    xnv_xs_tx_t t[11];
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(xnv_xs_tx_start(ha, &t[i]), 0);
    ck_assert_int_eq(xnv_xs_tx_start(ha, &t[10]), -ENOSPC);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(xnv_xs_tx_end(ha, t[i], i % 2), 0);
    /* A handle closed with transactions open frees them. */
    struct xnv_hv *h = xnv_sim_hv_open(sim, A);
    ck_assert_int_eq(xnv_xs_tx_start(h, &t[0]), 0);
    ck_assert_int_eq(wr(h, t[0], "x", "y"), 0);
    ck_assert_int_eq(xnv_xs_watch(h, "x", "t"), 0);
    xnv_hv_close(h);
    ck_assert_int_eq(read_errno(ha, 0, "x"), ENOENT);
}
END_TEST

Suite *xnv_suite_sim_xenstore(void)
{
    Suite *s = suite_create("sim_xenstore");
    TCase *tc = tcase_create("xenstore");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, read_write_mkdir_rm_directory);
    tcase_add_test(tc, relative_paths_and_domain_path);
    tcase_add_test(tc, path_and_value_limits);
    tcase_add_test(tc, permissions);
    tcase_add_test(tc, watch_fires_on_registration_and_changes);
    tcase_add_test(tc, watch_on_removed_node);
    tcase_add_test(tc, unwatch);
    tcase_add_test(tc, unreadable_nodes_send_no_events);
    tcase_add_test(tc, release_and_introduce_domain);
    tcase_add_test(tc, transaction_commit_and_abort);
    tcase_add_test(tc, transaction_conflict);
    tcase_add_test(tc, transaction_limits);
    suite_add_tcase(s, tc);
    return s;
}
