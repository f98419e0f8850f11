/* Log lines a guest can cause as often as it likes (a refusal, a connection,
 * a channel coming and going): at most XNV_LOG_BURST per source (a vif, a
 * peer) and window; the rest are only counted, and their number is
 * reported when the window ends. */
#ifndef XNV_LOG_LIMIT_H
#define XNV_LOG_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define XNV_LOG_BURST     5u
#define XNV_LOG_WINDOW_S  10u

struct xnv_log_limit {
    uint64_t since_ns;          /* start of the window */
    unsigned lines, dropped;    /* in the window */
};

/* May the line be logged at now_ns?  *missed: lines not logged in the window
 * that just ended (report them first), else 0. */
static inline bool xnv_log_limit_take(struct xnv_log_limit *l, uint64_t now_ns, unsigned *missed)
{
    *missed = 0;
    if (now_ns - l->since_ns >= (uint64_t)XNV_LOG_WINDOW_S * 1000000000u) {
        *missed = l->dropped;
        l->since_ns = now_ns;
        l->lines = l->dropped = 0;
    }
    if (l->lines < XNV_LOG_BURST) {
        l->lines++;
        return true;
    }
    l->dropped++;
    return false;
}

#endif
