/* Tests that cannot run where the runner is (e.g. a check that needs a
 * domain without Xen) are left out of their suite when it is built and
 * reported by the runner as skipped: a skipped test is never counted as
 * passed. */
#ifndef XNV_TEST_SKIP_H
#define XNV_TEST_SKIP_H

/* Note that suite's test was not added, and why (the runner prints it). */
void xnv_test_skip(const char *suite, const char *test, const char *why);

/* 1 in the AddressSanitizer build (make check-san). */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#endif
