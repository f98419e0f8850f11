/* xnv-probe: number parsing, the clock and the bookkeeping of watch events
 * (keys themselves through xnv/xs.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "probe.h"

uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

int parse_uint(const char *s, unsigned long max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max || s[0] == '-')
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

int parse_uint_list(const char *s, uint32_t *out, unsigned max)
{
    unsigned n = 0;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || v > 0xffffffffu || n == max || (*end && *end != ' '))
            return -1;
        out[n++] = (uint32_t)v;
        s = end;
    }
    return (int)n;
}

/* ---- watches ------------------------------------------------------------ */

void ws_init(struct watch_set *ws, struct xnv_hv *hv)
{
    memset(ws, 0, sizeof *ws);
    ws->hv = hv;
}

int ws_add(struct watch_set *ws, const char *path, const char *token)
{
    if (ws->n == PROBE_MAX_WATCHES)
        return -ENOSPC;
    unsigned i = ws->n;
    snprintf(ws->w[i].path, sizeof ws->w[i].path, "%s", path);
    snprintf(ws->w[i].token, sizeof ws->w[i].token, "%s", token);
    ws->w[i].fired = 0;
    int rc = xnv_xs_watch(ws->hv, path, token);
    if (rc == 0)
        ws->n++;
    return rc;
}

static int ws_find(const struct watch_set *ws, const char *token)
{
    for (unsigned i = 0; i < ws->n; i++)
        if (!strcmp(ws->w[i].token, token))
            return (int)i;
    return -1;
}

unsigned ws_fired(const struct watch_set *ws, const char *token)
{
    int i = ws_find(ws, token);
    return i < 0 ? 0 : ws->w[i].fired;
}

const char *ws_last_path(const struct watch_set *ws, const char *token)
{
    int i = ws_find(ws, token);
    return i < 0 ? "" : ws->w[i].last_path;
}

void ws_drain(struct watch_set *ws)
{
    char **ev;
    while ((ev = xnv_xs_read_watch(ws->hv)) != NULL) {
        int i = ws_find(ws, ev[XS_WATCH_TOKEN]);
        if (i >= 0) {
            ws->w[i].fired++;
            snprintf(ws->w[i].last_path, sizeof ws->w[i].last_path, "%s", ev[XS_WATCH_PATH]);
        }
        free(ev);
    }
}

int ws_wait(struct watch_set *ws, int extra_fd, unsigned timeout_ms,
            bool (*cond)(void *arg), void *arg)
{
    uint64_t deadline = now_ms() + timeout_ms;
    int wfd = xnv_xs_watch_fd(ws->hv);
    for (;;) {
        ws_drain(ws);
        if (cond(arg))
            return 0;
        uint64_t now = now_ms();
        if (now >= deadline)
            return -ETIMEDOUT;
        uint64_t slice = deadline - now < 200 ? deadline - now : 200;
        struct pollfd p[2] = { { .fd = wfd, .events = POLLIN },
                               { .fd = extra_fd, .events = POLLIN } };
        poll(p, extra_fd >= 0 ? 2 : 1, (int)slice);
    }
}

void ws_remove_all(struct watch_set *ws)
{
    for (unsigned i = 0; i < ws->n; i++)
        xnv_xs_unwatch(ws->hv, ws->w[i].path, ws->w[i].token);
    ws_drain(ws);
    ws->n = 0;
}
