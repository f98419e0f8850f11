/* Surviving a peer's ring page that vanishes under us.
 *
 * The sender maps its peer's ring page (gntdev).  When this guest is saved
 * and restored, or migrated, every such mapping turns invalid behind the
 * process's back, and the next access to it faults; the process learns of
 * the new connection only later, from xenstore.  So on real Xen the
 * accesses to mapped peer rings run under a guard: a SIGSEGV or SIGBUS
 * inside one jumps back out of it and the channels close (their frames take
 * the vif), and xnv_idc_reset() rebuilds them.  A fault anywhere else keeps
 * its default action. */
#include <execinfo.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "idc_int.h"

static __thread sigjmp_buf *guard;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool installed;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    sigjmp_buf *j = guard;
    if (j) {
        guard = NULL;
        siglongjmp(*j, 1);
    }
    /* Not ours: say where (a crash after a restore is otherwise only the
     * kernel's one line), then the default action when the access is made
     * again.  Only write(2) and backtrace_symbols_fd here; backtrace() was
     * called once at installation so that it allocates nothing now. */
    char line[128];
    int n = snprintf(line, sizeof line, "fatal %s at address %p in thread %ld; call chain:\n",
                     sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si ? si->si_addr : NULL, (long)syscall(SYS_gettid));
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0) { /* nowhere to say it */ }
    void *frames[32];
    int depth = backtrace(frames, 32);
    backtrace_symbols_fd(frames, depth, STDERR_FILENO);
    signal(sig, SIG_DFL);
}

static void install(void)
{
    void *warm[1];
    backtrace(warm, 1);   /* loads the unwinder now, not in the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGBUS, &sa, NULL) == 0;
}

bool idc_guard_install(void)
{
    pthread_once(&once, install);
    return installed;
}

void idc_guard_enter(sigjmp_buf *jb) { guard = jb; }
void idc_guard_leave(void) { guard = NULL; }
