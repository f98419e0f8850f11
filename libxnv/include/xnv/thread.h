/* Data-path threads run ahead of the domain's ordinary processes, as the
 * kernel's own network drivers do (their work is softirq and kernel
 * threads): a backend's frames must not wait behind dom0's xenstored and
 * shells, nor a guest agent's behind the guest's applications that produce
 * and consume those very frames.  A nice value, not real time: a thread with
 * endless work still leaves the rest of the domain its share. */
#ifndef XNV_THREAD_H
#define XNV_THREAD_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define XNV_DATA_PATH_NICE (-10)

/* The thread's kernel id (for xnv_thread_set_nice on another thread). */
static inline pid_t xnv_thread_id(void) { return (pid_t)syscall(SYS_gettid); }

/* Give thread tid (0: the caller) the nice value; false when not permitted
 * (a lower value needs CAP_SYS_NICE: a test run as a user keeps its own). */
static inline bool xnv_thread_set_nice(pid_t tid, int nice_value)
{
    return setpriority(PRIO_PROCESS, (id_t)(tid ? tid : xnv_thread_id()), nice_value) == 0;
}

#endif
