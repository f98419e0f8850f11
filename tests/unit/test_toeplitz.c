/* Toeplitz hashing against the published RSS verification vectors. */
#include <check.h>
#include <string.h>
#include "ring_fixture.h"
#include "xnv/netif.h"
#include "xnv/toeplitz.h"

static const uint8_t key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

START_TEST(ipv4_vectors)
{
    const uint8_t in1[12] = { 66, 9, 149, 187, 161, 142, 100, 80, 0x0a, 0xea, 0x06, 0xe6 };
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in1, 12), 0x51ccc178);
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in1, 8), 0x323e8fc2);
    const uint8_t in2[12] = { 199, 92, 111, 2, 65, 69, 140, 83, 0x37, 0x96, 0x12, 0x83 };
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in2, 12), 0xc626b0ea);
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in2, 8), 0xd718262a);
}
END_TEST

START_TEST(ipv6_vectors)
{
    const uint8_t in[36] = {
        0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07,
        0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x0a, 0xea, 0x06, 0xe6,
    };
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in, 36), 0x40207d3d);
    ck_assert_uint_eq(xnv_toeplitz(key, 40, in, 32), 0x2cc18cd5);
}
END_TEST

START_TEST(frame_hash_picks_enabled_type)
{
    uint8_t f[200];
    uint32_t len = build_tcp_frame(f, 0, 10);
    /* 10.0.0.1:40000 -> 10.0.0.2:5201 */
    const uint8_t in[12] = { 10, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40, 0x14, 0x51 };
    uint32_t h;
    uint8_t type;
    ck_assert(xnv_hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV4 | XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP,
                             key, 40, &h, &type));
    ck_assert_uint_eq(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP);
    ck_assert_uint_eq(h, xnv_toeplitz(key, 40, in, 12));
    ck_assert(xnv_hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV4, key, 40, &h, &type));
    ck_assert_uint_eq(type, _XEN_NETIF_CTRL_HASH_TYPE_IPV4);
    ck_assert_uint_eq(h, xnv_toeplitz(key, 40, in, 8));
    ck_assert(!xnv_hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV6, key, 40, &h, &type));
    ck_assert(!xnv_hash_frame(f, 20, XEN_NETIF_CTRL_HASH_TYPE_IPV4, key, 40, &h, &type));
}
END_TEST

Suite *xnv_suite_toeplitz(void)
{
    Suite *s = suite_create("toeplitz");
    TCase *c = tcase_create("hash");
    tcase_add_test(c, ipv4_vectors);
    tcase_add_test(c, ipv6_vectors);
    tcase_add_test(c, frame_hash_picks_enabled_type);
    suite_add_tcase(s, c);
    return s;
}
