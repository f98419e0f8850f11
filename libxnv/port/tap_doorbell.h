/* How many frames the kernel queued on one queue of a TAP, known without a
 * system call.  A packet socket bound to the TAP keeps a small TPACKET_V2
 * receive ring whose slots are too short to hold any frame bytes; a filter
 * keeps only the frames the kernel transmits on the TAP through that queue.
 * Every such frame leaves one entry in the ring before the TAP queues it
 * (the kernel shows a device's outgoing frames to its packet sockets first),
 * so counting the entries tells whether a read of the TAP would find a
 * frame.  Each system call in a PV dom0 switches page tables twice, and the
 * read that finds nothing is the most frequent one a backend makes. */
#ifndef XNV_TAP_DOORBELL_H
#define XNV_TAP_DOORBELL_H

#include <stdbool.h>
#include <stdint.h>

struct tap_doorbell {
    int fd;                 /* -1: none */
    uint8_t *ring;
    unsigned head;          /* next slot the kernel fills */
};

/* Bind a doorbell to queue `queue` of the interface `ifindex`; 0, or -errno
 * (no CAP_NET_RAW, no packet sockets: the TAP works without it). */
int tap_doorbell_open(struct tap_doorbell *d, int ifindex, unsigned queue);
/* Entries since the last call, handed back to the kernel; *lost set when the
 * ring had overflowed (some frames left no entry). */
unsigned tap_doorbell_take(struct tap_doorbell *d, bool *lost);
void tap_doorbell_close(struct tap_doorbell *d);

#endif
