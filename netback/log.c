/* Logging for the engine: through the configured sink, or stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "nb.h"

void nb_log(struct xnv_netback *nb, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (nb->cfg.log)
        nb->cfg.log(nb->cfg.log_arg, level, msg);
    else
        fprintf(stderr, "xnv-netbackd: %s\n", msg);
}
