/* A peer can make its channels come and go as often as it likes: the
 * victim's log gets a few lines about it per window (xnv/log_limit.h), not
 * one or two per cycle. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "idc_fixture.h"
#include "idc_hpeer.h"

static struct idc_world W;
static struct idc_guest *vic, *good, *bad;
static struct hpeer H;
static unsigned bad_lines, lines;

static void count(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)level;
    char prefix[24];
    snprintf(prefix, sizeof prefix, "peer %d: ", bad->dom);
    lines++;
    bad_lines += strncmp(msg, prefix, strlen(prefix)) == 0;
}

static void setup(void)
{
    idcw_init(&W, "xenbr0", 3);
    W.opt.retry_ms = 1;
    vic = &W.g[0];
    good = &W.g[1];
    bad = &W.g[2];
    hpeer_world_up(&W, &H, count);
    bad_lines = lines = 0;
}

static void teardown(void)
{
    hpeer_free(&H);
    idcw_free(&W);
}

/* Each cycle: listed, channel up, no longer listed (2 lines unlimited). */
START_TEST(optin_flips_log_a_few_lines)
{
    for (int i = 0; i < 50; i++) {
        hpeer_ring(&H, 8, 0);
        ck_assert(idcw_pump_until_tx(&W, vic, bad, XNV_IDC_UP));
        hpeer_optin(&H, false);
        ck_assert(idcw_pump_until_listed(&W, vic, bad, false));
        hpeer_optin(&H, true);
        ck_assert(idcw_pump_until_listed(&W, vic, bad, true));
    }
    ck_assert_msg(bad_lines >= 1 && bad_lines <= 5, "%u lines about the peer for 50 cycles", bad_lines);
    ck_assert_uint_eq(lines, bad_lines);
}
END_TEST

/* Each cycle: a malformed publication, then a good one (retry_ms is 1 ms). */
START_TEST(malformed_then_valid_republications_log_a_few_lines)
{
    for (int i = 0; i < 50; i++) {
        hpeer_publish(&H, "x", "1", "1");
        ck_assert(idcw_pump_until_tx(&W, vic, bad, XNV_IDC_FAILED));
        hpeer_ring(&H, 8, 0);
        ck_assert(idcw_pump_until_tx(&W, vic, bad, XNV_IDC_UP));
    }
    ck_assert_msg(bad_lines >= 1 && bad_lines <= 5, "%u lines about the peer for 50 cycles", bad_lines);
}
END_TEST

Suite *xnv_suite_idc_log(void)
{
    Suite *s = suite_create("idc_log");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, optin_flips_log_a_few_lines);
    tcase_add_test(tc, malformed_then_valid_republications_log_a_few_lines);
    suite_add_tcase(s, tc);
    return s;
}
