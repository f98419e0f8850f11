/* The feature record, strict parsers, and the multicast filter (item 12). */
#include <check.h>
#include <string.h>
#include "xnv/features.h"
#include "xnv/mcast.h"
#include "xnv/parse.h"

struct kvs { const char *k[24]; const char *v[24]; unsigned n; };
static const char *lookup(void *arg, const char *key)
{
    struct kvs *s = arg;
    for (unsigned i = 0; i < s->n; i++)
        if (strcmp(s->k[i], key) == 0)
            return s->v[i];
    return NULL;
}

START_TEST(backend_record_round_trip)
{
    struct xnv_features f = { .flags = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6 |
                                       XNV_F_IPV6_CSUM | XNV_F_RX_COPY | XNV_F_SPLIT_EVTCHN |
                                       XNV_F_CTRL_RING | XNV_F_MCAST_CTRL, .queues = 4 };
    struct xnv_kv kv[XNV_FEATURES_MAX_KV];
    unsigned n = xnv_features_encode(&f, XNV_SIDE_BACK, kv);
    struct kvs s = { .n = n };
    int saw_rx_copy = 0, saw_request = 0;
    for (unsigned i = 0; i < n; i++) {
        s.k[i] = kv[i].key;
        s.v[i] = kv[i].val;
        saw_rx_copy |= strcmp(kv[i].key, "feature-rx-copy") == 0 && strcmp(kv[i].val, "1") == 0;
        saw_request |= strncmp(kv[i].key, "request-", 8) == 0;
    }
    ck_assert(saw_rx_copy);
    ck_assert(!saw_request);                         /* frontend keys are not the backend's */
    struct xnv_features g;
    char err[128];
    ck_assert_int_eq(xnv_features_decode(XNV_SIDE_BACK, lookup, &s, 8, &g, err, sizeof err), 0);
    ck_assert_uint_eq(g.flags, f.flags);
    ck_assert_uint_eq(g.queues, 4);
}
END_TEST

START_TEST(frontend_record_like_linux_netfront)
{
    struct kvs s = { .n = 7, .k = { "request-rx-copy", "feature-rx-notify", "feature-sg",
                                    "feature-gso-tcpv4", "feature-gso-tcpv6",
                                    "feature-ipv6-csum-offload", "multi-queue-num-queues" },
                     .v = { "1", "1", "1", "1", "1", "1", "2" } };
    struct xnv_features fe, be = { .flags = XNV_F_SG | XNV_F_GSO_TCPV4 | XNV_F_RX_COPY, .queues = 8 };
    char err[128];
    ck_assert_int_eq(xnv_features_decode(XNV_SIDE_FRONT, lookup, &s, 8, &fe, err, sizeof err), 0);
    ck_assert(fe.flags & XNV_F_RX_COPY);
    ck_assert(fe.flags & XNV_F_RX_NOTIFY);
    ck_assert_uint_eq(fe.queues, 2);
    struct xnv_features n = xnv_features_negotiate(&be, &fe);
    ck_assert(n.flags & XNV_F_GSO_TCPV4);
    ck_assert(!(n.flags & XNV_F_GSO_TCPV6));         /* the backend did not offer it */
    ck_assert_uint_eq(n.queues, 2);
}
END_TEST

/* 21: garbage and out-of-range values are refused, naming the key. */
START_TEST(hostile21_garbage_feature_values)
{
    struct kvs s = { .n = 1, .k = { "feature-sg" }, .v = { "yes" } };
    struct xnv_features f;
    char err[128] = "";
    ck_assert_int_eq(xnv_features_decode(XNV_SIDE_FRONT, lookup, &s, 8, &f, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "feature-sg"));
    const char *bad_queues[] = { "0", "9", "-1", "2x", "", " 2", "99999999999999999999999" };
    for (unsigned i = 0; i < sizeof bad_queues / sizeof *bad_queues; i++) {
        struct kvs q = { .n = 1, .k = { "multi-queue-num-queues" }, .v = { bad_queues[i] } };
        ck_assert_int_eq(xnv_features_decode(XNV_SIDE_FRONT, lookup, &q, 8, &f, err, sizeof err),
                         -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "multi-queue-num-queues"));
    }
}
END_TEST

START_TEST(parsers_are_strict)
{
    uint64_t v;
    ck_assert_int_eq(xnv_parse_uint("1234", 10000, &v), 0);
    ck_assert_uint_eq(v, 1234);
    ck_assert_int_eq(xnv_parse_uint("12a", 10000, &v), -EINVAL);
    ck_assert_int_eq(xnv_parse_uint("+1", 10000, &v), -EINVAL);
    ck_assert_int_eq(xnv_parse_uint("10001", 10000, &v), -ERANGE);
    ck_assert_int_eq(xnv_parse_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE);
    uint8_t mac[6];
    ck_assert_int_eq(xnv_parse_mac("00:16:3e:0A:bc:01", mac), 0);
    ck_assert_mem_eq(mac, "\x00\x16\x3e\x0a\xbc\x01", 6);
    ck_assert(xnv_mac_is_valid_unicast(mac));
    ck_assert_int_eq(xnv_parse_mac("00:16:3e:0a:bc", mac), -EINVAL);
    ck_assert_int_eq(xnv_parse_mac("00-16-3e-0a-bc-01", mac), -EINVAL);
    ck_assert_int_eq(xnv_parse_mac("0g:16:3e:0a:bc:01", mac), -EINVAL);
    xnv_parse_mac("01:00:5e:00:00:01", mac);
    ck_assert(!xnv_mac_is_valid_unicast(mac));
    uint64_t bytes, usec;
    ck_assert_int_eq(xnv_parse_rate("1250000,50000", &bytes, &usec), 0);
    ck_assert_uint_eq(bytes, 1250000);
    ck_assert_uint_eq(usec, 50000);
    ck_assert_int_eq(xnv_parse_rate("10M", &bytes, &usec), -EINVAL);
    ck_assert_int_eq(xnv_parse_rate("100,0", &bytes, &usec), -EINVAL);
}
END_TEST

/* 12: more multicast addresses than the filter holds. */
START_TEST(hostile12_multicast_filter_overflow)
{
    struct xnv_mcast_filter m = { 0 };
    uint8_t a[6] = { 0x01, 0x00, 0x5e, 0, 0, 0 };
    for (unsigned i = 0; i < XNV_MCAST_MAX; i++) {
        a[5] = (uint8_t)i;
        ck_assert_int_eq(xnv_mcast_add(&m, a), 0);
    }
    a[4] = 1;
    ck_assert_int_eq(xnv_mcast_add(&m, a), -ENOSPC);
    ck_assert(!xnv_mcast_match(&m, a));
    a[4] = 0;
    a[5] = 5;
    ck_assert(xnv_mcast_match(&m, a));
    ck_assert_int_eq(xnv_mcast_del(&m, a), 0);
    ck_assert(!xnv_mcast_match(&m, a));
    ck_assert_int_eq(xnv_mcast_del(&m, a), -ENOENT);
    const uint8_t unicast[6] = { 0x00, 0x16, 0x3e, 1, 2, 3 };
    ck_assert_int_eq(xnv_mcast_add(&m, unicast), -EINVAL);
}
END_TEST

Suite *xnv_suite_features(void)
{
    Suite *s = suite_create("features");
    TCase *c = tcase_create("record");
    tcase_add_test(c, backend_record_round_trip);
    tcase_add_test(c, frontend_record_like_linux_netfront);
    tcase_add_test(c, hostile21_garbage_feature_values);
    tcase_add_test(c, parsers_are_strict);
    tcase_add_test(c, hostile12_multicast_filter_overflow);
    suite_add_tcase(s, c);
    return s;
}
