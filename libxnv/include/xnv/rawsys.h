/* System calls without libc, for signal handlers that must work in a thread
 * whose thread pointer is broken (seen after a restore): libc's wrappers
 * read the thread's control block (cancellation, errno) and fault again.
 * Each returns the kernel's result: -errno on failure. */
#ifndef XNV_RAWSYS_H
#define XNV_RAWSYS_H

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
static inline long xnv_raw_syscall(long n, long a, long b, long c, long d)
{
    long r;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
    return r;
}
#else
/* Elsewhere libc's generic wrapper: good enough where the thread pointer
 * has not been seen to break. */
static inline long xnv_raw_syscall(long n, long a, long b, long c, long d)
{
    long r = syscall(n, a, b, c, d);
    return r < 0 ? -errno : r;
}
#endif

static inline long xnv_raw_write(int fd, const void *buf, unsigned long len)
{
    return xnv_raw_syscall(SYS_write, fd, (long)buf, (long)len, 0);
}

/* A message on standard error (no stdio, no errno). */
static inline void xnv_raw_say(const char *s)
{
    unsigned long n = 0;
    while (s[n])
        n++;
    xnv_raw_write(STDERR_FILENO, s, n);
}

/* The default action for sig (the kernel's struct sigaction, not libc's). */
static inline void xnv_raw_default_action(int sig)
{
    struct { void *handler; unsigned long flags; void *restorer; unsigned long mask; } ka = { 0, 0, 0, 0 };
    xnv_raw_syscall(SYS_rt_sigaction, sig, (long)&ka, 0, sizeof ka.mask);
}

#endif
