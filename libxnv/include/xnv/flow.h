/* A frame's flow, for scheduling frames that wait for a guest's buffers:
 * which of them belong together and must keep their order. */
#ifndef XNV_FLOW_H
#define XNV_FLOW_H

#include <stdint.h>

/* A hash of the frame's flow: for IP, the addresses and the upper-layer
 * protocol (the same in every fragment of a datagram; no ports, which
 * only the first fragment carries); for a frame that is not IP, or is
 * malformed, the ethertype and both MAC addresses.  Frames of one flow
 * always hash alike; two flows may collide, and two TCP connections
 * between the same hosts are one flow here. */
uint32_t xnv_flow_hash(const uint8_t *f, uint32_t len);

#endif
