/* Statistics counters: added to by data-path threads (sometimes by more
 * than one: the switch fast path adds to another vif's receive counters),
 * read by the control plane from any thread.  Relaxed: a counter orders
 * nothing. */
#ifndef XNV_COUNTER_H
#define XNV_COUNTER_H

#define XNV_STAT_ADD(counter, n) __atomic_fetch_add(&(counter), (n), __ATOMIC_RELAXED)

#endif
