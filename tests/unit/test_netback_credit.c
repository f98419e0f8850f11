/* The `rate` token bucket (netback/credit.c) and the queue thread's lazy
 * clock: in a PV dom0 every clock read is a system call, so a pass of the
 * thread reads it only when a limit (or a stall) needs the time, and at
 * most once. */
#include <check.h>
#include "../../netback/nb.h"

/* Without a limit the bucket never asks for the time. */
START_TEST(unlimited_never_reads_the_clock)
{
    struct nb_credit c;
    nb_credit_init(&c, 0, 0);
    struct nb_clock now = { 0, 0 };
    uint64_t wait = 0;
    for (int i = 0; i < 1000; i++)
        ck_assert(nb_credit_take(&c, 65535, &now, &wait));
    ck_assert_uint_eq(now.reads, 0);
    ck_assert_uint_eq(now.ns, 0);
    ck_assert_uint_eq(wait, 0);
}
END_TEST

/* With a limit: one read for a whole pass, however many packets it takes. */
START_TEST(limited_reads_the_clock_once_a_pass)
{
    struct nb_credit c;
    nb_credit_init(&c, 1000000, 50000);
    struct nb_clock now = { 0, 0 };
    uint64_t wait = 0;
    for (int i = 0; i < 10; i++)
        ck_assert(nb_credit_take(&c, 1500, &now, &wait));
    ck_assert_uint_eq(now.reads, 1);
    ck_assert_uint_gt(now.ns, 0);
}
END_TEST

/* The bucket itself: a period's bytes, then a wait until the refill; a
 * packet larger than a period's credit passes when the bucket is full. */
START_TEST(bucket_refills_every_period)
{
    struct nb_credit c;
    nb_credit_init(&c, 3000, 10000);              /* 3000 bytes every 10 ms */
    struct nb_clock now = { 1000000000u, 0 };     /* a pass at t = 1 s */
    uint64_t wait = 0;
    ck_assert(nb_credit_take(&c, 1500, &now, &wait));
    ck_assert(nb_credit_take(&c, 1500, &now, &wait));
    ck_assert(!nb_credit_take(&c, 100, &now, &wait));
    ck_assert_uint_eq(wait, 10000000u);
    struct nb_clock later = { 1000000000u + 4000000u, 0 };
    ck_assert(!nb_credit_take(&c, 100, &later, &wait));
    ck_assert_uint_eq(wait, 6000000u);
    struct nb_clock next = { 1000000000u + 10000000u, 0 };
    ck_assert(nb_credit_take(&c, 9000, &next, &wait));   /* full bucket: a big frame passes */
    ck_assert(!nb_credit_take(&c, 1, &next, &wait));
    ck_assert_uint_eq(now.reads + later.reads + next.reads, 0);   /* given times are kept */
}
END_TEST

Suite *xnv_suite_netback_credit(void)
{
    Suite *s = suite_create("netback_credit");
    TCase *c = tcase_create("credit");
    tcase_add_test(c, unlimited_never_reads_the_clock);
    tcase_add_test(c, limited_reads_the_clock_once_a_pass);
    tcase_add_test(c, bucket_refills_every_period);
    suite_add_tcase(s, c);
    return s;
}
