/* The control socket of xnv-netbackd (xnvctl talks to it): "list" answers every vif with its
 * state, queues, features and statistics as one JSON document. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "xnv/netback.h"
#include "xnv/features.h"

void nb_make_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        mkdir(dir, 0755);
    }
}

int xnv_netback_control_listen(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof a.sun_path)
        return -ENAMETOOLONG;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    nb_make_parent_dir(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 8) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    chmod(path, 0600);
    return fd;
}

static void stats_json(FILE *o, const struct xnv_queue_stats *s)
{
    fprintf(o, "{\"tx_packets\":%llu,\"tx_bytes\":%llu,\"tx_drops\":%llu,\"tx_errors\":%llu,"
               "\"rx_packets\":%llu,\"rx_bytes\":%llu,\"rx_drops\":%llu,\"rx_errors\":%llu,"
               "\"notify_sent\":%llu,\"notify_recv\":%llu,\"copy_calls\":%llu,"
               "\"copy_segments\":%llu,\"stalls\":%llu,\"fastpath_packets\":%llu,"
               "\"idle_loops\":%llu,\"copy_granted\":%llu,\"rx_ahead\":%llu,"
               "\"port_empty_reads\":%llu,\"port_reads_skipped\":%llu}",
            (unsigned long long)s->tx_packets, (unsigned long long)s->tx_bytes,
            (unsigned long long)s->tx_drops, (unsigned long long)s->tx_errors,
            (unsigned long long)s->rx_packets, (unsigned long long)s->rx_bytes,
            (unsigned long long)s->rx_drops, (unsigned long long)s->rx_errors,
            (unsigned long long)s->notify_sent, (unsigned long long)s->notify_recv,
            (unsigned long long)s->copy_calls, (unsigned long long)s->copy_segments,
            (unsigned long long)s->stalls, (unsigned long long)s->fastpath_packets,
            (unsigned long long)s->idle_loops, (unsigned long long)s->copy_granted,
            (unsigned long long)s->rx_ahead, (unsigned long long)s->port_empty_reads,
            (unsigned long long)s->port_reads_skipped);
}

static void list_json(FILE *o, struct xnv_netback *nb)
{
    struct xnv_vif_info vifs[256];
    unsigned n = xnv_netback_list(nb, vifs, 256);
    if (n > 256)
        n = 256;
    fprintf(o, "{\"vifs\":[");
    for (unsigned i = 0; i < n; i++) {
        const struct xnv_vif_info *v = &vifs[i];
        fprintf(o, "%s{\"domid\":%u,\"devid\":%u,\"ifname\":\"%s\",\"state\":%d,\"queues\":%u,"
                   "\"features\":%u,\"carrier\":%s,\"broken\":%s,"
                   "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"stats\":",
                i ? "," : "", v->domid, v->devid, v->ifname, v->state, v->queues, v->features,
                v->carrier ? "true" : "false", v->broken ? "true" : "false", v->mac[0], v->mac[1],
                v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
        struct xnv_queue_stats s;
        xnv_netback_stats(nb, v->domid, v->devid, -1, &s);
        stats_json(o, &s);
        fprintf(o, ",\"per_queue\":[");
        for (unsigned q = 0; q < v->queues; q++) {
            xnv_netback_stats(nb, v->domid, v->devid, (int)q, &s);
            fprintf(o, "%s", q ? "," : "");
            stats_json(o, &s);
        }
        fprintf(o, "]}");
    }
    fprintf(o, "]}\n");
}

static void feature_names(char *out, size_t len, uint32_t f)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { XNV_F_SG, "sg" }, { XNV_F_GSO_TCPV4, "tso4" }, { XNV_F_GSO_TCPV6, "tso6" },
        { XNV_F_IPV6_CSUM, "csum6" }, { XNV_F_RX_NOTIFY, "rx-notify" },
        { XNV_F_MCAST_CTRL, "mcast" }, { XNV_F_SPLIT_EVTCHN, "split" },
    };
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if ((f & names[i].bit) && n < len)
            n += (size_t)snprintf(out + n, len - n, "%s%s", n ? "," : "", names[i].name);
    if (!(f & XNV_F_NO_CSUM) && n < len)
        snprintf(out + n, len - n, "%scsum4", n ? "," : "");
}

static const char *state_name(int s)
{
    static const char *names[] = { "unknown", "init", "initwait", "initialised", "connected",
                                   "closing", "closed", "reconfiguring", "reconfigured" };
    return s >= 0 && s <= 8 ? names[s] : "?";
}

static void list_text(FILE *o, struct xnv_netback *nb, bool stats)
{
    struct xnv_vif_info vifs[256];
    unsigned n = xnv_netback_list(nb, vifs, 256);
    if (n > 256)
        n = 256;
    if (!stats)
        fprintf(o, "%-6s %-6s %-14s %-11s %-7s %-7s %-18s %s\n", "DOMID", "DEVID", "IFNAME", "STATE",
                "QUEUES", "CARRIER", "MAC", "FEATURES");
    else
        fprintf(o, "%-14s %5s %12s %14s %8s %12s %14s %8s %8s %10s %9s\n", "IFNAME", "QUEUE", "TX_PKTS",
                "TX_BYTES", "TX_DROP", "RX_PKTS", "RX_BYTES", "RX_DROP", "RX_AHEAD", "NOTIFY", "SEG/COPY");
    for (unsigned i = 0; i < n; i++) {
        const struct xnv_vif_info *v = &vifs[i];
        if (!stats) {
            char feat[128];
            feature_names(feat, sizeof feat, v->features);
            fprintf(o, "%-6u %-6u %-14s %-11s %-7u %-7s %02x:%02x:%02x:%02x:%02x:%02x  %s%s\n", v->domid,
                    v->devid, v->ifname, state_name(v->state), v->queues, v->carrier ? "up" : "down",
                    v->mac[0], v->mac[1], v->mac[2], v->mac[3], v->mac[4], v->mac[5], feat,
                    v->broken ? " BROKEN" : "");
            continue;
        }
        for (int q = -1; q < (int)v->queues; q++) {
            struct xnv_queue_stats s;
            xnv_netback_stats(nb, v->domid, v->devid, q, &s);
            char qn[8];
            snprintf(qn, sizeof qn, q < 0 ? "all" : "%d", q);
            fprintf(o, "%-14s %5s %12llu %14llu %8llu %12llu %14llu %8llu %8llu %10llu %9.1f\n", v->ifname, qn,
                    (unsigned long long)s.tx_packets, (unsigned long long)s.tx_bytes,
                    (unsigned long long)(s.tx_drops + s.tx_errors), (unsigned long long)s.rx_packets,
                    (unsigned long long)s.rx_bytes, (unsigned long long)(s.rx_drops + s.rx_errors),
                    (unsigned long long)s.rx_ahead,
                    (unsigned long long)(s.notify_sent + s.notify_recv),
                    s.copy_calls ? (double)s.copy_segments / (double)s.copy_calls : 0.0);
        }
    }
    if (n == 0)
        fprintf(o, "(no vifs)\n");
}

void xnv_netback_control_serve(int lfd, struct xnv_netback *nb)
{
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    char req[64] = "";
    struct pollfd p = { .fd = c, .events = POLLIN };
    if (poll(&p, 1, 1000) == 1) {
        ssize_t n = read(c, req, sizeof req - 1);
        req[n > 0 ? n : 0] = '\0';
    }
    FILE *o = fdopen(c, "w");
    if (!o) {
        close(c);
        return;
    }
    if (strncmp(req, "text list", 9) == 0)
        list_text(o, nb, false);
    else if (strncmp(req, "text stats", 10) == 0)
        list_text(o, nb, true);
    else if (strncmp(req, "list", 4) == 0 || strncmp(req, "stats", 5) == 0)
        list_json(o, nb);
    else
        fprintf(o, "{\"error\":\"unknown request; try: list\"}\n");
    fclose(o);
}
