/* xnv-netfront: the guest agent.  Connects device/vif/N of this domain to
 * its backend with the userspace netfront and gives the guest a TAP
 * interface for it: one thread per queue moves frames TAP <-> rings, this
 * thread runs the control plane (reconnects) and handles signals. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include "agent.h"
#include "xnv/idc.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/thread.h"
#include "xnv/port.h"

/* Before anything else: is there a hypervisor and such a device? */
static int precheck(const struct agent_opts *o)
{
    char err[256];
    struct xnv_hv *hv = xnv_hv_open_xen(err, sizeof err);
    if (!hv) {
        fprintf(stderr, "xnv-netfront: cannot open the Xen interfaces of this domain: %s\n", err);
        return AGENT_EXIT_NO_XEN;
    }
    char path[48];
    unsigned len;
    snprintf(path, sizeof path, "device/vif/%u/backend", o->device);
    char *b = xnv_xs_read(hv, XNV_XS_NO_TX, path, &len);
    int e = errno;
    xnv_hv_close(hv);
    if (!b) {
        if (e == ENOENT)
            fprintf(stderr, "xnv-netfront: this domain has no device/vif/%u: is a vif with index %u "
                            "configured for it (`xl network-list` in the toolstack domain)?\n",
                    o->device, o->device);
        else
            fprintf(stderr, "xnv-netfront: cannot read %s: %s\n", path, strerror(e));
        return AGENT_EXIT_NO_DEVICE;
    }
    free(b);
    /* The kernel's xen-netfront drives the same device when bound to it. */
    char drv[80];
    struct stat st;
    snprintf(drv, sizeof drv, "/sys/bus/xen/devices/vif-%u/driver", o->device);
    if (lstat(drv, &st) == 0) {
        fprintf(stderr, "xnv-netfront: the kernel's xen-netfront drives device/vif/%u in this domain: "
                        "unbind it first (echo vif-%u > /sys/bus/xen/drivers/vif/unbind) and keep it "
                        "out (blacklist xen-netfront)\n", o->device, o->device);
        return AGENT_EXIT_FAIL;
    }
    return -1;
}

static int signals(void)
{
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigaddset(&mask, SIGUSR1);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &mask, SFD_CLOEXEC);
}

static void log_channel_stats(struct xnv_idc *idc)
{
    struct xnv_idc_stats s;
    xnv_idc_stats(idc, &s);
    agent_logf(LOG_NOTICE, "channels: %u peer(s); tx %llu packets %llu bytes; rx %llu packets %llu bytes "
               "%llu errors; %llu fallbacks; lost pages %llu; throttled %llu; full %llu; room %llu; "
               "wakeups %llu; notifies %llu",
               xnv_idc_npeers(idc),
               (unsigned long long)s.tx_frames, (unsigned long long)s.tx_bytes,
               (unsigned long long)s.rx_frames, (unsigned long long)s.rx_bytes,
               (unsigned long long)s.rx_errors, (unsigned long long)s.fallbacks,
               (unsigned long long)s.lost_pages, (unsigned long long)s.throttled,
               (unsigned long long)s.full, (unsigned long long)s.room_signals,
               (unsigned long long)s.wakeups, (unsigned long long)s.notifies);
}

static void log_stats(struct xnv_netfront *nf, struct xnv_nf_bridge *b)
{
    struct xnv_nf_stats s;
    struct xnv_nf_bridge_stats bs;
    xnv_nf_stats(nf, XNV_NF_ALL_QUEUES, &s);
    xnv_nf_bridge_stats(b, &bs);
    agent_logf(LOG_NOTICE, "state %s; tx %llu packets %llu bytes %llu errors; rx %llu packets %llu bytes "
               "%llu errors %llu dropped; events %llu in, %llu out, throttled %llu; lost pages %llu; "
               "tap: %llu in (%llu dropped), %llu out (%llu dropped)",
               xnv_nf_state_name(xnv_nf_state(nf)),
               (unsigned long long)s.tx_packets, (unsigned long long)s.tx_bytes,
               (unsigned long long)s.tx_errors, (unsigned long long)s.rx_packets,
               (unsigned long long)s.rx_bytes, (unsigned long long)s.rx_errors,
               (unsigned long long)s.rx_dropped, (unsigned long long)s.events,
               (unsigned long long)s.notifies, (unsigned long long)s.throttled,
               (unsigned long long)s.lost_pages, (unsigned long long)bs.from_port,
               (unsigned long long)bs.from_port_dropped, (unsigned long long)bs.to_port,
               (unsigned long long)bs.to_port_dropped);
}

/* The TAP takes the vif's MAC and MTU once they are known. */
static void apply_link(struct xnv_netfront *nf, const char *tap, uint8_t applied_mac[6], unsigned *applied_mtu)
{
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    if (!memcmp(info.mac, applied_mac, 6) && info.mtu == *applied_mtu)
        return;
    char err[256];
    if (agent_link_setup(tap, info.mac, info.mtu, err, sizeof err) < 0)
        agent_logf(LOG_WARNING, "%s", err);
    memcpy(applied_mac, info.mac, 6);
    *applied_mtu = info.mtu;
    agent_logf(LOG_INFO, "%s: MAC %02x:%02x:%02x:%02x:%02x:%02x, MTU %u, backend %s (domain %u), "
               "%u of %u queue(s), %s", tap, info.mac[0], info.mac[1], info.mac[2], info.mac[3],
               info.mac[4], info.mac[5], info.mtu, info.backend, info.backend_id, info.active_queues,
               info.queues, info.trusted ? "trusted" : "untrusted");
}

/* The control plane and the signals, until TERM or INT. */
static void run(struct xnv_netfront *nf, struct xnv_nf_bridge *b, struct xnv_idc *idc, int sfd,
                const char *tap)
{
    uint8_t mac[6] = { 0 };
    unsigned mtu = 0;
    enum xnv_nf_state last = xnv_nf_state(nf);
    struct xnv_nf_info info;
    xnv_nf_info(nf, &info);
    uint64_t connections = info.connections;
    if (last == XNV_NF_CONNECTED)
        apply_link(nf, tap, mac, &mtu);
    for (;;) {
        struct pollfd p[2] = { { xnv_nf_ctrl_fd(nf), POLLIN, 0 }, { sfd, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) != sizeof si)
                continue;
            if (si.ssi_signo == SIGHUP) {
                agent_logf(LOG_NOTICE, "SIGHUP: reconnecting");
                xnv_nf_reconnect(nf);
            } else if (si.ssi_signo == SIGUSR1) {
                log_stats(nf, b);
                if (idc)
                    log_channel_stats(idc);
            } else {
                agent_logf(LOG_NOTICE, "%s: closing the device", strsignal((int)si.ssi_signo));
                return;
            }
        }
        enum xnv_nf_state s = xnv_nf_ctrl_process(nf);
        xnv_nf_bridge_sync(b);
        if (s != last) {
            agent_logf(s == XNV_NF_CONNECTED ? LOG_NOTICE : LOG_WARNING, "connection: %s%s%s",
                       xnv_nf_state_name(s), xnv_nf_last_error(nf)[0] ? ": " : "",
                       xnv_nf_last_error(nf));
            if (s == XNV_NF_CONNECTED)
                apply_link(nf, tap, mac, &mtu);
            last = s;
        }
        /* A new connection (restore, migration), even one that came up
         * within one step: this guest's grants, ports and maybe domid are
         * new, every channel starts over. */
        if (idc && s == XNV_NF_CONNECTED) {
            xnv_nf_info(nf, &info);
            if (info.connections != connections) {
                agent_logf(LOG_NOTICE, "channels: reconnected, starting over");
                xnv_idc_reset(idc);
                connections = info.connections;
            }
        }
    }
}

int main(int argc, char **argv)
{
    struct agent_opts o;
    int rc = agent_parse(&o, argc, argv);
    if (rc >= 0)
        return rc;
    agent_log_init(o.verbose);
    if ((rc = precheck(&o)) >= 0)
        return rc;
    /* Started again after a crash (restart.c): a daemon already. */
    bool restarted = agent_restarts_so_far() > 0;
    if (!o.foreground && !restarted && (rc = agent_daemonize()) < 0) {
        fprintf(stderr, "xnv-netfront: cannot run as a daemon: %s\n", strerror(-rc));
        return AGENT_EXIT_FAIL;
    }

    char err[256];
    int status = AGENT_EXIT_FAIL;
    struct xnv_hv *hv = NULL;
    struct xnv_port *port = NULL;
    struct xnv_netfront *nf = NULL;
    struct xnv_nf_bridge *b = NULL;
    struct xnv_hv *idc_hv = NULL;
    struct xnv_idc *idc = NULL;
    bool tap_ours = false;
    int sfd = signals();
    if (!(hv = xnv_hv_open_xen(err, sizeof err))) {
        agent_logf(LOG_ERR, "cannot open the Xen interfaces: %s", err);
        status = AGENT_EXIT_NO_XEN;
        goto out;
    }
    /* A TAP of ours (not one the administrator made) is persistent while
     * we run, so that it keeps the guest's addresses through a start
     * again after a crash; it goes when we exit. */
    const char *ours = getenv("XNV_NETFRONT_TAP_OURS");
    tap_ours = ours ? strcmp(ours, "1") == 0 : if_nametoindex(o.tap) == 0;
    setenv("XNV_NETFRONT_TAP_OURS", tap_ours ? "1" : "0", 1);
    if (!(port = xnv_tap_open(o.tap, err, sizeof err))) {
        agent_logf(LOG_ERR, "%s", err);
        goto out;
    }
    if (tap_ours && (rc = xnv_port_set_persist(port, true)) < 0)
        agent_logf(LOG_WARNING, "cannot make %s persistent (%s): a crash takes it and its addresses",
                   o.tap, strerror(-rc));
    unsigned restarts = agent_restart_arm("/proc/self/exe", argv);
    if (restarted)
        agent_logf(LOG_WARNING, "started again after a crash (%u in a row)", restarts);
    agent_grants_reserve(o.queues, o.channels, NULL);
    struct xnv_nf_options no;
    xnv_nf_options_default(&no);
    no.queues = o.queues;
    no.connect_timeout_ms = o.timeout_s * 1000u;
    no.trust = o.untrusted ? XNV_NF_TRUST_NEVER : XNV_NF_TRUST_XENSTORE;
    if (o.no_offload)
        no.offload = XNV_F_NO_CSUM;
    no.log = agent_log;
    if (!(nf = xnv_nf_open(hv, o.device, &no, err, sizeof err))) {
        agent_logf(LOG_ERR, "device/vif/%u: %s", o.device, err);
        status = strstr(err, "no device/vif") ? AGENT_EXIT_NO_DEVICE : AGENT_EXIT_FAIL;
        goto out;
    }
    if (!(b = xnv_nf_bridge_start(nf, port, err, sizeof err))) {
        agent_logf(LOG_ERR, "%s", err);
        goto out;
    }
    if (o.nice != XNV_DATA_PATH_NICE)
        xnv_nf_bridge_set_nice(b, o.nice);
    if (o.channels) {
        /* Its own handle: the channel set reads every watch event of it. */
        struct xnv_idc_options io;
        xnv_idc_options_default(&io);
        io.log = agent_log;
        xnv_nf_bridge_set_hold(b, o.channel_hold);
        if (!(idc_hv = xnv_hv_open_xen(err, sizeof err)) ||
            !(idc = xnv_idc_open(idc_hv, o.device, &io, err, sizeof err)) ||
            xnv_nf_bridge_set_channels(b, idc, err, sizeof err) < 0) {
            agent_logf(LOG_ERR, "channels: %s", err);
            goto out;
        }
    }
    if (o.pidfile && (rc = agent_write_pidfile(o.pidfile)) < 0)
        agent_logf(LOG_WARNING, "cannot write %s: %s", o.pidfile, strerror(-rc));
    agent_logf(LOG_NOTICE, "device/vif/%u on %s: %s", o.device, o.tap, xnv_nf_state_name(xnv_nf_state(nf)));
    agent_ready(AGENT_EXIT_OK);
    if (!o.foreground)
        agent_log_to_syslog();
    run(nf, b, idc, sfd, o.tap);
    status = AGENT_EXIT_OK;
out:
    agent_ready(status);
    xnv_nf_bridge_stop(b);
    xnv_idc_close(idc);
    if (idc_hv)
        xnv_hv_close(idc_hv);
    xnv_nf_close(nf);
    if (port && tap_ours)
        xnv_port_set_persist(port, false);
    xnv_port_close(port);
    if (hv)
        xnv_hv_close(hv);
    if (o.pidfile && status == AGENT_EXIT_OK)
        unlink(o.pidfile);
    if (sfd >= 0)
        close(sfd);
    return status;
}
