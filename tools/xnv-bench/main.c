/* xnv-bench: throughput of the netback and netfront code paths over the
 * simulated hypervisor, by direction, frame size and queue count, beside the
 * machine's own memcpy bandwidth measured in the same run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static void usage(FILE *o)
{
    fprintf(o,
        "Usage: xnv-bench [OPTION]...\n"
        "Measure guest->backend and backend->guest through the real netback and\n"
        "netfront engines over the simulated hypervisor (an in-memory port stands\n"
        "for the TAP), for 64-byte, 1514-byte and 64 KiB GSO frames on 1 and 2\n"
        "queues, and report each figure also as a ratio to the bound its copies\n"
        "impose (single-core memcpy bandwidth / copies per frame).\n\n"
        "  -t, --seconds S   measure each case for S seconds (default 1)\n"
        "  -q, --queues LIST queue counts, comma-separated (default 1,2)\n"
        "  -j, --json        machine-readable output\n"
        "  -h, --help        show this help and exit\n");
}

int main(int argc, char **argv)
{
    double secs = 1.0;
    bool json = false;
    unsigned qlist[4] = { 1, 2 }, nq = 2;
    static const struct option opts[] = {
        { "seconds", required_argument, NULL, 't' }, { "queues", required_argument, NULL, 'q' },
        { "json", no_argument, NULL, 'j' },          { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    while ((c = getopt_long(argc, argv, "t:q:jh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 't':
            secs = strtod(optarg, &end);
            if (*end || secs < 0.05 || secs > 600) {
                fprintf(stderr, "xnv-bench: --seconds must be between 0.05 and 600\n");
                return 2;
            }
            break;
        case 'q':
            nq = 0;
            for (char *p = strtok(optarg, ","); p; p = strtok(NULL, ",")) {
                long v = strtol(p, &end, 10);
                if (*end || v < 1 || v > 4 || nq == 4) {
                    fprintf(stderr, "xnv-bench: --queues takes up to 4 counts from 1 to 4\n");
                    return 2;
                }
                qlist[nq++] = (unsigned)v;
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
    double bound = bench_memcpy_gbps(0.5);
    static const uint32_t sizes[] = { 64, 1514, 65000 };
    static const char *dirs[] = { "guest_to_backend", "backend_to_guest" };
    if (json)
        printf("{\"memcpy_gbps\":%.2f,\"results\":[", bound);
    else
        printf("single-core memcpy: %.1f Gbit/s\n%-17s %6s %6s %8s %8s %7s %7s %8s %8s\n", bound,
               "direction", "bytes", "queues", "Mpps", "Gbit/s", "copies", "ratio", "seg/call", "notif/pk");
    int failed = 0, first = 1;
    for (int d = 0; d < 2; d++)
        for (unsigned s = 0; s < 3; s++)
            for (unsigned q = 0; q < nq; q++) {
                struct bench_case bc = { .dir = (enum bench_dir)d, .frame_bytes = sizes[s],
                                         .queues = qlist[q], .seconds = secs };
                struct bench_result r;
                bench_run(&bc, &r);
                if (r.error[0]) {
                    fprintf(stderr, "xnv-bench: %s %u bytes %u queue(s): %s\n", dirs[d], sizes[s], qlist[q],
                            r.error);
                    failed = 1;
                    continue;
                }
                double ratio = bound > 0 ? r.gbps / (bound / r.copies_per_frame) : 0;
                if (json)
                    printf("%s{\"direction\":\"%s\",\"frame_bytes\":%u,\"queues\":%u,\"mpps\":%.3f,"
                           "\"gbps\":%.3f,\"copies_per_frame\":%.0f,\"ratio_to_bound\":%.3f,"
                           "\"segments_per_copy\":%.1f,\"notifications_per_packet\":%.4f}",
                           first ? "" : ",", dirs[d], sizes[s], qlist[q], r.mpps, r.gbps, r.copies_per_frame,
                           ratio, r.segments_per_copy, r.notifications_per_packet);
                else
                    printf("%-17s %6u %6u %8.3f %8.2f %7.0f %7.2f %8.1f %8.4f\n", dirs[d], sizes[s], qlist[q],
                           r.mpps, r.gbps, r.copies_per_frame, ratio, r.segments_per_copy,
                           r.notifications_per_packet);
                fflush(stdout);
                first = 0;
            }
    if (json)
        printf("]}\n");
    return failed;
}
