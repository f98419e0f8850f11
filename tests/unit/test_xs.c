/* The xenstore layer (xnv/xs.h) over the simulated hypervisor: keys as
 * dir/key, strict numbers and their refusals, the messages, and the
 * transaction retry with its bound. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xnv/sim.h"
#include "xnv/xs.h"

static struct xnv_sim *sim;
static struct xnv_hv *ha, *other;   /* guest A, and another process of it */
static char home_a[32], home_b[32];

static void setup(void)
{
    sim = xnv_sim_new();
    ck_assert_ptr_nonnull(sim);
    int a = xnv_sim_domain_create(sim, "guest-a"), b = xnv_sim_domain_create(sim, "guest-b");
    ck_assert(a > 0 && b > 0);
    snprintf(home_a, sizeof home_a, "/local/domain/%d", a);
    snprintf(home_b, sizeof home_b, "/local/domain/%d", b);
    ha = xnv_sim_hv_open(sim, (xnv_domid_t)a);
    other = xnv_sim_hv_open(sim, (xnv_domid_t)a);
    ck_assert(ha && other);
    ck_assert_int_eq(xnv_xs_mkdir(ha, XNV_XS_NO_TX, "dev"), 0);
}

static void teardown(void)
{
    xnv_hv_close(other);
    xnv_hv_close(ha);
    xnv_sim_free(sim);
}

static void put(const char *path, const void *val, unsigned len)
{
    ck_assert_int_eq(xnv_xs_write(ha, XNV_XS_NO_TX, path, val, len), 0);
}

static int num(const char *key, uint64_t max, uint64_t *out)
{
    return xnv_xs_read_uint(ha, XNV_XS_NO_TX, "dev", key, max, out);
}

START_TEST(read_key_and_number)
{
    put("dev/n", "42", 2);
    unsigned len = 0;
    char *v = xnv_xs_read_key(ha, XNV_XS_NO_TX, "dev", "n", &len);
    ck_assert_str_eq(v, "42");
    ck_assert_uint_eq(len, 2);
    free(v);
    v = xnv_xs_read_key(ha, XNV_XS_NO_TX, "dev/n", NULL, NULL);   /* no key: dir is the path */
    ck_assert_str_eq(v, "42");
    free(v);

    uint64_t n = 7;
    ck_assert_int_eq(num("n", 42, &n), 0);
    ck_assert_uint_eq(n, 42);
    put("dev/max", "18446744073709551615", 20);
    ck_assert_int_eq(num("max", UINT64_MAX, &n), 0);
    ck_assert(n == UINT64_MAX);
}
END_TEST

/* Every value may come from another domain: anything but plain decimal
 * digits within the bound is refused, and the output is left alone. */
START_TEST(number_refusals)
{
    static const char *const bad[] = {
        "", "-1", "+1", " 1", "1 ", "0x10", "1e3", "4.0", "18446744073709551616", "000000000000000000001",
    };
    uint64_t n = 99;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put("dev/v", bad[i], (unsigned)strlen(bad[i]));
        ck_assert_msg(num("v", UINT64_MAX, &n) == -EINVAL, "\"%s\" accepted", bad[i]);
    }
    put("dev/v", "43", 2);
    ck_assert_int_eq(num("v", 42, &n), -EINVAL);      /* above the bound */
    put("dev/v", "7\0" "1", 3);                      /* a NUL inside is not the 7 before it */
    ck_assert_int_eq(num("v", 42, &n), -EINVAL);
    ck_assert_uint_eq(n, 99);

    ck_assert_int_eq(num("absent", 42, &n), -ENOENT);
    /* Unreadable is not absent: B's home is closed to A. */
    ck_assert_int_eq(xnv_xs_read_uint(ha, XNV_XS_NO_TX, home_b, "domid", 0x7fef, &n), -EACCES);
    char longdir[4000];
    memset(longdir, 'a', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    ck_assert_int_eq(xnv_xs_read_uint(ha, XNV_XS_NO_TX, longdir, "k", 1, &n), -ENAMETOOLONG);
    errno = 0;
    ck_assert_ptr_null(xnv_xs_read_key(ha, XNV_XS_NO_TX, longdir, "k", NULL));
    ck_assert_int_eq(errno, ENAMETOOLONG);
    ck_assert_uint_eq(n, 99);
}
END_TEST

START_TEST(number_messages)
{
    char err[200], want[200];
    uint64_t n;
    put("dev/ref", "12ab", 4);
    ck_assert_int_eq(xnv_xs_read_uint_why(ha, XNV_XS_NO_TX, "dev", "ref", 65535, &n, err, sizeof err),
                     -EINVAL);
    ck_assert_str_eq(err, "dev/ref: \"12ab\" is not a number up to 65535");
    ck_assert_int_eq(xnv_xs_read_uint_why(ha, XNV_XS_NO_TX, home_a, "gone", 1, &n, err, sizeof err),
                     -ENOENT);
    snprintf(want, sizeof want, "%s/gone is missing", home_a);
    ck_assert_str_eq(err, want);
    put("dev/ref", "65535", 5);
    err[0] = '\0';
    ck_assert_int_eq(xnv_xs_read_uint_why(ha, XNV_XS_NO_TX, "dev", "ref", 65535, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 65535);
    ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(exists_and_printf)
{
    ck_assert(xnv_xs_exists(ha, XNV_XS_NO_TX, "dev", NULL));
    ck_assert(!xnv_xs_exists(ha, XNV_XS_NO_TX, "dev", "k"));
    ck_assert(!xnv_xs_exists(ha, XNV_XS_NO_TX, home_b, NULL));     /* unreadable */
    ck_assert_int_eq(xnv_xs_printf(ha, XNV_XS_NO_TX, "dev", "k", "%u-%s", 5u, "x"), 0);
    ck_assert(xnv_xs_exists(ha, XNV_XS_NO_TX, "dev", "k"));
    char *v = xnv_xs_read_key(ha, XNV_XS_NO_TX, "dev", "k", NULL);
    ck_assert_str_eq(v, "5-x");
    free(v);
    ck_assert_int_eq(xnv_xs_printf(ha, XNV_XS_NO_TX, "dev/whole", NULL, "%d", -3), 0);
    v = xnv_xs_read_key(ha, XNV_XS_NO_TX, "dev", "whole", NULL);
    ck_assert_str_eq(v, "-3");
    free(v);
    ck_assert_int_eq(xnv_xs_printf(ha, XNV_XS_NO_TX, home_b, "k", "1"), -EACCES);
}
END_TEST

/* A transaction body: reads dev/seen, writes dev/out; the first `conflicts`
 * runs, somebody else changes dev/seen before the commit. */
struct body {
    unsigned calls, conflicts;
    int result;
};

static int body(struct xnv_hv *hv, xnv_xs_tx_t tx, void *arg)
{
    struct body *b = arg;
    b->calls++;
    char *v = xnv_xs_read_key(hv, tx, "dev", "seen", NULL);
    free(v);
    if (b->calls <= b->conflicts)
        ck_assert_int_eq(xnv_xs_printf(other, XNV_XS_NO_TX, "dev", "seen", "%u", b->calls), 0);
    int rc = xnv_xs_printf(hv, tx, "dev", "out", "%u", b->calls);
    return rc ? rc : b->result;
}

static char *out_value(void)
{
    return xnv_xs_read_key(ha, XNV_XS_NO_TX, "dev", "out", NULL);
}

/* The body committed what its last run wrote; removed for the next case. */
static void expect_out(const char *want)
{
    char *v = out_value();
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, want);
    free(v);
    ck_assert_int_eq(xnv_xs_rm(ha, XNV_XS_NO_TX, "dev/out"), 0);
}

START_TEST(transact_commits_and_aborts)
{
    put("dev/seen", "0", 1);
    struct body b = { 0 };
    ck_assert_int_eq(xnv_xs_transact(ha, 4, body, &b), 0);
    ck_assert_uint_eq(b.calls, 1);
    expect_out("1");

    /* An error of the body aborts: nothing written, no second run. */
    b = (struct body){ .result = -EPROTO };
    ck_assert_int_eq(xnv_xs_transact(ha, 4, body, &b), -EPROTO);
    ck_assert_uint_eq(b.calls, 1);
    ck_assert_ptr_null(out_value());
    /* Nothing to write: aborted too, its value handed back. */
    b = (struct body){ .result = 1 };
    ck_assert_int_eq(xnv_xs_transact(ha, 4, body, &b), 1);
    ck_assert_uint_eq(b.calls, 1);
    ck_assert_ptr_null(out_value());
}
END_TEST

START_TEST(transact_retries_within_bound)
{
    put("dev/seen", "0", 1);
    /* Lost twice, then committed by the third run. */
    struct body b = { .conflicts = 2 };
    ck_assert_int_eq(xnv_xs_transact(ha, 3, body, &b), 0);
    ck_assert_uint_eq(b.calls, 3);
    expect_out("3");

    /* Lost every time: exactly `tries` runs, then -EAGAIN, nothing written. */
    b = (struct body){ .conflicts = 100 };
    ck_assert_int_eq(xnv_xs_transact(ha, 5, body, &b), -EAGAIN);
    ck_assert_uint_eq(b.calls, 5);
    ck_assert_ptr_null(out_value());
}
END_TEST

Suite *xnv_suite_xs(void)
{
    Suite *s = suite_create("xs");
    TCase *tc = tcase_create("xs");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, read_key_and_number);
    tcase_add_test(tc, number_refusals);
    tcase_add_test(tc, number_messages);
    tcase_add_test(tc, exists_and_printf);
    tcase_add_test(tc, transact_commits_and_aborts);
    tcase_add_test(tc, transact_retries_within_bound);
    suite_add_tcase(s, tc);
    return s;
}
