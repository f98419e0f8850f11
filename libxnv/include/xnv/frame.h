/* Building well-formed Ethernet frames (for probes, benchmarks and tests):
 * 00:16:3e:00:00:01 -> 00:16:3e:00:00:02, 10.0.0.1 -> 10.0.0.2 (or ::1 -> ::2),
 * a pattern payload, checksums left zero. */
#ifndef XNV_FRAME_H
#define XNV_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/* Ethernet + IPv4/IPv6 + TCP (port 40000 -> 5201) + payload; returns the length. */
uint32_t xnv_frame_tcp(uint8_t *buf, bool ipv6, uint32_t payload_len);
/* Ethernet + IPv4 + UDP (port 5000 -> 6000) + payload; returns the length. */
uint32_t xnv_frame_udp(uint8_t *buf, uint32_t payload_len);

#endif
