/* How the benchmark starts the netback engine: in dom0 of the simulated
 * hypervisor, with in-memory ports from the caller, logging errors only. */
#include <stdio.h>
#include "bench.h"

void bench_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level <= 3)      /* LOG_ERR */
        fprintf(stderr, "xnv-bench: %s\n", msg);
}

struct xnv_netback *bench_netback_new(struct xnv_hv *dom0, unsigned queues, xnv_port_factory open_port,
                                      void *arg, char *err, size_t errlen)
{
    struct xnv_netback_config cfg;
    xnv_netback_config_default(&cfg);
    cfg.max_queues = queues;
    cfg.open_port = open_port;
    cfg.port_arg = arg;
    cfg.log = bench_log;
    return xnv_netback_new(dom0, &cfg, err, errlen);
}
