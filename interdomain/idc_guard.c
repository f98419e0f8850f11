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
 * takes its default action. */
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

/* System calls without libc: a thread whose thread pointer is broken (seen
 * after a restore) faults in any libc wrapper that checks for cancellation
 * or sets errno, and the report must still come out. */
#if defined(__x86_64__)
static long raw4(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
#define RAW_WRITE(buf, len) raw4(SYS_write, STDERR_FILENO, (long)(buf), (long)(len), 0)
#define RAW_GETTID() raw4(SYS_gettid, 0, 0, 0, 0)
/* The FS base, the x86-64 thread pointer; 0 when unknown. */
static uintptr_t fs_base(void)
{
    unsigned long v = 0;
    return raw4(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, (long)&v, 0, 0) == 0 ? v : 0;
}
/* The default action for sig, through the kernel directly. */
static void raw_default(int sig)
{
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } ka = { 0, 0, 0, 0 };
    raw4(SYS_rt_sigaction, sig, (long)&ka, 0, sizeof ka.mask);
}
#else
#define RAW_WRITE(buf, len) write(STDERR_FILENO, (buf), (len))
#define RAW_GETTID() syscall(SYS_gettid)
static uintptr_t fs_base(void) { return 0; }
static void raw_default(int sig) { signal(sig, SIG_DFL); }
#endif

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
    RAW_WRITE(str, strlen(str));
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
 * them), as offsets in the executable (addr2line -e xnv-netfront OFFSET). */
static void report(int sig, const siginfo_t *si, const ucontext_t *uc)
{
    uintptr_t base = (uintptr_t)__executable_start, end = (uintptr_t)etext;
    say(sig == SIGBUS ? "fatal SIGBUS" : "fatal SIGSEGV");
    say_hex(" at address ", si ? (uintptr_t)si->si_addr : 0);
    say_hex(" in thread ", (uintptr_t)RAW_GETTID());
    say_hex(" (fs base ", fs_base());
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
     * kernel's one line), then the default action when the access is made
     * again.  A fault while reporting (a stack that ends within the words
     * read) goes straight to the default action. */
    static volatile sig_atomic_t reporting;
    raw_default(sig);
    if (!reporting) {
        reporting = 1;
        report(sig, si, uc);
        if (!sane)
            say("fatal: this thread's thread pointer is broken (its control block does not point at itself)\n");
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
