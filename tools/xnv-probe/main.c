/* xnv-probe: command line and dispatch to the roles. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probe.h"

static const char usage_text[] =
"usage: xnv-probe guest [--peer DOMID|xs|none] [--backend DOMID] [--pages N] [--timeout SEC]\n"
"       xnv-probe host DOMID [DOMID] [--timeout SEC] [--bench-ms MS]\n"
"       xnv-probe selftest-sim [--guests 1|2|both] [--pages N] [--timeout SEC] [--bench-ms MS]\n"
"       xnv-probe --help\n"
"\n"
"Exercises every operation of xnv's hypervisor interface on real Xen.\n"
"  guest         run in a domU: share N pages (N-1 read-only, pattern-filled, the last\n"
"                one writable and zero) and an unbound event channel with the backend,\n"
"                publish them under data/xnv-probe/, wait for the host's command and\n"
"                event, verify what it copied, report state=pass|fail there.\n"
"                --peer DOMID  another guest running this role: grant it read access to\n"
"                              one key, check its keys the same way, and expect the host's\n"
"                              grant-to-grant copy from it;  --peer xs  wait for the\n"
"                              toolstack to write the domid (or \"none\") into\n"
"                              data/xnv-probe-peer;  default: no peer\n"
"                --backend DOMID  the domain running the host role (default 0)\n"
"                --pages N     pages to share, 2..64 (default 4)\n"
"                --timeout SEC how long to wait for the host and the peer (default 300)\n"
"  host          run in dom0 with the guests' domids (1 or 2): domain info, xenstore\n"
"                (read, watch, transactions and a forced conflict, permissions),\n"
"                grant copy in every direction, grant map, event channel, benchmark.\n"
"                --timeout SEC how long to wait for the guests (default 120)\n"
"                --bench-ms MS length of each benchmark, 0 to skip (default 1000)\n"
"  selftest-sim  run host and guests in threads over the simulated hypervisor\n"
"                (--guests: scenario with 1 guest, 2 guests, or both; default both;\n"
"                default --timeout 30, --bench-ms 200)\n"
"\n"
"Output: one line per check, \"XNV-PROBE <role> <check> PASS|FAIL <detail>\", then\n"
"\"XNV-PROBE <role> RESULT PASS|FAIL n_pass=N n_fail=N\".\n"
"Exit status: 0 all checks passed, 1 a check failed, 2 bad usage, 3 no hypervisor.\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "xnv-probe: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'xnv-probe --help'.\n");
    return PROBE_EXIT_USAGE;
}

static int parse_domid(const char *s, xnv_domid_t *out)
{
    unsigned v;
    if (parse_uint(s, 0x7fefu, &v) < 0)
        return -1;
    *out = (xnv_domid_t)v;
    return 0;
}

enum { OPT_PEER = 1, OPT_BACKEND, OPT_PAGES, OPT_TIMEOUT, OPT_BENCH, OPT_GUESTS };

struct cli {
    struct probe_opts o;
    unsigned gmin, gmax;            /* selftest scenarios */
};

static int parse_option(struct cli *c, int opt, const char *arg)
{
    unsigned v;
    xnv_domid_t d;
    switch (opt) {
    case OPT_PEER:
        c->o.peer_from_xs = !strcmp(arg, "xs");
        c->o.peer = -1;
        if (parse_domid(arg, &d) == 0)
            c->o.peer = d;
        else if (!c->o.peer_from_xs && strcmp(arg, "none") != 0)
            return usage_error("bad --peer '%s' (a domid, xs or none)", arg);
        return 0;
    case OPT_BACKEND:
        if (parse_domid(arg, &c->o.backend) < 0)
            return usage_error("bad --backend '%s'", arg);
        return 0;
    case OPT_PAGES:
        if (parse_uint(arg, PROBE_MAX_PAGES, &v) < 0 || v < 2)
            return usage_error("bad --pages '%s' (2..64)", arg);
        c->o.pages = v;
        return 0;
    case OPT_TIMEOUT:
        if (parse_uint(arg, 86400, &v) < 0 || v == 0)
            return usage_error("bad --timeout '%s' (seconds, 1..86400)", arg);
        c->o.timeout_s = v;
        return 0;
    case OPT_BENCH:
        if (parse_uint(arg, 600000, &v) < 0)
            return usage_error("bad --bench-ms '%s' (0..600000)", arg);
        c->o.bench_ms = v;
        return 0;
    case OPT_GUESTS:
        if (!strcmp(arg, "both"))
            c->gmin = 1, c->gmax = 2;
        else if (parse_uint(arg, 2, &v) == 0 && v >= 1)
            c->gmin = c->gmax = v;
        else
            return usage_error("bad --guests '%s' (1, 2 or both)", arg);
        return 0;
    }
    return usage_error("%s", "internal: unknown option");
}

/* Options each role accepts, as OPT_* bits. */
static unsigned allowed(const char *role)
{
    if (!strcmp(role, "guest"))
        return 1u << OPT_PEER | 1u << OPT_BACKEND | 1u << OPT_PAGES | 1u << OPT_TIMEOUT;
    if (!strcmp(role, "host"))
        return 1u << OPT_TIMEOUT | 1u << OPT_BENCH;
    return 1u << OPT_GUESTS | 1u << OPT_PAGES | 1u << OPT_TIMEOUT | 1u << OPT_BENCH;
}

static int parse_cli(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "peer", required_argument, NULL, OPT_PEER },
        { "backend", required_argument, NULL, OPT_BACKEND },
        { "pages", required_argument, NULL, OPT_PAGES },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "bench-ms", required_argument, NULL, OPT_BENCH },
        { "guests", required_argument, NULL, OPT_GUESTS },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int opt, rc, idx = 0;
    opterr = 0;
    /* argv[0] is the role here: getopt starts at argv[1] and moves the
     * domids (operands) behind the options. */
    while ((opt = getopt_long(argc, argv, "h", opts, &idx)) != -1) {
        if (opt == 'h') {
            fputs(usage_text, stdout);
            exit(PROBE_EXIT_PASS);
        }
        if (opt == '?')
            return usage_error("bad option or missing value: '%s'", argv[optind - 1]);
        if ((rc = parse_option(c, opt, optarg)) != 0)
            return rc;
        if (!(allowed(c->o.role) & (1u << opt)))
            return usage_error("option '--%s' does not apply to this role", opts[idx].name);
    }
    return 0;
}

static int parse_guests(struct cli *c, int argc, char **argv)
{
    if (strcmp(c->o.role, "host") != 0) {
        if (optind < argc)
            return usage_error("unexpected argument '%s'", argv[optind]);
        return 0;
    }
    if (optind >= argc)
        return usage_error("%s", "host: give the guests' domids (1 or 2)");
    for (int i = optind; i < argc; i++) {
        if (c->o.nguests == PROBE_MAX_GUESTS)
            return usage_error("host: at most 2 guests, got '%s' too", argv[i]);
        if (parse_domid(argv[i], &c->o.guests[c->o.nguests]) < 0)
            return usage_error("host: bad domid '%s'", argv[i]);
        c->o.nguests++;
    }
    if (c->o.nguests == 2 && c->o.guests[0] == c->o.guests[1])
        return usage_error("host: the two guests are the same domain '%s'", argv[optind]);
    return 0;
}

static int run_xen_role(const struct probe_opts *o)
{
    struct probe_report r;
    report_init(&r, o->role);
    char err[256] = "";
    struct xnv_hv *hv = xnv_hv_open_xen(err, sizeof err);
    if (!hv) {
        check(&r, false, "open", "%s", err);
        report_result(&r);
        fprintf(stderr, "xnv-probe: Xen is not available: %s\n", err);
        return PROBE_EXIT_NO_HV;
    }
    check(&r, !strcmp(xnv_hv_kind(hv), "xen"), "open", "kind=%s domid=%u", xnv_hv_kind(hv),
          xnv_hv_domid(hv));
    if (!strcmp(o->role, "guest"))
        probe_guest(hv, o, &r);
    else
        probe_host(hv, o, &r);
    xnv_hv_close(hv);
    return report_result(&r);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing role (guest, host or selftest-sim)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return PROBE_EXIT_PASS;
    }
    bool st = !strcmp(argv[1], "selftest-sim");
    if (strcmp(argv[1], "guest") && strcmp(argv[1], "host") && !st)
        return usage_error("unknown role '%s' (guest, host or selftest-sim)", argv[1]);
    struct cli c = {
        .o = { .role = argv[1], .timeout_s = st ? 30 : !strcmp(argv[1], "guest") ? 300 : 120,
               .bench_ms = st ? 200 : 1000, .pages = 4, .peer = -1, .backend = 0 },
        .gmin = 1, .gmax = 2,
    };
    int rc = parse_cli(&c, argc - 1, argv + 1);
    if (rc == 0)
        rc = parse_guests(&c, argc - 1, argv + 1);
    if (rc != 0)
        return rc;
    if (st)
        return probe_selftest_sim(&c.o, c.gmin, c.gmax);
    return run_xen_role(&c.o);
}
