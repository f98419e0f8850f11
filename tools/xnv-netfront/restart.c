/* A crash of the agent is not the end of the guest's network: it starts
 * itself again, from scratch, by executing its own program anew (same
 * process, same arguments: /proc/self/exe).  The new image finds the TAP (persistent, so
 * the guest's addresses and routes on it stay), takes its device over from
 * the old connection (the netfront closes and reconnects a frontend it
 * finds connected) and rebuilds its channels.
 *
 * Seen on the rig: after `xl restore` a thread of the agent can come back
 * with a broken thread pointer, in the guest kernel's resume, before any of
 * our code runs in it.  What makes starting again possible there is that
 * the event channel devices stay open across the execve: closing one whose
 * ports the restore left stale would BUG() in the guest kernel and leave
 * the process stuck in its exit.
 *
 * Everything in the handler is async-signal-safe and needs no thread
 * pointer (raw system calls, prepared buffers).  At most AGENT_RESTARTS
 * starts within AGENT_RESTART_WINDOW_S of each other; then the crash takes
 * its default action. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "agent.h"
#include "xnv/hv.h"
#include "xnv/rawsys.h"

#define AGENT_RESTARTS 5
#define AGENT_RESTART_WINDOW_S 60
#define RESTART_ENV "XNV_NETFRONT_RESTARTS="

static const char *saved_exe;
static char **saved_argv;
static char **saved_envp;             /* environ, with env_count in place of ours */
static char env_count[sizeof RESTART_ENV + 24];
static unsigned restarts;             /* starts before this one, in the window */
static long started_s;                /* CLOCK_MONOTONIC seconds at arming */

static long now_s(void)
{
    struct timespec ts = { 0, 0 };
    xnv_raw_syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (long)&ts, 0, 0);
    return (long)ts.tv_sec;
}

/* "XNV_NETFRONT_RESTARTS=<n>" into env_count, without stdio. */
static void set_count(unsigned n)
{
    char digits[12];
    size_t k = 0, at = sizeof RESTART_ENV - 1;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n && k < sizeof digits);
    memcpy(env_count, RESTART_ENV, at);
    while (k)
        env_count[at++] = digits[--k];
    env_count[at] = '\0';
}

static void on_crash(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    xnv_raw_default_action(sig);      /* a fault in here: the default action */
    /* A start that lived through the window counts from zero again. */
    unsigned n = now_s() - started_s >= AGENT_RESTART_WINDOW_S ? 0 : restarts;
    if (!saved_argv || n >= AGENT_RESTARTS) {
        xnv_raw_say("xnv-netfront: crashed again too soon after starting again: giving up\n");
        return;
    }
    xnv_raw_say("xnv-netfront: fatal signal: starting again\n");
    set_count(n + 1);
    xnv_xen_evtchn_keep_across_exec();
    /* The new image starts with no signal blocked (this one is, in here). */
    unsigned long none = 0;
    xnv_raw_syscall(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, sizeof none);
    xnv_raw_syscall(SYS_execve, (long)saved_exe, (long)saved_argv, (long)saved_envp, 0);
    xnv_raw_say("xnv-netfront: cannot execute itself again\n");
}

unsigned agent_restarts_so_far(void)
{
    const char *c = getenv("XNV_NETFRONT_RESTARTS");
    return c ? (unsigned)strtoul(c, NULL, 10) : 0;
}

unsigned agent_restart_arm(const char *exe, char **argv)
{
    extern char **environ;
    restarts = agent_restarts_so_far();
    started_s = now_s();
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof *envp);
    if (!envp)
        return restarts;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], RESTART_ENV, sizeof RESTART_ENV - 1) != 0)
            envp[k++] = environ[i];
    envp[k++] = env_count;
    envp[k] = NULL;
    saved_envp = envp;
    saved_exe = exe;
    saved_argv = argv;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    return restarts;
}
