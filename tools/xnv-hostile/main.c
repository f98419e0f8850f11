/* xnv-hostile: run in a guest whose vif no other frontend drives; abuses
 * the backend with one mode, or every mode in turn for a while.
 *
 *   xnv-hostile [--device N] [--mode NAME|all] [--from NAME] [--seconds S] [--list]
 *
 * --from NAME (with --mode all): each pass over the modes starts at NAME and
 * wraps around, so that measurements taken during the first seconds of
 * several runs (the rig's hostile-guest scenario) do not always meet the
 * same modes.
 *
 * One line per round on stdout ("round R mode M: <what the backend did>"),
 * a summary at the end; exit 0 when every round ran and the backend still
 * answers (goes back to InitWait) after the last one, 1 otherwise. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostile.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: xnv-hostile [--device N] [--mode NAME|all] [--from NAME] [--seconds S] [--list]\n");
}

static const struct hostile_mode *find_mode(const char *name)
{
    for (unsigned i = 0; i < hostile_nmodes; i++)
        if (strcmp(hostile_modes[i].name, name) == 0)
            return &hostile_modes[i];
    return NULL;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "device", required_argument, NULL, 'd' }, { "mode", required_argument, NULL, 'm' },
        { "from", required_argument, NULL, 'f' },   { "seconds", required_argument, NULL, 's' },
        { "list", no_argument, NULL, 'l' },         { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    unsigned device = 0, seconds = 0;
    const char *mode = "all", *from = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "d:m:f:s:lh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = (unsigned)atoi(optarg); break;
        case 'm': mode = optarg; break;
        case 'f': from = optarg; break;
        case 's': seconds = (unsigned)atoi(optarg); break;
        case 'l':
            for (unsigned i = 0; i < hostile_nmodes; i++)
                printf("%-16s %s\n", hostile_modes[i].name, hostile_modes[i].what);
            return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    const struct hostile_mode *only = NULL;
    if (strcmp(mode, "all") != 0 && !(only = find_mode(mode))) {
        fprintf(stderr, "xnv-hostile: no mode \"%s\" (--list shows them)\n", mode);
        return 2;
    }
    unsigned first = 0;
    if (from) {
        const struct hostile_mode *f = find_mode(from);
        if (!f || only) {
            fprintf(stderr, "xnv-hostile: --from takes a mode's name (--list shows them) and goes with --mode all\n");
            return 2;
        }
        first = (unsigned)(f - hostile_modes);
    }

    struct hfe h;
    char err[256];
    struct xnv_hv *hv = xnv_hv_open_xen(err, sizeof err);
    if (!hv) {
        fprintf(stderr, "xnv-hostile: cannot open the Xen interfaces of this domain: %s\n", err);
        return 1;
    }
    if (hfe_open(&h, hv, device, err, sizeof err)) {
        fprintf(stderr, "xnv-hostile: %s\n", err);
        hfe_close(&h);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("xnv-hostile: device/vif/%u, backend %s (domain %u)\n", device, h.be, h.backend);
    if (hfe_reset(&h)) {
        fprintf(stderr, "xnv-hostile: the backend does not wait for us (state %d)\n", hfe_be_state(&h));
        hfe_close(&h);
        return 1;
    }
    /* one pass over the modes at least; then again until --seconds ran out */
    uint64_t end = hfe_now_ms() + (uint64_t)seconds * 1000;
    unsigned rounds = 0, failed = 0;
    do {
        for (unsigned i = 0; i < hostile_nmodes; i++) {
            const struct hostile_mode *m = only ? only : &hostile_modes[(first + i) % hostile_nmodes];
            char out[1024] = "";
            m->run(&h, out, sizeof out);
            rounds++;
            bool back = hfe_reset(&h) == 0;
            failed += !back;
            printf("round %u mode %s: %s%s\n", rounds, m->name, out, back ? "" : "; backend did not return to InitWait");
            if (only || !back)
                break;
        }
    } while (hfe_now_ms() < end && !failed);
    printf("xnv-hostile: %u round(s), %u without the backend coming back\n", rounds, failed);
    hfe_close(&h);
    return failed ? 1 : 0;
}
