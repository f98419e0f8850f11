/* xnv-netbackd: serves the vifs that the toolstack creates for this domain
 * (backend/vif), giving stock guests' xen-netfront a TAP interface
 * vif<dom>.<dev> on the host side (renamed to the vifname by the hotplug
 * script). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "xnv/netback.h"
#include "xnv/netbackd_config.h"

/* Read by every thread that logs, changed by a reload: accessed atomically. */
static int log_level = LOG_INFO;
static bool use_syslog;

static void log_sink(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level > __atomic_load_n(&log_level, __ATOMIC_RELAXED))
        return;
    if (use_syslog)
        syslog(level, "%s", msg);
    else
        fprintf(stderr, "xnv-netbackd: %s\n", msg);
}

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: xnv-netbackd [OPTION]...\n"
        "Serve the Xen network devices (backend/vif) of this domain from userspace.\n"
        "Guests keep their stock xen-netfront; each device becomes a TAP interface\n"
        "vif<domid>.<devid> that the vif-bridge hotplug script renames to the vif's\n"
        "vifname, if any, and puts on the bridge named in the guest's vif line.\n\n"
        "  -c, --config FILE       read settings from FILE (default %s\n"
        "                          when it exists); the options below override it\n"
        "      --check-config      check the configuration file and the options, exit\n"
        "  -q, --max-queues N      queues offered to each guest (1-16, default 4)\n"
        "      --stall-timeout MS  carrier off after a guest posts no receive\n"
        "                          buffers for MS milliseconds (default 60000)\n"
        "      --rx-queue-frames N frames held per queue while the guest posts no\n"
        "                          receive buffers (1-65536, default 256)\n"
        "  -s, --control PATH      control socket for xnvctl (default %s)\n"
        "  -F, --fastpath BRIDGES  switch fast path on these bridges (comma-separated):\n"
        "                          unicast frames between two guests served here go\n"
        "                          guest to guest by grant copy, bypassing the bridge\n"
        "                          and therefore its filtering (ebtables/nftables\n"
        "                          bridge rules never see them)\n"
        "      --close-on-exit     on exit, close every guest device (guests lose\n"
        "                          their network until they reconnect); by default\n"
        "                          devices are left so that a restart resumes them\n"
        "  -f, --foreground        stay in the foreground (the default; for systemd)\n"
        "      --syslog            log to syslog/journal instead of standard error\n"
        "      --log-level LEVEL   err, warning, info (default) or debug\n"
        "  -v, --verbose           log debugging detail (same as --log-level debug)\n"
        "  -h, --help              show this help and exit\n"
        "  -V, --version           show the version and exit\n\n"
        "SIGHUP reads the configuration file again: log-level and close-on-exit\n"
        "apply at once, fastpath-bridges to vifs that connect afterwards,\n"
        "channel-bridges when the peer lists are next reconciled; other changes\n"
        "need a restart.  See xnv-netbackd.conf(5).\n\n"
        "The kernel's xen-netback module must not be loaded in this domain: it\n"
        "would claim the same devices (see modprobe.d(5) to keep it out).\n",
        XNV_NETBACKD_CONFIG_PATH, XNV_CONTROL_DEFAULT);
}

static void logf_(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(int level, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_sink(NULL, level, msg);
}

/* The kernel's netback binds every backend/vif in this domain. */
static bool kernel_netback_loaded(void)
{
    struct stat st;
    return stat("/sys/module/xen_netback", &st) == 0 || stat("/sys/bus/xen-backend/drivers/vif", &st) == 0;
}

/* ---- configuration: built-in values, then the file, then the options ---- */

/* What the command line asked for; cmdline.set holds the keys it gave. */
struct setup {
    const char *config;                 /* -c FILE; NULL: the default file if present */
    struct xnv_netbackd_config cmdline;
};

/* The settings in force.  The engine reads running.fastpath_bridges (through
 * the pointer xnv_netbackd_config_engine() gives it) only from the control
 * plane, that is from xnv_netback_process() in this thread, when a vif
 * connects: a reload rewrites that buffer in place between two calls. */
static struct xnv_netbackd_config running;

static void report_stderr(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
}

static void report_log(void *arg, const char *msg)
{
    (void)arg;
    log_sink(NULL, LOG_ERR, msg);
}

/* Fill *out; *file is the file read (NULL: none), *overridden the keys
 * whose value in the file the command line replaced.  Returns 0, the number
 * of errors in the file, or -errno when the file cannot be read (each
 * already reported). */
static int effective(const struct setup *su, struct xnv_netbackd_config *out, const char **file,
                     unsigned *overridden, xnv_netbackd_report_fn report)
{
    struct stat st;
    const char *path = su->config;
    if (!path && !(stat(XNV_NETBACKD_CONFIG_PATH, &st) < 0 && errno == ENOENT))
        path = XNV_NETBACKD_CONFIG_PATH;
    *file = path;
    *overridden = 0;
    xnv_netbackd_config_default(out);
    if (path) {
        int rc = xnv_netbackd_config_load(out, path, report, NULL);
        if (rc)
            return rc;
    }
    struct xnv_netbackd_config from_file = *out;
    xnv_netbackd_config_merge(out, &su->cmdline, su->cmdline.set);
    *overridden = from_file.set & su->cmdline.set & xnv_netbackd_config_diff(&from_file, out);
    return 0;
}

static void note_overrides(const char *file, unsigned overridden)
{
    for (unsigned k = 1; k & XNV_NBD_ALL_KEYS; k <<= 1)
        if (overridden & k)
            logf_(LOG_INFO, "%s: %s is overridden by the command line", file, xnv_netbackd_key_name(k));
}

/* SIGHUP: read the file again and apply what can change at runtime. */
static void reload(const struct setup *su)
{
    struct xnv_netbackd_config next;
    const char *file;
    unsigned overridden;
    int rc = effective(su, &next, &file, &overridden, report_log);
    if (rc) {
        if (rc > 0)
            logf_(LOG_ERR, "SIGHUP: %d error%s in %s: nothing reloaded, the running settings stay", rc,
                  rc == 1 ? "" : "s", file);
        else
            logf_(LOG_ERR, "SIGHUP: nothing reloaded, the running settings stay");
        return;
    }
    unsigned diff = xnv_netbackd_config_diff(&running, &next);
    /* The log level first, so that what follows is logged at the new one;
     * the change itself is said at the more verbose of the two. */
    if (diff & XNV_NBD_LOG_LEVEL) {
        char was[16], now[16];
        xnv_netbackd_config_format(&running, XNV_NBD_LOG_LEVEL, was, sizeof was);
        xnv_netbackd_config_format(&next, XNV_NBD_LOG_LEVEL, now, sizeof now);
        if (next.log_level > running.log_level)
            __atomic_store_n(&log_level, next.log_level, __ATOMIC_RELAXED);
        logf_(LOG_INFO, "SIGHUP: log-level %s -> %s", was, now);
        __atomic_store_n(&log_level, next.log_level, __ATOMIC_RELAXED);
        running.log_level = next.log_level;
    }
    note_overrides(file, overridden);
    if (!diff) {
        if (file)
            logf_(LOG_INFO, "SIGHUP: %s read again: no change", file);
        else
            logf_(LOG_INFO, "SIGHUP: no %s to read: no change", XNV_NETBACKD_CONFIG_PATH);
        return;
    }
    for (unsigned k = 1; k & XNV_NBD_ALL_KEYS; k <<= 1) {
        if (!(diff & k) || k == XNV_NBD_LOG_LEVEL)
            continue;
        const char *name = xnv_netbackd_key_name(k);
        char was[XNV_NETBACKD_FASTPATH_MAX], now[XNV_NETBACKD_FASTPATH_MAX];
        xnv_netbackd_config_format(&running, k, was, sizeof was);
        xnv_netbackd_config_format(&next, k, now, sizeof now);
        switch (k) {
        case XNV_NBD_CLOSE_ON_EXIT:
            running.close_on_exit = next.close_on_exit;
            logf_(LOG_INFO, "SIGHUP: %s %s -> %s", name, was, now);
            break;
        case XNV_NBD_FASTPATH_BRIDGES:
            /* In place: the engine holds a pointer to this buffer. */
            memcpy(running.fastpath_bridges, next.fastpath_bridges, sizeof running.fastpath_bridges);
            logf_(LOG_INFO, "SIGHUP: %s \"%s\" -> \"%s\": applies to vifs that connect or reconnect from "
                            "now on; vifs already connected keep their path until they reconnect",
                  name, was, now);
            break;
        case XNV_NBD_CHANNEL_BRIDGES:
            /* In place too; read when the peer lists are next reconciled. */
            memcpy(running.channel_bridges, next.channel_bridges, sizeof running.channel_bridges);
            logf_(LOG_INFO, "SIGHUP: %s \"%s\" -> \"%s\"", name, was, now);
            break;
        default:
            logf_(LOG_WARNING, "SIGHUP: %s \"%s\" -> \"%s\" needs a restart; still running with \"%s\"", name,
                  was, now, was);
            break;
        }
    }
}

static int opt_set(struct setup *su, const char *opt, const char *key, const char *value)
{
    char why[256];
    if (xnv_netbackd_config_set(&su->cmdline, key, value, why, sizeof why) < 0) {
        fprintf(stderr, "xnv-netbackd: %s: %s\n", opt, why);
        return -1;
    }
    return 0;
}

enum { OPT_STALL = 0x100, OPT_CLOSE, OPT_SYSLOG, OPT_RXQ, OPT_LEVEL, OPT_CHECK };

int main(int argc, char **argv)
{
    struct setup su = { 0 };
    xnv_netbackd_config_default(&su.cmdline);
    bool check_only = false;
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },     { "check-config", no_argument, NULL, OPT_CHECK },
        { "max-queues", required_argument, NULL, 'q' }, { "stall-timeout", required_argument, NULL, OPT_STALL },
        { "rx-queue-frames", required_argument, NULL, OPT_RXQ },
        { "control", required_argument, NULL, 's' },    { "close-on-exit", no_argument, NULL, OPT_CLOSE },
        { "fastpath", required_argument, NULL, 'F' },
        { "foreground", no_argument, NULL, 'f' },       { "syslog", no_argument, NULL, OPT_SYSLOG },
        { "log-level", required_argument, NULL, OPT_LEVEL },
        { "verbose", no_argument, NULL, 'v' },          { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },          { NULL, 0, NULL, 0 },
    };
    int c, bad = 0;
    while ((c = getopt_long(argc, argv, "c:q:s:F:fvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (!*optarg) {
                fprintf(stderr, "xnv-netbackd: --config: missing file name\n");
                return 2;
            }
            su.config = optarg;
            break;
        case OPT_CHECK: check_only = true; break;
        case 'q': bad |= opt_set(&su, "--max-queues", "max-queues", optarg); break;
        case OPT_STALL: bad |= opt_set(&su, "--stall-timeout", "stall-timeout-ms", optarg); break;
        case OPT_RXQ: bad |= opt_set(&su, "--rx-queue-frames", "rx-queue-frames", optarg); break;
        case 's': bad |= opt_set(&su, "--control", "control-socket", optarg); break;
        case 'F': bad |= opt_set(&su, "--fastpath", "fastpath-bridges", optarg); break;
        case OPT_CLOSE: bad |= opt_set(&su, "--close-on-exit", "close-on-exit", "yes"); break;
        case 'f': break;
        case OPT_SYSLOG: bad |= opt_set(&su, "--syslog", "syslog", "yes"); break;
        case OPT_LEVEL: bad |= opt_set(&su, "--log-level", "log-level", optarg); break;
        case 'v': bad |= opt_set(&su, "--verbose", "log-level", "debug"); break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("xnv-netbackd %s\n", XNV_VERSION); return 0;
        default:
            fprintf(stderr, "Try 'xnv-netbackd --help' for more information.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xnv-netbackd: unexpected argument \"%s\"\n", argv[optind]);
        return 2;
    }

    const char *file;
    unsigned overridden;
    /* the file is read even after a bad option: every error at once */
    int rc = effective(&su, &running, &file, &overridden, report_stderr);
    if (rc || bad) {
        if (rc > 0)
            fprintf(stderr, "xnv-netbackd: %d error%s in %s\n", rc, rc == 1 ? "" : "s", file);
        return 2;
    }
    if (check_only) {
        /* say what was read: a file put in the wrong place passes too */
        if (file)
            printf("%s: valid\n", file);
        else
            printf("no %s: built-in settings and the command line are valid\n", XNV_NETBACKD_CONFIG_PATH);
        return 0;
    }

    log_level = running.log_level;
    use_syslog = running.syslog;
    if (use_syslog)
        openlog("xnv-netbackd", LOG_PID, LOG_DAEMON);
    if (file) {
        logf_(LOG_INFO, "settings from %s", file);
        note_overrides(file, overridden);
    } else {
        logf_(LOG_DEBUG, "no %s: built-in settings", XNV_NETBACKD_CONFIG_PATH);
    }

    /* From here on SIGHUP, SIGTERM and SIGINT are read from the signalfd:
     * one arriving during the start is handled once the loop runs. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct xnv_netback_config cfg;
    xnv_netback_config_default(&cfg);
    xnv_netbackd_config_engine(&running, &cfg);
    cfg.log = log_sink;

    if (kernel_netback_loaded()) {
        fprintf(stderr, "xnv-netbackd: the kernel's xen-netback module is loaded in this domain and "
                        "serves every backend/vif itself; unload it first (rmmod xen-netback) and keep "
                        "it out (install xnv's modprobe configuration or add 'blacklist xen-netback')\n");
        return 1;
    }
    char err[256];
    /* XNV_NETBACKD_LOCK: another lock file (tests) */
    const char *lock = getenv("XNV_NETBACKD_LOCK");
    int lfd = xnv_netback_instance_lock(lock && *lock ? lock : XNV_NETBACK_LOCK_PATH, 5000, err, sizeof err);
    if (lfd == -1) {
        fprintf(stderr, "xnv-netbackd: %s\n", err);
        return 1;
    }
    if (lfd == -2)
        logf_(LOG_WARNING, "%s: cannot tell whether another xnv-netbackd runs in this domain", err);
    struct xnv_hv *hv = xnv_hv_open_xen(err, sizeof err);
    if (!hv) {
        fprintf(stderr, "xnv-netbackd: cannot open the hypervisor interface: %s\n", err);
        return 1;
    }
    /* without them every guest device would fail on its own, later, with
     * an error that reads like the guest's */
    if (xnv_hv_xen_backend_check(err, sizeof err)) {
        fprintf(stderr, "xnv-netbackd: %s\n", err);
        xnv_hv_close(hv);
        return 1;
    }
    struct xnv_netback *nb = xnv_netback_new(hv, &cfg, err, sizeof err);
    if (!nb) {
        fprintf(stderr, "xnv-netbackd: %s\n", err);
        xnv_hv_close(hv);
        return 1;
    }
    /* The socket's path is fixed for the life of the process (a reload
     * that changes control-socket says it needs a restart). */
    char control[XNV_NETBACKD_SOCKET_MAX];
    snprintf(control, sizeof control, "%s", running.control_socket);
    int cfd = xnv_netback_control_listen(control);
    if (cfd < 0)
        logf_(LOG_WARNING, "control socket %s unavailable: %s (xnvctl will not work; of its parent "
              "directories only the last is made)", control, strerror(-cfd));

    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);

    char msg[128];
    snprintf(msg, sizeof msg, "serving backend/vif of domain %u, up to %u queue(s) per vif",
             xnv_hv_domid(hv), cfg.max_queues);
    log_sink(NULL, LOG_INFO, msg);
    xnv_netback_process(nb);
    for (;;) {
        struct pollfd p[3] = { { xnv_netback_fd(nb), POLLIN, 0 }, { sfd, POLLIN, 0 }, { cfd, POLLIN, 0 } };
        if (poll(p, cfd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo != SIGHUP)
                    break;
                reload(&su);
            }
        }
        if (p[0].revents & POLLIN)
            xnv_netback_process(nb);
        if (cfd >= 0 && (p[2].revents & POLLIN))
            xnv_netback_control_serve(cfd, nb);
    }
    log_sink(NULL, LOG_INFO, running.close_on_exit ? "stopping: closing every device"
                                                   : "stopping: devices left for a restart to resume");
    xnv_netback_shutdown(nb, running.close_on_exit);
    if (cfd >= 0) {
        close(cfd);
        unlink(control);
    }
    xnv_hv_close(hv);
    return 0;
}
