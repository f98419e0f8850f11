/* xnv-bench: throughput of the netback and netfront code paths over the
 * simulated hypervisor, by direction, frame size and queue count, beside the
 * machine's own memcpy bandwidth measured in the same run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "density.h"

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: xnv-bench [OPTION]...\n"
        "Measure guest->backend and backend->guest through the real netback and\n"
        "netfront engines over the simulated hypervisor (an in-memory port stands\n"
        "for the TAP), for 64-byte, 1514-byte and 64 KiB GSO frames on 1 and 2\n"
        "queues, and report each figure also as a ratio to the bound its copies\n"
        "impose (single-core memcpy bandwidth, measured just before and after\n"
        "the case, / copies per frame), and to the bound when the data crosses\n"
        "between two CPUs (the same copies, 1 MiB handed from one CPU to another\n"
        "in turn, also measured around the case: ratio-x).\n\n"
        "  -t, --seconds S   measure each case for S seconds (default 1)\n"
        "  -n, --packets N   count exactly N frames per case instead (after N/10 to\n"
        "                    warm up); under valgrind --tool=callgrind the\n"
        "                    statistics are zeroed before them and dumped after\n"
        "  -q, --queues LIST queue counts, comma-separated (default 1,2)\n"
        "  -s, --sizes LIST  frame sizes from 64, 1514, 65000 (default all three)\n"
        "  -d, --directions LIST  g2b (guest to backend), b2g (default both);\n"
        "                    b2g-tap-copy, b2g-tap: b2g plus the guest agent's TAP\n"
        "                    write (a copy), after the receive copy or without it\n"
        "  -D, --density N   instead: one backend serving N guests' vifs (2 queues each,\n"
        "                    or the first of --queues): per vif the backend's RSS,\n"
        "                    threads, descriptors, grant mappings and connect time,\n"
        "                    then the aggregate Mpps with 2 vifs busy and with all N,\n"
        "                    each direction (--sizes: 64 or 1514, default 64), the\n"
        "                    two taking turns --rounds times (default 3; medians)\n"
        "  -o, --output FILE with --density: also write the JSON document to FILE\n"
        "  -j, --json        machine-readable output\n"
        "  -h, --help        show this help and exit\n");
}

/* A comma-separated list of numbers from ALLOWED (N of them) into OUT;
 * returns how many, 0 when one is not allowed. */
static unsigned parse_list(char *arg, const uint32_t *allowed, unsigned n, uint32_t *out)
{
    unsigned k = 0;
    for (char *p = strtok(arg, ","); p; p = strtok(NULL, ",")) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        unsigned i = 0;
        while (i < n && allowed[i] != v)
            i++;
        if (*end || i == n || k == n)
            return 0;
        out[k++] = (uint32_t)v;
    }
    return k;
}

/* A whole number from min to max (min >= 1); 0 after saying why not. */
static unsigned parse_count(const char *arg, unsigned min, unsigned max, const char *opt)
{
    char *end;
    unsigned long v = strtoul(arg, &end, 10);
    if (*end || v < min || v > max) {
        fprintf(stderr, "xnv-bench: %s must be between %u and %u\n", opt, min, max);
        return 0;
    }
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    double secs = 1.0;
    unsigned long long packets = 0;
    bool json = false;
    unsigned density = 0, rounds = 3;
    const char *json_path = NULL;
    bool queues_set = false, sizes_set = false;
    static const uint32_t all_sizes[] = { 64, 1514, 65000 }, all_queues[] = { 1, 2, 3, 4 };
    uint32_t qlist[4] = { 1, 2 }, sizes[3] = { 64, 1514, 65000 };
    unsigned nq = 2, ns = 3;
    static const char *dir_opt[] = { "g2b", "b2g", "b2g-tap-copy", "b2g-tap" };
    bool dir_on[BENCH_DIRS] = { true, true, false, false };
    static const struct option opts[] = {
        { "seconds", required_argument, NULL, 't' }, { "packets", required_argument, NULL, 'n' },
        { "queues", required_argument, NULL, 'q' },  { "sizes", required_argument, NULL, 's' },
        { "directions", required_argument, NULL, 'd' },
        { "density", required_argument, NULL, 'D' }, { "rounds", required_argument, NULL, 'r' },
        { "output", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:n:q:s:d:D:r:o:jh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't':
            secs = strtod(optarg, &end);
            if (*end || secs < 0.05 || secs > 600) {
                fprintf(stderr, "xnv-bench: --seconds must be between 0.05 and 600\n");
                return 2;
            }
            break;
        case 'n':
            packets = strtoull(optarg, &end, 10);
            if (*end || packets < 1 || packets > 1000000000ull) {
                fprintf(stderr, "xnv-bench: --packets must be between 1 and 1000000000\n");
                return 2;
            }
            break;
        case 'q':
            if (!(nq = parse_list(optarg, all_queues, 4, qlist))) {
                fprintf(stderr, "xnv-bench: --queues takes up to 4 counts from 1 to 4\n");
                return 2;
            }
            queues_set = true;
            break;
        case 's':
            if (!(ns = parse_list(optarg, all_sizes, 3, sizes))) {
                fprintf(stderr, "xnv-bench: --sizes takes sizes from 64, 1514, 65000\n");
                return 2;
            }
            sizes_set = true;
            break;
        case 'D':
            if (!(density = parse_count(optarg, 2, DENSITY_MAX_VIFS, "--density")))
                return 2;
            break;
        case 'o': json_path = optarg; break;
        case 'r':
            if (!(rounds = parse_count(optarg, 1, DENSITY_MAX_ROUNDS, "--rounds")))
                return 2;
            break;
        case 'd':
            memset(dir_on, 0, sizeof dir_on);
            for (char *p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
                int d = -1;
                for (int k = 0; k < BENCH_DIRS; k++)
                    if (!strcmp(p, dir_opt[k]))
                        d = k;
                if (d < 0) {
                    fprintf(stderr, "xnv-bench: --directions takes g2b, b2g, b2g-tap-copy, b2g-tap\n");
                    return 2;
                }
                dir_on[d] = true;
            }
            break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "Try 'xnv-bench --help' for more information.\n");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "xnv-bench: unexpected argument \"%s\"\n"
                        "Try 'xnv-bench --help' for more information.\n", argv[optind]);
        return 2;
    }
    if (density) {
        struct density_opts d = { .vifs = density, .queues = queues_set ? qlist[0] : 2, .few = 2,
                                  .frame_bytes = sizes_set && sizes[0] <= 1514 ? sizes[0] : 64,
                                  .seconds = secs, .json = json, .rounds = rounds,
                                  .json_path = json_path };
        return density_main(&d);
    }
    /* The bound is measured right before and right after each case and the
     * larger of the two taken: other processes sharing the cores move both
     * the path and the bound, so only adjacent measurements compare. */
    static const char *dirs[] = { "guest_to_backend", "backend_to_guest", "b2g_tap_copy", "b2g_tap" };
    double load0[3] = { 0 }, load1[3] = { 0 }, max_bound = 0, max_handoff = 0;
    getloadavg(load0, 3);
    if (json)
        printf("{\"results\":[");
    else
        printf("%-17s %6s %6s %8s %8s %7s %7s %8s %7s %8s %8s %8s\n", "direction", "bytes", "queues", "Mpps",
               "Gbit/s", "copies", "ratio", "bound", "ratio-x", "bound-x", "seg/call", "notif/pk");
    int failed = 0, first = 1;
    for (int d = 0; d < BENCH_DIRS; d++)
        for (unsigned s = 0; s < ns && dir_on[d]; s++)
            for (unsigned q = 0; q < nq; q++) {
                struct bench_case bc = { .dir = (enum bench_dir)d, .frame_bytes = sizes[s],
                                         .queues = qlist[q], .seconds = secs, .packets = packets };
                struct bench_result r;
                double b0 = bench_memcpy_gbps(0.25), h0 = bench_handoff_gbps(0.25);
                bench_run(&bc, &r);
                double b1 = bench_memcpy_gbps(0.25), bound = b0 > b1 ? b0 : b1;
                double h1 = bench_handoff_gbps(0.25), handoff = h0 > h1 ? h0 : h1;
                if (bound > max_bound)
                    max_bound = bound;
                if (handoff > max_handoff)
                    max_handoff = handoff;
                if (r.error[0]) {
                    fprintf(stderr, "xnv-bench: %s %u bytes %u queue(s): %s\n", dirs[d], sizes[s], qlist[q],
                            r.error);
                    failed = 1;
                    continue;
                }
                double ratio = bound > 0 ? r.gbps / (bound / r.copies_per_frame) : 0;
                double ratio_x = handoff > 0 ? r.gbps / (handoff / r.copies_per_frame) : 0;
                if (json)
                    printf("%s{\"direction\":\"%s\",\"frame_bytes\":%u,\"queues\":%u,\"mpps\":%.3f,"
                           "\"gbps\":%.3f,\"copies_per_frame\":%.0f,\"ratio_to_bound\":%.3f,"
                           "\"memcpy_gbps\":%.2f,\"memcpy_gbps_before\":%.2f,\"memcpy_gbps_after\":%.2f,"
                           "\"ratio_to_handoff_bound\":%.3f,\"handoff_gbps\":%.2f,\"handoff_gbps_before\":%.2f,"
                           "\"handoff_gbps_after\":%.2f,"
                           "\"segments_per_copy\":%.1f,\"notifications_per_packet\":%.4f,\"frames\":%llu}",
                           first ? "" : ",", dirs[d], sizes[s], qlist[q], r.mpps, r.gbps, r.copies_per_frame,
                           ratio, bound, b0, b1, ratio_x, handoff, h0, h1, r.segments_per_copy, r.notifications_per_packet,
                           (unsigned long long)r.frames);
                else
                    printf("%-17s %6u %6u %8.3f %8.2f %7.0f %7.2f %8.1f %7.2f %8.1f %8.1f %8.4f\n", dirs[d], sizes[s],
                           qlist[q], r.mpps, r.gbps, r.copies_per_frame, ratio, bound, ratio_x, handoff,
                           r.segments_per_copy, r.notifications_per_packet);
                fflush(stdout);
                first = 0;
            }
    getloadavg(load1, 3);
    if (json)
        printf("],\"memcpy_gbps\":%.2f,\"handoff_gbps\":%.2f,\"loadavg_before\":%.2f,\"loadavg_after\":%.2f}\n",
               max_bound, max_handoff, load0[0], load1[0]);
    else
        printf("bound: single-core memcpy Gbit/s, the larger of the measurements just before and just\n"
               "after the case (largest of the run %.1f); bound-x: the same when 1 MiB is handed\n"
               "between two CPUs in turn (largest %.1f); load average %.2f before, %.2f after\n",
               max_bound, max_handoff, load0[0], load1[0]);
    return failed;
}
