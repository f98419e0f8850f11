/* xnv-probe: exercises every operation of the hypervisor interface (hv.h)
 * on real Xen, as a guest (domU) and as a host (dom0), and the same
 * choreography over the simulated hypervisor.  The role logic is written
 * once against struct xnv_hv; see README.md for the choreography. */
#ifndef XNV_PROBE_H
#define XNV_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/hv.h"
#include "xnv/xs.h"

#define PROBE_MAX_PAGES   64u
#define PROBE_MAX_GUESTS  2u
#define PROBE_MAX_WATCHES 8u

/* Exit codes. */
#define PROBE_EXIT_PASS    0
#define PROBE_EXIT_FAIL    1
#define PROBE_EXIT_USAGE   2
#define PROBE_EXIT_NO_HV   3

/* xenstore layout, relative to a domain's home /local/domain/<id>. */
#define KEY_DIR      "data/xnv-probe"
#define KEY_PAGES    KEY_DIR "/pages"
#define KEY_REFS     KEY_DIR "/refs"
#define KEY_PORT     KEY_DIR "/event-channel"
#define KEY_COMMAND  KEY_DIR "/command"
#define KEY_VISIBLE  KEY_DIR "/peer-visible"
#define KEY_PRIVATE  KEY_DIR "/private"
#define KEY_STATE    KEY_DIR "/state"
#define KEY_DETAIL   KEY_DIR "/detail"
#define KEY_PEER     "data/xnv-probe-peer"     /* written by the toolstack */

/* What the host writes into a guest's command key before its event. */
#define CMD_VERIFY   "verify"

/* Layout of the guest's receive page (its last shared page). */
#define RX_HOST_OFF  0u         /* host: local -> foreign, RX_HOST_LEN bytes */
#define RX_HOST_LEN  2048u
#define RX_MSG_LEN   64u        /* ... starting with a zero-padded message */
#define RX_G2G_OFF   2048u      /* host: peer's page 0 [0, RX_G2G_LEN) */
#define RX_G2G_LEN   2048u
#define HOST_PAGE_TAG 0xffffu   /* "page number" of the host's own pattern */

struct probe_opts {
    const char *role;           /* label printed on every line */
    unsigned timeout_s;         /* how long to wait for the other side */
    unsigned bench_ms;          /* host: length of each benchmark */
    /* guest */
    unsigned pages;             /* pages to share, the last one receives */
    int peer;                   /* peer guest domid, -1 none */
    bool peer_from_xs;          /* take the peer from KEY_PEER */
    xnv_domid_t backend;        /* the domain that runs the host role */
    /* host */
    unsigned nguests;
    xnv_domid_t guests[PROBE_MAX_GUESTS];
};

/* ---- report.c: one line per check -------------------------------------- */

struct probe_report {
    const char *role;
    unsigned n_pass, n_fail;
    char failed[200];           /* names of failed checks, for xenstore */
};

void report_init(struct probe_report *r, const char *role);
/* Prints "XNV-PROBE <role> <name> PASS|FAIL <detail>"; returns ok. */
bool check(struct probe_report *r, bool ok, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Prints "XNV-PROBE <role> RESULT PASS|FAIL n_pass=.. n_fail=.."; returns
 * PROBE_EXIT_PASS or PROBE_EXIT_FAIL. */
int report_result(const struct probe_report *r);
void report_line(const char *role, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- pattern.c: page contents both sides agree on ----------------------- */

uint8_t pat_byte(unsigned dom, unsigned page, unsigned off);
void pat_fill(uint8_t *p, unsigned dom, unsigned page, unsigned off, unsigned len);
/* Offset of the first byte in [off, off+len) differing from the pattern,
 * or -1 when all match. */
long pat_mismatch(const uint8_t *p, unsigned dom, unsigned page, unsigned off, unsigned len);
long zero_mismatch(const uint8_t *p, unsigned len);
/* The host's message at the start of a guest's receive page. */
void host_message(char out[RX_MSG_LEN], unsigned host, unsigned guest);
/* The host's RX_HOST_LEN bytes for that guest: message then pattern. */
void host_block(uint8_t out[RX_HOST_LEN], unsigned host, unsigned guest);

/* ---- xsutil.c: parsing, the clock, watch bookkeeping -------------------- */
/* (xenstore keys through xnv/xs.h) */

uint64_t now_ms(void);
/* Parse "a b c" into at most max unsigned values; returns the count or -1. */
int parse_uint_list(const char *s, uint32_t *out, unsigned max);
int parse_uint(const char *s, unsigned long max, unsigned *out);

struct watch_set {
    struct xnv_hv *hv;
    unsigned n;
    struct {
        char path[96];
        char token[48];
        unsigned fired;
        char last_path[96];
    } w[PROBE_MAX_WATCHES];
};

void ws_init(struct watch_set *ws, struct xnv_hv *hv);
int ws_add(struct watch_set *ws, const char *path, const char *token);   /* -errno */
unsigned ws_fired(const struct watch_set *ws, const char *token);
const char *ws_last_path(const struct watch_set *ws, const char *token);
void ws_drain(struct watch_set *ws);
/* Wait (at most timeout_ms) until cond(arg) holds, evaluating it at start,
 * after each watch event, when extra_fd (>= 0) is readable and at least
 * every 200 ms.  Returns 0 or -ETIMEDOUT. */
int ws_wait(struct watch_set *ws, int extra_fd, unsigned timeout_ms,
            bool (*cond)(void *arg), void *arg);
void ws_remove_all(struct watch_set *ws);

/* ---- the roles ---------------------------------------------------------- */

void probe_guest(struct xnv_hv *hv, const struct probe_opts *o, struct probe_report *r);
void probe_host(struct xnv_hv *hv, const struct probe_opts *o, struct probe_report *r);
/* Runs host and guests in threads over the simulation; returns exit code. */
int probe_selftest_sim(const struct probe_opts *o, unsigned nguests_min, unsigned nguests_max);

#endif
