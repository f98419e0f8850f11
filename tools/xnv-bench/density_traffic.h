/* xnv-bench --density: traffic on a number of the world's vifs at once. */
#ifndef XNV_BENCH_DENSITY_TRAFFIC_H
#define XNV_BENCH_DENSITY_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

struct density_world;

struct traffic_case {
    unsigned busy;                /* vifs 0..busy-1 carry traffic, the others idle */
    bool to_guest;                /* backend -> guest; else guest -> backend */
    uint32_t frame_bytes;
    double seconds;
};

struct traffic_result {
    uint64_t frames;
    double mpps;                  /* all busy vifs together */
    double cpu_s;                 /* CPU time the whole process took meanwhile */
    double mpps_per_cpu;          /* frames per CPU-second of it: what the machine's
                                   * other load cannot move */
    double min_vif_mpps, max_vif_mpps;
    double jain;                  /* Jain's fairness index of the per-vif rates */
    double events_per_frame;      /* guest notifications the backend took */
    double notifies_per_frame;    /* notifications the backend sent */
    double sleeps_per_frame;      /* passes of a queue thread that found no work */
    double frames_per_copy_call;  /* grant-copy batching */
};

void traffic_run(struct density_world *w, const struct traffic_case *c, struct traffic_result *r);

#endif
