/* A forked child's output, for tests of what a program or a crash says. */
#ifndef XNV_TEST_CHILD_OUTPUT_H
#define XNV_TEST_CHILD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/* Run body(arg) in a forked child (it _exit(0)s if body returns) with its
 * stderr, and its stdout too when with_stdout, into out (NUL-terminated, at
 * most cap - 1 bytes); returns the child's wait status. */
int child_output(void (*body)(void *arg), void *arg, bool with_stdout, char *out, size_t cap);

#endif
