/* xnv-netfront: messages to standard error (foreground) or syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "agent.h"

static bool use_syslog;
static int max_level = LOG_NOTICE;

void agent_log_init(bool verbose)
{
    max_level = verbose ? LOG_DEBUG : LOG_NOTICE;
}

void agent_log_to_syslog(void)
{
    openlog("xnv-netfront", LOG_PID, LOG_DAEMON);
    use_syslog = true;
}

void agent_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level > max_level)
        return;
    if (use_syslog)
        syslog(level, "%s", msg);
    else
        fprintf(stderr, "xnv-netfront: %s\n", msg);
}

void agent_logf(int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    agent_log(NULL, level, msg);
}
