/* Surviving a peer's ring page that vanishes under us.
 *
 * The sender maps its peer's ring page (gntdev).  When this guest is saved
 * and restored, or migrated, every such mapping turns invalid behind the
 * process's back, and the next access to it faults; the process learns of
 * the new connection only later, from xenstore.  So on real Xen the
 * accesses to mapped peer rings run under a guard: a SIGSEGV or SIGBUS
 * inside one jumps back out of it and the channels close (their frames take
 * the vif), and xnv_idc_reset() rebuilds them.  A fault anywhere else is
 * reported on stderr (where, and whether the thread pointer is sane), then
 * goes to the handler installed before the guard (the agent's, which
 * starts the agent again), or takes its default action. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "idc_int.h"
#include "xnv/rawsys.h"

static __thread sigjmp_buf *guard;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool installed;
/* The handlers before ours (the program's own, if any): a fault that is
 * not ours goes on to them. */
static struct sigaction before_segv, before_bus;

#define RAW_WRITE(buf, len) xnv_raw_write(STDERR_FILENO, (buf), (unsigned long)(len))
#define RAW_GETTID() xnv_raw_syscall(SYS_gettid, 0, 0, 0, 0)

/* The FS base, the x86-64 thread pointer; 0 when unknown. */
static uintptr_t fs_base(void)
{
#if defined(__x86_64__)
    unsigned long v = 0;
    return xnv_raw_syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&v, 0, 0) == 0 ? v : 0;
#else
    return 0;
#endif
}

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

static void say_hex(const char *label, uintptr_t v)
{
    char b[64];
    size_t k = strlen(label);
    memcpy(b, label, k);
    k += hex(b + k, v);
    RAW_WRITE(b, k);
}

/* Where a fault outside the guard happened, in terms that survive a broken
 * stack: the thread, the faulting address, the instruction and the words on
 * the stack that point into the program's code (return addresses, most of
 * them), as offsets in the executable (addr2line -e xnv-netfront OFFSET).
 * It reads raw stack words on purpose: no AddressSanitizer checks here. */
__attribute__((noinline, no_sanitize_address)) static void report(int sig, const siginfo_t *si, const ucontext_t *uc)
{
    uintptr_t base = (uintptr_t)__executable_start, end = (uintptr_t)etext;
    xnv_raw_say(sig == SIGBUS ? "fatal SIGBUS" : "fatal SIGSEGV");
    say_hex(" at address ", si ? (uintptr_t)si->si_addr : 0);
    say_hex(" in thread ", (uintptr_t)RAW_GETTID());
    say_hex(" (fs base ", fs_base());
    xnv_raw_say(")");
    if (uc) {
        uintptr_t ip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
        uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
        if (ip >= base && ip < end)
            say_hex("; instruction at +", ip - base);
        else
            say_hex("; instruction outside the program at ", ip);
        xnv_raw_say("; code addresses on its stack:");
        const uintptr_t *w = (const uintptr_t *)sp;
        for (unsigned i = 0, found = 0; i < 512 && found < 16; i++) {
            if (w[i] >= base && w[i] < end) {
                say_hex(" +", w[i] - base);
                found++;
            }
        }
    }
    xnv_raw_say("\n");
}

/* glibc on x86-64 keeps the thread's own address at 0x10 past its FS base:
 * a thread pointer that breaks that is broken (then the guard, a thread
 * variable, cannot be read either).  A fault while checking means broken. */
static volatile sig_atomic_t checking;
static bool tls_sane(void)
{
#if defined(__x86_64__)
    uintptr_t fs = fs_base();
    if (!fs || checking)
        return false;
    checking = 1;
    bool ok = *(volatile uintptr_t *)(fs + 0x10) == fs;
    checking = 0;
    return ok;
#else
    return true;
#endif
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    bool sane = tls_sane();
    sigjmp_buf *j = sane ? guard : NULL;
    if (j) {
        guard = NULL;
        siglongjmp(*j, 1);
    }
    /* Not ours: say where (a crash after a restore is otherwise only the
     * kernel's one line), then hand it to the handler installed before
     * ours (the agent starts itself again there), else the default action
     * when the access is made again.  A fault in the report itself (a
     * stack that ends within the words read) comes back here with
     * `reporting` set and goes on to that handler at once. */
    static volatile sig_atomic_t reporting;
    if (!reporting) {
        reporting = 1;
        report(sig, si, uc);
        if (!sane)
            xnv_raw_say("fatal: this thread's thread pointer is broken (its control block does not point at itself)\n");
    }
    xnv_raw_default_action(sig);
    const struct sigaction *b = sig == SIGBUS ? &before_bus : &before_segv;
    if ((b->sa_flags & SA_SIGINFO) && b->sa_sigaction)
        b->sa_sigaction(sig, si, uc);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    installed = sigaction(SIGSEGV, &sa, &before_segv) == 0 && sigaction(SIGBUS, &sa, &before_bus) == 0;
}

bool idc_guard_install(void)
{
    pthread_once(&once, install);
    return installed;
}

void idc_guard_enter(sigjmp_buf *jb) { guard = jb; }
void idc_guard_leave(void) { guard = NULL; }
