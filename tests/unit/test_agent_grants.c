/* xnv-netfront's reservation in gntalloc's limit (tools/xnv-netfront/grants.c),
 * against a file standing in for the module parameter. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "../../tools/xnv-netfront/agent.h"

static char path[64];

static void put(const char *v)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(v, f);
    fclose(f);
}

static unsigned get(void)
{
    unsigned v = 0;
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "%u", &v), 1);
    fclose(f);
    return v;
}

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/xnv-gntalloc-limit.XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    agent_log_init(false);
}

static void teardown(void) { unlink(path); }

/* The kernel's default (1024) has no room for two queues and a channel. */
START_TEST(the_default_limit_is_raised_for_queues_and_channels)
{
    put("1024\n");
    unsigned need = agent_grants_needed(2, true);
    ck_assert_uint_gt(need, 1024 + 257);
    ck_assert_int_eq(agent_grants_reserve(2, true, path), 1);
    ck_assert_uint_eq(get(), need);
    /* Enough already: left alone. */
    ck_assert_int_eq(agent_grants_reserve(1, false, path), 0);
    ck_assert_uint_eq(get(), need);
}
END_TEST

START_TEST(a_higher_limit_is_kept)
{
    put("100000\n");
    ck_assert_int_eq(agent_grants_reserve(2, true, path), 0);
    ck_assert_uint_eq(get(), 100000);
}
END_TEST

START_TEST(an_unreadable_limit_is_an_error_not_a_guess)
{
    put("many\n");
    ck_assert_int_lt(agent_grants_reserve(1, true, path), 0);
    unlink(path);
    ck_assert_int_lt(agent_grants_reserve(1, true, path), 0);
}
END_TEST

Suite *xnv_suite_agent_grants(void)
{
    Suite *s = suite_create("agent_grants");
    TCase *tc = tcase_create("gntalloc");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, the_default_limit_is_raised_for_queues_and_channels);
    tcase_add_test(tc, a_higher_limit_is_kept);
    tcase_add_test(tc, an_unreadable_limit_is_an_error_not_a_guess);
    suite_add_tcase(s, tc);
    return s;
}
