/* The channel set's fault guard (interdomain/idc_guard.c): a fault inside a
 * guarded ring access jumps back out of it; any other fault is reported
 * (thread, address, instruction, code addresses on the stack) on stderr and
 * then kills the process as it would have without the guard. */
#include <check.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../interdomain/idc_int.h"
#include "child_output.h"
#include "skip.h"

/* AddressSanitizer owns SIGSEGV in a sanitized build: the guard is tested in
 * the plain build (check-unit) and under valgrind. */

static volatile int *volatile nowhere;

static void unguarded_fault(void *unused)
{
    (void)unused;
    ck_assert(idc_guard_install());
    (void)*nowhere;
}

/* A thread pointer that no longer points at the thread's control block (a
 * zeroed page here), as one thread had after a restore on the rig. */
static void broken_thread_pointer_fault(void *unused)
{
    (void)unused;
    ck_assert(idc_guard_install());
    static uint8_t zeroes[4096] __attribute__((aligned(4096)));
    syscall(SYS_arch_prctl, 0x1002 /* ARCH_SET_FS */, zeroes);
    (void)*nowhere;
}

static void guarded_fault(void *unused)
{
    (void)unused;
    ck_assert(idc_guard_install());
    sigjmp_buf jb;
    if (sigsetjmp(jb, 1)) {
        _exit(42);                 /* jumped back out: the guard worked */
    }
    idc_guard_enter(&jb);
    (void)*nowhere;
    idc_guard_leave();
    _exit(1);
}

/* fn's child died of SIGSEGV after reporting the fault and saying each of
 * the needles (NULL-terminated). */
static void expect_fatal_report(void (*fn)(void *), const char *const *needles)
{
    char said[2048];
    int st = child_output(fn, NULL, false, said, sizeof said);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %#x", st);
    ck_assert_msg(strstr(said, "fatal SIGSEGV at address 0x0 in thread "), "said: %s", said);
    for (; *needles; needles++)
        ck_assert_msg(strstr(said, *needles), "no '%s' in: %s", *needles, said);
}

START_TEST(a_fault_elsewhere_is_reported_then_kills)
{
    expect_fatal_report(unguarded_fault, (const char *const[]){ "; instruction at +0x",
                                                                "code addresses on its stack: +0x", NULL });
}
END_TEST

START_TEST(a_broken_thread_pointer_is_reported)
{
    expect_fatal_report(broken_thread_pointer_fault, (const char *const[]){ "thread pointer is broken", NULL });
}
END_TEST

START_TEST(a_fault_in_a_guarded_access_jumps_back)
{
    char said[256];
    int st = child_output(guarded_fault, NULL, false, said, sizeof said);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 42, "status %#x", st);
    ck_assert_str_eq(said, "");
}
END_TEST

Suite *xnv_suite_idc_guard(void)
{
    Suite *s = suite_create("idc_guard");
    TCase *c = tcase_create("guard");
    if (SANITIZED) {
        xnv_test_skip("idc_guard", "a_fault_elsewhere_is_reported_then_kills", "ASan owns SIGSEGV");
        xnv_test_skip("idc_guard", "a_fault_in_a_guarded_access_jumps_back", "ASan owns SIGSEGV");
        xnv_test_skip("idc_guard", "a_broken_thread_pointer_is_reported", "ASan owns SIGSEGV");
    } else {
        tcase_add_test(c, a_fault_elsewhere_is_reported_then_kills);
        tcase_add_test(c, a_fault_in_a_guarded_access_jumps_back);
        tcase_add_test(c, a_broken_thread_pointer_is_reported);
    }
    suite_add_tcase(s, c);
    return s;
}
