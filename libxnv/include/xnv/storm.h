/* The event-storm pause shared by the engines: a peer that notifies in a
 * loop without work makes the thread that serves it pause before taking its
 * next event, 1 ms after `step` empty wakeups in a row, twice as long after
 * each further `step`, at most XNV_STORM_DELAY_MAX_MS; real work resets the
 * count.  Every wakeup costs an interrupt and the thread's time, which other
 * guests share.  The step is the engine's: XNV_STORM_EMPTY_WAKEUPS for the
 * direct channels, a shorter one for the netback (nb.h). */
#ifndef XNV_STORM_H
#define XNV_STORM_H

#include <stdbool.h>

#define XNV_STORM_EMPTY_WAKEUPS 256u
#define XNV_STORM_DELAY_MAX_MS  64u

/* The pause (ms, 0: none) after `empty` empty wakeups in a row. */
static inline unsigned xnv_storm_pause_ms(unsigned empty, unsigned step)
{
    if (step == 0 || empty <= step)
        return 0;
    unsigned k = empty / step - 1;
    return k < 31 && (1u << k) < XNV_STORM_DELAY_MAX_MS ? 1u << k : XNV_STORM_DELAY_MAX_MS;
}

/* The next count of empty wakeups, saturating (a storm may last forever). */
static inline unsigned xnv_storm_count(unsigned empty, bool work)
{
    return work ? 0 : empty < 0xffffffffu ? empty + 1 : empty;
}

#endif
