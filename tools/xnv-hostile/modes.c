/* The abuses, one function per mode.  Each starts from a backend waiting at
 * InitWait and reports what the backend made of it: its state afterwards,
 * error responses, and its error node when it closed the vif. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xenbus.h>
#include "hostile.h"

#define WAIT_FATAL_MS 4000u

/* "state S[, N error responses][, error: ...]" */
static void outcome(struct hfe *h, unsigned errors, char *out, size_t len)
{
    int st = hfe_be_state(h);
    char *e = st == XenbusStateClosed ? hfe_be_error(h) : NULL;
    int n = snprintf(out, len, "backend state %d", st);
    if (errors && n > 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, ", %u error response(s)", errors);
    if (e && n > 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, ", error: %s", e);
    free(e);
}

static bool connect_honestly(struct hfe *h, char *out, size_t len)
{
    int st = hfe_connect(h, NULL, 0, "4");
    if (st != XenbusStateConnected) {
        snprintf(out, len, "honest connect failed (backend state %d)", hfe_be_state(h));
        return false;
    }
    hfe_rx_post(h, 16, false);
    return true;
}

/* Wait for the backend to close the vif, counting error responses meanwhile. */
static unsigned settle(struct hfe *h, unsigned ms)
{
    unsigned errors = 0;
    uint64_t end = hfe_now_ms() + ms;
    int st = hfe_be_state(h);
    while (hfe_now_ms() < end && st != XenbusStateClosed) {
        errors += hfe_tx_errors(h);
        if (hfe_be_changed(h, 100))
            st = hfe_be_state(h);
    }
    return errors + hfe_tx_errors(h);
}

static void prod_ahead(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    h->tx.sring->req_prod = h->tx.req_prod_pvt + 10000;    /* ~40 rings ahead */
    wmb();
    hfe_kick(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void prod_backwards(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    for (unsigned i = 0; i < 8; i++)
        hfe_tx_put(h, (uint16_t)i, h->txref[i], 0, hfe_frame(h, i, 60), 0);
    hfe_tx_push(h);
    settle(h, 500);
    h->tx.sring->req_prod = 2;                              /* behind what was consumed */
    wmb();
    hfe_kick(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void rx_prod_ahead(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    h->rx.sring->req_prod = h->rx.req_prod_pvt + 5000;
    wmb();
    hfe_kick(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void long_chain(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    unsigned slots = 24;                                    /* > XEN_NETBK_LEGACY_SLOTS_MAX (18) */
    hfe_frame(h, 0, 100);
    for (unsigned i = 0; i < slots; i++)
        hfe_tx_put(h, (uint16_t)i, h->txref[i % HFE_BUFS], 0, i == 0 ? (uint16_t)(slots * 100) : 100,
                   i + 1 < slots ? NETTXF_more_data : 0);
    hfe_tx_push(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void zero_size(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    hfe_tx_put(h, 0, h->txref[0], 0, 0, 0);                 /* an empty frame */
    hfe_frame(h, 1, 200);
    hfe_tx_put(h, 1, h->txref[1], 0, 300, NETTXF_more_data);  /* a chain with an empty middle slot */
    hfe_tx_put(h, 2, h->txref[2], 0, 0, NETTXF_more_data);
    hfe_tx_put(h, 3, h->txref[3], 0, 100, 0);
    hfe_tx_push(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void size_mismatch(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    hfe_frame(h, 0, 100);
    hfe_tx_put(h, 0, h->txref[0], 0, 100, NETTXF_more_data);  /* says 100, carries 2100 */
    hfe_tx_put(h, 1, h->txref[1], 0, 2000, 0);
    hfe_frame(h, 2, 1000);
    hfe_tx_put(h, 2, h->txref[2], 0, 9000, NETTXF_more_data); /* says 9000, carries 1500 */
    hfe_tx_put(h, 3, h->txref[3], 0, 500, 0);
    hfe_tx_push(h);
    outcome(h, settle(h, WAIT_FATAL_MS), out, len);
}

static void bad_grants(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    hfe_frame(h, 0, 200);
    hfe_tx_put(h, 0, 0x7fffff, 0, 200, 0);                 /* a ref never granted */
    hfe_tx_put(h, 1, h->rxref[0] + 100000, 0, 200, 0);     /* beyond anything granted */
    hfe_tx_put(h, 2, h->rx_ref, 0, 200, 0);                /* the RX ring page, mapped by the backend */
    hfe_tx_push(h);
    unsigned errors = settle(h, 1500);
    hfe_tx_put(h, 3, h->txref[0], 4000, 200, 0);           /* crosses the page end */
    hfe_tx_push(h);
    outcome(h, errors + settle(h, WAIT_FATAL_MS), out, len);
}

/* Read-only pages posted as RX buffers: frames for us (the scenario's
 * broadcasts) cannot be copied in. */
static void readonly_rx(struct hfe *h, char *out, size_t len)
{
    if (hfe_connect(h, NULL, 0, "4") != XenbusStateConnected) {
        snprintf(out, len, "honest connect failed (backend state %d)", hfe_be_state(h));
        return;
    }
    hfe_rx_post(h, HFE_BUFS, true);
    settle(h, WAIT_FATAL_MS);
    unsigned bad = 0, good = 0;
    RING_IDX prod = h->rx.sring->rsp_prod;
    rmb();
    for (; h->rx.rsp_cons != prod; h->rx.rsp_cons++) {
        int16_t s = RING_GET_RESPONSE(&h->rx, h->rx.rsp_cons)->status;
        bad += s < 0;
        good += s >= 0;
    }
    char o[256];
    outcome(h, 0, o, sizeof o);
    snprintf(out, len, "%s; RX responses: %u error, %u data", o, bad, good);
}

static void event_storm(struct hfe *h, char *out, size_t len)
{
    if (!connect_honestly(h, out, len))
        return;
    unsigned n = 0;
    uint64_t end = hfe_now_ms() + 3000;
    while (hfe_now_ms() < end)
        for (unsigned i = 0; i < 1000; i++, n++)
            hfe_kick(h);
    char o[256];
    outcome(h, settle(h, 200), o, sizeof o);
    snprintf(out, len, "%u notifications in 3 s; %s", n, o);
}

/* Garbage in the frontend's keys: one connect attempt each. */
static void xs_garbage(struct hfe *h, char *out, size_t len)
{
    static const struct hfe_kv cases[] = {
        { "multi-queue-num-queues", "0" },  { "multi-queue-num-queues", "999" },
        { "multi-queue-num-queues", "abc" }, { "tx-ring-ref", NULL },
        { "rx-ring-ref", "99999999999" },   { "tx-ring-ref", "12x" },
        { "event-channel", "-1" },          { "event-channel", NULL },
        { "request-rx-copy", "0" },         { "feature-sg", "yes please" },
        { "mac", "zz:zz:zz" },
    };
    /* the toolstack's, put back after */
    char *mac = xnv_xs_read_key(h->hv, XNV_XS_NO_TX, h->fe, "mac", NULL);
    size_t n = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int st = hfe_connect(h, &cases[i], 1, "4");
        n += (size_t)snprintf(out + n, n < len ? len - n : 0, "%s%s=%s: %d", i ? "; " : "", cases[i].key,
                              cases[i].val ? cases[i].val : "(missing)", st);
        if (n >= len)
            n = len - 1;
        if (hfe_reset(h))
            break;
    }
    if (mac)
        hfe_fe_write(h, "mac", mac);
    free(mac);
}

static void state_flip(struct hfe *h, char *out, size_t len)
{
    static const char *const states[] = { "1", "3", "4", "5", "6", "2", "7", "8", "banana", "", "-3", "4" };
    unsigned n = 0;
    uint64_t end = hfe_now_ms() + 3000;
    while (hfe_now_ms() < end)
        hfe_fe_write(h, "state", states[n++ % (sizeof states / sizeof states[0])]);
    char o[256];
    outcome(h, 0, o, sizeof o);
    snprintf(out, len, "%u state writes in 3 s; %s", n, o);
}

static void reconnect_loop(struct hfe *h, char *out, size_t len)
{
    unsigned ok = 0, tries = 8;
    for (unsigned i = 0; i < tries; i++) {
        if (hfe_connect(h, NULL, 0, "4") == XenbusStateConnected) {
            hfe_tx_put(h, 0, h->txref[0], 0, hfe_frame(h, 0, 60), 0);
            hfe_tx_push(h);
            ok++;
        }
        if (i + 1 < tries && hfe_reset(h))
            break;
    }
    snprintf(out, len, "%u of %u connects reached Connected", ok, tries);
}

const struct hostile_mode hostile_modes[] = {
    { "prod-ahead", "TX req_prod far ahead of the consumer", prod_ahead },
    { "prod-backwards", "TX req_prod moved back behind the consumer", prod_backwards },
    { "rx-prod-ahead", "RX req_prod far ahead", rx_prod_ahead },
    { "long-chain", "a TX chain of 24 slots", long_chain },
    { "zero-size", "empty frames and empty middle slots", zero_size },
    { "size-mismatch", "first-slot size disagreeing with the chain", size_mismatch },
    { "bad-grants", "unknown refs, offsets past the page, the ring page as data", bad_grants },
    { "readonly-rx", "read-only pages posted as RX buffers", readonly_rx },
    { "event-storm", "notifications without work, as fast as possible", event_storm },
    { "xs-garbage", "bad or missing frontend keys", xs_garbage },
    { "state-flip", "the frontend state flipping through every value", state_flip },
    { "reconnect-loop", "connect and disconnect again and again", reconnect_loop },
};
const unsigned hostile_nmodes = sizeof hostile_modes / sizeof hostile_modes[0];
