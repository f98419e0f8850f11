/* xnv-probe: the report, one line per check. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "probe.h"

void report_init(struct probe_report *r, const char *role)
{
    memset(r, 0, sizeof *r);
    r->role = role;
}

static void note_failure(struct probe_report *r, const char *name)
{
    size_t used = strlen(r->failed), need = strlen(name) + 1;
    if (used + need + 1 > sizeof r->failed)
        return;
    if (used)
        r->failed[used++] = ',';
    memcpy(r->failed + used, name, need);
}

bool check(struct probe_report *r, bool ok, const char *name, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (ok)
        r->n_pass++;
    else {
        r->n_fail++;
        note_failure(r, name);
    }
    report_line(r->role, "%s %s %s", name, ok ? "PASS" : "FAIL", detail);
    return ok;
}

int report_result(const struct probe_report *r)
{
    bool ok = r->n_fail == 0 && r->n_pass > 0;
    report_line(r->role, "RESULT %s n_pass=%u n_fail=%u", ok ? "PASS" : "FAIL",
                r->n_pass, r->n_fail);
    return ok ? PROBE_EXIT_PASS : PROBE_EXIT_FAIL;
}

/* One whole line per call, flushed at once: several roles may print from
 * their own threads, and a console log must not lose the tail on a hang. */
void report_line(const char *role, const char *fmt, ...)
{
    char body[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    flockfile(stdout);
    printf("XNV-PROBE %s %s\n", role, body);
    fflush(stdout);
    funlockfile(stdout);
}
