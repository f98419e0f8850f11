/* xnvctl top: rates from the daemon's JSON.  The answer's layout is the one
 * netback/control_socket.c writes: each vif object starts with "domid",
 * "devid", "ifname", and its first "stats" object holds the totals (the
 * per-queue objects come after it). */
#include <stdlib.h>
#include <string.h>
#include "rates.h"

/* The number after "key": within [p, end); 0 when absent. */
static int field(const char *p, const char *end, const char *key, unsigned long long *out)
{
    char pat[40];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *k = strstr(p, pat);
    if (!k || k >= end)
        return -1;
    char *e;
    *out = strtoull(k + strlen(pat), &e, 10);
    return e == k + strlen(pat) ? -1 : 0;
}

int rates_parse(const char *json, struct vif_sample *out, int max)
{
    static const char start[] = "{\"domid\":";
    if (strncmp(json, "{\"vifs\":[", 9) != 0)
        return -1;
    int n = 0;
    for (const char *p = strstr(json, start); p && n < max;) {
        const char *next = strstr(p + 1, start);
        const char *end = next ? next : p + strlen(p);
        struct vif_sample *s = &out[n];
        memset(s, 0, sizeof *s);
        if (sscanf(p, "{\"domid\":%u,\"devid\":%u,\"ifname\":\"%15[^\"]\"", &s->domid, &s->devid,
                   s->ifname) != 3)
            return -1;
        const char *st = strstr(p, "\"stats\":{");
        if (!st || st >= end)
            return -1;
        unsigned long long d[4];
        if (field(st, end, "tx_packets", &s->tx_packets) || field(st, end, "tx_bytes", &s->tx_bytes) ||
            field(st, end, "rx_packets", &s->rx_packets) || field(st, end, "rx_bytes", &s->rx_bytes) ||
            field(st, end, "tx_drops", &d[0]) || field(st, end, "tx_errors", &d[1]) ||
            field(st, end, "rx_drops", &d[2]) || field(st, end, "rx_errors", &d[3]))
            return -1;
        s->drops = d[0] + d[1] + d[2] + d[3];
        n++;
        p = next;
    }
    return n;
}

static const struct vif_sample *find(const struct vif_sample *v, int n, const struct vif_sample *s)
{
    for (int i = 0; i < n; i++)
        if (v[i].domid == s->domid && v[i].devid == s->devid && !strcmp(v[i].ifname, s->ifname))
            return &v[i];
    return NULL;
}

void rates_print(FILE *o, const struct vif_sample *prev, int np, const struct vif_sample *cur,
                 int nc, double secs)
{
    fprintf(o, "%-14s %6s %5s %10s %10s %10s %10s %8s\n", "IFNAME", "DOMID", "DEVID", "TX_PKT/S",
            "TX_MBIT/S", "RX_PKT/S", "RX_MBIT/S", "DROP/S");
    for (int i = 0; i < nc; i++) {
        const struct vif_sample *c = &cur[i], *p = find(prev, np, c);
        fprintf(o, "%-14s %6u %5u", c->ifname, c->domid, c->devid);
        if (!p || secs <= 0 || c->tx_packets < p->tx_packets || c->rx_packets < p->rx_packets ||
            c->tx_bytes < p->tx_bytes || c->rx_bytes < p->rx_bytes || c->drops < p->drops) {
            fprintf(o, " %10s %10s %10s %10s %8s\n", "-", "-", "-", "-", "-");
            continue;
        }
        fprintf(o, " %10.0f %10.2f %10.0f %10.2f %8.0f\n", (double)(c->tx_packets - p->tx_packets) / secs,
                (double)(c->tx_bytes - p->tx_bytes) * 8 / 1e6 / secs,
                (double)(c->rx_packets - p->rx_packets) / secs,
                (double)(c->rx_bytes - p->rx_bytes) * 8 / 1e6 / secs, (double)(c->drops - p->drops) / secs);
    }
    if (nc == 0)
        fprintf(o, "(no vifs)\n");
}
