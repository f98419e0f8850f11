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
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "idc_int.h"

static __thread sigjmp_buf *guard;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool installed;

/* The program's own code, to tell its return addresses on a stack. */
extern char __executable_start[], etext[];

/* Async-signal-safe formatting: "0x" and hex digits into b, returns length. */
static size_t hex(char *b, uintptr_t v)
{
    char t[2 * sizeof v];
    size_t n = 0, k = 0;
    do {
        t[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    b[k++] = '0';
    b[k++] = 'x';
    while (n)
        b[k++] = t[--n];
    return k;
}

static void say(const char *str)
{
    if (write(STDERR_FILENO, str, strlen(str)) < 0) { /* nowhere to say it */ }
}

static void say_hex(const char *label, uintptr_t v)
{
    char b[64];
    size_t k = strlen(label);
    memcpy(b, label, k);
    k += hex(b + k, v);
    if (write(STDERR_FILENO, b, k) < 0) { /* nowhere to say it */ }
}

/* Where a fault outside the guard happened, in terms that survive a broken
 * stack: the thread, the faulting address, the instruction and the words on
 * the stack that point into the program's code (return addresses, most of
 * them), as offsets in the executable (addr2line -e xnv-netfront OFFSET). */
static void report(int sig, const siginfo_t *si, const ucontext_t *uc)
{
    uintptr_t base = (uintptr_t)__executable_start, end = (uintptr_t)etext;
    char name[32] = "?";
    int fd = open("/proc/thread-self/comm", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, name, sizeof name - 1);
        name[n > 0 ? n - (name[n - 1] == '\n') : 0] = '\0';
        close(fd);
    }
    say(sig == SIGBUS ? "fatal SIGBUS" : "fatal SIGSEGV");
    say_hex(" at address ", si ? (uintptr_t)si->si_addr : 0);
    say_hex(" in thread ", (uintptr_t)syscall(SYS_gettid));
    say(" (");
    say(name);
    say(")");
    if (uc) {
        uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        if (ip >= base && ip < end)
            say_hex("; instruction at +", ip - base);
        else
            say_hex("; instruction outside the program at ", ip);
        say("; code addresses on its stack:");
        const uintptr_t *w = (const uintptr_t *)sp;
        for (unsigned i = 0, found = 0; i < 512 && found < 16; i++) {
            if (w[i] >= base && w[i] < end) {
                say_hex(" +", w[i] - base);
                found++;
            }
        }
    }
    say("\n");
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    sigjmp_buf *j = guard;
    if (j) {
        guard = NULL;
        siglongjmp(*j, 1);
    }
    /* Not ours: say where (a crash after a restore is otherwise only the
     * kernel's one line), then the default action when the access is made
     * again.  A fault while reporting (a stack that ends within the words
     * read) goes straight to the default action. */
    static volatile sig_atomic_t reporting;
    signal(sig, SIG_DFL);
    if (!reporting) {
        reporting = 1;
        report(sig, si, uc);
    }
}

static void install(void)
{
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
