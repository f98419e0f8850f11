/* xnvctl top: per-vif rates from two successive answers of the daemon. */
#ifndef XNVCTL_RATES_H
#define XNVCTL_RATES_H
#include <stdio.h>

struct vif_sample {
    unsigned domid, devid;
    char ifname[16];
    unsigned long long tx_packets, tx_bytes, rx_packets, rx_bytes, drops;
};

/* The vifs of the daemon's "list" answer (JSON), at most max; -1 when the
 * answer is not what xnv-netbackd sends. */
int rates_parse(const char *json, struct vif_sample *out, int max);

/* One line per vif of cur: packets and Mbit/s each way and drops, per
 * second since prev (np entries, secs earlier); "-" for a vif not in prev
 * or whose counters went back (a restarted daemon or a new device). */
void rates_print(FILE *o, const struct vif_sample *prev, int np, const struct vif_sample *cur,
                 int nc, double secs);

#endif
