/* Fuzz target: the sender side of a direct channel over a ring page the
 * receiving peer controls entirely (interdomain/idc_ring.c): attaching to a
 * ring someone used before, placing frames into the peer's posted buffers,
 * asking for notifications, and the metadata of the frames it places.
 *
 * Input: u32 the ring's response producer at attach time, then operations
 * until the input ends, each introduced by one byte op:
 *   op % 5 == 0  the peer posts: u8 k, then k requests (8 bytes each) at its
 *                producer, which advances by k
 *   op % 5 == 1  the peer scribbles: u16 offset, u8 n, n bytes anywhere in
 *                the shared page (indices and events included)
 *   op % 5 == 2  place a frame: u16 len, u8 GSO type (mod 3), u16 GSO size,
 *                u8 its packet index in the copy batch
 *   op % 5 == 3  arm (ask for a notification on new requests)
 *   op % 5 == 4  frame metadata: u8 meta kind, a virtio-net header (10
 *                bytes), u16 len, then that many frame bytes
 *
 * Checked: placing succeeds exactly when the producer (read once) is within
 * a ring of what was consumed and enough requests are posted; on success
 * the slots consumed equal the responses produced (the sender stays
 * attachable by the next one), every segment writes into the gref of the
 * slot it answers, inside its page, tagged with the frame's packet index
 * (failed copies are blamed on that frame); nothing moves on failure; metadata is
 * either refused or a known GSO type with a size. */
#include <errno.h>
#include "fuzz_common.h"
#include "../../interdomain/idc_int.h"

#define DOM 5

static uint8_t page[XNV_PAGE_SIZE] __attribute__((aligned(4096)));
static uint8_t local[XNV_RX_MAX_LEN + 1];
static uint8_t frame[XNV_RX_MAX_LEN + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz in = fz_init(data, size);
    memset(page, 0, sizeof page);
    netif_rx_sring_t *s = (netif_rx_sring_t *)page;
    SHARED_RING_INIT(s);
    RING_IDX start = fz_u32(&in);
    s->rsp_prod = start;
    s->req_prod = start;
    netif_rx_back_ring_t ring;
    idc_ring_attach(&ring, page);
    FZ_CHECK(ring.req_cons == start && ring.rsp_prod_pvt == start);
    RING_IDX peer_prod = start;
    struct xnv_copy_batch b;
    if (xnv_copy_batch_init(&b, IDC_COPY_SEGS))
        abort();

    for (unsigned ops = 0; !fz_empty(&in) && ops < 512; ops++) {
        uint8_t op = fz_u8(&in);
        switch (op % 5) {
        case 0: {
            unsigned k = fz_u8(&in);
            for (unsigned i = 0; i < k; i++) {
                netif_rx_request_t r;
                fz_bytes(&in, &r, sizeof r);
                memcpy(RING_GET_REQUEST(&ring, peer_prod + i), &r, sizeof r);
            }
            peer_prod += k;
            s->req_prod = peer_prod;
            break;
        }
        case 1: {
            unsigned off = fz_u16(&in) % XNV_PAGE_SIZE, n = fz_u8(&in);
            if (off + n > XNV_PAGE_SIZE)
                n = XNV_PAGE_SIZE - off;
            fz_bytes(&in, page + off, n);
            peer_prod = s->req_prod;
            break;
        }
        case 2: {
            uint32_t len = fz_u16(&in);
            struct xnv_rx_meta m = { .gso_type = (uint8_t)(fz_u8(&in) % 3) };
            m.gso_size = fz_u16(&in);
            uint16_t pkt = fz_u8(&in);
            RING_IDX prod = s->req_prod, cons = ring.req_cons, pvt = ring.rsp_prod_pvt;
            netif_rx_request_t snap[XNV_NETIF_RX_RING_SIZE];
            memcpy(snap, s->ring, sizeof snap);
            xnv_copy_batch_reset(&b);
            struct xnv_rx_placed pl;
            int rc = idc_ring_put(&ring, DOM, local, len, &m, &b, pkt, &pl);
            unsigned need = xnv_rx_slots(len, &m);
            bool sane = (RING_IDX)(prod - cons) <= RING_SIZE(&ring);
            if (!sane) {
                FZ_CHECK(rc == -EPROTO);
            } else if ((RING_IDX)(prod - cons) < need) {
                FZ_CHECK(rc == -EAGAIN);
            } else {
                FZ_CHECK(rc == 0);
            }
            if (rc) {
                FZ_CHECK(ring.req_cons == cons && ring.rsp_prod_pvt == pvt && b.n == 0);
                break;
            }
            FZ_CHECK(ring.req_cons == cons + need && ring.rsp_prod_pvt == pvt + need);
            FZ_CHECK(pl.first == cons && pl.nr_slots == need);
            for (unsigned i = 0; i < b.n; i++) {
                const xengnttab_grant_copy_segment_t *g = &b.seg[i];
                FZ_CHECK(g->flags & GNTCOPY_dest_gref);
                FZ_CHECK(g->dest.foreign.domid == DOM);
                FZ_CHECK(b.pkt[i] == pkt);
                FZ_CHECK((uint32_t)g->dest.foreign.offset + g->len <= XNV_PAGE_SIZE);
                bool found = false;
                for (unsigned j = 0; j < need && !found; j++)
                    found = snap[(cons + j) & (RING_SIZE(&ring) - 1)].gref == g->dest.foreign.ref;
                FZ_CHECK(found);
            }
            int notify;
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&ring, notify);
            (void)notify;
            FZ_CHECK(s->rsp_prod == ring.rsp_prod_pvt);
            break;
        }
        case 3: {
            unsigned need = 1 + fz_u8(&in) % 20;
            bool room = idc_ring_arm(&ring, need);
            FZ_CHECK(s->req_event == ring.req_cons + need);
            (void)room;
            break;
        }
        case 4: {
            struct xnv_nf_frame f = { .data = frame, .meta = (uint8_t)(fz_u8(&in) & 1) };
            fz_bytes(&in, &f.vh, sizeof f.vh);
            f.off.gso_type = (uint8_t)(f.vh.gso_type % 4);
            f.off.gso_size = f.vh.gso_size;
            f.off.csum_partial = f.vh.flags & 1;
            f.off.csum_start = f.vh.csum_start;
            f.off.csum_offset = f.vh.csum_offset;
            f.len = fz_u16(&in);
            fz_bytes(&in, frame, f.len);
            struct xnv_rx_meta m;
            const char *why = NULL;
            int rc = idc_frame_meta(&f, &m, &why);
            FZ_CHECK(rc == 0 || (rc == -EINVAL && why));
            if (rc == 0 && m.gso_type != XEN_NETIF_GSO_TYPE_NONE)
                FZ_CHECK((m.gso_type == XEN_NETIF_GSO_TYPE_TCPV4 || m.gso_type == XEN_NETIF_GSO_TYPE_TCPV6) &&
                         m.gso_size > 0);
            break;
        }
        }
    }
    xnv_copy_batch_free(&b);
    return 0;
}
