/* The TAP doorbell (tap_doorbell.h): a packet socket whose receive ring
 * records that a frame went out, never the frame. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap_doorbell.h"

/* 64-byte slots: the TPACKET_V2 header and the sender's address fit, the
 * frame's first byte would start beyond the slot, so the kernel copies
 * nothing (its snapshot length becomes 0).  256 slots, 16 KiB per queue:
 * entries are taken on every pass of the queue's thread. */
#define SLOT_SIZE 64u
#define BLOCK_SIZE 4096u
#define BLOCKS 4u
#define SLOTS (BLOCK_SIZE / SLOT_SIZE * BLOCKS)

int tap_doorbell_open(struct tap_doorbell *d, int ifindex, unsigned queue)
{
    d->fd = -1;
    d->ring = NULL;
    d->head = 0;
    /* protocol 0: no frame reaches the socket before the ring and the
     * filter are in place and bind() names the protocol */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* outgoing frames (the kernel transmits them to the TAP) of this queue
     * only: frames the backend writes to the TAP enter the kernel and are
     * not counted */
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_PKTTYPE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_QUEUE)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, queue, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 1),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
    int version = TPACKET_V2;
    struct tpacket_req req = {
        .tp_block_size = BLOCK_SIZE, .tp_block_nr = BLOCKS,
        .tp_frame_size = SLOT_SIZE, .tp_frame_nr = SLOTS,
    };
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex,
    };
    void *ring = MAP_FAILED;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0 ||
        (ring = mmap(NULL, BLOCK_SIZE * BLOCKS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED ||
        bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        int err = -errno;
        if (ring != MAP_FAILED)
            munmap(ring, BLOCK_SIZE * BLOCKS);
        close(fd);
        return err;
    }
    d->fd = fd;
    d->ring = ring;
    return 0;
}

unsigned tap_doorbell_take(struct tap_doorbell *d, bool *lost)
{
    unsigned n = 0;
    if (!d->ring)
        return 0;
    while (n < SLOTS) {
        struct tpacket2_hdr *h = (struct tpacket2_hdr *)(d->ring + (size_t)d->head * SLOT_SIZE);
        uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
        if (!(st & TP_STATUS_USER))
            break;
        if (st & TP_STATUS_LOSING)
            *lost = true;
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        d->head = (d->head + 1) % SLOTS;
        n++;
    }
    if (*lost || n == SLOTS) {
        /* A full ring may have refused entries, and the kernel flags only
         * an entry recorded after a refusal.  Reading the statistics tells,
         * and clears the kernel's drop count (and with it the flag). */
        struct tpacket_stats st;
        socklen_t len = sizeof st;
        if (getsockopt(d->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0 || st.tp_drops)
            *lost = true;
    }
    return n;
}

void tap_doorbell_close(struct tap_doorbell *d)
{
    if (d->ring)
        munmap(d->ring, BLOCK_SIZE * BLOCKS);
    if (d->fd >= 0)
        close(d->fd);
    d->fd = -1;
    d->ring = NULL;
}
