/* The threads of this process by name and nice value (/proc/self/task),
 * for the tests that data-path threads run ahead of ordinary processes. */
#ifndef XNV_TEST_THREAD_NICE_H
#define XNV_TEST_THREAD_NICE_H

/* Threads whose name starts with prefix and whose nice value is nice_value. */
unsigned threads_at_nice(const char *prefix, int nice_value);
/* Poll up to ms milliseconds until at least want such threads are there
 * (threads name themselves and set their nice value as they start). */
unsigned wait_threads_at_nice(const char *prefix, int nice_value, unsigned want, unsigned ms);

#endif
