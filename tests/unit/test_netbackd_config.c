/* xnv-netbackd's configuration file: the parser over strings (valid files,
 * every kind of bad line with its message and line number), the setter the
 * command-line options share, merging and comparing, and the file reader. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <xen/io/xenbus.h>
#include "nb_harness.h"
#include "ring_fixture.h"
#include "xnv/netbackd_config.h"

/* Collects the reported messages, one per line. */
struct msgs {
    char text[8192];
    unsigned n;
};

static void collect(void *arg, const char *msg)
{
    struct msgs *m = arg;
    size_t used = strlen(m->text);
    snprintf(m->text + used, sizeof m->text - used, "%s\n", msg);
    m->n++;
}

/* Parse text over defaults; returns the error count, messages in *m. */
static int parse(const char *text, struct xnv_netbackd_config *c, struct msgs *m)
{
    xnv_netbackd_config_default(c);
    memset(m, 0, sizeof *m);
    return xnv_netbackd_config_parse(c, "t.conf", text, strlen(text), collect, m);
}

/* One bad line: exactly one error, with this message; the config unchanged. */
static void expect_one(const char *text, const char *message)
{
    struct xnv_netbackd_config c, d;
    struct msgs m;
    int n = parse(text, &c, &m);
    ck_assert_msg(n == 1, "%d errors for <%s>: %s", n, text, m.text);
    ck_assert_uint_eq(m.n, 1);
    char want[1024];
    snprintf(want, sizeof want, "%s\n", message);
    ck_assert_str_eq(m.text, want);
    xnv_netbackd_config_default(&d);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&c, &d), 0);
    ck_assert_uint_eq(c.set, 0);
}

START_TEST(defaults_match_the_engine)
{
    struct xnv_netbackd_config c;
    struct xnv_netback_config e;
    xnv_netbackd_config_default(&c);
    xnv_netback_config_default(&e);
    ck_assert_uint_eq(c.max_queues, e.max_queues);
    ck_assert_uint_eq(c.stall_timeout_ms, e.stall_timeout_ms);
    ck_assert_uint_eq(c.rx_queue_frames, e.rx_queue_frames);
    ck_assert_str_eq(c.fastpath_bridges, "");
    ck_assert_str_eq(c.control_socket, XNV_CONTROL_DEFAULT);
    ck_assert(!c.close_on_exit);
    ck_assert(!c.syslog);
    ck_assert_int_eq(c.log_level, LOG_INFO);
    ck_assert_uint_eq(c.set, 0);
}
END_TEST

START_TEST(valid_file_sets_every_key)
{
    const char *text =
        "# xnv-netbackd test configuration\n"
        "\n"
        "max-queues = 8\n"
        "   stall-timeout-ms=5000   \n"
        "\trx-queue-frames\t=\t1024\n"
        "fastpath-bridges = xenbr0 , xenbr1,br-lan   # two bridges and a third\n"
        "channel-bridges = xenbr1 ,br-lan\n"
        "control-socket = /run/xnv/alt#1.sock\n"        /* '#' not after a blank: part of the path */
        "close-on-exit = yes\r\n"                        /* CRLF line */
        "     # an indented comment\n"
        "log-level = debug\n"
        "syslog = yes";                                  /* no final newline */
    struct xnv_netbackd_config c;
    struct msgs m;
    ck_assert_int_eq(parse(text, &c, &m), 0);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_uint_eq(c.max_queues, 8);
    ck_assert_uint_eq(c.stall_timeout_ms, 5000);
    ck_assert_uint_eq(c.rx_queue_frames, 1024);
    ck_assert_str_eq(c.fastpath_bridges, "xenbr0,xenbr1,br-lan");
    ck_assert_str_eq(c.channel_bridges, "xenbr1,br-lan");
    ck_assert_str_eq(c.control_socket, "/run/xnv/alt#1.sock");
    ck_assert(c.close_on_exit);
    ck_assert_int_eq(c.log_level, LOG_DEBUG);
    ck_assert(c.syslog);
    ck_assert_uint_eq(c.set, XNV_NBD_ALL_KEYS);

    struct xnv_netback_config e;
    xnv_netback_config_default(&e);
    xnv_netbackd_config_engine(&c, &e);
    ck_assert_uint_eq(e.max_queues, 8);
    ck_assert_uint_eq(e.stall_timeout_ms, 5000);
    ck_assert_uint_eq(e.rx_queue_frames, 1024);
    ck_assert_ptr_eq(e.fastpath_bridges, c.fastpath_bridges);
    ck_assert_ptr_eq(e.channel_bridges, c.channel_bridges);
}
END_TEST

START_TEST(empty_and_comment_only_files)
{
    struct xnv_netbackd_config c, d;
    struct msgs m;
    xnv_netbackd_config_default(&d);
    ck_assert_int_eq(parse("", &c, &m), 0);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&c, &d), 0);
    ck_assert_int_eq(parse("\n\n# nothing\n   \n\t\n#max-queues = 2\n", &c, &m), 0);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&c, &d), 0);
    ck_assert_uint_eq(c.set, 0);
    /* The limits are accepted. */
    ck_assert_int_eq(parse("max-queues = 1\nstall-timeout-ms = 100\nrx-queue-frames = 1\n", &c, &m), 0);
    ck_assert_uint_eq(c.max_queues, 1);
    ck_assert_int_eq(parse("max-queues = 16\nstall-timeout-ms = 3600000\nrx-queue-frames = 65536\n", &c, &m),
                     0);
    ck_assert_uint_eq(c.stall_timeout_ms, 3600000);
    ck_assert_uint_eq(c.rx_queue_frames, 65536);
    /* An empty fastpath-bridges means none; leading zeros are decimal. */
    ck_assert_int_eq(parse("fastpath-bridges =\nmax-queues = 010\n", &c, &m), 0);
    ck_assert_str_eq(c.fastpath_bridges, "");
    ck_assert_uint_eq(c.set, XNV_NBD_FASTPATH_BRIDGES | XNV_NBD_MAX_QUEUES);
    ck_assert_uint_eq(c.max_queues, 10);
}
END_TEST

START_TEST(missing_equals_unknown_key_missing_key)
{
    expect_one("max-queues 4\n", "t.conf:1: expected \"key = value\", found \"max-queues 4\" (no '=')");
    expect_one("# c\n\nsyslog\n", "t.conf:3: expected \"key = value\", found \"syslog\" (no '=')");
    expect_one("\n\ncolour = blue\n",
               "t.conf:3: unknown key \"colour\" (keys: max-queues, stall-timeout-ms, rx-queue-frames, "
               "fastpath-bridges, channel-bridges, control-socket, close-on-exit, log-level, syslog)");
    /* Keys are exact: no case folding, no underscores, no inner blanks. */
    expect_one("Max-Queues = 4\n",
               "t.conf:1: unknown key \"Max-Queues\" (keys: max-queues, stall-timeout-ms, rx-queue-frames, "
               "fastpath-bridges, channel-bridges, control-socket, close-on-exit, log-level, syslog)");
    expect_one("max_queues = 4\n",
               "t.conf:1: unknown key \"max_queues\" (keys: max-queues, stall-timeout-ms, rx-queue-frames, "
               "fastpath-bridges, channel-bridges, control-socket, close-on-exit, log-level, syslog)");
    expect_one("  = 4\n", "t.conf:1: missing key before '='");
    /* A comment swallowing the '=' leaves a line without one. */
    expect_one("max-queues #= 4\n", "t.conf:1: expected \"key = value\", found \"max-queues\" (no '=')");
}
END_TEST

START_TEST(bad_numbers)
{
    expect_one("max-queues = 0\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"0\"");
    expect_one("max-queues = 17\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"17\"");
    expect_one("max-queues = -1\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"-1\"");
    expect_one("max-queues = +4\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"+4\"");
    expect_one("max-queues = 0x4\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"0x4\"");
    expect_one("max-queues = 4 4\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"4 4\"");
    expect_one("max-queues = four\n", "t.conf:1: max-queues: must be a number from 1 to 16, not \"four\"");
    expect_one("max-queues = 99999999999999999999999\n",
               "t.conf:1: max-queues: must be a number from 1 to 16, not \"99999999999999999999999\"");
    expect_one("max-queues =\n", "t.conf:1: max-queues: missing value");
    expect_one("stall-timeout-ms = 99\n",
               "t.conf:1: stall-timeout-ms: must be a number from 100 to 3600000 (milliseconds), not \"99\"");
    expect_one("stall-timeout-ms = 60s\n",
               "t.conf:1: stall-timeout-ms: must be a number from 100 to 3600000 (milliseconds), not \"60s\"");
    expect_one("rx-queue-frames = 0\n", "t.conf:1: rx-queue-frames: must be a number from 1 to 65536, not \"0\"");
    expect_one("rx-queue-frames = 65537\n",
               "t.conf:1: rx-queue-frames: must be a number from 1 to 65536, not \"65537\"");
}
END_TEST

START_TEST(bad_words)
{
    expect_one("close-on-exit = true\n", "t.conf:1: close-on-exit: must be \"yes\" or \"no\", not \"true\"");
    expect_one("syslog = YES\n", "t.conf:1: syslog: must be \"yes\" or \"no\", not \"YES\"");
    expect_one("syslog = 1\n", "t.conf:1: syslog: must be \"yes\" or \"no\", not \"1\"");
    expect_one("syslog =   # nothing\n", "t.conf:1: syslog: missing value");
    expect_one("log-level = verbose\n",
               "t.conf:1: log-level: must be err, warning, info or debug, not \"verbose\"");
    expect_one("log-level = error\n", "t.conf:1: log-level: must be err, warning, info or debug, not \"error\"");
    expect_one("log-level = 7\n", "t.conf:1: log-level: must be err, warning, info or debug, not \"7\"");
}
END_TEST

START_TEST(bad_bridges_and_socket)
{
    expect_one("fastpath-bridges = xenbr0,,xenbr1\n",
               "t.conf:1: fastpath-bridges: empty bridge name in \"xenbr0,,xenbr1\"");
    expect_one("fastpath-bridges = xenbr0,\n", "t.conf:1: fastpath-bridges: empty bridge name in \"xenbr0,\"");
    expect_one("fastpath-bridges = ,\n", "t.conf:1: fastpath-bridges: empty bridge name in \",\"");
    expect_one("fastpath-bridges = xenbr0 xenbr1\n",
               "t.conf:1: fastpath-bridges: \"xenbr0 xenbr1\" is not an interface name (no blanks, '/' or ':')");
    expect_one("fastpath-bridges = br/0\n",
               "t.conf:1: fastpath-bridges: \"br/0\" is not an interface name (no blanks, '/' or ':')");
    expect_one("fastpath-bridges = br:0\n",
               "t.conf:1: fastpath-bridges: \"br:0\" is not an interface name (no blanks, '/' or ':')");
    expect_one("fastpath-bridges = ..\n", "t.conf:1: fastpath-bridges: \"..\" is not an interface name");
    /* quoted as in xl.cfg: it would never match a vif's bridge */
    expect_one("fastpath-bridges = \"xenbr0\"\n", "t.conf:1: fastpath-bridges: \"xenbr0\": no quotes here, the "
               "names are taken as written (as in: xenbr0,xenbr1)");
    expect_one("channel-bridges = xenbr0,'br1'\n", "t.conf:1: channel-bridges: 'br1': no quotes here, the names "
               "are taken as written (as in: xenbr0,xenbr1)");
    expect_one("fastpath-bridges = a-very-long-bridge0\n",
               "t.conf:1: fastpath-bridges: \"a-very-long-bridge0\" is longer than 15 bytes, the longest "
               "interface name");
    /* 15 bytes is a valid name. */
    struct xnv_netbackd_config c;
    struct msgs m;
    ck_assert_int_eq(parse("fastpath-bridges = abcdefghijklmno\n", &c, &m), 0);
    ck_assert_str_eq(c.fastpath_bridges, "abcdefghijklmno");
    /* The list as a whole must fit. */
    char big[2048] = "fastpath-bridges = ";
    for (int i = 0; i < 60; i++)
        strcat(big, i ? ",bridge-number" : "bridge-number");
    strcat(big, "\n");
    expect_one(big, "t.conf:1: fastpath-bridges: the list is longer than 511 bytes");

    expect_one("control-socket = run/xnv.sock\n",
               "t.conf:1: control-socket: must be an absolute path, not \"run/xnv.sock\"");
    expect_one("control-socket = /run/xnv/\n",
               "t.conf:1: control-socket: \"/run/xnv/\" names a directory, not a socket");
    char longpath[256] = "control-socket = /";
    for (int i = 0; i < 110; i++)
        strcat(longpath, "x");
    strcat(longpath, "\n");
    expect_one(longpath, "t.conf:1: control-socket: the path is longer than 107 bytes, the most a socket "
                         "address holds");
}
END_TEST

START_TEST(duplicates_and_control_characters)
{
    expect_one("max-queues = 2\n# again\nmax-queues = 2\n", "t.conf:3: max-queues: already set on line 1");
    expect_one("syslog = no\nlog-level = info\nsyslog = yes\n", "t.conf:3: syslog: already set on line 1");
    expect_one("max-queues = 2\x01\n", "t.conf:1: control character 0x01 at column 15");
    expect_one("\nlog-level = \x1b[1minfo\n", "t.conf:2: control character 0x1b at column 13");
    /* A NUL byte inside the text (the length, not the NUL, ends it). */
    struct xnv_netbackd_config c;
    struct msgs m;
    xnv_netbackd_config_default(&c);
    memset(&m, 0, sizeof m);
    static const char nul[] = "max-queues = 2\nsys\0log = yes\n";
    ck_assert_int_eq(xnv_netbackd_config_parse(&c, "t.conf", nul, sizeof nul - 1, collect, &m), 1);
    ck_assert_str_eq(m.text, "t.conf:2: control character 0x00 at column 4\n");
    ck_assert_uint_eq(c.max_queues, 4);      /* unchanged */
}
END_TEST

START_TEST(every_error_reported_with_its_line_and_nothing_applied)
{
    const char *text =
        "# header\n"
        "max-queues = 2\n"          /* 2: fine, but not applied */
        "max-queues = 20\n"         /* 3 */
        "this line has no equals\n" /* 4 */
        "\n"
        "colour = blue\n"           /* 6 */
        "log-level = debug\n"       /* 7: fine */
        "syslog = maybe\n"          /* 8 */
        "max-queues = 3\n";         /* 9 */
    struct xnv_netbackd_config c;
    struct msgs m;
    ck_assert_int_eq(parse(text, &c, &m), 5);
    ck_assert_str_eq(m.text,
                     "t.conf:3: max-queues: must be a number from 1 to 16, not \"20\"\n"
                     "t.conf:4: expected \"key = value\", found \"this line has no equals\" (no '=')\n"
                     "t.conf:6: unknown key \"colour\" (keys: max-queues, stall-timeout-ms, rx-queue-frames, "
                     "fastpath-bridges, channel-bridges, control-socket, close-on-exit, log-level, syslog)\n"
                     "t.conf:8: syslog: must be \"yes\" or \"no\", not \"maybe\"\n"
                     "t.conf:9: max-queues: already set on line 2\n");
    ck_assert_uint_eq(c.max_queues, 4);
    ck_assert_int_eq(c.log_level, LOG_INFO);
    ck_assert_uint_eq(c.set, 0);
    /* Without a report function the count is still right. */
    xnv_netbackd_config_default(&c);
    ck_assert_int_eq(xnv_netbackd_config_parse(&c, NULL, text, strlen(text), NULL, NULL), 5);
}
END_TEST

START_TEST(too_many_errors_are_cut_short)
{
    char text[4096] = "";
    for (int i = 0; i < 50; i++)
        strcat(text, "nonsense\n");
    struct xnv_netbackd_config c;
    struct msgs m;
    ck_assert_int_eq(parse(text, &c, &m), 50);
    ck_assert_uint_eq(m.n, XNV_NETBACKD_MAX_ERRORS + 1);
    ck_assert_ptr_nonnull(strstr(m.text, "t.conf:20: expected"));
    ck_assert_ptr_null(strstr(m.text, "t.conf:22:"));
    ck_assert_ptr_nonnull(strstr(m.text, "t.conf:21: too many errors; not reporting the rest\n"));
}
END_TEST

START_TEST(setter_is_shared_with_the_options)
{
    struct xnv_netbackd_config c;
    char why[256];
    xnv_netbackd_config_default(&c);
    ck_assert_int_eq(xnv_netbackd_config_set(&c, "max-queues", "3", why, sizeof why), XNV_NBD_MAX_QUEUES);
    ck_assert_uint_eq(c.max_queues, 3);
    ck_assert_int_eq(xnv_netbackd_config_set(&c, "max-queues", "30", why, sizeof why), -EINVAL);
    ck_assert_str_eq(why, "must be a number from 1 to 16, not \"30\"");
    ck_assert_uint_eq(c.max_queues, 3);
    ck_assert_int_eq(xnv_netbackd_config_set(&c, "queues", "3", why, sizeof why), -ENOENT);
    ck_assert_int_eq(xnv_netbackd_config_set(&c, "log-level", "warning", why, sizeof why), XNV_NBD_LOG_LEVEL);
    ck_assert_int_eq(c.log_level, LOG_WARNING);
    ck_assert_int_eq(xnv_netbackd_config_set(&c, "log-level", "err", why, sizeof why), XNV_NBD_LOG_LEVEL);
    ck_assert_int_eq(c.log_level, LOG_ERR);
    ck_assert_uint_eq(c.set, XNV_NBD_MAX_QUEUES | XNV_NBD_LOG_LEVEL);
    ck_assert_str_eq(xnv_netbackd_key_name(XNV_NBD_SYSLOG), "syslog");
    ck_assert_ptr_null(xnv_netbackd_key_name(3));
    ck_assert_ptr_null(xnv_netbackd_log_level_name(LOG_NOTICE));
}
END_TEST

START_TEST(format_round_trips_merge_and_diff)
{
    struct xnv_netbackd_config a, b;
    struct msgs m;
    ck_assert_int_eq(parse("max-queues = 5\nstall-timeout-ms = 250\nrx-queue-frames = 64\n"
                           "fastpath-bridges = xenbr0,xenbr9\ncontrol-socket = /tmp/x.sock\n"
                           "close-on-exit = yes\nlog-level = warning\nsyslog = yes\nchannel-bridges = xenbr9\n", &a, &m), 0);
    /* Every key written out and read back gives the same value. */
    xnv_netbackd_config_default(&b);
    char why[256], val[XNV_NETBACKD_FASTPATH_MAX];
    for (unsigned k = 1; k & XNV_NBD_ALL_KEYS; k <<= 1) {
        xnv_netbackd_config_format(&a, k, val, sizeof val);
        ck_assert_int_eq(xnv_netbackd_config_set(&b, xnv_netbackd_key_name(k), val, why, sizeof why), (int)k);
    }
    ck_assert_uint_eq(xnv_netbackd_config_diff(&a, &b), 0);

    xnv_netbackd_config_default(&b);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&a, &b), XNV_NBD_ALL_KEYS);
    xnv_netbackd_config_merge(&b, &a, XNV_NBD_LOG_LEVEL | XNV_NBD_FASTPATH_BRIDGES);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&a, &b), XNV_NBD_ALL_KEYS & ~(XNV_NBD_LOG_LEVEL | XNV_NBD_FASTPATH_BRIDGES));
    ck_assert_str_eq(b.fastpath_bridges, "xenbr0,xenbr9");
    ck_assert_uint_eq(b.set, XNV_NBD_LOG_LEVEL | XNV_NBD_FASTPATH_BRIDGES);
    /* The command line over the file: options win for the keys they give. */
    struct xnv_netbackd_config cmdline;
    xnv_netbackd_config_default(&cmdline);
    ck_assert_int_gt(xnv_netbackd_config_set(&cmdline, "max-queues", "1", why, sizeof why), 0);
    xnv_netbackd_config_merge(&a, &cmdline, cmdline.set);
    ck_assert_uint_eq(a.max_queues, 1);
    ck_assert_uint_eq(a.stall_timeout_ms, 250);
}
END_TEST

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(file_reader)
{
    char dir[] = "/tmp/xnv-conf-test.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/netbackd.conf", dir);
    struct xnv_netbackd_config c;
    struct msgs m;
    char want[512];

    /* Missing file. */
    xnv_netbackd_config_default(&c);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(xnv_netbackd_config_load(&c, path, collect, &m), -ENOENT);
    snprintf(want, sizeof want, "%s: cannot read: %s\n", path, strerror(ENOENT));
    ck_assert_str_eq(m.text, want);

    /* A good file. */
    const char *good = "max-queues = 2\nsyslog = yes\n";
    write_file(path, good, strlen(good));
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(xnv_netbackd_config_load(&c, path, collect, &m), 0);
    ck_assert_uint_eq(c.max_queues, 2);
    ck_assert(c.syslog);

    /* A bad one: messages carry the path; c stays as it was. */
    const char *bad = "max-queues = 3\nsyslog = perhaps\n";
    write_file(path, bad, strlen(bad));
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(xnv_netbackd_config_load(&c, path, collect, &m), 1);
    snprintf(want, sizeof want, "%s:2: syslog: must be \"yes\" or \"no\", not \"perhaps\"\n", path);
    ck_assert_str_eq(m.text, want);
    ck_assert_uint_eq(c.max_queues, 2);

    /* A file far too large to be a configuration (a wrong -c, say). */
    size_t big = XNV_NETBACKD_FILE_MAX + 1;
    char *junk = malloc(big);
    ck_assert_ptr_nonnull(junk);
    memset(junk, '#', big);
    write_file(path, junk, big);
    free(junk);
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(xnv_netbackd_config_load(&c, path, collect, &m), -EFBIG);
    ck_assert_ptr_nonnull(strstr(m.text, "cannot read: larger than 1048576 bytes"));

    /* A directory. */
    memset(&m, 0, sizeof m);
    ck_assert_int_eq(xnv_netbackd_config_load(&c, dir, collect, &m), -EISDIR);
    ck_assert_uint_eq(m.n, 1);

    unlink(path);
    rmdir(dir);
}
END_TEST

/* What xnv-netbackd's SIGHUP relies on: the engine reads fastpath-bridges
 * through the pointer xnv_netbackd_config_engine() gave it, when a vif
 * connects.  The daemon rewrites that buffer in place on reload; a vif that
 * connects afterwards must get the new setting. */
START_TEST(reloaded_fastpath_applies_to_vifs_connecting_afterwards)
{
    static struct xnv_netbackd_config running;   /* outlives the engine, as in the daemon */
    static struct world w;
    static struct tfe a, b;
    static uint8_t frame[4096], got[4096];
    char why[128];
    xnv_netbackd_config_default(&running);        /* no fast path at start */
    struct xnv_netback_config e;
    xnv_netback_config_default(&e);
    xnv_netbackd_config_engine(&running, &e);
    world_init_fastpath(&w, 1, e.fastpath_bridges);

    /* The reload, before the guests connect. */
    struct xnv_netbackd_config next = running;
    ck_assert_int_gt(xnv_netbackd_config_set(&next, "fastpath-bridges", "br9, xenbr0", why, sizeof why), 0);
    ck_assert_uint_eq(xnv_netbackd_config_diff(&running, &next), XNV_NBD_FASTPATH_BRIDGES);
    memcpy(running.fastpath_bridges, next.fastpath_bridges, sizeof running.fastpath_bridges);

    int da, db;
    world_guest_up(&w, &a, &da, "a", "00:16:3e:00:00:01", true);
    world_guest_up(&w, &b, &db, "b", "00:16:3e:00:00:02", true);
    tfe_post_rx(&b, 0, 64);

    uint32_t len = build_tcp_frame(frame, 0, 1000);           /* 00:16:3e:00:00:01 -> :02 */
    tfe_send(&a, 0, frame, len, 4096, NETTXF_data_validated, 0, 0);
    uint16_t fl, gs;
    uint8_t gt;
    int n = -1;
    for (int i = 0; i < 20000 && n == -1; i++, usleep(100))
        n = tfe_recv(&b, 0, got, sizeof got, &fl, &gt, &gs);
    ck_assert_int_eq(n, (int)len);
    struct xnv_queue_stats st;
    ck_assert_int_eq(xnv_netback_stats(w.nb, (xnv_domid_t)da, 0, -1, &st), 0);
    ck_assert_uint_eq(st.fastpath_packets, 1);

    tfe_free(&a);
    tfe_free(&b);
    world_free(&w);
}
END_TEST

Suite *xnv_suite_netbackd_config(void)
{
    Suite *s = suite_create("netbackd_config");
    TCase *c = tcase_create("parse");
    tcase_add_test(c, defaults_match_the_engine);
    tcase_add_test(c, valid_file_sets_every_key);
    tcase_add_test(c, empty_and_comment_only_files);
    tcase_add_test(c, missing_equals_unknown_key_missing_key);
    tcase_add_test(c, bad_numbers);
    tcase_add_test(c, bad_words);
    tcase_add_test(c, bad_bridges_and_socket);
    tcase_add_test(c, duplicates_and_control_characters);
    tcase_add_test(c, every_error_reported_with_its_line_and_nothing_applied);
    tcase_add_test(c, too_many_errors_are_cut_short);
    tcase_add_test(c, setter_is_shared_with_the_options);
    tcase_add_test(c, format_round_trips_merge_and_diff);
    tcase_add_test(c, file_reader);
    suite_add_tcase(s, c);
    TCase *r = tcase_create("reload");
    tcase_set_timeout(r, 30);
    tcase_add_test(r, reloaded_fastpath_applies_to_vifs_connecting_afterwards);
    suite_add_tcase(s, r);
    return s;
}
