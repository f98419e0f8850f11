/* xnvctl: what xnv-netbackd is doing — vifs, their guests, queues,
 * negotiated features, state and statistics — read from its control socket. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "rates.h"

#define DEFAULT_SOCKET "/run/xnv/netbackd.sock"

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: xnvctl [OPTION]... [COMMAND]\n"
        "Show what xnv-netbackd serves.\n\n"
        "Commands:\n"
        "  list          vifs with guest, interface, state, queues, features (default)\n"
        "  stats         per-vif and per-queue statistics\n"
        "  top           live view, refreshed every second: rates per vif (packets and\n"
        "                Mbit/s each way, drops) above the statistics table\n\n"
        "Options:\n"
        "  -s, --socket PATH   the daemon's control socket (default %s)\n"
        "  -j, --json          print the daemon's answer as JSON\n"
        "  -n, --count N       with top: stop after N refreshes\n"
        "  -h, --help          show this help and exit\n"
        "  -V, --version       show the version and exit\n",
        DEFAULT_SOCKET);
}

/* Ask the daemon; the answer is malloc'd, NULL with a message on failure. */
static char *ask(const char *path, const char *req)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        if (e == EACCES)
            fprintf(stderr, "xnvctl: cannot reach xnv-netbackd at %s: %s (the socket is root's: run "
                    "xnvctl as root)\n", path, strerror(e));
        else
            fprintf(stderr, "xnvctl: cannot reach xnv-netbackd at %s: %s (is it running?)\n", path,
                    strerror(e));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (write(fd, req, strlen(req)) < 0) {
        fprintf(stderr, "xnvctl: cannot ask xnv-netbackd at %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    ssize_t n;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
            }
            buf = b;
        }
    }
    close(fd);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The live view: rates since the previous refresh, then the daemon's table.
 * On a terminal each refresh replaces the screen; otherwise they follow
 * one another. */
static int top(const char *sock, long count)
{
    enum { MAX_VIFS = 256 };
    static struct vif_sample prev[MAX_VIFS], cur[MAX_VIFS];
    int np = 0;
    double tprev = 0;
    bool tty = isatty(STDOUT_FILENO);
    for (long i = 0; count < 0 || i < count; i++) {
        char *js = ask(sock, "list\n");
        if (!js)
            return 1;
        double t = now_s();
        int nc = rates_parse(js, cur, MAX_VIFS);
        free(js);
        if (nc < 0) {
            fprintf(stderr, "xnvctl: unexpected answer from xnv-netbackd at %s\n", sock);
            return 1;
        }
        char *table = ask(sock, "text stats\n");
        if (!table)
            return 1;
        fputs(tty ? "\033[H\033[2J" : i ? "\n" : "", stdout);
        printf("xnvctl top: %s\n", i ? "per second since the last refresh" : "rates from the next refresh on");
        rates_print(stdout, prev, np, cur, nc, i ? t - tprev : 0);
        printf("\n%s", table);
        free(table);
        fflush(stdout);
        memcpy(prev, cur, (size_t)nc * sizeof *cur);
        np = nc;
        tprev = t;
        if (count < 0 || i + 1 < count)
            sleep(1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *sock = DEFAULT_SOCKET;
    bool json = false;
    long count = -1;
    static const struct option opts[] = {
        { "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
        { "count", required_argument, NULL, 'n' },  { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "s:jn:hV", opts, NULL)) != -1) {
        switch (c) {
        case 's': sock = optarg; break;
        case 'j': json = true; break;
        case 'n': {
            char *end;
            count = strtol(optarg, &end, 10);
            if (*end || count < 1) {
                fprintf(stderr, "xnvctl: --count must be a positive number, not \"%s\"\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("xnvctl %s\n", XNV_VERSION); return 0;
        default:
            fprintf(stderr, "Try 'xnvctl --help' for more information.\n");
            return 2;
        }
    }
    const char *cmd = optind < argc ? argv[optind] : "list";
    if (strcmp(cmd, "list") && strcmp(cmd, "stats") && strcmp(cmd, "top")) {
        fprintf(stderr, "xnvctl: unknown command \"%s\"; commands: list, stats, top\n", cmd);
        return 2;
    }
    if (optind + 1 < argc) {
        fprintf(stderr, "xnvctl: unexpected argument \"%s\" after %s\n", argv[optind + 1], cmd);
        return 2;
    }
    if (!json && !strcmp(cmd, "top"))
        return top(sock, count);
    for (long i = 0; count < 0 || i < count; i++) {
        char *answer = ask(sock, json ? "list\n" : strcmp(cmd, "list") ? "text stats\n" : "text list\n");
        if (!answer)
            return 1;
        /* what the daemon's answers start with (netback/control_socket.c) */
        const char *head = json ? "{\"vifs\"" : strcmp(cmd, "list") ? "IFNAME" : "DOMID";
        if (strncmp(answer, head, strlen(head)) != 0) {
            fprintf(stderr, "xnvctl: unexpected answer from %s (not xnv-netbackd's%s): \"%.60s\"\n", sock,
                    answer[0] ? "" : ": empty", answer);
            free(answer);
            return 1;
        }
        fputs(answer, stdout);
        free(answer);
        fflush(stdout);
        if (strcmp(cmd, "top") != 0)   /* top --json: one document a second */
            break;
        if (count < 0 || i + 1 < count)
            sleep(1);
    }
    return 0;
}
