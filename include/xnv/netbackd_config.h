/* The configuration of xnv-netbackd: its file (/etc/xnv/netbackd.conf, the
 * format is in xnv-netbackd.conf(5)) and the command-line options that
 * override it.
 *
 * The file holds `key = value` lines and `#` comments.  Reading is strict:
 * an unknown key, a bad value, a line without '=' or a key given twice is an
 * error reported as "FILE:LINE: message", and nothing of the file is used.
 *
 * xnv_netbackd_config_parse() is a pure function over a string (what the
 * unit tests feed); xnv_netbackd_config_load() reads a file and hands its
 * text over.  One setter, xnv_netbackd_config_set(), checks every value, so
 * that a key and its command-line option accept exactly the same things. */
#ifndef XNV_NETBACKD_CONFIG_H
#define XNV_NETBACKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include "xnv/netback.h"

#define XNV_NETBACKD_CONFIG_PATH "/etc/xnv/netbackd.conf"

/* Bytes (NUL included) of the normalised fastpath-bridges list. */
#define XNV_NETBACKD_FASTPATH_MAX 512
/* Bytes (NUL included) of the control socket's path: a sockaddr_un's sun_path. */
#define XNV_NETBACKD_SOCKET_MAX 108
/* Longest file xnv_netbackd_config_load() reads. */
#define XNV_NETBACKD_FILE_MAX (1u << 20)
/* xnv_netbackd_config_parse() stops reporting after this many errors. */
#define XNV_NETBACKD_MAX_ERRORS 20

/* One bit per key, in the order of the file format's documentation. */
enum xnv_netbackd_key {
    XNV_NBD_MAX_QUEUES       = 1u << 0,   /* max-queues */
    XNV_NBD_STALL_TIMEOUT    = 1u << 1,   /* stall-timeout-ms */
    XNV_NBD_RX_QUEUE_FRAMES  = 1u << 2,   /* rx-queue-frames */
    XNV_NBD_FASTPATH_BRIDGES = 1u << 3,   /* fastpath-bridges */
    XNV_NBD_CONTROL_SOCKET   = 1u << 4,   /* control-socket */
    XNV_NBD_CLOSE_ON_EXIT    = 1u << 5,   /* close-on-exit */
    XNV_NBD_LOG_LEVEL        = 1u << 6,   /* log-level */
    XNV_NBD_SYSLOG           = 1u << 7,   /* syslog */
    XNV_NBD_CHANNEL_BRIDGES  = 1u << 8,   /* channel-bridges (listed after fastpath-bridges) */
};
#define XNV_NBD_ALL_KEYS 0x1ffu

/* Limits of the numeric keys (the same as the command-line options'). */
#define XNV_NBD_MAX_QUEUES_MAX      16u
#define XNV_NBD_STALL_TIMEOUT_MIN   100u
#define XNV_NBD_STALL_TIMEOUT_MAX   3600000u
#define XNV_NBD_RX_QUEUE_FRAMES_MAX 65536u

struct xnv_netbackd_config {
    /* The engine's settings (struct xnv_netback_config). */
    unsigned max_queues;
    unsigned stall_timeout_ms;
    unsigned rx_queue_frames;
    /* "" for none, else bridge names joined by single commas. */
    char fastpath_bridges[XNV_NETBACKD_FASTPATH_MAX];
    char channel_bridges[XNV_NETBACKD_FASTPATH_MAX];   /* same form */
    /* The daemon's own. */
    char control_socket[XNV_NETBACKD_SOCKET_MAX];
    bool close_on_exit;
    int log_level;                /* LOG_ERR, LOG_WARNING, LOG_INFO or LOG_DEBUG */
    bool syslog;
    /* XNV_NBD_* keys given since xnv_netbackd_config_default(). */
    unsigned set;
};

/* The built-in values: those of xnv_netback_config_default(), the control
 * socket XNV_CONTROL_DEFAULT, devices left open on exit, log level info,
 * standard error; no key set. */
void xnv_netbackd_config_default(struct xnv_netbackd_config *c);

/* Set one key from its textual value (surrounding blanks are the caller's
 * to remove).  Returns the key's XNV_NBD_* bit, also added to c->set;
 * -ENOENT for an unknown key; -EINVAL with the reason in why (no key name
 * in it, e.g. "must be a number from 1 to 16, not \"20\"") for a bad value,
 * c unchanged. */
int xnv_netbackd_config_set(struct xnv_netbackd_config *c, const char *key, const char *value,
                            char *why, size_t whylen);

/* Receives each error message (one line, no newline). */
typedef void (*xnv_netbackd_report_fn)(void *arg, const char *msg);

/* Parse len bytes of text named name (a path, used in the messages
 * "name:LINE: ...") over *c.  Returns the number of errors, each passed to
 * report (which may be NULL) up to XNV_NETBACKD_MAX_ERRORS of them; *c is
 * changed only when there is none. */
int xnv_netbackd_config_parse(struct xnv_netbackd_config *c, const char *name, const char *text,
                              size_t len, xnv_netbackd_report_fn report, void *arg);

/* Read the file at path and parse it over *c.  Returns 0, the number of
 * errors in the file, or -errno when it cannot be read (reported as
 * "path: cannot read: reason"); *c is changed only on 0. */
int xnv_netbackd_config_load(struct xnv_netbackd_config *c, const char *path,
                             xnv_netbackd_report_fn report, void *arg);

/* Copy the keys in mask from src to dst (dst->set gains them). */
void xnv_netbackd_config_merge(struct xnv_netbackd_config *dst, const struct xnv_netbackd_config *src,
                               unsigned mask);
/* The keys whose values differ between a and b. */
unsigned xnv_netbackd_config_diff(const struct xnv_netbackd_config *a, const struct xnv_netbackd_config *b);

/* A key's name ("max-queues") from its single bit; NULL if not a key. */
const char *xnv_netbackd_key_name(unsigned key);
/* A key's value as the file would write it (what _set accepts back). */
void xnv_netbackd_config_format(const struct xnv_netbackd_config *c, unsigned key, char *buf, size_t len);
/* "err", "warning", "info", "debug"; NULL for another level. */
const char *xnv_netbackd_log_level_name(int level);

/* Fill the engine's settings.  e->fastpath_bridges and e->channel_bridges point into c, which must
 * outlive the engine; the other members of e are left as they were. */
void xnv_netbackd_config_engine(const struct xnv_netbackd_config *c, struct xnv_netback_config *e);

#endif
