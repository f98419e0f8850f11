/* xnv-bench: netback and netfront code paths over the simulated hypervisor,
 * with an in-memory port in place of the TAP. */
#ifndef XNV_BENCH_H
#define XNV_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include "xnv/clock.h"
#include "xnv/netback.h"

/* Backend to guest, the receiver: BACKEND_TO_GUEST copies each frame into
 * its buffer and stops there; the _TAP cases also stand for the guest
 * agent's write to its TAP (one more copy, into a private buffer), after
 * that copy (_TAP_COPY, the agent before zero-copy receive) or straight
 * from the receive buffers (xnv_nf_recv_to, _TAP). */
enum bench_dir { GUEST_TO_BACKEND, BACKEND_TO_GUEST, BACKEND_TO_GUEST_TAP_COPY, BACKEND_TO_GUEST_TAP,
                 BENCH_DIRS };

struct bench_case {
    enum bench_dir dir;
    uint32_t frame_bytes;        /* 64, 1514, or a GSO frame (> 1514) */
    unsigned queues;
    double seconds;
    uint64_t packets;            /* non-zero: count exactly this many frames
                                  * (callgrind: its statistics cover them) */
};

struct bench_result {
    double mpps, gbps;
    double copies_per_frame;     /* data copies a frame takes on this path */
    double segments_per_copy;    /* grant-copy segments per call (netback) */
    double notifications_per_packet;
    uint64_t frames;
    char error[160];             /* non-empty when the case could not run */
};

/* The engines' log sink: errors only, to standard error. */
void bench_log(void *arg, int level, const char *msg);
/* The netback engine in dom0 with `queues` at most per vif, its ports from
 * open_port(arg, ...); NULL with err set. */
struct xnv_netback *bench_netback_new(struct xnv_hv *dom0, unsigned queues, xnv_port_factory open_port,
                                      void *arg, char *err, size_t errlen);
static inline double bench_now(void) { return (double)xnv_now_ns() / 1e9; }

/* Single-core memcpy bandwidth in Gbit/s (the physical reference). */
double bench_memcpy_gbps(double seconds);
/* memcpy bandwidth per copy when 1 MiB changes hands between two CPUs in
 * turn (one thread copies it in, another out); 0 with fewer than two CPUs. */
double bench_handoff_gbps(double seconds);
/* One case end to end: a simulated guest with the netfront engine, the
 * netback engine in dom0. */
void bench_run(const struct bench_case *c, struct bench_result *r);

#endif
