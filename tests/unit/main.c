/* The Check runner for every unit and simulated-hypervisor suite.
 * The suite list is generated from the tests/unit/test_<name>.c file names. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#define XNV_SUITE(name) Suite *xnv_suite_##name(void);
#include "suites.h"
#undef XNV_SUITE

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
    printf("%d passed, %d failed\n", run - failed, failed);
    return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
