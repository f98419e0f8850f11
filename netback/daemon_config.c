/* xnv-netbackd's configuration file: `key = value` lines, `#` comments.
 * See xnv/netbackd_config.h for the contract and xnv-netbackd.conf(5) for
 * the format as operators read it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include "xnv/netbackd_config.h"

#define IFNAME_MAX 15   /* a Linux interface name: IFNAMSIZ - 1 bytes */

static const struct {
    unsigned bit;
    const char *name;
} keys[] = {
    { XNV_NBD_MAX_QUEUES, "max-queues" },
    { XNV_NBD_STALL_TIMEOUT, "stall-timeout-ms" },
    { XNV_NBD_RX_QUEUE_FRAMES, "rx-queue-frames" },
    { XNV_NBD_FASTPATH_BRIDGES, "fastpath-bridges" },
    { XNV_NBD_CHANNEL_BRIDGES, "channel-bridges" },
    { XNV_NBD_CONTROL_SOCKET, "control-socket" },
    { XNV_NBD_CLOSE_ON_EXIT, "close-on-exit" },
    { XNV_NBD_LOG_LEVEL, "log-level" },
    { XNV_NBD_SYSLOG, "syslog" },
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct {
    int level;
    const char *name;
} levels[] = {
    { LOG_ERR, "err" }, { LOG_WARNING, "warning" }, { LOG_INFO, "info" }, { LOG_DEBUG, "debug" },
};

void xnv_netbackd_config_default(struct xnv_netbackd_config *c)
{
    struct xnv_netback_config e;
    xnv_netback_config_default(&e);
    *c = (struct xnv_netbackd_config){
        .max_queues = e.max_queues,
        .stall_timeout_ms = e.stall_timeout_ms,
        .rx_queue_frames = e.rx_queue_frames,
        .log_level = LOG_INFO,
    };
    snprintf(c->fastpath_bridges, sizeof c->fastpath_bridges, "%s",
             e.fastpath_bridges ? e.fastpath_bridges : "");
    snprintf(c->control_socket, sizeof c->control_socket, "%s", XNV_CONTROL_DEFAULT);
}

const char *xnv_netbackd_key_name(unsigned key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].bit == key)
            return keys[i].name;
    return NULL;
}

const char *xnv_netbackd_log_level_name(int level)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return NULL;
}

/* ---- values ------------------------------------------------------------- */

static int bad(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

/* Decimal digits only: no sign, no blanks, no other base. */
static int set_number(unsigned *out, const char *v, unsigned lo, unsigned hi, const char *unit,
                      char *why, size_t whylen)
{
    unsigned long long n = 0;
    const char *p = v;
    for (; *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (unsigned)(*p - '0');
        if (n > hi)
            break;
    }
    if (p == v || *p != '\0' || n < lo || n > hi)
        return bad(why, whylen, "must be a number from %u to %u%s, not \"%.40s\"", lo, hi, unit, v);
    *out = (unsigned)n;
    return 0;
}

static int set_bool(bool *out, const char *v, char *why, size_t whylen)
{
    if (!strcmp(v, "yes"))
        *out = true;
    else if (!strcmp(v, "no"))
        *out = false;
    else
        return bad(why, whylen, "must be \"yes\" or \"no\", not \"%.40s\"", v);
    return 0;
}

static int set_level(int *out, const char *v, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (!strcmp(v, levels[i].name)) {
            *out = levels[i].level;
            return 0;
        }
    return bad(why, whylen, "must be err, warning, info or debug, not \"%.40s\"", v);
}

static bool is_blank(char ch) { return ch == ' ' || ch == '\t'; }

/* Names separated by commas, blanks allowed around them; each a valid Linux
 * interface name.  Stored joined by single commas.  Empty: none. */
static int set_bridges(char *out, size_t outlen, const char *v, char *why, size_t whylen)
{
    char buf[XNV_NETBACKD_FASTPATH_MAX];
    size_t used = 0;
    buf[0] = '\0';
    if (*v == '\0') {
        out[0] = '\0';
        return 0;
    }
    for (const char *p = v;;) {
        while (is_blank(*p))
            p++;
        size_t k = strcspn(p, ",");
        size_t n = k;
        while (n > 0 && is_blank(p[n - 1]))
            n--;
        if (n == 0)
            return bad(why, whylen, "empty bridge name in \"%.60s\"", v);
        if (n > IFNAME_MAX)
            return bad(why, whylen, "\"%.*s\" is longer than %u bytes, the longest interface name",
                       (int)(n > 40 ? 40 : n), p, IFNAME_MAX);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)p[i];
            /* xl.cfg quotes its values; this file takes them as written,
             * and a quoted name would never match a vif's bridge */
            if (ch == '"' || ch == '\'')
                return bad(why, whylen, "%.*s: no quotes here, the names are taken as written (%s)",
                           (int)(n > 40 ? 40 : n), p, "as in: xenbr0,xenbr1");
            if (ch == '/' || ch == ':' || ch <= ' ' || ch == 0x7f)
                return bad(why, whylen, "\"%.*s\" is not an interface name (no blanks, '/' or ':')",
                           (int)n, p);
        }
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return bad(why, whylen, "\"%.*s\" is not an interface name", (int)n, p);
        if (used + (used > 0) + n + 1 > sizeof buf)
            return bad(why, whylen, "the list is longer than %u bytes", XNV_NETBACKD_FASTPATH_MAX - 1);
        if (used > 0)
            buf[used++] = ',';
        memcpy(buf + used, p, n);
        used += n;
        buf[used] = '\0';
        if (p[k] == '\0')
            break;
        p += k + 1;
    }
    snprintf(out, outlen, "%s", buf);
    return 0;
}

static int set_socket(char *out, size_t outlen, const char *v, char *why, size_t whylen)
{
    if (v[0] != '/')
        return bad(why, whylen, "must be an absolute path, not \"%.60s\"", v);
    if (strlen(v) >= outlen)
        return bad(why, whylen, "the path is longer than %zu bytes, the most a socket address holds",
                   outlen - 1);
    size_t n = strlen(v);
    if (v[n - 1] == '/')
        return bad(why, whylen, "\"%.60s\" names a directory, not a socket", v);
    snprintf(out, outlen, "%s", v);
    return 0;
}

int xnv_netbackd_config_set(struct xnv_netbackd_config *c, const char *key, const char *value,
                            char *why, size_t whylen)
{
    unsigned bit = 0;
    for (size_t i = 0; i < NKEYS && !bit; i++)
        if (!strcmp(key, keys[i].name))
            bit = keys[i].bit;
    if (!bit) {
        bad(why, whylen, "unknown key");
        return -ENOENT;
    }
    if (*value == '\0' && bit != XNV_NBD_FASTPATH_BRIDGES && bit != XNV_NBD_CHANNEL_BRIDGES)
        return bad(why, whylen, "missing value");
    int rc = 0;
    switch (bit) {
    case XNV_NBD_MAX_QUEUES:
        rc = set_number(&c->max_queues, value, 1, XNV_NBD_MAX_QUEUES_MAX, "", why, whylen);
        break;
    case XNV_NBD_STALL_TIMEOUT:
        rc = set_number(&c->stall_timeout_ms, value, XNV_NBD_STALL_TIMEOUT_MIN, XNV_NBD_STALL_TIMEOUT_MAX,
                        " (milliseconds)", why, whylen);
        break;
    case XNV_NBD_RX_QUEUE_FRAMES:
        rc = set_number(&c->rx_queue_frames, value, 1, XNV_NBD_RX_QUEUE_FRAMES_MAX, "", why, whylen);
        break;
    case XNV_NBD_FASTPATH_BRIDGES:
        rc = set_bridges(c->fastpath_bridges, sizeof c->fastpath_bridges, value, why, whylen);
        break;
    case XNV_NBD_CHANNEL_BRIDGES:
        rc = set_bridges(c->channel_bridges, sizeof c->channel_bridges, value, why, whylen);
        break;
    case XNV_NBD_CONTROL_SOCKET:
        rc = set_socket(c->control_socket, sizeof c->control_socket, value, why, whylen);
        break;
    case XNV_NBD_CLOSE_ON_EXIT: rc = set_bool(&c->close_on_exit, value, why, whylen); break;
    case XNV_NBD_LOG_LEVEL: rc = set_level(&c->log_level, value, why, whylen); break;
    case XNV_NBD_SYSLOG: rc = set_bool(&c->syslog, value, why, whylen); break;
    }
    if (rc)
        return rc;
    c->set |= bit;
    return (int)bit;
}

/* ---- the file ------------------------------------------------------------ */

struct parser {
    const char *name;
    xnv_netbackd_report_fn report;
    void *arg;
    int errors;
};

static void error_at(struct parser *ps, unsigned line, const char *fmt, ...)
{
    char msg[512];
    int n = snprintf(msg, sizeof msg, "%s:%u: ", ps->name, line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof msg)
        vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    ps->errors++;
    if (!ps->report)
        return;
    if (ps->errors <= XNV_NETBACKD_MAX_ERRORS)
        ps->report(ps->arg, msg);
    if (ps->errors == XNV_NETBACKD_MAX_ERRORS + 1) {
        snprintf(msg, sizeof msg, "%s:%u: too many errors; not reporting the rest", ps->name, line);
        ps->report(ps->arg, msg);
    }
}

static void known_keys(char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < NKEYS && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* One line without its newline: trim, drop the comment, split at '='. */
static void parse_line(struct parser *ps, struct xnv_netbackd_config *c, unsigned lineno, char *s,
                       unsigned *seen_on)
{
    for (char *p = s; *p; p++) {
        /* A '#' opens a comment at the start of the line or after a blank;
         * elsewhere it belongs to the value. */
        if (*p == '#' && (p == s || is_blank(p[-1]))) {
            *p = '\0';
            break;
        }
    }
    while (is_blank(*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    if (n == 0)
        return;
    char *eq = strchr(s, '=');
    if (!eq) {
        error_at(ps, lineno, "expected \"key = value\", found \"%.60s\" (no '=')", s);
        return;
    }
    char *value = eq + 1;
    while (is_blank(*value))
        value++;
    char *kend = eq;
    while (kend > s && is_blank(kend[-1]))
        kend--;
    *kend = '\0';
    if (*s == '\0') {
        error_at(ps, lineno, "missing key before '='");
        return;
    }
    char why[256];
    int rc = xnv_netbackd_config_set(c, s, value, why, sizeof why);
    if (rc == -ENOENT) {
        char list[256];
        known_keys(list, sizeof list);
        error_at(ps, lineno, "unknown key \"%.40s\" (keys: %s)", s, list);
        return;
    }
    if (rc < 0) {
        error_at(ps, lineno, "%s: %s", s, why);
        return;
    }
    unsigned idx = (unsigned)__builtin_ctz((unsigned)rc);
    if (seen_on[idx]) {
        error_at(ps, lineno, "%s: already set on line %u", s, seen_on[idx]);
        return;
    }
    seen_on[idx] = lineno;
}

int xnv_netbackd_config_parse(struct xnv_netbackd_config *c, const char *name, const char *text,
                              size_t len, xnv_netbackd_report_fn report, void *arg)
{
    struct parser ps = { .name = name ? name : "(config)", .report = report, .arg = arg };
    struct xnv_netbackd_config work = *c;
    unsigned seen_on[NKEYS] = { 0 };
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        lineno++;
        /* A carriage return ending the line (a file written on Windows). */
        size_t body = n > 0 && text[pos + n - 1] == '\r' ? n - 1 : n;
        size_t bad_at = body;
        for (size_t i = 0; i < body; i++) {
            unsigned char ch = (unsigned char)text[pos + i];
            if ((ch < ' ' && ch != '\t') || ch == 0x7f) {
                bad_at = i;
                break;
            }
        }
        if (bad_at < body) {
            error_at(&ps, lineno, "control character 0x%02x at column %zu", (unsigned char)text[pos + bad_at],
                     bad_at + 1);
        } else {
            if (body + 1 > cap) {
                char *l = realloc(line, body + 1);
                if (!l) {
                    error_at(&ps, lineno, "out of memory");
                    break;
                }
                line = l;
                cap = body + 1;
            }
            memcpy(line, text + pos, body);
            line[body] = '\0';
            parse_line(&ps, &work, lineno, line, seen_on);
        }
        pos = end + 1;
    }
    free(line);
    if (ps.errors == 0)
        *c = work;
    return ps.errors;
}

int xnv_netbackd_config_load(struct xnv_netbackd_config *c, const char *path,
                             xnv_netbackd_report_fn report, void *arg)
{
    char msg[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(msg, sizeof msg, "%s: cannot read: %s", path, strerror(e));
        if (report)
            report(arg, msg);
        return -e;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            if (cap >= XNV_NETBACKD_FILE_MAX + 1) {
                rc = -EFBIG;
                break;
            }
            size_t ncap = cap * 2 > XNV_NETBACKD_FILE_MAX + 1 ? XNV_NETBACKD_FILE_MAX + 1 : cap * 2;
            char *b = realloc(buf, ncap);
            if (!b) {
                rc = -ENOMEM;
                break;
            }
            buf = b;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            break;
        else
            len += (size_t)n;
    }
    close(fd);
    if (rc == 0 && len > XNV_NETBACKD_FILE_MAX)
        rc = -EFBIG;
    if (rc) {
        if (rc == -EFBIG)
            snprintf(msg, sizeof msg, "%s: cannot read: larger than %u bytes; is it the right file?", path,
                     XNV_NETBACKD_FILE_MAX);
        else
            snprintf(msg, sizeof msg, "%s: cannot read: %s", path, strerror(-rc));
        if (report)
            report(arg, msg);
        free(buf);
        return rc;
    }
    rc = xnv_netbackd_config_parse(c, path, buf, len, report, arg);
    free(buf);
    return rc;
}

/* ---- comparing and combining -------------------------------------------- */

void xnv_netbackd_config_merge(struct xnv_netbackd_config *dst, const struct xnv_netbackd_config *src,
                               unsigned mask)
{
    if (mask & XNV_NBD_MAX_QUEUES)
        dst->max_queues = src->max_queues;
    if (mask & XNV_NBD_STALL_TIMEOUT)
        dst->stall_timeout_ms = src->stall_timeout_ms;
    if (mask & XNV_NBD_RX_QUEUE_FRAMES)
        dst->rx_queue_frames = src->rx_queue_frames;
    if (mask & XNV_NBD_FASTPATH_BRIDGES)
        memcpy(dst->fastpath_bridges, src->fastpath_bridges, sizeof dst->fastpath_bridges);
    if (mask & XNV_NBD_CHANNEL_BRIDGES)
        memcpy(dst->channel_bridges, src->channel_bridges, sizeof dst->channel_bridges);
    if (mask & XNV_NBD_CONTROL_SOCKET)
        memcpy(dst->control_socket, src->control_socket, sizeof dst->control_socket);
    if (mask & XNV_NBD_CLOSE_ON_EXIT)
        dst->close_on_exit = src->close_on_exit;
    if (mask & XNV_NBD_LOG_LEVEL)
        dst->log_level = src->log_level;
    if (mask & XNV_NBD_SYSLOG)
        dst->syslog = src->syslog;
    dst->set |= mask & XNV_NBD_ALL_KEYS;
}

unsigned xnv_netbackd_config_diff(const struct xnv_netbackd_config *a, const struct xnv_netbackd_config *b)
{
    unsigned d = 0;
    if (a->max_queues != b->max_queues)
        d |= XNV_NBD_MAX_QUEUES;
    if (a->stall_timeout_ms != b->stall_timeout_ms)
        d |= XNV_NBD_STALL_TIMEOUT;
    if (a->rx_queue_frames != b->rx_queue_frames)
        d |= XNV_NBD_RX_QUEUE_FRAMES;
    if (strcmp(a->fastpath_bridges, b->fastpath_bridges))
        d |= XNV_NBD_FASTPATH_BRIDGES;
    if (strcmp(a->channel_bridges, b->channel_bridges))
        d |= XNV_NBD_CHANNEL_BRIDGES;
    if (strcmp(a->control_socket, b->control_socket))
        d |= XNV_NBD_CONTROL_SOCKET;
    if (a->close_on_exit != b->close_on_exit)
        d |= XNV_NBD_CLOSE_ON_EXIT;
    if (a->log_level != b->log_level)
        d |= XNV_NBD_LOG_LEVEL;
    if (a->syslog != b->syslog)
        d |= XNV_NBD_SYSLOG;
    return d;
}

void xnv_netbackd_config_format(const struct xnv_netbackd_config *c, unsigned key, char *buf, size_t len)
{
    const char *name;
    switch (key) {
    case XNV_NBD_MAX_QUEUES: snprintf(buf, len, "%u", c->max_queues); break;
    case XNV_NBD_STALL_TIMEOUT: snprintf(buf, len, "%u", c->stall_timeout_ms); break;
    case XNV_NBD_RX_QUEUE_FRAMES: snprintf(buf, len, "%u", c->rx_queue_frames); break;
    case XNV_NBD_FASTPATH_BRIDGES: snprintf(buf, len, "%s", c->fastpath_bridges); break;
    case XNV_NBD_CHANNEL_BRIDGES: snprintf(buf, len, "%s", c->channel_bridges); break;
    case XNV_NBD_CONTROL_SOCKET: snprintf(buf, len, "%s", c->control_socket); break;
    case XNV_NBD_CLOSE_ON_EXIT: snprintf(buf, len, "%s", c->close_on_exit ? "yes" : "no"); break;
    case XNV_NBD_LOG_LEVEL:
        name = xnv_netbackd_log_level_name(c->log_level);
        if (name)
            snprintf(buf, len, "%s", name);
        else
            snprintf(buf, len, "%d", c->log_level);
        break;
    case XNV_NBD_SYSLOG: snprintf(buf, len, "%s", c->syslog ? "yes" : "no"); break;
    default: snprintf(buf, len, "?"); break;
    }
}

void xnv_netbackd_config_engine(const struct xnv_netbackd_config *c, struct xnv_netback_config *e)
{
    e->max_queues = c->max_queues;
    e->stall_timeout_ms = c->stall_timeout_ms;
    e->rx_queue_frames = c->rx_queue_frames;
    e->fastpath_bridges = c->fastpath_bridges;
    e->channel_bridges = c->channel_bridges;
}
