/* What this process holds right now, as the kernel counts it: resident
 * memory, threads, open file descriptors.  Resident memory is the anonymous
 * part (what malloc, stacks and the like use); the simulated domains' pages
 * are shared memory, counted apart. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include "density.h"

void self_usage(struct self_usage *u)
{
    memset(u, 0, sizeof *u);
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            long v;
            if (sscanf(line, "RssAnon: %ld kB", &v) == 1)
                u->rss_kib = v;
            else if (sscanf(line, "RssShmem: %ld kB", &v) == 1)
                u->shmem_kib = v;
            else if (sscanf(line, "Threads: %ld", &v) == 1)
                u->threads = v;
        }
        fclose(f);
    }
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                u->fds++;
        closedir(d);
        u->fds--;    /* the directory's own descriptor */
    }
}
