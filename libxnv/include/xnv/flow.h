/* A frame's flow, for scheduling frames that wait for a guest's buffers:
 * which of them belong together and must keep their order. */
#ifndef XNV_FLOW_H
#define XNV_FLOW_H

#include <stdint.h>

/* A hash of the frame's flow: the IP addresses, protocol and TCP/UDP ports
 * (no ports for IP fragments, so that every fragment of a datagram hashes
 * alike); for a frame that is not IP, or is malformed, the ethertype and
 * both MAC addresses.  Frames of one flow always hash alike; frames of two
 * flows may collide. */
uint32_t xnv_flow_hash(const uint8_t *f, uint32_t len);

#endif
