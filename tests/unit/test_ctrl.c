/* Control ring: hash configuration, steering, hostile items 15 and 16. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "ring_fixture.h"
#include "xnv/ctrl.h"

/* The "guest memory" a fetch reads: grant ref r is page r of this array. */
static uint8_t pages[4][4096];
static int fetches;
static int fetch(void *arg, xnv_gref_t ref, void *buf, uint32_t len)
{
    (void)arg;
    fetches++;
    if (ref >= 4 || len > 4096)
        return -1;
    memcpy(buf, pages[ref], len);
    return 0;
}

static struct xnv_hash_cfg cfg;
static struct xen_netif_ctrl_response rsp;

static uint32_t call(uint16_t type, uint32_t d0, uint32_t d1, uint32_t d2, unsigned nq)
{
    struct xen_netif_ctrl_request req = { .id = 42, .type = type, .data = { d0, d1, d2 } };
    xnv_ctrl_handle(&cfg, nq, &req, fetch, NULL, &rsp);
    ck_assert_uint_eq(rsp.id, 42);
    ck_assert_uint_eq(rsp.type, type);
    return rsp.status;
}

static void setup(void) { memset(&cfg, 0, sizeof cfg); fetches = 0; }

START_TEST(configure_toeplitz_and_steer)
{
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, 4), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, 4),
                      XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_eq(rsp.data, XNV_HASH_TYPES_SUPPORTED);
    for (int i = 0; i < 40; i++)
        pages[0][i] = (uint8_t)(i * 37 + 1);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 40, 0, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_mem_eq(cfg.key, pages[0], 40);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, 0, 0, 4),
                      XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_eq(rsp.data, XNV_HASH_MAPPING_MAX);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    uint32_t table[8] = { 3, 3, 3, 3, 3, 3, 3, 3 };
    memcpy(pages[1], table, sizeof table);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 8, 0, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    uint8_t f[200];
    uint32_t len = build_tcp_frame(f, 0, 20);
    ck_assert_int_eq(xnv_hash_queue(&cfg, 4, f, len), 3);          /* every entry says queue 3 */
    table[0] = 1;
    memcpy(pages[1], table, 4);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 1, 7, 4), XEN_NETIF_CTRL_STATUS_SUCCESS);
    ck_assert_uint_eq(cfg.mapping[7], 1);
    /* without a table: the hash modulo the queues */
    call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 0, 0, 0, 4);
    uint32_t h;
    uint8_t t;
    xnv_hash_frame(f, len, XEN_NETIF_CTRL_HASH_TYPE_IPV4_TCP, cfg.key, XNV_HASH_KEY_MAX, &h, &t);
    ck_assert_int_eq(xnv_hash_queue(&cfg, 4, f, len), (int)(h % 4));
    /* hashing off: no opinion */
    call(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_NONE, 0, 0, 4);
    ck_assert_int_eq(xnv_hash_queue(&cfg, 4, f, len), -1);
}
END_TEST

/* 15: mapping overflow, oversize, entries beyond the queues, unknown type,
 * oversized key; the table is checked after it was copied. */
START_TEST(hostile15_bad_mapping_and_key)
{
    call(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0, 2);
    call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 16, 0, 0, 2);
    uint32_t good[16] = { 0 };
    memcpy(pages[1], good, sizeof good);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 4, 0xfffffffeu, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);        /* off + len wraps */
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 10, 10, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);        /* beyond the table */
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 2000, 0, 2),
                      XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4096, 0, 0, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    uint32_t bad[16] = { 0, 1, 0, 1, 2 };                              /* queue 2 of 2 */
    memcpy(pages[1], bad, sizeof bad);
    cfg.mapping[3] = 1;
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 16, 0, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    ck_assert_uint_eq(cfg.mapping[3], 1);                              /* nothing applied */
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 4, 0, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);        /* bad grant */
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 41, 0, 2), XEN_NETIF_CTRL_STATUS_BUFFER_OVERFLOW);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1u << 9, 0, 0, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
    ck_assert_uint_eq(call(99, 0, 0, 0, 2), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 0, 0, 2), XEN_NETIF_CTRL_STATUS_NOT_SUPPORTED);
    ck_assert_uint_eq(call(XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, 7, 0, 0, 2),
                      XEN_NETIF_CTRL_STATUS_INVALID_PARAMETER);
}
END_TEST

/* 16: a producer far ahead is fatal; a flood is handled in bounded steps. */
START_TEST(hostile16_producer_racing_ahead)
{
    void *page = aligned_alloc(4096, 4096);
    memset(page, 0, 4096);
    xen_netif_ctrl_sring_t *s = page;
    SHARED_RING_INIT(s);
    xen_netif_ctrl_front_ring_t front;
    xen_netif_ctrl_back_ring_t back;
    FRONT_RING_INIT(&front, s, 4096);
    BACK_RING_INIT(&back, s, 4096);
    ck_assert_int_eq(xnv_ctrl_ring_process(&back, 100000, &cfg, 2, fetch, NULL), -EPROTO);
    ck_assert_uint_eq(back.req_cons, 0);
    unsigned size = RING_SIZE(&back);
    for (unsigned i = 0; i < size; i++) {
        struct xen_netif_ctrl_request *r = RING_GET_REQUEST(&front, front.req_prod_pvt++);
        *r = (struct xen_netif_ctrl_request){ .id = (uint16_t)i, .type = XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE };
    }
    RING_PUSH_REQUESTS(&front);
    ck_assert_int_eq(xnv_ctrl_ring_process(&back, s->req_prod, &cfg, 2, fetch, NULL), (int)XNV_CTRL_BUDGET);
    int total = (int)XNV_CTRL_BUDGET, n;
    while ((n = xnv_ctrl_ring_process(&back, s->req_prod, &cfg, 2, fetch, NULL)) > 0)
        total += n;
    ck_assert_int_eq(total, (int)size);
    ck_assert_uint_eq(RING_GET_RESPONSE(&back, size - 1)->id, size - 1);
    free(page);
}
END_TEST

Suite *xnv_suite_ctrl(void)
{
    Suite *s = suite_create("ctrl");
    TCase *c = tcase_create("ctrl");
    tcase_add_checked_fixture(c, setup, NULL);
    tcase_add_test(c, configure_toeplitz_and_steer);
    tcase_add_test(c, hostile15_bad_mapping_and_key);
    tcase_add_test(c, hostile16_producer_racing_ahead);
    suite_add_tcase(s, c);
    return s;
}
