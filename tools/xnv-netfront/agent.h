/* xnv-netfront, the guest agent: private declarations. */
#ifndef XNV_NETFRONT_AGENT_H
#define XNV_NETFRONT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit statuses. */
enum {
    AGENT_EXIT_OK = 0,
    AGENT_EXIT_FAIL = 1,        /* could not connect, TAP failed, ... */
    AGENT_EXIT_USAGE = 2,
    AGENT_EXIT_NO_XEN = 3,      /* no hypervisor interface in this domain */
    AGENT_EXIT_NO_DEVICE = 4,   /* no device/vif/<n> */
};

struct agent_opts {
    unsigned device;
    unsigned queues;
    char tap[16];               /* IFNAMSIZ */
    unsigned timeout_s;         /* first connection; 0: wait forever */
    bool foreground;
    bool verbose;
    bool untrusted;
    bool no_offload;
    bool channels;              /* direct channels to peers (xnv/idc.h) */
    unsigned channel_hold;      /* frames held per queue for full channels */
    int nice;                   /* the data-path threads' nice value */
    const char *pidfile;
};

/* opts.c: -1 to go on, or an AGENT_EXIT_* to exit with right away (help,
 * version, bad usage: messages already printed). */
int agent_parse(struct agent_opts *o, int argc, char **argv);

/* log.c: standard error until agent_log_to_syslog(). */
void agent_log_init(bool verbose);
void agent_log_to_syslog(void);
void agent_log(void *arg, int level, const char *msg);
void agent_logf(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* daemon.c: detach; the parent exits with what agent_ready() reports. */
int agent_daemonize(void);
/* Report the outcome of the start to the waiting parent (no-op in the
 * foreground); after success, standard streams go to /dev/null. */
void agent_ready(int status);
int agent_write_pidfile(const char *path);

/* grants.c: gntalloc's limit raised to what the rings may share (path NULL:
 * the kernel's parameter).  1 raised, 0 enough already, -errno (logged). */
unsigned agent_grants_needed(unsigned queues, bool channels);
int agent_grants_reserve(unsigned queues, bool channels, const char *path);

/* restart.c: from here on a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT)
 * executes exe (the agent: /proc/self/exe) anew with argv, a few times at
 * most; returns how many times it was started again so far
 * (XNV_NETFRONT_RESTARTS in the environment). */
unsigned agent_restart_arm(const char *exe, char **argv);
/* How many times it was started again so far (0: a first start). */
unsigned agent_restarts_so_far(void);

/* link.c: the TAP interface's address, MTU and largest segment. */
int agent_link_setup(const char *ifname, const uint8_t mac[6], unsigned mtu, char *err, size_t errlen);

#endif
