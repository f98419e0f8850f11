/* The Check runner for every unit and simulated-hypervisor suite.
 * The suite list is generated from the tests/unit/test_<name>.c file names.
 * Skipped tests (skip.h) are listed and counted apart from the passed ones. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "skip.h"

#define XNV_SUITE(name) Suite *xnv_suite_##name(void);
#include "suites.h"
#undef XNV_SUITE

static int skipped;

void xnv_test_skip(const char *suite, const char *test, const char *why)
{
    const char *only = getenv("CK_RUN_SUITE");
    if (only && strcmp(only, suite) != 0)
        return;
    printf("SKIPPED: %s: %s: %s\n", suite, test, why);
    skipped++;
}

int main(void)
{
    SRunner *sr = srunner_create(NULL);
#define XNV_SUITE(name) srunner_add_suite(sr, xnv_suite_##name());
#include "suites.h"
#undef XNV_SUITE
    srunner_run_all(sr, CK_NORMAL);
    int run = srunner_ntests_run(sr);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", run - failed, failed, skipped);
    else
        printf("%d passed, %d failed\n", run - failed, failed);
    return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
