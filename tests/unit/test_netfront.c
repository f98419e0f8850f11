/* The netfront over the simulated hypervisor, against the scripted test
 * backend: handshake, traffic with every offload, reconnects, the grant
 * limit, clean close, the bridge to a port. */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nf_test_backend.h"
#include "ring_fixture.h"
#include "xnv/netfront.h"
#include "xnv/nf_bridge.h"
#include "xnv/offload.h"
#include "xnv/port.h"

static uint8_t frame[70000], got[70000];

static char *fe_key(struct nf_env *e, const char *key)
{
    return nftb_read(&e->be, e->be.fe_path, key);
}

static void assert_key(struct nf_env *e, const char *dir, const char *key, const char *want)
{
    char *v = nftb_read(&e->be, dir, key);
    ck_assert_msg(v != NULL, "%s/%s missing", dir, key);
    ck_assert_msg(strcmp(v, want) == 0, "%s/%s = %s, want %s", dir, key, v, want);
    free(v);
}

static void assert_no_key(struct nf_env *e, const char *dir, const char *key)
{
    char *v = nftb_read(&e->be, dir, key);
    ck_assert_msg(v == NULL, "%s/%s present (%s)", dir, key, v ? v : "");
    free(v);
}

/* ---- handshake --------------------------------------------------------------- */

/* _i: bit 0 = two queues, bit 1 = split event channels. */
START_TEST(handshake_queues_and_event_channels)
{
    bool two = _i & 1, split = _i & 2;
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 4, .split = split, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = two ? 2 : 1;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    ck_assert_int_eq(xnv_nf_state(e.nf), XNV_NF_CONNECTED);
    ck_assert(xnv_nf_carrier(e.nf));
    ck_assert(nftb_wait_connected(&e.be, true, 2000));

    const char *fe = e.be.fe_path;
    assert_key(&e, fe, "state", "4");
    assert_key(&e, fe, "request-rx-copy", "1");
    assert_key(&e, fe, "feature-rx-notify", "1");
    assert_key(&e, fe, "feature-sg", "1");
    assert_key(&e, fe, "feature-gso-tcpv4", "1");
    assert_key(&e, fe, "feature-gso-tcpv6", "1");
    assert_key(&e, fe, "feature-ipv6-csum-offload", "1");
    assert_key(&e, fe, "multi-queue-num-queues", two ? "2" : "1");
    const char *evkeys[3] = { "event-channel", "event-channel-tx", "event-channel-rx" };
    for (unsigned q = 0; q < (two ? 2u : 1u); q++) {
        char dir[128];
        if (two)
            snprintf(dir, sizeof dir, "%s/queue-%u", fe, q);
        else
            snprintf(dir, sizeof dir, "%s", fe);
        char *v;
        ck_assert_ptr_nonnull(v = nftb_read(&e.be, dir, "tx-ring-ref"));
        free(v);
        ck_assert_ptr_nonnull(v = nftb_read(&e.be, dir, "rx-ring-ref"));
        free(v);
        for (int k = 0; k < 3; k++) {
            v = nftb_read(&e.be, dir, evkeys[k]);
            ck_assert_msg((v != NULL) == (split ? k > 0 : k == 0), "%s/%s", dir, evkeys[k]);
            free(v);
        }
    }
    if (two)
        assert_no_key(&e, fe, "tx-ring-ref");
    ck_assert_uint_eq(e.be.nq, two ? 2 : 1);
    ck_assert(e.be.split == split);

    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.active_queues, two ? 2 : 1);
    ck_assert(info.split_evtchn == split);
    ck_assert(info.trusted);
    ck_assert_uint_eq(info.backend_id, e.bdom);
    ck_assert_str_eq(info.backend, e.be.be_path);
    ck_assert_uint_eq(info.mac[0], 0x00);
    ck_assert_uint_eq(info.mac[2], 0x3e);
    ck_assert_uint_eq(info.mtu, 1500);
    ck_assert_uint_le(info.shared_pages, info.grant_limit);

    /* Traffic both ways on every queue. */
    for (unsigned q = 0; q < info.active_queues; q++) {
        uint32_t len = build_udp_frame(frame, 100 + q);
        struct xnv_nf_frame f = { .data = frame, .len = len };
        ck_assert_int_eq(xnv_nf_send(e.nf, q, &f, 1), 1);
        ck_assert_int_eq(nf_env_take(&e, q, got, sizeof got, NULL, 2000), (int)len);
        ck_assert_int_eq(nftb_rx_send(&e.be, q, frame, len, &(struct xnv_rx_meta){ 0 }), 0);
        struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
        ck_assert_int_eq(nf_env_recv(&e, q, &r, 1, 2000), 1);
        ck_assert_uint_eq(r.len, len);
        ck_assert(memcmp(got, frame, len) == 0);
    }
    nf_env_stop(&e);
}
END_TEST

START_TEST(handshake_queues_bounded_by_backend)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 2, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 4;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.queues, 4);
    ck_assert_uint_eq(info.active_queues, 2);
    assert_key(&e, e.be.fe_path, "multi-queue-num-queues", "2");
    /* Caller queue 3 is served by ring 1. */
    uint32_t len = build_udp_frame(frame, 64);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    ck_assert_int_eq(xnv_nf_send(e.nf, 3, &f, 1), 1);
    ck_assert_int_eq(nf_env_take(&e, 1, got, sizeof got, NULL, 2000), (int)len);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_nf_recv(e.nf, 3, &r, 1), 0);
    ck_assert_int_eq(xnv_nf_send(e.nf, 4, &f, 1), -EINVAL);
    nf_env_stop(&e);
}
END_TEST

START_TEST(handshake_without_multi_queue_key_uses_one_queue)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 0, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 2;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.active_queues, 1);
    char *v = fe_key(&e, "tx-ring-ref");
    ck_assert_ptr_nonnull(v);
    free(v);
    nf_env_stop(&e);
}
END_TEST

START_TEST(handshake_requires_rx_copy)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .no_rx_copy = true, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.connect_timeout_ms = 300;
    ck_assert_ptr_null(nf_env_open(&e, &o));
    ck_assert_msg(strstr(e.err, "feature-rx-copy"), "%s", e.err);
    ck_assert(nf_env_guest_can_share(&e, 1024));
    nf_env_stop(&e);
}
END_TEST

START_TEST(open_without_device_fails_clearly)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1, .devid = 0 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    char err[256];
    ck_assert_ptr_null(xnv_nf_open(e.fhv, 7, &o, err, sizeof err));
    ck_assert_msg(strstr(err, "device/vif/7"), "%s", err);
    o.queues = XNV_NF_MAX_QUEUES + 1;
    ck_assert_ptr_null(xnv_nf_open(e.fhv, 0, &o, err, sizeof err));
    ck_assert_msg(strstr(err, "queues"), "%s", err);
    nf_env_stop(&e);
}
END_TEST

/* A backend still Connected to an earlier frontend instance is walked
 * through Closing / Closed / InitWait first. */
START_TEST(handshake_resets_a_stale_backend)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    nftb_lock(&e.be);
    nftb_write(&e.be, e.be.fe_path, "state", "4");
    nftb_write(&e.be, e.be.be_path, "state", "4");
    e.be.state = 4;
    nftb_unlock(&e.be);
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ck_assert_uint_eq(e.be.connects, 1);
    nf_env_stop(&e);
}
END_TEST

/* ---- traffic ------------------------------------------------------------------ */

enum kind { PLAIN, CSUM_V4, CSUM_V6, GSO_V4, GSO_V6, MULTI_SLOT, UDP_CSUM, NKINDS };

/* A frame of the kind, with its offloads as a TAP would hand it over:
 * the checksum field of a partial checksum holds the pseudo-header sum. */
static uint32_t make_frame(enum kind k, uint8_t *buf, struct xnv_offload *o)
{
    uint32_t len;
    *o = (struct xnv_offload){ 0 };
    switch (k) {
    case PLAIN: len = build_tcp_frame(buf, 0, 1000); break;
    case CSUM_V4: len = build_tcp_frame(buf, 0, 1400); break;
    case CSUM_V6: len = build_tcp_frame(buf, 1, 1400); break;
    case GSO_V4: len = build_tcp_frame(buf, 0, 30000); break;
    case GSO_V6: len = build_tcp_frame(buf, 1, 60000); break;
    case MULTI_SLOT: len = build_udp_frame(buf, 9000); break;
    default: len = build_udp_frame(buf, 700); break;
    }
    if (k == PLAIN || k == MULTI_SLOT)
        return len;
    struct xnv_hdrs h;
    ck_assert_int_eq(xnv_parse_headers(buf, len, &h), 0);
    o->csum_partial = true;
    o->csum_valid = true;
    o->csum_start = h.l4_off;
    o->csum_offset = k == UDP_CSUM ? 6 : 16;
    uint16_t c = xnv_csum_fold(xnv_pseudo_sum(buf, &h, len - h.l4_off));
    buf[o->csum_start + o->csum_offset] = (uint8_t)(c >> 8);
    buf[o->csum_start + o->csum_offset + 1] = (uint8_t)c;
    if (k == GSO_V4 || k == GSO_V6) {
        o->gso_type = k == GSO_V4 ? XEN_NETIF_GSO_TYPE_TCPV4 : XEN_NETIF_GSO_TYPE_TCPV6;
        o->gso_size = 1448;
        o->hdr_len = h.l4_end;
    }
    return len;
}

/* Does the received frame carry a right checksum once completed? */
static bool csum_ok(const uint8_t *f, uint32_t len, const struct xnv_offload *o)
{
    static uint8_t copy[70000];
    memcpy(copy, f, len);
    if (o->csum_partial && xnv_csum_complete(copy, len, o->csum_start, o->csum_offset))
        return false;
    return xnv_csum_verify_l4(copy, len);
}

static struct nf_env tenv;
static void traffic_setup(void)
{
    nf_env_start(&tenv, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&tenv, NULL), "%s", tenv.err);
}
static void traffic_teardown(void) { nf_env_stop(&tenv); }

START_TEST(traffic_tx_every_offload)
{
    enum kind k = (enum kind)_i;
    struct xnv_offload o;
    uint32_t len = make_frame(k, frame, &o);
    struct xnv_nf_frame f = { .data = frame, .len = len, .off = o };
    ck_assert_int_eq(xnv_nf_send(tenv.nf, 0, &f, 1), 1);
    struct xnv_tx_pkt pkt;
    ck_assert_int_eq(nf_env_take(&tenv, 0, got, sizeof got, &pkt, 2000), (int)len);
    ck_assert(memcmp(got, frame, len) == 0);
    ck_assert_uint_eq(pkt.nr_frags, (len + 4095) / 4096);
    ck_assert_uint_eq(pkt.flags, o.csum_partial ? (NETTXF_csum_blank | NETTXF_data_validated) : 0);
    ck_assert_uint_eq(pkt.gso_type, o.gso_type);
    ck_assert_uint_eq(pkt.gso_size, o.gso_size);
    /* The backend's answer frees the buffers: the next send reclaims them. */
    ck_assert_int_eq(xnv_nf_send(tenv.nf, 0, &f, 0), 0);
    struct xnv_nf_stats st;
    xnv_nf_stats(tenv.nf, 0, &st);
    ck_assert_uint_eq(st.tx_packets, 1);
    ck_assert_uint_eq(st.tx_bytes, len);
    ck_assert_uint_eq(st.tx_errors, 0);
}
END_TEST

START_TEST(traffic_rx_every_offload)
{
    enum kind k = (enum kind)_i;
    struct xnv_offload o;
    uint32_t len = make_frame(k, frame, &o);
    struct xnv_rx_meta m = { .flags = (uint16_t)(o.csum_partial ? NETRXF_csum_blank | NETRXF_data_validated : 0),
                             .gso_type = o.gso_type, .gso_size = o.gso_size };
    ck_assert_int_eq(nftb_rx_send(&tenv.be, 0, frame, len, &m), 0);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(&tenv, 0, &r, 1, 2000), 1);
    ck_assert_uint_eq(r.len, len);
    ck_assert(r.off.csum_partial == o.csum_partial);
    ck_assert_uint_eq(r.off.gso_type, o.gso_type);
    ck_assert_uint_eq(r.off.gso_size, o.gso_size);
    if (o.csum_partial) {
        ck_assert_uint_eq(r.off.csum_start, o.csum_start);
        ck_assert_uint_eq(r.off.csum_offset, o.csum_offset);
        ck_assert_uint_eq(r.vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
        ck_assert(csum_ok(got, r.len, &r.off));
        /* Apart from the checksum field, the frame arrived as sent. */
        uint32_t at = o.csum_start + o.csum_offset;
        ck_assert(memcmp(got, frame, at) == 0 && memcmp(got + at + 2, frame + at + 2, len - at - 2) == 0);
    } else {
        ck_assert(memcmp(got, frame, len) == 0);
    }
    if (o.gso_type != XEN_NETIF_GSO_TYPE_NONE) {
        ck_assert_uint_eq(r.vh.gso_type, o.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ? VIRTIO_NET_HDR_GSO_TCPV4
                                                                                 : VIRTIO_NET_HDR_GSO_TCPV6);
        ck_assert_uint_eq(r.vh.gso_size, 1448);
        ck_assert_uint_eq(r.vh.hdr_len, o.hdr_len);
    }
    struct xnv_nf_stats st;
    xnv_nf_stats(tenv.nf, 0, &st);
    ck_assert_uint_eq(st.rx_packets, 1);
    ck_assert_uint_eq(st.rx_bytes, len);
    ck_assert_uint_eq(st.rx_errors, 0);
}
END_TEST

START_TEST(traffic_send_with_virtio_net_header)
{
    struct xnv_offload o;
    uint32_t len = make_frame(GSO_V4, frame, &o);
    struct xnv_nf_frame f = { .data = frame, .len = len, .meta = XNV_NF_META_VNET };
    xnv_offload_to_vnet(&o, &f.vh);
    ck_assert_int_eq(xnv_nf_send(tenv.nf, 0, &f, 1), 1);
    struct xnv_tx_pkt pkt;
    ck_assert_int_eq(nf_env_take(&tenv, 0, got, sizeof got, &pkt, 2000), (int)len);
    ck_assert_uint_eq(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(pkt.flags, NETTXF_csum_blank | NETTXF_data_validated);
}
END_TEST

START_TEST(traffic_batches_and_backpressure)
{
    /* More frames than the ring holds: send stops, then resumes once the
     * backend answered and notified. */
    static struct xnv_nf_frame fs[300];
    uint32_t len = build_udp_frame(frame, 200);
    for (unsigned i = 0; i < 300; i++)
        fs[i] = (struct xnv_nf_frame){ .data = frame, .len = len };
    int sent = xnv_nf_send(tenv.nf, 0, fs, 300);
    ck_assert_int_gt(sent, 0);
    ck_assert_int_lt(sent, 300);
    ck_assert_int_eq(xnv_nf_send(tenv.nf, 0, fs, 1), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(nf_env_take(&tenv, 0, got, sizeof got, NULL, 2000), (int)len);
    struct pollfd p = { .fd = xnv_nf_queue_fd(tenv.nf, 0), .events = POLLIN };
    ck_assert_int_eq(poll(&p, 1, 2000), 1);     /* the backend's notification */
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(xnv_nf_recv(tenv.nf, 0, &r, 1), 0);
    int more = xnv_nf_send(tenv.nf, 0, fs + sent, (unsigned)(300 - sent));
    ck_assert_int_eq(more, 20);

    /* Many frames towards the guest in one go, received in batches. */
    int placed = 0;
    while (nftb_rx_send(&tenv.be, 0, frame, len, &(struct xnv_rx_meta){ 0 }) == 0)
        placed++;
    ck_assert_int_ge(placed, 200);
    static uint8_t bufs[8][2048];
    struct xnv_nf_frame rs[8];
    for (int i = 0; i < 8; i++)
        rs[i] = (struct xnv_nf_frame){ .data = bufs[i], .cap = sizeof bufs[i] };
    int total = 0, n;
    while ((n = xnv_nf_recv(tenv.nf, 0, rs, 8)) > 0)
        total += n;
    ck_assert_int_eq(total, placed);
}
END_TEST

START_TEST(traffic_frame_too_big_for_caller_is_dropped)
{
    uint32_t len = build_udp_frame(frame, 3000);
    ck_assert_int_eq(nftb_rx_send(&tenv.be, 0, frame, len, &(struct xnv_rx_meta){ 0 }), 0);
    ck_assert_int_eq(nftb_rx_send(&tenv.be, 0, frame, 100, &(struct xnv_rx_meta){ 0 }), 0);
    struct xnv_nf_frame r = { .data = got, .cap = 1500 };
    ck_assert_int_eq(nf_env_recv(&tenv, 0, &r, 1, 2000), 1);
    ck_assert_uint_eq(r.len, 100);
    struct xnv_nf_stats st;
    xnv_nf_stats(tenv.nf, XNV_NF_ALL_QUEUES, &st);
    ck_assert_uint_eq(st.rx_dropped, 1);
    ck_assert_uint_eq(st.rx_errors, 0);
}
END_TEST

START_TEST(traffic_bad_frames_are_counted_not_sent)
{
    struct xnv_nf_frame f[3] = {
        { .data = frame, .len = 10 },                       /* shorter than Ethernet */
        { .data = frame, .len = 70000 },                    /* longer than netif allows */
        { .data = frame, .len = build_udp_frame(frame, 50) },
    };
    ck_assert_int_eq(xnv_nf_send(tenv.nf, 0, f, 3), 3);
    ck_assert_int_eq(nf_env_take(&tenv, 0, got, sizeof got, NULL, 2000), (int)f[2].len);
    ck_assert_int_eq(nftb_tx_take(&tenv.be, 0, got, sizeof got, NULL), -EAGAIN);
    struct xnv_nf_stats st;
    xnv_nf_stats(tenv.nf, 0, &st);
    ck_assert_uint_eq(st.tx_errors, 2);
    ck_assert_uint_eq(st.tx_packets, 1);
}
END_TEST

/* A backend without IPv6 checksum offload gets complete checksums; one
 * without GSO gets no large segments. */
START_TEST(traffic_offloads_the_backend_lacks)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1,
                                            .features = XNV_F_SG | XNV_F_RX_COPY });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.tx_offload & (XNV_F_GSO_TCPV4 | XNV_F_IPV6_CSUM), 0);
    struct xnv_offload o;
    for (enum kind k = CSUM_V4; k <= CSUM_V6; k++) {
        uint32_t len = make_frame(k, frame, &o);
        struct xnv_nf_frame f = { .data = frame, .len = len, .off = o };
        ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);
        struct xnv_tx_pkt pkt;
        ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, &pkt, 2000), (int)len);
        if (k == CSUM_V4) {          /* IPv4 checksum offload is on unless refused */
            ck_assert_uint_eq(pkt.flags, NETTXF_csum_blank | NETTXF_data_validated);
        } else {
            ck_assert_uint_eq(pkt.flags, NETTXF_data_validated);
            ck_assert(xnv_csum_verify_l4(got, (uint32_t)len));
        }
    }
    uint32_t len = make_frame(GSO_V4, frame, &o);
    struct xnv_nf_frame f = { .data = frame, .len = len, .off = o };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), 1);      /* consumed: dropped */
    ck_assert_int_eq(nftb_tx_take(&e.be, 0, got, sizeof got, NULL), -EAGAIN);
    struct xnv_nf_stats st;
    xnv_nf_stats(e.nf, 0, &st);
    ck_assert_uint_eq(st.tx_errors, 1);
    nf_env_stop(&e);
}
END_TEST

/* A caller that takes no checksum offload gets checksums completed. */
START_TEST(traffic_rx_completes_checksums_for_the_caller)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    struct xnv_nf_options opt;
    xnv_nf_options_default(&opt);
    opt.offload = XNV_F_SG | XNV_F_NO_CSUM;
    opt.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &opt), "%s", e.err);
    assert_key(&e, e.be.fe_path, "feature-gso-tcpv4", "0");
    assert_key(&e, e.be.fe_path, "feature-no-csum-offload", "1");
    for (enum kind k = CSUM_V4; k <= CSUM_V6; k++) {
        struct xnv_offload o;
        uint32_t len = make_frame(k, frame, &o);
        struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated };
        ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &m), 0);
        struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
        ck_assert_int_eq(nf_env_recv(&e, 0, &r, 1, 2000), 1);
        ck_assert(!r.off.csum_partial);
        ck_assert(r.off.csum_valid);
        ck_assert_uint_eq(r.vh.flags, VIRTIO_NET_HDR_F_DATA_VALID);
        ck_assert(xnv_csum_verify_l4(got, r.len));
    }
    nf_env_stop(&e);
}
END_TEST

/* ---- reconnect ----------------------------------------------------------------- */

static void ping_both_ways(struct nf_env *e)
{
    uint32_t len = build_udp_frame(frame, 321);
    struct xnv_nf_frame f = { .data = frame, .len = len };
    ck_assert_int_eq(xnv_nf_send(e->nf, 0, &f, 1), 1);
    ck_assert_int_eq(nf_env_take(e, 0, got, sizeof got, NULL, 2000), (int)len);
    ck_assert_int_eq(nftb_rx_send(&e->be, 0, frame, len, &(struct xnv_rx_meta){ 0 }), 0);
    struct xnv_nf_frame r = { .data = got, .cap = sizeof got };
    ck_assert_int_eq(nf_env_recv(e, 0, &r, 1, 2000), 1);
    ck_assert_uint_eq(r.len, len);
}

START_TEST(reconnect_backend_leaves_and_returns)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 2, .split = true, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ping_both_ways(&e);
    nftb_leave(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTING, 2000), 0);
    struct xnv_nf_frame f = { .data = frame, .len = build_udp_frame(frame, 10) };
    ck_assert_int_eq(xnv_nf_send(e.nf, 0, &f, 1), -ENOTCONN);
    /* Revoked, told Closed, then asked to start over. */
    for (int i = 0; i < 200 && nftb_front_state(&e.be) != 1; i++)
        xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 10);
    ck_assert_int_eq(nftb_front_state(&e.be), 1);
    ck_assert(nf_env_guest_can_share(&e, 1024));
    nftb_return(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 3000), 0);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ping_both_ways(&e);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.connections, 2);
    struct xnv_nf_stats st;
    xnv_nf_stats(e.nf, XNV_NF_ALL_QUEUES, &st);
    ck_assert_uint_eq(st.lost_pages, 0);
    ck_assert_uint_eq(st.rx_packets, 2);
    nf_env_stop(&e);
}
END_TEST

/* Run the control plane until the netfront is connected a second time. */
static void second_connection(struct nf_env *e)
{
    struct xnv_nf_info info;
    for (int i = 0; i < 500; i++) {
        xnv_nf_wait_state(e->nf, XNV_NF_REMOVED, 10);   /* just run the control plane */
        xnv_nf_info(e->nf, &info);
        if (info.connections == 2 && xnv_nf_state(e->nf) == XNV_NF_CONNECTED)
            break;
    }
    ck_assert_uint_eq(info.connections, 2);
    ck_assert_int_eq(xnv_nf_state(e->nf), XNV_NF_CONNECTED);
}

START_TEST(reconnect_backend_restarts_in_initwait)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ping_both_ways(&e);
    nftb_restart(&e.be);
    second_connection(&e);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ping_both_ways(&e);
    nf_env_stop(&e);
}
END_TEST

/* xl save / xl restore: the toolstack resets both ends to Initialising. */
START_TEST(reconnect_after_restore)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ping_both_ways(&e);
    nftb_restore(&e.be);
    second_connection(&e);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ping_both_ways(&e);
    ck_assert(nf_env_log_has(&e, "from outside"));
    nf_env_stop(&e);
}
END_TEST

/* ... and the guest kernel lost every event channel binding on the way
 * (Linux does on resume): the old ports are never unbound (Linux BUG()s
 * there), a new handle serves the new connection. */
START_TEST(reconnect_after_restore_without_the_old_ports)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 2, .split = true, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ping_both_ways(&e);
    ck_assert_int_eq(xnv_sim_domain_resume(e.sim, e.fdom), 0);
    nftb_restore(&e.be);
    second_connection(&e);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ping_both_ways(&e);
    ck_assert(nf_env_log_has(&e, "new event channel handle"));
    struct xnv_sim_counters c;
    xnv_sim_counters(e.sim, e.fdom, &c);
    ck_assert_uint_eq(c.stale_ops, 0);
    nf_env_stop(&e);
}
END_TEST

START_TEST(reconnect_on_request)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    ck_assert_int_eq(xnv_nf_reconnect(e.nf), 0);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 5000), 0);
    ck_assert(nftb_wait_connected(&e.be, true, 2000));
    ping_both_ways(&e);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.connections, 2);
    nf_env_stop(&e);
}
END_TEST

START_TEST(reconnect_attempts_back_off_when_the_backend_keeps_failing)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    nftb_lock(&e.be);
    e.be.refuse = true;
    nftb_unlock(&e.be);
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.connect_timeout_ms = 0;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 2500), -ETIMEDOUT);
    nftb_lock(&e.be);
    unsigned n = e.be.refusals;
    nftb_unlock(&e.be);
    /* Three at once, then one after 1 s, one after 2 s more: not hundreds. */
    ck_assert_uint_ge(n, 3);
    ck_assert_uint_le(n, 6);
    /* Once the backend works again, the next attempt connects. */
    nftb_lock(&e.be);
    e.be.refuse = false;
    nftb_unlock(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 10000), 0);
    ping_both_ways(&e);
    nf_env_stop(&e);
}
END_TEST

/* ---- grants ---------------------------------------------------------------------- */

START_TEST(grant_limit_too_low_is_explained)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 4, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 2;
    o.grant_limit = 60;
    o.connect_timeout_ms = 300;
    ck_assert_ptr_null(nf_env_open(&e, &o));
    ck_assert_msg(strstr(e.err, "grant limit is too low") && strstr(e.err, "gntalloc allows 60") &&
                  strstr(e.err, "2 queue(s) need at least 76"), "%s", e.err);
    ck_assert(nf_env_log_has(&e, "grant limit is too low"));
    nf_env_stop(&e);
}
END_TEST

START_TEST(grant_limit_reached_while_sharing_is_explained)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    xnv_sim_set_share_limit(e.sim, e.fdom, 100);
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.connect_timeout_ms = 300;
    ck_assert_ptr_null(nf_env_open(&e, &o));
    ck_assert_msg(strstr(e.err, "grant limit was reached"), "%s", e.err);
    ck_assert(nf_env_guest_can_share(&e, 100));    /* nothing left behind */
    nf_env_stop(&e);
}
END_TEST

START_TEST(grant_pool_sized_to_the_limit)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 4, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 4;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    struct xnv_nf_info info;
    xnv_nf_info(e.nf, &info);
    ck_assert_uint_eq(info.grant_limit, 1024);
    ck_assert_uint_eq(info.tx_bufs, 127);
    ck_assert_uint_eq(info.rx_bufs, 127);
    ck_assert_uint_eq(info.shared_pages, 4 * 256);
    ck_assert(!nf_env_guest_can_share(&e, 1));
    nf_env_stop(&e);
}
END_TEST

START_TEST(close_revokes_everything_and_says_closed)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 2, .split = true, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 2;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    ping_both_ways(&e);
    xnv_nf_close(e.nf);
    e.nf = NULL;
    ck_assert_int_eq(nftb_front_state(&e.be), 6);
    ck_assert(nftb_wait_connected(&e.be, false, 2000));
    for (int i = 0; i < 2000 && e.be.state != 6; i++)
        usleep(1000);
    ck_assert_int_eq(e.be.state, 6);
    ck_assert(nf_env_guest_can_share(&e, 1024));
    assert_no_key(&e, e.be.fe_path, "queue-0");
    assert_no_key(&e, e.be.fe_path, "tx-ring-ref");
    /* A new instance connects again. */
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    ping_both_ways(&e);
    nf_env_stop(&e);
}
END_TEST

/* ---- bridge to a port ----------------------------------------------------------------- */

/* The next frame the bridge wrote to queue 0 of port (waits up to 2 s). */
static int port_take_wait(struct xnv_port *port, struct virtio_net_hdr *vh)
{
    int n = -EAGAIN;
    for (int i = 0; i < 2000 && n == -EAGAIN; i++) {
        n = xnv_memport_take(port, 0, vh, got, sizeof got);
        if (n == -EAGAIN)
            usleep(1000);
    }
    return n;
}

START_TEST(bridge_moves_frames_and_follows_the_connection)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 2, .trusted = -1 });
    struct xnv_nf_options o;
    xnv_nf_options_default(&o);
    o.queues = 2;
    o.connect_timeout_ms = 5000;
    ck_assert_msg(nf_env_open(&e, &o), "%s", e.err);
    struct xnv_port *port = xnv_memport_open("xnv0", 64);
    char err[128];
    struct xnv_nf_bridge *b = xnv_nf_bridge_start(e.nf, port, err, sizeof err);
    ck_assert_msg(b, "%s", err);
    struct xnv_memport_stats ms;
    xnv_memport_stats(port, &ms);
    ck_assert(ms.carrier);
    ck_assert_uint_eq(ms.offload, XNV_F_IPV6_CSUM | XNV_F_GSO_TCPV4 | XNV_F_GSO_TCPV6);
    ck_assert_uint_eq(port->nqueues, 2);

    /* guest stack -> TAP -> rings -> backend, as a large segment */
    struct xnv_offload off;
    uint32_t len = make_frame(GSO_V6, frame, &off);
    struct virtio_net_hdr vh;
    xnv_offload_to_vnet(&off, &vh);
    ck_assert_int_eq(xnv_memport_inject(port, 1, &vh, frame, len), 0);
    struct xnv_tx_pkt pkt;
    ck_assert_int_eq(nf_env_take(&e, 1, got, sizeof got, &pkt, 2000), (int)len);
    ck_assert_uint_eq(pkt.gso_type, XEN_NETIF_GSO_TYPE_TCPV6);
    ck_assert(memcmp(got, frame, len) == 0);

    /* backend -> rings -> TAP -> guest stack */
    len = make_frame(CSUM_V4, frame, &off);
    struct xnv_rx_meta m = { .flags = NETRXF_csum_blank | NETRXF_data_validated };
    ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &m), 0);
    int n = port_take_wait(port, &vh);
    ck_assert_int_eq(n, (int)len);
    ck_assert_uint_eq(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);

    /* A large segment fills 15 ring slots and reaches the TAP in as many
     * pieces, straight from the receive buffers: intact, in one frame. */
    len = make_frame(GSO_V6, frame, &off);
    m = (struct xnv_rx_meta){ .flags = NETRXF_csum_blank | NETRXF_data_validated,
                              .gso_type = XEN_NETIF_GSO_TYPE_TCPV6, .gso_size = 1448 };
    ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &m), 0);
    n = port_take_wait(port, &vh);
    ck_assert_int_eq(n, (int)len);
    ck_assert(memcmp(got, frame, len) == 0);
    ck_assert_uint_eq(vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
    ck_assert_uint_eq(vh.gso_size, 1448);

    /* The backend leaves: carrier off; it returns: carrier on, traffic again. */
    nftb_leave(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTING, 2000), 0);
    xnv_nf_bridge_sync(b);
    xnv_memport_stats(port, &ms);
    ck_assert(!ms.carrier);
    nftb_return(&e.be);
    ck_assert_int_eq(xnv_nf_wait_state(e.nf, XNV_NF_CONNECTED, 5000), 0);
    xnv_nf_bridge_sync(b);
    xnv_memport_stats(port, &ms);
    ck_assert(ms.carrier);
    len = build_udp_frame(frame, 99);
    memset(&vh, 0, sizeof vh);
    ck_assert_int_eq(xnv_memport_inject(port, 0, &vh, frame, len), 0);
    ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, NULL, 2000), (int)len);

    struct xnv_nf_bridge_stats bs;
    xnv_nf_bridge_stats(b, &bs);
    ck_assert_uint_eq(bs.from_port, 2);
    ck_assert_uint_eq(bs.to_port, 2);
    ck_assert_uint_eq(bs.to_port_dropped, 0);
    xnv_nf_bridge_stop(b);
    xnv_port_close(port);
    nf_env_stop(&e);
}
END_TEST

/* The bridge reads its port once more after a frame it wrote there (did
 * the guest's kernel answer at once?) and after one it read (another?), and
 * not on its other wakeups (the backend's notifications); it reads the event
 * channel only on wakeups that brought events.  Each read that finds
 * nothing is a system call (a hypervisor trip in a PV guest). */
static void bridge_port_reads(bool counted)
{
    struct nf_env e;
    nf_env_start(&e, &(struct nftb_config){ .max_queues = 1, .trusted = -1 });
    ck_assert_msg(nf_env_open(&e, NULL), "%s", e.err);
    struct xnv_port *port = xnv_memport_open("xnv0", 64);
    xnv_memport_set_counted(port, counted, false);
    char err[128];
    struct xnv_nf_bridge *b = xnv_nf_bridge_start(e.nf, port, err, sizeof err);
    ck_assert_msg(b, "%s", err);
    usleep(50000);
    struct xnv_memport_stats m0, m1;
    xnv_memport_stats(port, &m0);
    struct xnv_sim_counters c0, c1;
    xnv_sim_counters(e.sim, e.fdom, &c0);
    struct xnv_nf_stats s0, s1;
    xnv_nf_stats(e.nf, XNV_NF_ALL_QUEUES, &s0);

    uint32_t len = build_udp_frame(frame, 99);      /* backend -> guest */
    struct xnv_rx_meta m = { 0 };
    ck_assert_int_eq(nftb_rx_send(&e.be, 0, frame, len, &m), 0);
    struct virtio_net_hdr vh;
    int n = port_take_wait(port, &vh);
    ck_assert_int_eq(n, (int)len);
    usleep(50000);
    memset(&vh, 0, sizeof vh);                       /* guest -> backend */
    ck_assert_int_eq(xnv_memport_inject(port, 0, &vh, frame, len), 0);
    ck_assert_int_eq(nf_env_take(&e, 0, got, sizeof got, NULL, 2000), (int)len);
    usleep(50000);
    xnv_memport_stats(port, &m1);
    ck_assert_uint_eq(m1.received - m0.received, 1);
    /* once after the frame written (did the guest answer at once?), once
     * after the frame read; a port that counts its frames: never */
    ck_assert_uint_eq(m1.empty_reads - m0.empty_reads, counted ? 0 : 2);
    /* The event channel is read only on wakeups that brought events: each
     * such service reads its events, then once more to find none. */
    xnv_sim_counters(e.sim, e.fdom, &c1);
    xnv_nf_stats(e.nf, XNV_NF_ALL_QUEUES, &s1);
    ck_assert_uint_gt(s1.events, s0.events);
    ck_assert_uint_le(c1.evtchn_reads - c0.evtchn_reads, 2 * (s1.events - s0.events));
    xnv_nf_bridge_stop(b);
    xnv_port_close(port);
    nf_env_stop(&e);
}

START_TEST(bridge_reads_an_empty_port_only_after_traffic)
{
    bridge_port_reads(false);
}
END_TEST

START_TEST(bridge_reads_a_counted_port_only_when_a_frame_waits)
{
    bridge_port_reads(true);
}
END_TEST

Suite *xnv_suite_netfront(void)
{
    Suite *s = suite_create("netfront");
    TCase *t = tcase_create("handshake");
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, handshake_queues_and_event_channels, 0, 4);
    tcase_add_test(t, handshake_queues_bounded_by_backend);
    tcase_add_test(t, handshake_without_multi_queue_key_uses_one_queue);
    tcase_add_test(t, handshake_requires_rx_copy);
    tcase_add_test(t, open_without_device_fails_clearly);
    tcase_add_test(t, handshake_resets_a_stale_backend);
    suite_add_tcase(s, t);

    t = tcase_create("traffic");
    tcase_set_timeout(t, 60);
    tcase_add_checked_fixture(t, traffic_setup, traffic_teardown);
    tcase_add_loop_test(t, traffic_tx_every_offload, 0, NKINDS);
    tcase_add_loop_test(t, traffic_rx_every_offload, 0, NKINDS);
    tcase_add_test(t, traffic_send_with_virtio_net_header);
    tcase_add_test(t, traffic_batches_and_backpressure);
    tcase_add_test(t, traffic_frame_too_big_for_caller_is_dropped);
    tcase_add_test(t, traffic_bad_frames_are_counted_not_sent);
    suite_add_tcase(s, t);

    t = tcase_create("offload-negotiation");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, traffic_offloads_the_backend_lacks);
    tcase_add_test(t, traffic_rx_completes_checksums_for_the_caller);
    suite_add_tcase(s, t);

    t = tcase_create("reconnect");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, reconnect_backend_leaves_and_returns);
    tcase_add_test(t, reconnect_backend_restarts_in_initwait);
    tcase_add_test(t, reconnect_after_restore);
    tcase_add_test(t, reconnect_after_restore_without_the_old_ports);
    tcase_add_test(t, reconnect_on_request);
    tcase_add_test(t, reconnect_attempts_back_off_when_the_backend_keeps_failing);
    suite_add_tcase(s, t);

    t = tcase_create("grants");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, grant_limit_too_low_is_explained);
    tcase_add_test(t, grant_limit_reached_while_sharing_is_explained);
    tcase_add_test(t, grant_pool_sized_to_the_limit);
    tcase_add_test(t, close_revokes_everything_and_says_closed);
    suite_add_tcase(s, t);

    t = tcase_create("bridge");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, bridge_moves_frames_and_follows_the_connection);
    tcase_add_test(t, bridge_reads_an_empty_port_only_after_traffic);
    tcase_add_test(t, bridge_reads_a_counted_port_only_when_a_frame_waits);
    suite_add_tcase(s, t);
    return s;
}
