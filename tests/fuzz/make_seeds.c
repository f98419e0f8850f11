/* Writes the seed corpora of the xnv fuzz targets: a few well-formed and a
 * few hostile inputs per target, in each target's input layout (described
 * at the top of tests/fuzz/fuzz_<name>.c).
 *
 *   make fuzz-seeds          (or: build/fuzz/make_seeds tests/fuzz/corpus)
 *
 * Output is deterministic, so regenerating gives the same files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "xnv/netif.h"

static const char *outdir;

struct seed {
    uint8_t d[32768];
    size_t n;
};

static void p8(struct seed *s, unsigned v) { s->d[s->n++] = (uint8_t)v; }
static void p16(struct seed *s, unsigned v) { p8(s, v & 0xff); p8(s, (v >> 8) & 0xff); }
static void p32(struct seed *s, uint32_t v) { p16(s, v & 0xffff); p16(s, v >> 16); }
static void pbytes(struct seed *s, const void *p, size_t n)
{
    memcpy(s->d + s->n, p, n);
    s->n += n;
}

static void mkdir_p(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *c = tmp + 1; *c; c++) {
        if (*c == '/') {
            *c = '\0';
            mkdir(tmp, 0755);
            *c = '/';
        }
    }
    if (mkdir(tmp, 0755) && errno != EEXIST) {
        perror(tmp);
        exit(1);
    }
}

static void emit(const char *target, const char *name, const struct seed *s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", outdir, target);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->d, 1, s->n, f) != s->n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

/* ---- frames ------------------------------------------------------------- */

enum { F_V4 = 1, F_V6 = 2, F_VLAN = 4, F_UDP = 8, F_FRAG = 16, F_HOPOPT = 32 };

static void be16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Ethernet (+ VLAN) + IPv4/IPv6 (+ hop-by-hop) + TCP/UDP + payload. */
static size_t frame(uint8_t *f, unsigned kind, unsigned payload)
{
    static const uint8_t dst[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x02 };
    static const uint8_t src[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x01 };
    size_t o = 0;
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    o = 12;
    if (kind & F_VLAN) {
        be16(f + o, 0x8100);
        be16(f + o + 2, 42);
        o += 4;
    }
    unsigned l4len = (kind & F_UDP ? 8 : 20) + payload;
    uint8_t proto = kind & F_UDP ? 17 : 6;
    if (kind & F_V6) {
        be16(f + o, 0x86dd);
        o += 2;
        uint8_t *ip = f + o;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        unsigned ext = kind & F_HOPOPT ? 8 : 0;
        be16(ip + 4, l4len + ext);
        ip[6] = ext ? 0 : proto;
        ip[7] = 64;
        ip[8] = 0xfd;
        ip[23] = 1;
        ip[24] = 0xfd;
        ip[39] = 2;
        o += 40;
        if (ext) {
            memset(f + o, 0, 8);
            f[o] = proto;
            f[o + 2] = 1;     /* PadN */
            f[o + 3] = 4;
            o += 8;
        }
    } else {
        be16(f + o, 0x0800);
        o += 2;
        uint8_t *ip = f + o;
        memset(ip, 0, 20);
        ip[0] = 0x45;
        be16(ip + 2, 20 + l4len);
        if (kind & F_FRAG)
            be16(ip + 6, 0x2000);   /* more fragments */
        ip[8] = 64;
        ip[9] = proto;
        ip[12] = 10; ip[15] = 1;
        ip[16] = 10; ip[19] = 2;
        o += 20;
    }
    uint8_t *l4 = f + o;
    be16(l4, 40000);
    be16(l4 + 2, kind & F_UDP ? 53 : 80);
    if (kind & F_UDP) {
        be16(l4 + 4, l4len);
        be16(l4 + 6, 0);
        o += 8;
    } else {
        memset(l4 + 4, 0, 16);
        l4[4] = 0x12;
        l4[12] = 0x50;          /* data offset 5 words */
        l4[13] = 0x18;          /* PSH ACK */
        be16(l4 + 14, 65535);
        o += 20;
    }
    for (unsigned i = 0; i < payload; i++)
        f[o + i] = (uint8_t)('a' + i % 26);
    return o + payload;
}

/* Sum of 16-bit words, folded (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* An IPv4 UDP frame whose checksum, once completed, is 0x0000 (the last two
 * payload bytes are chosen so that everything else sums to 0xffff). */
static size_t udp_zero_frame(uint8_t *f)
{
    size_t n = frame(f, F_V4 | F_UDP, 10);
    const uint8_t *ip = f + 14;
    uint8_t *udp = f + 34;
    size_t l4 = n - 34;
    udp[l4 - 2] = udp[l4 - 1] = 0;
    uint32_t s = sum16(ip + 12, 8, 0);
    s = sum16((const uint8_t[]){ 0, 17 }, 2, s);
    uint8_t lenb[2];
    be16(lenb, (unsigned)l4);
    s = sum16(lenb, 2, s);
    s = sum16(udp, l4, s);
    unsigned w = 0xffff - s;
    be16(udp + l4 - 2, w);
    return n;
}

/* ---- tx_read ------------------------------------------------------------ */

static void txreq(struct seed *s, uint32_t gref, uint16_t off, uint16_t flags, uint16_t id,
                  uint16_t size)
{
    netif_tx_request_t r = { .gref = gref, .offset = off, .flags = flags, .id = id, .size = size };
    pbytes(s, &r, sizeof r);
}

static void txextra(struct seed *s, uint8_t type, uint8_t flags, const void *u, size_t ulen)
{
    uint8_t slot[sizeof(netif_tx_request_t)] = { 0 };
    slot[0] = type;
    slot[1] = flags;
    memcpy(slot + 2, u, ulen);
    pbytes(s, slot, sizeof slot);
}

static void tx_head(struct seed *s, uint32_t start)
{
    s->n = 0;
    p32(s, start);
    p8(s, 0);        /* NETIF_RSP_OKAY */
    p8(s, 15);       /* batch of 16 segments */
}

static void seeds_tx_read(void)
{
    struct seed s;
    tx_head(&s, 0);
    p8(&s, 1);
    txreq(&s, 10, 0, 0, 0, 60);
    emit("tx_read", "one_slot", &s);

    tx_head(&s, 0);
    p8(&s, 3);       /* 9000 bytes over three slots: the first holds what remains */
    txreq(&s, 10, 0, NETTXF_more_data | NETTXF_csum_blank, 1, 9000);
    txreq(&s, 11, 0, NETTXF_more_data, 2, 4096);
    txreq(&s, 12, 0, 0, 3, 4096);
    emit("tx_read", "three_slots", &s);

    tx_head(&s, 0);
    p8(&s, 3);       /* a GSO extra between the first and the second slot */
    txreq(&s, 10, 0, NETTXF_more_data | NETTXF_extra_info | NETTXF_csum_blank, 1, 5000);
    txextra(&s, XEN_NETIF_EXTRA_TYPE_GSO, 0, (const uint8_t[]){ 0xa8, 0x05, 1, 0, 0, 0 }, 6);
    txreq(&s, 11, 0, 0, 2, 4000);
    emit("tx_read", "gso_extra", &s);

    tx_head(&s, 0);
    p8(&s, 4);       /* multicast add, then a hash extra before a packet */
    txreq(&s, 0, 0, NETTXF_extra_info, 1, 0);
    txextra(&s, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0,
            (const uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, 6);
    txreq(&s, 10, 0, NETTXF_extra_info, 2, 64);
    txextra(&s, XEN_NETIF_EXTRA_TYPE_HASH, 0, (const uint8_t[]){ 1, 0, 1, 2, 3, 4 }, 6);
    emit("tx_read", "mcast_hash", &s);

    for (unsigned slots = 18; slots <= 20; slots++) {
        tx_head(&s, 0);
        p8(&s, slots);
        txreq(&s, 10, 0, NETTXF_more_data, 0, (uint16_t)(100 * slots));
        for (unsigned i = 1; i < slots; i++)
            txreq(&s, 10 + i, 0, i + 1 < slots ? NETTXF_more_data : 0, (uint16_t)i, 100);
        char name[32];
        snprintf(name, sizeof name, "slots_%u", slots);
        emit("tx_read", name, &s);
    }

    tx_head(&s, 0);
    p8(&s, 3);       /* a zero-size slot inside the chain (rule 7) */
    txreq(&s, 10, 0, NETTXF_more_data, 1, 200);
    txreq(&s, 11, 0, NETTXF_more_data, 2, 0);
    txreq(&s, 12, 0, 0, 3, 100);
    emit("tx_read", "empty_slot", &s);

    tx_head(&s, 0xfffffff8u);   /* indices wrapping, two postings */
    p8(&s, 6);
    for (unsigned i = 0; i < 6; i++)
        txreq(&s, 20 + i, (uint16_t)(i * 100), 0, (uint16_t)i, 60);
    p8(&s, 6);
    for (unsigned i = 0; i < 6; i++)
        txreq(&s, 30 + i, 0, 0, (uint16_t)(6 + i), 1514);
    emit("tx_read", "wrap", &s);

    tx_head(&s, 0);
    p8(&s, 255);     /* the producer jumps more than a ring ahead */
    p16(&s, 300);
    emit("tx_read", "prod_ahead", &s);

    tx_head(&s, 0);
    p8(&s, 1);       /* an extra announced, none posted */
    txreq(&s, 10, 0, NETTXF_extra_info, 1, 60);
    emit("tx_read", "extra_missing", &s);

    tx_head(&s, 0);
    p8(&s, 2);       /* 70000 bytes: the 16-bit size wraps (rule 4) */
    txreq(&s, 10, 0, NETTXF_more_data, 1, (uint16_t)70000);
    txreq(&s, 11, 0, 0, 2, 4096);
    emit("tx_read", "size_wrap", &s);

    tx_head(&s, 0);
    p8(&s, 2);       /* a later slot crossing its page (rule 5) */
    txreq(&s, 10, 0, NETTXF_more_data, 1, 3000);
    txreq(&s, 11, 4000, 0, 2, 200);
    emit("tx_read", "cross_page", &s);
}

/* ---- offload ------------------------------------------------------------ */

static void off_seed(const char *name, uint16_t flags, uint8_t gso_type, uint16_t gso_size,
                     uint32_t peer, const uint8_t vh[10], const uint8_t *f, size_t n)
{
    struct seed s = { .n = 0 };
    p16(&s, flags);
    p8(&s, gso_type);
    p16(&s, gso_size);
    p32(&s, peer);
    static const uint8_t none[10];
    pbytes(&s, vh ? vh : none, 10);
    p16(&s, 34);
    p16(&s, 16);
    pbytes(&s, f, n);
    emit("offload", name, &s);
}

static void seeds_offload(void)
{
    static uint8_t f[9100];
    size_t n;
    /* peer flags: 0x0e = GSO v4 + v6 + IPv6 csum; 0x10 = no IPv4 csum */
    n = frame(f, F_V4, 100);
    off_seed("v4_tcp_csum", NETTXF_csum_blank | NETTXF_data_validated, 0, 0, 0x10, NULL, f, n);
    n = frame(f, F_V4 | F_UDP, 33);
    off_seed("v4_udp_csum", NETTXF_csum_blank, 0, 0, 0x10, NULL, f, n);
    n = frame(f, F_V6 | F_HOPOPT, 200);
    off_seed("v6_hop_tcp_csum", NETTXF_csum_blank, 0, 0, 0, NULL, f, n);
    n = frame(f, F_V4 | F_VLAN, 9000 - 58);
    off_seed("v4_vlan_gso", NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 0x0e, NULL, f, n);
    n = frame(f, F_V6, 3000);
    off_seed("v6_gso", NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV6, 1428, 0x02, NULL, f, n);
    n = frame(f, F_V4 | F_FRAG | F_UDP, 40);
    off_seed("v4_fragment", NETTXF_csum_blank, 0, 0, 0x10, NULL, f, n);
    n = udp_zero_frame(f);
    off_seed("v4_udp_zero_csum", NETTXF_csum_blank, 0, 0, 0x10, NULL, f, n);
    /* virtio-net: NEEDS_CSUM at the TCP checksum, GSO TCPv4, hdr_len 54 */
    n = frame(f, F_V4, 3000);
    const uint8_t vh[10] = { 1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0 };
    off_seed("vnet_gso", 0, 0, 0, 0x10, vh, f, n);
    const uint8_t vh_bad[10] = { 1, 3, 54, 0, 0xa8, 0x05, 0xff, 0xff, 16, 0 };
    off_seed("vnet_bad", 0, 0, 0, 0, vh_bad, f, 60);
}

/* ---- rx_place ----------------------------------------------------------- */

static void rx_head(struct seed *s, uint32_t start, unsigned cap)
{
    s->n = 0;
    p32(s, start);
    p8(s, cap - 1);
}

static void rx_post(struct seed *s, unsigned k, unsigned base)
{
    p8(s, 0);
    p8(s, k);
    for (unsigned i = 0; i < k; i++) {
        netif_rx_request_t r = { .id = (uint16_t)(base + i), .gref = 500 + base + i };
        pbytes(s, &r, sizeof r);
    }
}

static void rx_local(struct seed *s, unsigned len, uint8_t flags, uint8_t gso, uint16_t gso_size)
{
    p8(s, 2);
    p16(s, len);
    p8(s, flags);
    p8(s, gso);
    p16(s, gso_size);
}

static void seeds_rx_place(void)
{
    struct seed s;
    rx_head(&s, 0, 16);
    rx_post(&s, 8, 0);
    rx_local(&s, 1514, NETRXF_data_validated, 0, 0);
    rx_local(&s, 9000, NETRXF_csum_blank | NETRXF_data_validated, XEN_NETIF_GSO_TYPE_TCPV4, 1448);
    p8(&s, 4);       /* run the batch: every segment fine */
    for (unsigned i = 0; i < 8; i++)
        p8(&s, 0);
    p8(&s, 0);
    emit("rx_place", "local_frames", &s);

    rx_head(&s, 0xfffffffcu, 8);
    rx_post(&s, 20, 100);
    p8(&s, 3);       /* three pieces: local, a grant, local */
    p8(&s, 3);
    p8(&s, 1); p16(&s, 1000); p16(&s, 0);
    p8(&s, 4); p16(&s, 3000); p16(&s, 96);
    p8(&s, 1); p16(&s, 500); p16(&s, 0);
    p8(&s, 0); p8(&s, 0); p16(&s, 0);
    p8(&s, 5);       /* fail it */
    rx_local(&s, 65535, 0, XEN_NETIF_GSO_TYPE_TCPV6, 1428);
    emit("rx_place", "scattered_wrap", &s);

    rx_head(&s, 0, 2);
    rx_post(&s, 1, 0);
    rx_local(&s, 5000, 0, 0, 0);      /* needs two slots: -EAGAIN */
    p8(&s, 1);
    p16(&s, 400);                     /* then the producer runs ahead: -EPROTO */
    rx_local(&s, 60, 0, 0, 0);
    emit("rx_place", "starved", &s);
}

/* ---- xs_values ---------------------------------------------------------- */

static void xs_seed(const char *name, unsigned side, unsigned maxq, const char *text)
{
    struct seed s = { .n = 0 };
    p8(&s, side);
    p16(&s, maxq);
    pbytes(&s, text, strlen(text));
    emit("xs_values", name, &s);
}

static void seeds_xs_values(void)
{
    xs_seed("backend", 1, 8,
            "feature-sg=1\nfeature-gso-tcpv4=1\nfeature-gso-tcpv6=1\n"
            "feature-ipv6-csum-offload=1\nfeature-rx-copy=1\nfeature-rx-flip=0\n"
            "feature-multicast-control=1\nfeature-dynamic-multicast-control=1\n"
            "feature-split-event-channels=1\nfeature-ctrl-ring=0\nmulti-queue-max-queues=8");
    xs_seed("frontend", 0, 8,
            "request-rx-copy=1\nfeature-rx-notify=1\nfeature-sg=1\nfeature-gso-tcpv4=1\n"
            "feature-no-csum-offload=0\nrequest-multicast-control=1\nmulti-queue-num-queues=4\n"
            "mac=00:16:3e:5a:00:01\nrate=10000000,50000");
    xs_seed("bad_values", 0, 4,
            "multi-queue-num-queues=0\nfeature-sg=yes\nmac=00:16:3e:5a:00\n"
            "rate=,\n18446744073709551616\n-1\n 1\n");
    xs_seed("values", 1, 65535,
            "18446744073709551615\n0\n1\nAA:bb:CC:dd:EE:ff\n01:00:5e:00:00:01\n"
            "00:00:00:00:00:00\n99999999999999999999,1\n5,0\nmulti-queue-max-queues=65535");
}

/* ---- hash --------------------------------------------------------------- */

static void hash_seed(const char *name, unsigned enabled, const uint8_t *f, size_t n)
{
    /* The usual 40-byte RSS key. */
    static const uint8_t key[40] = {
        0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
        0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
        0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
    };
    struct seed s = { .n = 0 };
    p8(&s, enabled);
    p8(&s, 40);
    pbytes(&s, key, 40);
    pbytes(&s, f, n);
    emit("hash", name, &s);
}

static void seeds_hash(void)
{
    static uint8_t f[2048];
    hash_seed("v4_tcp", 0x0f, f, frame(f, F_V4, 10));
    hash_seed("v4_udp", 0x0f, f, frame(f, F_V4 | F_UDP, 10));
    hash_seed("v4_tcp_addr_only", 0x05, f, frame(f, F_V4 | F_VLAN, 10));
    hash_seed("v6_tcp", 0x0f, f, frame(f, F_V6 | F_HOPOPT, 10));
    hash_seed("v4_fragment", 0x0f, f, frame(f, F_V4 | F_FRAG, 10));
}

/* ---- mcast -------------------------------------------------------------- */

static void seeds_mcast(void)
{
    struct seed s = { .n = 0 };
    /* pool adds, a match, deletes, a unicast add */
    for (unsigned i = 0; i < 8; i++)
        p8(&s, 0x80 | (i * 2 + 1));
    p8(&s, 0x80 | 0x40 | 3);
    p8(&s, 0x80 | 0x20 | 3);
    p8(&s, 0x80 | 0x20 | 3);
    p8(&s, 0x80 | 2);
    emit("mcast", "pool_ops", &s);

    s.n = 0;          /* literal: fill past the limit, then delete one */
    p8(&s, 0x60);
    pbytes(&s, (const uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x00 }, 6);
    p8(&s, 0x20);
    pbytes(&s, (const uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x05 }, 6);
    p8(&s, 0x00);
    pbytes(&s, (const uint8_t[]){ 0x33, 0x33, 0x00, 0x00, 0x00, 0x05 }, 6);
    emit("mcast", "fill", &s);
}

/* ---- nf_rx -------------------------------------------------------------- */

static void rxrsp(struct seed *s, uint16_t id, uint16_t off, uint16_t flags, int16_t status)
{
    netif_rx_response_t r = { .id = id, .offset = off, .flags = flags, .status = status };
    pbytes(s, &r, sizeof r);
}

static void nf_rx_head(struct seed *s, unsigned nbufs, uint32_t start, uint16_t cap)
{
    s->n = 0;
    p8(s, nbufs - 1);
    p32(s, start);
    p16(s, cap);
    p8(s, 0x0f);
}

static void nf_rx_frame_bytes(struct seed *s, unsigned buf, const uint8_t *f, size_t n)
{
    p8(s, 4);
    p8(s, buf);
    p16(s, 0);
    p16(s, n);
    pbytes(s, f, n);
}

static void seeds_nf_rx(void)
{
    static uint8_t f[4096];
    struct seed s;
    nf_rx_head(&s, 32, 0, 0);
    /* the first request posted holds buffer 0 */
    nf_rx_frame_bytes(&s, 0, f, frame(f, F_V4, 100));
    p8(&s, 0);
    p8(&s, 1);
    rxrsp(&s, 0, 0, NETRXF_data_validated, 154);
    p8(&s, 2);
    emit("nf_rx", "one_frame", &s);

    nf_rx_head(&s, 32, 0xfffffffeu, 0);
    size_t n = frame(f, F_V4, 1000);
    nf_rx_frame_bytes(&s, 0, f, n);
    p8(&s, 0);      /* csum_blank + a GSO extra, then a second slot */
    p8(&s, 3);
    rxrsp(&s, 0, 0, NETRXF_csum_blank | NETRXF_data_validated | NETRXF_extra_info |
          NETRXF_more_data, (int16_t)n);
    {
        uint8_t e[8] = { XEN_NETIF_EXTRA_TYPE_GSO, 0, 0xa8, 0x05, XEN_NETIF_GSO_TYPE_TCPV4, 0, 0, 0 };
        pbytes(&s, e, 8);
    }
    rxrsp(&s, 2, 0, 0, 2000);
    p8(&s, 3);
    emit("nf_rx", "gso_wrap", &s);

    nf_rx_head(&s, 8, 0, 1514);
    p8(&s, 0);      /* hostile: error status, crossing the page, chain past the producer */
    p8(&s, 3);
    rxrsp(&s, 0, 0, 0, -1);
    rxrsp(&s, 1, 4000, 0, 200);
    rxrsp(&s, 2, 0, NETRXF_more_data, 100);
    p8(&s, 2);
    p8(&s, 1);
    p16(&s, 0xff00);   /* producer backwards */
    p8(&s, 2);
    emit("nf_rx", "hostile", &s);
}

/* ---- nf_tx -------------------------------------------------------------- */

static void nf_tx_put(struct seed *s, uint16_t len, uint8_t flags, uint8_t gso, uint16_t gso_size,
                      uint16_t patch)
{
    p8(s, 0);
    p16(s, len);
    p8(s, flags);
    p8(s, gso);
    p16(s, gso_size);
    p16(s, patch);
    p8(s, 7);
}

static void txrsp(struct seed *s, uint16_t id, int16_t status)
{
    netif_tx_response_t r = { .id = id, .status = status };
    pbytes(s, &r, sizeof r);
}

static void seeds_nf_tx(void)
{
    struct seed s = { .n = 0 };
    p8(&s, 31);
    p8(&s, 3);
    p32(&s, 0);
    nf_tx_put(&s, 1514, NETTXF_data_validated, 0, 0, 50);
    nf_tx_put(&s, 9000, NETTXF_csum_blank, XEN_NETIF_GSO_TYPE_TCPV4, 1448, 0xffff);
    p8(&s, 1);      /* answers: the frame (buffer 0), then 3 slots + the extra's NULL */
    p8(&s, 5);
    txrsp(&s, 0, NETIF_RSP_OKAY);
    txrsp(&s, 1, NETIF_RSP_OKAY);
    txrsp(&s, 0, NETIF_RSP_NULL);
    txrsp(&s, 2, NETIF_RSP_ERROR);
    txrsp(&s, 3, NETIF_RSP_OKAY);
    p8(&s, 3);
    nf_tx_put(&s, 100, 0, 0, 0, 0xffff);
    p8(&s, 1);      /* a response for a request never made */
    p8(&s, 1);
    txrsp(&s, 5, NETIF_RSP_OKAY);
    p8(&s, 3);
    emit("nf_tx", "frames", &s);

    s.n = 0;
    p8(&s, 3);
    p8(&s, 1);      /* scrub, no sg */
    p32(&s, 0xfffffff0u);
    nf_tx_put(&s, 4000, 0, 0, 0, 0xffff);
    p8(&s, 1);
    p8(&s, 1);
    txrsp(&s, 0, NETIF_RSP_OKAY);
    p8(&s, 3);
    nf_tx_put(&s, 60, 0, 0, 0, 0xffff);     /* reuses the page: the rest is cleared */
    nf_tx_put(&s, 5000, 0, 0, 0, 0xffff);   /* two pages without sg: refused */
    p8(&s, 2);
    p16(&s, 600);                           /* producer far ahead */
    p8(&s, 3);
    emit("nf_tx", "scrub_wrap", &s);
}

/* ---- ctrl_ring ---------------------------------------------------------- */

static void ctrl_req(struct seed *s, uint16_t id, uint16_t type, uint32_t d0, uint32_t d1,
                     uint32_t d2)
{
    struct xen_netif_ctrl_request r = { .id = id, .type = type, .data = { d0, d1, d2 } };
    pbytes(s, &r, sizeof r);
}

static void seeds_ctrl_ring(void)
{
    static uint8_t f[256];
    struct seed s = { .n = 0 };
    p8(&s, 3);        /* 4 queues */
    p32(&s, 0);
    p8(&s, 3);        /* page 0: a 40-byte key (one byte per entry) */
    p8(&s, 0);
    p8(&s, 10);
    for (unsigned i = 0; i < 10; i++)
        p8(&s, 0x5a + i);
    p8(&s, 3);        /* page 1: a mapping table of 8 entries, queues 0..3 */
    p8(&s, 0);
    p8(&s, 8);
    for (unsigned i = 0; i < 8; i++)
        p8(&s, i % 4);
    p8(&s, 0);        /* the usual configuration sequence */
    p8(&s, 8);
    ctrl_req(&s, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_ALGORITHM, XEN_NETIF_CTRL_HASH_ALGORITHM_TOEPLITZ, 0, 0);
    ctrl_req(&s, 2, XEN_NETIF_CTRL_TYPE_GET_HASH_FLAGS, 0, 0, 0);
    ctrl_req(&s, 3, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 0x0f, 0, 0);
    ctrl_req(&s, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 40, 0);
    ctrl_req(&s, 5, XEN_NETIF_CTRL_TYPE_GET_HASH_MAPPING_SIZE, 0, 0, 0);
    ctrl_req(&s, 6, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 8, 0, 0);
    ctrl_req(&s, 7, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 1, 8, 0);
    ctrl_req(&s, 8, XEN_NETIF_CTRL_TYPE_ADD_GREF_MAPPING, 0, 0, 0);
    p8(&s, 2);
    p8(&s, 4);        /* steer a TCP frame */
    size_t n = frame(f, F_V4, 20);
    p16(&s, n);
    pbytes(&s, f, n);
    emit("ctrl_ring", "configure_and_steer", &s);

    s.n = 0;          /* item 15: bad sizes, offsets, queues; item 16: runaway producer */
    p8(&s, 1);        /* 2 queues */
    p32(&s, 0xfffffff0u);
    p8(&s, 3);
    p8(&s, 0x80 | 2); /* page 2: raw entries naming queue 7 */
    p8(&s, 0);
    p8(&s, 2);
    p32(&s, 0);
    p32(&s, 7);
    p8(&s, 0);
    p8(&s, 7);
    ctrl_req(&s, 1, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 129, 0, 0);
    ctrl_req(&s, 2, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING_SIZE, 4, 0, 0);
    ctrl_req(&s, 3, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 2, 2, 0xffffffffu);
    ctrl_req(&s, 4, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 2, 2, 0);
    ctrl_req(&s, 5, XEN_NETIF_CTRL_TYPE_SET_HASH_MAPPING, 9, 1, 0);
    ctrl_req(&s, 6, XEN_NETIF_CTRL_TYPE_SET_HASH_KEY, 0, 41, 0);
    ctrl_req(&s, 7, XEN_NETIF_CTRL_TYPE_SET_HASH_FLAGS, 1, 0, 0);
    p8(&s, 2);
    p8(&s, 1);
    p16(&s, 1000);
    p8(&s, 2);
    emit("ctrl_ring", "hostile", &s);
}

/* ---- idc_setup / idc_ring ---------------------------------------------- */

static void idc_setup_seed(const char *name, unsigned sel, unsigned self, const char *a, const char *b)
{
    struct seed s = { .n = 0 };
    p8(&s, sel);
    p16(&s, self);
    pbytes(&s, a, strlen(a) + 1);
    pbytes(&s, b, strlen(b));
    emit("idc_setup", name, &s);
}

static void seeds_idc_setup(void)
{
    idc_setup_seed("peer_entry", 3, 1, "2", "00:16:3e:00:00:0c");
    idc_setup_seed("ring_ref", 0, 1, "7", "4294967295");
    idc_setup_seed("self_and_multicast", 1, 9, "9", "01:00:5e:00:00:01");
    idc_setup_seed("serial_max", 2, 1, "32751", "18446744073709551615");
}

static void seeds_idc_ring(void)
{
    struct seed s = { .n = 0 };
    p32(&s, 0xfffffff0u);            /* attach near the wrap */
    p8(&s, 0);                       /* the peer posts 20 buffers */
    p8(&s, 20);
    for (unsigned i = 0; i < 20; i++) {
        netif_rx_request_t r = { .id = (uint16_t)i, .gref = 700 + i };
        pbytes(&s, &r, sizeof r);
    }
    p8(&s, 2); p16(&s, 1514); p8(&s, 0); p16(&s, 0); p8(&s, 0);
    p8(&s, 2); p16(&s, 60000); p8(&s, 1); p16(&s, 1448); p8(&s, 1);   /* too big now: -EAGAIN */
    p8(&s, 3);                                              /* arm */
    p8(&s, 1); p16(&s, 0); p8(&s, 4); p32(&s, 0x7fffffffu); /* req_prod far ahead */
    p8(&s, 2); p16(&s, 60); p8(&s, 0); p16(&s, 0); p8(&s, 2);
    p8(&s, 4); p8(&s, 1);                                   /* vnet metadata, partial csum */
    const uint8_t vh[10] = { 1, 1, 54, 0, 0xa8, 0x05, 34, 0, 16, 0 };
    pbytes(&s, vh, sizeof vh);
    uint8_t f[2048];
    size_t n = frame(f, F_V4, 600);
    p16(&s, (unsigned)n);
    pbytes(&s, f, n);
    emit("idc_ring", "attach_place_starve", &s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR (e.g. tests/fuzz/corpus)\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    seeds_tx_read();
    seeds_offload();
    seeds_rx_place();
    seeds_xs_values();
    seeds_hash();
    seeds_mcast();
    seeds_nf_rx();
    seeds_nf_tx();
    seeds_ctrl_ring();
    seeds_idc_setup();
    seeds_idc_ring();
    return 0;
}
