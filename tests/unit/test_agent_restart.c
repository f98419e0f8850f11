/* xnv-netfront starts itself again after a crash (tools/xnv-netfront/restart.c),
 * a few times at most, also when the fault reaches it through the channels'
 * fault guard (interdomain/idc_guard.c).  Each case runs in a child process
 * whose program, once "started again", is a shell that reports what it got
 * and exits with a status the parent checks. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../../interdomain/idc_int.h"
#include "../../tools/xnv-netfront/agent.h"

static char out[64];

static void setup(void)
{
    snprintf(out, sizeof out, "/tmp/xnv-restart.XXXXXX");
    int fd = mkstemp(out);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void teardown(void) { unlink(out); }

/* The "new image": writes its restart count into the file, exits 42. */
static char *again_argv[] = { "sh", "-c", "echo \"restart $XNV_NETFRONT_RESTARTS\" > \"$XNV_TEST_OUT\"; exit 42",
                              NULL };

/* A real fault (not raise(): the kernel's SIGSEGV, as a crash brings). */
static volatile uintptr_t nowhere = 8;
static void crash(void) { *(volatile int *)nowhere = 1; }

/* Fork; the child sets its count, arms, maybe installs the channels'
 * guard, and crashes.  Returns its wait status. */
static int run_child(const char *count, bool guard)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("XNV_TEST_OUT", out, 1);
        if (count)
            setenv("XNV_NETFRONT_RESTARTS", count, 1);
        else
            unsetenv("XNV_NETFRONT_RESTARTS");
        /* the report and the crash messages stay out of the test log */
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0)
            dup2(null, STDERR_FILENO);
        agent_restart_arm("/bin/sh", again_argv);
        if (guard && !idc_guard_install())
            _exit(3);
        crash();
        _exit(4);
    }
    int ws = 0;
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    return ws;
}

static void expect_restart(const char *line)
{
    char got[64] = "";
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(got, sizeof got, f));
    fclose(f);
    got[strcspn(got, "\n")] = '\0';
    ck_assert_str_eq(got, line);
}

START_TEST(a_crash_starts_the_agent_again)
{
    int ws = run_child(NULL, false);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 42);
    expect_restart("restart 1");
}
END_TEST

START_TEST(the_count_goes_on_from_the_last_start)
{
    int ws = run_child("3", false);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 42);
    expect_restart("restart 4");
}
END_TEST

/* Five starts in a row within the window: the sixth crash is the end. */
START_TEST(a_crash_loop_ends_after_a_few_starts)
{
    int ws = run_child("5", false);
    ck_assert(WIFSIGNALED(ws));
    ck_assert_int_eq(WTERMSIG(ws), SIGSEGV);
    FILE *f = fopen(out, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fgetc(f), EOF);     /* nothing started */
    fclose(f);
}
END_TEST

/* The channels' guard catches faults on peer rings; any other fault goes
 * on to the handler installed before it (the agent's). */
START_TEST(a_fault_outside_the_guard_reaches_the_agent)
{
    int ws = run_child(NULL, true);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 42);
    expect_restart("restart 1");
}
END_TEST

Suite *xnv_suite_agent_restart(void)
{
    Suite *s = suite_create("agent_restart");
    TCase *tc = tcase_create("restart");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_crash_starts_the_agent_again);
    tcase_add_test(tc, the_count_goes_on_from_the_last_start);
    tcase_add_test(tc, a_crash_loop_ends_after_a_few_starts);
    tcase_add_test(tc, a_fault_outside_the_guard_reaches_the_agent);
    suite_add_tcase(s, tc);
    return s;
}
