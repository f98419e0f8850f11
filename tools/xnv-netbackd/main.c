/* xnv-netbackd: serves the vifs that the toolstack creates for this domain
 * (backend/vif), giving stock guests' xen-netfront a TAP interface
 * vif<dom>.<dev> on the host side. */
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

#define XNV_VERSION "0.1.0"

static int log_level = LOG_INFO;
static bool use_syslog;

static void log_sink(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level > log_level)
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
        "vif<domid>.<devid> (or the vif's vifname) that the vif-bridge hotplug\n"
        "script puts on the bridge named in the guest's vif line.\n\n"
        "  -q, --max-queues N      queues offered to each guest (1-16, default 4)\n"
        "      --stall-timeout MS  carrier off after a guest posts no receive\n"
        "                          buffers for MS milliseconds (default 60000)\n"
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
        "  -v, --verbose           log debugging detail\n"
        "  -h, --help              show this help and exit\n"
        "  -V, --version           show the version and exit\n\n"
        "The kernel's xen-netback module must not be loaded in this domain: it\n"
        "would claim the same devices (see modprobe.d(5) to keep it out).\n",
        XNV_CONTROL_DEFAULT);
}

static int parse_num(const char *s, long lo, long hi, const char *what, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "xnv-netbackd: %s must be a number from %ld to %ld, not \"%s\"\n", what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* The kernel's netback binds every backend/vif in this domain. */
static bool kernel_netback_loaded(void)
{
    struct stat st;
    return stat("/sys/module/xen_netback", &st) == 0 || stat("/sys/bus/xen-backend/drivers/vif", &st) == 0;
}

int main(int argc, char **argv)
{
    struct xnv_netback_config cfg;
    xnv_netback_config_default(&cfg);
    const char *control = XNV_CONTROL_DEFAULT;
    bool close_on_exit = false;
    static const struct option opts[] = {
        { "max-queues", required_argument, NULL, 'q' }, { "stall-timeout", required_argument, NULL, 'T' },
        { "control", required_argument, NULL, 's' },    { "close-on-exit", no_argument, NULL, 'C' },
        { "fastpath", required_argument, NULL, 'F' },
        { "foreground", no_argument, NULL, 'f' },       { "syslog", no_argument, NULL, 'S' },
        { "verbose", no_argument, NULL, 'v' },          { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },          { NULL, 0, NULL, 0 },
    };
    int c;
    long n;
    while ((c = getopt_long(argc, argv, "q:s:F:fvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'q':
            if (parse_num(optarg, 1, 16, "--max-queues", &n))
                return 2;
            cfg.max_queues = (unsigned)n;
            break;
        case 'T':
            if (parse_num(optarg, 100, 3600000, "--stall-timeout", &n))
                return 2;
            cfg.stall_timeout_ms = (unsigned)n;
            break;
        case 's': control = optarg; break;
        case 'F': cfg.fastpath_bridges = optarg; break;
        case 'C': close_on_exit = true; break;
        case 'f': break;
        case 'S': use_syslog = true; break;
        case 'v': log_level = LOG_DEBUG; break;
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
    if (use_syslog)
        openlog("xnv-netbackd", LOG_PID, LOG_DAEMON);
    cfg.log = log_sink;

    if (kernel_netback_loaded()) {
        fprintf(stderr, "xnv-netbackd: the kernel's xen-netback module is loaded in this domain and "
                        "serves every backend/vif itself; unload it first (rmmod xen-netback) and keep "
                        "it out (install xnv's modprobe configuration or add 'blacklist xen-netback')\n");
        return 1;
    }
    char err[256];
    struct xnv_hv *hv = xnv_hv_open_xen(err, sizeof err);
    if (!hv) {
        fprintf(stderr, "xnv-netbackd: cannot open the hypervisor interface: %s\n", err);
        return 1;
    }
    struct xnv_netback *nb = xnv_netback_new(hv, &cfg, err, sizeof err);
    if (!nb) {
        fprintf(stderr, "xnv-netbackd: %s\n", err);
        xnv_hv_close(hv);
        return 1;
    }
    int cfd = xnv_netback_control_listen(control);
    if (cfd < 0)
        log_sink(NULL, LOG_WARNING, "control socket unavailable (xnvctl will not work)");

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
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
            if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGHUP)
                break;
            log_sink(NULL, LOG_INFO, "SIGHUP: nothing to reload in this version");
        }
        if (p[0].revents & POLLIN)
            xnv_netback_process(nb);
        if (cfd >= 0 && (p[2].revents & POLLIN))
            xnv_netback_control_serve(cfd, nb);
    }
    log_sink(NULL, LOG_INFO, close_on_exit ? "stopping: closing every device"
                                           : "stopping: devices left for a restart to resume");
    xnv_netback_shutdown(nb, close_on_exit);
    if (cfd >= 0) {
        close(cfd);
        unlink(control);
    }
    xnv_hv_close(hv);
    return 0;
}
