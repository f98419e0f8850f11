/* How often the control plane looks at one guest's device: a token bucket
 * of looks, pure so that the tests drive its clock. */
#include "nb.h"

bool nb_budget_take(struct nb_budget *b, uint64_t now_ms, unsigned burst, unsigned per_s, uint64_t *wait_ms)
{
    if (per_s == 0)
        return true;
    uint64_t unit = 1000;                   /* one look, in thousandths */
    uint64_t cap = (uint64_t)burst * unit;
    if (!b->primed) {
        b->primed = true;
        b->milli = cap;
        b->at_ms = now_ms;
    }
    if (now_ms > b->at_ms) {
        uint64_t add = (now_ms - b->at_ms) * per_s;     /* ms x looks/s = thousandths */
        b->milli = b->milli + add > cap ? cap : b->milli + add;
        b->at_ms = now_ms;
    }
    if (b->milli >= unit) {
        b->milli -= unit;
        return true;
    }
    *wait_ms = (unit - b->milli + per_s - 1) / per_s;
    return false;
}
