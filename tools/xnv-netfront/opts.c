/* xnv-netfront: the command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include "agent.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/parse.h"
#include "xnv/thread.h"

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: xnv-netfront [OPTION]...\n"
        "The guest side of a Xen network device, in userspace: connects to the\n"
        "backend of device/vif/N of this domain (the stock Linux netback or\n"
        "xnv-netbackd) and gives this guest a TAP interface for it.  Reconnects by\n"
        "itself when the backend goes away and comes back (restart, xl save/restore).\n\n"
        "  -d, --device N        the vif index: device/vif/N in this domain's xenstore\n"
        "                        (default 0)\n"
        "  -q, --queues N        queues to ask for, 1-%u (default 1; the backend may\n"
        "                        allow fewer)\n"
        "  -i, --tap NAME        the TAP interface to create (default xnv<N>)\n"
        "  -t, --timeout SEC     give up when the first connection is not up after SEC\n"
        "                        seconds (default 30; 0: wait for ever)\n"
        "      --untrusted       treat the backend as untrusted (scrub every shared\n"
        "                        page) whatever the device's `trusted` key says\n"
        "      --no-offload      ask the backend for no receive offloads (no large\n"
        "                        segments, complete checksums)\n"
        "      --channels        exchange frames directly with the other guests the\n"
        "                        backend lists as peers (xnv-netbackd channel-bridges);\n"
        "                        everything else takes the vif\n"
        "      --channel-hold N  frames each queue holds for peers whose ring is full\n"
        "                        while it goes on with other destinations, 0-%u\n"
        "                        (default %u; 0: wait with the frame, the TAP unread)\n"
        "      --nice N          the nice value of the data-path threads, -20 to 19\n"
        "                        (default %d: ahead of this guest's processes, as its\n"
        "                        kernel's network drivers run; needs root below 0)\n"
        "  -p, --pidfile FILE    write the process id to FILE\n"
        "  -f, --foreground      stay in the foreground and log to standard error\n"
        "                        (default: run as a daemon, log to syslog)\n"
        "  -v, --verbose         log informational messages too\n"
        "  -h, --help            show this help and exit\n"
        "  -V, --version         show the version and exit\n\n"
        "Signals: TERM or INT closes the device cleanly (Closing, Closed, every\n"
        "grant revoked) and exits; HUP reconnects; USR1 logs the statistics.\n"
        "The guest needs /dev/xen/gntalloc, /dev/xen/gntdev, /dev/xen/evtchn, xenstore\n"
        "access and /dev/net/tun; the kernel's xen-netfront must not drive the same\n"
        "device (unbind it: echo vif-N > /sys/bus/xen/drivers/vif/unbind).\n"
        "Exit status: 0 clean exit, 1 failure, 2 bad usage, 3 no Xen interface,\n"
        "4 no such device.\n", XNV_NF_MAX_QUEUES, XNV_NF_BRIDGE_MAX_HOLD, XNV_NF_BRIDGE_MAX_HOLD,
        XNV_DATA_PATH_NICE);
}

static int bad(const char *what, const char *arg, const char *expect)
{
    fprintf(stderr, "xnv-netfront: %s must be %s, not \"%s\"\n", what, expect, arg);
    fprintf(stderr, "Try 'xnv-netfront --help' for more information.\n");
    return AGENT_EXIT_USAGE;
}

int agent_parse(struct agent_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {
        { "device", required_argument, NULL, 'd' },   { "queues", required_argument, NULL, 'q' },
        { "tap", required_argument, NULL, 'i' },      { "timeout", required_argument, NULL, 't' },
        { "untrusted", no_argument, NULL, 'U' },      { "no-offload", no_argument, NULL, 'O' },
        { "pidfile", required_argument, NULL, 'p' },  { "foreground", no_argument, NULL, 'f' },
        { "channels", no_argument, NULL, 'C' },       { "channel-hold", required_argument, NULL, 'H' },
        { "nice", required_argument, NULL, 'N' },
        { "verbose", no_argument, NULL, 'v' },        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },        { NULL, 0, NULL, 0 },
    };
    memset(o, 0, sizeof *o);
    o->queues = 1;
    o->timeout_s = 30;
    o->channel_hold = XNV_NF_BRIDGE_MAX_HOLD;
    o->nice = XNV_DATA_PATH_NICE;
    bool tap_given = false;
    uint64_t v;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:q:i:t:p:fvhV", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (xnv_parse_uint(optarg, 65535, &v))
                return bad("--device", optarg, "a number from 0 to 65535");
            o->device = (unsigned)v;
            break;
        case 'q':
            if (xnv_parse_uint(optarg, XNV_NF_MAX_QUEUES, &v) || v == 0)
                return bad("--queues", optarg, "a number from 1 to 16");
            o->queues = (unsigned)v;
            break;
        case 'i':
            if (!optarg[0] || strlen(optarg) >= IFNAMSIZ || strchr(optarg, '/') || strchr(optarg, ' '))
                return bad("--tap", optarg, "an interface name of 1 to 15 characters");
            snprintf(o->tap, sizeof o->tap, "%s", optarg);
            tap_given = true;
            break;
        case 't':
            if (xnv_parse_uint(optarg, 86400, &v))
                return bad("--timeout", optarg, "a number of seconds from 0 to 86400");
            o->timeout_s = (unsigned)v;
            break;
        case 'U': o->untrusted = true; break;
        case 'O': o->no_offload = true; break;
        case 'C': o->channels = true; break;
        case 'H':
            if (xnv_parse_uint(optarg, XNV_NF_BRIDGE_MAX_HOLD, &v))
                return bad("--channel-hold", optarg, "a number of frames from 0 to 48");
            o->channel_hold = (unsigned)v;
            break;
        case 'N': {
            /* -20..19: a sign, then the number */
            bool neg = optarg[0] == '-';
            if (xnv_parse_uint(optarg + neg, neg ? 20 : 19, &v))
                return bad("--nice", optarg, "a number from -20 to 19");
            o->nice = neg ? -(int)v : (int)v;
            break;
        }
        case 'p': o->pidfile = optarg; break;
        case 'f': o->foreground = true; break;
        case 'v': o->verbose = true; break;
        case 'h': usage(stdout); return AGENT_EXIT_OK;
        case 'V': printf("xnv-netfront %s\n", XNV_VERSION); return AGENT_EXIT_OK;
        case ':':
            fprintf(stderr, "xnv-netfront: option %s needs a value\n", argv[optind - 1]);
            fprintf(stderr, "Try 'xnv-netfront --help' for more information.\n");
            return AGENT_EXIT_USAGE;
        default:
            /* a short option may sit in a cluster (-xf): name the letter */
            if (optopt)
                fprintf(stderr, "xnv-netfront: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "xnv-netfront: unknown option %s\n", argv[optind - 1]);
            fprintf(stderr, "Try 'xnv-netfront --help' for more information.\n");
            return AGENT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xnv-netfront: unexpected argument \"%s\"\n", argv[optind]);
        fprintf(stderr, "Try 'xnv-netfront --help' for more information.\n");
        return AGENT_EXIT_USAGE;
    }
    if (!tap_given)
        snprintf(o->tap, sizeof o->tap, "xnv%u", o->device);
    return -1;      /* go on */
}
