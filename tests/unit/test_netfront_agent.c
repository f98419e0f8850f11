/* The guest agent's command line: help, version, bad options and a domain
 * without Xen give clear messages and the documented exit statuses.  Runs
 * the built program (build/bin/xnv-netfront next to this test binary, which
 * make check-unit builds first); a test fails when the program is missing. */
#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child_output.h"
#include "skip.h"

static char prog[PATH_MAX];

static bool find_agent(void)
{
    char self[PATH_MAX - 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return false;
    *slash = '\0';
    snprintf(prog, sizeof prog, "%s/../bin/xnv-netfront", self);
    return access(prog, X_OK) == 0;
}

/* The agent's argv (prog and up to 14 arguments), run in the child. */
static void exec_agent(void *arg)
{
    const char *const *args = arg;
    const char *argv[16] = { prog };
    for (int i = 0; args[i] && i < 14; i++)
        argv[i + 1] = args[i];
    execv(prog, (char *const *)argv);
    _exit(127);
}

/* Run the agent with args; its exit status, output in out. */
static int run_agent(const char *const *args, char *out, size_t outlen)
{
    int ws = child_output(exec_agent, (void *)args, true, out, outlen);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static char out[16384];

#define NEED_AGENT() \
    ck_assert_msg(find_agent(), "%s is missing: build it (make, or make check-unit)", prog)

START_TEST(agent_help_and_version)
{
    NEED_AGENT();
    ck_assert_int_eq(run_agent((const char *[]){ "--help", NULL }, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Usage: xnv-netfront"));
    ck_assert_ptr_nonnull(strstr(out, "--queues"));
    ck_assert_ptr_nonnull(strstr(out, "--foreground"));
    ck_assert_int_eq(run_agent((const char *[]){ "--version", NULL }, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "xnv-netfront 0."));
}
END_TEST

START_TEST(agent_bad_usage_exits_2)
{
    NEED_AGENT();
    const char *const cases[][3] = {
        { "--bogus", NULL, NULL },        { "--queues", "0", NULL },   { "--queues", "17", NULL },
        { "--device", "-1", NULL },       { "--device", "x", NULL },   { "--tap", "a-name-far-too-long", NULL },
        { "--timeout", "1e3", NULL },     { "stray", NULL, NULL },     { "-q", NULL, NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_msg(run_agent(cases[i], out, sizeof out) == 2, "%s %s: %s", cases[i][0],
                      cases[i][1] ? cases[i][1] : "", out);
        ck_assert_msg(strstr(out, "xnv-netfront: ") && strstr(out, "--help"), "%s", out);
    }
}
END_TEST

START_TEST(agent_without_xen_exits_3)
{
    NEED_AGENT();
    ck_assert_int_eq(run_agent((const char *[]){ "--foreground", "--device", "0", NULL }, out, sizeof out), 3);
    ck_assert_ptr_nonnull(strstr(out, "cannot open the Xen interfaces"));
    /* As a daemon too: the parent reports the child's verdict. */
    ck_assert_int_eq(run_agent((const char *[]){ NULL }, out, sizeof out), 3);
}
END_TEST

Suite *xnv_suite_netfront_agent(void)
{
    Suite *s = suite_create("netfront-agent");
    TCase *t = tcase_create("cli");
    tcase_add_test(t, agent_help_and_version);
    tcase_add_test(t, agent_bad_usage_exits_2);
    struct stat st;
    if (stat("/dev/xen/evtchn", &st) == 0)
        xnv_test_skip("netfront-agent", "agent_without_xen_exits_3",
                      "this is a Xen domain (/dev/xen/evtchn exists)");
    else
        tcase_add_test(t, agent_without_xen_exits_3);
    suite_add_tcase(s, t);
    return s;
}
