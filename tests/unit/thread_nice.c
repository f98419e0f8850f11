/* See thread_nice.h. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "thread_nice.h"

unsigned threads_at_nice(const char *prefix, int nice_value)
{
    unsigned found = 0;
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], stat[512];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        /* pid (comm) state ppid ... : nice is field 19, the 17th after ") " */
        char *open = strchr(stat, '('), *close = strrchr(stat, ')');
        if (!open || !close || strncmp(open + 1, prefix, strlen(prefix)) != 0)
            continue;
        char *p = close + 2;
        for (int field = 3; field < 19 && p; field++)
            p = (p = strchr(p, ' ')) ? p + 1 : NULL;
        if (p && atoi(p) == nice_value)
            found++;
    }
    closedir(d);
    return found;
}

unsigned wait_threads_at_nice(const char *prefix, int nice_value, unsigned want, unsigned ms)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ms && (n = threads_at_nice(prefix, nice_value)) < want; i++)
        usleep(1000);
    return n;
}
