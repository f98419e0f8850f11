/* The `rate` limit: a token bucket refilled every period (libxl's
 * "<bytes>,<usec>"), applied to what the guest transmits. */
#include "nb.h"

void nb_credit_init(struct nb_credit *c, uint64_t bytes, uint64_t usec)
{
    c->bytes_per_period = bytes;
    c->period_ns = usec * 1000u;
    c->remaining = bytes;
    c->next_refill_ns = 0;
}

bool nb_credit_take(struct nb_credit *c, uint32_t len, struct nb_clock *now, uint64_t *wait_ns)
{
    if (c->bytes_per_period == 0)
        return true;
    uint64_t now_ns = nb_clock_now(now);
    if (now_ns >= c->next_refill_ns) {
        c->remaining = c->bytes_per_period;
        c->next_refill_ns = now_ns + c->period_ns;
    }
    /* A packet larger than a whole period's credit still passes once the
     * bucket is full, so that a low rate never blocks big frames forever. */
    if (c->remaining >= len || c->remaining == c->bytes_per_period) {
        c->remaining = c->remaining >= len ? c->remaining - len : 0;
        return true;
    }
    *wait_ns = c->next_refill_ns - now_ns;
    return false;
}
