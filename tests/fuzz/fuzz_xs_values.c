/* Fuzz target: values a peer writes into xenstore, through the strict
 * parsers (parse.h) and the feature record decoder (features.h).
 *
 * Input: u8 side (odd: backend keys, even: frontend keys), u16 max queues
 * (1..65535, as the callers pass),
 * then lines "key=value" separated by '\n' (no '=': the whole line is a
 * value for the single-value parsers).  The decoder's lookup serves the
 * first line whose key matches, each value in an exactly sized private
 * copy (so that a read past its terminator is caught).
 *
 * Checked: every parser accepts exactly the documented syntax (compared
 * with a small independent recognizer) and gives back the value written;
 * the decoder accepts exactly what its keys allow, names the key it
 * rejects, keeps the queue count in 1..max, and re-encodes to the same
 * record. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include "fuzz_common.h"
#include "xnv/features.h"
#include "xnv/parse.h"

/* features.c also holds the xenstore wrappers; this target never calls
 * them, but the linker wants their hypervisor calls. */
char *xnv_xs_read(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, unsigned *len)
{
    (void)hv; (void)tx; (void)path; (void)len;
    errno = ENOSYS;
    return NULL;
}

int xnv_xs_write(struct xnv_hv *hv, xnv_xs_tx_t tx, const char *path, const void *val,
                 unsigned len)
{
    (void)hv; (void)tx; (void)path; (void)val; (void)len;
    return -ENOSYS;
}

#define MAX_LINES 64

struct kvset {
    char *key[MAX_LINES];
    char *val[MAX_LINES];
    unsigned n;
    unsigned lookups;
};

static const char *lookup(void *arg, const char *key)
{
    struct kvset *s = arg;
    s->lookups++;
    for (unsigned i = 0; i < s->n; i++)
        if (s->key[i] && strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

static char *dup_str(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Decimal digits only, 1..20 of them, value <= max. */
static bool model_uint(const char *s, uint64_t max, uint64_t *v)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return false;
    unsigned __int128 acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        acc = acc * 10 + (unsigned)(s[i] - '0');
    }
    if (acc > max)
        return false;
    *v = (uint64_t)acc;
    return true;
}

static void check_uint(const char *s, uint64_t max)
{
    uint64_t v = 12345, mv = 0;
    int rc = xnv_parse_uint(s, max, &v);
    bool ok = model_uint(s, max, &mv);
    FZ_CHECK((rc == 0) == ok);
    FZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE);
    if (ok)
        FZ_CHECK(v == mv && v <= max);
    else
        FZ_CHECK(v == 12345);            /* untouched on error */
}

static void check_bool(const char *s)
{
    bool b = false;
    int rc = xnv_parse_bool(s, &b);
    bool ok = strcmp(s, "0") == 0 || strcmp(s, "1") == 0;
    FZ_CHECK((rc == 0) == ok);
    if (ok)
        FZ_CHECK(b == (s[0] == '1'));
}

static void check_mac(const char *s)
{
    uint8_t mac[6];
    int rc = xnv_parse_mac(s, mac);
    bool ok = strlen(s) == 17;
    for (int i = 0; ok && i < 17; i++)
        ok = i % 3 == 2 ? s[i] == ':' : isxdigit((unsigned char)s[i]) != 0;
    FZ_CHECK((rc == 0) == ok);
    if (!ok)
        return;
    char back[18];
    snprintf(back, sizeof back, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    FZ_CHECK(strcasecmp(back, s) == 0);
    bool uc = xnv_mac_is_valid_unicast(mac);
    FZ_CHECK(uc == (!(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5])));
}

static void check_rate(const char *s)
{
    uint64_t bytes = 0, usec = 0, mb = 0, mu = 0;
    int rc = xnv_parse_rate(s, &bytes, &usec);
    const char *comma = strchr(s, ',');
    bool ok = false;
    if (comma && (size_t)(comma - s) <= 20) {
        char num[24];
        memcpy(num, s, (size_t)(comma - s));
        num[comma - s] = '\0';
        ok = model_uint(num, UINT64_MAX, &mb) && model_uint(comma + 1, UINT64_MAX, &mu) && mu;
    }
    FZ_CHECK((rc == 0) == ok);
    if (ok)
        FZ_CHECK(bytes == mb && usec == mu);
}

/* Both ends' records -> what they agree on. */
static void check_negotiate(const struct xnv_features *back, const struct xnv_features *front)
{
    const uint32_t both = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 | XNV_F_IPV6_CSUM |
                          XNV_F_RX_COPY | XNV_F_MCAST_CTRL;
    struct xnv_features n = xnv_features_negotiate(back, front);
    FZ_CHECK(n.queues == (back->queues < front->queues ? back->queues : front->queues));
    FZ_CHECK((n.flags & both) == (back->flags & front->flags & both));
    FZ_CHECK(!!(n.flags & XNV_F_NO_CSUM) == !!((back->flags | front->flags) & XNV_F_NO_CSUM));
    FZ_CHECK(!(n.flags & XNV_F_RX_FLIP));
    FZ_CHECK((n.flags & ~(back->flags | front->flags)) == 0);
}

/* Decode, compare with the rules, then encode and decode again.  Returns
 * the decoded record in *out (true) or false when it was refused. */
static bool check_features(enum xnv_side side, struct kvset *s, uint32_t max_queues,
                           struct xnv_features *out)
{
    struct xnv_features f;
    char err[96];
    memset(err, 0x55, sizeof err);
    s->lookups = 0;
    int rc = xnv_features_decode(side, lookup, s, max_queues, &f, err, sizeof err);

    /* What the record should say, key by key. */
    int want = 0;
    struct xnv_features m = { .flags = 0, .queues = 1 };
    const char *bad = NULL;
    for (const struct xnv_feature_key *k = xnv_feature_keys; k->name && !bad; k++) {
        if (!(k->sides & side))
            continue;
        const char *v = lookup(s, k->name);
        if (!v) {
            if (k->flag && k->absent_means_on)
                m.flags |= k->flag;
            continue;
        }
        uint64_t q;
        if (k->flag) {
            if (strcmp(v, "1") == 0)
                m.flags |= k->flag;
            else if (strcmp(v, "0") != 0)
                bad = k->name;
        } else if (model_uint(v, max_queues, &q) && q > 0) {
            m.queues = (uint32_t)q;
        } else {
            bad = k->name;
        }
    }
    if (bad)
        want = -EINVAL;
    FZ_CHECK(rc == want);
    if (rc) {
        FZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        FZ_CHECK(strncmp(err, bad, strlen(bad)) == 0);
        return false;
    }
    FZ_CHECK(f.flags == m.flags && f.queues == m.queues);
    FZ_CHECK(f.queues >= 1 && f.queues <= max_queues);

    struct xnv_kv kv[XNV_FEATURES_MAX_KV];
    unsigned n = xnv_features_encode(&f, side, kv);
    FZ_CHECK(n <= XNV_FEATURES_MAX_KV);
    struct kvset again = { .n = n };
    for (unsigned i = 0; i < n; i++) {
        FZ_CHECK(memchr(kv[i].val, '\0', sizeof kv[i].val) != NULL);
        again.key[i] = (char *)kv[i].key;
        again.val[i] = kv[i].val;
    }
    struct xnv_features g;
    FZ_CHECK(xnv_features_decode(side, lookup, &again, max_queues, &g, err, sizeof err) == 0);
    FZ_CHECK(g.flags == f.flags && g.queues == f.queues);
    *out = f;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    enum xnv_side side = (fz_u8(&in) & 1) ? XNV_SIDE_BACK : XNV_SIDE_FRONT;
    uint32_t max_queues = 1 + fz_u16(&in) % UINT16_MAX;   /* callers pass 1.. */
    size_t n;
    const uint8_t *text = fz_rest(&in, &n);

    struct kvset s = { .n = 0 };
    const uint8_t *p = text, *end = text + n;
    while (p < end && s.n < MAX_LINES) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *line_end = nl ? nl : end;
        const uint8_t *eq = memchr(p, '=', (size_t)(line_end - p));
        if (eq) {
            s.key[s.n] = dup_str(p, (size_t)(eq - p));
            s.val[s.n] = dup_str(eq + 1, (size_t)(line_end - eq - 1));
        } else {
            s.key[s.n] = NULL;
            s.val[s.n] = dup_str(p, (size_t)(line_end - p));
        }
        s.n++;
        p = nl ? nl + 1 : end;
    }

    for (unsigned i = 0; i < s.n; i++) {
        const char *v = s.val[i];
        check_uint(v, max_queues);
        check_uint(v, UINT64_MAX);
        check_bool(v);
        check_mac(v);
        check_rate(v);
    }
    check_uint("", 1);
    /* The same directory read as each side's; when both parse, negotiate. */
    struct xnv_features mine, other;
    enum xnv_side other_side = side == XNV_SIDE_BACK ? XNV_SIDE_FRONT : XNV_SIDE_BACK;
    bool ok1 = check_features(side, &s, max_queues, &mine);
    bool ok2 = check_features(other_side, &s, max_queues, &other);
    if (ok1 && ok2)
        check_negotiate(side == XNV_SIDE_BACK ? &mine : &other,
                        side == XNV_SIDE_BACK ? &other : &mine);

    for (unsigned i = 0; i < s.n; i++) {
        free(s.key[i]);
        free(s.val[i]);
    }
    return 0;
}
